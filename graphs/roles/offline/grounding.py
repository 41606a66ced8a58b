"""Question grounding: does the text that names the answer also say what was asked?

The verifier's coverage check reads a claim against the union of everything it cites, and the
solver picks those citations to cover the claim's terms (`support.covering_support`), so a claim
can pass on a sentence that names the answer plus another sentence that merely repeats the
question's words. With the page that answers a question missing from the index, that is how a
neighbouring entry's name gets accepted: "SPOOL_DIR" for "which folder does the tool's `--archive`
option write to?", because one cited line says "writes … SPOOL_DIR folder" and another says "the
archive folder".

The check here asks for the answer and the question's terms in the *same window*: the entry (the
evidence item: an API entry, a section's leaf, a paragraph) whose text holds the answer's
sentence, with its heading path and page title. A bridge claim may widen the window to a cited
item linked to the answer's item (one names the other's title): page A names what page B answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from graphs.state import CitationDict, ClaimDict, EvidenceItem
from graphs.text.answer_types import answer_type
from graphs.text.clauses import asked_clause
from graphs.text.entries import parse_entry
from graphs.text.lexicon import TECH_NOUNS
from graphs.text.normalize import normalize_answer, title_key
from graphs.text.words import STOPWORDS, content_terms, stem

_SPLIT = re.compile(r"[-_.()/]+")
# Words that frame a question rather than say what it is about ("list the three …", "name two …"):
# no entry states them, so they are not asked of the answer's window.
FRAME_WORDS = frozenset(
    content_terms("list give mention describe explain tell two three four five six seven eight nine ten twelve besides")
)


DEFAULT_WORDS = frozenset(content_terms("default defaults"))


def terms(text: str) -> set[str]:
    """Content terms, with the parts of compound identifiers too ("load_tide_table" -> load, tide, table;
    "tool-sync(1)" -> tool, sync), so a heading's name matches a question that spells it apart."""
    out = set(content_terms(text))
    for t in list(out):
        if _SPLIT.search(t):
            out.update(content_terms(_SPLIT.sub(" ", t)))
    return out


_COUNTED = re.compile(
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d+)\s+((?:[a-z][\w-]*\s+){0,2}?[a-z][\w-]*s)\b",
    re.I,
)


def asked_terms(question: str) -> set[str]:
    """What a question asks the answer's window to state: its terms, less the words that frame it
    and the wh-phrase's head noun ("which *function* …": entries say what they do, not what they are)."""
    question = asked_clause(question)  # "X is from A, but where is Y from?" asks nothing of X
    noun = answer_type(question).noun
    return terms(question) - FRAME_WORDS - (terms(noun) if noun else set())


def counted_kinds(question: str) -> set[str]:
    """Terms of the counted noun of a list question ("the five *modes* of …"): each item's entry
    names itself, seldom its kind, so these weigh half in grounding."""
    return {t for m in _COUNTED.finditer(question) for t in terms(m.group(1))}


def _matches(term: str, have: set[str]) -> bool:
    """A term is in the window as itself or as a longer/shorter form of the same word ("config" for
    "configuration": the tiny stemmer leaves them apart)."""
    if term in have:
        return True
    qualifier, dot, member = term.rpartition(".")
    if dot and qualifier and member:
        # A qualified name is stated by its member whole plus its qualifier: the entry `iter_rows`
        # under the heading `class Sheet` states "Sheet.iter_rows".
        return _matches(member, have) and all(_matches(q, have) for q in content_terms(_SPLIT.sub(" ", qualifier)))
    if len(term) < 5 or not term.isalpha():
        return False  # an identifier matches only whole: "pkg.load_all" is not "pkg"
    return any(len(h) >= 5 and h.isalpha() and (h.startswith(term) or term.startswith(h)) for h in have)


_COMPOUND = re.compile(r"(?=(?<![a-z0-9])([a-z][a-z0-9]*)([-_.])([a-z][a-z0-9]*))")
_NOT_A_NAME = STOPWORDS | frozenset(TECH_NOUNS) | FRAME_WORDS


