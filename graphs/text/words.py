"""Words of English text: tokens, a tiny stemmer, stopwords, content terms, negations.

Shared by both engines (the offline reader scores with them; the LLM path types answers with them).
"""

from __future__ import annotations

import re

from graphs.text.lexicon import wordset

STOPWORDS = wordset("""a an the of in on at to for from by with and or but is are was were be been being as that this these
    those it its which who whom whose what when where why how do does did has have had not no than then there
    their they them he she his her i you your we our us me my into about over under also both either same one
    any all some can could would should will shall may might must such only other another more most many much
    if so very name named called known""")
WH_WORDS = frozenset(["what", "which", "who", "whom", "whose", "when", "where", "why", "how"])
AUX = wordset(
    """is are was were be been do does did has have had can could will would should shall may might must 's"""
)
AUX_START = re.compile(r"^(is|are|was|were|do|does|did|can|could|has|have|had|will|would|should)\b", re.I)
_WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*[A-Za-z0-9]|[A-Za-z0-9]", re.UNICODE)
SENT_INITIAL = wordset("""The A An In On At He She It They His Her Its Their This That These Those As After Before During When While
    From For By With Since Although Both Each Some Many Most Other Another There Here However Also What Which Who
    Whom Whose When Where Why How Is Are Was Were Do Does Did Has Have Had Can Could One Two Three Four Five Six
    Seven Eight Nine Ten Originally Later Today Currently Instead Following Though Despite Because Unlike Like
    Upon Throughout Within Between Among Under Over Until Then Thus Hence If Unless Otherwise Whether""")
# Words that open the fields of any reference manual ("Returns the …", "Defaults to …"): never a name.
DOC_FIELD_WORDS = wordset("Note Returns Raises Defaults Parameters Deprecated Yields Example Examples")
NEGATIONS = re.compile(
    r"\b(not|never|no|none|neither|nor|without|n't|cannot|isn't|wasn't|aren't|weren't|didn't|doesn't|don't|"
    r"hasn't|haven't|hadn't|won't|wouldn't|couldn't|shouldn't)\b|n't\b",
    re.I,
)
# A negation inside a condition ("if not set", "when nothing is passed", "when the hull cannot be
# built") qualifies when the statement holds; it does not deny the statement itself.
_NEGATED_CONDITION = re.compile(
    r"\b(?:if|when|whenever|unless|whether)\b[^,.;:?!()]*?"
    r"\b(?:not|no|none|nothing|never|cannot|\w+n't)\b[^,.;:?!()]*",
    re.I,
)


def asserted(text: str) -> str:
    """`text` without its negated conditions: what it asserts, for negation checks."""
    return _NEGATED_CONDITION.sub(" ", text)


def negates(text: str) -> bool:
    """Does `text` deny something (a negation outside its conditions)?"""
    return bool(NEGATIONS.search(asserted(text)))


PRONOUN_START = re.compile(r"^(He|She|It|They|His|Her|Its|Their)\b")


def words(text: str) -> list[str]:
    return [w.lower().strip("'’.") for w in _WORD.findall(text)]


def stem(word: str) -> str:
    """A tiny suffix stripper: enough to match 'founded'/'founder'/'founding' and plurals."""
    w = word.lower()
    for suffix in ("ational", "ation", "ments", "ment", "ingly", "ings", "ing", "edly", "ies", "ers", "er", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)] + ("y" if suffix == "ies" else "")
    for suffix in ("es", "s"):
        if w.endswith(suffix) and not w.endswith("ss") and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w


def content_terms(text: str) -> list[str]:
    """Stemmed content words, in order, without stopwords."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and w not in WH_WORDS and len(w) > 1]


def overlap(query_terms: set[str], text: str) -> float:
    """Share of the query's content terms found in `text`."""
    if not query_terms:
        return 0.0
    return len(query_terms & set(content_terms(text))) / len(query_terms)
