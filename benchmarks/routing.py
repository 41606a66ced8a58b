"""Tree-routed search vs exhaustive search (#12, seed 003), at ~10k real leaves and 100k synthetic ones.

    python -m benchmarks.routing [--beams 2,4,8,16] [--skip-100k] [--real-100k]

A component benchmark: it builds the routing tree directly from hragent's document trees and leaf
vectors (the same MiniLM vectors and leaf texts the index stores) rather than through `Agent`, because
what it measures — vectors scored per query — is internal to the search.

10k: the long-document corpus (Python manual sections + Git guides) plus the 6,119 shared Wikipedia
paragraphs as one-leaf documents. Tree: root -> collections (each manual section; the Wikipedia pages
in 64 k-means clusters of their vectors) -> documents -> nested sections -> leaves.
--real-100k: every sentence of those pages, of Git's command pages and of the Python library
reference (haystack only), and of the Wikipedia paragraphs, as REAL leaves (~100k+).
100k: SYNTHETIC vectors (not text): a random hierarchy with the 10k tree's branching and the cosine
statistics measured on it (see `synthetic_tree`). Queries: the 66 long-document questions and the 100
HotpotQA questions (10k); leaves perturbed to the questions' nearest-leaf cosine (100k).
Section vectors: mean merger, and the attention merger trained on corpus sentences as queries with
exhaustive search as the teacher (evaluated on the questions, which it never saw).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.embed_cache import CachingEmbedder
from benchmarks.hotpot import DISTRACTORS, load_questions, print_table, write_results
from benchmarks.longdocs_corpus import GIT_DOC, PY_SECTIONS, corpus_files, python_html
from benchmarks.longdocs_corpus import load_questions as longdocs_questions
from tools.hierarchy.attention import AttentionMerger
from tools.hierarchy.route import RouteTree, mean_node_vectors, recall_vs_exhaustive


def _kmeans(x: np.ndarray, k: int, iters: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = x[rng.choice(len(x), k, replace=False)]
    labels = np.zeros(len(x), dtype=np.int64)
    for _ in range(iters):
        labels = np.argmax(x @ centers.T, axis=1)
        for c in range(k):
            pts = x[labels == c]
            if len(pts):
                v = pts.mean(axis=0)
                centers[c] = v / max(np.linalg.norm(v), 1e-6)
    return labels


class TreeBuilder:
    """Accumulates internal nodes and leaves into a `RouteTree`."""

    def __init__(self) -> None:
        self.children: list[list[int]] = [[]]
        self.leaf_children: list[list[int]] = [[]]
        self.depth = [0]
        self.labels = ["root"]
        self.leaf_texts: list[str] = []
        self.leaf_labels: list[str] = []

    def node(self, parent: int, label: str) -> int:
        self.children.append([])
        self.leaf_children.append([])
        self.depth.append(self.depth[parent] + 1)
        self.labels.append(label)
        nid = len(self.children) - 1
        self.children[parent].append(nid)
        return nid

    def leaf(self, parent: int, text: str, label: str) -> int:
        self.leaf_texts.append(text)
        self.leaf_labels.append(label)
        lid = len(self.leaf_texts) - 1
        self.leaf_children[parent].append(lid)
        return lid

    def build(self, vectors: np.ndarray) -> RouteTree:
        return RouteTree(vectors, self.children, self.leaf_children, self.depth, labels=self.labels)


def add_document(builder: TreeBuilder, parent: int, path: Path, embedder: CachingEmbedder) -> list[str]:
    """One manual page: its sections nest as in the index; returns the page's sentences (training queries)."""
    from tools.ingest.loaders import load_file
    from tools.ingest.tree import build_tree, leaf_embedding_text

    doc = load_file(path)
    tree = build_tree(doc, embedder.count_tokens)
    doc_node = builder.node(parent, str(path))
    mapping: dict[str, int] = {}
    for n in tree.nodes:
        if n.level == "document":
            mapping[n.node_id] = doc_node
        elif n.level == "section":
            mapping[n.node_id] = builder.node(mapping[n.parent_id or ""], " > ".join(n.section))
    for leaf in tree.by_level("leaf"):
        builder.leaf(mapping[leaf.section_id], leaf_embedding_text(leaf), str(path))
    return [s.text for s in tree.by_level("sentence") if 40 <= len(s.text) <= 300]