def sibling_of_asked(question: str, headings: str) -> str:
    """The named thing a window is about when the question names its sibling instead, else ''.

    Reference pages name things in families: `tool-sync` and `tool-push`, `pkg.load` and `pkg.save`.
    When the window's heading names `tool-push` and the question says "tool sync", the entry is about
    the wrong member of the family, however many words it shares with the question. Only a content
    word counts as the question's member ("which tool option …" names no member)."""
    q = question.lower()
    for head, sep, member in dict.fromkeys(m.groups() for m in _COMPOUND.finditer(headings.lower())):
        # A command family (`tool-sync`) is written with a space in prose ("tool sync"); a namespace
        # (`pkg.load`, `pkg_load`) only joined: "Pkg loads …" names the package, not a member.
        joiner = r"[\s._-]+" if sep == "-" else r"[._]"
        followers = {
            w
            for w in re.findall(rf"(?<![a-z0-9]){re.escape(head)}{joiner}([a-z][a-z0-9]*)", q)
            if w not in _NOT_A_NAME and stem(w) not in _NOT_A_NAME
        }
        if followers and member not in followers:
            return f"{head}-{member}"
    return ""


_NAME_TOKEN = re.compile(r"(?<![\w-])(?:--?[A-Za-z][\w-]*|[A-Za-z_][\w]*[._][\w.]*\w|[A-Z][\w]*)")


def named_terms(question: str) -> set[str]:
    """Terms of what a question names: capitalised words (not its first word), identifiers and
    flags. They weigh double in grounding: an entry that lacks the name asked about is about
    something else, however many of the other words it shares."""
    body = question.strip()
    first = re.match(r"\W*\w+", body)
    rest = body[first.end() :] if first else body
    return {t for m in _NAME_TOKEN.finditer(rest) for t in terms(m.group(0))} - _NOT_A_NAME


@dataclass(frozen=True)
class Grounding:
    """How much of what was asked the best window around the answer states."""

    share: float  # of the asked terms, the share the window holds (1.0 when nothing is asked)
    missing: tuple[str, ...]  # asked terms the window lacks
    anchored: bool  # some cited text names the answer at all
    sibling: str = ""  # the window is about this other member of a family the question names
    missing_names: tuple[str, ...] = ()  # names the question asks about that the window lacks


def index_items(evidence: Mapping[str, Sequence[EvidenceItem]]) -> dict[str, EvidenceItem]:
    """Every evidence item by its own node id and by each of its sentences' ids."""
    out: dict[str, EvidenceItem] = {}
    for items in evidence.values():
        for item in items:
            out.setdefault(item["node_id"], item)
            for sent in item["sentences"]:
                out.setdefault(sent["node_id"], item)
    return out


# A life span after a name ("(3 June 1901 – 9 May 1975)", "(born 1962)") states birth and death
# without the words.
_LIFE_SPAN = re.compile(r"\((?:born\b|b\.\s)[^()]*\d{3,4}|\([^()]*\b\d{3,4}\s*[–-]\s*[^()]*\b\d{3,4}\s*\)")
_LIFE_WORDS = " born birth died death "


def _window(cit: CitationDict, item: EvidenceItem | None) -> str:
    parts = [cit["quote"], " ".join(cit["section"])]
    if item is not None:
        parts += [item["text"], item["title"], " ".join(item["section"])]
    text = " ".join(parts)
    return text + _LIFE_WORDS if _LIFE_SPAN.search(text) else text


def _linked(a: EvidenceItem, b: EvidenceItem) -> bool:
    """Two items of different documents where one names the other's title (a bridge)."""
    if a["doc_id"] == b["doc_id"]:
        return False
    for x, y in ((a, b), (b, a)):
        key = title_key(x["title"])
        if key and f" {key} " in f" {title_key(y['text'])} ":
            return True
    return False


def carried(answers: Iterable[str], text: str) -> str:
    """The longest of `answers` that `text` names (normalised, at word boundaries), or ''."""
    padded = f" {normalize_answer(text)} "
    hits = [a for a in answers if normalize_answer(a) and f" {normalize_answer(a)} " in padded]
    return max(hits, key=len, default="")


