"""The `retrieve` node: one hop for one subgoal (fanned out in parallel with `Send`)."""

from __future__ import annotations

import time
from typing import Any

import structlog
from typing_extensions import TypedDict

from graphs.common import event
from graphs.deps import GraphDeps
from graphs.state import EvidenceItem, SentenceRef
from tools.acl import identities_of
from tools.retrieval import retrieve_candidates

log = structlog.get_logger(__name__)


class RetrieveTask(TypedDict):
    """The private input a `Send` carries to one retrieval hop."""

    subgoal_id: str
    query: str
    hop: int
    follow_titles: list[str]
    principal: list[str] | str | None
    strategy: str | None


def make_retrieve_node(deps: GraphDeps) -> Any:
    def retrieve(task: RetrieveTask) -> dict[str, Any]:
        t0 = time.perf_counter()
        index = deps.index
        identities = identities_of(task.get("principal"))
        strategy = task.get("strategy") or deps.strategy
        cands = retrieve_candidates(
            index, task["query"], deps.k, strategy=strategy, identities=identities, budget_tokens=deps.budget_tokens
        )
        # Follow documents the previous hop named (HotpotQA-style bridges: titles are entities).
        titles = task.get("follow_titles") or []
        if titles:
            have = {c.node.node_id for c in cands}
            for title, doc_id in index.find_titles(titles, identities).items():
                for leaf in index.document_leaves(doc_id, identities)[:2]:
                    if leaf.node_id not in have:
                        from tools.retrieval.base import Candidate

                        cands.append(Candidate(leaf, 0.5, f"follow:{title}"))
                        have.add(leaf.node_id)
        sentence_ids = [sid for c in cands for sid in (c.sentence_ids or [])]
        if not sentence_ids:
            from tools.retrieval.hierarchical import leaf_sentences

            for c in cands:
                c.sentence_ids = [s.node_id for s in leaf_sentences(index, c.node, identities)]
            sentence_ids = [sid for c in cands for sid in c.sentence_ids]
        sentences = index.get(sentence_ids, identities)
        items: list[EvidenceItem] = []
        for c in cands:
            hit = c.to_hit()
            items.append(
                EvidenceItem(
                    node_id=hit.node_id,
                    doc_id=hit.doc_id,
                    text=hit.text,
                    source=hit.source,
                    title=c.node.title,
                    section=hit.section,
                    level=hit.level,
                    start=hit.start,
                    end=hit.end,
                    score=hit.score,
                    hop=task["hop"],
                    query=task["query"],
                    sentences=[
                        SentenceRef(node_id=s.node_id, text=s.text, start=s.start, end=s.end)
                        for sid in c.sentence_ids
                        if (s := sentences.get(sid)) is not None
                    ],
                )
            )
        log.info("subgoal.retrieved", subgoal=task["subgoal_id"], hop=task["hop"], hits=len(items))
        return {
            "evidence": {task["subgoal_id"]: items},
            "subgoals": {task["subgoal_id"]: {"status": "retrieved", "hops": task["hop"], "next_query": task["query"]}},
            "counters": {"hops": 1},
            "trace": event(
                "retrieve", t0, subgoal=task["subgoal_id"], query=task["query"], hop=task["hop"], hits=len(items)
            ),
        }

    return retrieve
