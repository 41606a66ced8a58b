"""What the learned acceptance signal reads of a draft: features that say whether its answer is right,
not what a manual says.

The rules (coverage, similarity, question grounding) pass a draft when its cited text states the
answer and the question's terms; they cannot tell a right answer from a neighbouring entry's that
repeats the question's words. These features describe *how* the draft is grounded — how high the
cited entry ranked, how much of the question the entry states, how close the question is in meaning
to the cited sentence and heading path, whether the answer is the entry's name or a signature value,
how many pages agree, and how "in-corpus" the question is at all (its best evidence's similarity) —
so a small model fitted on right and wrong drafts (`benchmarks/fit_acceptance.py`) can score them.
Every feature is a number computed from the draft, its citations and the evidence; none depends on
a word of any corpus.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from graphs.roles.offline.grounding import asked_terms, carried, ground, index_items, named_terms, terms
from graphs.state import CitationDict, ClaimDict, Draft, EvidenceItem
from graphs.text.answer_types import answer_type
from graphs.text.entries import parse_entry, whatis_name
from graphs.text.normalize import normalize_answer
from tools.embeddings import Embedder

TECHNICAL_TYPES = frozenset({"identifier", "exception", "option", "command", "version", "value"})
_CODE_SHAPE = re.compile(r"[._()=/\\<>\[\]-]|^[a-z]+[A-Z]|^[A-Z_]{3,}$")

# Every feature `FeatureReader.read` computes (fitting keeps them all, so a feature set can be
# compared on the saved drafts without re-running the agent).
ALL_FEATURES: tuple[str, ...] = (
    "draft_confidence",
    "claim_confidence",
    "claims",
    "grounding",
    "entry_term_share",
    "missing_names",
    "sim_question_sentence",
    "sim_question_heading",
    "sim_best_evidence",
    "sim_gap",
    "answer_is_entry_name",
    "answer_in_signature",
    "answer_in_heading",
    "cited_rank",
    "cited_score_ratio",
    "pages_naming_answer",
    "cited_pages",
    "answer_words",
    "answer_code_shaped",
    "technical_question",
    "yes_no",
    "query_rank",
    "query_score_ratio",
    "pages_agree",
    "chain",
    "sim_question_chain",
    "sim_gap_chain",
)

# The features the model reads, in the weights file's order: a model fitted on other features is
# refused (`AcceptanceModel`). Computed but not read, as they shift with the corpus's size or
# shape: the cited entry's rank and score ratio among *all* evidence (a small corpus puts every
# page in the pool; scores of different hops' queries are not comparable), the count of pages
# naming the answer (a ten-page corpus has few to name it), the count of pages cited (a chain over
# a company's few long pages cites more of them than one over one-paragraph Wikipedia pages) and
# the best evidence's similarity less the cited *sentence's* (a bridge's last step alone says
# little of the question). Their per-query, "two or more pages" and whole-chain forms replace them.
SIZE_BOUND: frozenset[str] = frozenset(
    {"cited_rank", "cited_score_ratio", "pages_naming_answer", "cited_pages", "sim_gap"}
)
FEATURES: tuple[str, ...] = tuple(f for f in ALL_FEATURES if f not in SIZE_BOUND)

_TOP_EVIDENCE = 5  # items whose similarity to the question says how in-corpus it is


def _heading_path(item: EvidenceItem | None, cit: CitationDict) -> str:
    parts = ([item["title"]] if item is not None and item["title"] else []) + list(cit.get("section") or [])
    return " > ".join(dict.fromkeys(p for p in parts if p))


def _item_path(item: EvidenceItem) -> str:
    return " > ".join(dict.fromkeys(p for p in [item["title"], *item["section"]] if p))


def _names_entry(answer: str, section: Sequence[str], quote: str) -> bool:
    entry = parse_entry(section[-1]) if section else None
    if entry is not None and answer in {entry.name, entry.short, *entry.aliases}:
        return True
    return whatis_name(list(section), quote) == answer


def _answer_claim(short: str, claims: Sequence[ClaimDict]) -> ClaimDict | None:
    """The claim whose text names the headline (else the first claim)."""
    answers = [short, *re.split(r"\s+and\s+|\s*,\s*", short)]
    for claim in claims:
        if carried(answers, claim["text"]):
            return claim
    return claims[0] if claims else None


def _query_standing(item: EvidenceItem | None, evidence: Mapping[str, Sequence[EvidenceItem]]) -> tuple[float, float]:
    """The cited item's rank (as 1 / (1 + rank)) and score ratio to the best among the items the same
    retrieval query returned: comparable across corpora of any size and across a chain's hops."""
    if item is None:
        return 0.0, 0.0
    same: dict[str, float] = {}
    for items in evidence.values():
        for e in items:
            if e["query"] == item["query"]:
                same[e["node_id"]] = max(same.get(e["node_id"], float("-inf")), float(e["score"]))
    if not same:
        return 0.0, 0.0
    mine = same.get(item["node_id"], float(item["score"]))
    rank = sum(1 for s in same.values() if s > mine)
    top = max(same.values())
    return 1.0 / (1.0 + rank), (mine / top if top > 0 else 0.0)


def _ranked(evidence: Mapping[str, Sequence[EvidenceItem]]) -> list[EvidenceItem]:
    """All evidence items, best score first, each node once."""
    seen: dict[str, EvidenceItem] = {}
    for items in evidence.values():
        for item in items:
            old = seen.get(item["node_id"])
            if old is None or float(item["score"]) > float(old["score"]):
                seen[item["node_id"]] = item
    return sorted(seen.values(), key=lambda e: float(e["score"]), reverse=True)


