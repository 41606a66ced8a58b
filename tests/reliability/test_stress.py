"""#17's stress target: 32 threads and 32 asyncio tasks over one `Agent` with mixed strategies, while
another process ingests into the same index. Every answer must equal its sequential twin.

For that to be a fair demand the other process's writes must not change what a public asker may
find: it re-ingests documents restricted to a group the askers are not in, alternating between two
versions whose leaves hold the same words in another order. Each version swap commits in one SQLite
transaction, so BM25's corpus statistics (rows, lengths, document frequencies) are the same at every
commit, and the hashing embedder (a bag of words) gives the same vectors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from agent import Agent, RunResult, Settings
from tests.conftest import FIXTURES, SAMPLE
from tests.reliability.test_concurrency import fingerprint
from tools.embeddings import HashingEmbedder

QUESTIONS = [q["question"] for q in json.loads((FIXTURES / "sample_corpus_questions.json").read_text())][:8]
STRATEGIES = ["auto", "hybrid", "flat", "bm25"]
CASES = [(q, s) for q in QUESTIONS for s in STRATEGIES]  # 32 (question, strategy) pairs

WRITER = textwrap.dedent(
    r"""
    import sys
    from pathlib import Path
    from agent import Agent, Settings
    from tools.embeddings import HashingEmbedder

    index_dir, docs, rounds = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    settings = Settings(checkpointer="none", llm={"backend": "offline"})
    with Agent(index_dir, settings=settings, embedder=HashingEmbedder()) as agent:
        print("ready", flush=True)
        for n in range(rounds):
            for path in sorted(docs.glob("*.md")):
                head, body = path.read_text().split("\n\n", 1)
                words = body.strip().rstrip(".").split()
                path.write_text(head + "\n\n" + " ".join(reversed(words)) + ".\n")
                agent.ingest(path, acl=["night-shift"])
    print("done", flush=True)
    """
)


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    settings = Settings(checkpointer="sqlite", llm={"backend": "offline"})  # type: ignore[arg-type]
    with Agent(tmp_path_factory.mktemp("stress") / "idx", settings=settings, embedder=HashingEmbedder()) as agent:
        agent.ingest(SAMPLE)
        yield agent


def _run(agent: Agent, case: tuple[str, str]) -> RunResult:
    question, strategy = case
    return agent.run(question, strategy=strategy)


def test_32_threads_and_32_tasks_while_another_process_ingests(agent: Agent, tmp_path: Path) -> None:
    docs = tmp_path / "rota"
    docs.mkdir()
    for i in range(16):
        (docs / f"rota{i:02d}.md").write_text(
            f"# Rota {i}\n\nThe night rota for week {i} lists the boiler checks and the gate rounds.\n"
        )
    agent.ingest(docs, acl=["night-shift"])
    sequential = {case: fingerprint(_run(agent, case)) for case in CASES}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(agent.index_dir), str(docs), "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"

    errors: list[BaseException] = []
    threaded: list[RunResult] = []

    def threads() -> None:
        try:
            with ThreadPoolExecutor(max_workers=32) as pool:
                threaded.extend(pool.map(lambda case: _run(agent, case), CASES))
        except BaseException as exc:
            errors.append(exc)

    async def tasks() -> list[Any]:
        return await asyncio.gather(*(agent.arun(q, strategy=s) for q, s in CASES), return_exceptions=True)

    pool_thread = threading.Thread(target=threads)
    pool_thread.start()
    assert writer.poll() is None  # the other process is still writing while the runs start
    awaited = asyncio.run(tasks())
    pool_thread.join(timeout=600)
    out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0 and "done" in out, err[-2000:]

    errors.extend(r for r in awaited if isinstance(r, BaseException))
    assert errors == []
    differing = [
        case
        for case, result in [*zip(CASES, threaded, strict=True), *zip(CASES, awaited, strict=True)]
        if fingerprint(result) != sequential[case]
    ]
    assert differing == []
    stats = agent.index.stats()
    assert int(stats["documents"]) == 10 + 16
    assert "gate rounds" in (docs / "rota00.md").read_text()  # an even number of swaps: version A again
    assert agent.check_index()["ok"]
