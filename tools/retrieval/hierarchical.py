"""Strategies that use the tree: sentence windows, parent-child, auto-merging, summary routing."""

from __future__ import annotations

from tools.errors import ConfigError
from tools.index import HierarchicalIndex, NodeRecord
from tools.retrieval.base import Candidate, RetrievalRequest, candidates_from, rrf
from tools.retrieval.flat import hybrid


def sentence_window(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
    """Match single sentences (sharp), then return each widened by ±`window` sentences of its leaf."""
    if not index.config.embed_sentences:  # an empty answer would look like "nothing relevant"
        raise ConfigError(
            "sentence_window needs sentence vectors, but this index was built with "
            "index.embed_sentences=False; use another strategy or rebuild the index with it on"
        )
    window = int(request.options.get("window", 1))  # type: ignore[call-overload]
    scored = index.dense("sentence", request.vector(index), request.k * 3, request.identities)
    sentences = index.get([nid for nid, _ in scored], request.identities)
    out: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for nid, score in scored:
        sent = sentences.get(nid)
        if sent is None or sent.parent_id is None:
            continue
        siblings = index.children(sent.parent_id, request.identities)
        pos = next((i for i, s in enumerate(siblings) if s.node_id == nid), 0)
        lo, hi = max(0, pos - window), min(len(siblings), pos + window + 1)
        key = (sent.parent_id, lo)
        if key in seen:
            continue
        seen.add(key)
        span = siblings[lo:hi]
        leaf_text = index.get([sent.parent_id], request.identities)
        base = leaf_text.get(sent.parent_id)
        if base is None:
            continue
        start, end = span[0].start, span[-1].end
        text = base.text[start - base.start : end - base.start] if base.start <= start else sent.text
        out.append(
            Candidate(sent, score, "sentence_window", [s.node_id for s in span], text=text, start=start, end=end)
        )
        if len(out) >= request.k:
            break
    return out


def _leaf_pool(index: HierarchicalIndex, request: RetrievalRequest, depth: int) -> list[Candidate]:
    pool_request = RetrievalRequest(request.query, depth, request.identities, None, request.options, request._vector)
    pool = hybrid(index, pool_request)
    request._vector = pool_request._vector
    return pool


def parent_child(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
    """Search small leaves (precise), return their parent chunks (enough context to answer)."""
    pool = _leaf_pool(index, request, request.k * 4)
    parents = index.get([c.node.parent_id for c in pool if c.node.parent_id], request.identities)
    out: dict[str, Candidate] = {}
    for cand in pool:
        parent = parents.get(cand.node.parent_id or "")
        if parent is None:
            continue
        if parent.node_id not in out:
            out[parent.node_id] = Candidate(parent, cand.score, "parent_child")
        if len(out) >= request.k:
            break
    return list(out.values())


def auto_merge(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
    """Merge hit leaves into their parent when ≥ `threshold` of its children hit, level by level.

    Scores carry up from the children (their maximum), so a merged parent ranks where its best leaf did.
    """
    threshold = float(request.options.get("merge_threshold", 0.5))  # type: ignore[arg-type]
    pool = _leaf_pool(index, request, request.k * 3)
    current: list[Candidate] = pool
    for _ in range(2):  # leaf -> chunk -> section
        by_parent: dict[str, list[Candidate]] = {}
        for cand in current:
            if cand.node.parent_id:
                by_parent.setdefault(cand.node.parent_id, []).append(cand)
        merged: dict[str, Candidate] = {}
        replaced: set[str] = set()
        for parent_id, group in by_parent.items():
            if len(group) < 2:
                continue
            siblings = index.children(parent_id, request.identities)
            if not siblings or len(group) / len(siblings) < threshold:
                continue
            parent = index.get([parent_id], request.identities).get(parent_id)
            if parent is None or parent.level == "document":
                continue
            merged[parent_id] = Candidate(parent, max(c.score for c in group), "auto_merge")
            replaced.update(c.node.node_id for c in group)
        if not merged:
            break
        nxt: list[Candidate] = []
        placed: set[str] = set()
        for cand in current:
            pid = cand.node.parent_id or ""
            if cand.node.node_id in replaced:
                if pid not in placed:
                    nxt.append(merged[pid])
                    placed.add(pid)
            else:
                nxt.append(cand)
        current = nxt
    for cand in current:
        cand.strategy = "auto_merge"
    return current[: request.k]


def summary_route(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
    """Two stages: section summaries pick candidate sections, then fine search inside them;
    broadens to the whole index when the routed sections yield too few hits."""
    n_sections = int(request.options.get("route_sections", 8))  # type: ignore[call-overload]
    vec = request.vector(index)
    sections = index.dense("section", vec, n_sections, request.identities)
    section_ids = [sid for sid, _ in sections]
    depth = max(request.k * 3, 15)
    dense = index.dense("leaf", vec, depth, request.identities, section_ids=section_ids) if section_ids else []
    sparse = index.bm25(request.query, depth, request.identities, section_ids=section_ids) if section_ids else []
    fused = rrf([[n for n, _ in dense], [n for n, _ in sparse]])
    out = candidates_from(index, fused[: request.k], request, "summary_route")
    if len(out) < request.k:
        have = {c.node.node_id for c in out}
        broad = hybrid(index, RetrievalRequest(request.query, request.k * 2, request.identities, None, {}, vec))
        out.extend(Candidate(c.node, c.score * 0.5, "summary_route") for c in broad if c.node.node_id not in have)
    return out[: request.k]


def leaf_sentences(index: HierarchicalIndex, node: NodeRecord, identities: frozenset[str]) -> list[NodeRecord]:
    """The sentences under any node, in order (what a citation can point at)."""
    if node.level == "sentence":
        return [node]
    return index.descendants(node.node_id, "sentence", identities)
