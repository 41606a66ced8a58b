"""Enumerations read by structure: the items of "list the three …" are the members of one group.

A document lists things in a few shapes, whatever its words: sibling entries under one heading (the
exception classes of an API chapter, the modes of a command), the rows of an entry's field list
(`chain (bool) – …`), and the names one sentence enumerates ("one of GET, HEAD or PUT"). Each group
found in the evidence is scored by how well its context (the parent heading, the entry, the
sentence) matches the question in words and how relevant its members' own sentences are by meaning
(the MiniLM similarity retrieval attached to each sentence); the best group answers, `count` of its
members when the planner read a count, else all of them. Every item keeps the sentence that names it,
so each is cited on its own. Grammar and layout only: nothing here knows a corpus.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from graphs.roles.offline.evidence import Ranked, sentences_of
from graphs.roles.offline.pool import Extraction
from graphs.roles.offline.relevance import heading_terms, term_weights
from graphs.state import EvidenceItem, SentenceRef
from graphs.text.entries import parse_entry
from graphs.text.normalize import normalize_answer
from graphs.text.words import content_terms
from tools.logs import get_logger

log = get_logger(__name__)

# A field-list row: "chain (bool) – if set, …", "name – the name of …".
_ROW = re.compile(r"^\*{0,2}(?P<name>[A-Za-z_][\w.-]*)\s*(?:\([^)]{0,60}\))?\s+[–—-]\s+\S")
# The first token of a list part that names something: a flag, a path, code, or a capitalised word.
_NAME_LEAD = re.compile(
    r"^(?P<name>--?[A-Za-z][\w-]*|[~$.]?[\w~$-]*[./][\w./~$-]*\w|[A-Za-z_]\w*_\w+|[A-Z][\w]*)(?=$|[\s:;)])"
)
_NAME_TAIL = re.compile(r"(?:^|\s)(?P<name>--?[A-Za-z][\w-]*|[A-Za-z_]\w*_\w+|[A-Z]\w*)$")
# Nouns that name what an entry's field-list rows are: only a question asking for these is answered
# by rows ("which two attributes of a group …"); "list the methods X accepts" is not its parameters.
_ROW_NOUNS = frozenset(
    content_terms(
        "parameter parameters argument arguments attribute attributes field fields option options "
        "setting settings key keys keyword keywords flag flags"
    )
)
_PAREN = re.compile(r"\s*\([^()]{0,80}\)")
_LIST_SPLIT = re.compile(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+")
_NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
MAX_ITEMS = 10  # an open list ("list the options …") returns at most this many
# Below this score no group is the list asked for (tuned on the dev manuals' enumerations).
GROUP_FLOOR = 0.3


@dataclass
class Group:
    """Members of one list in the evidence, with the text that heads them and a score."""

    shape: str  # siblings | rows | sentence
    context: str
    items: list[tuple[str, Ranked]]
    score: float = 0.0


def _sim(sent: SentenceRef) -> float:
    value = sent.get("sim")
    return float(value) if value is not None else 0.0


def _lexical(weights: dict[str, float], text: str) -> float:
    total = sum(weights.values()) or 1.0
    terms = set(content_terms(text)) | heading_terms(text)
    return sum(w for t, w in weights.items() if t in terms) / total


def _best_sentence(ev: EvidenceItem) -> tuple[SentenceRef, int] | None:
    """The member's own most relevant sentence (its heading line when it has nothing else)."""
    sents = sentences_of(ev)
    body = [(s, i) for i, s in enumerate(sents) if s.get("kind") != "heading"]
    pool = body or list(zip(sents, range(len(sents)), strict=True))
    return max(pool, key=lambda p: _sim(p[0])) if pool else None


