"""Which parameter a value belongs to, and whether it is the one the question asks about.

An API reference lists values side by side: a signature `open(path, retries=3, timeout=5.0)`, a
parameter list (`retries=3 – …`, `timeout (float) – … Defaults to 5.0.`), an option list. Each
value fills one *slot* — a parameter, a field, an option — and the slot is written next to it:
`name=value`, the row the value sits in (a row's text runs on until the next row), the identifier a
"which defaults to …" clause hangs on, the entry whose signature or parameter list declares it.
When the question names one of the slots the evidence declares ("what is the default timeout
…?"), or describes one in its row's own words, a value read from another slot — or from the same
parameter of another entry than the one the question names — is the neighbouring value, not the
answer, however close it stands to the question's words. This module only reads notation (names,
`=`, rows, headings); it knows no manual's vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from graphs.roles.offline.evidence import Ranked
from graphs.state import EvidenceItem
from graphs.text.code_spans import default_values
from graphs.text.entries import Entry, FieldRow, parse_entry, parse_field_row
from graphs.text.words import content_terms, stem

ASKED_SLOT = 1.4  # a value read from the slot the question names
OTHER_SLOT = 0.3  # a value read from another slot the evidence declares, when the question names one
UNOWNED = 0.7  # a value in a sentence that belongs to no slot and never names the asked one
# A row "describes" the asked slot when its words hold this many of the question's terms, and this share.
DESCRIBED_TERMS = 3
DESCRIBED_SHARE = 0.4

# `name=value` inside a sentence or a signature: the value belongs to `name`.
_ASSIGNED = re.compile(r"(?<![\w.-])(?P<name>[A-Za-z_]\w*)\s*=\s*$")
# An identifier-shaped token (snake_case, dotted) a clause may hang a value on: "beyond the
# kiln_limit setting, which defaults to five".
_IDENTIFIER = re.compile(r"(?<![\w-])(?:[a-z_][a-z0-9]*_[a-z0-9_]+|[A-Za-z_]\w*(?:\.[A-Za-z_]\w+)+)(?![\w-])")


def _parts(name: str) -> set[str]:
    """`heat_level` -> {heat, level}; `--max-jobs` -> {max, job} (an option's dashes split it too)."""
    seps = r"[_.-]" if name.startswith("-") else r"[_.]"
    return {stem(p) for p in re.split(seps, name.lstrip("-").lower()) if len(p) > 1}


def question_terms(question: str) -> set[str]:
    """Stemmed terms of the question and each identifier's parts; not "default" (it says a default
    is asked for and never names a parameter called `default`)."""
    terms = set(content_terms(question))
    for t in list(terms):
        terms.update(stem(p) for p in re.split(r"[_.]", t) if len(p) > 1)
    return terms - {"default"}


def slot_named(name: str, terms: set[str]) -> bool:
    """Does the question (its stemmed `terms`) name this slot — every part of `heat_level`?"""
    parts = _parts(name.rsplit(".", 1)[-1])
    return bool(parts) and parts <= terms


def spelled(name: str, question: str) -> bool:
    """Is the slot written in the question in its own notation (`heat_level`, `--jobs`), not in words?"""
    return bool(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", question))


def row_default(row: FieldRow) -> str | None:
    """The default a parameter row declares: its `=value`, else a "Defaults to …" in its own words
    that no other identifier claims first ("… the kiln_limit setting, which defaults to five" is
    kiln_limit's default, not this row's)."""
    if row.value is not None:
        return row.value
    for span in default_values(row.description):
        owners = [m.group(0) for m in _IDENTIFIER.finditer(row.description[: span.start])]
        if not [o for o in owners if o != row.name]:
            return span.text
    return None


def _own_name(entry: Entry) -> str:
    """`Palette.__init__` documents `Palette`'s constructor: it is named as `Palette`."""
    parts = entry.name.split(".")
    while len(parts) > 1 and parts[-1].startswith("__") and parts[-1].endswith("__"):
        parts = parts[:-1]
    return ".".join(parts)


def entry_named_depth(entry: Entry, terms: set[str]) -> int:
    """How many trailing parts of the entry's dotted name the question names (`Kiln.fire` -> 2
    for "Kiln.fire()", 1 for "fire"); 0 when it does not name the entry's own short name."""
    parts = _own_name(entry).split(".")
    depth = 0
    for part in reversed(parts):
        if not _parts(part) or not _parts(part) <= terms:
            break
        depth += 1
    return depth


@dataclass(frozen=True)
class Declared:
    """One slot as the evidence declares it: its name, the entry it belongs to, and its row's words."""

    name: str
    entry: str | None
    words: str


def rows_in_order(ev: EvidenceItem) -> dict[str, FieldRow]:
    """Each sentence of a hit that belongs to a parameter row: the row itself and the sentences that
    run on after it, up to the next row or heading (a row's description is often its next paragraph)."""
    out: dict[str, FieldRow] = {}
    current: FieldRow | None = None
    for sent in ev["sentences"]:
        if sent.get("kind") == "heading":
            current = None
            continue
        row = parse_field_row(sent["text"])
        if row is not None:
            current = row
        if current is not None:
            out[sent["node_id"]] = current
    return out


def opens_row(sentence: str, row: FieldRow) -> bool:
    """Is this sentence the row's own line (`name=… –`), not a sentence that runs on after it?"""
    return sentence.lstrip("* ").startswith(row.name)


def declared_slots(evidence: Iterable[EvidenceItem]) -> list[Declared]:
    """The parameters the evidence declares: its entries' signature parameters with a default, its
    option entries (`--jobs <n>`) and its parameter rows (with the words of the row and its run-on)."""
    out: list[Declared] = []
    for ev in evidence:
        entry = parse_entry(ev["section"][-1]) if ev["section"] else None
        owner = entry.name if entry is not None else None
        if entry is not None:
            out += [Declared(p, owner, "") for p in entry.defaults]
            if entry.kind == "option":
                out.append(Declared(entry.name, owner, " ".join(s["text"] for s in ev["sentences"][:3])))
        words: dict[str, list[str]] = {}
        rows = rows_in_order(ev)
        for sent in ev["sentences"]:
            row = rows.get(sent["node_id"])
            if row is not None:
                words.setdefault(row.name, []).append(row.description if opens_row(sent["text"], row) else sent["text"])
        out += [Declared(name, owner, " ".join(w)) for name, w in words.items()]
    return out


@dataclass(frozen=True)
class SlotFocus:
    """The slots the question asks about among those the evidence declares, and the entries it names
    (empty `asked`: none, and every value is judged by its words alone)."""

    asked: frozenset[str]
    declared: frozenset[str]
    entries: frozenset[str] = frozenset()  # the entries the question names most specifically
    declaring: frozenset[tuple[str, str]] = frozenset()  # (entry, slot) pairs the evidence declares

    @classmethod
    def of(cls, question: str, evidence: Iterable[EvidenceItem]) -> SlotFocus:
        items = list(evidence)
        declared = declared_slots(items)
        names = {d.name for d in declared}
        terms = question_terms(question)
        asked = {s for s in names if slot_named(s, terms)}
        # "the default kiln_limit" names kiln_limit; it does not also name a slot called `kiln`.
        asked = {s for s in asked if not any(s != o and _parts(s) < _parts(o) for o in asked)}
        # Named in words only ("above the heat level"), a slot is ambiguous when the question also
        # holds a part of another declared slot's name that the asked one lacks ("margin").
        if asked and not any(spelled(s, question) for s in asked):
            own = set().union(*(_parts(s) for s in asked))
            rivals = {s for s in names - asked if (_parts(s) - own) & terms}
            if rivals:
                asked = set()
        if not asked:
            asked = cls._described(declared, terms)
        entries: dict[str, int] = {}
        for ev in items:
            entry = parse_entry(ev["section"][-1]) if ev["section"] else None
            if entry is not None:
                # Named in its own spelling (`Kiln.fire()`, `Glaze`), not by a common word ("the kiln").
                short = _own_name(entry).rsplit(".", 1)[-1]
                entries[entry.name] = entry_named_depth(entry, terms) if spelled(short, question) else 0
        deepest = max(entries.values(), default=0)
        named = frozenset(e for e, d in entries.items() if d and d == deepest)
        pairs = frozenset((d.entry, d.name) for d in declared if d.entry is not None)
        own = {s for e, s in pairs if e in named}
        if own:
            # The question names an entry that declares parameters: the asked one is among them
            # ("what message does pkg.pause print" is not about `message` of a sibling `pkg.echo`).
            asked &= own
        return cls(frozenset(asked), frozenset(names), named, pairs)

    @staticmethod
    def _described(declared: list[Declared], terms: set[str]) -> set[str]:
        """Slots whose row words hold most of the question's terms ("how many minutes … cool before
        the door opens" against `cool_wait=30 – minutes to cool before the door opens …`): the best ones."""
        if not terms:
            return set()
        scores: dict[str, int] = {}
        for d in declared:
            shared = len(terms & set(content_terms(d.words)))
            if shared >= DESCRIBED_TERMS and shared >= DESCRIBED_SHARE * len(terms):
                scores[d.name] = max(scores.get(d.name, 0), shared)
        best = max(scores.values(), default=0)
        return {s for s, n in scores.items() if n == best}

    def owner(self, text: str, start: int, row: FieldRow | None, entry_slot: str | None = None) -> str | None:
        """The slot a value at `text[start:]` fills: the name it is assigned to (`name=value`), the
        identifier a clause before it hangs it on, else the row it sits in, else the option entry
        whose body holds the sentence (`entry_slot`); None when unknown."""
        assigned = _ASSIGNED.search(text[max(0, start - 60) : start])
        if assigned:
            return assigned.group("name")
        clause = re.split(r"[;.]\s", text[:start])[-1]
        if row is not None:
            # The row's own name opens the clause; another identifier after it claims what follows.
            clause = clause[len(row.name) :] if opens_row(clause, row) else clause
        named = [m.group(0) for m in _IDENTIFIER.finditer(clause) if m.group(0).rsplit(".", 1)[-1] in self.declared]
        if named:
            return named[-1].rsplit(".", 1)[-1]
        return row.name if row is not None else entry_slot

    def factor(self, owner: str | None, entry: str | None = None, sentence: str = "") -> float:
        """×ASKED_SLOT for a value of the asked slot (of the named entry, when the question names an
        entry that declares it), ×OTHER_SLOT for a neighbour's, ×UNOWNED for a value in a sentence
        that belongs to no slot and never names the asked one; 1 when nothing is asked."""
        if not self.asked:
            return 1.0
        if owner is None:
            mentions = any(spelled(s, sentence) or slot_named(s, set(content_terms(sentence))) for s in self.asked)
            return 1.0 if mentions else UNOWNED
        if owner in self.asked:
            if entry is not None and self.other_entry(entry, owner):
                return OTHER_SLOT  # the same parameter of a sibling entry (`Kiln.fire` vs `Studio.fire_all`)
            return ASKED_SLOT
        return OTHER_SLOT if owner in self.declared else 1.0

    def other_entry(self, entry: str, slot: str) -> bool:
        """Is `entry` another entry than the named ones, while a named one declares the same slot?"""
        if not self.entries or entry in self.entries:
            return False
        return any((e, slot) in self.declaring for e in self.entries)


def asked_rows(focus: SlotFocus, rows: dict[str, FieldRow], ranked: Iterable[Ranked]) -> list[tuple[Ranked, str]]:
    """(sentence, value) for each of the asked slot's rows among the ranked sentences: the value the
    row line declares (`limit=5 – …`), or else the first default stated in a sentence that runs on
    after it (`echo¶ –` then "… Defaults to False."). One value per row."""
    out: list[tuple[Ranked, str]] = []
    seen: set[str] = set()
    for r in sorted(ranked, key=lambda r: (r.ev["node_id"], r.sent["start"])):
        row = rows.get(r.sent["node_id"])
        if row is None or row.name not in focus.asked:
            continue
        key = f"{r.ev['node_id']}:{row.name}"
        if key in seen:
            continue
        own = opens_row(r.sent["text"], row)
        value = row_default(row) if own else next((v.text for v in default_values(r.sent["text"])), None)
        if value:
            seen.add(key)
            out.append((r, value))
    return out
