"""A deterministic stand-in for a chat model behind `StubOpenAI`: it answers each hragent role's
function call with schema-valid arguments built from the prompt (the evidence sentence sharing
most words with the question). It is not a good model; it exercises the real client path, the
id-to-citation mapping and the graph, so tests and the fault benchmark need no network."""

from __future__ import annotations

import json
import re
from typing import Any

# `[S1] sentence` under a `(title › section)` line; older prompts put `(where)` after the id.
_EVIDENCE = re.compile(r"^\[(S\d+)\] (?:\([^)]*\) )?(.+)$", re.M)
_WORD = re.compile(r"[A-Za-z0-9]+")
_SPAN = re.compile(r"\b(?:[A-Z][\w-]+(?:\s+[A-Z][\w-]+)*|\d[\d,.]*(?:\s?%|\s\w+)?)")
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "at",
        "to",
        "is",
        "was",
        "were",
        "are",
        "what",
        "which",
        "who",
        "where",
        "when",
        "how",
        "did",
        "does",
        "do",
        "and",
        "or",
    ]
)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP}


def _after(label: str, text: str) -> str:
    m = re.search(rf"^{re.escape(label)}\s*(.*)$", text, re.M)
    return m.group(1).strip() if m else ""


def _block(name: str, text: str) -> str:
    m = re.search(rf'<data name="{name}" nonce="(\w+)">\n(.*?)\n</data nonce="\1">', text, re.S)
    return m.group(2).strip() if m else ""


def _question(user: str) -> str:
    """A reading prompt's subgoal question (the block's first line; a follow-up adds its search)."""
    return (_block("subgoal_question", user).splitlines() or [""])[0]


def _tool(body: dict[str, Any]) -> str:
    tools = body.get("tools") or []
    if tools:
        return str(tools[0]["function"]["name"])
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return str(fmt["json_schema"]["name"])
    system = " ".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "system")
    m = re.search(r'"title":"(submit_\w+)"', system)
    return m.group(1) if m else ""


def _user(body: dict[str, Any]) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    content = users[0].get("content", "") if users else ""
    return content if isinstance(content, str) else json.dumps(content)


def _best(question: str, evidence: list[tuple[str, str]]) -> tuple[str, str] | None:
    q = _words(question)
    scored = [(len(q & _words(text)), -i, sid, text) for i, (sid, text) in enumerate(evidence)]
    if not scored:
        return None
    _, _, sid, text = max(scored)
    return sid, text


def _span(question: str, sentence: str) -> str:
    q = _words(question)
    for m in _SPAN.finditer(sentence):
        if not _words(m.group(0)) <= q:
            return m.group(0).strip(" ,.")
    return sentence.split(maxsplit=1)[0]


def arguments(body: dict[str, Any]) -> dict[str, Any]:
    """Arguments for the function the request asks for."""
    tool, user = _tool(body), _user(body)
    evidence = _EVIDENCE.findall(user)
    if tool == "submit_plan":
        task = _after("Task:", user)
        return {"kind": "lookup", "subgoals": [{"query": task, "kind": "lookup", "depends_on": []}]}
    if tool == "submit_reading":
        question = _question(user)
        best = _best(question, evidence)
        if best is None:
            return {"answer": "", "support": [], "confidence": 0.0}
        return {"answer": _span(question, best[1]), "support": [best[0]], "confidence": 0.8}
    if tool == "submit_answer":
        task = _after("Task:", user)
        m = re.search(r"→ (.+?)(?: \(from (S\d+)[^)]*\))?$", user, re.M)
        best = _best(task, evidence)
        if m is None or best is None or m.group(1) == "(not found)":
            return {"short_answer": "", "claims": [], "confidence": 0.0}
        sid = m.group(2) or best[0]
        text = dict(evidence).get(sid, best[1])
        return {"short_answer": m.group(1), "claims": [{"text": text, "citations": [sid]}], "confidence": 0.85}
    if tool == "submit_verdicts":
        n = len(re.findall(r"^claim \d+:", user, re.M))
        return {
            "verdicts": [
                {"claim": i, "verdict": "supported", "confidence": 0.9, "reason": "stated"} for i in range(1, n + 1)
            ]
        }
    if tool == "submit_answer_text":
        answer = _block("answer", user) or "See the sources"
        return {"sentences": [{"text": f"{answer}.", "sources": [1]}]}
    return {}


def respond(body: dict[str, Any]) -> dict[str, Any]:
    """A `StubOpenAI` responder: a tool call when tools are offered, else JSON content (JSON mode);
    plain prose with `[n]` markers for the composer's prose mode."""
    system = " ".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "system")
    if not body.get("tools") and not body.get("response_format") and "as plain prose" in system:
        answer = _block("answer", _user(body)) or "See the sources"
        return {"content": f"The answer is {answer} [1]."}
    args = arguments(body)
    if body.get("tools"):
        return {"content": None, "tool_calls": [{"name": _tool(body), "arguments": args}]}
    return {"content": json.dumps(args)}


def _sloppy_value(key: str, value: Any) -> Any:
    if key in ("support", "citations") and isinstance(value, list):
        return json.dumps([int(str(v).lstrip("S")) for v in value])  # integer ids, the array as a string
    if key == "sources" and isinstance(value, list):
        return json.dumps(value)
    if key == "verdict" and value == "supported":
        return "Supports"
    if isinstance(value, dict):
        drop = "confidence" if "support" in value else ""  # the reader's confidence is left out
        return {k: _sloppy_value(k, v) for k, v in value.items() if k != drop}
    if isinstance(value, list):
        return [_sloppy_value(key, v) for v in value]
    return value


def sloppy(body: dict[str, Any]) -> dict[str, Any]:
    """A `StubOpenAI` responder that answers like a small local model: the right content in the
    wrong shape — the call wrapped in `{"name", "arguments"}`, sentence ids as integers, arrays
    sent as JSON strings, verdict synonyms ("Supports") and no `confidence` in a reading."""
    args = _sloppy_value("", arguments(body))
    wrapped = {"name": _tool(body), "arguments": args}
    if body.get("tools"):
        return {"content": None, "tool_calls": [{"name": _tool(body), "arguments": wrapped}]}
    return {"content": "Here is my answer:\n" + json.dumps(wrapped)}


def hopping(body: dict[str, Any]) -> dict[str, Any]:
    """`respond`, except that a first read which may search again asks for one follow-up hop
    (naming the entity of its best sentence and keeping that sentence as support), the way a model
    does for a bridge question; the follow-up read answers. For measuring what follow-ups send."""
    user = _user(body)
    if _tool(body) == "submit_reading" and "Another search is allowed" in user and "follow-up search:" not in user:
        question = _question(user)
        best = _best(question, _EVIDENCE.findall(user))
        if best is not None:
            entity = _span(question, best[1])
            args = {
                "answer": "",
                "support": [best[0]],
                "confidence": 0.2,
                "follow_query": f"{entity} {question}",
                "follow_titles": [entity],
            }
            if body.get("tools"):
                return {"content": None, "tool_calls": [{"name": "submit_reading", "arguments": args}]}
            return {"content": json.dumps(args)}
    return respond(body)
