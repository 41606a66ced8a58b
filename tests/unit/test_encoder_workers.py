"""Encoder passes spread over parallel ONNX Runtime sessions (tools/encoders/workers.py): the same
vectors as one session, the worker count from the environment, and a failing pass surfacing as
`EncoderError` with nothing lost from the index."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent import Agent
from tests.conftest import offline_settings
from tools.encoders import OnnxEmbedder
from tools.encoders.workers import WORKERS_ENV, SessionPool, read_workers, threads_per_worker, usable_cores
from tools.errors import ConfigError, EncoderError

# Invented texts of many lengths, so a small token budget makes many passes of different widths.
WORDS = ["lantern", "harbour", "copper", "pigeon", "meadow", "ferry", "quartz", "violin", "orchard", "tunnel"]
TEXTS = [" ".join(WORDS[(i + j) % len(WORDS)] for j in range(1 + (i * 7) % 37)) + "." for i in range(40)]


def test_parallel_sessions_give_one_sessions_vectors() -> None:
    one = OnnxEmbedder(precision="fp32", workers=1, batch_tokens=96)
    two = OnnxEmbedder(precision="fp32", workers=2, batch_tokens=96)
    seen: list[tuple[int, int]] = []
    got = two.embed(TEXTS, progress=lambda done, total: seen.append((done, total)))
    np.testing.assert_allclose(got, one.embed(TEXTS), atol=1e-6)
    assert len(seen) > 4 and seen[-1] == (len(TEXTS), len(TEXTS))  # several passes, each reported
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    np.testing.assert_allclose(two.embed_query(TEXTS[3]), got[3], atol=1e-6)  # a single pass
    assert two.embed([]).shape == (0, 384)


def test_workers_come_from_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    assert read_workers() == min(2, usable_cores())
    assert read_workers(3) == 3
    monkeypatch.setenv(WORKERS_ENV, "1")
    assert read_workers() == 1 and OnnxEmbedder(precision="fp32").workers == 1
    assert OnnxEmbedder(precision="fp32", device="cuda").workers == 1  # a GPU runs one session
    for bad in ("two", "-1", "0"):
        monkeypatch.setenv(WORKERS_ENV, bad)
        with pytest.raises(ConfigError, match="encoder"):
            read_workers()
    assert threads_per_worker(2, 3) == 3 and threads_per_worker(10**6) == 1
    with pytest.raises(ConfigError):
        SessionPool([])


class FailingOnnx(OnnxEmbedder):
    """The real encoder, whose `fail_at`-th forward pass (counted over every worker) raises, as a
    runtime error inside ONNX Runtime would."""

    def __init__(self, fail_at: int, **kwargs: Any) -> None:
        super().__init__(precision="fp32", **kwargs)
        self.fail_at = fail_at
        self.calls = 0
        self._count_lock = threading.Lock()

    def _run(self, session: Any, ids: list[list[int]]) -> Any:
        with self._count_lock:
            self.calls += 1
            fail = self.calls == self.fail_at
        if fail:
            raise RuntimeError("simulated failure in a forward pass")
        return super()._run(session, ids)


def test_a_failing_pass_is_an_encoder_error() -> None:
    enc = FailingOnnx(fail_at=3, workers=2, batch_tokens=96)
    with pytest.raises(EncoderError, match="simulated failure"):
        enc.embed(TEXTS)
    ok = enc.embed(TEXTS)  # the sessions are intact: the next call encodes everything
    np.testing.assert_allclose(ok, OnnxEmbedder(precision="fp32", workers=1).embed(TEXTS), atol=1e-6)
    with pytest.raises(EncoderError):
        FailingOnnx(fail_at=1, workers=1).embed(TEXTS[:2])  # one session: the same typed error


def test_an_ingest_whose_encoder_fails_loses_nothing(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        body = "\n\n".join(f"{TEXTS[(i * 5 + k) % len(TEXTS)]} Paragraph {k} of page {i}." for k in range(6))
        (docs / f"page{i}.md").write_text(f"# Page {i}\n\n{body}\n")
    good = OnnxEmbedder(precision="fp32", workers=2, batch_tokens=96)
    with Agent(tmp_path / "idx", settings=offline_settings(), embedder=good) as agent:
        first = agent.ingest(docs)
        before = agent.index.stats()
        hits_before = [h.node_id for h in agent.retrieve("copper pigeon meadow", strategy="flat")]
    assert len(first.added) == 3
    (docs / "page1.md").write_text("# Page 1\n\nThe orchard ferry now leaves from the quartz tunnel at noon.\n")
    (docs / "page3.md").write_text("# Page 3\n\nA saxophone was found in the gazebo cellar.\n")
    with Agent(tmp_path / "idx", settings=offline_settings(), embedder=FailingOnnx(fail_at=1, workers=2)) as agent:
        with pytest.raises(EncoderError):
            agent.ingest(docs)
        assert agent.index.stats()["documents"] == before["documents"]
        assert [h.node_id for h in agent.retrieve("copper pigeon meadow", strategy="flat")] == hits_before
        assert all("saxophone" not in h.text for h in agent.retrieve("saxophone gazebo cellar", strategy="flat"))
    with Agent(tmp_path / "idx", settings=offline_settings(), embedder=good) as agent:
        again = agent.ingest(docs)  # the next ingest finishes the work the failed one left
        assert sorted(Path(s).name for s in again.added + again.updated) == ["page1.md", "page3.md"]
        assert any("saxophone" in h.text for h in agent.retrieve("saxophone gazebo cellar", strategy="flat"))
