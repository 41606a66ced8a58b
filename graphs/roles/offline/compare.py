"""Comparisons by extracted attributes: which of two options (dates, numbers, or a property one of them
has), and yes/no over options ("both …", "the same …"). Every decision names the sentences it used."""

from __future__ import annotations

import re

from graphs.roles.offline.evidence import Ranked, clean_title
from graphs.state import PlanInfo
from graphs.text.dates import parse_date
from graphs.text.entries import parse_entry
from graphs.text.lexicon import PART_OF, US_STATES
from graphs.text.normalize import normalize_answer, numbers_in
from graphs.text.places import nationalities
from graphs.text.spans import candidate_spans
from graphs.text.words import NEGATIONS, content_terms, stem

Options = list[tuple[str, list[Ranked]]]

_COMPARATORS = {
    "min": r"\b(earlier|earliest|first|older|oldest|shorter|shortest|smaller|smallest|fewer|less|least|lower|lowest|"
    r"cheaper|before|preceded)\b",
    "max": r"\b(later|latest|last|newer|newest|younger|youngest|longer|longest|larger|largest|bigger|biggest|more|"
    r"most|higher|highest|greater|taller|tallest|after|recent|recently)\b",
}
_DATE_ASK = re.compile(
    r"\b(born|founded|started|start|released|established|formed|opened|created|launched|published|built|died|"
    r"first|earlier|earliest|later|latest|older|oldest|younger|youngest|year|date|recent|recently|before|after)\b",
    re.I,
)
_BIRTH = re.compile(r"\b(born|older|oldest|younger|youngest|age)\b", re.I)


def comparator_of(text: str) -> str | None:
    for direction, pattern in _COMPARATORS.items():
        if re.search(pattern, text, re.I):
            return direction
    return None


def _own(option: str, ranked: list[Ranked]) -> list[Ranked]:
    """The sentences about `option`: those of its own document or entry (its opening sentence states
    what it is), else other sentences that name it in full; none when nothing retrieved is about it."""
    own = [r for r in ranked if names_option(r, option)]
    own.sort(key=lambda r: r.pos)
    key = f" {normalize_answer(option)} "
    if own:
        return own
    return [r for r in ranked if key.strip() and key in f" {normalize_answer(r.sent['text'])} "]


def unread_options(per_option: Options) -> list[str]:
    """Options no retrieved sentence is about. A comparison or a yes/no over options is decided from
    what each option's own text says; with one option's page missing, a sentence about a namesake
    ("X Radio" for "X", "the Toy X" for "X") would decide it, so nothing is decided (abstention)."""
    return [opt for opt, ranked in per_option if not _own(opt, ranked)]


def names_option(r: Ranked, option: str) -> bool:
    """Is this sentence in the API entry of `option` (`--retain-logs`, `Pier.read_lines`), whose heading
    names it, or on the page titled `option` (a prose page is about its title: "Other relatives include…")?"""
    if normalize_answer(clean_title(r.ev["title"])) == normalize_answer(option):
        return True
    entry = parse_entry(r.ev["section"][-1]) if r.ev["section"] else None
    if entry is None:
        return False
    short = option.rsplit(".", 1)[-1]
    return option in entry.aliases or entry.name == option or entry.short == short


def _date_value(task: str, attribute: str, ranked: list[Ranked]) -> tuple[tuple[int, int, int] | None, Ranked | None]:
    """The date an option is compared by: its birth date for older/younger, else the date next to the
    attribute's words (founded, released…), else the first date about it."""
    rows = ranked
    if _BIRTH.search(task):
        for r in rows:
            if r.pos == 0 or re.search(r"\bborn\b", r.sent["text"]):
                d = parse_date(r.sent["text"])
                if d:
                    return d, r
    attr = {stem(w) for w in re.findall(r"[a-z]+", attribute.lower())}
    for r in rows:
        if attr & set(content_terms(r.sent["text"])):
            d = parse_date(r.sent["text"])
            if d:
                return d, r
    for r in rows:
        d = parse_date(r.sent["text"])
        if d:
            return d, r
    return None, None


def _number_value(attribute: str, ranked: list[Ranked]) -> tuple[float | None, Ranked | None]:
    attr = set(content_terms(attribute))
    for r in ranked:
        if attr & set(content_terms(r.sent["text"])):
            nums = [n for n in numbers_in(r.sent["text"]) if not 1000 <= n <= 2100] or numbers_in(r.sent["text"])
            if nums:
                return nums[0], r
    return None, None


def _property_score(prop: str, ranked: list[Ranked]) -> tuple[float, Ranked | None]:
    """How well an option's sentences state a property: term coverage, with demonyms and places
    counted as the countries they imply; a negated sentence does not count."""
    terms = set(content_terms(prop))
    places = _places(prop)
    negated = bool(NEGATIONS.search(prop))  # "which mode does not touch the index": a negated sentence states it
    best, best_r = 0.0, (ranked[0] if ranked else None)  # cite the option even when it lacks the property
    for r in ranked[:4]:
        text = r.sent["text"]
        if bool(NEGATIONS.search(text)) != negated and terms & set(content_terms(text)):
            continue
        have = set(content_terms(text + " " + r.ev["title"]))
        score = len(terms & have) / len(terms) if terms else 0.0
        if places:
            score = 0.5 * score + 0.5 * float(_same_place(places, _places(text)))
        if score > best:
            best, best_r = score, r
    return best, best_r


