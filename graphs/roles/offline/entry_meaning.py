"""Which retrieved API entry a plain-word question is about, judged by meaning and relative to the others.

A plain-word question avoids the name of the entry that answers it ("how do I make my command ask
for a password without echoing it?" is answered by an entry named `prompt(hide_input=…)`). Word
overlap cannot tie such an answer to the question, and an absolute similarity cannot either: MiniLM
puts every API entry of a manual at 0.3–0.6 from any question about that manual. What separates the
entry that answers from the ones that merely share the topic is *how far ahead* it is of the other
retrieved entries: with the answering entry in the pool, one entry's body reads like the question and
the rest trail; with it withheld (or on a corpus that does not answer), the best few are close.

`EntryMeaning.choose` encodes each retrieved entry once (its heading and the start of its body, as
ingest wrote them) with the index's embedder, and returns the closest entry with its similarity and
its margin over the runner-up. The margin is relative (a difference of cosines within one pool), so
it does not grow or shrink with the corpus; `accepted` asks for a margin of at least `min_margin`
and at least `min_entries` entries to compare against (one entry has no runner-up to be ahead of).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from graphs.roles.offline.evidence import Ranked, sentences_of
from graphs.roles.offline.pool import Extraction
from graphs.state import EvidenceItem
from graphs.text.answer_types import answer_type
from graphs.text.entries import Entry, parse_entry
from tools.embeddings import Embedder

BODY_CHARS = 600  # how much of an entry's body stands for its meaning: its first sentences say what it does


@dataclass(frozen=True)
class EntryReading:
    """One retrieved entry as the meaning reader sees it."""

    key: tuple[str, ...]  # document and heading path: an entry's several hits are one entry
    entry: Entry
    heading: str
    items: tuple[EvidenceItem, ...]
    text: str  # what was encoded: heading, then the body's start


@dataclass(frozen=True)
class EntryChoice:
    """The entry closest in meaning to the question, and how clearly it is ahead of the others."""

    reading: EntryReading
    similarity: float
    runner_up: float  # the second-closest entry's similarity (0.0 when it is alone)
    entries: int  # how many distinct entries competed
    accepted: bool

    @property
    def name(self) -> str:
        return self.reading.entry.name

    @property
    def margin(self) -> float:
        return self.similarity - self.runner_up


def entry_readings(evidence: Sequence[EvidenceItem]) -> list[EntryReading]:
    """The distinct API entries among the evidence items (hits under an entry's heading), in
    retrieval order, each with the text that stands for its meaning."""
    groups: dict[tuple[str, ...], list[EvidenceItem]] = {}
    entries: dict[tuple[str, ...], Entry] = {}
    for ev in evidence:
        heading = ev["section"][-1] if ev["section"] else ""
        entry = parse_entry(heading) if heading else None
        if entry is None:
            continue
        key = (ev["doc_id"], *ev["section"])
        groups.setdefault(key, []).append(ev)
        entries.setdefault(key, entry)
    out = []
    for key, items in groups.items():
        heading = key[-1]
        body = " ".join(dict.fromkeys(_body(ev, heading) for ev in sorted(items, key=lambda e: e["start"])))
        text = f"{' '.join(heading.replace('¶', ' ').split())}: {body}"[: len(heading) + 2 + BODY_CHARS]
        out.append(EntryReading(key, entries[key], heading, tuple(items), text))
    return out


def _body(ev: EvidenceItem, heading: str) -> str:
    """An item's text without its entry's heading line (the heading is encoded once, in front)."""
    text = ev["text"].strip()
    first, _, rest = text.partition("\n")
    if first.strip().replace("¶", "").strip() == heading.replace("¶", "").strip():
        text = rest
    return " ".join(text.split())


class EntryMeaning:
    """Picks the retrieved entry whose body reads most like the question (see the module docstring)."""

    def __init__(self, embedder: Embedder | None, *, min_margin: float = 0.13, min_entries: int = 3) -> None:
        self.embedder = embedder
        self.min_margin = min_margin
        self.min_entries = min_entries

    def similarities(self, question: str, readings: Sequence[EntryReading]) -> list[float]:
        """Cosine of the question to each reading's text (the embedder's vectors are unit length)."""
        if self.embedder is None or not readings:
            return []
        vecs = self.embedder.embed([question, *(r.text for r in readings)])
        return [float(v) for v in np.asarray(vecs[1:]) @ np.asarray(vecs[0])]

    def choose(self, question: str, evidence: Sequence[EvidenceItem]) -> EntryChoice | None:
        """The closest entry with its margin over the runner-up; None when the evidence holds no
        entry or there is no embedder."""
        readings = entry_readings(evidence)
        sims = self.similarities(question, readings)
        if not sims:
            return None
        order = sorted(range(len(sims)), key=lambda i: -sims[i])
        best = order[0]
        runner_up = sims[order[1]] if len(order) > 1 else 0.0
        accepted = len(order) >= self.min_entries and sims[best] - runner_up >= self.min_margin
        return EntryChoice(readings[best], sims[best], runner_up, len(order), accepted)


# A name the question spells (a flag, a dotted or snake_case identifier): then it is not in plain words.
_SPELLED_NAME = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*|\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|\b[a-z]+_[a-z_]+\b|`")


def asks_by_meaning(question: str) -> bool:
    """Is this a how-to question in plain words, the kind an entry's name answers without sharing its
    words ("how do I make the prompt hide what is typed?")? Typed `text` (how / what should I use),
    and spelling no identifier or flag (a question that names `--frozen` is read by its name)."""
    return answer_type(question).kind == "text" and not _SPELLED_NAME.search(question)


def defining_support(choice: EntryChoice) -> list[Ranked]:
    """What an answer read by meaning rests on: the entry's sentence closest to the question (the
    retrieval similarity it already carries; its first sentence when none does) and its heading line,
    so the claim states what the entry says of itself and cites the heading that names it."""
    body: list[Ranked] = []
    heading: Ranked | None = None
    for ev in sorted(choice.reading.items, key=lambda e: e["start"]):
        for pos, sent in enumerate(sentences_of(ev)):
            if sent.get("kind") == "heading":
                heading = heading or Ranked(choice.similarity, sent, ev, 0)
            elif sent.get("kind") != "entry_row":
                body.append(Ranked(float(sent.get("sim", 0.0)), sent, ev, pos))
    # The closest sentence; on a tie the earlier one (max keeps the first of equals).
    out = [max(body, key=lambda r: r.score)] if body else []
    if heading is not None:
        out.append(heading)
    return out


def read_by_meaning(meaning: EntryMeaning, question: str, evidence: Sequence[EvidenceItem]) -> Extraction | None:
    """The answer to a plain-word how-to question as the name of the entry clearly closest to it in
    meaning (`EntryMeaning.choose` accepted it), with its defining sentence; None otherwise, and the
    usual reading answers."""
    if not asks_by_meaning(question):
        return None
    choice = meaning.choose(question, evidence)
    if choice is None or not choice.accepted:
        return None
    support = defining_support(choice)
    if not support or support[0].sent.get("kind") == "heading":
        return None  # an entry with no sentence of its own states nothing a claim could rest on
    return Extraction(choice.name, round(min(1.0, choice.similarity + choice.margin), 4), support)


def chosen_by_meaning(
    meaning: EntryMeaning, question: str, answer: str, evidence: Mapping[str, Sequence[EvidenceItem]]
) -> bool:
    """The verifier's question grounding for a plain-word answer: `answer` is the name of the entry
    that the meaning reader accepts for the question on the evidence of one of the run's subgoals (the
    words cannot tie them; the entry's clear lead over the other retrieved entries does)."""
    if not asks_by_meaning(question):
        return False
    for items in evidence.values():
        choice = meaning.choose(question, items)
        if choice is not None and choice.accepted and answer in {choice.name, *choice.reading.entry.aliases}:
            return True
    return False
