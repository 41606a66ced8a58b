"""Offline verifier: claim-level support from embedding similarity plus lexical checks that
similarity misses (numbers, dates, negations, named entities), then the policy checklists."""

from __future__ import annotations

import numpy as np

from graphs.roles.base import Usage
from graphs.roles.offline.text import (
    CAP_SPAN,
    NEGATIONS,
    SENT_INITIAL,
    YEAR_RE,
    content_terms,
    normalize_answer,
    numbers_in,
)
from graphs.state import ClaimDict, Draft, EvidenceItem, Report
from policies.checklists import run_checklists
from policies.citations import citation_is_verbatim
from policies.injection import injection_markers
from tools.embeddings import Embedder


def _entities(text: str) -> set[str]:
    out = set()
    for m in CAP_SPAN.finditer(text):
        parts = [p for p in m.group(0).split() if p not in SENT_INITIAL]
        if parts:
            out.add(" ".join(parts).lower().rstrip(".,"))
    return out


def lexical_support(claim: str, evidence: str) -> tuple[str, list[str], float]:
    """(verdict hint, reasons, lexical coverage) from surface checks between one claim and its evidence."""
    reasons: list[str] = []
    c_terms, e_terms = set(content_terms(claim)), set(content_terms(evidence))
    coverage = len(c_terms & e_terms) / len(c_terms) if c_terms else 0.0
    c_nums = {n for n in numbers_in(claim)}
    e_nums = {n for n in numbers_in(evidence)}
    if c_nums - e_nums:
        missing = sorted(c_nums - e_nums)
        reasons.append(f"number/date {missing} not in evidence")
        c_years = {int(y) for y in YEAR_RE.findall(claim)}
        e_years = {int(y) for y in YEAR_RE.findall(evidence)}
        if (c_years and e_years and not c_years & e_years) or (e_nums and coverage >= 0.5):
            return "contradicted", reasons, coverage
    claim_neg = bool(NEGATIONS.search(claim))
    evid_neg = bool(NEGATIONS.search(evidence))
    if claim_neg != evid_neg and coverage >= 0.6:
        reasons.append("negation differs between claim and evidence")
        return "contradicted", reasons, coverage
    ents = _entities(claim)
    evid_lower = evidence.lower()
    missing_ents = [e for e in ents if e not in evid_lower and not all(w in evid_lower for w in e.split())]
    if missing_ents:
        reasons.append(f"entities {missing_ents} not in evidence")
        return ("contradicted" if coverage >= 0.6 else "not_enough_evidence"), reasons, coverage
    return "ok", reasons, coverage


class OfflineVerifier:
    """Scores every claim against the quotes it cites; the draft passes when all claims are supported
    and the checklists pass."""

    def __init__(self, embedder: Embedder | None = None, support_threshold: float = 0.62) -> None:
        self.embedder = embedder
        self.support_threshold = support_threshold

    def _similarity(self, claim: str, quotes: list[str]) -> float:
        if self.embedder is None or not quotes:
            return 0.0
        vecs = self.embedder.embed([claim, *quotes])
        return float(np.max(vecs[1:] @ vecs[0]))

    def judge(self, claim: str, quotes: list[str]) -> tuple[str, float, list[str]]:
        """Verdict, confidence and reasons for one claim against its cited quotes."""
        if not quotes:
            return "not_enough_evidence", 0.0, ["claim cites nothing"]
        evidence = " ".join(quotes)
        hint, reasons, coverage = lexical_support(claim, evidence)
        if hint == "contradicted":
            return "contradicted", round(max(coverage, 0.5), 4), reasons
        sim = self._similarity(claim, quotes)
        score = max(coverage, sim) if self.embedder is not None else coverage
        if hint == "ok" and (coverage >= 0.8 or score >= self.support_threshold):
            return "supported", round(min(1.0, 0.5 * coverage + 0.5 * max(sim, coverage)), 4), reasons
        reasons.append(f"weak support (coverage {coverage:.2f}, similarity {sim:.2f})")
        return "not_enough_evidence", round(score, 4), reasons

    def verify(self, task: str, draft: Draft, evidence: dict[str, list[EvidenceItem]]) -> tuple[Report, Usage]:
        known = {s["node_id"]: s["text"] for items in evidence.values() for e in items for s in e["sentences"]}
        known.update({e["node_id"]: e["text"] for items in evidence.values() for e in items})
        claims: list[ClaimDict] = []
        for claim in draft.get("claims", []):
            cites = [c for c in claim.get("citations", []) if citation_is_verbatim(c, known)]
            factual = [c for c in cites if not injection_markers(c["quote"])]
            verdict, conf, reasons = self.judge(claim["text"], [c["quote"] for c in factual])
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
        grounded = short.lower() in {"yes", "no"} or any(
            normalize_answer(short) and normalize_answer(short) in normalize_answer(c["quote"])
            for cl in claims
            for c in cl.get("citations", [])
        )
        checks = run_checklists(task, short, [dict(c) for c in claims], grounded)
        failed = [c for c in checks if not c["passed"]]
        supported = bool(claims) and all(c["verdict"] == "supported" for c in claims)
        confidence = float(draft.get("confidence", 0.0)) if supported and not failed else 0.0
        feedback = [f"{c['id']}: {c['detail']}" for c in failed]
        feedback += [f"claim not supported: {c['text'][:80]}" for c in claims if c["verdict"] != "supported"]
        if draft.get("missing"):
            feedback.append(f"unanswered subgoals: {draft.get('missing')}")
        report = Report(
            claims=claims,
            checks=checks,
            passed=supported and not failed,
            confidence=round(confidence, 4),
            feedback=feedback,
        )
        return report, Usage()


def claim_texts(report: Report) -> list[str]:
    return [c["text"] for c in report.get("claims", [])]
