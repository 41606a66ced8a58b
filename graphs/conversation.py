"""Messages in, message out: the chat surface of the graph (Studio's chat mode, agent chat UIs, a
`MessagesState` parent graph that uses hragent as a subgraph).

`read_messages` (first node) turns the last human message into the `task`, resolving a follow-up
("and who founded it?", "what about the other one?") against the earlier turns, and clears what
an earlier run on the same thread left behind. `reply` (last node) appends one `AIMessage` whose
content is the cited answer and whose `response_metadata["hragent"]` carries the claims,
citations, short answer, outcome and the resolved task (the next follow-up resolves against it).
Metadata, not `additional_kwargs`: a parent agent may send the conversation to a chat model, and
providers reject unknown `additional_kwargs`.

Resolution is deterministic and offline: the antecedent of a pronoun is the previous answer when
it is a name, else the first name the previous question used (its subject, as a rule); "the other one" is a name of the
previous question that was not the answer. Anything unresolvable is left as asked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langgraph.types import Overwrite

from graphs.state import AgentState

# A capitalised run of words ("Halden Robotics", "Mira Okafor"), allowing inner "de"/"van"-style particles.
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:(?:de|van|von|der)\s+)?[A-Z][\w'’-]*)*")
# Capitalised only because they open a sentence: never a name.
_QUESTION_WORDS = frozenset(
    [
        "What",
        "Which",
        "Who",
        "Whom",
        "Whose",
        "Where",
        "When",
        "Why",
        "How",
        "Is",
        "Was",
        "Are",
        "Were",
        "Do",
        "Does",
        "Did",
        "Can",
        "Could",
        "And",
        "In",
        "On",
        "At",
        "It",
        "He",
        "She",
        "They",
        "This",
        "That",
        "These",
        "Those",
        "The",
        "A",
        "An",
        "There",
        "Its",
        "His",
        "Her",
        "Their",
    ]
)
_PRONOUN = re.compile(r"\b(it|he|she|they|him|them|its|his|her|their)\b", re.IGNORECASE)
_POSSESSIVE = frozenset(["its", "his", "their"])
_ELLIPSIS = re.compile(r"^(?:and|what about|how about)\s+(?P<rest>.+?)\s*\??$", re.IGNORECASE)
_OTHER = re.compile(r"\bthe other(?: one)?\b", re.IGNORECASE)
_LEAD_AND = re.compile(r"^and\s+", re.IGNORECASE)

# Per-run fields an earlier run on this thread may have left; a new question starts from scratch.
_RESET: dict[str, Any] = {
    "subgoals": {},
    "counters": {},
    "engines": {},
    "evidence": {},
    "limits_hit": [],
    "degraded": [],
    "trace": [],
}
_CLEAR = (
    "answer",
    "short_answer",
    "claims",
    "citations",
    "halt_reason",
    "refinements",
    "run_limits",
    "started_at",
    "plan_kind",
    "plan_info",
    "draft",
    "report",
    "best",
    "feedback",
)


def names_in(text: str) -> list[str]:
    """Capitalised names in `text`, without a sentence-initial question word ("Who", "And")."""
    out: list[str] = []
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        while words and words[0] in _QUESTION_WORDS:
            words = words[1:]
        if words:
            out.append(" ".join(words))
    return out


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)


def _is_human(message: BaseMessage) -> bool:
    return isinstance(message, HumanMessage) or message.type == "human"


def _previous_turn(history: Sequence[BaseMessage]) -> tuple[str, str]:
    """(the previous question, resolved when hragent answered it; the previous short answer)."""
    for i in range(len(history) - 1, -1, -1):
        msg = history[i]
        meta = (msg.response_metadata or {}).get("hragent") if isinstance(msg, AIMessage) else None
        if isinstance(meta, dict):
            return str(meta.get("task", "")), str(meta.get("short_answer", ""))
        if _is_human(msg):
            return _text(msg), ""
    return "", ""


def _the_other(previous: str, answer: str, history: Sequence[BaseMessage]) -> tuple[str, str]:
    """(what "the other one" names, the name of the previous question it stands in for).

    A comparison's other side ("Who was born earlier, A or B?" answered A: B), else a name mentioned
    together with the previous question's subject in an earlier turn ("the Kestrel and the Harrier",
    then a question about the Kestrel: the Harrier)."""
    prev_names = names_in(previous)
    if len(prev_names) >= 2 and answer in prev_names:
        return next(n for n in reversed(prev_names) if n != answer), ""
    asked = {n for msg in history if _is_human(msg) for n in names_in(_text(msg))}
    for msg in reversed(history):
        names = names_in(_text(msg))
        for subject in prev_names:
            # The subject's companion: not something already asked about, nearest to it in the text.
            rest = [n for n in names if n not in asked] or [n for n in names if n not in prev_names]
            if subject in names and rest:
                at = names.index(subject)
                return min(rest, key=lambda n: abs(names.index(n) - at)), subject
    return "", ""


def resolve_follow_up(question: str, history: Sequence[BaseMessage]) -> str:
    """`question` with its references to earlier turns spelled out (unchanged when it has none)."""
    question = " ".join(question.split())
    previous, answer = _previous_turn(history)
    if not previous:
        return question
    prev_names = names_in(previous)
    ellipsis = _ELLIPSIS.match(question)
    if ellipsis and not re.search(
        r"\b(who|what|which|where|when|why|how)\b|" + _PRONOUN.pattern, ellipsis["rest"], re.I
    ):
        # "and the Harrier?" / "what about the other one?": the previous question, asked of another.
        rest = ellipsis["rest"].rstrip("?").strip()
        if _OTHER.fullmatch(rest):
            target, subject = _the_other(previous, answer, history)
        else:
            own = names_in(rest)
            target, subject = (own[0] if own else rest), (prev_names[0] if prev_names else "")
        if target and subject and subject in previous:
            return previous.replace(subject, target, 1)
        return question
    question = _capitalize(_LEAD_AND.sub("", question))
    if _OTHER.search(question):
        target, _subject = _the_other(previous, answer, history)
        return _OTHER.sub(target, question, count=1) if target else question
    if names_in(question) or not _PRONOUN.search(question):
        return question
    answer_is_name = bool(answer) and names_in(answer) == [answer]
    antecedent = answer if answer_is_name else (prev_names[0] if prev_names else "")
    if not antecedent:
        return question

    def substitute(match: re.Match[str]) -> str:
        return f"{antecedent}'s" if match.group(1).lower() in _POSSESSIVE else antecedent

    return _capitalize(_PRONOUN.sub(substitute, question, count=1))


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def read_messages(state: AgentState) -> dict[str, Any]:
    """First node: an unanswered human message (the last one) becomes the task, else the `task`
    input stands; a thread that already finished a run starts the new one clean."""
    update: dict[str, Any] = {}
    messages: list[AnyMessage] = list(state.get("messages") or [])
    if messages and _is_human(messages[-1]):
        update["task"] = resolve_follow_up(_text(messages[-1]), messages[:-1])
        update["reply_with_message"] = True
    if state.get("halt_reason") or state.get("answer"):
        update.update({key: Overwrite(value) for key, value in _RESET.items()})
        update.update(dict.fromkeys(_CLEAR))
        update["refinements"] = 0
    return update


def reply(state: AgentState) -> dict[str, Any]:
    """Last node: the answer as an `AIMessage` when the run was asked through messages."""
    if not state.get("reply_with_message"):
        return {}
    meta = {
        "task": state.get("task", ""),
        "short_answer": state.get("short_answer", ""),
        "outcome": state.get("outcome"),  # the composer's (answered / partial / not_found) when present
        "halt_reason": state.get("halt_reason", ""),
        "claims": list(state.get("claims") or []),
        "citations": list(state.get("citations") or []),
    }
    message = AIMessage(content=state.get("answer", ""), name="hragent", response_metadata={"hragent": meta})
    return {"messages": [message], "reply_with_message": False}
