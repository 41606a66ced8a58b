"""Offline planner (H-level): parses common task shapes into a subgoal DAG.

Shapes: comparison ("X or Y, which…"), both ("were A and B both…"), bridge ("the director of the
film that…"), conjunction ("what is A and what is B"), enumeration ("list the three…"), lookup.
A dependent subgoal's query holds a `{sN}` slot that the graph fills with subgoal N's answer.
"""

from __future__ import annotations

import re

from graphs.roles.base import Plan, Usage
from graphs.roles.offline.text import CAP_SPAN, answer_type
from graphs.state import Subgoal
from policies.limits import Limits

_CHOICE = re.compile(r"^(?P<head>(?:which|who|what)\b.*?)[,:]?\s+(?P<a>[^,]+?)\s+or\s+(?P<b>[^,?]+?)\s*\??$", re.I)
_BOTH = re.compile(
    r"^(?P<aux>are|were|is|was|do|did|does|have|has|had)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+(?P<prop>both\b.*|"
    r"(?:of\s+)?the\s+same\b.*|from\s+the\s+same\b.*)\??$",
    re.I,
)
_RELATIVE = re.compile(
    r"\b(?P<np>(?:the|a|an)\s+(?:[\w'’-]+\s+){0,3}?[\w'’-]+)\s+(?P<rel>that|which|who|whose)\s+(?P<clause>.+)$", re.I
)
_OF_CHAIN = re.compile(
    r"\b(?:the\s+)?(?P<role>(?:(?!(?:was|is|were|are|the|a|an)\b)[\w'’-]+\s+){0,2}?(?:director|founder|author|creator|ceo|chief executive(?: officer)?|"
    r"president|manager|leader|head|owner|father|mother|son|daughter|wife|husband|capital|singer|writer|producer|"
    r"star|coach|captain|designer|architect|publisher|developer|inventor|composer|host|chair|mayor|governor|"
    r"successor|predecessor|headquarters))\s+of\s+(?P<obj>.+)$",
    re.I,
)
_TRAILING_PREDICATE = re.compile(
    r"\s+(born|located|based|founded|formed|established|released|published|built|opened|made|created|"
    r"headquartered|buried|married|educated|raised|die|died|live|lived|start|started|begin|began|end|ended|"
    r"play|played|work|worked|serve|served|retire|retired)(\s+\w+)?\s*\??$",
    re.I,
)
_ENUM = re.compile(r"^(?:list|name|give|what are)\s+(?:the\s+)?(?P<n>two|three|four|five|six|\d+)\b", re.I)
_CONJ = re.compile(
    r"^(?P<a>(?:what|who|where|when|which|how)\b.+?)\s+and\s+(?P<b>(?:what|who|where|when|which|how)\b.+)$", re.I
)
_COMPARATORS = {
    "min": r"\b(earlier|earliest|first|older|oldest|shorter|shortest|smaller|smallest|fewer|less|least|lower|lowest|"
    r"cheaper|before)\b",
    "max": r"\b(later|latest|last|newer|newest|younger|youngest|longer|longest|larger|largest|bigger|biggest|more|"
    r"most|higher|highest|greater|taller|tallest|after|recent)\b",
}


def _sg(i: int, query: str, kind: str, depends: list[str] | None = None, depth: int = 0, rnd: int = 0) -> Subgoal:
    return Subgoal(
        id=f"s{i}" if rnd == 0 else f"r{rnd}s{i}",
        query=query.strip(),
        kind=kind,
        answer_type=answer_type(query).kind,
        depends_on=depends or [],
        depth=depth,
        status="pending",
        answer="",
        confidence=0.0,
        hops=0,
        queries=[],
        support=[],
        round=rnd,
    )


def comparator_of(text: str) -> str | None:
    for direction, pattern in _COMPARATORS.items():
        if re.search(pattern, text, re.I):
            return direction
    return None


def _strip_article(text: str) -> str:
    return re.sub(r"^(the|a|an)\s+", "", text.strip(), flags=re.I)


def _option_from_head(head: str) -> tuple[str, str]:
    """Without a comma, the first option is the capitalised span that ends the head."""
    spans = list(CAP_SPAN.finditer(head))
    if spans and spans[-1].end() >= len(head.rstrip()) - 1 and spans[-1].start() > 0:
        return head[: spans[-1].start()].strip(), spans[-1].group(0)
    parts = head.rsplit(" ", 2)
    return parts[0], " ".join(parts[1:])


