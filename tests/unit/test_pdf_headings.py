"""PDFs without an outline (#12): lines set clearly larger than the body become headings, levels by size."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from agent import Agent
from tests.support.pdfs import sized_pdf
from tools.embeddings import HashingEmbedder
from tools.ingest import loaders
from tools.ingest.loaders import load_file
from tools.ingest.pdf_fonts import SizeCollector, effective_size
from tools.ingest.tree import build_tree

MANUAL = [
    [
        (24, "Kestrel Field Manual"),
        (11, "The Kestrel is a small survey drone. It is sold to farms."),
        (16, "Flight"),
        (11, "The Kestrel flies for 42 minutes on one charge."),
        (11, "Its top speed is 70 km/h in calm air."),
        (13, "Wind limits"),
        (11, "Gusts above 40 km/h ground the Kestrel automatically."),
    ],
    [
        (16, "Batteries and"),
        (16, "Charging"),
        (11, "The battery pack is assembled in Oslo. A full charge takes 90 minutes."),
        (16, "This large line ends like a sentence."),
        (11, "Spare packs ship with a storage case."),
    ],
]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _headings(doc: loaders.ParsedDocument) -> list[tuple[int, str]]:
    return [(b.level, b.title) for b in doc.blocks if b.kind == "heading"]


def test_font_sizes_give_heading_levels_with_exact_offsets(tmp_path: Path) -> None:
    doc = load_file(_write(tmp_path, "manual.pdf", sized_pdf(MANUAL)))
    assert _headings(doc) == [
        (1, "Kestrel Field Manual"),
        (2, "Flight"),
        (3, "Wind limits"),
        (2, "Batteries and Charging"),  # a heading wrapped over two lines is one heading
    ]
    assert doc.title == "Kestrel Field Manual"
    for block in doc.blocks:
        if block.kind == "heading":
            assert " ".join(doc.block_text(block).split()) == block.title
        else:
            assert block.kind == "paragraph"
            body = doc.block_text(block)
            assert body == body.strip() and body
            assert "Flight" not in body.splitlines() and "Wind limits" not in body
    # the big line that ends like a sentence stays body text, next to its neighbours
    para = next(b for b in doc.blocks if "ends like a sentence" in doc.block_text(b))
    assert para.kind == "paragraph" and "assembled in Oslo" in doc.block_text(para)


def test_pdf_heading_path_reaches_leaves_and_hits(make_agent: Any, tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    path = _write(tmp_path / "docs", "manual.pdf", sized_pdf(MANUAL))
    tree = build_tree(load_file(path), HashingEmbedder().count_tokens)
    leaves = tree.by_level("leaf")
    for phrase, want in [
        ("It is sold to farms", ("Kestrel Field Manual",)),
        ("42 minutes", ("Kestrel Field Manual", "Flight")),
        ("Gusts above", ("Kestrel Field Manual", "Flight", "Wind limits")),
        ("assembled in Oslo", ("Kestrel Field Manual", "Batteries and Charging")),
    ]:
        assert [tuple(n.section) for n in leaves if phrase in n.text] == [want]

    agent: Agent = make_agent()
    agent.ingest(path)
    hits = agent.retrieve("How long does the Kestrel fly on one charge?", k=3)
    top = next(h for h in hits if "42 minutes" in h.text)
    assert top.section == ["Kestrel Field Manual", "Flight"]
    hits = agent.retrieve("Where is the battery pack assembled?", k=3)
    top = next(h for h in hits if "Oslo" in h.text)
    assert top.section == ["Kestrel Field Manual", "Batteries and Charging"]


def test_size_in_text_matrix_counts_like_size_in_tf(tmp_path: Path) -> None:
    doc = load_file(_write(tmp_path, "scaled.pdf", sized_pdf(MANUAL, scaled=True)))
    assert [t for _, t in _headings(doc)][:3] == ["Kestrel Field Manual", "Flight", "Wind limits"]
    assert effective_size(1, [24, 0, 0, 24, 72, 700], [1, 0, 0, 1, 0, 0]) == pytest.approx(24)
    assert effective_size(12, [1, 0, 0, 1, 0, 0], [0, 2, -2, 0, 0, 0]) == pytest.approx(24)  # rotated, scaled CTM


def test_uniform_size_keeps_page_sections(tmp_path: Path) -> None:
    # 12pt over 11pt body is under the 1.15x ratio: emphasis, not a heading
    pages = [[(12, "Overview"), (11, "The Kestrel is a drone.")], [(11, "It flies for 42 minutes.")]]
    doc = load_file(_write(tmp_path, "flat.pdf", sized_pdf(pages)))
    assert _headings(doc) == [(1, "Page 1"), (1, "Page 2")]
    assert "It flies for 42 minutes." in doc.text


def test_outline_still_wins_over_font_sizes(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sized_pdf(MANUAL))))
    writer.add_outline_item("Chapter one", 0)
    writer.add_outline_item("Chapter two", 1)
    buf = io.BytesIO()
    writer.write(buf)
    doc = load_file(_write(tmp_path, "outlined.pdf", buf.getvalue()))
    assert _headings(doc) == [(1, "Chapter one"), (1, "Chapter two")]


def test_visitor_and_detector_failures_fall_back_to_page_sections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = SizeCollector()
    collector("text", [1, 0, 0, 1, 0, 0], [1, 0, 0, "x", 0, 0], None, 12)  # a matrix pypdf would not give
    assert collector.failed and collector.runs == []
    collector("more", [1, 0, 0, 1, 0, 0], [1, 0, 0, 1, 0, 0], None, 12)
    assert collector.runs == []

    path = _write(tmp_path, "manual.pdf", sized_pdf(MANUAL))
    from pypdf import PageObject

    plain = PageObject.extract_text

    def visitor_breaks(self: PageObject, *args: Any, **kwargs: Any) -> str:
        if kwargs.get("visitor_text") is not None:
            raise RuntimeError("visitor pass failed")
        return plain(self, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(PageObject, "extract_text", visitor_breaks)
        assert _headings(load_file(path)) == [(1, "Page 1"), (1, "Page 2")]

    def detector_breaks(*args: Any, **kwargs: Any) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(loaders, "font_size_blocks", detector_breaks)
    doc = load_file(path)
    assert _headings(doc) == [(1, "Page 1"), (1, "Page 2")] and "42 minutes" in doc.text
