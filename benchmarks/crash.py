"""Crash durability, many times: `hragent ingest --prune` in a child process is SIGKILLed at random
moments while the corpus keeps changing (files added, edited, deleted); after every kill the index
must be queryable, every visible document complete (tree, BM25 and vectors; `Agent.check_index`) and
exactly one version of its file, and a final uninterrupted pass must complete everything.

    python -m benchmarks.crash [--kills 60] [--docs 150] [--embedder hashing]

Each child first checks the state the previous kill left (so every check runs in a fresh process
with no cached state), prints it, then ingests; the parent kills it after a random delay drawn over
the measured length of a full pass. Every 6th child is allowed to finish.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.hotpot import ROOT, load_questions, pooled_corpus, print_table, write_results

CHILD = r"""
import json, sys, time
from agent import Agent, LLMSettings, Settings
index_dir, corpus, versions_file = sys.argv[1], sys.argv[2], sys.argv[3]
settings = Settings(checkpointer="none", llm=LLMSettings(backend="offline"))
agent = Agent(index_dir, settings=settings)
versions = json.loads(open(versions_file).read())
check = agent.check_index()
bad_versions = [s for s in agent.index.sources()
                if (st := agent.index.document_state(s)) is None or st[0] not in versions.get(s, [])]
errors = []
for strategy in ("flat", "bm25", "hybrid", "sentence_window", "parent_child", "auto_merge", "summary_route"):
    try:
        agent.retrieve("Who founded the company?", k=3, strategy=strategy)
    except Exception as exc:
        errors.append(f"{strategy}: {type(exc).__name__}: {exc}")
try:
    run = agent.run("Who founded the company?")
    ran = bool(run.halt_reason)
except Exception as exc:
    ran = False
    errors.append(f"run: {type(exc).__name__}: {exc}")
print("CHECK " + json.dumps({"ok": check["ok"], "documents": check["documents"], "problems": check["problems"][:5],
      "orphans": check["orphans"], "bad_versions": bad_versions[:5], "errors": errors, "ran": ran}), flush=True)
t0 = time.perf_counter()
report = agent.ingest([corpus], prune=True, progress=lambda ev, d, t: print(f"PROGRESS {ev} {d} {t}", flush=True))
print("DONE " + json.dumps({"s": time.perf_counter() - t0, "added": len(report.added), "updated": len(report.updated),
      "removed": len(report.removed)}), flush=True)
