"""Access control as a property: random corpora, ACLs, principals and queries, every retrieval path
(each strategy with its options, merges to parents, section-summary routing, sentence windows, BM25,
the index primitives, title following in the graph, and `Agent.run`) — zero leaks.

Every document carries a canary token in its title, headings and sentences; a caller may see a
canary only if they may see its document. Text of a merged parent or a summary that came from an
invisible document would carry that document's canary."""

from __future__ import annotations

import random
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import Agent
from graphs.deps import GraphDeps
from graphs.retriever import make_retrieve_node
from graphs.roles.offline import offline_roles
from tests.conftest import offline_settings
from tests.reliability.helpers import assert_grounded, write
from tools.acl import can_see
from tools.embeddings import HashingEmbedder
from tools.index import EMBEDDED_LEVELS, HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.retrieval import STRATEGIES, retrieve_candidates

IDENTITIES = ["alice", "bob", "hr", "eng", "fin"]
VOCAB = [
    "budget",
    "salary",
    "launch",
    "roadmap",
    "audit",
    "incident",
    "contract",
    "vendor",
    "payroll",
    "merger",
    "forecast",
    "hiring",
]
CANARY = re.compile(r"zq\d{2}k")


@dataclass
class Doc:
    canary: str
    title: str
    text: str
    acl: tuple[str, ...]


def make_docs(rng: random.Random, n: int, *, shared_title: bool = False) -> list[Doc]:
    docs: list[Doc] = []
    for i in range(n):
        canary = f"zq{i:02d}k"
        title = "Project Shared" if shared_title and i < 2 else f"Project {canary}"
        sections = []
        for _ in range(rng.randint(1, 3)):
            sentences = [
                f"The {rng.choice(VOCAB)} of {canary} is {rng.choice(VOCAB)} {rng.randint(1, 999)}."
                for _ in range(rng.randint(2, 9))
            ]
            sections.append(f"## {rng.choice(VOCAB).title()} {canary}\n\n" + " ".join(sentences))
        acl = tuple(sorted(rng.sample(IDENTITIES, rng.randint(0, 2))))
        docs.append(Doc(canary, title, f"# {title}\n\n" + "\n\n".join(sections) + "\n", acl))
    return docs


def build(root: Path, docs: list[Doc]) -> HierarchicalIndex:
    index = HierarchicalIndex(root / "idx", HashingEmbedder())
    for i, doc in enumerate(docs):
        folder = root / f"d{i}"
        write(folder, f"doc{i:02d}.md", doc.text)
        ingest_paths(index, [folder], acl=list(doc.acl) or None)
    return index


def forbidden(docs: list[Doc], ids: frozenset[str]) -> set[str]:
    return {d.canary for d in docs if not can_see(d.acl, ids)}


def assert_no_leak(text: str, banned: set[str], where: str) -> None:
    found = set(CANARY.findall(text)) & banned
    assert not found, f"{where} leaked {sorted(found)}: {text[:200]!r}"


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[HierarchicalIndex, list[Doc], Path]]:
    with tempfile.TemporaryDirectory() as tmp:
        docs = make_docs(random.Random(88), 10, shared_title=True)
        index = build(Path(tmp), docs)
        yield index, docs, Path(tmp)
        index.close()


principals = st.lists(st.sampled_from(IDENTITIES), max_size=3, unique=True).map(frozenset)


@st.composite
def queries(draw: st.DrawFn) -> str:
    words = VOCAB + [f"zq{i:02d}k" for i in range(10)] + ["Project", "Shared"]
    return " ".join(draw(st.lists(st.sampled_from(words), min_size=1, max_size=6)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ids=principals,
    query=queries(),
    strategy=st.sampled_from(sorted(STRATEGIES)),
    k=st.integers(1, 8),
    merge=st.floats(0.0, 1.0),
    window=st.integers(0, 3),
    route=st.integers(1, 10),
)
def test_no_strategy_leaks(
    world: tuple[HierarchicalIndex, list[Doc], Path],
    ids: frozenset[str],
    query: str,
    strategy: str,
    k: int,
    merge: float,
    window: int,
    route: int,
) -> None:
    index, docs, _ = world
    banned = forbidden(docs, ids)
    options: dict[str, object] = {"merge_threshold": merge, "window": window, "route_sections": route}
    cands = retrieve_candidates(index, query, k, strategy=strategy, identities=ids, options=options)
    everyone = frozenset(IDENTITIES)
    for cand in cands:
        hit = cand.to_hit()
        assert can_see(cand.node.acl, ids), f"{strategy} returned a node of an invisible document"
        assert_no_leak(hit.text + " " + " ".join(hit.section), banned, f"{strategy} hit")
        sentences = index.get(hit.sentence_ids, everyone)
        assert all(can_see(s.acl, ids) for s in sentences.values()), f"{strategy} cites invisible sentences"
        for sent in sentences.values():
            assert_no_leak(sent.text, banned, f"{strategy} sentence")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=principals, query=queries(), node_pick=st.lists(st.integers(0, 10_000), max_size=20))
