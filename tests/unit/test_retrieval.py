from __future__ import annotations

from typing import Any

import pytest

from agent import Agent
from tests.conftest import SAMPLE, offline_settings
from tools.retrieval import STRATEGIES, retrieve


@pytest.fixture
def full_agent(make_agent: Any) -> Agent:
    """The sample corpus in an index with sentence vectors (sentence_window needs them; off by default)."""
    agent: Agent = make_agent(settings=offline_settings(index={"embed_sentences": True}))
    agent.ingest(SAMPLE)
    return agent


def test_every_strategy_returns_citable_hits(full_agent: Agent) -> None:
    for name in STRATEGIES:
        hits = full_agent.retrieve("Where was Mira Okafor born?", k=4, strategy=name)
        assert 0 < len(hits) <= 4, name
        for hit in hits:
            assert hit.source.endswith(".md")
            assert hit.section, name
            assert hit.sentence_ids, name
            assert hit.level in {"leaf", "chunk", "section", "sentence"}


def test_levels_match_strategy(full_agent: Agent) -> None:
    assert {h.level for h in full_agent.retrieve("Kestrel drone", 3, strategy="parent_child")} == {"chunk"}
    assert {h.level for h in full_agent.retrieve("Kestrel drone", 3, strategy="flat")} == {"leaf"}
    assert {h.level for h in full_agent.retrieve("Kestrel drone", 3, strategy="sentence_window")} == {"sentence"}


def test_token_budget_limits_context(sample_agent: Agent) -> None:
    index = sample_agent.index
    hits = retrieve(index, "Halden Robotics history", 8, strategy="hybrid", budget_tokens=120)
    used = sum(index.embedder.count_tokens(h.text) for h in hits)
    assert hits and (used <= 120 or len(hits) == 1)


def test_bm25_finds_exact_numbers(sample_agent: Agent) -> None:
    hits = sample_agent.retrieve("port 8470", 3, strategy="bm25")
    assert any("8470" in h.text for h in hits)


def test_dedupe_removes_identical_text(sample_agent: Agent) -> None:
    hits = sample_agent.retrieve("Halden Robotics", 10, strategy="hybrid")
    texts = [" ".join(h.text.split()).lower() for h in hits]
    assert len(texts) == len(set(texts))


def test_as_retriever_is_a_langchain_retriever(sample_agent: Agent) -> None:
    from langchain_core.retrievers import BaseRetriever

    retriever = sample_agent.as_retriever(k=2)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("Kestrel flight time")
    assert 0 < len(docs) <= 2
    assert {"source", "section", "node_id", "start", "end"} <= set(docs[0].metadata)


# ---------------------------------------------------------------------------- auto and title linking

from pathlib import Path  # noqa: E402

from policies.retrieval import AutoRetrievalPolicy  # noqa: E402
from tools.embeddings import HashingEmbedder  # noqa: E402
from tools.index import HierarchicalIndex  # noqa: E402
from tools.ingest.pipeline import ingest_paths  # noqa: E402
from tools.retrieval import retrieve_candidates  # noqa: E402
from tools.retrieval.titles import TitleMatcher, title_matcher  # noqa: E402


def test_title_matcher_prefers_longest_and_strips_parenthetical() -> None:
    m = TitleMatcher.build(
        [("d1", "Summer Ledger (1947 film)"), ("d2", "Dana Whitford"), ("d3", "Dana"), ("d4", "The")], (0.0, 0)
    )
    assert m.find("The woman in Summer Ledger was Dana Whitford.") == ["d1", "d2"]
    assert m.find("Dana sang.") == ["d3"]
    assert m.find("dana whitford, lower case") == []  # names are matched case-sensitively
    assert m.find("Summer Ledger", exclude=frozenset({"d1"})) == []


def _corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.md").write_text(
        "# Kestrel Quadcopter\n\nThe Kestrel Quadcopter inspection drone was designed by Anouk Verbeek in 2019.\n"
    )
    (folder / "b.md").write_text("# Anouk Verbeek\n\nShe was raised in Vlissingen, a harbour on the Scheldt.\n")
    for i in range(12):
        (folder / f"filler{i}.md").write_text(
            f"# Filler {i}\n\nThe quadcopter model {i} was designed for inspection and born of a {i} year project.\n"
        )
    return folder


