"""Why the ceiling check misses, question by question (#18; dev split only).

    python -m benchmarks.ceiling_causes                 # every dev question the oracle misses
    python -m benchmarks.ceiling_causes --kinds enumeration,plain

Runs each dev question through the graph's LLM path against the oracle reader
(`benchmarks.oracle_reader`: it knows the answer but may only answer with a span it finds in the
sentences shown), then, for every answer part the run's `short_answer` lacks, finds the stage where
it was lost, first stage that still holds it wins:

- `shown, lost by the graph`: some prompt showed a sentence holding it (reader, drafter or verifier
  saw it), yet the answer lacks it;
- `retrieved, not shown`: a retrieved hit's text holds it but no sentence shown does (the sentence
  cap, a sentence split, a heading or table row not shown);
- `entry cut`: the entry (nearest section) of a retrieved hit holds it, the hit's text does not;
- `not retrieved`: a gold page holds it, no retrieved entry does;
- `not on the gold pages`: no variant is in the gold pages' leaves (the answer key's form).

Per-question lines print question ids, kinds and causes only, for the dev split only: val and test
questions are never read this way (`--split` is not an option).
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Sequence
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.hotpot import write_results
from benchmarks.oracle_reader import OracleReader
from benchmarks.structdocs_corpus import Question, default_manuals, load_questions, page_of
from benchmarks.structdocs_index import build_index, make_embedder
from benchmarks.structdocs_metrics import contains
from tests.support.llm_responder import _EVIDENCE, _user
from tests.support.stub_openai import StubOpenAI
from tools.ingest.tree import doc_id_for

CAUSES = (
    "shown, lost by the graph",
    "retrieved, not shown",
    "entry cut",
    "not retrieved",
    "not on the gold pages",
)


class RecordingOracle(OracleReader):
    """The oracle, keeping every evidence sentence any prompt of the current question showed."""

    def __init__(self, answers: Any) -> None:
        super().__init__(answers)
        self.shown: list[str] = []

    def arguments(self, body: dict[str, Any]) -> dict[str, Any]:
        self.shown.extend(text for _, text in _EVIDENCE.findall(_user(body)))
        return super().arguments(body)


def _lost_at(variants: Sequence[str], shown: list[str], hits: list[str], entries: list[str], page: list[str]) -> str:
    for cause, texts in zip(CAUSES, (shown, hits, entries, page), strict=False):
        if any(contains(variants, t) for t in texts):
            return cause
    return CAUSES[-1]


def diagnose(agent: Any, oracle: RecordingOracle, q: Question, sources: list[str]) -> dict[str, Any]:
    oracle.shown = []
    tid = f"ceiling-{q.id}"
    result = agent.run(q.question, thread_id=tid)
    state = dict(agent.graph.get_state({"configurable": {"thread_id": tid}}).values)
    items = [e for evs in (state.get("evidence") or {}).values() for e in evs]
    hits = [e["text"] for e in items] + [s["text"] for e in items for s in e["sentences"]]
    index = agent.index
    nodes = index.get([e["node_id"] for e in items], frozenset())
    sections = index.get([n.section_id for n in nodes.values() if n.section_id], frozenset())
    entries = [s.text for s in sections.values()]
    gold_docs = [doc_id_for(s) for s in sources if page_of(s) in q.gold_pages]
    page = [leaf.text for d in gold_docs for leaf in index.document_leaves(d, frozenset())]
    missing = [p for p in q.answers if not contains(p, result.short_answer)]
    causes = [_lost_at(p, oracle.shown, hits, entries, page) for p in missing]
    return {
        "id": q.id,
        "kind": q.kind,
        "parts": len(q.answers),
        "missing": len(missing),
        "causes": causes,
        "shown_sentences": len(dict.fromkeys(oracle.shown)),
        "hits": len(items),
        "outcome": result.outcome,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", help="comma list of question kinds")
    parser.add_argument("--ids", help="comma list of question ids")
    parser.add_argument("--out", default="ceiling_causes_dev")
    args = parser.parse_args(argv)
    manuals = default_manuals("dev")
    questions = [q for q in load_questions(split="dev") if q.manual in manuals and q.answerable]
    if args.kinds:
        questions = [q for q in questions if q.kind in args.kinds.split(",")]
    if args.ids:
        questions = [q for q in questions if q.id in args.ids.split(",")]
    oracle = RecordingOracle({q.question: q.answers for q in questions})
    with StubOpenAI(oracle) as stub:
        llm = {"backend": "openai", "base_url": stub.base_url, "api_key": "stub", "max_retries": 0}
        agent, _ = build_index(manuals, make_embedder(), settings={"llm": llm, "checkpointer": "memory"})
        sources = agent.index.sources()
        rows = [diagnose(agent, oracle, q, sources) for q in questions]
        agent.close()
    missed = [r for r in rows if r["missing"]]
    for r in missed:
        print(f"{r['id']:10} {r['kind']:13} {r['missing']}/{r['parts']} missing: {'; '.join(r['causes'])}")
    tally = Counter(c for r in missed for c in r["causes"])
    print(f"\n{len(missed)} of {len(rows)} answerable dev questions miss a part; parts lost at:")
    for cause in CAUSES:
        print(f"  {cause:24} {tally.get(cause, 0)}")
    path = write_results(args.out, {"split": "dev", "questions": len(rows), "tally": dict(tally), "rows": rows})
    print(f"\nwrote {path}")
    print(json.dumps(dict(tally)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
