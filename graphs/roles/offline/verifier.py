"""Offline verifier: claim-level support from embedding similarity plus lexical checks that
similarity misses (numbers, dates, negations, named entities), then the policy checklists.

Verdicts: `supported` (the evidence states it), `contradicted` (the evidence states something that
conflicts: another number or date, another named entity, the opposite polarity), `not_enough_evidence`.
"""

from __future__ import annotations

import math
import re

import numpy as np

from graphs.roles.base import Usage
from graphs.roles.offline.acceptance import FeatureReader
from graphs.roles.offline.acceptance_model import AcceptanceModel, AcceptanceModelError, load_model
from graphs.roles.offline.entry_meaning import EntryMeaning, chosen_by_meaning
from graphs.roles.offline.grounding import (
    Grounding,
    asked_terms,
    carried,
    ground,
    index_items,
    named_terms,
    terms,
)
from graphs.state import CitationDict, ClaimDict, Draft, EvidenceItem, Report
from graphs.text.answer_types import answer_type
from graphs.text.dates import MONTHS
from graphs.text.entries import parse_entry, whatis_name
from graphs.text.lexicon import DEMONYM_COUNTRY, PART_OF
from graphs.text.normalize import normalize_answer, numbers_in, title_key
from graphs.text.spans import CAP_SPAN
from graphs.text.words import NEGATIONS, SENT_INITIAL, asserted, content_terms, words
from policies.checklists import run_checklists
from policies.citations import citation_is_verbatim
from policies.injection import injection_markers
from policies.offline import OfflineThresholds
from tools.embeddings import Embedder

_MONTH_RE = re.compile(rf"\b({MONTHS})\b")
_GENERIC_CAPS = frozenset(["yes", "no", "i"])
_PRONOUN = re.compile(r"\b(he|she|it|they|his|her|its|their|him|them)\b", re.I)


def entities(text: str) -> set[str]:
    """Named entities of a sentence (capitalised spans, without sentence-initial function words)."""
    out = set()
    for m in CAP_SPAN.finditer(text):
        parts = [p for p in m.group(0).split() if p not in SENT_INITIAL]
        name = " ".join(parts).strip(".,;:'’")
        if name and not name.isdigit() and name.lower() not in _GENERIC_CAPS and not _MONTH_RE.fullmatch(name):
            out.add(name)
    return out


def _present(entity: str, evidence_norm: str, evidence_words: set[str]) -> bool:
    """An entity is in the evidence verbatim, word by word, or as the country its demonym names."""
    key = normalize_answer(entity)
    if not key:
        return True
    if f" {key} " in evidence_norm:
        return True
    ws = [w for w in key.split() if w not in {"of", "the", "and", "de", "s"}]
    if ws and all(w in evidence_words for w in ws):
        return True
    country = DEMONYM_COUNTRY.get(key) or PART_OF.get(key)
    if country and f" {country} " in evidence_norm:
        return True
    return any(DEMONYM_COUNTRY.get(w) == key for w in evidence_words)


def _numbers(text: str) -> set[float]:
    return set(numbers_in(re.sub(r"(\d),(\d{3})", r"\1\2", text)))


_SLOT_TOKEN = re.compile(rf"\d[\d,.]*\d|\d|{MONTHS}|[A-Za-z]+")


def _slots(text: str) -> list[tuple[str, str, str]]:
    """(value, previous word, next word) for every number and month name: where each value sits."""
    toks = [t.lower().replace(",", "") for t in _SLOT_TOKEN.findall(text)]
    out = []
    for i, tok in enumerate(toks):
        if tok[:1].isdigit() or tok.capitalize() in MONTHS.split("|"):
            out.append((tok, toks[i - 1] if i else "", toks[i + 1] if i + 1 < len(toks) else ""))
    return out


def slot_conflicts(claim: str, evidence: str) -> list[str]:
    """Values the evidence puts somewhere else: the claim's number or month sits between words that,
    in the evidence, hold a different value ("2–9 in Big 12" against "2–6 in Big 12")."""
    ev_slots = _slots(evidence)
    main_slots = _slots(re.sub(r"\([^)]*\)", " ", evidence))  # asides hold no slot a paraphrase keeps
    conflicts = []
    for value, prev, nxt in _slots(claim):
        same = [e for e in ev_slots if e[0] == value]
        if any(e[1] == prev or e[2] == nxt for e in same):
            continue
        rivals = [e for e in main_slots if e[0] != value and ((prev and e[1] == prev) or (nxt and e[2] == nxt))]
        if rivals:
            conflicts.append(f"{value} (evidence has {rivals[0][0]} there)")
    return conflicts


