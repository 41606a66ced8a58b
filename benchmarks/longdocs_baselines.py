"""Baselines measured in the same run as hragent: flat fixed-size 1,000-character chunks searched
densely (MiniLM), by BM25, and by both fused with reciprocal ranks; and LlamaIndex's
`HierarchicalNodeParser` + `AutoMergingRetriever` on the same MiniLM.

All of them read the same extracted page text as hragent (its HTML loader), so differences come
from chunking and search, not from text extraction.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "as",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "which",
        "who",
        "what",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "not",
        "no",
        "than",
        "then",
        "there",
        "their",
        "they",
        "them",
        "i",
        "you",
        "your",
        "we",
        "our",
        "into",
        "about",
        "over",
        "also",
        "can",
    ]
)


@dataclass
class Piece:
    text: str
    source: str


def fixed_chunks(text: str, source: str, size: int = 1000) -> list[Piece]:
    """Consecutive windows of `size` characters; a cut moves back to whitespace when one is near."""
    out: list[Piece] = []
    pos = 0
    while pos < len(text):
        end = min(len(text), pos + size)
        if end < len(text):
            space = text.rfind(" ", pos + size - 100, end)
            if space > pos:
                end = space
        piece = text[pos:end].strip()
        if piece:
            out.append(Piece(piece, source))
        pos = end
    return out


def _stemmer() -> Callable[[str], str]:
    try:
        from nltk.stem.porter import PorterStemmer

        stem = PorterStemmer().stem
        return lambda w: str(stem(w))
    except ImportError:  # pragma: no cover - nltk comes with llama-index-core
        return lambda w: w


class BM25:
    """Okapi BM25 (k1=1.2, b=0.75) over Porter-stemmed words, like SQLite FTS5's porter tokenizer."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.stem = _stemmer()
        self.k1, self.b = k1, b
        self.docs = [Counter(self._terms(t)) for t in texts]
        self.lengths = np.array([sum(d.values()) for d in self.docs], dtype=np.float32)
        self.avg = float(self.lengths.mean()) if len(self.docs) else 0.0
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for i, doc in enumerate(self.docs):
            for term, tf in doc.items():
                self.postings.setdefault(term, []).append((i, tf))

    def _terms(self, text: str) -> list[str]:
        return [self.stem(w) for w in (w.lower() for w in _WORD.findall(text)) if w not in _STOP and len(w) > 1]

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(len(self.docs), dtype=np.float32)
        n = len(self.docs)
        for term in set(self._terms(query)):
            posting = self.postings.get(term)
            if not posting:
                continue
            idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            for i, tf in posting:
                denom = tf + self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg)
                out[i] += idf * tf * (self.k1 + 1) / denom
        return out


def rrf_order(rankings: list[list[int]], k: int = 60) -> list[int]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, i in enumerate(ranking):
            scores[i] = scores.get(i, 0.0) + 1.0 / (k + rank + 1)
    return [i for i, _ in sorted(scores.items(), key=lambda kv: kv[1], reverse=True)]


class FlatChunks:
    """The 1,000-character baseline: `search(query, mode, k)` with mode dense | bm25 | hybrid."""

    def __init__(self, pages: Sequence[tuple[str, str]], embedder: Any, size: int = 1000) -> None:
        t0 = time.perf_counter()
        self.pieces = [p for source, text in pages for p in fixed_chunks(text, source, size)]
        self.embedder = embedder
        self.vectors = embedder.embed([p.text for p in self.pieces])
        self.bm25 = BM25([p.text for p in self.pieces])
        self.ingest_s = time.perf_counter() - t0

    def search(self, query: str, mode: str, k: int = 5) -> list[Piece]:
        depth = max(k * 4, 20)
        dense: list[int] = []
        sparse: list[int] = []
        if mode in ("dense", "hybrid"):
            sims = self.vectors @ self.embedder.embed_query(query)
            dense = [int(i) for i in np.argsort(-sims)[:depth]]
        if mode in ("bm25", "hybrid"):
            s = self.bm25.scores(query)
            sparse = [int(i) for i in np.argsort(-s)[:depth] if s[i] > 0]
        order = {"dense": dense, "bm25": sparse}.get(mode) or rrf_order([dense, sparse])
        return [self.pieces[i] for i in order[:k]]


class LlamaIndexAutoMerging:
    """LlamaIndex's documented recipe: HierarchicalNodeParser (chunk sizes 2048/512/128 tokens, counted
    with MiniLM's tokenizer so nothing fetches tiktoken) and AutoMergingRetriever over the leaves."""

    def __init__(self, pages: Sequence[tuple[str, str]], embedder: Any, top_k: int = 12) -> None:
        from llama_index.core import Document, Settings, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import HierarchicalNodeParser, SentenceSplitter, get_leaf_nodes
        from llama_index.core.retrievers import AutoMergingRetriever

        t0 = time.perf_counter()
        tok = embedder.inner._tok() if hasattr(embedder, "inner") else None

        def tokenize(text: str) -> list[int]:
            if tok is None:
                return list(range(embedder.count_tokens(text)))
            return list(tok.encode(text, add_special_tokens=False).ids)

        Settings.tokenizer = tokenize
        Settings.embed_model = _MiniLMForLlamaIndex(embedder)
        sizes = [2048, 512, 128]
        ids = [f"chunk_size_{s}" for s in sizes]
        parser = HierarchicalNodeParser.from_defaults(
            node_parser_ids=ids,
            node_parser_map={
                i: SentenceSplitter(chunk_size=s, chunk_overlap=20, tokenizer=tokenize)
                for i, s in zip(ids, sizes, strict=True)
            },
        )
        docs = [Document(text=text, metadata={"source": source}) for source, text in pages]
        for d in docs:
            d.excluded_embed_metadata_keys = ["source"]
            d.excluded_llm_metadata_keys = ["source"]
        nodes = parser.get_nodes_from_documents(docs)
        leaves = get_leaf_nodes(nodes)
        storage = StorageContext.from_defaults()
        storage.docstore.add_documents(nodes)
        index = VectorStoreIndex(leaves, storage_context=storage, embed_model=Settings.embed_model)
        base = index.as_retriever(similarity_top_k=top_k)
        self.retriever = AutoMergingRetriever(base, storage, verbose=False)
        self.n_leaves = len(leaves)
        self.ingest_s = time.perf_counter() - t0

    def search(self, query: str, k: int = 5) -> list[Piece]:
        nodes = self.retriever.retrieve(query)
        return [Piece(n.node.get_content(), str(n.node.metadata.get("source", ""))) for n in nodes[:k]]


def _MiniLMForLlamaIndex(embedder: Any) -> Any:
    from llama_index.core.embeddings import BaseEmbedding

    class MiniLMEmbedding(BaseEmbedding):
        """The bundled MiniLM (through the benchmark's cache) as a LlamaIndex embedding model."""

        def _get_query_embedding(self, query: str) -> list[float]:
            return [float(x) for x in embedder.embed_query(query)]

        def _get_text_embedding(self, text: str) -> list[float]:
            return [float(x) for x in embedder.embed([text])[0]]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [[float(x) for x in v] for v in embedder.embed(texts)]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return MiniLMEmbedding(model_name="all-MiniLM-L6-v2", embed_batch_size=256)


def page_texts(files: Sequence[Path]) -> list[tuple[str, str]]:
    """(source, extracted text) per page, through hragent's own loader."""
    from tools.ingest.loaders import load_file

    return [(str(f.resolve()), load_file(f).text) for f in files]
