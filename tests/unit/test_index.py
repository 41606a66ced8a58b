from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.embeddings import HashingEmbedder
from tools.errors import IndexMismatchError, IndexNotFoundError
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.retrieval import STRATEGIES, retrieve


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_ingest_is_idempotent_and_updates_replace_nodes(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    path = _write(docs, "a.md", "# Alpha\n\nThe alpha reactor produces 40 megawatts.\n")
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    first = ingest_paths(index, [docs])
    assert len(first.added) == 1
    again = ingest_paths(index, [docs])
    assert again.unchanged == first.added and not again.added
    path.write_text("# Alpha\n\nThe alpha reactor produces 55 megawatts.\n")
    upd = ingest_paths(index, [docs])
    assert len(upd.updated) == 1
    hits = retrieve(index, "alpha reactor megawatts", 5)
    assert hits and all("55" in h.text for h in hits if "megawatts" in h.text)
    assert not any("40 megawatts" in h.text for h in hits)
    assert index.stats()["documents"] == 1


def test_prune_and_delete(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    keep = _write(docs, "keep.md", "# Keep\n\nKeep this text about owls.\n")
    gone = _write(docs, "gone.md", "# Gone\n\nThis text about bats will vanish.\n")
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(index, [docs])
    gone.unlink()
    out = ingest_paths(index, [docs], prune=True)
    assert out.removed == [str(gone.resolve())]
    assert index.sources() == [str(keep.resolve())]
    assert index.delete(str(keep.resolve())) is True
    assert index.delete(str(keep.resolve())) is False
    assert retrieve(index, "owls", 3) == []


def test_acl_filters_every_strategy(tmp_path: Path) -> None:
    docs_pub, docs_hr = tmp_path / "pub", tmp_path / "hr"
    _write(docs_pub, "p.md", "# Handbook\n\nThe cafeteria opens at eight. Parking is free.\n")
    _write(docs_hr, "s.md", "# Salaries\n\nThe secret salary band for engineers is 90000 euros. Bonuses are secret.\n")
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(index, [docs_pub])
    ingest_paths(index, [docs_hr], acl=["hr"])
    for name in STRATEGIES:
        anon = retrieve(index, "secret salary band engineers", 5, strategy=name)
        assert all("salary" not in h.text.lower() for h in anon), name
        hr = retrieve(index, "secret salary band engineers", 5, strategy=name, identities=["alice", "hr"])
        assert any("salary" in h.text.lower() for h in hr), name


def test_opening_with_another_embedder_is_a_typed_error(tmp_path: Path) -> None:
    HierarchicalIndex(tmp_path / "idx", HashingEmbedder(256))
    with pytest.raises(IndexMismatchError, match="embedder"):
        HierarchicalIndex(tmp_path / "idx", HashingEmbedder(128))


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    manifest = tmp_path / "idx" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["schema_version"] = 99
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="newer"):
        HierarchicalIndex(tmp_path / "idx", HashingEmbedder())


def test_missing_index_without_create(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="hragent ingest"):
        HierarchicalIndex(tmp_path / "nope", HashingEmbedder(), create=False)


def test_skips_are_reported_not_fatal(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    _write(docs, "ok.md", "# Ok\n\nFine text.\n")
    (docs / "empty.md").write_text("")
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    out = ingest_paths(index, [docs, tmp_path / "missing"])
    reasons = dict(out.skipped)
    assert any("empty" in r for r in reasons.values())
    assert reasons[str(tmp_path / "missing")] == "path does not exist"
    assert len(out.added) == 1