def _sibling_groups(evidence: list[EvidenceItem]) -> list[Group]:
    """Entries (headings that parse as an API name or a flag) that share a parent section."""
    by_parent: dict[tuple[str, tuple[str, ...]], dict[str, Ranked]] = defaultdict(dict)
    for ev in evidence:
        if len(ev["section"]) < 2:
            continue
        entry = parse_entry(ev["section"][-1])
        best = _best_sentence(ev)
        if entry is None or best is None:
            continue
        members = by_parent[(ev["doc_id"], tuple(ev["section"][:-1]))]
        sent, pos = best
        have = members.get(entry.name)
        if have is None or _sim(sent) > _sim(have.sent):
            members[entry.name] = Ranked(_sim(sent), sent, ev, pos)
    groups = []
    for (_doc, parent), members in by_parent.items():
        if len(members) >= 2:
            context = " ".join([parent[-1], *[m.ev["title"] for m in list(members.values())[:1]]])
            groups.append(Group("siblings", context, list(members.items())))
    return groups


def _row_groups(evidence: list[EvidenceItem]) -> list[Group]:
    """An entry's field-list rows: the parameters (or attributes) it documents, one per row."""
    by_entry: dict[str, dict[str, Ranked]] = defaultdict(dict)
    context: dict[str, str] = {}
    for ev in evidence:
        key = ev["doc_id"] + "\x00" + " > ".join(ev["section"])
        for pos, sent in enumerate(sentences_of(ev)):
            m = _ROW.match(sent["text"])
            if m and m.group("name") not in by_entry[key]:
                by_entry[key][m.group("name")] = Ranked(_sim(sent), sent, ev, pos)
                context.setdefault(key, " ".join(ev["section"][-1:]))
    return [Group("rows", context[k], list(m.items())) for k, m in by_entry.items() if len(m) >= 2]


def listed_names(text: str) -> list[str]:
    """The names one sentence enumerates ("Bash, Zsh and Fish are supported" -> the three shells;
    "two bases: Alpha which …, and Beta which …" -> Alpha, Beta): the longest run of list parts that
    each open with a name. Lower-case prose words are not names; parentheticals are dropped."""
    body = _PAREN.sub("", text)
    if ":" in body:
        body = body.split(":", 1)[1]
    parts = [p.strip(" .;\"'“”") for p in _LIST_SPLIT.split(body)]
    best: list[str] = []
    run: list[str] = []
    for i, part in enumerate(parts):
        m = _NAME_LEAD.match(part)
        if m is not None and i == 0 and " " in part and re.fullmatch(r"[A-Z][a-z]+", m.group("name")):
            m = None  # a capitalised plain word opening the sentence ("Catching …") is not a name
        if m is None and not run:
            m = _NAME_TAIL.search(part)  # "… will catch both Alpha, Beta and Gamma": the run opens on a tail
        name = m.group("name").rstrip(".") if m else ""
        if name and name[:1].isupper() and not content_terms(name):
            name = ""  # "The", "If": a capitalised stop word opens a clause, not a name
        if name and name not in run:
            run.append(name)
            if len(run) > len(best):
                best = list(run)
        else:
            run = []
    return best if len(best) >= 2 else []


def _sentence_groups(evidence: list[EvidenceItem]) -> list[Group]:
    groups = []
    for ev in evidence:
        for pos, sent in enumerate(sentences_of(ev)):
            if sent.get("kind") in ("heading", "code") or "\n" in sent["text"] or len(sent["text"]) > 400:
                continue
            names = listed_names(sent["text"])
            if names:
                ranked = Ranked(_sim(sent), sent, ev, pos)
                groups.append(Group("sentence", sent["text"], [(n, ranked) for n in names]))
    return groups


