"""What the offline reader reads: evidence sentences (without injected instructions), each ranked
against a query, and the citation a sentence becomes. Shared by the solver and the comparisons."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphs.state import CitationDict, EvidenceItem, SentenceRef
from policies.injection import injected_paragraphs, looks_injected, tainted_sentences

_PAREN = re.compile(r"\s*\([^)]*\)\s*$")


@dataclass
class Ranked:
    """One evidence sentence with its relevance to the query being read."""

    score: float
    sent: SentenceRef
    ev: EvidenceItem
    pos: int


def sentences_of(ev: EvidenceItem) -> list[SentenceRef]:
    """A hit's sentences, except text written to steer an assistant: an extractive reader must
    never take its answer from an injected instruction, nor from a sentence in its scope (the rest
    of the paragraph an instruction opens; `policies.injection.tainted_sentences`)."""
    sents = ev["sentences"] or [SentenceRef(node_id=ev["node_id"], text=ev["text"], start=ev["start"], end=ev["end"])]
    dropped: set[str] = set()
    for a, b in injected_paragraphs(ev["text"]):
        inside = [s for s in sents if ev["start"] + a <= s["start"] < ev["start"] + b]
        taint = tainted_sentences([s["text"] for s in inside])
        dropped.update(s["node_id"] for s, bad in zip(inside, taint, strict=True) if bad)
    return [s for s in sents if s["node_id"] not in dropped and not looks_injected(s["text"])]


def citation(sent: SentenceRef, ev: EvidenceItem) -> CitationDict:
    return {
        "source": ev["source"],
        "section": list(ev["section"]),
        "quote": sent["text"],
        "node_id": sent["node_id"],
        "start": sent["start"],
        "end": sent["end"],
    }


def clean_title(title: str) -> str:
    return _PAREN.sub("", title).strip()
