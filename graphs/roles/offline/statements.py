"""Turn a (question, answer) pair into a declarative claim the verifier can check against evidence:
"In which city was Mira Okafor born?" + "Bergen" -> "Mira Okafor was born in Bergen."

Grammar rules only; when a question has no shape these rules know, the claim says plainly what was
asked and what was answered.
"""

from __future__ import annotations

import re

from graphs.text.answer_types import answer_type
from graphs.text.spans import CAP_SPAN

_AUX = {"is", "was", "are", "were", "did", "does", "do", "has", "have", "had", "can", "could", "will", "would"}
_DO = {"did", "does", "do"}
_LEAD_PREP = re.compile(r"^(in|at|on|from|to|for|by|since|until|during)\s+", re.I)
_WH_PHRASE = re.compile(
    r"\b(?:how (?:many|much|long|old|far|big|tall|large|high)(?:\s+[a-z][\w-]*)?|when|where|who|whom|"
    r"(?:what|which)(?:\s+(?!is\b|was\b|are\b|were\b|did\b|does\b|do\b|has\b|had\b)[\w'’-]+){0,4}?(?=\s+"
    r"(?:is|was|are|were|did|does|do|has|have|had|can|could|will|would)\b|\s*$|\s+[a-z]+(?:ed|s)\b)|what|which)\b",
    re.I,
)


def _subject_end(rest: str) -> int:
    """Length of the subject noun phrase that opens `rest` (a name, or 'the …' up to a lowercase verb)."""
    m = CAP_SPAN.match(rest)
    if m:
        if m.group(0).endswith(("'s", "’s")) and len(rest.split()) > 2:
            return (
                len(rest) - len(rest.rsplit(maxsplit=1)[-1]) - 1
            )  # "Velvet Static's album "X" released": all but the verb
        return m.end()
    m = re.match(r"^(?:the|a|an|his|her|its|their)\s+(?:[\w'’-]+\s+){0,5}?(?=[a-z]+(?:ed|en|s)?\b\s*$)", rest)
    return m.end() if m else 0


def statement(question: str, answer: str) -> str:
    """A declarative sentence stating that `answer` answers `question`."""
    q = " ".join(question.strip().rstrip("?.").split())
    answer = answer.strip()
    if not q or not answer:
        return answer or q
    if answer.lower() in {"yes", "no"}:
        return f"{'Yes' if answer.lower() == 'yes' else 'No'}: {q[0].lower() + q[1:]}?"
    m = _WH_PHRASE.search(q)
    if m is None:
        return f"{q}: {answer}."
    before, after = q[: m.start()].strip(), q[m.end() :].strip()
    wh = m.group(0).lower()
    at_start = not before or bool(_LEAD_PREP.match(before + " ") and len(before.split()) == 1)
    if not at_start:
        # "X is based in what city" -> "X is based in Tampere"
        return _sentence(f"{before} {answer} {after}")
    words = after.split()
    if not words or words[0].lower() not in _AUX:
        return _sentence(f"{answer} {after}")  # "Who portrayed X" -> "Dana Whitford portrayed X"
    aux, rest = words[0], " ".join(words[1:])
    if (rest.lower().startswith(("the ", "a ", "an ")) and wh in {"who", "what"}) or rest[:1].islower():
        # "Who is the CEO of X" -> "Mira Okafor is the CEO of X"; "What position was held by X" -> "… was held by X"
        return _sentence(f"{answer} {aux} {rest}")
    prep = before.lower() if before else ("in" if wh in {"where", "when"} or answer_type(q).kind == "date" else "")
    cut = _subject_end(rest)
    if cut:
        subject, tail = rest[:cut].strip(), rest[cut:].strip()
        verb = "" if aux.lower() in _DO else aux
        core = " ".join(x for x in (subject, verb, tail) if x)
    else:
        core = rest if aux.lower() in _DO else f"{rest} ({aux})"
    return _sentence(" ".join(x for x in (core, prep, answer) if x))


def _sentence(text: str) -> str:
    text = " ".join(text.split()).strip(" ,")
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
