"""The `retrieve` node: one hop for one subgoal (fanned out in parallel with `Send`)."""

from __future__ import annotations

import time
from typing import Any, NotRequired

from typing_extensions import TypedDict

from graphs.common import event
from graphs.deps import GraphDeps
from graphs.entry_rows import entry_rows, is_entry
from graphs.follow import followed_leaves, sentence_similarities
from graphs.siblings import sibling_entries
from graphs.state import EvidenceItem, SentenceRef
from tools.acl import identities_of
from tools.index import NodeRecord
from tools.logs import get_logger
from tools.retrieval import retrieve_candidates
from tools.retrieval.context import entry_heading
from tools.retrieval.hierarchical import leaf_sentences

log = get_logger(__name__)


class RetrieveTask(TypedDict):
    """The private input a `Send` carries to one retrieval hop."""

    subgoal_id: str
    query: str
    hop: int
    follow_titles: list[str]
    principal: list[str] | str | None
    strategy: str | None
    siblings: NotRequired[bool]  # the plan asks for a list: add the sibling entries of the entries found


def _entry_rows_of(
    index: Any,
    cands: list[Any],
    entries: dict[str, NodeRecord],
    query: str,
    identities: frozenset[str],
) -> dict[str, list[NodeRecord]]:
    """Per hit inside a longer API entry: the entry's field-list and default rows it does not show
    (`graphs.entry_rows`), each entry's rows given once in a hop (no text twice)."""
    out: dict[str, list[NodeRecord]] = {}
    taken: set[str] = {sid for c in cands for sid in c.sentence_ids}
    for c in cands:
        entry = entries.get(c.node.section_id or "") if c.node.level != "section" else None
        if not is_entry(entry) or entry is None:
            continue
        if entry.start >= c.node.start and entry.end <= c.node.end:
            continue  # the hit is the whole entry
        picked = entry_rows(query, leaf_sentences(index, entry, identities), taken)
        taken.update(r.node_id for r in picked)
        if picked:
            out[c.node.node_id] = picked
    return out


def make_retrieve_node(deps: GraphDeps) -> Any:
    def retrieve(task: RetrieveTask) -> dict[str, Any]:
        t0 = time.perf_counter()
        run = deps.active()
        index = run.index
        identities = identities_of(task.get("principal"))
        strategy = task.get("strategy") or run.strategy
        cands = retrieve_candidates(
            index,
            task["query"],
            run.k,
            strategy=strategy,
            identities=identities,
            budget_tokens=run.budget_tokens,
            budget_chars=run.budget_chars,
        )
        query_vec = index.embedder.embed_query(task["query"])
        # Follow documents the previous hop named (a bridge entity is often the next document's title).
        titles = task.get("follow_titles") or []
        if titles:
            have = {c.node.node_id for c in cands}
            cands.extend(followed_leaves(index, titles, query_vec, identities, have))
        if task.get("siblings"):
            cands.extend(sibling_entries(index, cands, identities))
        for c in cands:
            if not c.sentence_ids:
                c.sentence_ids = [s.node_id for s in leaf_sentences(index, c.node, identities)]
        sentence_ids = [sid for c in cands for sid in c.sentence_ids]
        sentences = index.get(sentence_ids, identities)
        entries = index.get([c.node.section_id for c in cands if c.node.section_id], identities)
        rows = _entry_rows_of(index, cands, entries, task["query"], identities)
        extra = [r for picked in rows.values() for r in picked]
        sims = sentence_similarities(index, query_vec, [*sentences.values(), *extra])
        items: list[EvidenceItem] = []
        for c in cands:
            hit = c.to_hit()
            refs: list[SentenceRef] = []
            # The entry's heading (an API name or signature) is citable evidence like any sentence.
            entry = c.node if c.node.level == "section" else entries.get(c.node.section_id or "")
            heading = entry_heading(entry) if entry is not None else None
            if entry is not None and heading is not None:
                refs.append(
                    SentenceRef(
                        node_id=entry.node_id, text=heading[0], start=heading[1], end=heading[2], kind="heading"
                    )
                )
            body: list[SentenceRef] = []
            for sid in c.sentence_ids:
                s = sentences.get(sid)
                if s is None:
                    continue
                ref = SentenceRef(node_id=s.node_id, text=s.text, start=s.start, end=s.end)
                if sid in sims:
                    ref["sim"] = sims[sid]
                body.append(ref)
            # The entry's field-list / `Default:` rows travel with a hit elsewhere in the entry.
            for r in rows.get(c.node.node_id, []):
                row = SentenceRef(node_id=r.node_id, text=r.text, start=r.start, end=r.end, kind="entry_row")
                if r.node_id in sims:
                    row["sim"] = sims[r.node_id]
                body.append(row)
            refs += sorted(body, key=lambda r: r["start"])
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
                    sentences=refs,
                )
            )
        log.info("subgoal.retrieved", subgoal=task["subgoal_id"], hop=task["hop"], hits=len(items))
        return {
            "evidence": {task["subgoal_id"]: items},
            "subgoals": {task["subgoal_id"]: {"status": "retrieved", "hops": task["hop"], "hop_query": task["query"]}},
            "counters": {"hops": 1},
            "trace": event(
                "retrieve",
                t0,
                subgoal=task["subgoal_id"],
                query=task["query"],
                hop=task["hop"],
                hits=len(items),
                followed=titles,
                sources=list(dict.fromkeys(item["source"] for item in items)),
            ),
        }

    return retrieve
