"""The document surface of `Agent`: ingest, delete and check the index, retrieve evidence, and
judge a single claim with the agent's verifier."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from agent.core import AgentCore
from agent.inputs import check_text
from agent.results import Citation, Claim, Hit, IngestReport, SkippedFile
from tools.acl import PrincipalLike, identities_of
from tools.ingest.pipeline import IngestProgress, ingest_paths
from tools.retrieval import retrieve as retrieve_hits


class DocumentsMixin(AgentCore):
    """Ingestion, retrieval and single-claim verification over the agent's index."""

    def ingest(
        self,
        paths: str | Path | Iterable[str | Path],
        *,
        acl: Iterable[str] | None = None,
        prune: bool = False,
        progress: IngestProgress | None = None,
    ) -> IngestReport:
        """Index files and directories (Markdown, text, HTML, PDF). Re-ingesting unchanged files is a no-op."""
        t0 = time.perf_counter()
        items = [paths] if isinstance(paths, str | Path) else list(paths)
        out = ingest_paths(self.index, items, acl=acl, prune=prune, progress=progress)
        stats = self.index.stats()
        return IngestReport(
            added=out.added,
            updated=out.updated,
            unchanged=out.unchanged,
            removed=out.removed,
            skipped=[SkippedFile(path=p, reason=r) for p, r in out.skipped],
            documents=int(stats["documents"]),
            nodes=out.nodes,
            embedded=out.embedded,
            encoded=out.encoded,
            reused=out.reused,
            elapsed_s=round(time.perf_counter() - t0, 3),
        )

    def delete(self, source: str | Path) -> bool:
        """Remove one document from the index (by its path, or the `source` a hit reports); returns
        False when it was not there. Works for files that no longer exist on disk."""
        key = str(source)
        try:
            resolved = str(Path(source).expanduser().resolve())
        except (OSError, RuntimeError, ValueError):
            resolved = key
        return self.index.delete(resolved) or (resolved != key and self.index.delete(key))

    def check_index(self) -> dict[str, Any]:
        """Cross-check the index stores (the tree, BM25 and vectors): `ok` is False when a visible
        document is incomplete or a vector segment is damaged (`damaged_vectors`: its levels; the
        problem line says how to rebuild); `orphans` counts leftovers that reads ignore and the next
        ingest removes."""
        found = self.index.check()
        return {
            "ok": found.ok,
            "documents": found.documents,
            "problems": found.problems,
            "orphans": found.orphans,
            "damaged_vectors": found.damaged_vectors,
        }

    def retrieve(
        self,
        query: str,
        k: int = 5,
        *,
        strategy: str = "auto",
        principal: PrincipalLike = None,
        budget_chars: int | None = None,
    ) -> list[Hit]:
        """Ranked evidence for `query` (k counts hits), filtered by what `principal` may see.

        `budget_chars` (default `Settings.retrieval.budget_chars`) caps the characters returned; hits
        then grow to their whole entry (an API entry's signature and body) while it allows."""
        check_text(query, "query")
        return retrieve_hits(
            self.index,
            query,
            k,
            strategy=strategy,
            identities=identities_of(principal),
            budget_tokens=self.settings.retrieval.budget_tokens,
            budget_chars=budget_chars if budget_chars is not None else self.settings.retrieval.budget_chars,
        )

    def verify_claim(self, claim: str, evidence: Sequence[str], *, section: Sequence[str] = ()) -> Claim:
        """Judge one statement against evidence sentences with this agent's verifier: the same
        supported / contradicted / not-enough-evidence check every run applies to its own claims.
        `section` is the evidence's heading path (it tells the verifier who "He" or "It" is)."""
        from graphs.state import CitationDict, ClaimDict, Draft, EvidenceItem, SentenceRef

        quotes = [q for q in evidence if q.strip()]
        refs = [SentenceRef(node_id=f"e{i}", text=q, start=0, end=len(q)) for i, q in enumerate(quotes)]
        item = EvidenceItem(
            node_id="evidence",
            doc_id="",
            text=" ".join(quotes),
            source="",
            title=section[0] if section else "",
            section=list(section),
            level="leaf",
            start=0,
            end=0,
            score=1.0,
            hop=1,
            query=claim,
            sentences=refs,
        )
        cites = [
            CitationDict(source="", section=list(section), quote=r["text"], node_id=r["node_id"], start=0, end=r["end"])
            for r in refs
        ]
        draft = Draft(short_answer="", claims=[ClaimDict(text=claim, citations=cites)], confidence=1.0, missing=[])
        report, _usage = self._roles(self.index).verifier.verify(claim, draft, {"evidence": [item]})
        judged = (report.get("claims") or [{}])[0]
        return Claim(
            text=claim,
            verdict=judged.get("verdict") or "not_enough_evidence",
            citations=[Citation(**c) for c in judged.get("citations", [])],
            confidence=float(judged.get("confidence", 0.0)),
            reasons=list(judged.get("reasons", [])),
        )
