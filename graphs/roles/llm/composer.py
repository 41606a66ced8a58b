"""LLM composer: writes the answer text from verified claims (`ComposeOutput`), one sentence at a
time, each carrying the numbers of its sources. Which claims and citations appear is decided
deterministically first (by the offline composer); the model only words it.

`mode="prose"` asks for plain text with `[n]` markers instead of JSON, so the answer streams token
by token under `stream_mode="messages"`; the markers are checked the same way (`prose.py`), and
text that breaks the rule is replaced by the deterministic answer for that call, labelled."""

from __future__ import annotations

from typing import Any, Literal

from graphs.roles.base import Composer, Usage
from graphs.roles.llm.client import Meter, StructuredLLM
from graphs.roles.llm.evidence import clean, data_block, new_nonce
from graphs.roles.llm.guard import LLMRole, OnFailure
from graphs.roles.llm.prompts import COMPOSER_PROSE_SYSTEM, COMPOSER_SYSTEM, COMPOSER_USER
from graphs.roles.llm.prose import ProseInvalid, parse_prose
from graphs.roles.llm.schemas import ComposeOutput
from graphs.state import Draft, Report
from tools.errors import LLMOutputError

MAX_SENTENCES = 4


class LLMComposer(LLMRole):
    role = "composer"

    def __init__(
        self,
        llm: StructuredLLM,
        fallback: Composer,
        *,
        on_failure: OnFailure = "auto",
        mode: Literal["structured", "prose"] = "structured",
    ) -> None:
        super().__init__(llm, on_failure=on_failure)
        self.fallback = fallback
        self.mode = mode

    def compose(self, task: str, draft: Draft, report: Report, halt_reason: str) -> tuple[dict[str, Any], Usage]:
        base, usage = self.fallback.compose(task, draft, report, halt_reason)
        supported = [c for c in report.get("claims", []) if c.get("verdict") == "supported"]
        if base.get("outcome") == "not_found" or not supported or not base.get("citations"):
            return base, usage  # nothing verified to word: the deterministic text abstains
        draft = {**draft, "short_answer": base["short_answer"]}  # only the headline a claim carries
        return self._guarded(
            lambda meter: self._compose(meter, task, draft, report, halt_reason, base),
            lambda: (base, usage),
        )

    def _compose(
        self, meter: Meter, task: str, draft: Draft, report: Report, halt_reason: str, base: dict[str, Any]
    ) -> dict[str, Any]:
        citations = base["citations"]
        number = {c["node_id"] or c["quote"]: i for i, c in enumerate(citations, start=1)}
        sources = [f"[{i}] {clean(c['quote'], self.limits.sentence_chars)}" for i, c in enumerate(citations, start=1)]
        claims = [
            f"- {clean(c['text'], 500)} (sources {sorted({number[x['node_id'] or x['quote']] for x in c['citations']})})"
            for c in report.get("claims", [])
            if c.get("verdict") == "supported" and all((x["node_id"] or x["quote"]) in number for x in c["citations"])
        ]
        nonce = new_nonce()
        user = COMPOSER_USER.format(
            task=task,
            short_answer=data_block("answer", [clean(draft.get("short_answer", ""), 300)], nonce),
            claims=data_block("claims", claims, nonce),
            sources=data_block("sources", sources, nonce),
        )
        known = set(range(1, len(citations) + 1))
        if self.mode == "prose":
            text = self.llm.prose(
                COMPOSER_PROSE_SYSTEM.format(max_sentences=MAX_SENTENCES), user, meter=meter, role="composer"
            )
            try:
                sentences = [(s.text, s.sources) for s in parse_prose(text, known, MAX_SENTENCES)]
            except ProseInvalid as bad:
                raise LLMOutputError(f"answer text: {bad}") from None
        else:
            out = self.llm.call(
                ComposeOutput,
                COMPOSER_SYSTEM.format(max_sentences=MAX_SENTENCES),
                user,
                meter=meter,
                context={"sources": known},
                role="composer",
            )
            sentences = [(s.text, tuple(s.sources)) for s in out.sentences[:MAX_SENTENCES]]
        lines = [f"{text.rstrip()} {''.join(f'[{n}]' for n in sorted(set(sources)))}" for text, sources in sentences]
        dropped = [c for c in report.get("claims", []) if c.get("verdict") != "supported"]
        if dropped:
            lines += ["", f"Left out {len(dropped)} claim(s) the evidence did not support."]
        missing = draft.get("missing") or []
        if missing and halt_reason not in ("confident", "verified"):
            lines.append(f"Not resolved: {', '.join(map(str, missing))} (halted: {halt_reason}).")
        return {**base, "answer": "\n".join(lines).strip()}