def ground(
    asked: set[str], answer: str, claim: ClaimDict, items: Mapping[str, EvidenceItem], question: str = ""
) -> Grounding:
    """The window of the claim's citations that name `answer`: share of `asked` (minus the
    answer's own terms) that the best entry naming it states, with the items the claim cites that
    are linked to it, and other answer-naming entries that bring another asked name. A window whose heading names a sibling of what `question` names counts
    for nothing; what the question names (`named_terms`) weighs double, a list question's counted
    kind half."""
    wanted = asked - terms(answer) - FRAME_WORDS
    names = named_terms(question) if question else set()
    kinds = counted_kinds(question) if question else set()
    weight = {t: 2.0 if t in names else 0.5 if t in kinds else 1.0 for t in wanted}
    total = sum(weight.values())
    key = f" {normalize_answer(answer)} "
    cites = claim.get("citations", [])
    found: list[tuple[CitationDict, EvidenceItem | None]] = [(c, items.get(c["node_id"])) for c in cites]
    anchors = [(c, it) for c, it in found if key in f" {normalize_answer(c['quote'] + ' ' + ' '.join(c['section']))} "]
    if not anchors:
        return Grounding(0.0, tuple(sorted(wanted)), False)
    # Each cited entry that names the answer is a window; one whose heading names a sibling of what
    # the question names is not.
    siblings = [sibling_of_asked(question, " ".join([*c["section"], it["title"] if it else ""])) for c, it in anchors]
    valid = [a for a, sib in zip(anchors, siblings, strict=True) if not (question and sib)]
    if not valid:
        return Grounding(0.0, tuple(sorted(wanted)), True, next(s for s in siblings if s))

    # A signature states a default by notation: `open(mode="r")` says the default mode is "r".
    by_notation = re.compile(rf"\w\s*=\s*['\"]?{re.escape(answer.strip())}(?![\w.])") if answer.strip() else None

    def window_terms(cit: CitationDict, item: EvidenceItem | None) -> set[str]:
        text = _window(cit, item)
        have = terms(text)
        if by_notation is not None and by_notation.search(text):
            have |= DEFAULT_WORDS
        if item is not None:
            for other_cit, other in found:
                if other is not None and _linked(item, other):
                    have |= terms(_window(other_cit, other))
        return have

    def share_of(have: set[str]) -> float:
        return sum(weight[t] for t in wanted if _matches(t, have)) / total if wanted else 1.0

    windows = sorted((window_terms(c, it) for c, it in valid), key=share_of, reverse=True)
    have = windows[0]
    # Another window that names the answer joins only when it brings a name the question asks about
    # that the best one lacks: "X and Y share …" is grounded by X's page and Y's page together, not
    # by two neighbouring entries that each repeat a few of the question's words.
    for other in windows[1:]:
        if {t for t in names & wanted if _matches(t, other)} - {t for t in names if _matches(t, have)}:
            have = have | other
    have = described_elsewhere(have, wanted, names & wanted, found, valid)
    hit = {t for t in wanted if _matches(t, have)}
    return Grounding(
        round(share_of(have), 4), tuple(sorted(wanted - hit)), True, "", tuple(sorted((names & wanted) - hit))
    )


def described_elsewhere(
    have: set[str],
    wanted: set[str],
    asked_names: set[str],
    found: Sequence[tuple[CitationDict, EvidenceItem | None]],
    anchors: Sequence[tuple[CitationDict, EvidenceItem | None]],
) -> set[str]:
    """Prose only: a question may name its answer by a name and describe it in general words that
    another page states ("Who performed as Zanzo and helped firms cut their costs as an adviser?":
    the performer's page says "stage name Zanzo … adviser", the page on advisers says what advisers
    do). When the answer's window holds every name the question asks about, one quote the claim
    cites from another prose page may state all the rest, in one sentence: bits gathered from
    several sentences are how a wrong answer's window gets filled. API entries are left out: there a
    family's shared name is in every entry's heading, so names do not single out the answer's entry."""
    if not asked_names or not all(_matches(t, have) for t in asked_names):
        return have
    if any(it is not None and it["section"] and parse_entry(it["section"][-1]) for _, it in anchors):
        return have
    rest = {t for t in wanted if not _matches(t, have)}
    docs = {it["doc_id"] for _, it in anchors if it is not None}
    for cit, item in found:
        if item is None or item["doc_id"] in docs or (item["section"] and parse_entry(item["section"][-1])):
            continue
        said = terms(cit["quote"])
        if rest and all(_matches(t, said) for t in rest):
            return have | said
    return have
