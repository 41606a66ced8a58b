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
    "nixon.md": "# Richard Nixon\n\nRichard Milhous Nixon was the 37th President of the United States from 1969 until "
    "1974. He was born in Yorba Linda, California.\n",
    "egeberg.md": "# Roger O. Egeberg\n\nRoger O. Egeberg was a physician. He was Assistant Secretary for Health "
    "during the administration of Nixon.\n",
    "ford.md": "# Gerald Ford (politician)\n\nGerald Ford was the 38th President of the United States.\n",
    "kansas.md": "# Kansas Song\n\nKansas Song is a fight song of the University of Kansas.\n",
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
    assert title_key("Gerald Ford (politician)") == "gerald ford"
    assert title_key("The Conversation (website)") == "conversation"
    assert title_key("Tunnels &amp; Trolls") == title_key("Tunnels & Trolls")


def test_match_titles_exact_qualified_and_unique_surname(make_agent: Any, tmp_path: Path) -> None:
    agent = tiny_agent(make_agent, tmp_path)
    found = match_titles(agent.index, ["Gerald Ford", "Nixon", "Roger O. Egeberg", "Nobody"], frozenset())
    titles = {name: agent.index.document_leaves(doc_id, frozenset())[0].title for name, doc_id in found.items()}
    assert titles == {
        "Gerald Ford": "Gerald Ford (politician)",
        "Nixon": "Richard Nixon",
        "Roger O. Egeberg": "Roger O. Egeberg",
    }


def test_retrieve_node_follows_named_documents_and_scores_sentences(make_agent: Any, tmp_path: Path) -> None:
    agent = tiny_agent(make_agent, tmp_path)
    agent.retrieve("warm up", k=1)
    deps = GraphDeps.of(agent.index, offline_roles(agent.index.embedder), k=1)
    retrieve = make_retrieve_node(deps)
    out = retrieve(
        {
            "subgoal_id": "s2",
            "query": "Nixon served during what years?",
            "hop": 1,
            "follow_titles": ["Nixon"],
            "principal": None,
            "strategy": None,
        }
    )
    items = out["evidence"]["s2"]
    assert any(item["title"] == "Richard Nixon" for item in items)  # followed even if k=1 found another page
    assert all("sim" in s for item in items for s in item["sentences"])
    event = out["trace"][0]["detail"]
    assert event["followed"] == ["Nixon"] and any(src.endswith("nixon.md") for src in event["sources"])


def test_a_bridge_run_retrieves_and_cites_across_documents(make_agent: Any, tmp_path: Path) -> None:
    agent = tiny_agent(make_agent, tmp_path)
    result = agent.run("Roger O. Egeberg served during the administration of a president who was born where?")
    retrieved = {src for ev in result.trace if ev.node == "retrieve" for src in ev.detail["sources"]}
    assert any(s.endswith("egeberg.md") for s in retrieved) and any(s.endswith("nixon.md") for s in retrieved)
    assert result.halt_reason and result.subgoals