def add_document_sentences(builder: TreeBuilder, parent: int, path: Path, embedder: CachingEmbedder) -> None:
    """One page one level finer: its leaves become internal nodes and its sentences the leaves."""
    from tools.ingest.loaders import load_file
    from tools.ingest.tree import build_tree

    try:
        doc = load_file(path)
    except Exception:  # noqa: BLE001 - a page the loader skips is simply not in the haystack
        return
    tree = build_tree(doc, embedder.count_tokens)
    mapping: dict[str, int] = {}
    doc_node = builder.node(parent, str(path))
    for n in tree.nodes:
        if n.level == "document":
            mapping[n.node_id] = doc_node
        elif n.level in ("section", "leaf"):
            up = n.section_id if n.level == "leaf" else n.parent_id
            mapping[n.node_id] = builder.node(mapping.get(up or "", doc_node), " > ".join(n.section))
    for sent in tree.by_level("sentence"):
        if sent.parent_id in mapping and len(sent.text) >= 20:
            builder.leaf(mapping[sent.parent_id], sent.text, str(path))


def real_sentence_tree(embedder: CachingEmbedder, n_wiki_clusters: int = 64) -> RouteTree:
    """~100k REAL leaves: every sentence of the long-document corpus, of the rest of the Git manual
    (its command pages) and of the Python library reference (a haystack only: no question is asked
    on it and nothing is tuned there), and of the Wikipedia paragraphs, each under the leaf chunk,
    section, page and collection it came from (Wikipedia: under its paragraph and k-means cluster)."""
    from tools.ingest.sentences import split_sentences

    builder = TreeBuilder()
    root = python_html()
    extra = sorted((root / "library").glob("*.html")) + sorted(GIT_DOC.glob("git-*.html"))
    collections: dict[str, int] = {}
    for path in corpus_files() + extra:
        key = path.parent.name if path.is_relative_to(root) else "git"
        if key not in collections:
            collections[key] = builder.node(0, key)
        add_document_sentences(builder, collections[key], path, embedder)
    n_manual = len(builder.leaf_texts)
    with gzip.open(DISTRACTORS, "rt", encoding="utf-8") as fh:
        wiki = [(r["title"], r["text"].strip()) for r in json.load(fh)]
    wiki_vecs = embedder.embed([f"{t}. {x}" for t, x in wiki])
    labels = _kmeans(wiki_vecs, n_wiki_clusters)
    clusters = [builder.node(0, f"wiki-{c}") for c in range(n_wiki_clusters)]
    for (title, text), lab in zip(wiki, labels, strict=True):
        doc = builder.node(clusters[int(lab)], title)
        for start, end in split_sentences(text):
            if end - start >= 20:
                builder.leaf(doc, text[start:end], "wiki")
    vecs = embedder.embed(builder.leaf_texts)
    print(f"real sentence tree: {len(builder.leaf_texts)} leaves ({n_manual} from manuals)", flush=True)
    return builder.build(np.asarray(vecs, dtype=np.float32))


def real_tree(embedder: CachingEmbedder, n_wiki_clusters: int = 64) -> tuple[RouteTree, list[str]]:
    builder = TreeBuilder()
    root = python_html()
    sentences: list[str] = []
    collections: dict[str, int] = {}
    for path in corpus_files():
        key = path.parent.name if path.is_relative_to(root) else "git"
        if key not in collections:
            collections[key] = builder.node(0, key)
        sentences += add_document(builder, collections[key], path, embedder)
    n_manual = len(builder.leaf_texts)
    with gzip.open(DISTRACTORS, "rt", encoding="utf-8") as fh:
        wiki = [(r["title"], r["text"].strip()) for r in json.load(fh)]
    wiki_texts = [f"{t}. {x}" for t, x in wiki]
    wiki_vecs = embedder.embed(wiki_texts)
    labels = _kmeans(wiki_vecs, n_wiki_clusters)
    clusters = [builder.node(0, f"wiki-{c}") for c in range(n_wiki_clusters)]
    for (title, _), text, lab in zip(wiki, wiki_texts, labels, strict=True):
        doc = builder.node(clusters[int(lab)], title)
        builder.leaf(doc, text, "wiki")
    manual_vecs = embedder.embed(builder.leaf_texts[:n_manual])
    tree = builder.build(np.vstack([manual_vecs, wiki_vecs]).astype(np.float32))
    assert PY_SECTIONS  # the collections are these sections (+ git, + wiki clusters)
    return tree, sentences


