"""LLM verifier: the model judges each claim against the sentences it cites (`VerdictsOutput`);
the deterministic parts stay deterministic — citations must quote retrieved text verbatim, a
citation that reads like instructions (`policies.injection`, the same rule the offline verifier
applies) never counts, and the policy checklists decide whether the draft passes."""

from __future__ import annotations

from graphs.roles.base import Usage, Verifier
from graphs.roles.llm.client import Meter, StructuredLLM
from graphs.roles.llm.evidence import clean, data_block, new_nonce
from graphs.roles.llm.guard import LLMRole, OnFailure
from graphs.roles.llm.prompts import VERIFIER_SYSTEM, VERIFIER_USER
from graphs.roles.llm.schemas import VerdictsOutput
from graphs.state import CitationDict, ClaimDict, Draft, EvidenceItem, Report
from graphs.text.normalize import normalize_answer
from policies.checklists import run_checklists
from policies.citations import citation_is_verbatim
from policies.injection import looks_injected


def known_texts(evidence: dict[str, list[EvidenceItem]]) -> dict[str, str]:
    known = {s["node_id"]: s["text"] for items in evidence.values() for e in items for s in e["sentences"]}
    known.update({e["node_id"]: e["text"] for items in evidence.values() for e in items})
    return known


def assemble_report(task: str, draft: Draft, claims: list[ClaimDict]) -> Report:
    """Checklists, grounding and feedback over judged claims (the same rules as the offline verifier)."""
    short = draft.get("short_answer", "")
    grounded = short.lower() in {"yes", "no"} or any(
        normalize_answer(short) and normalize_answer(short) in normalize_answer(c["quote"])
        for cl in claims
        for c in cl.get("citations", [])
    )
    checks = run_checklists(task, short, [dict(c) for c in claims], grounded)
    failed = [c for c in checks if not c["passed"]]
    supported = bool(claims) and all(c.get("verdict") == "supported" for c in claims)
    judged = min([float(c.get("confidence", 0.0)) for c in claims] or [0.0])
    confidence = min(float(draft.get("confidence", 0.0)), judged) if supported and not failed else 0.0
    feedback = [f"{c['id']}: {c['detail']}" for c in failed]
    feedback += [
        f"claim not supported: {c['text'][:80]} ({'; '.join(c.get('reasons', []))[:120]})"
        for c in claims
        if c.get("verdict") != "supported"
    ]
    if draft.get("missing"):
        feedback.append(f"unanswered subgoals: {draft.get('missing')}")
    return Report(
        claims=claims,
        checks=checks,
        passed=supported and not failed,
        confidence=round(confidence, 4),
        feedback=feedback,
    )


class LLMVerifier(LLMRole):
    role = "verifier"

    def __init__(self, llm: StructuredLLM, fallback: Verifier, *, on_failure: OnFailure = "auto") -> None:
        super().__init__(llm, on_failure=on_failure)
        self.fallback = fallback

    def verify(self, task: str, draft: Draft, evidence: dict[str, list[EvidenceItem]]) -> tuple[Report, Usage]:
        return self._guarded(
            lambda meter: self._verify(meter, task, draft, evidence),
            lambda: self.fallback.verify(task, draft, evidence),
        )

    def _verify(self, meter: Meter, task: str, draft: Draft, evidence: dict[str, list[EvidenceItem]]) -> Report:
        known = known_texts(evidence)
        cited: list[tuple[ClaimDict, list[CitationDict], int]] = []
        for claim in draft.get("claims", []):
            verbatim = [c for c in claim.get("citations", []) if citation_is_verbatim(c, known)]
            cites = [c for c in verbatim if not looks_injected(c["quote"])]
            cited.append((claim, cites, len(verbatim) - len(cites)))
        to_judge = [i for i, (_, cites, _flagged) in enumerate(cited) if cites]
        verdicts = {}
        if to_judge:
            nonce = new_nonce()
            lines = []
            for n, i in enumerate(to_judge, start=1):
                claim, cites, _flagged = cited[i]
                lines.append(f"claim {n}: {clean(claim['text'], 500)}")
                lines.extend(f"  cites: {clean(c['quote'], self.limits.sentence_chars)}" for c in cites)
            user = VERIFIER_USER.format(
                task=task,
                short_answer=data_block("answer", [clean(draft.get("short_answer", ""), 300)], nonce),
                claims=data_block("claims", lines, nonce),
            )
            out = self.llm.call(
                VerdictsOutput,
                VERIFIER_SYSTEM.format(),
                user,
                meter=meter,
                context={"claims": len(to_judge)},
                role="verifier",
            )
            verdicts = {to_judge[v.claim - 1]: v for v in out.verdicts}
        claims: list[ClaimDict] = []
        for i, (claim, cites, flagged) in enumerate(cited):
            reasons: list[str] = []
            if i in verdicts:
                v = verdicts[i]
                verdict, conf = v.verdict, round(v.confidence, 4)
                if v.reason:
                    reasons.append(v.reason)
            else:
                verdict, conf = "not_enough_evidence", 0.0
                reasons.append("claim cites nothing")
            if flagged:
                reasons.append("dropped citations that read like instructions to the model")
            if len(cites) + flagged < len(claim.get("citations", [])):
                reasons.append("dropped citations whose quote is not in the retrieved evidence")
            claims.append(
                ClaimDict(text=claim["text"], citations=cites, verdict=verdict, confidence=conf, reasons=reasons)
            )
        return assemble_report(task, draft, claims)
