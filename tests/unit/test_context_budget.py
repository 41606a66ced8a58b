"""Retrieval at a character budget: whole API entries when they fit, no text twice, headings citable."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest

from agent import Agent
from graphs.deps import GraphDeps
from graphs.retriever import make_retrieve_node
from tests.conftest import FIXTURES
from tools.retrieval.context import entry_heading

API_PAGE = FIXTURES / "apiref" / "widgets.html"
QUERY = "how often is a failed handshake repeated"


@pytest.fixture
def api_agent(make_agent: Any) -> Agent:
    agent: Agent = make_agent("api")
    agent.ingest([API_PAGE])
    return agent


def _overlaps(hits: list[Any]) -> bool:
    spans = sorted((h.doc_id, h.start, h.end) for h in hits)
    return any(a[0] == b[0] and b[1] < a[2] for a, b in pairwise(spans))


def test_a_hit_in_an_api_entry_returns_the_whole_entry_with_its_signature(api_agent: Agent) -> None:
    plain = api_agent.retrieve(QUERY, k=3)
    assert plain[0].level == "leaf" and "open_link" not in plain[0].text  # the leaf lacks its own name
    hits = api_agent.retrieve(QUERY, k=3, budget_chars=2000)
    top = hits[0]
    assert top.level == "section" and top.text.startswith("widgetry.open_link(host, retries=7, linger=2.5)")
    assert "how often a failed handshake is repeated" in top.text  # the body came along
    assert sum(len(h.text) for h in hits) <= 2000
    assert not _overlaps(hits)


@pytest.mark.parametrize("budget", [150, 400, 700, 1200, 5000])
def test_context_stays_within_budget_and_never_repeats_text(api_agent: Agent, budget: int) -> None:
    hits = api_agent.retrieve("link frames colours", k=8, budget_chars=budget)
    assert hits, "the first hit is always kept"
    assert sum(len(h.text) for h in hits[1:]) + len(hits[0].text) <= max(budget, len(hits[0].text))
    assert not _overlaps(hits)
    texts = [h.text for h in hits]
    assert len(texts) == len(set(texts))


def test_a_larger_budget_never_returns_less_of_the_top_hit(api_agent: Agent) -> None:
    small = api_agent.retrieve(QUERY, k=3, budget_chars=200)[0]
    large = api_agent.retrieve(QUERY, k=3, budget_chars=3000)[0]
    assert large.start <= small.start and large.end >= small.end


def test_entry_heading_is_a_citable_span_of_the_document(api_agent: Agent) -> None:
    hit = api_agent.retrieve(QUERY, k=1, budget_chars=2000)[0]
    node = api_agent.index.get([hit.node_id], frozenset())[hit.node_id]
    found = entry_heading(node)
    assert found is not None
    heading, start, end = found
    assert heading == "widgetry.open_link(host, retries=7, linger=2.5)"
    assert node.text[start - node.start : end - node.start] == heading


def test_retrieval_hop_offers_the_entry_heading_as_evidence(api_agent: Agent) -> None:
    deps = GraphDeps.of(api_agent.index, api_agent._roles(api_agent.index), budget_chars=2000)
    node = make_retrieve_node(deps)
    out = node({"subgoal_id": "s1", "query": QUERY, "hop": 1, "follow_titles": [], "principal": None, "strategy": None})
    item = out["evidence"]["s1"][0]
    heads = [s for s in item["sentences"] if s.get("kind") == "heading"]
    assert heads and heads[0]["text"] == "widgetry.open_link(host, retries=7, linger=2.5)"
    assert heads[0]["node_id"] == item["node_id"] and heads[0]["text"] in item["text"]
