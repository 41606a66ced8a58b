"""The head's training rows come from the index's own text: sentence queries exist whatever way the
index stores sentences (as offsets in compact trees), and each is a piece of its fine positive."""

from __future__ import annotations

from pathlib import Path

from tools.embeddings import HashingEmbedder
from tools.hierarchy.train_head import _rows_from_index
from tools.index import HierarchicalIndex, IndexConfig
from tools.ingest.pipeline import ingest_paths

PAGE = (
    "# Garden pumps\n\n## Priming\n\nFill the pump housing with water before the first start of the season. "
    "A dry start wears the seal within minutes.\n\n## Storage\n\nDrain every hose before the first frost arrives. "
    "Keep the pump in a dry shed over the winter months.\n"
)


def test_training_rows_hold_sentence_queries_from_leaf_text(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pumps.md").write_text(PAGE)
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder(), config=IndexConfig())
    ingest_paths(index, [docs])
    rows = _rows_from_index(index, index.config.leaf_headings)
    sentences = [r for r in rows if r[0] == "sentence"]
    assert {r[1] for r in sentences} >= {
        "Fill the pump housing with water before the first start of the season.",
        "Drain every hose before the first frost arrives.",
    }
    assert all(r[1] in r[3] for r in sentences)  # the query is a sentence of its fine positive
    assert any(r[0] == "heading" for r in rows)
