"""An API entry's field-list and `Default:` rows travel with a hit elsewhere in the entry, once,
within the cap; prose sections add nothing. Invented mini API reference, hashing embedder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphs.entry_rows import MAX_ENTRY_ROWS, entry_rows, is_field_row
from tests.conftest import offline_settings
from tools.index import NodeRecord

# One long entry: its field list opens it, and a note far below (its own leaf) is what a search finds.
NOTE = " ".join(f"Harbour note {i}: the tug crews log every mooring in the pier book." for i in range(12))
REFERENCE = f"""<html><head><title>quaylib API</title></head><body><div role="main">
<h1>API reference</h1>
<dl class="py function">
<dt id="quaylib.warp">quaylib.warp(vessel, bollard=None, slack=2.5)</dt>
<dd><p>Pull a vessel along the quay to a bollard.</p>
<dl class="field-list"><dt>Parameters:</dt><dd>
<p><strong>vessel</strong> (str) – the vessel to move.</p>
<p><strong>bollard</strong> (int) – the bollard to warp to. Default: the nearest free one.</p>
<p><strong>slack</strong> (float) – metres of line left loose.</p>
</dd></dl>
<p>{NOTE}</p>
<p>Warping in a crosswind above force six is refused with a GaleWarning by the quay controller.</p>
</dd>
</dl>
<h2>Crosswind handling</h2>
<p>Crews wait for the wind to drop before any warping in a crosswind.</p>
</div></body></html>
"""


def _sent(i: int, text: str) -> NodeRecord:
    return NodeRecord(
        node_id=f"s{i}",
        doc_id="d",
        level="sentence",
        parent_id="leaf",
        section_id="entry",
        ord=i,
        section=["API", "quaylib.warp()"],
        start=i * 100,
        end=i * 100 + len(text),
        text=text,
        source="quaylib.html",
        title="quaylib API",
        acl=(),
    )


def test_field_rows_are_parameters_and_labelled_values_not_bare_labels() -> None:
    assert is_field_row("bollard (int) – the bollard to warp to.")
    assert is_field_row("Default: the nearest free one.")
    assert is_field_row("Defaults to 2.5.")
    assert not is_field_row("Parameters:") and not is_field_row("Return type")
    assert not is_field_row("Pull a vessel along the quay - slowly.")


def test_entry_rows_prefer_the_querys_words_keep_document_order_and_skip_shown() -> None:
    rows = [_sent(i, f"p{i} (int) – row {i} of the list.") for i in range(6)]
    rows[4] = _sent(4, "slack (float) – metres of line left loose.")
    picked = entry_rows("how much slack line is left", rows, shown={"s0"})
    assert len(picked) == MAX_ENTRY_ROWS and "s0" not in {p.node_id for p in picked}
    assert "s4" in {p.node_id for p in picked}
    assert [p.start for p in picked] == sorted(p.start for p in picked)


def test_a_hit_deep_in_an_entry_brings_its_field_rows(make_agent: Any, tmp_path: Path) -> None:
    docs = tmp_path / "quay"
    docs.mkdir()
    (docs / "quaylib.html").write_text(REFERENCE, encoding="utf-8")
    agent = make_agent("quay", settings=offline_settings(retrieval={"k": 2}))
    agent.ingest(docs)
    agent.run("Which warning is raised when warping in a crosswind above force six?", thread_id="t1")
    evidence = agent.graph.get_state({"configurable": {"thread_id": "t1"}}).values["evidence"]
    items = [e for evs in evidence.values() for e in evs]
    entry_hits = [e for e in items if e["section"][-1].startswith("quaylib.warp(")]
    assert entry_hits, "the search finds the entry's note"
    rows = [s for e in entry_hits for s in e["sentences"] if s.get("kind") == "entry_row"]
    assert rows and all(is_field_row(r["text"]) for r in rows) and len(rows) <= MAX_ENTRY_ROWS
    shown = [s["node_id"] for e in items for s in e["sentences"]]
    assert len(shown) == len(set(shown))  # no sentence twice
    prose = [e for e in items if e["section"][-1] == "Crosswind handling"]
    assert all(s.get("kind") != "entry_row" for e in prose for s in e["sentences"])