def _stats(tree: RouteTree) -> dict[str, Any]:
    kids = [len(c) + len(lc) for c, lc in zip(tree.children, tree.leaf_children, strict=True) if c or lc]
    return {
        "leaves": len(tree.leaf_vectors),
        "internal": tree.n_internal - 1,
        "max_depth": max(tree.depth),
        "mean_children": float(np.mean(kids)),
    }


def level_cosines(real: RouteTree) -> dict[str, float]:
    """Mean cosine of each node's mean-merged vector to its parent's, by level, on the real tree."""
    vecs = mean_node_vectors(real)
    parent = [0] * real.n_internal
    for node, kids in enumerate(real.children):
        for kid in kids:
            parent[kid] = node
    g = real.leaf_vectors.mean(axis=0)
    g /= np.linalg.norm(g)
    depth = np.asarray(real.depth)
    leaf_parent = np.zeros(len(real.leaf_vectors), dtype=np.int64)
    for node, leaves in enumerate(real.leaf_children):
        leaf_parent[leaves] = node
    return {
        "collection": float(np.mean(vecs[depth == 1] @ g)),
        "document": float(np.mean([vecs[i] @ vecs[parent[i]] for i in np.nonzero(depth == 2)[0]])),
        "section": float(np.mean([vecs[i] @ vecs[parent[i]] for i in np.nonzero(depth >= 3)[0]])),
        "leaf": float(np.mean(np.sum(real.leaf_vectors * vecs[leaf_parent], axis=1))),
    }


