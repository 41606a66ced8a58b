"""Offline planner (H-level): parses common task shapes into a subgoal DAG.

Shapes: yes/no over two items ("were A and B both…", "are A and B of the same…"), choice ("which…, X or
Y?"), enumeration ("list the three…"), conjunction ("what is A and what is B"), bridge ("the director of
the film that…", "X lies in a region that counts how many…"), and plain lookups. A dependent subgoal's query
holds a `{sN}` slot the graph fills with subgoal N's answer. Grammar rules only: nothing here knows a
corpus or a question.

Bridges are peeled in `bridges`, subgoals built in `subgoals`, refinement rounds planned in `replan`;
the plan hands the solver a typed `PlanInfo` (graphs/state.py), never a free dict.
"""

from __future__ import annotations

import re

from graphs.roles.base import Plan, Usage
from graphs.roles.offline.bridges import WH, bridge_chain
from graphs.roles.offline.compare import comparator_of
from graphs.roles.offline.replan import replan
from graphs.roles.offline.subgoals import clean, new_subgoal, strip_article
from graphs.state import PlanInfo, Subgoal
from graphs.text.clauses import asked_clause
from graphs.text.spans import CAP_SPAN
from policies.limits import Limits

_AUX = r"(?:are|were|is|was|do|did|does|have|has|had|can|could)"
_COUNT = r"two|three|four|five|six|seven|eight|nine|ten|\d{1,2}"
# "List the three …", "Name the two …", "Which three shells …", "What are the four …": a count of items.
_ENUM = re.compile(
    rf"^(?P<lead>list|name|give|what are|which|what)\s+(?:the\s+|all\s+(?:the\s+)?)?(?P<n>{_COUNT})\s+(?=[a-z])",
    re.I,
)
# "List the HTTP methods …", "Name all options that …": items, as many as the evidence names.
_ENUM_OPEN = re.compile(r"^(?P<lead>list|name all|what are all)\s+(?:the\s+)?(?=\S)", re.I)
_CONJ = re.compile(
    r"^(?P<a>(?:what|who|where|when|which|how)\b.+?)(?P<comma>,?)\s+and\s+"
    r"(?P<b>(?:(?:with|in|on|at|by|from|for|under|to)\s+)?(?:what|who|where|when|which|how)\b.+)$",
    re.I,
)
# "How do I …", "How can my script …": a question for a means (an entry, a command), not a chain of facts.
_HOW_TO = re.compile(r"^how\s+(?:can|could|do|does|should|would|to)\b", re.I)
_LEAD_PREPOSITION = re.compile(r"^(?:with|in|on|at|by|from|for|under|to)\s+", re.I)
# "…, and which option gives …": a second question about its own thing (a noun after the wh-word).
_OWN_QUESTION = re.compile(
    r"^(?:which|what)\s+(?!(?:is|was|are|were|do|does|did|has|have|had|can)\b)[a-z][\w-]*\s+\w", re.I
)
# "Of A and B, which one …", "Between A and B, which …", "Which of A and B …": the options come first.
_PAIR_FIRST = re.compile(
    r"^(?:of|between)\s+(?P<a>[^,]+?)\s+and\s+(?P<b>[^,]+?),\s*(?P<head>(?:which|who|what)\b.+)$", re.I
)
_WHICH_OF = re.compile(
    r"^(?P<head>which)\s+of\s+(?:the\s+two\s+)?(?P<a>\S+)\s+and\s+(?P<b>\S+)\s+(?=\S)(?P<tail>.+)$", re.I
)
# An option spelled as code or a flag (lower case, but a name all the same).
_TECHNICAL = re.compile(r"^--?[A-Za-z]|[._]\w|\(\)$")


_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def _same_target(m: re.Match[str]) -> bool:
    """ "Who composed X and who retired in 1999?" asks for one person under two constraints; "Which
    option does X, and which option does Y?" (a comma, a noun after the second wh-word) asks two questions."""
    if m.group("a").split()[0].lower() != m.group("b").split()[0].lower():
        return False
    return not (m.group("comma") and _OWN_QUESTION.match(m.group("b")))


def count_of(word: str) -> int:
    """ "three" -> 3, "4" -> 4: how many items an enumeration asks for."""
    return _NUMBER_WORDS.get(word.lower()) or int(word)


