"""Section-level signals of `auto`: the Rocchio query built from the best hits' section vectors, and
its gate (only hits inside an entry feed it; flat pages are unchanged). Invented pages only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from policies.retrieval import AutoRetrievalPolicy
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.retrieval import retrieve_candidates
from tools.retrieval.section_signals import lifted_leaves, section_feedback_query

NOBODY: frozenset[str] = frozenset()


def _api_index(tmp_path: Path) -> HierarchicalIndex:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kettle.md").write_text(
        "# Kettle API\n\n"
        "## kettle.boil(level)\n\nHeats the water until it bubbles; stops at the chosen level.\n\n"
        "## kettle.keepWarm(minutes)\n\nHolds the water hot after boiling for a while.\n"
    )
    (docs / "toaster.md").write_text(
        "# Toaster API\n\n## toaster.brown(shade)\n\nBrowns the bread slices to a shade from one to nine.\n"
    )
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(index, [docs])
    return index


def _leaves(index: HierarchicalIndex, query: str) -> list[str]:
    qv = np.asarray(index.embedder.embed_query(query), dtype=np.float32)
    return [n for n, _ in index.dense("leaf", qv, 10, NOBODY)]


def test_the_feedback_query_is_the_query_plus_the_mean_of_the_hits_sections(tmp_path: Path) -> None:
    index = _api_index(tmp_path)
    qv = np.asarray(index.embedder.embed_query("hot water"), dtype=np.float32)
    top = _leaves(index, "hot water")[:2]
    owner = index.visible(top, NOBODY)
    sections = list(dict.fromkeys(s for n in top if (s := owner[n])))
    vecs = index.vectors("section", sections)
    mean = np.mean([vecs[s] / np.linalg.norm(vecs[s]) for s in sections], axis=0)
    expected = (qv + 0.5 * mean) / np.linalg.norm(qv + 0.5 * mean)
    got = section_feedback_query(index, qv, top, NOBODY, 0.5)
    assert got is not None
    assert np.allclose(got, expected, atol=1e-5)
    assert section_feedback_query(index, qv, [], NOBODY, 0.5) is None


def test_a_section_lift_of_zero_keeps_the_dense_order_and_a_lift_reorders_by_section(tmp_path: Path) -> None:
    index = _api_index(tmp_path)
    qv = np.asarray(index.embedder.embed_query("water"), dtype=np.float32)
    seen: dict[str, np.ndarray] = {}
    dense = [n for n, _ in index.dense("leaf", qv, 10, NOBODY, vectors_out=seen)]
    assert lifted_leaves(index, qv, dense, seen, NOBODY, 0.0) == dense
    lifted = lifted_leaves(index, qv, dense, seen, NOBODY, 100.0)
    owner = index.visible(dense, NOBODY)
    svecs = index.vectors("section", [s for s in owner.values() if s])
    sims = [float(svecs[owner[n]] @ qv / np.linalg.norm(svecs[owner[n]])) for n in lifted if owner[n] in svecs]
    assert sims == sorted(sims, reverse=True)  # a huge lift ranks by the section's match


def test_flat_pages_are_unchanged_by_section_feedback(tmp_path: Path) -> None:
    docs = tmp_path / "flat"
    docs.mkdir()
    texts = [
        "A lighthouse keeper lived on the rock.",
        "The rock lies off the coast, far from the harbour.",
        "A keeper of bees sold honey at the harbour market.",
        "Storms at the coast broke the harbour wall twice.",
        "The market hall sold fish, honey and rope.",
        "Rope and lamp oil reached the lighthouse by boat.",
    ]
    for i, text in enumerate(texts):
        (docs / f"p{i}.md").write_text(f"# Page {i}\n\n{text}\n")
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(index, [docs])

    def ids(prf: int) -> list[str]:
        options = {"auto_policy": AutoRetrievalPolicy(prf_sections=prf, w_prf_sections=5.0, seeds=0)}
        return [c.node.node_id for c in retrieve_candidates(index, "lighthouse", 6, options=options)]

    # (Without the gate this query's order changes: each page's one section vector is its leaf's.)
    assert ids(3) == ids(0)
