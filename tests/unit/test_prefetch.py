"""Parse-ahead keeps file order, reports skips, bounds what waits in memory, and surfaces errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tools.errors import HragentError
from tools.ingest import prefetch
from tools.ingest.prefetch import parse_ahead


def _files(folder: Path, n: int) -> list[tuple[Path, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        path = folder / f"page{i:02d}.md"
        path.write_text(f"# Page {i}\n\nBody of page number {i}.\n")
        out.append((path, str(path)))
    return out


def test_files_come_back_in_order_with_skips_in_place(tmp_path: Path) -> None:
    files = _files(tmp_path / "docs", 12)
    bad = tmp_path / "docs" / "broken.pdf"
    bad.write_bytes(b"not a pdf at all")
    files.insert(5, (bad, str(bad)))
    got = list(parse_ahead(files, dl_sections=True, depth=2))
    assert [g.source for g in got] == [s for _, s in files]
    assert got[5].doc is None and got[5].skip_reason
    assert all(
        g.doc is not None and f"page number {i if i < 5 else i - 1}" in g.doc.text for i, g in enumerate(got) if i != 5
    )


def test_at_most_depth_documents_wait_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files(tmp_path / "docs", 20)
    loaded: list[str] = []
    real = prefetch._load

    def counting(path: Path, source: str, dl: bool) -> prefetch.Loaded:
        loaded.append(source)
        return real(path, source, dl)

    monkeypatch.setattr(prefetch, "_load", counting)
    it = parse_ahead(files, dl_sections=True, depth=3)
    next(it)
    time.sleep(0.3)  # give the thread every chance to run ahead
    assert len(loaded) <= 1 + 3 + 1  # consumed + queued + the one blocked on a full queue
    it.close()


def test_a_loader_hragent_error_is_raised_in_the_consumer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files(tmp_path / "docs", 4)

    def failing(path: Path, source: str, dl: bool) -> prefetch.Loaded:
        raise HragentError("loader refused")

    monkeypatch.setattr(prefetch, "_load", failing)
    with pytest.raises(HragentError, match="loader refused"):
        list(parse_ahead(files, dl_sections=True))