def asked_noun(question: str) -> str:
    """The kind of item a list question asks for: the words after its wh-word or verb and count,
    up to the first function word or name ("Which two timeout exceptions does …" -> "timeout
    exceptions")."""
    words_ = re.sub(
        r"^(?:list|name|give|which|what)\s+(?:are\s+)?(?:all\s+)?(?:the\s+)?", "", question.strip(), flags=re.I
    )
    out: list[str] = []
    for word in words_.split():
        bare = word.strip("?,.;:")
        if bare.lower() in _NUMBER_WORDS or bare.isdigit():
            continue
        if not content_terms(bare) or not re.fullmatch(r"[A-Za-z-]+", bare) or (out and bare[:1].isupper()):
            break
        out.append(bare)
        if len(out) == 3:
            break
    return " ".join(out)


def _item_score(name: str, ranked: Ranked, weights: dict[str, float]) -> float:
    """A member's relevance: its sentence's similarity by meaning and the question words that its
    name (split at `_`, `.`, `-`) and sentence share."""
    spelled = re.sub(r"[_.\-]+", " ", name)
    return 0.5 * ranked.score + 0.5 * _lexical(weights, spelled + " " + ranked.sent["text"])


def _score(group: Group, question: str, weights: dict[str, float], count: int) -> float:
    """Context words shared with the question, plus the members' relevance by meaning, plus how well
    the group's size fits the count asked for (a group too small cannot be the list)."""
    take = count or len(group.items)
    sims = sorted((_item_score(n, r, weights) for n, r in group.items), reverse=True)[:take]
    relevance = sum(sims) / len(sims) if sims else 0.0
    score = 0.5 * _lexical(weights, group.context) + 0.5 * relevance
    noun = set(content_terms(asked_noun(question)))
    if noun:
        # The group's heading (or sentence) names the kind asked for: "Exceptions" for "which exceptions".
        score += 0.2 * len(noun & set(content_terms(group.context))) / len(noun)
    if count:
        if len(group.items) < count:
            score -= 0.25
        elif len(group.items) == count:
            score += 0.1
    if group.shape == "sentence":
        lowered = group.context.lower()
        stated = [w for w in _NUMBER_WORDS if re.search(rf"\b{w}\b", lowered)]
        if count and len(group.items) == count and stated:
            score += 0.1  # "Click has two bases: …": the sentence states the list's size
    return score


def _asked_names(question: str) -> set[str]:
    """Names the question already gives ("besides Alpha"): never items of its own answer."""
    return {normalize_answer(t) for t in re.findall(r"[\w.-]+", question) if len(t) > 2}


def structural_items(question: str, evidence: list[EvidenceItem], count: int, floor: float) -> list[Extraction]:
    """The items of the best-matching group (scored above `floor`), each with the sentence naming
    it as its support; empty when no group in the evidence fits (the caller falls back to spans)."""
    weights = term_weights(question)
    asked = _asked_names(question)
    noun = set(content_terms(asked_noun(question)))
    rows = _row_groups(evidence) if noun & _ROW_NOUNS else []
    groups = _sibling_groups(evidence) + rows + _sentence_groups(evidence)
    for group in groups:
        group.items = [
            (n, r)
            for n, r in group.items
            if normalize_answer(n) not in asked and normalize_answer(n.rsplit(".", 1)[-1]) not in asked
        ]
        group.score = _score(group, question, weights, count)
    groups = [g for g in groups if len(g.items) >= 2]
    if not groups:
        return []
    best = max(groups, key=lambda g: g.score)
    log.debug(
        "enumeration.groups",
        top=[
            (g.shape, g.context[:60], [n for n, _ in g.items][:6], round(g.score, 3))
            for g in sorted(groups, key=lambda g: -g.score)[:5]
        ],
    )
    if best.score < floor:
        return []
    members = best.items
    if count and len(members) > count:
        keep = {n for n, _r in sorted(members, key=lambda m: -_item_score(m[0], m[1], weights))[:count]}
        members = [m for m in members if m[0] in keep]
    members = sorted(members, key=lambda m: (m[1].ev["start"], m[1].sent["start"]))[:MAX_ITEMS]
    confidence = round(min(1.0, max(0.0, best.score)), 4)
    return [Extraction(name, confidence, [ranked]) for name, ranked in members]
