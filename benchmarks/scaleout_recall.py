"""Recall parity of the two index backends on pooled HotpotQA dev-100 with MiniLM (`benchmarks.scaleout
--recall`): the same 991 paragraphs ingested into the embedded index and into PostgreSQL, leaves only
(as `benchmarks.retrieval --leaf-only`), vectors through the benchmark embeddings cache (texts the cache
holds are not re-embedded, and both backends get identical vectors); then the leaf-only strategies on
the 100 questions against each, R@2/R@5/R@10 as `benchmarks.retrieval` scores them, and how often the
two backends return the same top-10 paragraphs."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from agent.settings import Settings
from benchmarks.embed_cache import CachingEmbedder
from benchmarks.hotpot import (
    corpus_key,
    gold_sentences,
    gold_titles,
    load_questions,
    materialise,
    pooled_corpus,
    title_of_hit,
)
from benchmarks.retrieval import INDEX_CONFIG, KS, LEAF_ONLY_STRATEGIES, Query, Scores, distinct_titles, score_hits
from tools.embeddings import make_embedder
from tools.index import HierarchicalIndex, IndexConfig
from tools.ingest.pipeline import ingest_paths
from tools.retrieval import retrieve
from tools.store.open import open_store


def recall_parity(dsn: str, strategies: tuple[str, ...] = LEAF_ONLY_STRATEGIES) -> dict[str, Any]:
    records = load_questions()
    corpus = pooled_corpus(records)
    folder = materialise(corpus, f"pooled-{corpus_key(corpus, INDEX_CONFIG)}")
    queries = [Query(i, r["question"], gold_titles(r), gold_sentences(r)) for i, r in enumerate(records)]
    embedder = CachingEmbedder(make_embedder("minilm"))
    retrieval = Settings(checkpointer="none", llm={"backend": "offline"}).retrieval  # type: ignore[arg-type]
    work = Path(tempfile.mkdtemp(prefix="hrrecall"))
    schema = f"recall_{uuid.uuid4().hex[:8]}"
    indexes = {
        backend: HierarchicalIndex(
            work / backend,
            embedder,
            store=open_store(backend, dsn, schema),
            config=IndexConfig(embed_sentences=False, embed_sections=False),
        )
        for backend in ("embedded", "postgres")
    }
    out: dict[str, Any] = {"paragraphs": len(corpus), "questions": len(queries), "strategies": {}}
    for backend, index in indexes.items():
        before = embedder.encoded
        ingest_paths(index, [folder])
        out[f"{backend}_texts_encoded"] = embedder.encoded - before
        out[f"{backend}_check_ok"] = index.check().ok
    for name in strategies:
        scores = {b: Scores(name) for b in indexes}
        same_top10 = 0
        for q in queries:
            tops: dict[str, list[str]] = {}
            for backend, index in indexes.items():
                for k in KS:
                    hits = retrieve(
                        index,
                        q.question,
                        k,
                        strategy=name,
                        budget_tokens=retrieval.budget_tokens,
                        budget_chars=retrieval.budget_chars,
                    )
                    titles = [title_of_hit(h) for h in hits]
                    score_hits(scores[backend], q, k, titles, [h.text for h in hits], 0)
                    if k == 10:
                        tops[backend] = distinct_titles(titles, 10)
            same_top10 += tops["embedded"] == tops["postgres"]
        row: dict[str, Any] = {"same_top10": same_top10 / len(queries)}
        for backend, sc in scores.items():
            summary = sc.summary()
            for k in KS:
                row[f"{backend}_R@{k}"] = summary[f"R@{k}"]
        out["strategies"][name] = row
        print(f"  recall {name}: {row}", flush=True)
    for index in indexes.values():
        index.close()
    from tools.store.postgres import PostgresStore

    PostgresStore(dsn, schema).drop_schema()
    shutil.rmtree(work, ignore_errors=True)
    return out
