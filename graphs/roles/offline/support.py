"""Which sentences a claim should cite: the one that names the answer, plus the fewest others that
state the rest of what the claim says.

A multi-hop claim ("X, founded by the industrialist known as the father of Y, …") joins facts from
two documents; citing only the sentences that name the answer leaves half of it unsupported, so the
verifier drops it and the answer cites one gold paragraph where the question needed two. Greedy set
cover over the subgoal's evidence: add the sentence that covers most of the claim's still-uncovered
terms, while it covers enough.
"""

from __future__ import annotations

from graphs.roles.offline.evidence import Ranked
from graphs.text.words import PRONOUN_START, content_terms, negates

MAX_CITATIONS = 3
MIN_GAIN = 2  # a further citation must add at least this many of the claim's terms


def _covered(r: Ranked) -> set[str]:
    terms = set(content_terms(r.sent["text"]))
    if PRONOUN_START.match(r.sent["text"]) or r.sent["start"] <= len(r.ev["title"]) + 8:
        terms |= set(content_terms(" ".join(r.ev["section"])))  # "He …" / an opening line is about the page
    return terms


def covering_support(
    claim: str, chosen: list[Ranked], pool: list[Ranked], named_pages: frozenset[str] = frozenset()
) -> list[Ranked]:
    """`chosen` (the answer's own sentences) plus the sentences of `pool` that best cover the rest of
    `claim`, at most `MAX_CITATIONS` in all. `named_pages` are the documents of entities the task
    names: a claim resting on such an entity cites its page's best sentence too (the page says what
    the entity is, which the claim takes for granted)."""
    wanted = set(content_terms(claim))
    # Names and numbers weigh double: a claim whose names and numbers are all cited is checkable;
    # one missing a name, or a number the question gave ("… who died in 1907"), is not.
    names = set(content_terms(" ".join(w for w in claim.split() if w[:1].isupper() or w[:1].isdigit())))
    have = set().union(*(_covered(r) for r in chosen)) if chosen else set()
    # A negated sentence would read as contradicting an affirmative claim: never add one to it, and
    # drop one of the answer's own sentences when another of them states the answer without negation.
    affirmative = not negates(claim)
    if affirmative and len(chosen) > 1:
        chosen = [r for r in chosen if not negates(r.sent["text"])] or chosen
    out = list(chosen)
    seen = {r.sent["node_id"] for r in out}
    while len(out) < MAX_CITATIONS:
        missing = wanted - have
        if not missing:
            break
        best, gain = None, 0
        for r in pool:
            if r.sent["node_id"] in seen or (affirmative and negates(r.sent["text"])):
                continue
            hit = missing & _covered(r)
            g = len(hit) + len(hit & names)
            if g > gain:
                best, gain = r, g
        if best is None or gain < MIN_GAIN:
            break
        out.append(best)
        seen.add(best.sent["node_id"])
        have |= _covered(best)
    cited_docs = {r.ev["doc_id"] for r in out}
    for doc in sorted(named_pages - cited_docs):
        own = next((r for r in pool if r.ev["doc_id"] == doc and not (affirmative and negates(r.sent["text"]))), None)
        if own is not None and len(out) < MAX_CITATIONS:
            out.append(own)
    return out
