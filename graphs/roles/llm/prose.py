"""The composer's prose mode: the model writes the answer as plain text with `[n]` source markers,
so its tokens stream to a person watching (`stream_mode="messages"`, tagged `hragent:answer`),
and the text is checked afterwards: every sentence must end with markers of sources it was shown.

Why not JSON: a structured reply streams as tool-call fragments nobody wants to read. Why the
check still holds: the markers are parsed and validated exactly as the structured sources are;
text that fails the check is not used (the deterministic answer takes its place, labelled)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKERS = re.compile(r"((?:\s*\[\d{1,3}\])+)")
_NUMBER = re.compile(r"\[(\d{1,3})\]")
_WORD = re.compile(r"[^\W_]", re.U)


@dataclass(frozen=True)
class ProseSentence:
    text: str
    sources: tuple[int, ...]


class ProseInvalid(ValueError):
    """The prose answer breaks the citation rule; the message is written for a log line."""


def parse_prose(text: str, known: set[int], max_sentences: int) -> list[ProseSentence]:
    """Sentences with the sources each ends with. Raises `ProseInvalid` for a sentence without a
    marker, a marker of an unknown source, or more sentences than allowed."""
    parts = _MARKERS.split(text.strip())
    out: list[ProseSentence] = []

    def carry(chunk: str) -> str:
        """Punctuation written after the markers ("... 1931 [1]. It ...") ends the previous sentence."""
        lead = re.match(r"^\s*([.!?;:,]+)", chunk)
        if lead and out:
            last = out[-1]
            out[-1] = ProseSentence(last.text + lead.group(1), last.sources)
        return chunk[lead.end() :] if lead else chunk

    for i in range(0, len(parts) - 1, 2):
        body, markers = carry(parts[i]).strip(), parts[i + 1]
        numbers = tuple(sorted({int(n) for n in _NUMBER.findall(markers)}))
        if not _WORD.search(body):
            continue  # markers right after markers ("[1] [2]")
        unknown = [n for n in numbers if n not in known]
        if unknown:
            raise ProseInvalid(f"unknown source numbers {unknown}; use only {sorted(known)}")
        out.append(ProseSentence(" ".join(body.split()), numbers))
    tail = carry(parts[-1]).strip() if len(parts) % 2 == 1 else ""
    if _WORD.search(tail):
        raise ProseInvalid("the last sentence names no source")
    if not out:
        raise ProseInvalid("the answer names no source")
    if len(out) > max_sentences:
        raise ProseInvalid(f"{len(out)} sentences; at most {max_sentences}")
    return out
