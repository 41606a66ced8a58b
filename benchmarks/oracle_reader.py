"""The ceiling check's "model" (#18): an OpenAI-compatible responder for `tests.support.stub_openai`
that knows every benchmark question's answer strings but may answer only with a span it finds in
the evidence sentences the agent shows it (else it reports "not found").

Driven through the agent's real LLM path (planner, reader, drafter, verifier, composer prompts and
schemas over HTTP on 127.0.0.1), it measures what the evidence shown to a reader allows: a perfect
reader of those sentences would score this, so the gap between it and the offline reader is the
reader's, and the gap between it and 1.0 is retrieval's and the evidence view's.

It is a measuring tool, never a model: it reads the answer key, so nothing it scores says anything
about a real model's quality, only about what the graph lets through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.longdocs_metrics import norm
from benchmarks.structdocs_metrics import contains
from graphs.roles.offline.planner import asked_count
from tests.support.llm_responder import _EVIDENCE, _after, _block, _tool, _user

_CLAIM = re.compile(r"^claim (\d+): (.+)$", re.M)


def _claim_text(sentence: str) -> str:
    """The cited sentence as the claim; a bare heading too short for a claim ("-q") says what it is."""
    return sentence[:500] if len(sentence.strip()) >= 3 else f"The entry {sentence.strip()}"


class OracleReader:
    """`responder(body)` for `StubOpenAI`: `answers` maps each question's text to its answer parts
    (each part a sequence of acceptable variants)."""

    def __init__(self, answers: Mapping[str, Sequence[Sequence[str]]]) -> None:
        self.answers = {norm(q): [tuple(p) for p in parts] for q, parts in answers.items()}
        self.calls: dict[str, int] = {}

    def parts_for(self, prompt: str) -> list[tuple[str, ...]]:
        """The answer parts of the longest known question quoted in the prompt ([] if none is)."""
        text = norm(prompt)
        known = [q for q in self.answers if q in text]
        return self.answers[max(known, key=len)] if known else []

    def _found(self, prompt: str) -> list[tuple[str, str]]:
        """(sentence id, variant) for each answer part some shown sentence contains, in part order."""
        evidence = _EVIDENCE.findall(prompt)
        out: list[tuple[str, str]] = []
        for variants in self.parts_for(prompt):
            hit = next(((sid, v) for sid, text in evidence for v in variants if contains([v], text)), None)
            if hit is not None:
                out.append(hit)
        return out

    def arguments(self, body: dict[str, Any]) -> dict[str, Any]:
        tool, user = _tool(body), _user(body)
        self.calls[tool] = self.calls.get(tool, 0) + 1
        if tool == "submit_plan":
            task = _after("Task:", user)
            lookup = [{"query": task, "kind": "lookup", "depends_on": []}]
            # A list question is planned as a capable model would read its words (never from the key).
            count = asked_count(task)
            if count is not None:
                return {"kind": "enumeration", "count": count, "subgoals": lookup}
            return {"kind": "lookup", "subgoals": lookup}
        if tool == "submit_reading":
            found = self._found(user)
            if not found:
                return {"answer": "", "support": [], "confidence": 0.0}
            return {
                "answer": ", ".join(v for _, v in found),
                "support": list(dict.fromkeys(s for s, _ in found)),
                "confidence": 1.0,
            }
        if tool == "submit_answer":
            found = self._found(user)
            if not found:
                return {"short_answer": "", "claims": [], "confidence": 0.0}
            sentences = dict(_EVIDENCE.findall(user))
            if "Plan kind: enumeration" in user:
                # One claim per item, led by the item (two items may share a sentence), items in order.
                claims = [{"text": f"{v}: {sentences[s]}"[:500], "citations": [s]} for s, v in found]
                return {
                    "short_answer": ", ".join(v for _, v in found),
                    "items": [v for _, v in found],
                    "claims": claims,
                    "confidence": 1.0,
                }
            claims = [{"text": _claim_text(sentences[s]), "citations": [s]} for s in dict.fromkeys(s for s, _ in found)]
            return {"short_answer": ", ".join(v for _, v in found), "claims": claims, "confidence": 1.0}
        if tool == "submit_verdicts":
            parts = self.parts_for(user)
            verdicts = []
            for num, text in _CLAIM.findall(user):
                ok = any(contains(v, text) for v in parts)
                verdicts.append(
                    {
                        "claim": int(num),
                        "verdict": "supported" if ok else "not_enough_evidence",
                        "confidence": 1.0 if ok else 0.5,
                        "reason": "states the answer" if ok else "does not state the answer",
                    }
                )
            return {"verdicts": verdicts}
        if tool == "submit_answer_text":
            answer = _block("answer", user) or "not found"
            return {"sentences": [{"text": f"{answer}.", "sources": [1]}]}
        return {}

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        args = self.arguments(body)
        if body.get("tools"):
            return {"content": None, "tool_calls": [{"name": _tool(body), "arguments": args}]}
        return {"content": json.dumps(args)}
