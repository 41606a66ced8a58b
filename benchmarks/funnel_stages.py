"""Where an answer is lost on its way through the offline reader (#18, `benchmarks.reader_funnel`).

A run leaves a trail: the evidence the verifier was given (every hop's hits, their sentences and
heading lines), every candidate the solver's pools offered, each round's draft headline with the
verifier's report on it, and the final `short_answer` and outcome. For one answer part (a list of
acceptable variants, matched as the benchmark matches: `structdocs_metrics.contains`, normalised,
at word boundaries) the FIRST stage that no longer holds it is where it was lost:

- `not in evidence`: no retrieved hit, sentence or heading holds it;
- `no candidate`: the evidence holds it, no candidate span of any pool (nor any draft) does;
- `not top draft`: a candidate holds it, no round's draft headline does (ranked below another,
  or the draft was composed from another reading);
- `declined`: a round's draft held it, the final answer does not (the verifier or acceptance
  declined that draft, or a later round replaced it);
- `wrong form`: the run answered with something that holds the answer only loosely (the same
  words or number once punctuation is ignored, e.g. `30` for `30.0`, `pool size` for `pool_size`):
  the reader found it, the benchmark's match does not count it. Checked first: such an answer was
  not lost upstream.

The stage logic is pure (a `Trail` in, a stage out) so that tests can feed it invented trails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.longdocs_metrics import norm
from benchmarks.structdocs_metrics import contains

# Where in the evidence an answer sits, in the order a reader meets it: the sentences it reads (an
# entry's heading line and its field rows are sentences of their own kinds), the heading path a
# citation carries, and the hit's text outside every sentence it was cut into.
PLACES = ("heading line", "entry row", "sentence", "heading path", "hit text only")
STAGES = ("not in evidence", "no candidate", "not top draft", "declined", "wrong form")
CORRECT = "right"
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass
class Round:
    """One verified draft: its headline and what the verifier made of it."""

    short_answer: str
    passed: bool
    reasons: list[str] = field(default_factory=list)  # why claims were not supported, failed checks


@dataclass
class Trail:
    """What one run read, offered, drafted and answered."""

    evidence: list[tuple[str, str]]  # (place, text): sentences by kind, heading paths, hit texts (PLACES)
    candidates: list[list[str]]  # per candidate pool, its surfaces best first
    read: list[list[str]] = field(default_factory=list)  # per pool, its evidence sentences by relevance
    rounds: list[Round] = field(default_factory=list)
    short_answer: str = ""
    answered: bool = False


def loosely_holds(variants: Sequence[str], text: str) -> bool:
    """`text` holds a variant once case and punctuation are ignored (its alphanumeric words in a
    row), or states the same number (`30` for `30.0`)."""
    have = _TOKEN.findall(norm(text))
    if not have:
        return False
    joined = f" {' '.join(have)} "
    for v in variants:
        want = _TOKEN.findall(norm(v))
        if want and f" {' '.join(want)} " in joined:
            return True
        if _number(v) is not None and _number(v) in {_number(t) for t in re.findall(r"\d+(?:\.\d+)?", text)}:
            return True
    return False


def _number(text: str) -> float | None:
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*", text)
    return float(found.group(1)) if found else None


def held_by(variants: Sequence[str], texts: Iterable[str]) -> bool:
    return any(contains(variants, t) for t in texts)


def candidate_rank(variants: Sequence[str], pools: Sequence[Sequence[str]]) -> int | None:
    """The best (1-based) rank any pool gives a candidate holding the part, None when none does."""
    ranks = [i for pool in pools for i, surface in enumerate(pool, 1) if contains(variants, surface)]
    return min(ranks) if ranks else None


def part_stage(variants: Sequence[str], trail: Trail) -> str:
    """Where one answer part was lost (`CORRECT` when the final answer holds it)."""
    if contains(variants, trail.short_answer):
        return CORRECT
    if trail.answered and loosely_holds(variants, trail.short_answer):
        return "wrong form"
    if not held_by(variants, [text for _, text in trail.evidence]):
        return "not in evidence"
    drafts = [r.short_answer for r in trail.rounds]
    if not held_by(variants, [s for pool in trail.candidates for s in pool] + drafts):
        return "no candidate"
    if not held_by(variants, drafts):
        return "not top draft"
    return "declined"


def question_stage(parts: Sequence[Sequence[str]], trail: Trail) -> tuple[str, list[str]]:
    """The question's stage, the earliest loss over its parts (`CORRECT` when none is lost), and
    each part's stage."""
    stages = [part_stage(p, trail) for p in parts]
    lost = [s for s in stages if s != CORRECT]
    return (min(lost, key=STAGES.index) if lost else CORRECT), stages