class FeatureReader:
    """Computes `FEATURES` for one verified draft (the embedder gives the dense similarities; without
    one they are 0)."""

    def __init__(self, embedder: Embedder | None) -> None:
        self.embedder = embedder

    def _sims(self, question: str, texts: Sequence[str]) -> list[float]:
        if self.embedder is None or not texts:
            return [0.0] * len(texts)
        vecs = self.embedder.embed([question, *texts])
        return [float(v) for v in vecs[1:] @ vecs[0]]

    def read(
        self, task: str, draft: Draft, claims: Sequence[ClaimDict], evidence: Mapping[str, Sequence[EvidenceItem]]
    ) -> dict[str, float]:
        short = str(draft.get("short_answer", "")).strip()
        by_node = index_items(evidence)
        ranked = _ranked(evidence)
        rank_of = {e["node_id"]: i for i, e in enumerate(ranked)}
        top_score = float(ranked[0]["score"]) if ranked else 0.0
        claim = _answer_claim(short, claims)
        cites = list(claim.get("citations", [])) if claim else []
        key = f" {normalize_answer(short)} " if short else ""
        naming = [c for c in cites if key and key in f" {normalize_answer(c['quote'] + ' ' + ' '.join(c['section']))} "]
        anchor = naming[0] if naming else (cites[0] if cites else None)
        item = by_node.get(anchor["node_id"]) if anchor else None

        asked = asked_terms(task) - terms(short)
        if item is not None and anchor is not None:
            window = terms(" ".join([anchor["quote"], item["text"], item["title"], *item["section"]]))
        else:
            window = set()
        entry_share = len(asked & window) / len(asked) if asked else 1.0
        grounding = ground(asked_terms(task), short, claim, by_node, question=task) if claim and short else None
        names = named_terms(task) - terms(short)

        texts = []
        if anchor is not None:
            texts += [anchor["quote"], _heading_path(item, anchor)]
        # The chain's sentences together (every claim's first quote): a bridge's last step alone
        # says little of the question; the steps it rests on say the rest.
        chain_text = " ".join(cl["citations"][0]["quote"] for cl in claims if cl.get("citations"))
        texts.append(chain_text)
        top = [f"{_item_path(e)}: {e['text'][:300]}" for e in ranked[:_TOP_EVIDENCE]]
        sims = self._sims(task, texts + top)
        sim_sentence, sim_heading = (sims[0], sims[1]) if anchor is not None else (0.0, 0.0)
        sim_chain = sims[len(texts) - 1] if chain_text else 0.0
        sim_best = max(sims[len(texts) :], default=0.0)

        signature = False
        in_heading = False
        if short and anchor is not None:
            notation = re.compile(rf"\w\s*=\s*['\"]?{re.escape(short)}(?![\w.])")
            heads = " ".join(anchor["section"])
            signature = bool(notation.search(anchor["quote"] + " " + heads))
            in_heading = key in f" {normalize_answer(heads)} "
        pages = {e["doc_id"] for e in ranked if key and key in f" {normalize_answer(e['text'])} "}
        cited_docs = {
            by_node[c["node_id"]]["doc_id"] for cl in claims for c in cl.get("citations", []) if c["node_id"] in by_node
        }
        rank = rank_of.get(item["node_id"], len(ranked)) if item is not None else len(ranked)
        cited_score = float(item["score"]) if item is not None else 0.0
        missing = len(names - window) if item is not None else len(names)
        query_rank, query_ratio = _query_standing(item, evidence)
        confidences = [float(c.get("confidence", 0.0)) for c in claims]
        return {
            "draft_confidence": float(draft.get("confidence", 0.0)),
            "claim_confidence": min(confidences, default=0.0),
            "claims": float(len(claims)),
            "grounding": grounding.share if grounding is not None else 0.0,
            "entry_term_share": entry_share,
            "missing_names": float(missing),
            "sim_question_sentence": sim_sentence,
            "sim_question_heading": sim_heading,
            "sim_best_evidence": sim_best,
            "sim_gap": sim_best - max(sim_sentence, sim_heading),
            "answer_is_entry_name": float(
                bool(anchor and short and _names_entry(short, anchor["section"], anchor["quote"]))
            ),
            "answer_in_signature": float(signature),
            "answer_in_heading": float(in_heading),
            "cited_rank": 1.0 / (1.0 + rank),
            "cited_score_ratio": cited_score / top_score if top_score > 0 else 0.0,
            "pages_naming_answer": math.log1p(len(pages)),
            "cited_pages": float(len(cited_docs)),
            "answer_words": math.log1p(len(short.split())),
            "answer_code_shaped": float(bool(_CODE_SHAPE.search(short))),
            "technical_question": float(answer_type(task).kind in TECHNICAL_TYPES),
            "yes_no": float(short.lower() in {"yes", "no"}),
            "query_rank": query_rank,
            "query_score_ratio": query_ratio,
            "pages_agree": float(len(pages) >= 2),
            "chain": float(len(claims) > 1),
            "sim_question_chain": sim_chain,
            "sim_gap_chain": sim_best - sim_chain,
        }


def as_vector(features: Mapping[str, float]) -> np.ndarray:
    """The features in `FEATURES` order."""
    return np.array([float(features[name]) for name in FEATURES], dtype=np.float64)
