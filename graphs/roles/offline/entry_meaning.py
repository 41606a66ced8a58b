"""Which retrieved API entry a plain-word question is about, judged by meaning and relative to the others.

A plain-word question avoids the name of the entry that answers it ("how do I let the oven cool
down slowly after a firing?" is answered by a page named `kilnctl-ramp`). Word
overlap cannot tie such an answer to the question, and an absolute similarity cannot either: MiniLM
puts every API entry of a manual at 0.3–0.6 from any question about that manual. What separates the
entry that answers from the ones that merely share the topic is *how far ahead* it is of the other
retrieved entries: with the answering entry in the pool, one entry's body reads like the question and
the rest trail; with it withheld (or on a corpus that does not answer), the best few are close.

`EntryMeaning.choose` encodes each retrieved entry once (its heading and the start of its body, as
ingest wrote them) with the index's embedder, and returns the closest entry with its lead over the
runner-up. It accepts the entry only when three readings agree on it — heading and body, its best
sentence by the similarity retrieval already stored, and retrieval's own order (it is the first
entry hit) — and its two leads (body, best sentence) add up to `min_margin`. Leads are differences
of cosines within one pool, so they do not grow or shrink with the corpus. A manual page counts as
one entry named by its command (`ferry-dock(1)` -> `ferry-dock`): "how do I …?" about a
command-line tool is answered by the command.

Measured (benchmarks/RESULTS.md, #18, tenth session): the lead separates right from wrong entries
only narrowly on the dev split, so `OfflineThresholds.entry_meaning` is off by default.
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
    sentence_lead: float  # its best sentence's lead over the other entries' best sentences
    entries: int  # how many distinct entries competed
    accepted: bool

    @property
    def name(self) -> str:
        return self.reading.entry.name

    @property
    def margin(self) -> float:
        """Its lead over the runner-up by heading and body."""
        return self.similarity - self.runner_up

    @property
    def lead(self) -> float:
        """Both leads together: what `EntryMeaning.min_margin` is compared with."""
        return self.margin + self.sentence_lead


# A manual page's title by the man convention, "name(section)": `ferry-dock(1)` documents `ferry-dock`.
_MAN_TITLE = re.compile(r"^(?P<command>[a-z][\w.+-]*)\(\d[a-z]*\)$")


def page_command(title: str) -> str | None:
    """The command a manual page documents, read from its title (`ferry-dock(1)` -> `ferry-dock`)."""
    m = _MAN_TITLE.match(title.strip())
    return m.group("command") if m else None


def entry_readings(evidence: Sequence[EvidenceItem]) -> list[EntryReading]:
    """The distinct named things among the evidence items, in retrieval order, each with the text
    that stands for its meaning: an API entry (hits under its heading), or a manual page as a whole
    (every hit on it, its options included: "how do I …?" about a command-line tool is answered by
    the command, which its option entries only refine)."""
    groups: dict[tuple[str, ...], list[EvidenceItem]] = {}
    entries: dict[tuple[str, ...], Entry] = {}
    for ev in evidence:
        command = page_command(ev["title"])
        heading = ev["section"][-1] if ev["section"] else ""
        entry = Entry(command, (command,), {}, "command") if command else parse_entry(heading) if heading else None
        if entry is None:
            continue
        key = (ev["doc_id"],) if command else (ev["doc_id"], *ev["section"])
        groups.setdefault(key, []).append(ev)
        entries.setdefault(key, entry)
    out = []
    for key, items in groups.items():
        entry = entries[key]
        head = entry.name if entry.kind == "command" else " ".join(key[-1].replace("¶", " ").split())
        ordered = sorted(items, key=lambda e: e["start"])
        body = " ".join(dict.fromkeys(_body(ev, ev["section"][-1] if ev["section"] else "") for ev in ordered))
        out.append(EntryReading(key, entry, head, tuple(items), f"{head}: {body}"[: len(head) + 2 + BODY_CHARS]))
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

    def __init__(self, embedder: Embedder | None, *, min_margin: float = 0.25, min_entries: int = 2) -> None:
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
        """The closest entry with its lead over the runner-up; None when the evidence holds no entry
        or there is no embedder. Accepted only when three readings agree on it: its heading and body
        (encoded here), its best sentence (the similarity retrieval already stored on each sentence)
        and retrieval's order (it is the first entry hit); and when its two leads together reach
        `min_margin`."""
        readings = entry_readings(evidence)
        sims = self.similarities(question, readings)
        if not sims:
            return None
        order = sorted(range(len(sims)), key=lambda i: -sims[i])
        best = order[0]
        runner_up = sims[order[1]] if len(order) > 1 else 0.0
        by_sentence = [best_sentence(r) for r in readings]
        sentence_order = sorted(range(len(readings)), key=lambda i: -by_sentence[i])
        sentence_lead = by_sentence[best] - max((by_sentence[i] for i in order[1:]), default=0.0)
        agrees = sentence_order[0] == best and best == 0  # readings keep retrieval's order
        accepted = (
            len(order) >= self.min_entries and agrees and (sims[best] - runner_up) + sentence_lead >= self.min_margin
        )
        return EntryChoice(readings[best], sims[best], runner_up, sentence_lead, len(order), accepted)


def best_sentence(reading: EntryReading) -> float:
    """A reading's closest sentence to the query by the similarity retrieval stored (0.0 without any)."""
    return max((float(s.get("sim", 0.0)) for ev in reading.items for s in ev["sentences"]), default=0.0)


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