class OfflinePlanner:
    """Deterministic decomposition; falls back to one lookup subgoal (the solver still multi-hops)."""

    def plan(
        self, task: str, *, limits: Limits, feedback: list[str], previous: dict[str, Subgoal], round: int
    ) -> tuple[Plan, Usage]:
        task = " ".join(task.split())
        if round > 0:
            return self._replan(task, limits, feedback, previous, round), Usage()
        plan = self._parse(task, round)
        plan.subgoals = plan.subgoals[: limits.max_subgoals]
        return plan, Usage()

    def _parse(self, task: str, rnd: int) -> Plan:
        q = task.rstrip("?").strip() + "?"
        m = _BOTH.match(q)
        if m:
            a, b, prop = m.group("a"), m.group("b"), m.group("prop").rstrip("?")
            prop_terms = re.sub(r"^both\s+", "", prop, flags=re.I)
            kind = "same" if "same" in prop.lower() else "both"
            return Plan(
                kind,
                [
                    _sg(1, f"{a} {prop_terms}", "yesno_item", rnd=rnd),
                    _sg(2, f"{b} {prop_terms}", "yesno_item", rnd=rnd),
                ],
                {"options": [a, b], "property": prop_terms},
            )
        m = _CHOICE.match(q)
        if m and not q.lower().startswith(("what is", "what was", "what are")):
            head, a, b = m.group("head"), m.group("a"), m.group("b")
            if "," not in task:
                head, a = _option_from_head(head + " " + a)
            attribute = re.sub(r"^(which|who|what)\s+(one\s+)?", "", head, flags=re.I).strip()
            opts = [_strip_article(a), _strip_article(b)]
            return Plan(
                "choice",
                [_sg(i + 1, f"{opt} {attribute}", "compare_item", rnd=rnd) for i, opt in enumerate(opts)],
                {"options": opts, "attribute": attribute, "comparator": comparator_of(head)},
            )
        m = _ENUM.match(q)
        if m:
            return Plan("enumeration", [_sg(1, q, "lookup", rnd=rnd)], {"count": m.group("n")})
        m = _CONJ.match(q)
        if m and len(m.group("a").split()) >= 3 and len(m.group("b").split()) >= 3:
            return Plan(
                "conjunction",
                [_sg(1, m.group("a").rstrip(",") + "?", "lookup", rnd=rnd), _sg(2, m.group("b"), "lookup", rnd=rnd)],
                {},
            )
        chain = self._bridge_chain(q)
        if len(chain) > 1:
            subgoals = []
            for i, query in enumerate(chain, start=1):
                subgoals.append(_sg(i, query, "bridge" if i > 1 else "lookup", [f"s{i - 1}"] if i > 1 else [], rnd=rnd))
            return Plan("bridge", subgoals, {})
        return Plan("lookup", [_sg(1, q, "lookup", rnd=rnd)], {})

    def _bridge_chain(self, q: str) -> list[str]:
        """Peel nested noun phrases from the inside out: each becomes a subgoal feeding the next."""
        body = q.rstrip("?")
        chain: list[str] = []
        for _ in range(3):
            tail = ""
            pred = _TRAILING_PREDICATE.search(body)
            core = body
            if pred and re.match(r"^(?:in |at |on |from |to )?(where|when|what|which|who|how)\b", body, re.I):
                core, tail = body[: pred.start()], body[pred.start() :]
            rel = _RELATIVE.search(core)
            if rel and rel.start() > 0:
                np = rel.group("np")
                clause = rel.group("clause").strip()
                noun = _strip_article(np)
                pron = "Who" if rel.group("rel").lower() in {"who", "whose"} else f"Which {noun}"
                inner = f"{pron} {clause}?"
                slot = f"{{s{len(chain) + 1}}}"
                chain.append(inner)
                body = core[: rel.start()] + slot + tail
                continue
            of = _OF_CHAIN.search(core)
            if of and of.start() > 0 and not core[: of.start()].strip().lower().endswith(" of"):
                obj = of.group("obj").strip()
                role = of.group("role").strip()
                inner = (
                    f"Who is the {role} of {obj}?"
                    if "headquarters" not in role and "capital" not in role
                    else f"What is the {role} of {obj}?"
                )
                slot = f"{{s{len(chain) + 1}}}"
                chain.append(inner)
                body = core[: of.start()] + slot + tail
                continue
            break
        if not chain:
            return [q]
        chain.append(body.strip() + "?")
        # Inner subgoals were produced innermost-last for nested relatives; slots are numbered by order.
        return chain

    def _replan(self, task: str, limits: Limits, feedback: list[str], previous: dict[str, Subgoal], rnd: int) -> Plan:
        """After failed verification: the same DAG again, with the weakest subgoal's query widened by
        the task's own terms (one level deeper). Answers of the other subgoals are recomputed too."""
        last_round = max((sg.get("round", 0) for sg in previous.values()), default=0)
        prior = sorted((sg for sg in previous.values() if sg.get("round", 0) == last_round), key=lambda s: s["id"])
        if not prior:
            return Plan("refine", [], {"feedback": feedback})
        weakest = min(prior, key=lambda s: (s.get("status") == "answered", s.get("confidence", 0.0)))
        rename = {sg["id"]: f"r{rnd}s{i}" for i, sg in enumerate(prior, start=1)}
        task_terms = [w for w in re.findall(r"[\w'’-]+", task) if w.lower() not in _REFINE_SKIP]
        subgoals: list[Subgoal] = []
        for sg in prior:
            query = re.sub(r"\{(\w+)\}", lambda m: "{" + rename.get(m.group(1), m.group(1)) + "}", sg["query"])
            depth = sg.get("depth", 0)
            if sg["id"] == weakest["id"]:
                extra = [w for w in task_terms if w.lower() not in query.lower()]
                query = (query.rstrip("?") + " " + " ".join(extra[:8])).strip() + "?"
                depth += 1
            new = _sg(
                0, query, sg.get("kind", "lookup"), [rename.get(d, d) for d in sg.get("depends_on", [])], depth, rnd
            )
            new["id"] = rename[sg["id"]]
            subgoals.append(new)
        return Plan("refine", subgoals[: limits.max_subgoals], {"feedback": feedback, "rewrote": weakest["id"]})


_REFINE_SKIP = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "is",
        "are",
        "was",
        "were",
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "at",
        "to",
        "do",
        "does",
        "did",
    ]
)
