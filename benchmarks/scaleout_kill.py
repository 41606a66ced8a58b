"""The SIGKILL section of `benchmarks.scaleout`: 4 writer processes ingest overlapping shuffled subsets
of one corpus while random writers are SIGKILLed (and restarted on what they had left); afterwards
nothing acknowledged is lost, no document has two versions, and `check()` is clean — first as the
killed writers left it, then after one repair pass (no orphans either).

A writer acknowledges a batch (prints the sources of `ingest_paths` calls that returned), so "lost"
means: acknowledged by some writer, yet not visible with that content afterwards."""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from pathlib import Path
from typing import Any

from tools.ingest.loaders import load_file
from tools.ingest.pipeline import ingest_paths
from tools.ingest.tree import content_hash_of

BATCH = 20


def _writer(backend: str, dsn: str | None, schema: str, index_dir: str, files: list[str], acks: Any) -> None:
    from benchmarks.scaleout_measure import open_index

    index = open_index(backend, dsn, schema, Path(index_dir))
    for i in range(0, len(files), BATCH):
        chunk = files[i : i + BATCH]
        ingest_paths(index, chunk)
        acks.put(chunk)
    index.close()


def run_kills(
    backend: str, dsn: str | None, schema: str, index_dir: Path, files: list[Path], kills: int, seed: int = 23
) -> dict[str, Any]:
    from benchmarks.scaleout_measure import open_index

    rng = random.Random(seed)
    open_index(backend, dsn, schema, index_dir).close()
    ctx = mp.get_context("spawn")
    acks = ctx.Queue()
    names = [str(f) for f in files]
    todo = []
    for _ in range(4):  # overlapping: each writer takes 60 % of the corpus, in its own order
        subset = rng.sample(names, int(len(names) * 0.6))
        todo.append(subset)
    acked: set[str] = set()

    def start(w: int) -> Any:
        proc = ctx.Process(target=_writer, args=(backend, dsn, schema, str(index_dir), todo[w], acks))
        proc.start()
        return proc

    procs = [start(w) for w in range(4)]
    killed = 0
    t0 = time.perf_counter()
    while any(p.is_alive() for p in procs):
        time.sleep(rng.uniform(0.5, 3.0))
        while not acks.empty():
            acked.update(acks.get())
        alive = [w for w, p in enumerate(procs) if p.is_alive()]
        if killed < kills and alive:
            w = rng.choice(alive)
            procs[w].kill()
            procs[w].join()
            killed += 1
            todo[w] = [f for f in todo[w] if f not in acked]  # restart on what it had not acknowledged
            rng.shuffle(todo[w])
            procs[w] = start(w)
    for p in procs:
        p.join()
    while not acks.empty():
        acked.update(acks.get())
    elapsed = time.perf_counter() - t0
    index = open_index(backend, dsn, schema, index_dir)
    before = _audit(index, acked)
    ingest_paths(index, names)  # one repair pass: whatever no writer finished
    after = _audit(index, set(names))
    index.close()
    return (
        {"backend": backend, "docs": len(names), "kills": killed, "seconds": elapsed, "acked": len(acked)}
        | {f"{k}_before_repair": v for k, v in before.items()}
        | {f"{k}_after_repair": v for k, v in after.items()}
    )


def _audit(index: Any, expected: set[str]) -> dict[str, Any]:
    """Lost: expected sources not visible with their file's content. Duplicated: documents whose visible
    leaves come from more than one version, or sources indexed twice."""
    check = index.check()
    sources = index.sources()
    lost = 0
    for name in expected:
        state = index.document_state(str(Path(name).resolve()))
        if state is None or state[0] != content_hash_of(load_file(Path(name)).text):
            lost += 1
    duplicated = len(sources) - len(set(sources))
    for doc_id, _ in index.doc_titles():
        leaves = index.document_leaves(doc_id, frozenset())
        duplicated += len({n.node_id.split("-")[1] for n in leaves}) > 1
    return {
        "lost": lost,
        "duplicated": duplicated,
        "check_ok": check.ok,
        "problems": len(check.problems),
        "orphans": sum(check.orphans.values()),
        "documents": check.documents,
    }