"""


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class Corpus:
    """A working copy of Markdown paragraphs that changes between passes; remembers every version."""

    def __init__(self, root: Path, pool: list[tuple[str, str]], size: int, rng: random.Random) -> None:
        self.root, self.rng = root, rng
        self.reserve = pool[size:]
        self.versions: dict[str, set[str]] = {}
        self.live: list[Path] = []
        for title, text in pool[:size]:
            self.add(title, text)

    def write(self, path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        self.versions.setdefault(str(path.resolve()), set()).add(sha1(text))

    def add(self, title: str, text: str) -> None:
        path = self.root / (hashlib.sha1(title.encode()).hexdigest()[:12] + ".md")
        self.write(path, f"# {title}\n\n{text}\n")
        self.live.append(path)

    def mutate(self, share: float) -> Counter[str]:
        changes: Counter[str] = Counter()
        for path in self.rng.sample(self.live, max(1, int(len(self.live) * share))):
            kind = self.rng.random()
            if kind < 0.6:
                text = path.read_text(encoding="utf-8")
                self.write(path, text + f"\nRevision {self.rng.randrange(10**6)} of this page.\n")
                changes["edited"] += 1
            elif kind < 0.8 and len(self.live) > 10:
                path.unlink()
                self.live.remove(path)
                changes["deleted"] += 1
            elif self.reserve:
                self.add(*self.reserve.pop())
                changes["added"] += 1
        return changes

    def dump_versions(self, path: Path) -> None:
        path.write_text(json.dumps({k: sorted(v) for k, v in self.versions.items()}))


def child(index_dir: Path, corpus: Corpus, versions: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    corpus.dump_versions(versions)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(index_dir), str(corpus.root), str(versions)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def read_check(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("CHECK "):
            return dict(json.loads(line[6:]))
    proc.wait()
    err = proc.stderr.read() if proc.stderr else ""
    return {"ok": False, "problems": [f"child died before checking: {err[-500:]}"], "errors": [], "bad_versions": []}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--docs", type=int, default=150)
    parser.add_argument("--embedder", default="hashing")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    pool = sorted(pooled_corpus(load_questions()).items())
    rng.shuffle(pool)
    work = Path(tempfile.mkdtemp(prefix="hragent-crash-"))
    (work / "docs").mkdir()
    corpus = Corpus(work / "docs", pool, args.docs, rng)
    index_dir, versions = work / "idx", work / "versions.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HRAGENT_EMBEDDER": args.embedder, "HRAGENT_LOG_LEVEL": "ERROR"}
    per_change = 0.15  # seconds of ingest per changed file; re-measured from every pass that finishes
    rows: list[dict[str, Any]] = []
    violations: list[str] = []
    t_start = time.perf_counter()
    try:
        kills = 0
        step = 0
        while kills < args.kills:
            step += 1
            changes = corpus.mutate(rng.choice([0.1, 0.3, 0.6])) if step > 1 else Counter({"added": args.docs})
            proc = child(index_dir, corpus, versions, env)
            state = read_check(proc)
            if not state["ok"] or state["bad_versions"] or state["errors"] or not state.get("ran", False):
                violations.append(f"step {step}: {state}")
            finish = step % 6 == 0
            last = ""
            if finish:
                out, _ = proc.communicate(timeout=3600)
                outcome = "finished"
            else:
                delay = rng.uniform(0.0, 1.1 * per_change * sum(changes.values()) + 0.3)
                time.sleep(delay)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                out, _ = proc.communicate()
                progress = [ln for ln in out.splitlines() if ln.startswith(("PROGRESS", "DONE"))]
                last = progress[-1] if progress else "(before the first file)"
                if last.startswith("DONE"):
                    outcome = "finished before the kill"
                else:
                    kills += 1
                    outcome = f"killed at {delay:.2f}s"
            done = [ln for ln in out.splitlines() if ln.startswith("DONE ")]
            if done:
                info = json.loads(done[-1][5:])
                n = info["added"] + info["updated"] + info["removed"]
                if n >= 5:
                    per_change = 0.7 * per_change + 0.3 * info["s"] / n
            rows.append(
                {
                    "step": step,
                    "changes": dict(changes),
                    "outcome": outcome,
                    "last_progress": last,
                    "visible_before": state.get("documents"),
                    "consistent": state["ok"] and not state["bad_versions"] and not state["errors"],
                    "orphans": sum(state.get("orphans", {}).values()),
                }
            )
            print(
                f"step {step:3d} kills {kills:3d}  {outcome:28s} visible {state.get('documents')!s:>4} "
                f"consistent {rows[-1]['consistent']}  orphans {rows[-1]['orphans']}  {last}",
                flush=True,
            )
        # Final: one uninterrupted pass, then a check in a fresh process.
        proc = child(index_dir, corpus, versions, env)
        read_check(proc)
        proc.communicate(timeout=3600)
        proc = child(index_dir, corpus, versions, env)
        final = read_check(proc)
        out, _ = proc.communicate(timeout=3600)
        final_done = json.loads([ln for ln in out.splitlines() if ln.startswith("DONE ")][-1][5:])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    complete = (
        final["ok"]
        and final["documents"] == len(corpus.live)
        and not any(final["orphans"].values())
        and not final["bad_versions"]
        and final_done["added"] == final_done["updated"] == final_done["removed"] == 0
    )
    summary = {
        "kills": sum(1 for r in rows if r["outcome"].startswith("killed")),
        "passes": len(rows),
        "consistency_violations": len(violations),
        "final_documents": final["documents"],
        "files": len(corpus.live),
        "final_orphans": sum(final["orphans"].values()),
        "rerun_complete": complete,
        "minutes": round((time.perf_counter() - t_start) / 60, 1),
        "embedder": args.embedder,
    }
    print()
    print_table([summary], list(summary))
    for v in violations[:10]:
        print("VIOLATION", v)
    path = write_results("crash", {"summary": summary, "steps": rows, "violations": violations, "final": final})
    print(f"\nwrote {path}")
    return 0 if complete and not violations else 1


if __name__ == "__main__":
    raise SystemExit(main())
