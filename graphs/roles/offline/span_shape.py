"""Does a candidate span have the shape the question asks for? Beyond its kind (person, date …):
a sentence may define it as the asked noun ("X is a coastal area" for "what coastal area"), name it
as the agent the asked role describes ("written by X" for "who was the writer"), or put it before
the noun an "of which" phrase hangs on ("the X administration" for "the administration of which
president"). Each is a reading of the candidate's own sentence, not of a corpus: surface grammar only."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphs.text.answer_types import AnswerType
from graphs.text.lexicon import wordset
from graphs.text.words import stem

# A sentence that defines a span as the asked noun ("X is a medium bomber"), names it as the agent
# the noun describes ("written by X" for "the writer"), or inverts the "of which" phrase, outweighs
# one that only names it near the noun.
SHAPE_FIT = 1.5
# "Who was the writer of …": the role a who-question asks for (its answer type has no noun).
_WHO_ROLE = re.compile(r"^\W*who\s+(?:is|was|are|were)\s+the\s+([a-z][a-z-]+)\s+of\b", re.I)

# "X is a British medium bomber", "X, also known as Y, is a coastal area of …", "X, a coastal area …":
# the sentence defines the span as a kind of thing. An optional aside between commas, then a copula
# (or an appositive comma) and a determiner, then a few modifiers before the head noun.
_DEFINITION = re.compile(
    r"^\s*(?:\([^()]{0,80}\)\s*)?(?:,[^,.;]{1,70},\s*)?(?:(?:is|was|are|were)\s+(?:also\s+)?|,\s*)"
    r"(?:a|an|the|one\s+of\s+the)\s+((?:[\w'’-]+\s+){0,6}[\w'’-]+)",
    re.I,
)
# Where the defining noun phrase ends ("a coastal area | of forest", "a medium bomber | that was …").
_PHRASE_END = wordset("of in on at to from with for by that which who whose where and or but near")


def defined_as(text: str, end: int, noun_stem: str) -> bool:
    """Does the sentence define the span ending at `end` as the wh-phrase's noun ("what coastal
    area" against "Yellowsand, also called Broad Bay, is a coastal area of …")? The noun must head
    the defining phrase ("a glider unit" is a unit, not a glider). The span's shape then fits the
    answer type better than a name that merely stands near the noun."""
    if not noun_stem:
        return False
    m = _DEFINITION.match(text[end : end + 200])
    if not m:
        return False
    phrase: list[str] = []
    for w in re.findall(r"[\w'’-]+", m.group(1)):
        if w.lower() in _PHRASE_END:
            break
        phrase.append(w)
    return bool(phrase) and stem(phrase[-1]) == noun_stem  # the head: "a glider unit" is a unit


_BY_AGENT = re.compile(r"\b([a-z][a-z-]+)\s+by\s+(?:the\s+)?$", re.I)


def by_agent(text: str, start: int, noun_stem: str) -> bool:
    """Is the span at `start` the agent of the verb the wh-phrase's noun names ("who was the
    writer" against "written by Ada Brell", "the director" against "directed by …")? The noun and
    the participle share their root: a common prefix of five letters, or the whole of a shorter stem."""
    m = _BY_AGENT.search(text[max(0, start - 40) : start])
    if not m or len(noun_stem) < 4:
        return False
    verb = m.group(1).lower()
    common = next(
        (i for i, (a, b) in enumerate(zip(verb, noun_stem, strict=False)) if a != b), min(len(verb), len(noun_stem))
    )
    return common >= min(5, len(noun_stem))


_OF_WH = re.compile(r"\b([a-z]{4,})\s+of\s+(?:which|what|whose)\b", re.I)
_NOT_A_HEAD = wordset("name type kind part sort number")


def of_head(query: str) -> str:
    """The noun an "of which …" phrase depends on ("during the *administration* of which
    president?"): prose often writes that phrase inverted, the answer before the noun ("during the
    Ardent administration", "Ardent's administration")."""
    m = _OF_WH.search(query)
    return m.group(1).lower() if m and m.group(1).lower() not in _NOT_A_HEAD else ""


def heads_inverted(text: str, end: int, head: str) -> bool:
    """Does the span ending at `end` stand before `head` ("Ardent administration", "Ardent's administration")?"""
    return bool(head) and bool(re.match(rf"(?:['’]s)?\s+{re.escape(head)}\b", text[end : end + len(head) + 4], re.I))


@dataclass(frozen=True)
class AskedShape:
    """What the question's wording says its answer looks like in a sentence."""

    noun: str  # the wh-phrase's noun, stemmed ("what coastal *area*")
    agent_noun: str  # the role a span may be the agent of ("writer": "written by X")
    inverted_head: str  # the noun of "the <head> of which …"

    @classmethod
    def of(cls, query: str, atype: AnswerType) -> AskedShape:
        noun = stem(atype.noun) if atype.noun else ""
        role = _WHO_ROLE.match(query)
        return cls(noun, noun or (stem(role.group(1)) if role else ""), of_head(query))

    def factor(self, text: str, start: int, end: int) -> float:
        """The boost a span at text[start:end] earns: each fitting shape once."""
        out = 1.0
        if defined_as(text, end, self.noun):
            out *= SHAPE_FIT
        if by_agent(text, start, self.agent_noun):
            out *= SHAPE_FIT
        if heads_inverted(text, end, self.inverted_head):
            out *= SHAPE_FIT
        return out
