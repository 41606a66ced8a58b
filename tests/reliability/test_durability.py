"""Idempotent ingestion, --prune, Agent.delete, and recovery from interrupted writes (in-process)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agent import Agent
from agent.cli import main
from tests.conftest import offline_settings
from tests.reliability.helpers import write
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.retrieval import retrieve

DOCS = {
    "owls.md": "# Owls\n\nThe snowy owl hunts lemmings in the tundra. Owls fly silently.\n",
    "bats.md": "# Bats\n\nThe fruit bat eats figs in the rainforest. Bats use echolocation.\n",
    "eels.md": "# Eels\n\nThe electric eel stuns fish in the Amazon. Eels breathe air.\n",
}


def corpus(root: Path) -> Path:
    for name, text in DOCS.items():
        write(root, name, text)
    return root


def leaf_counts(index: HierarchicalIndex) -> dict[str, int]:
    with index._conn() as db:
        rows = db.execute(
            "SELECT d.source, COUNT(*) FROM nodes n JOIN docs d ON d.doc_id=n.doc_id AND d.version=n.version"
            " GROUP BY d.source"
        ).fetchall()
    return {Path(s).name: n for s, n in rows}


def test_reingest_unchanged_is_a_noop_and_writes_nothing(make_agent: Any, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    agent: Agent = make_agent()
    first = agent.ingest(docs)
    assert len(first.added) == 3 and first.embedded > 0
    manifest = agent.index_dir / "manifest.json"
    before = (json.loads(manifest.read_text())["updated_at"], agent.check_index())
    again = agent.ingest(docs)
    assert sorted(again.unchanged) == sorted(first.added)
    assert not again.added and not again.updated and again.embedded == 0 and again.nodes == 0
    assert json.loads(manifest.read_text())["updated_at"] == before[0]
    assert agent.check_index() == before[1]
    assert before[1]["ok"] and not any(before[1]["orphans"].values())


def test_changed_file_replaces_exactly_its_nodes(make_agent: Any, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    agent: Agent = make_agent()
    agent.ingest(docs)
    counts = leaf_counts(agent.index)
    write(
        docs,
        "owls.md",
        "# Owls\n\nThe barn owl hunts voles in farmland. Owls swallow prey whole. Owls nest in barns.\n",
    )
    report = agent.ingest(docs)
    assert [Path(p).name for p in report.updated] == ["owls.md"] and len(report.unchanged) == 2
    after = leaf_counts(agent.index)
    assert after["bats.md"] == counts["bats.md"] and after["eels.md"] == counts["eels.md"]
    texts = " ".join(h.text for h in agent.retrieve("owl hunts lemmings voles tundra farmland", k=10, strategy="bm25"))
    assert "barn owl" in texts and "lemmings" not in texts
    check = agent.check_index()
    assert check["ok"] and check["documents"] == 3 and not any(check["orphans"].values()), check


def test_acl_change_takes_effect_on_reingest(make_agent: Any, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    agent: Agent = make_agent()
    agent.ingest(docs)
    assert agent.retrieve("electric eel stuns fish", k=3, strategy="bm25")
    report = agent.ingest(docs, acl=["zoo-staff"])
    assert len(report.updated) == 3
    assert agent.retrieve("electric eel stuns fish", k=3, strategy="bm25") == []
    assert agent.retrieve("electric eel stuns fish", k=3, strategy="bm25", principal=["zoo-staff"])
    assert agent.check_index()["ok"]


def test_cli_prune_removes_deleted_files_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("HRAGENT_EMBEDDER", "hashing")
    monkeypatch.setenv("HRAGENT_CHECKPOINTER", "memory")
    docs = corpus(tmp_path / "docs")
    other = write(tmp_path / "other", "keep.md", "# Keep\n\nThe other root keeps this note about herons.\n")
    index = str(tmp_path / "idx")
    assert main(["ingest", str(docs), str(other.parent), "--index", index, "--json"]) == 0
    capsys.readouterr()
    (docs / "bats.md").unlink()
    other.unlink()  # under a root not named below: must survive a prune of `docs`
    assert main(["ingest", str(docs), "--index", index, "--prune", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [Path(p).name for p in report["removed"]] == ["bats.md"]
    assert report["documents"] == 3
    # Without --prune nothing is removed; a missing root never prunes (an unmounted share stays indexed).
    (docs / "owls.md").unlink()
    assert main(["ingest", str(docs), "--index", index, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == []
    # A root that does not exist is an error (#17: a typo must not "succeed"), and nothing is pruned.
    assert main(["ingest", str(tmp_path / "gone"), "--index", index, "--prune", "--json"]) == 1
    assert "no such file or directory" in capsys.readouterr().err
    assert main(["ingest", str(docs), "--index", index, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["documents"] == 3


def test_prune_keeps_indexed_file_that_became_unreadable(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(index, [docs])
    (docs / "eels.md").write_bytes(b"\x00\x01 binary now")
    out = ingest_paths(index, [docs], prune=True)
    assert out.removed == [] and any("binary" in r for _, r in out.skipped)
    assert any("electric eel" in h.text for h in retrieve(index, "electric eel", 3, strategy="bm25"))


def test_agent_delete_removes_every_trace(make_agent: Any, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    agent: Agent = make_agent(settings=offline_settings(index={"embed_sentences": True}))  # every level
    agent.ingest(docs)
    target = docs / "bats.md"
    target.unlink()  # deleting by a path that no longer exists must work
    assert agent.delete(target) is True
    assert agent.delete(target) is False
    assert agent.delete("never-indexed.md") is False
    for strategy in ("flat", "bm25", "sentence_window", "summary_route", "auto_merge"):
        assert all(
            "bat" not in h.text.lower() for h in agent.retrieve("fruit bat figs echolocation", 5, strategy=strategy)
        )
    check = agent.check_index()
    assert check["ok"] and check["documents"] == 2 and not any(check["orphans"].values()), check
    assert Path(agent.index.sources()[0]).name != "bats.md"


def test_interrupted_vector_cleanup_is_finished_by_the_next_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after publishing (or after a delete's SQL step) leaves old vectors; the garbage record
    written in the same transaction lets the next ingest pass remove them, even if nothing changed."""
    docs = corpus(tmp_path / "docs")
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(index, [docs])
    real_drop = HierarchicalIndex._drop_version

    def crash(self: HierarchicalIndex, doc_id: str, version: str) -> None:
        raise KeyboardInterrupt("simulated crash before the vectors are dropped")

    monkeypatch.setattr(HierarchicalIndex, "_drop_version", crash)
    write(docs, "owls.md", "# Owls\n\nOwls changed: the eagle owl is the largest owl.\n")
    with pytest.raises(KeyboardInterrupt):
        ingest_paths(index, [docs])
    with pytest.raises(KeyboardInterrupt):
        index.delete(str((docs / "eels.md").resolve()))
    check = index.check()
    assert check.ok, check.problems  # readers already see a consistent index
    assert check.orphans["vectors"] > 0 and check.orphans["garbage_records"] == 2
    assert [h for h in retrieve(index, "electric eel", 3, strategy="bm25")] == []
    monkeypatch.setattr(HierarchicalIndex, "_drop_version", real_drop)
    (docs / "eels.md").unlink()
    out = ingest_paths(index, [docs])
    assert out.unchanged and not out.updated  # nothing to re-index, yet the garbage is gone
    check = index.check()
    assert check.ok and not any(check.orphans.values()), check


def test_same_source_ingested_by_two_threads_is_indexed_once(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            ingest_paths(index, [docs])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    check = index.check()
    assert check.ok and check.documents == 3 and not any(check.orphans.values()), check


def test_writers_on_one_directory_exclude_each_other(tmp_path: Path) -> None:
    """Two handles (as two processes would hold) serialise their writes through the file lock."""
    docs = corpus(tmp_path / "docs")
    first = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    second = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    order: list[str] = []
    with first._write_lock:
        worker = threading.Thread(target=lambda: (ingest_paths(second, [docs]), order.append("second")))
        worker.start()
        time.sleep(0.3)
        order.append("first")
    worker.join(timeout=60)
    assert order == ["first", "second"]
    assert second.check().ok
