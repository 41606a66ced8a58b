"""Multi-hop plumbing on a tiny hashing-embedder index: following the documents an answer names, and
the per-sentence similarities the solver reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent import Agent
from graphs.deps import GraphDeps
from graphs.follow import match_titles
from graphs.retriever import make_retrieve_node
from graphs.roles.offline import offline_roles
from graphs.text.normalize import title_key

DOCS = {
    "marlow.md": "# Edwin Marlow\n\nEdwin James Marlow was the 12th President of the Republic of Vestmark from 1969 until "
    "1974. He was born in Korsholm, Vestmark.\n",
    "tamsin.md": "# Ruth K. Tamsin\n\nRuth K. Tamsin was a physician. She was Deputy Minister for Health "
    "in the cabinet of Marlow.\n",
    "hale.md": "# Oskar Hale (politician)\n\nOskar Hale was the 13th President of the Republic of Vestmark.\n",
    "anthem.md": "# Vestmark Anthem\n\nVestmark Anthem is the club anthem of the University of Vestmark.\n",
}


def tiny_agent(make_agent: Any, tmp_path: Path) -> Agent:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    agent: Agent = make_agent("tiny")
    agent.ingest(docs)
    return agent


def test_title_key_ignores_case_qualifiers_articles_and_markup() -> None:
    assert title_key("Oskar Hale (politician)") == "oskar hale"
    assert title_key("The Lantern (website)") == "lantern"
    assert title_key("Ropes &amp; Ladders") == title_key("Ropes & Ladders")


def test_match_titles_exact_qualified_and_unique_surname(make_agent: Any, tmp_path: Path) -> None:
    agent = tiny_agent(make_agent, tmp_path)
    found = match_titles(agent.index, ["Oskar Hale", "Marlow", "Ruth K. Tamsin", "Nobody"], frozenset())
    titles = {name: agent.index.document_leaves(doc_id, frozenset())[0].title for name, doc_id in found.items()}
    assert titles == {
        "Oskar Hale": "Oskar Hale (politician)",
        "Marlow": "Edwin Marlow",
        "Ruth K. Tamsin": "Ruth K. Tamsin",
    }


def test_retrieve_node_follows_named_documents_and_scores_sentences(make_agent: Any, tmp_path: Path) -> None:
    agent = tiny_agent(make_agent, tmp_path)
    agent.retrieve("warm up", k=1)
    deps = GraphDeps.of(agent.index, offline_roles(agent.index.embedder), k=1)
    retrieve = make_retrieve_node(deps)
    out = retrieve(
        {
            "subgoal_id": "s2",
            "query": "Marlow served during what years?",
            "hop": 1,
            "follow_titles": ["Marlow"],
            "principal": None,
            "strategy": None,
        }
    )
    items = out["evidence"]["s2"]
    assert any(item["title"] == "Edwin Marlow" for item in items)  # followed even if k=1 found another page
    assert all("sim" in s for item in items for s in item["sentences"])
    event = out["trace"][0]["detail"]
    assert event["followed"] == ["Marlow"] and any(src.endswith("marlow.md") for src in event["sources"])


def test_a_bridge_run_retrieves_and_cites_across_documents(make_agent: Any, tmp_path: Path) -> None:
    agent = tiny_agent(make_agent, tmp_path)
    result = agent.run("Ruth K. Tamsin served in the cabinet of a president who was born where?")
    retrieved = {src for ev in result.trace if ev.node == "retrieve" for src in ev.detail["sources"]}
    assert any(s.endswith("tamsin.md") for s in retrieved) and any(s.endswith("marlow.md") for s in retrieved)
    assert result.halt_reason and result.subgoals
