"""Multi-hop helpers for the `retrieve` node: follow the documents an earlier hop named (a bridge
entity is often the title of the next document), and score each sentence against the hop's query so
the solver can read densely as well as lexically."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graphs.text.normalize import title_key
from tools.index import HierarchicalIndex, NodeRecord
from tools.retrieval.base import Candidate

_TITLE_CACHE: dict[tuple[str, float], dict[str, list[str]]] = {}


def _titles_by_key(index: HierarchicalIndex) -> dict[str, list[str]]:
    """All document titles grouped by `title_key`; cached until the index changes."""
    stamp = (str(index.path), float(index.manifest.get("updated_at", 0.0)))
    cached = _TITLE_CACHE.get(stamp)
    if cached is None:
        cached = {}
        for title in index.titles():
            cached.setdefault(title_key(title), []).append(title)
        _TITLE_CACHE.clear()
        _TITLE_CACHE[stamp] = cached
    return cached


def _by_last_word(index: HierarchicalIndex) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, titles in _titles_by_key(index).items():
        if " " in key:
            out.setdefault(key.rsplit(" ", 1)[1], []).extend(titles)
    return out


def match_titles(index: HierarchicalIndex, names: Sequence[str], identities: frozenset[str]) -> dict[str, str]:
    """Entity name -> doc id of the visible document titled by it (exact, or up to a qualifier)."""
    by_key = _titles_by_key(index)
    wanted: dict[str, str] = {}
    for name in names:
        key = title_key(name)
        titles = by_key.get(key, [])
        if not titles and key and " " not in key and len(key) > 3:
            # A surname alone ("Marlow") names the one page whose title ends with it, if only one does.
            tails = _by_last_word(index).get(key, [])
            titles = tails if len(tails) == 1 else []
        for title in titles:
            wanted.setdefault(title, name)
    found = index.find_titles(list(wanted), identities)
    out: dict[str, str] = {}
    for title, doc_id in found.items():
        out.setdefault(wanted[title], doc_id)
    return out


def followed_leaves(
    index: HierarchicalIndex,
    names: Sequence[str],
    query_vec: np.ndarray,
    identities: frozenset[str],
    have: set[str],
    per_doc: int = 2,
) -> list[Candidate]:
    """The leaves of each named document that best match the query (the document's opening leaf
    always comes along: it says what the entity is)."""
    out: list[Candidate] = []
    for name, doc_id in match_titles(index, names, identities).items():
        leaves = index.document_leaves(doc_id, identities)
        if not leaves:
            continue
        vecs = index.vectors("leaf", [leaf.node_id for leaf in leaves])
        scored = sorted(
            (
                (float(vecs[leaf.node_id] @ query_vec) if leaf.node_id in vecs else 0.0, i, leaf)
                for i, leaf in enumerate(leaves)
            ),
            key=lambda t: (t[1] != 0, -t[0]),
        )
        for score, _i, leaf in scored[:per_doc]:
            if leaf.node_id not in have:
                out.append(Candidate(leaf, score, f"follow:{name}"))
                have.add(leaf.node_id)
    return out


def sentence_similarities(
    index: HierarchicalIndex, query_vec: np.ndarray, sentences: Sequence[NodeRecord]
) -> dict[str, float]:
    """Cosine similarity of each sentence's vector to the query (embedded on demand when the index
    stores none, see `HierarchicalIndex.sentence_vectors`)."""
    if not sentences:
        return {}
    vecs = index.sentence_vectors(sentences)
    return {nid: round(float(vec @ query_vec), 4) for nid, vec in vecs.items()}