def _outside_names(text: str) -> str:
    """The text without its capitalised names (a title like "I Can't Stay Awake" negates nothing)
    and without negated conditions ("defaults to 12 if not set" asserts a default)."""
    return CAP_SPAN.sub(" ", asserted(text))


def lexical_check(
    claim: str, evidence: str, context: str = "", contradiction_at: float = 0.5, titles: str = ""
) -> tuple[str, list[str], float]:
    """(hint, reasons, coverage) from surface checks of one claim against its evidence. `context` (the
    cited sections' headings) counts for coverage and entities, not for numbers: it resolves "He …".
    `titles` (the cited pages' titles) counts for entities only: a page is about what its title names,
    so "the Acme --limit option defaults to 3" is stated by "--limit defaults to 3" on the Acme page."""
    reasons: list[str] = []
    c_terms = set(content_terms(claim))
    e_terms = set(content_terms(evidence + " " + context))
    coverage = len(c_terms & e_terms) / len(c_terms) if c_terms else 0.0
    c_nums, e_nums = _numbers(claim), _numbers(evidence) | _numbers(context)
    missing_nums = c_nums - e_nums
    if missing_nums:
        reasons.append(f"number/date {sorted(missing_nums)} not in evidence")
        if e_nums and coverage >= contradiction_at:
            return "contradicted", reasons, coverage
        return "not_enough_evidence", reasons, coverage
    c_months, e_months = set(_MONTH_RE.findall(claim)), set(_MONTH_RE.findall(evidence))
    if c_months - e_months:
        reasons.append(f"month {sorted(c_months - e_months)} not in evidence")
        return ("contradicted" if e_months else "not_enough_evidence"), reasons, coverage
    moved = slot_conflicts(claim, evidence)
    if moved:
        reasons.append(f"number/date in another place in the evidence: {moved}")
        return "contradicted", reasons, coverage
    claim_neg = len(NEGATIONS.findall(_outside_names(claim)))
    evid_neg = len(NEGATIONS.findall(_outside_names(evidence)))
    if (claim_neg > 0) != (evid_neg > 0) or (claim_neg > evid_neg):
        reasons.append("negation differs between claim and evidence")
        if coverage >= contradiction_at:
            return "contradicted", reasons, coverage
        return "not_enough_evidence", reasons, coverage
    full = evidence + " " + context + " " + titles
    ev_norm = " " + normalize_answer(full) + " "
    ev_words = set(words(normalize_answer(full)))
    missing = sorted(e for e in entities(claim) if not _present(e, ev_norm, ev_words))
    if missing:
        reasons.append(f"entities {missing} not in evidence")
        if coverage >= contradiction_at and entities(evidence):
            return "contradicted", reasons, coverage
        return "not_enough_evidence", reasons, coverage
    return "ok", reasons, coverage


def led_by_heading(claim: str, cit: CitationDict) -> bool:
    """Is the claim its quote led by one of the quote's own headings ("Ada Lovelace: Her father was …")?
    A sentence on a page is about the page's subject: the claim names it, the heading states it."""
    quote = cit["quote"].strip()
    return any(claim.strip() == f"{h.strip()}: {quote}" for h in cit.get("section", []) if h.strip())