def evidence_place(variants: Sequence[str], trail: Trail) -> str:
    """The first place (`PLACES` order) of the evidence that holds the part, '' when none does."""
    for place in PLACES:
        if held_by(variants, [text for where, text in trail.evidence if where == place]):
            return place
    return ""


def answer_shape(variants: Sequence[str], texts: Sequence[str]) -> str:
    """What the part looks like, judged on the first variant the texts hold (else the first):
    a number (with or without a unit), a Python literal, an option flag, an identifier or code
    (`_`, `.`, `(`, `=`, `/`, camelCase), a quoted string, or plain words."""
    form = next((v for v in variants if held_by([v], texts)), variants[0] if variants else "")
    bare = form.strip()
    if re.fullmatch(r"-?\d+(?:\.\d+)?", bare):
        return "number"
    if re.fullmatch(r"-?\d+(?:\.\d+)?\s*\w+", bare):
        return "number + unit"
    if bare in {"True", "False", "None"}:
        return "literal"
    if bare.startswith("-"):
        return "flag"
    if bare and bare[:1] in "\"'`":
        return "quoted"
    if re.search(r"[_.(=/]|[a-z][A-Z]", bare):
        return "identifier"
    return "words" if " " in bare else "word"


def sentence_rank(variants: Sequence[str], trail: Trail) -> int | None:
    """The best (1-based) rank any pool's relevance ranking gives a sentence holding the part."""
    ranks = [i for ranked in trail.read for i, text in enumerate(ranked, 1) if contains(variants, text)]
    return min(ranks) if ranks else None


def spanned(variants: Sequence[str], texts: Sequence[str], spans_of: Any) -> str:
    """Did the span extractor cut the part out of a text holding it? `spans_of(text)` gives a
    text's spans (the reader's own extractors); `spanned` when one holds the part, else `not
    spanned` (no extractor offers that shape there), '' when no text holds it."""
    holding = [t for t in texts if contains(variants, t)]
    if not holding:
        return ""
    return "spanned" if any(contains(variants, s) for t in holding for s in spans_of(t)) else "not spanned"


def candidate_overlap(variants: Sequence[str], trail: Trail) -> str:
    """How the offered candidates miss a part no candidate holds: `part of the answer` when one is
    a run of the answer's words (`eight` for `eight hours`: the span cut short), `answer in a
    longer span` when one holds the answer's words loosely (punctuation between), else `none`."""
    surfaces = [s for pool in trail.candidates for s in pool]
    for v in variants:
        want = f" {' '.join(_TOKEN.findall(norm(v)))} "
        for s in surfaces:
            have = " ".join(_TOKEN.findall(norm(s)))
            if have and f" {have} " in want and want.strip() != have:
                return "part of the answer"
    if any(loosely_holds(variants, s) for s in surfaces):
        return "answer in a longer span"
    return "none"


def decline_reason(variants: Sequence[str], trail: Trail) -> str:
    """Why the first draft holding the part did not become the answer: the verifier's first reason
    class (grounding, weak support, a claim check, a checklist, acceptance), or `passed, replaced`
    when the verifier passed it and the run still answered otherwise."""
    held = next((r for r in trail.rounds if contains(variants, r.short_answer)), None)
    if held is None:
        return ""
    if held.passed:
        return "passed, replaced"
    return reason_class(held.reasons)


def reason_class(reasons: Sequence[str]) -> str:
    for reason in reasons:
        if reason.startswith("acceptance"):
            return "acceptance"
        if reason.startswith("the text naming"):
            return "grounding"
        if reason.startswith("weak support"):
            return "weak support"
        if reason.startswith("check"):
            return "checklist"
        if "not in evidence" in reason or "another place" in reason or "negation" in reason:
            return "claim check"
        if reason.startswith("claim cites nothing"):
            return "no citation"
    return "other" if reasons else "no claim"


def round_of(short_answer: str, report: Mapping[str, Any]) -> Round:
    """A `Round` from a draft headline and the verifier's report."""
    reasons = [r for c in report.get("claims", []) if c.get("verdict") != "supported" for r in c.get("reasons", [])]
    reasons += [f"check {c.get('id')}: {c.get('detail', '')}" for c in report.get("checks", []) if not c.get("passed")]
    if (report.get("acceptance") or {}).get("declined"):
        reasons.insert(0, "acceptance model declined")
    return Round(short_answer=short_answer, passed=bool(report.get("passed")), reasons=reasons)
