"""`auto` on structured pages: entry headings of the best hits expand the BM25 query, and under a
character budget a seed inside an entry gets no second pass (invented pages only)."""

from __future__ import annotations

from pathlib import Path

from policies.retrieval import AutoRetrievalPolicy
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.retrieval import retrieve_candidates
from tools.retrieval.auto import entry_headings
from tools.store.records import NodeRecord

QUERY = "what happens when my network drops out"


def _node(section: list[str], title: str) -> NodeRecord:
    return NodeRecord("n", "d", "leaf", None, None, 0, section, 0, 1, "x", "s.md", title, ())


def test_entry_headings_skip_titles_repeats_and_empty_paths() -> None:
    nodes = [
        _node(["Gizmo API", "gizmo.spin(rate)"], "Gizmo API"),
        _node(["Gizmo API"], "Gizmo API"),  # a flat page: its only heading is its title
        _node([], "Notes"),
        _node(["Gizmo API", "gizmo.spin(rate)"], "Gizmo API"),
        _node(["Setup", "Install"], "Setup"),
    ]
    assert entry_headings(nodes) == ["gizmo.spin(rate)", "Install"]


def _api_pages(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gadget.md").write_text(
        "# Gadget API\n\n"
        "## gadget.onLinkLoss(handler)\n\n"
        "Called when the network drops out and the link to the host is gone.\n\n"
        "## gadget.reconnectBackoff(seconds)\n\n"
        "Pause between attempts made after onLinkLoss fired; doubles each round.\n"
    )
    for i in range(10):
        (folder / f"other{i}.md").write_text(
            f"# Other {i}\n\n## widget.part{i}()\n\nPart {i} is painted blue in the factory hall.\n"
        )
    return folder


def _headings(index: HierarchicalIndex, k: int, policy: AutoRetrievalPolicy | None = None) -> list[str]:
    options = {"auto_policy": policy} if policy else None
    return [c.node.section[-1] for c in retrieve_candidates(index, QUERY, k, strategy="auto", options=options)]


def test_the_best_hits_headings_find_an_entry_that_shares_no_word_with_the_query(tmp_path: Path) -> None:
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(index, [_api_pages(tmp_path / "docs")])
    off = AutoRetrievalPolicy(w_heading_bm25=0.0, seeds=0)
    without = _headings(index, 12, off)
    with_heads = _headings(index, 12, AutoRetrievalPolicy(seeds=0, heading_bm25_hits=1))
    assert without[0] == with_heads[0] == "gadget.onLinkLoss(handler)"
    answer = "gadget.reconnectBackoff(seconds)"
    assert with_heads.index(answer) == 1 < without.index(answer)


def test_a_budget_skips_the_second_pass_for_a_seed_inside_an_entry(tmp_path: Path) -> None:
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(index, [_api_pages(tmp_path / "docs")])

    def ids(policy: AutoRetrievalPolicy, budget: int | None) -> list[str]:
        found = retrieve_candidates(
            index, QUERY, 4, strategy="auto", budget_chars=budget, options={"auto_policy": policy}
        )
        return [c.node.node_id for c in found]

    assert ids(AutoRetrievalPolicy(), 2000) == ids(AutoRetrievalPolicy(seeds=0, budget_depth_factor=2), 2000)
    assert ids(AutoRetrievalPolicy(budget_second_pass=True), 2000) != ids(AutoRetrievalPolicy(), 2000)


def test_the_budget_only_knobs_do_not_act_without_a_budget(tmp_path: Path) -> None:
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(index, [_api_pages(tmp_path / "docs")])
    base = AutoRetrievalPolicy(seeds=0, heading_bm25_hits=1)
    budget_off = AutoRetrievalPolicy(seeds=0, heading_bm25_hits=1, budget_w_heading_bm25=0.0, budget_prf_sections=0)
    assert _headings(index, 12, budget_off) == _headings(index, 12, base)
    # The heading list still acts without a budget (at `w_heading_bm25`), as the test above shows.
    assert _headings(index, 12, budget_off).index("gadget.reconnectBackoff(seconds)") == 1
