"""What an LLM prompt shows of an API entry: the heading path names the entry, the full signature
is shown once (as its own citable line), and a prose heading is kept as it is. Invented entries."""

from __future__ import annotations

from graphs.roles.llm.evidence import EvidenceView, where_of
from graphs.state import EvidenceItem, SentenceRef

SIGNATURE = "quaylib.warp(vessel, bollard=None, slack=2.5, crew=None, timeout=30.0)"


def _item(section: list[str], sentences: list[SentenceRef]) -> EvidenceItem:
    return EvidenceItem(
        node_id="d:l1",
        doc_id="d",
        text=" ".join(s["text"] for s in sentences),
        source="quaylib.html",
        title="quaylib API",
        section=section,
        level="leaf",
        start=0,
        end=100,
        score=0.5,
        hop=1,
        query="q",
        sentences=sentences,
    )


def test_a_signature_shown_as_a_sentence_is_not_repeated_in_the_heading_path() -> None:
    heading = SentenceRef(node_id="d:sec", text=SIGNATURE, start=0, end=len(SIGNATURE), kind="heading")
    body = SentenceRef(node_id="d:s1", text="slack (float) – metres of line left loose.", start=80, end=120)
    item = _item(["API reference", SIGNATURE], [heading, body])
    assert where_of(item) == "quaylib API › API reference › quaylib.warp(…)"
    rendered = EvidenceView([item], limit=10).render("n0nce")
    assert rendered.count("slack=2.5") == 1 and f"[S1] {SIGNATURE}" in rendered


def test_without_its_heading_line_the_path_keeps_the_full_signature() -> None:
    body = SentenceRef(node_id="d:s1", text="slack (float) – metres of line left loose.", start=80, end=120)
    assert where_of(_item(["API reference", SIGNATURE], [body])).endswith(SIGNATURE)
    assert (
        where_of(_item(["Guide", "Warping in a crosswind"], [body])) == "quaylib API › Guide › Warping in a crosswind"
    )


def test_a_long_table_shows_the_asked_row_under_its_header() -> None:
    rows = [f"BERTH_{i:02d} | {i * 5} | Minutes berth {i} stays reserved for a ferry." for i in range(30)]
    table = "\n".join(["Setting | Default | Meaning", *rows, "TUG_QUOTA | 7 | Tugs one pilot may call per shift."])
    ref = SentenceRef(node_id="d:t", text=table, start=0, end=len(table))
    item = _item(["Settings"], [ref])
    rendered = EvidenceView([item], limit=5, chars=600, query="What is the default tug quota?").render("n0nce")
    line = next(ln for ln in rendered.splitlines() if ln.startswith("[S1]"))
    assert line.startswith("[S1] Setting | Default | Meaning / ") and "TUG_QUOTA | 7 |" in line
    assert line.endswith("…") and len(line) <= 600 + len("[S1] ")
    # Without a long table nothing changes: the plain clip applies.
    short = EvidenceView([item], limit=5, chars=10_000).render("n0nce")
    assert "BERTH_29 | 145" in short and "TUG_QUOTA" in short
