"""Hand-made retrieved evidence for reader tests: one leaf of an invented API entry, built the way
the retrieve node builds it (sentences with offsets and a similarity), so tests of the offline
solver, its learned scorer and its item groups share one builder."""

from __future__ import annotations

from graphs.state import EvidenceItem, SentenceRef


def entry_item(
    section: list[str],
    *sentences: str,
    doc: str = "api",
    title: str = "API",
    sim: float = 0.4,
    start: int = 0,
    heading: str | None = None,
    key: str | None = None,
) -> EvidenceItem:
    """A leaf under `section` holding `sentences` (100 characters apart from `start`); `heading`
    adds the entry's heading line as a sentence of kind "heading" before them. Node ids start with
    `key` (default: the section path joined by " > ")."""
    key = key if key is not None else " > ".join(section)
    refs: list[SentenceRef] = []
    offset = start
    if heading is not None:
        refs.append(
            SentenceRef(node_id=f"{heading}-head", text=heading, start=start, end=start + len(heading), kind="heading")
        )
        offset += 100
    refs += [
        SentenceRef(node_id=f"{key}-{i}", text=t, start=offset + i * 100, end=offset + i * 100 + len(t), sim=sim)
        for i, t in enumerate(sentences)
    ]
    return EvidenceItem(
        node_id=f"{key}-leaf",
        doc_id=doc,
        text=" ".join(sentences),
        source=f"/docs/{doc}.html",
        title=title,
        section=section,
        level="leaf",
        start=start,
        end=offset + 100 * len(sentences),
        score=0.5,
        hop=1,
        query="",
        sentences=refs,
    )