class OfflineVerifier:
    """Scores every claim against the quotes it cites; the draft passes when all claims are supported
    and the checklists pass."""

    def __init__(self, embedder: Embedder | None = None, thresholds: OfflineThresholds | None = None) -> None:
        self.embedder = embedder
        self.t = thresholds or OfflineThresholds()
        self.features = FeatureReader(embedder)
        self.meaning = EntryMeaning(
            embedder, min_margin=self.t.entry_meaning_margin, min_entries=self.t.entry_meaning_entries
        )
        # Loaded up front: a missing or mismatched weights file fails when the agent is built, not mid-run.
        self.model: AcceptanceModel | None = (
            load_model(self.t.acceptance_weights) if self.t.acceptance != "rules" else None
        )
        if self.model is not None and not self.model.fits(embedder):
            if self.t.acceptance == "learned":
                raise AcceptanceModelError(
                    f"the acceptance weights were fitted on {self.model.embedder} similarities, the index embeds "
                    f"with {embedder.id if embedder is not None else 'no embedder'}; use acceptance='auto' or "
                    "'rules', or re-fit with that embedder"
                )
            self.model = None  # auto: the rules alone decide on vectors the model was not fitted on

    def _similarity(self, claim: str, quotes: list[str]) -> float:
        if self.embedder is None or not quotes:
            return 0.0
        vecs = self.embedder.embed([claim, *quotes])
        return float(np.max(vecs[1:] @ vecs[0]))

    def judge(self, claim: str, quotes: list[str], context: str = "", titles: str = "") -> tuple[str, float, list[str]]:
        """Verdict, confidence and reasons for one claim against its cited quotes."""
        if not quotes:
            return "not_enough_evidence", 0.0, ["claim cites nothing"]
        evidence = " ".join(quotes)
        hint, reasons, coverage = lexical_check(claim, evidence, context, self.t.contradiction_coverage, titles)
        if hint != "ok":
            return hint, round(coverage, 4), reasons
        sim = self._similarity(claim, quotes)
        if coverage >= self.t.support_coverage or (
            sim >= self.t.support_similarity and coverage >= self.t.support_min_coverage
        ):
            return "supported", round(min(1.0, 0.5 * coverage + 0.5 * max(sim, coverage)), 4), reasons
        reasons.append(f"weak support (coverage {coverage:.2f}, similarity {sim:.2f})")
        return "not_enough_evidence", round(max(coverage, sim), 4), reasons

    def verify(self, task: str, draft: Draft, evidence: dict[str, list[EvidenceItem]]) -> tuple[Report, Usage]:
        known = {s["node_id"]: s["text"] for items in evidence.values() for e in items for s in e["sentences"]}
        known.update({e["node_id"]: e["text"] for items in evidence.values() for e in items})
        claims: list[ClaimDict] = []
        for claim in draft.get("claims", []):
            cites = [c for c in claim.get("citations", []) if citation_is_verbatim(c, known)]
            factual = [c for c in cites if not injection_markers(c["quote"])]
            # Headings stand in for the subject only where a quote refers to it by pronoun ("He was born…"),
            # or where the quote sits in an API entry, whose heading names it (and declares its defaults).
            context = " ".join(
                dict.fromkeys(
                    h
                    for c in factual
                    if _PRONOUN.search(c["quote"])
                    or (c.get("section") and parse_entry(c["section"][-1]))
                    or led_by_heading(claim["text"], c)
                    for h in c.get("section", [])
                )
            )
            titles = " ".join(dict.fromkeys(c["section"][0] for c in factual if c.get("section")))
            verdict, conf, reasons = self.judge(claim["text"], [c["quote"] for c in factual], context, titles)
            if len(cites) < len(claim.get("citations", [])):
                reasons.append("dropped citations whose quote is not in the retrieved evidence")
            if len(factual) < len(cites):
                markers = sorted({m for c in cites for m in injection_markers(c["quote"])})
                reasons.append(
                    f"cited text reads as an instruction to the assistant ({', '.join(markers)}), not a statement"
                    " of fact: possible prompt injection, not counted as support"
                )
                cites = factual
            claims.append(
                ClaimDict(text=claim["text"], citations=cites, verdict=verdict, confidence=conf, reasons=reasons)
            )
        short = draft.get("short_answer", "")
        self._check_grounding(task, draft, claims, evidence)
        cited = [
            " " + normalize_answer(c["quote"] + " " + " ".join(c["section"])) + " "
            for cl in claims
            for c in cl.get("citations", [])
        ]

        def in_evidence(answer: str) -> bool:
            key = normalize_answer(answer)
            return bool(key) and any(f" {key} " in text for text in cited)

        # An enumeration is grounded when every item is; any other answer when it is quoted somewhere.
        items = draft.get("items") or []
        grounded = short.lower() in {"yes", "no"} or (all(map(in_evidence, items)) if items else in_evidence(short))
        checks = run_checklists(task, short, [dict(c) for c in claims], grounded)
        failed = [c for c in checks if not c["passed"]]
        supported = bool(claims) and all(c["verdict"] == "supported" for c in claims)
        acceptance = self._accept(task, draft, claims, evidence, supported and not failed)
        if acceptance.get("declined"):
            supported = False
        claim_conf = min((float(c.get("confidence", 0.0)) for c in claims), default=0.0)
        raw = min(float(draft.get("confidence", 0.0)), claim_conf)
        # The engine's raw scores are not probabilities; the logistic maps them to the share of passing
        # drafts that were right on the tuning questions (HotpotQA dev 0-49), so early exit means what it says.
        t = self.t
        confidence = min(0.99, 1.0 / (1.0 + math.exp(-t.calibration_slope * (raw - t.calibration_midpoint))))
        confidence = confidence if supported and not failed else 0.0
        feedback = [f"{c['id']}: {c['detail']}" for c in failed]
        feedback += [f"claim not supported: {c['text']}" for c in claims if c["verdict"] != "supported"]
        if draft.get("missing"):
            feedback.append(f"unanswered subgoals: {draft.get('missing')}")
        report = Report(
            claims=claims,
            checks=checks,
            passed=supported and not failed,
            confidence=round(confidence, 4),
            feedback=feedback,
        )
        if acceptance:
            report["acceptance"] = acceptance
        return report, Usage()

    def _accept(
        self,
        task: str,
        draft: Draft,
        claims: list[ClaimDict],
        evidence: dict[str, list[EvidenceItem]],
        passed: bool,
    ) -> dict[str, object]:
        """The acceptance features of a draft with a headline, when the model or `acceptance_features`
        asks for them (kept in the report and the trace, which is what `benchmarks/fit_acceptance.py`
        fits on) and, with `acceptance="learned"`, the model's
        P(right): a draft the rules pass but the model scores below the threshold is declined, its
        claims demoted to not_enough_evidence, so the run abstains as it does for any unsupported
        draft (outcome not_found, nearest sections)."""
        if not claims or not str(draft.get("short_answer", "")).strip():
            return {}
        if self.model is None and not self.t.acceptance_features:
            return {}  # rules only, and nobody is collecting: no MiniLM calls for features
        features = self.features.read(task, draft, claims, evidence)
        out: dict[str, object] = {"features": {k: round(v, 4) for k, v in features.items()}}
        if self.model is None:
            return out
        p = self.model.score(features)
        at = self.t.acceptance_threshold if self.t.acceptance_threshold is not None else self.model.threshold
        out.update(score=round(p, 4), threshold=at)
        if passed and p < at:
            out["declined"] = True
            for claim in claims:
                if claim.get("verdict") == "supported":
                    claim["verdict"] = "not_enough_evidence"
                    claim.setdefault("reasons", []).append(
                        f"acceptance model: P(right) {p:.2f} below the threshold {at:.2f}"
                    )
        return out

    def _check_grounding(
        self, task: str, draft: Draft, claims: list[ClaimDict], evidence: dict[str, list[EvidenceItem]]
    ) -> None:
        """Demote a supported claim whose answer-naming window does not state what was asked
        (`grounding`): the answer and the question's terms must meet in one entry, not only across
        the union of everything the claim cites.

        What each claim is asked: a single claim, or an enumeration item, the task; a step of a
        chain its own statement, less what earlier steps state (the bridge entity a step was filled
        with is checked where it was found). A comparison's quoted sentences are not checked: their
        answer is one of the options the question itself names."""
        short = draft.get("short_answer", "").strip()
        items = draft.get("items") or []
        if (not short and not items) or short.lower() in {"yes", "no"}:
            return
        answers = [short, *items, *re.split(r"\s+and\s+|\s*,\s*", short)]
        by_node = index_items(evidence)
        single = len(claims) == 1
        stated: set[str] = set()  # terms earlier steps of a chain state
        for i, claim in enumerate(claims):
            earlier, stated = stated, stated | terms(claim["text"])
            if claim.get("verdict") != "supported":
                continue
            # An enumeration names item i in claim i (the sentence that names it); other drafts name
            # their answer in the claim's text.
            answer = items[i] if items and i < len(items) else carried(answers, claim["text"])
            if not answer:
                continue  # an intermediate claim (a bridge's first hop): its answer is not the headline
            quoted = any(c["quote"].strip() == claim["text"].strip() for c in claim.get("citations", []))
            if quoted and not items:
                continue  # a comparison's sentence about one of the question's own options
            if single or items:
                asked = asked_terms(task)
            else:
                asked = asked_terms(claim["text"]) - earlier
            g = ground(asked, answer, claim, by_node, question=task)
            if g.share >= self.t.support_grounding and not (self.t.grounding_names and g.missing_names):
                continue
            if self._grounded_in_other_words(task, answer, claim, g):
                continue
            if self.t.entry_meaning and chosen_by_meaning(self.meaning, task, answer, evidence):
                continue
            if not single and not items and self._chain_grounded(task, answer, asked, claim, claims[:i], by_node):
                continue
            claim["verdict"] = "not_enough_evidence"
            claim["confidence"] = round(min(float(claim.get("confidence", 0.0)), g.share), 4)
            if not g.anchored:
                where = "no cited sentence names it"
            elif g.sibling:
                where = f"its entry is about {g.sibling}, not what the question names"
            elif self.t.grounding_names and g.missing_names:
                where = f"the entry does not name {', '.join(g.missing_names[:4])}, which the question names"
            else:
                where = f"missing {', '.join(g.missing[:6])}"
            claim.setdefault("reasons", []).append(
                f"the text naming {answer!r} does not state what was asked (grounding {g.share:.2f}; {where})"
            )

    def _grounded_in_other_words(self, task: str, answer: str, claim: ClaimDict, g: Grounding) -> bool:
        """A how-to question in plain words ("how do I show a bar while it works?") shares few words
        with the entry that answers it, so term grounding cannot hold; there the entry's own words
        must mean what was asked: its heading path and cited sentence as similar to the question as
        a supporting quote is to its claim (`support_similarity`). Only for an answer that is the
        cited entry's name (its heading or manual-page NAME line), only when the question names
        nothing the entry lacks."""
        if not self.t.grounding_semantic or not g.anchored or g.sibling or g.missing_names:
            return False
        if answer_type(task).kind != "text":
            return False
        windows = [
            f"{' > '.join(c['section'])}: {c['quote']}"
            for c in claim.get("citations", [])
            if _names_its_entry(answer, c["section"], c["quote"])
        ]
        return bool(windows) and self._similarity(task, windows) >= self.t.support_similarity

    def _chain_grounded(
        self,
        task: str,
        answer: str,
        asked: set[str],
        claim: ClaimDict,
        earlier: list[ClaimDict],
        by_node: dict[str, EvidenceItem],
    ) -> bool:
        """A bridge step read off the page of the entity an earlier, grounded step found.

        "What position was held by the actress who played X?" becomes step 1 (the actress: page A)
        and step 2 (her position: page B). Step 2's relation words ("held") are the question's
        paraphrase, seldom the page's own ("served as"); what ties its answer to the question is the
        entity chain: the answer sits on the page *about* the entity step 1 named, and step 1 is
        itself grounded on its page. Then step 2 needs only the names it asks about in its window.
        With page A missing, step 1 names another entity or is not grounded; with page B missing, no
        page is about the entity: either way the chain breaks and the usual rule applies."""
        for cit in claim.get("citations", []):
            item = by_node.get(cit["node_id"])
            if item is None or f" {normalize_answer(answer)} " not in f" {normalize_answer(cit['quote'])} ":
                continue
            subject = title_key(item["title"])
            if not subject or f" {subject} " not in f" {title_key(claim['text'])} ":
                continue  # the answer's page is not about an entity this step names
            for step in earlier:
                if step.get("verdict") != "supported" or f" {subject} " not in f" {title_key(step['text'])} ":
                    continue
                if any(by_node.get(c["node_id"], item)["doc_id"] == item["doc_id"] for c in step.get("citations", [])):
                    continue  # step 1 must rest on another page: a chain, not one page read twice
                found = ground(asked_terms(step["text"]), item["title"], step, by_node, question=task)
                if found.share < self.t.support_grounding:
                    continue
                names = asked & named_terms(claim["text"])
                if ground(names, answer, claim, by_node, question=task).share >= self.t.support_grounding:
                    return True
        return False


def _names_its_entry(answer: str, section: list[str], quote: str) -> bool:
    """Is `answer` the name of the entry a citation comes from (its heading), or the command of the
    manual page whose NAME line it quotes?"""
    entry = parse_entry(section[-1]) if section else None
    if entry is not None and answer in {entry.name, entry.short, *entry.aliases}:
        return True
    return whatis_name(section, quote) == answer


def claim_texts(report: Report) -> list[str]:
    return [c["text"] for c in report.get("claims", [])]
