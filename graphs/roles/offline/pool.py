"""Scored answer candidates of one reading: per answer, its best score in each sentence, its surface
form, its span kind and the sentences naming it; the best one (with a calibrated confidence) or the
best few of one kind (an enumeration)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from graphs.roles.offline.evidence import Ranked
from graphs.roles.offline.reader_model import FEATURES, LearnedScorer
from graphs.text.normalize import normalize_answer
from graphs.text.words import negates


@dataclass
class Extraction:
    answer: str
    confidence: float
    support: list[Ranked] = field(default_factory=list)
    runner_up: str = ""


@dataclass(frozen=True)
class Offered:
    """One offer of a candidate in one sentence: the hand-set score and the learned model's features
    (without the candidate-level ones, added when the pool is settled)."""

    key: str
    node_id: str
    hand: float
    features: dict[str, float]
    page: str


@dataclass
class CandidatePool:
    """Scored answer candidates of one extraction: per answer key, its score in each sentence, its
    shortest surface form, its span kind and the sentences naming it."""

    scores: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    surface: dict[str, str] = field(default_factory=dict)
    support: dict[str, list[Ranked]] = field(default_factory=lambda: defaultdict(list))
    kinds: dict[str, str] = field(default_factory=dict)
    entries: dict[str, Ranked] = field(default_factory=dict)  # keys offered as an entry's name -> its sentence
    offered: list[Offered] = field(default_factory=list)

    def offer(self, key: str, node_id: str, hand: float, features: dict[str, float], page: str) -> None:
        self.offered.append(Offered(key, node_id, hand, features, page))

    def agreement(self) -> dict[str, dict[str, float]]:
        """Per candidate, how many distinct sentences and pages name it (features of every offer)."""
        sentences: dict[str, set[str]] = defaultdict(set)
        pages: dict[str, set[str]] = defaultdict(set)
        for o in self.offered:
            sentences[o.key].add(o.node_id)
            pages[o.key].add(o.page)
        return {
            k: {"log_sentences": math.log1p(len(sentences[k])), "pages": float(min(3, len(pages[k])))}
            for k in sentences
        }

    def rows(self) -> list[tuple[Offered, dict[str, float]]]:
        """Every offer with its full feature row: its own features, the candidate's agreement counts,
        zeros for the one-hot columns it does not set."""
        agreement = self.agreement()
        blank = dict.fromkeys(FEATURES, 0.0)
        return [(o, blank | o.features | agreement[o.key]) for o in self.offered]

    def settle(self, scorer: LearnedScorer | None) -> None:
        """Each candidate's score per sentence: its best offer's, scored by the hand-set factors
        (`scorer` None) or by the learned model."""
        for o, row in self.rows() if scorer is not None else ((o, {}) for o in self.offered):
            score = o.hand if scorer is None else scorer.score(row, o.hand)
            self.scores[o.key][o.node_id] = max(self.scores[o.key].get(o.node_id, 0.0), score)

    def combined(self, agreement: float) -> dict[str, float]:
        """The best mention counts fully; agreement from other sentences adds a little. (Summing would
        crown whatever entity the evidence mentions most, e.g. the company every page is about.)"""
        out = {}
        for k, per_sentence in self.scores.items():
            v = sorted(per_sentence.values())
            out[k] = v[-1] + agreement * sum(v[-3:-1])
        return out

    def cites(self, key: str) -> list[Ranked]:
        """The sentences naming an answer, best first; an entry's own sentence leads (its heading names it)."""
        ranked = list({r.sent["node_id"]: r for r in sorted(self.support[key], key=lambda r: r.score)}.values())[::-1]
        # An affirmative sentence before a negated one: the claim states the answer, it does not deny it.
        ranked.sort(key=lambda r: negates(r.sent["text"]) and r.sent.get("kind") != "heading")
        own = self.entries.get(key)
        return [own, *(r for r in ranked if r is not own)] if own is not None else ranked

    def best(self, avoid: Sequence[str], agreement: float) -> Extraction:
        if not self.scores:
            return Extraction("", 0.0)
        combined = self.combined(agreement)
        ranking = sorted(combined, key=lambda k: combined[k], reverse=True)
        # Answers a verifier rejected cannot be chosen, but still count against the confidence of the
        # runner-up that replaces them: a second choice is a second choice.
        avoid_keys = {normalize_answer(a) for a in avoid}
        order = [k for k in ranking if k not in avoid_keys]
        if not order:
            return Extraction("", 0.0)
        best = order[0]
        rival = next((k for k in ranking if k != best), None)
        total = sum(combined.values())
        share = combined[best] / total if total else 0.0
        margin = max(0.0, (combined[best] - combined[rival]) / combined[best]) if rival else 1.0
        strength = 1.0 - math.exp(-3.0 * combined[best])
        confidence = round(min(1.0, 0.35 * share + 0.35 * strength + 0.3 * margin), 4)
        return Extraction(
            self.surface[best], confidence, self.cites(best)[:2], self.surface[order[1]] if len(order) > 1 else ""
        )

    def top(self, count: int, agreement: float) -> list[Extraction]:
        """Distinct answers of the best one's kind, best first: `count` of them (as many as there are,
        down to a tenth of the best score), or with no count those within half of the best, up to five."""
        if not self.scores:
            return []
        combined = self.combined(agreement)
        ranking = sorted(combined, key=lambda k: combined[k], reverse=True)
        kind = self.kinds.get(ranking[0], "")
        # Items of a list are entries of one kind: when the best is an entry, so are the rest (a flag
        # mentioned in an example is not one of the documented options).
        entries_only = ranking[0] in self.entries
        floor = combined[ranking[0]] * (0.1 if count else 0.5)
        limit = count or 5
        picked: list[str] = []
        for k in ranking:
            if len(picked) >= limit or combined[k] < floor:
                break
            if (
                self.kinds.get(k) != kind
                or (entries_only and k not in self.entries)
                or any(k in p or p in k for p in picked)
            ):
                continue  # one kind of item; "--quiet" and "quiet" are one item
            picked.append(k)
        return [Extraction(self.surface[k], round(min(1.0, combined[k]), 4), self.cites(k)[:1]) for k in picked]