def asked_count(task: str) -> int | None:
    """How many items a list question asks for: "List the three …" -> 3, "Name all options …" -> 0
    (as many as the evidence names), None when the task asks for no list. The planner's reading of
    an enumeration, shared with anything that must read a task the same way."""
    q = " ".join(task.split())
    m = _ENUM.match(q) or _ENUM_OPEN.match(q)
    if not m:
        return None
    return count_of(m.group("n")) if "n" in m.groupdict() and m.group("n") else 0


def _name_at_end(text: str) -> str:
    """The capitalised name that ends `text` ("the cocktail Tamsin" -> "Tamsin")."""
    spans = list(CAP_SPAN.finditer(text))
    if spans and spans[-1].end() >= len(text.rstrip(" ,")) - 1:
        return spans[-1].group(0).strip(" ,")
    return strip_article(text)


def _name_at_start(text: str) -> tuple[str, str]:
    """Split "Oduncu Hall located in the same…" into the name and what follows it."""
    body = re.sub(r"^(the|a|an)\s+", "", text.strip(), flags=re.I)
    m = CAP_SPAN.match(body)
    if not m:
        return "", text
    return m.group(0).strip(" ,"), body[m.end() :].strip(" ,")


class OfflinePlanner:
    """Deterministic decomposition; falls back to one lookup subgoal (the solver still multi-hops)."""

    def plan(
        self, task: str, *, limits: Limits, feedback: list[str], previous: dict[str, Subgoal], round: int
    ) -> tuple[Plan, Usage]:
        task = " ".join(task.split())
        if round > 0:
            return replan(task, limits, feedback, previous, round), Usage()
        plan = self._parse(task, round)
        plan.subgoals = plan.subgoals[: limits.max_subgoals]
        return plan, Usage()

    # ------------------------------------------------------------------ shapes
    def _parse(self, task: str, rnd: int) -> Plan:
        q = clean(task.rstrip("?. ").strip())
        q = asked_clause(q)  # "Corvin plays jazz in Oslo, but which label signed Nova-Kite?": the last clause
        same_wh = _CONJ.match(q)
        if same_wh and _same_target(same_wh):
            return Plan("lookup", [new_subgoal(1, q, "lookup", rnd=rnd)], {})  # one entity under two constraints
        for shape in (self._yes_no, self._choice, self._enumeration, self._conjunction, self._bridge):
            plan = shape(q, rnd)
            if plan is not None:
                return plan
        return Plan("lookup", [new_subgoal(1, q, "lookup", rnd=rnd)], {})

    def _yes_no(self, q: str, rnd: int) -> Plan | None:
        m = re.match(rf"^(?P<aux>{_AUX})\s+(?:both\s+)?(?P<body>.+)$", q, re.I)
        if not m or WH.search(q.split(",", maxsplit=1)[0][len(m.group("aux")) :]):
            return None
        body = m.group("body")
        pair = re.match(r"^(?P<a>.+?),?\s+and\s+(?P<b>.+)$", body)
        if pair:
            a = _name_at_end(pair.group("a"))
            b, prop = _name_at_start(pair.group("b"))
            if a and b and prop:
                prop = re.sub(r"^both\s+", "", prop, flags=re.I)
                same = re.search(r"\bthe same\b(?P<attr>.*)$", prop, re.I)
                kind = "same" if same else "both"
                attribute = same.group("attr").strip() if same else ""
                return Plan(
                    kind,
                    [
                        new_subgoal(1, f"{m.group('aux')} {a} {prop}", "yesno_item", rnd=rnd),
                        new_subgoal(2, f"{m.group('aux')} {b} {prop}", "yesno_item", rnd=rnd),
                    ],
                    {"options": [a, b], "property": prop, "attribute": attribute},
                )
        name, prop = _name_at_start(body)
        if name and prop:
            return Plan(
                "both",
                [new_subgoal(1, q, "yesno_item", rnd=rnd)],
                {"options": [name], "property": prop, "attribute": ""},
            )
        return None

    def _choice(self, q: str, rnd: int) -> Plan | None:
        paired = _PAIR_FIRST.match(q) or _WHICH_OF.match(q)
        if paired:
            tail = paired.groupdict().get("tail") or ""
            head = paired.group("head") + (" " if tail else "")
            return self._choice_plan(head, paired.group("a"), paired.group("b"), tail, rnd)
        if not re.match(r"^(?:which|who|what)\b", q, re.I) or " or " not in q:
            return None
        head = a = b = tail = ""
        m = re.match(r"^(?P<head>[^,:]+?)[,:]\s*(?P<a>[^,:]+?)\s+or\s+(?P<b>[^,:]+?)\s*,\s*(?P<tail>.+)$", q)
        if m:
            head, a, b, tail = m.group("head"), m.group("a"), m.group("b"), m.group("tail")
        else:
            m = re.match(r"^(?P<head>.+?)[,:]\s*(?P<a>[^,:]+?)\s+or\s+(?P<b>[^,:]+?)$", q)
            if m:
                head, a, b = m.group("head"), m.group("a"), m.group("b")
            else:
                m = re.match(r"^(?P<head>.+?)\s+(?P<a>\S.*?)\s+or\s+(?P<b>[^,:]+?)$", q)
                if not m:
                    return None
                head, a = self._option_from_head(m.group("head") + " " + m.group("a"))
                b = m.group("b")
                if _TECHNICAL.search(b):
                    return (
                        None  # "… unless given -f or -i": flags at the end of a clause are not the options asked about
                    )
        if q.lower().startswith(("what is", "what was", "what are")) and not tail:
            return None
        return self._choice_plan(head, a, b, tail, rnd)

    @staticmethod
    def _choice_plan(head: str, a: str, b: str, tail: str, rnd: int) -> Plan | None:
        """Two named options (names, or technical ones: `--flag`, `module.func`) and what decides."""
        # "tool sync --keep-local" against "--overwrite": the option is the flag, the words before it its context.
        opts = [o.rsplit(maxsplit=1)[-1] if _TECHNICAL.search(o.rsplit(maxsplit=1)[-1]) else o for o in (a, b)]
        opts = [strip_article(o) for o in opts]
        if not all(o and (o[0].isupper() or o[0].isdigit() or o[0] in '"“' or _TECHNICAL.search(o)) for o in opts):
            return None
        attribute = clean(re.sub(r"^(which|who|what)\s+(one\s+)?", "", head, flags=re.I) + " " + tail)
        return Plan(
            "choice",
            [new_subgoal(i + 1, f"{opt} {attribute}", "compare_item", rnd=rnd) for i, opt in enumerate(opts)],
            {"options": opts, "attribute": attribute, "comparator": comparator_of(head + " " + tail)},
        )

    @staticmethod
    def _option_from_head(head: str) -> tuple[str, str]:
        """Without a comma, the first option is the capitalised span that ends the head."""
        spans = list(CAP_SPAN.finditer(head))
        if spans and spans[-1].end() >= len(head.rstrip()) - 1 and spans[-1].start() > 0:
            return head[: spans[-1].start()].strip(), spans[-1].group(0)
        parts = head.rsplit(" ", 2)
        return parts[0], " ".join(parts[1:])

    def _enumeration(self, q: str, rnd: int) -> Plan | None:
        """One lookup typed by the items' noun ("List the five modes of X" asks "Which modes of X?"), and
        the count the solver returns (0: as many as the evidence clearly names)."""
        m = _ENUM.match(q) or _ENUM_OPEN.match(q)
        if not m:
            return None
        count = count_of(m.group("n")) if "n" in m.groupdict() and m.group("n") else 0
        query = "Which " + q[m.end() :].strip()
        return Plan("enumeration", [new_subgoal(1, query, "lookup", rnd=rnd)], PlanInfo(count=count))

    def _conjunction(self, q: str, rnd: int) -> Plan | None:
        m = _CONJ.match(q)
        if not m or len(m.group("a").split()) < 3 or len(_LEAD_PREPOSITION.sub("", m.group("b")).split()) < 3:
            return None  # "…, and in which revision?" qualifies the first question; it is not a second one
        if _same_target(m):
            return None
        return Plan(
            "conjunction",
            [new_subgoal(1, m.group("a"), "lookup", rnd=rnd), new_subgoal(2, m.group("b"), "lookup", rnd=rnd)],
            {},
        )

    def _bridge(self, q: str, rnd: int) -> Plan | None:
        if _HOW_TO.match(q):
            return None  # "How can my tool show a bar that fills up …?": the clause describes what to find
        chain = bridge_chain(q)
        if chain is None:
            return None
        queries, final_is_inner = chain
        if len(queries) == 1:
            return Plan("lookup", [new_subgoal(1, queries[0], "lookup", rnd=rnd)], {})
        subgoals = [
            new_subgoal(i, query, "bridge" if i > 1 else "lookup", [f"s{i - 1}"] if i > 1 else [], rnd=rnd)
            for i, query in enumerate(queries, start=1)
        ]
        return Plan("bridge", subgoals, {"final": "s1" if final_is_inner else subgoals[-1]["id"]})
