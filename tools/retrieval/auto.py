"""`auto`: the agent's default strategy — one `retrieve()` call, two internal passes.

Pass 1 fuses three views of the query by reciprocal rank: dense leaves, BM25 leaves, and the
documents whose title the query names. Pass 2 starts from the best first-pass hit (the "seed"): a
pseudo-relevance-feedback query (query vector + seed vector, no second model call) and the documents
whose titles the seed's text names — the bridge a multi-hop question needs and a single dense query
misses. The seed stays first; the rest is the fusion of both passes. Weights: `policies.retrieval`.

On structured pages (API entries, options, subsections) pass 1 also runs BM25 for the query plus the
entry headings of its best hits: a plain-words question reaches the entry whose name it never says.
Under a caller's character budget the candidate pool is shallower, a seed inside an entry gets no
second pass (so the budget goes to distinct first-pass entries), the heading list weighs less, and
one more dense list runs for a Rocchio query: the query plus the mean vector of the sections its best
hits sit in, entries only (`tools.retrieval.section_signals`; no second embedding). Each was measured
in `benchmarks.structdocs` / `benchmarks.structdocs_sweep`; without a budget the last two lost.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from policies.retrieval import AutoRetrievalPolicy
from tools.index import HierarchicalIndex, NodeRecord
from tools.retrieval.base import Candidate, RetrievalRequest, candidates_from, rrf
from tools.retrieval.section_signals import lifted_leaves, section_feedback_query
from tools.retrieval.titles import title_matcher

DEFAULT_POLICY = AutoRetrievalPolicy()


def _doc_leaves(index: HierarchicalIndex, doc_ids: Sequence[str], identities: frozenset[str]) -> dict[str, list[str]]:
    """doc_id -> its visible leaf ids in document order, for the named documents."""
    return index.leaf_ids_of_docs(doc_ids, identities) if doc_ids else {}


def _rank_leaves(per_doc: dict[str, list[str]], vecs: dict[str, np.ndarray], query_vec: np.ndarray) -> list[str]:
    """Each document's best leaf for `query_vec`, best documents first, then the remaining leaves
    (so one long document cannot crowd out the other named ones)."""

    def sim(nid: str) -> float:
        vec = vecs.get(nid)
        return float(vec @ query_vec) if vec is not None else -1.0

    ranked = sorted(
        (sorted(ids, key=sim, reverse=True) for ids in per_doc.values()), key=lambda ids: sim(ids[0]), reverse=True
    )
    return [ids[0] for ids in ranked] + [nid for ids in ranked for nid in ids[1:]]


def _section_leaves(
    index: HierarchicalIndex, qv: np.ndarray, n_sections: int, depth: int, ids: frozenset[str]
) -> list[str]:
    """The best leaf of each section whose (mean-of-leaves or summary) vector matches the query, in
    section order: a whole entry can match a plain-words question that none of its leaves does."""
    sections = [sid for sid, _ in index.dense("section", qv, n_sections, ids)]
    if not sections:
        return []
    leaves = index.dense("leaf", qv, depth, ids, section_ids=sections)
    owner = index.visible([n for n, _ in leaves], ids)
    best: dict[str, str] = {}
    for nid, _ in leaves:  # best first
        best.setdefault(owner.get(nid) or "", nid)
    return [best[s] for s in sections if s in best]


def entry_headings(nodes: Sequence[NodeRecord]) -> list[str]:
    """The entry headings (API signatures, option names, subsection titles) of `nodes`, in order and
    without repeats. A heading that only repeats its document's title is left out: a flat page (a
    Wikipedia paragraph) has no entries, so its hits add nothing here."""
    out: list[str] = []
    for node in nodes:
        heading = node.section[-1].strip() if node.section else ""
        if heading and heading.lower() != node.title.strip().lower() and heading not in out:
            out.append(heading)
    return out


def _normalize(vec: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec


def auto(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
    """Multi-signal first pass, seed-driven second pass, interleaved; the seed is pinned first."""
    policy = request.options.get("auto_policy")
    p = policy if isinstance(policy, AutoRetrievalPolicy) else DEFAULT_POLICY
    ids = request.identities
    budgeted = request.budget_chars is not None
    depth = max(request.k * (p.budget_depth_factor if budgeted else p.depth_factor), p.min_depth)
    qv = np.asarray(request.vector(index), dtype=np.float32)
    matcher = title_matcher(index)

    # BM25 (SQLite) runs on a worker thread while Chroma answers the dense query: both release the GIL.
    # The index's own pool (closed with it); the calling thread does the dense half itself, so a busy
    # pool only delays BM25, never deadlocks.
    sparse_job = index.executor().submit(index.bm25, request.query, depth, ids)
    seen_vecs: dict[str, np.ndarray] = {}
    dense = [n for n, _ in index.dense("leaf", qv, depth, ids, vectors_out=seen_vecs)]
    if p.section_lift > 0:
        dense = lifted_leaves(index, qv, dense, seen_vecs, ids, p.section_lift)
    sparse = [n for n, _ in sparse_job.result()]
    mentions = matcher.mentions(request.query)[: p.max_linked_docs]
    named_docs = _doc_leaves(index, [d for group in mentions for d in group], ids)
    named_vecs = index.vectors("leaf", [n for leaves in named_docs.values() for n in leaves]) if named_docs else {}
    named = _rank_leaves(named_docs, named_vecs, qv)[:depth]
    # Each distinct name's best leaf (over the documents it may mean): these lead a comparison.
    per_mention = [
        _rank_leaves({d: named_docs[d] for d in group if d in named_docs}, named_vecs, qv)[:1] for group in mentions
    ]
    leaders = [leaves[0] for leaves in per_mention if leaves][: p.lead_named]
    by_section = _section_leaves(index, qv, p.section_depth, depth, ids) if p.w_section > 0 else []
    signals = [dense, sparse, named, by_section]
    weights = [p.w_dense, p.w_bm25, p.w_named, p.w_section]
    first = [n for n, _ in rrf(signals, p.rrf_k, weights)]
    if not first:
        return []
    w_heading = p.budget_w_heading_bm25 if budgeted else p.w_heading_bm25
    prf_sections = p.budget_prf_sections if budgeted else p.prf_sections
    if w_heading > 0:
        # A plain-words question shares no word with the entry that answers it, but its best hits are
        # often that entry's neighbours: their headings carry the vocabulary (identifiers, option
        # names) the answer is filed under. BM25 only: no second embedding.
        tops = index.get(first[: p.heading_bm25_hits], ids)
        heads = entry_headings([tops[n] for n in first[: p.heading_bm25_hits] if n in tops])
        if heads:
            expanded = [n for n, _ in index.bm25(request.query + " " + " ".join(heads), depth, ids)]
            signals, weights = [*signals, expanded], [*weights, w_heading]
            first = [n for n, _ in rrf(signals, p.rrf_k, weights)]
    if prf_sections > 0 and p.w_prf_sections > 0:
        # Rocchio on sections: the mean vector of the best hits' sections pulls the query toward the
        # entries around them (no second embedding).
        # Only hits inside an entry count: a flat page's one section is the page itself (HotpotQA
        # paragraphs), and its mean vector drifts the query off the bridge page (pooled R@5 .915 -> .910).
        tops = index.get(first[:prf_sections], ids)
        in_entries = [n for n in first[:prf_sections] if n in tops and entry_headings([tops[n]])]
        q_prf = section_feedback_query(index, qv, in_entries, ids, p.prf_beta) if in_entries else None
        if q_prf is not None:
            feedback = [n for n, _ in index.dense("leaf", q_prf, depth, ids)]
            first = [n for n, _ in rrf([*signals, feedback], p.rrf_k, [*weights, p.w_prf_sections])]

    # Second pass from the seed: its vector expands the query, its text names the next documents.
    second: list[str] = []
    seed = index.get(first[:1], ids).get(first[0]) if p.seeds else None
    # Under a character budget, a seed inside an entry of a structured page gets no second pass: its
    # extra leaves (mostly the seed's neighbours) take room from the first pass's. A seed on a flat
    # page (a paragraph whose only heading is its title) still brings the bridge page along.
    if seed is not None and budgeted and not p.budget_second_pass and entry_headings([seed]):
        seed = None
    if seed is not None:
        linked_docs = _doc_leaves(
            index, matcher.find(seed.text, exclude=frozenset([seed.doc_id]))[: p.max_linked_docs], ids
        )
        wanted = [seed.node_id] + [n for leaves in linked_docs.values() for n in leaves]
        vecs = {n: seen_vecs[n] for n in wanted if n in seen_vecs}
        vecs.update(index.vectors("leaf", [n for n in wanted if n not in vecs]))
        if seed.node_id in vecs:
            q2 = _normalize(qv + p.prf_alpha * vecs[seed.node_id])
            dense2 = [n for n, _ in index.dense("leaf", q2, depth, ids)]
            linked = _rank_leaves(linked_docs, vecs, q2)
            second = [n for n, _ in rrf([dense2, linked], p.rrf_k, [p.w_second_dense, p.w_linked])]
    if p.prf_headings > 0:
        # The names of the best first-pass entries, added to the words of the query: a plain-words
        # question gains the vocabulary (identifiers, option names) its answer is filed under.
        tops = index.get(first[: p.prf_headings], ids)
        heads = list(
            dict.fromkeys(tops[n].section[-1] for n in first[: p.prf_headings] if n in tops and tops[n].section)
        )
        if heads:
            q3 = np.asarray(index.embedder.embed_query(request.query + " " + " ".join(heads)), dtype=np.float32)
            dense3 = [n for n, _ in index.dense("leaf", q3, depth, ids)]
            second = [n for n, _ in rrf([second, dense3], p.rrf_k)] if second else dense3

    # The query names several things that all rank high on their own (a comparison): they lead.
    # Otherwise the seed leads and the passes alternate, so the bridge document lands at rank 2.
    if len(leaders) >= p.lead_named and all(leaf in first[: p.lead_window] for leaf in leaders):
        order = interleave(leaders + [n for n in first if n not in leaders], second, len(leaders))
    else:
        order = interleave(first, second, 1)
    fused = dict(rrf([first, second], p.rrf_k))
    top = [(n, fused.get(n, 0.0)) for n in order[: request.k]]
    return candidates_from(index, top, request, "auto")


def interleave(first: list[str], second: list[str], lead: int) -> list[str]:
    """`lead` items of `first`, then alternate second/first, skipping repeats."""
    out: list[str] = list(dict.fromkeys(first[:lead]))
    seen = set(out)
    a, b = iter(first[lead:]), iter(second)
    pending = [b, a]
    while pending:
        for it in list(pending):
            for nid in it:
                if nid not in seen:
                    seen.add(nid)
                    out.append(nid)
                    break
            else:
                pending.remove(it)
    return out