def _places(text: str) -> set[str]:
    """Countries (and US states) a text names, by name or demonym."""
    out = nationalities(text)
    low = " " + normalize_answer(text) + " "
    for state in US_STATES:
        if f" {state} " in low:
            out.add(state)
    return out


def _same_place(asked: set[str], stated: set[str]) -> bool:
    """A text states an asked place when it names it or a place inside it ("Nebraska" for "the United
    States"), or when it names the country an asked region lies in ("British" for "England")."""
    parents = {PART_OF[p] for p in stated if p in PART_OF}
    return bool(asked & (stated | parents)) or bool({PART_OF[p] for p in asked if p in PART_OF} & stated)


def choose(task: str, info: PlanInfo, per_option: Options) -> tuple[str, float, list[Ranked]]:
    """Which option: compare extracted dates or numbers when the question has a direction, otherwise
    pick the option whose own sentences best state the asked property."""
    direction = info.get("comparator") or comparator_of(task)
    attribute = str(info.get("attribute", ""))
    if unread_options(per_option):
        return "", 0.0, []
    if direction:
        if _DATE_ASK.search(task):
            dated = [(opt, *_date_value(task, attribute, _own(opt, ranked))) for opt, ranked in per_option]
            known = [(opt, d, r) for opt, d, r in dated if d is not None and r is not None]
            if len(known) == len(per_option) and len({d for _, d, _ in known}) > 1:
                pick = min(known, key=lambda t: t[1]) if direction == "min" else max(known, key=lambda t: t[1])
                return pick[0], 0.85, [r for _, _, r in known if r is not None]
        counted = [(opt, *_number_value(attribute, _own(opt, ranked))) for opt, ranked in per_option]
        known_n = [(opt, n, r) for opt, n, r in counted if n is not None and r is not None]
        if len(known_n) == len(per_option) and len({n for _, n, _ in known_n}) > 1:
            pick_n = min(known_n, key=lambda t: t[1]) if direction == "min" else max(known_n, key=lambda t: t[1])
            return pick_n[0], 0.75, [r for _, _, r in known_n if r is not None]
    prop = re.sub(r"\b(more|most|less|least|higher|lower|larger|smaller)\b", " ", attribute, flags=re.I)
    scored = [(opt, *_property_score(prop, _own(opt, ranked))) for opt, ranked in per_option]
    if not scored:
        return "", 0.0, []
    scored.sort(key=lambda t: t[1], reverse=True)
    best = scored[0]
    margin = best[1] - (scored[1][1] if len(scored) > 1 else 0.0)
    picked = [r for _, _, r in scored if r is not None]
    return best[0], round(min(0.8, 0.4 + margin), 4), picked


def _attribute_values(attribute: str, ranked: list[Ranked]) -> set[str]:
    """What an option has for "the same X": demonyms for nationality, the modifier of X ("county-level
    city"), else the places its opening sentences name."""
    noun = attribute.rsplit(maxsplit=1)[-1].lower() if attribute.split() else ""
    text = " ".join(r.sent["text"] for r in ranked[:3])
    if noun in {"nationality", "country", "citizenship", "origin"}:
        first = " ".join(r.sent["text"] for r in ranked[:1])
        return nationalities(first) or nationalities(text)
    head = attribute.rsplit(" of ", maxsplit=1)[-1].rsplit(maxsplit=1)[-1].lower() if " of " in attribute else noun
    if head:
        mods = re.findall(rf"\b([\w-]+(?:\s+[\w-]+)?)\s+{re.escape(head)}s?\b", text, re.I)
        vals = {normalize_answer(m) for m in mods if normalize_answer(m) not in {"", "a", "the", "same"}}
        if vals:
            return vals
    spans = [s for r in ranked[:2] for s in candidate_spans(r.sent["text"]) if s.kind == "place"]
    return {normalize_answer(s.text) for s in spans[:1]}


def yes_no(kind: str, info: PlanInfo, per_option: Options) -> tuple[str, float, list[Ranked]]:
    """'both': every option states the property; 'same': the options share the attribute's value."""
    picked: list[Ranked] = []
    if unread_options(per_option):
        return "", 0.0, []
    if kind == "same":
        attribute = str(info.get("attribute", "")) or str(info.get("property", ""))
        values = []
        for opt, ranked in per_option:
            own = _own(opt, ranked)
            values.append(_attribute_values(attribute, own))
            picked.extend(own[:1])
        if len(values) == 2 and values[0] and values[1]:
            return ("yes" if values[0] & values[1] else "no"), 0.7, picked
        return "no", 0.35, picked
    prop = str(info.get("property", ""))
    year = re.search(r"\b(before|after|prior to|since)\s+(\d{4})\b", prop)
    verdicts: list[bool] = []
    for opt, ranked in per_option:
        own = _own(opt, ranked)
        if year:
            d, r = _date_value(prop, prop, own)
            cutoff = int(year.group(2))
            ok = d is not None and (d[0] < cutoff if year.group(1) in ("before", "prior to") else d[0] > cutoff)
            if r is not None:
                picked.append(r)
        else:
            score, r = _property_score(prop, own)
            ok = score >= 0.5
            if r is not None:
                picked.append(r)
        verdicts.append(ok)
    if not verdicts:
        return "no", 0.3, picked
    return ("yes" if all(verdicts) else "no"), 0.7, picked


__all__ = ["choose", "comparator_of", "unread_options", "yes_no"]