def test_auto_follows_a_title_named_in_the_first_hit(tmp_path: Path) -> None:
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(index, [_corpus(tmp_path / "docs")])
    query = "In which town did the designer of the Kestrel Quadcopter grow up?"
    titles = [h.section[0] for h in retrieve(index, query, 2, strategy="auto")]
    assert titles[0] == "Kestrel Quadcopter"
    assert "Anouk Verbeek" in titles  # the bridge document: never named in the question
    off = AutoRetrievalPolicy(w_linked=0.0, seeds=0)
    plain = retrieve_candidates(index, query, 2, strategy="auto", options={"auto_policy": off})
    assert "Anouk Verbeek" not in [c.node.section[0] for c in plain]


def test_auto_respects_k_acl_and_budget(tmp_path: Path) -> None:
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    docs = _corpus(tmp_path / "docs")
    secret = tmp_path / "secret"
    secret.mkdir()
    (docs / "b.md").rename(secret / "b.md")
    ingest_paths(index, [docs])
    ingest_paths(index, [secret], acl=["hr"])
    query = "In which town did the designer of the Kestrel Quadcopter grow up?"
    public = retrieve(index, query, 3, strategy="auto")
    assert 0 < len(public) <= 3
    assert all(h.section[0] != "Anouk Verbeek" for h in public)
    assert any(h.section[0] == "Anouk Verbeek" for h in retrieve(index, query, 3, strategy="auto", identities=["hr"]))
    one = retrieve(index, query, 5, strategy="auto", budget_tokens=20)
    assert len(one) == 1


def test_title_matcher_is_rebuilt_after_ingest(tmp_path: Path) -> None:
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    docs = _corpus(tmp_path / "docs")
    ingest_paths(index, [docs])
    assert title_matcher(index).find("Vlissingen Harbour") == []
    (docs / "c.md").write_text("# Vlissingen Harbour\n\nA harbour.\n")
    ingest_paths(index, [docs])
    assert len(title_matcher(index).find("Vlissingen Harbour")) == 1


def test_batched_ingest_matches_one_by_one(tmp_path: Path) -> None:
    docs = _corpus(tmp_path / "docs")
    batched = HierarchicalIndex(tmp_path / "b", HashingEmbedder())
    single = HierarchicalIndex(tmp_path / "s", HashingEmbedder())
    seen: list[tuple[int, int]] = []
    out = ingest_paths(batched, [docs], progress=lambda ev, d, t: seen.append((d, t)) if ev == "embed" else None)
    for path in sorted(docs.iterdir()):
        ingest_paths(single, [path])
    assert len(out.added) == 14 and batched.stats()["levels"] == single.stats()["levels"]
    assert seen and seen[-1][0] == seen[-1][1]
    query = "Kestrel Quadcopter designer"
    assert [h.node_id for h in retrieve(batched, query, 4, strategy="hybrid")] == [
        h.node_id for h in retrieve(single, query, 4, strategy="hybrid")
    ]


def test_bm25_leaves_out_terms_common_on_large_indexes(tmp_path: Path, monkeypatch: object) -> None:
    import tools.index

    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(5):
        (folder / f"d{i}.md").write_text(f"# Doc {i}\n\nEvery page mentions the harbour {'zebra' if i == 3 else ''}.\n")
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(index, [folder])
    assert len(index.bm25("harbour zebra", 10, frozenset())) == 5  # small index: every term counts
    monkeypatch.setattr(tools.index, "BM25_COMMON_DF", 2)  # type: ignore[attr-defined]
    only = index.bm25("harbour zebra", 10, frozenset())
    assert [index.get([n], frozenset())[n].section for n, _ in only] == [["Doc 3"]]
    assert len(index.bm25("harbour", 10, frozenset())) == 5  # a lone term is always searched


def test_sentence_window_on_an_index_without_sentence_vectors_is_a_config_error(tmp_path: Path) -> None:
    """Not an empty list, which a caller would read as "nothing relevant"."""
    import pytest

    from agent import ConfigError, Settings
    from tests.conftest import SAMPLE

    agent = Agent(
        tmp_path / "idx",
        settings=Settings(checkpointer="none", index={"embed_sentences": False}),  # type: ignore[arg-type]
        embedder=HashingEmbedder(),
    )
    agent.ingest(SAMPLE)
    assert agent.retrieve("Where was Mira Okafor born?", k=3, strategy="hybrid")
    with pytest.raises(ConfigError, match="embed_sentences"):
        agent.retrieve("Where was Mira Okafor born?", k=3, strategy="sentence_window")
    agent.close()