def synthetic_tree(real: RouteTree, n_leaves: int = 100_000, seed: int = 0) -> tuple[RouteTree, dict[str, float]]:
    """SYNTHETIC 100k-leaf tree: 100 collections -> 10 documents -> 5 sections -> 20 leaves, each child =
    its parent's direction + isotropic Gaussian noise, renormalised. The noise of each level is set so
    that the child-to-parent cosine matches the real tree's (`level_cosines`); cos ≈ 1/sqrt(1+s²)."""
    rng = np.random.default_rng(seed)
    dim = real.leaf_vectors.shape[1]
    cos = level_cosines(real)
    spread = {k: float(np.sqrt(max(1e-6, 1 / max(v, 1e-3) ** 2 - 1))) for k, v in cos.items()}
    global_mean = real.leaf_vectors.mean(axis=0)
    builder = TreeBuilder()
    vecs: list[np.ndarray] = []

    def child(parent_vec: np.ndarray, s: float) -> np.ndarray:
        v = parent_vec + rng.normal(scale=s / np.sqrt(dim), size=dim)
        return v / np.linalg.norm(v)

    base = global_mean / np.linalg.norm(global_mean)
    per_collection, docs_per, secs_per = 100, 10, 5
    leaves_per = max(1, n_leaves // (per_collection * docs_per * secs_per))
    for c in range(per_collection):
        cvec = child(base, spread["collection"])
        cn = builder.node(0, f"c{c}")
        for d in range(docs_per):
            dvec = child(cvec, spread["document"])
            dn = builder.node(cn, f"c{c}d{d}")
            for s in range(secs_per):
                svec = child(dvec, spread["section"])
                sn = builder.node(dn, f"c{c}d{d}s{s}")
                for _ in range(leaves_per):
                    vecs.append(child(svec, spread["leaf"]))
                    builder.leaf(sn, "", "")
    return builder.build(np.vstack(vecs).astype(np.float32)), cos


def synthetic_queries(tree: RouteTree, n: int, cosine: float, seed: int = 1) -> np.ndarray:
    """Perturb random leaves until the query-to-source cosine is about `cosine`."""
    rng = np.random.default_rng(seed)
    dim = tree.leaf_vectors.shape[1]
    src = tree.leaf_vectors[rng.choice(len(tree.leaf_vectors), n, replace=False)]
    spread = np.sqrt(max(1e-6, 1 / cosine**2 - 1))
    q = src + rng.normal(scale=spread / np.sqrt(dim), size=src.shape)
    out: np.ndarray = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
    return out


def evaluate(name: str, tree: RouteTree, queries: np.ndarray, beams: Sequence[int], k: int) -> list[dict[str, Any]]:
    rows = []
    for beam in beams:
        t0 = time.perf_counter()
        r = recall_vs_exhaustive(tree, queries, k=k, beam=beam)
        rows.append({"setting": name, **r, "ms_per_query": (time.perf_counter() - t0) / len(queries) * 1000})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beams", default="4,8,16,32")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--train-queries", type=int, default=1500)
    parser.add_argument("--skip-100k", action="store_true")
    parser.add_argument(
        "--real-100k",
        action="store_true",
        help="also the ~100k-leaf REAL sentence tree (MiniLM encodes every sentence)",
    )
    args = parser.parse_args(argv)
    beams = [int(b) for b in args.beams.split(",")]
    from tools.embeddings import make_embedder

    embedder = CachingEmbedder(make_embedder("minilm"))
    tree, sentences = real_tree(embedder)
    questions = [q.question for q in longdocs_questions()] + [r["question"] for r in load_questions()]
    q_vecs = embedder.embed(questions)
    rng = np.random.default_rng(0)
    train_text = [sentences[i] for i in rng.choice(len(sentences), min(args.train_queries, len(sentences)), False)]
    train_vecs = embedder.embed(train_text)
    rows: list[dict[str, Any]] = []
    tree.node_vectors = mean_node_vectors(tree)
    rows += evaluate("10k real / mean merger", tree, q_vecs, beams, args.k)
    merger = AttentionMerger(tree.leaf_vectors.shape[1])
    t0 = time.perf_counter()
    losses = merger.fit(tree, train_vecs)
    train_s = time.perf_counter() - t0
    tree.node_vectors = merger.merge(tree)
    rows += evaluate("10k real / attention merger", tree, q_vecs, beams, args.k)
    stats: dict[str, Any] = {"10k": _stats(tree)}
    if not args.skip_100k:
        nn = np.max(q_vecs @ tree.leaf_vectors.T, axis=1)
        big, cos = synthetic_tree(tree)
        sq = synthetic_queries(big, 300, float(np.mean(nn)))
        big.node_vectors = mean_node_vectors(big)
        rows += evaluate("100k synthetic / mean merger", big, sq, beams, args.k)
        big_merger = AttentionMerger(big.leaf_vectors.shape[1])
        big_merger.fit(big, synthetic_queries(big, 1500, float(np.mean(nn)), seed=7), epochs=30)
        big.node_vectors = big_merger.merge(big)
        rows += evaluate("100k synthetic / attention merger", big, sq, beams, args.k)
        stats["100k"] = {**_stats(big), "real_level_cosines": cos}
    if args.real_100k:
        big_real = real_sentence_tree(embedder)
        big_real.node_vectors = mean_node_vectors(big_real)
        rows += evaluate(
            f"{len(big_real.leaf_vectors) // 1000}k real sentences / mean merger", big_real, q_vecs, beams, args.k
        )
        stats["real_sentences"] = _stats(big_real)
    print_table(rows, ["setting", "beam", "k", "recall@k", "top1_agree", "scored_frac", "ms_per_query"])
    print(json.dumps(stats))
    path = write_results(
        "routing",
        {
            "rows": rows,
            "trees": stats,
            "attention_train_s": train_s,
            "attention_loss": [losses[0], losses[-1]] if losses else [],
            "queries_10k": len(questions),
            "train_queries": len(train_text),
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