def test_index_primitives_filter(
    world: tuple[HierarchicalIndex, list[Doc], Path], ids: frozenset[str], query: str, node_pick: list[int]
) -> None:
    """The building blocks every strategy uses: dense search per level, BM25, tree walks, titles."""
    index, docs, _ = world
    banned = forbidden(docs, ids)
    everyone = frozenset(IDENTITIES)
    with index._conn() as db:
        all_ids = [r[0] for r in db.execute("SELECT node_id FROM nodes ORDER BY node_id")]
    picked = [all_ids[i % len(all_ids)] for i in node_pick]
    vec = index.embedder.embed_query(query)
    for level in EMBEDDED_LEVELS:
        found = index.get([nid for nid, _ in index.dense(level, vec, 8, ids)], everyone)
        assert all(can_see(n.acl, ids) for n in found.values()), level
    found = index.get([nid for nid, _ in index.bm25(query, 8, ids)], everyone)
    assert all(can_see(n.acl, ids) for n in found.values())
    for node in index.get(picked, ids).values():
        assert can_see(node.acl, ids)
        assert_no_leak(node.text, banned, "get")
        for child in index.children(node.node_id, ids):
            assert_no_leak(child.text, banned, "children")
        for leaf in index.descendants(node.node_id, "leaf", ids):
            assert_no_leak(leaf.text, banned, "descendants")
    titles = index.find_titles([d.title for d in docs], ids)
    for doc_id in titles.values():
        leaves = index.document_leaves(doc_id, ids)
        assert leaves, "a title resolved to a document the caller cannot read"
        for leaf in leaves:
            assert_no_leak(leaf.text, banned, "title following")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=principals, query=queries(), follow=st.lists(st.integers(0, 9), max_size=4))
def test_graph_title_following_filters(
    world: tuple[HierarchicalIndex, list[Doc], Path], ids: frozenset[str], query: str, follow: list[int]
) -> None:
    """The retrieve node follows titles a previous hop named; an invisible title must lead nowhere."""
    index, docs, _ = world
    banned = forbidden(docs, ids)
    node = make_retrieve_node(GraphDeps.of(index, offline_roles(index.embedder)))
    titles = [docs[i].title for i in follow]
    out = node(
        {
            "subgoal_id": "s1",
            "query": query,
            "hop": 2,
            "follow_titles": titles,
            "principal": sorted(ids),
            "strategy": None,
        }
    )
    for item in out["evidence"]["s1"]:
        assert_no_leak(item["text"] + " " + item["title"] + " " + " ".join(item["section"]), banned, "evidence")
        for sent in item["sentences"]:
            assert_no_leak(sent["text"], banned, "evidence sentence")


@pytest.fixture(scope="module")
def world_agent(world: tuple[HierarchicalIndex, list[Doc], Path]) -> Iterator[Agent]:
    _, _, root = world
    agent = Agent(root / "idx", settings=offline_settings(), embedder=HashingEmbedder())
    yield agent
    agent.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=principals, query=queries(), strategy=st.sampled_from(sorted(STRATEGIES)))
def test_agent_run_never_leaks(
    world: tuple[HierarchicalIndex, list[Doc], Path],
    world_agent: Agent,
    ids: frozenset[str],
    query: str,
    strategy: str,
) -> None:
    _, docs, _ = world
    task = f"What is the {query}?"
    result = world_agent.run(task, principal=sorted(ids) or None, strategy=strategy)
    banned = forbidden(docs, ids)
    evidence = result.short_answer + " ".join(c.quote + " ".join(c.section) for c in result.citations)
    evidence += " ".join(s.answer for s in result.subgoals)
    evidence += " ".join(cit.quote for c in result.claims for cit in c.citations)
    assert_no_leak(evidence, banned, "run evidence")
    # Composed text and declarative claims restate the task; anything beyond its words must be visible.
    composed = result.answer + " ".join(c.text for c in result.claims)
    assert_no_leak(composed, banned - set(CANARY.findall(task)), "run answer")
    # The trace repeats the task's own words; anything beyond them must be visible.
    assert_no_leak(result.model_dump_json(), banned - set(CANARY.findall(task)), "run trace")
    assert_grounded(result, world_agent.index, ids)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**16), ids=principals, n=st.integers(2, 5))
def test_random_corpora_with_acl_changes(seed: int, ids: frozenset[str], n: int) -> None:
    """Fresh random corpora, then one document's ACL and text change: no stale version or ACL leaks."""
    rng = random.Random(seed)
    docs = make_docs(rng, n, shared_title=rng.random() < 0.5)
    with tempfile.TemporaryDirectory() as tmp:
        index = build(Path(tmp), docs)
        try:
            changed = rng.randrange(n)
            old = docs[changed]
            docs[changed] = Doc(old.canary, old.title, old.text + f"\nThe audit of {old.canary} closed.\n", ("fin",))
            write(Path(tmp) / f"d{changed}", f"doc{changed:02d}.md", docs[changed].text)
            ingest_paths(index, [Path(tmp) / f"d{changed}"], acl=["fin"])
            banned = forbidden(docs, ids)
            for strategy in STRATEGIES:
                for query in ("audit closed budget", f"{old.canary} salary", "Project Shared roadmap"):
                    for cand in retrieve_candidates(
                        index, query, 6, strategy=strategy, identities=ids, options={"merge_threshold": 0.0}
                    ):
                        assert_no_leak(cand.to_hit().text, banned, strategy)
            assert index.check().ok
        finally:
            index.close()
