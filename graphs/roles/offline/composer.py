"""Offline composer: a short answer plus one to three justification sentences, each carrying its
numbered citation. Unsupported claims never enter the answer text; they stay flagged in `claims`."""

from __future__ import annotations

from typing import Any

from graphs.roles.base import Usage
from graphs.state import CitationDict, ClaimDict, Draft, Report
from policies.citations import neutralize_markers, number_citations

MAX_JUSTIFICATION = 3


class OfflineComposer:
    def compose(self, task: str, draft: Draft, report: Report, halt_reason: str) -> tuple[dict[str, Any], Usage]:
        claims: list[ClaimDict] = list(report.get("claims", []))
        supported = [c for c in claims if c.get("verdict") == "supported"][:MAX_JUSTIFICATION]
        citations: list[CitationDict] = [cit for c in supported for cit in c.get("citations", [])]
        numbers = number_citations([dict(c) for c in citations])
        unique: dict[str, CitationDict] = {}
        for cit in citations:
            unique.setdefault(cit["node_id"] or cit["quote"], cit)
        short = draft.get("short_answer", "").strip()

        def marks(claim: ClaimDict) -> str:
            nums = sorted({numbers[c["node_id"] or c["quote"]] for c in claim.get("citations", [])})
            return "".join(f"[{n}]" for n in nums)

        lines: list[str] = []
        short = neutralize_markers(short)
        if short and supported:
            lines.append(f"{short} {''.join(marks(c) for c in supported[:1])}".strip() + ".")
            lines.append("")
            lines.extend(f"{neutralize_markers(c['text'].rstrip())} {marks(c)}" for c in supported)
        elif short:
            lines.append(f"{short} (unverified: no cited sentence fully supports it).")
        else:
            lines.append("No supported answer was found in the indexed documents.")
        dropped = [c for c in claims if c.get("verdict") != "supported"]
        if dropped:
            lines.append("")
            lines.append(f"Left out {len(dropped)} claim(s) the evidence did not support.")
        missing = draft.get("missing") or []
        if missing and halt_reason not in ("confident", "verified"):
            lines.append(f"Not resolved: {', '.join(map(str, missing))} (halted: {halt_reason}).")
        return {
            "answer": "\n".join(lines).strip(),
            "short_answer": short,
            "claims": claims,
            "citations": list(unique.values()),
        }, Usage()
