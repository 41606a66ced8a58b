from __future__ import annotations

from agent import Agent
from tools.retrieval import STRATEGIES, retrieve


def test_every_strategy_returns_citable_hits(sample_agent: Agent) -> None:
    for name in STRATEGIES:
        hits = sample_agent.retrieve("Where was Mira Okafor born?", k=4, strategy=name)
        assert 0 < len(hits) <= 4, name
        for hit in hits:
            assert hit.source.endswith(".md")
            assert hit.section, name
            assert hit.sentence_ids, name
            assert hit.level in {"leaf", "chunk", "section", "sentence"}


def test_levels_match_strategy(sample_agent: Agent) -> None:
    assert {h.level for h in sample_agent.retrieve("Kestrel drone", 3, strategy="parent_child")} == {"chunk"}
    assert {h.level for h in sample_agent.retrieve("Kestrel drone", 3, strategy="flat")} == {"leaf"}
    assert {h.level for h in sample_agent.retrieve("Kestrel drone", 3, strategy="sentence_window")} == {"sentence"}


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
