"""Which clause of a question asks: "Corvin plays jazz in Oslo, but which label signed Nova-Kite?"
asks only its last clause; the lead clause is context about something else. Shared by the planner
(what to look up) and the verifier's grounding (what the answer's text must state)."""

from __future__ import annotations

import re

_BUT_WH = re.compile(r"[,;]\s+but\s+(?=(?:what|which|who|when|where|how)\b)", re.I)


def asked_clause(question: str) -> str:
    """The clause of `question` that asks: after ", but <wh-word>" when there is one, else all of it."""
    but = _BUT_WH.search(question)
    return question[but.end() :] if but else question
