"""Instrumentation of the offline reader for the benchmarks (#18): what the solver offered and what
the verifier decided, recorded while a run is in flight. The roles keep no per-run state (one
solver serves concurrent runs), so recording patches their classes for the length of a block; the
benchmarks run one question at a time."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphs.roles.offline.pool import CandidatePool, Extraction
from graphs.roles.offline.solver import OfflineSolver
from graphs.roles.offline.verifier import OfflineVerifier
from graphs.state import Draft, EvidenceItem, Report


@contextlib.contextmanager
def captured_pools() -> Iterator[list[CandidatePool]]:
    """Every candidate pool `OfflineSolver` builds inside the block."""
    pools: list[CandidatePool] = []
    original = OfflineSolver._candidates

    def recording(self: OfflineSolver, *args: Any, **kwargs: Any) -> CandidatePool:
        pool = original(self, *args, **kwargs)
        pools.append(pool)
        return pool

    OfflineSolver._candidates = recording  # type: ignore[method-assign]
    try:
        yield pools
    finally:
        OfflineSolver._candidates = original  # type: ignore[method-assign]


@dataclass
class Verified:
    """One `OfflineVerifier.verify` call: the draft, the evidence it was checked against, the report."""

    draft: Draft
    evidence: dict[str, list[EvidenceItem]]
    report: Report


@dataclass
class Read:
    """One candidate pool and what it was built from: the question read and the evidence."""

    query: str
    evidence: list[EvidenceItem]
    pool: CandidatePool
    answer_type: str = ""  # the kind the solver asked for (the pool may still read it as a value)


@dataclass
class Reading:
    """Everything recorded in one block: candidate pools (with their question and evidence),
    enumerated item lists, verified drafts."""

    reads: list[Read]
    items: list[list[Extraction]]
    verified: list[Verified]

    @property
    def pools(self) -> list[CandidatePool]:
        return [r.pool for r in self.reads]


@contextlib.contextmanager
def captured_reading() -> Iterator[Reading]:
    """Pools with the question and evidence each was built from, the item lists `enumerate_items` returns (a list the evidence lays
    out is read without a pool), and every draft the verifier judged, with its evidence and report."""
    reads: list[Read] = []
    items: list[list[Extraction]] = []
    verified: list[Verified] = []
    candidates, enumerate_items = OfflineSolver._candidates, OfflineSolver.enumerate_items
    verify = OfflineVerifier.verify

    def reading(self: OfflineSolver, query: str, evidence: list[EvidenceItem], *args: Any) -> CandidatePool:
        pool = candidates(self, query, evidence, *args)
        reads.append(Read(query, list(evidence), pool, str(getattr(args[0], "kind", "")) if args else ""))
        return pool

    def enumerating(self: OfflineSolver, *args: Any, **kwargs: Any) -> list[Extraction]:
        found = enumerate_items(self, *args, **kwargs)
        items.append(list(found))
        return found

    def verifying(self: OfflineVerifier, task: str, draft: Draft, evidence: dict[str, list[EvidenceItem]]) -> Any:
        report, usage = verify(self, task, draft, evidence)
        verified.append(Verified(draft, evidence, report))
        return report, usage

    OfflineSolver._candidates = reading  # type: ignore[method-assign]
    OfflineSolver.enumerate_items = enumerating  # type: ignore[method-assign]
    OfflineVerifier.verify = verifying  # type: ignore[method-assign]
    try:
        yield Reading(reads, items, verified)
    finally:
        OfflineSolver._candidates = candidates  # type: ignore[method-assign]
        OfflineSolver.enumerate_items = enumerate_items  # type: ignore[method-assign]
        OfflineVerifier.verify = verify  # type: ignore[method-assign]
