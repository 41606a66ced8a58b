"""The claims an offline draft makes: a subgoal's answer restated (or, for a signature default, in the
signature's notation), a comparison's sentence led by its option, and the small helpers that fill a
chain's placeholders and drop repeated claims."""

from __future__ import annotations

import re

from graphs.roles.offline.compare import names_option
from graphs.roles.offline.entry_meaning import page_command
from graphs.roles.offline.evidence import Ranked, clean_title
from graphs.roles.offline.slots import SlotFocus, opens_row, row_default, rows_in_order
from graphs.roles.offline.statements import statement
from graphs.roles.offline.structure import entry_of, signature_default
from graphs.state import ClaimDict, Subgoal
from graphs.text.answer_types import answer_type
from graphs.text.code_spans import default_values
from graphs.text.entries import whatis_name
from graphs.text.normalize import normalize_answer
from graphs.text.words import content_terms


def about_option(r: Ranked, per_option: list[tuple[str, list[Ranked]]]) -> str:
    """A comparison's claim: the sentence, led by the option it is about when only its entry's
    heading names it ("--retain-logs: Leaves the old logs in place."), so the claim carries the option chosen."""
    text = r.sent["text"]
    for option, ranked in per_option:
        if any(x is r for x in ranked) and option not in text and names_option(r, option):
            return f"{option}: {text}"
    return text


def about(option: str, ranked: list[Ranked]) -> list[Ranked]:
    """Sentences about one option: from its own document first, then any that name it."""
    key = normalize_answer(option)
    own = [r for r in ranked if normalize_answer(clean_title(r.ev["title"])) == key or names_option(r, option)]
    terms = set(content_terms(option))
    naming = [r for r in ranked if r not in own and terms and terms <= set(content_terms(r.sent["text"]))]
    return own + naming or ranked[:3]


def claim_text(query: str, answer: str, chosen: list[Ranked], *, pages: bool = False) -> str:
    """The claim an answer makes. A default read from a signature says which entry and parameter it
    belongs to, in the signature's own notation ("In ferrylib.dock, timeout = 5.0."), so it is checked
    against that line; anything else is the question restated with its answer. With `pages`
    (`OfflineThresholds.entry_meaning`) a manual page's command names the page like an entry's name."""
    head = chosen[0].sent
    body = "\n".join(s["text"] for s in chosen[0].ev["sentences"])
    found = signature_default(head["text"], answer, query, body) if head.get("kind") == "heading" else None
    if found is not None:
        entry, param = found
        return f"In {entry.name}, {param} = {entry.defaults[param]}."
    row = row_statement(query, answer, chosen[0])
    if row is not None:
        return row
    said = entry_statement(query, answer, chosen[0], pages=pages)
    return said if said is not None else statement(query, answer)


def row_statement(query: str, answer: str, r: Ranked) -> str | None:
    """A default read from the asked parameter's row of an entry (`limit=5 – …`, or the row's run-on
    "Defaults to 5.") claims it in the same notation as a signature default ("In pkg.open, limit =
    5."): the row and the entry's heading state it, the question's own words need not."""
    entry = entry_of(r)
    row = rows_in_order(r.ev).get(r.sent["node_id"])
    if entry is None or row is None or row.name not in SlotFocus.of(query, [r.ev]).asked:
        return None
    stated = row_default(row) if opens_row(r.sent["text"], row) else None
    values = {stated} | {v.text for v in default_values(r.sent["text"])}
    return f"In {entry.name}, {row.name} = {answer}." if answer in values else None


def entry_statement(query: str, answer: str, r: Ranked, *, pages: bool = False) -> str | None:
    """A how-to question answered by an entry's name ("How do I show a bar while it works?" ->
    `widgetry.meter`) claims what the entry says of itself — "widgetry.meter: Show a bar that fills
    as the work goes." — not the question's own words with the name put in: a reference page describes
    the entry in its words, never in the user's, so the restated question could never be checked.
    Whether the entry is what was asked is the verifier's question grounding."""
    if answer_type(query).kind != "text" or not names_itself(r, answer, pages=pages):
        return None
    own = r.sent["text"] if r.sent.get("kind") != "heading" else ""
    body = own or next((s["text"] for s in r.ev["sentences"] if s.get("kind") != "heading"), "")
    if not body:
        return None
    return body if answer in body else f"{answer}: {body}"


def names_itself(r: Ranked, answer: str, *, pages: bool = False) -> bool:
    """Is `answer` the name of the entry (or manual page) this sentence belongs to? A manual page's
    NAME line names its command; with `pages`, so does the page's title (`ferry-dock(1)`)."""
    entry = entry_of(r)
    if entry is not None and answer in {entry.name, entry.short, *entry.aliases}:
        return True
    if pages and page_command(r.ev["title"]) == answer:
        return True
    return whatis_name(r.ev["section"], r.sent["text"]) == answer


def filled(sg: Subgoal, subgoals: dict[str, Subgoal]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: subgoals.get(m.group(1), {}).get("answer", "") or m.group(0), sg["query"])


def unique_claims(claims: list[ClaimDict]) -> list[ClaimDict]:
    seen: set[str] = set()
    out: list[ClaimDict] = []
    for c in claims:
        if c["text"] in seen:
            continue
        seen.add(c["text"])
        out.append(c)
    return out
