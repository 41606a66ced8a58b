"""Offline planner (H-level): parses common task shapes into a subgoal DAG.

Shapes: yes/no over two items ("were A and B both…", "are A and B of the same…"), choice ("which…, X or
Y?"), enumeration ("list the three…"), conjunction ("what is A and what is B"), bridge ("the director of
the film that…", "X lies in a region that counts how many…"), and plain lookups. A dependent subgoal's query
holds a `{sN}` slot the graph fills with subgoal N's answer. Grammar rules only: nothing here knows a
corpus or a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphs.roles.base import Plan, Usage
from graphs.roles.offline.compare import comparator_of
from graphs.state import PlanInfo, Subgoal
from graphs.text.answer_types import answer_type, classify_noun
from graphs.text.lexicon import wordset
from graphs.text.spans import CAP_SPAN, names_in
from graphs.text.words import content_terms
from policies.limits import Limits

_AUX = r"(?:are|were|is|was|do|did|does|have|has|had|can|could)"
_WH = re.compile(r"\b(what|which|who|whom|whose|when|where|how)\b", re.I)
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
_TRAILING_PREDICATE = re.compile(
    r"\s+(born|located|based|founded|formed|established|released|published|built|opened|made|created|held|"
    r"headquartered|buried|married|educated|raised|die|died|live|lived|start|started|begin|began|end|ended|"
    r"play|played|work|worked|serve|served|retire|retired|open|close|closed|found|release|publish|build|launch|"
    r"launched|air|aired|premiere|premiered)\s*$",
    re.I,
)
# "Where is X headquartered?", "In which year was X born?": the trailing verb belongs to the question.
_ASKS_PREDICATE = re.compile(
    r"^(?:(?:in|at|on|from|to|since|until)\s+(?:what|which)\b|where\b|when\b|(?:what|which) year\b)", re.I
)
_PREPOSITIONS = wordset("of in on at by for from with to under over during since after before about into and or")
_DETERMINERS = frozenset(["the", "a", "an", "this", "that", "these", "those", "another"])
# "Of A and B, which one …", "Between A and B, which …", "Which of A and B …": the options come first.
_PAIR_FIRST = re.compile(
    r"^(?:of|between)\s+(?P<a>[^,]+?)\s+and\s+(?P<b>[^,]+?),\s*(?P<head>(?:which|who|what)\b.+)$", re.I
)
_WHICH_OF = re.compile(
    r"^(?P<head>which)\s+of\s+(?:the\s+two\s+)?(?P<a>\S+)\s+and\s+(?P<b>\S+)\s+(?=\S)(?P<tail>.+)$", re.I
)
# An option spelled as code or a flag (lower case, but a name all the same).
_TECHNICAL = re.compile(r"^--?[A-Za-z]|[._]\w|\(\)$")
_REL = re.compile(r",?\s+\b(in which|that|which|who|whose|where)\s+", re.I)
_ROLE_WORDS = (
    r"director|founder|co-founder|author|creator|ceo|chief executive(?: officer)?|president|manager|leader|head|"
    r"owner|father|mother|son|daughter|wife|husband|brother|sister|capital|singer|writer|producer|star|coach|"
    r"captain|designer|architect|publisher|developer|inventor|composer|host|chair|chairman|mayor|governor|"
    r"successor|predecessor|headquarters|editor|creator|parent company|owner"
)
_OF_CHAIN = re.compile(
    rf"\b(?:the\s+)?(?P<role>(?:(?!(?:was|is|were|are|the|a|an|of)\b)[\w'’-]+\s+){{0,2}}?(?:{_ROLE_WORDS}))\s+of\s+"
    r"(?P<obj>(?:(?:the|a|an)\s+)?(?:[a-z][\w'’-]*\s+){0,3}?(?:\{s\d+\}|[\"“][^\"”]+[\"”]|"
    r"(?:[A-Z0-9][\w'’.&!-]*)(?:\s+(?:of|the|and|&|de|for)?\s*[A-Z0-9][\w'’.&!-]*)*))",
)
_MODAL_BOUNDARY = wordset("is are was were can could will would has have had does did do may might")
_STOP_LOWER = wordset("of in on at to for from by with and or the a an his her its their")


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


def _strip_article(text: str) -> str:
    return re.sub(r"^(the|a|an)\s+", "", text.strip(), flags=re.I)


def _clean(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).strip(" ,;:")


def _sg(i: int, query: str, kind: str, depends: list[str] | None = None, depth: int = 0, rnd: int = 0) -> Subgoal:
    query = _clean(query)
    if not query.endswith("?"):
        query += "?"
    return Subgoal(
        id=f"s{i}" if rnd == 0 else f"r{rnd}s{i}",
        query=query,
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
        follow_titles=names_in(re.sub(r"\{\w+\}", " ", query)),
    )


def _name_at_end(text: str) -> str:
    """The capitalised name that ends `text` ("the cocktail Tamsin" -> "Tamsin")."""
    spans = list(CAP_SPAN.finditer(text))
    if spans and spans[-1].end() >= len(text.rstrip(" ,")) - 1:
        return spans[-1].group(0).strip(" ,")
    return _strip_article(text)


def _name_at_start(text: str) -> tuple[str, str]:
    """Split "Oduncu Hall located in the same…" into the name and what follows it."""
    body = re.sub(r"^(the|a|an)\s+", "", text.strip(), flags=re.I)
    m = CAP_SPAN.match(body)
    if not m:
        return "", text
    return m.group(0).strip(" ,"), body[m.end() :].strip(" ,")


@dataclass
class _Split:
    inner: str  # the question whose answer fills the slot
    outer: str  # the rest, with "{slot}" where the inner answer goes
    final_is_inner: bool = False  # no wh-word outside: the inner answer is the task's answer


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

    # ------------------------------------------------------------------ shapes
    def _parse(self, task: str, rnd: int) -> Plan:
        q = _clean(task.rstrip("?. ").strip())
        # "Corvin plays jazz in Oslo, but which label signed Nova-Kite?": the question is the last clause.
        but = re.search(r"[,;]\s+but\s+(?=(?:what|which|who|when|where|how)\b)", q, re.I)
        if but:
            q = q[but.end() :]
        same_wh = _CONJ.match(q)
        if same_wh and _same_target(same_wh):
            return Plan("lookup", [_sg(1, q, "lookup", rnd=rnd)], {})  # one entity under two constraints
        for shape in (self._yes_no, self._choice, self._enumeration, self._conjunction, self._bridge):
            plan = shape(q, rnd)
            if plan is not None:
                return plan
        return Plan("lookup", [_sg(1, q, "lookup", rnd=rnd)], {})

    def _yes_no(self, q: str, rnd: int) -> Plan | None:
        m = re.match(rf"^(?P<aux>{_AUX})\s+(?:both\s+)?(?P<body>.+)$", q, re.I)
        if not m or _WH.search(q.split(",", maxsplit=1)[0][len(m.group("aux")) :]):
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
                        _sg(1, f"{m.group('aux')} {a} {prop}", "yesno_item", rnd=rnd),
                        _sg(2, f"{m.group('aux')} {b} {prop}", "yesno_item", rnd=rnd),
                    ],
                    {"options": [a, b], "property": prop, "attribute": attribute},
                )
        name, prop = _name_at_start(body)
        if name and prop:
            return Plan(
                "both",
                [_sg(1, q, "yesno_item", rnd=rnd)],
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
        opts = [_strip_article(o) for o in opts]
        if not all(o and (o[0].isupper() or o[0].isdigit() or o[0] in '"“' or _TECHNICAL.search(o)) for o in opts):
            return None
        attribute = _clean(re.sub(r"^(which|who|what)\s+(one\s+)?", "", head, flags=re.I) + " " + tail)
        return Plan(
            "choice",
            [_sg(i + 1, f"{opt} {attribute}", "compare_item", rnd=rnd) for i, opt in enumerate(opts)],
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
        return Plan("enumeration", [_sg(1, query, "lookup", rnd=rnd)], PlanInfo(count=count))

    def _conjunction(self, q: str, rnd: int) -> Plan | None:
        m = _CONJ.match(q)
        if not m or len(m.group("a").split()) < 3 or len(_LEAD_PREPOSITION.sub("", m.group("b")).split()) < 3:
            return None  # "…, and in which revision?" qualifies the first question; it is not a second one
        if _same_target(m):
            return None
        return Plan(
            "conjunction",
            [_sg(1, m.group("a"), "lookup", rnd=rnd), _sg(2, m.group("b"), "lookup", rnd=rnd)],
            {},
        )

    def _bridge(self, q: str, rnd: int) -> Plan | None:
        if _HOW_TO.match(q):
            return None  # "How can my tool show a bar that fills up …?": the clause describes what to find
        chain = self.bridge_chain(q)
        if chain is None:
            return None
        queries, final_is_inner = chain
        if len(queries) == 1:
            return Plan("lookup", [_sg(1, queries[0], "lookup", rnd=rnd)], {})
        subgoals = [
            _sg(i, query, "bridge" if i > 1 else "lookup", [f"s{i - 1}"] if i > 1 else [], rnd=rnd)
            for i, query in enumerate(queries, start=1)
        ]
        return Plan("bridge", subgoals, {"final": "s1" if final_is_inner else subgoals[-1]["id"]})

    # ------------------------------------------------------------------ bridges
    def bridge_chain(self, q: str) -> tuple[list[str], bool] | None:
        """Peel nested noun phrases into subgoals, innermost first; None when nothing peels."""
        body = q
        chain: list[str] = []
        final_is_inner = False
        for _ in range(2):
            tail = ""
            pred = _TRAILING_PREDICATE.search(body)
            if pred and _ASKS_PREDICATE.match(body):
                body, tail = body[: pred.start()], body[pred.start() :]
            split = self._split_relative(body) or self._split_of(body)
            if split is None:
                body += tail
                break
            slot = f"{{s{len(chain) + 1}}}"
            chain.append(split.inner)
            if split.final_is_inner:
                final_is_inner = True
                body = ""
                break
            body = split.outer.replace("{slot}", slot) + tail
        if not chain:
            return None
        if body:
            chain.append(body)
        return chain, final_is_inner

    def _split_of(self, body: str) -> _Split | None:
        """ "the director of the film X …" -> "Who is the director of the film X?" + "{slot} …"."""
        m = _OF_CHAIN.search(body)
        if not m or _WH.search(m.group("obj")) or m.group("obj").strip() in {"The", "A", "An", "This"}:
            return None
        before, after = body[: m.start()], body[m.end() :]
        if before.strip().lower().endswith(" of"):
            return None
        outer = f"{before}{{slot}}{after}"
        rest = re.sub(r"\{slot\}|\b(what|which|who|is|was|are|were|the|name)\b", " ", outer, flags=re.I)
        if not content_terms(rest) and not re.search(r"\b(when|where|how)\b", outer, re.I):
            return None  # "What is the name of the producer of X": nothing left to ask after the hop
        role = re.sub(r"^(the|a|an|this|that|his|her|its|their)\s+", "", m.group("role").strip(), flags=re.I)
        wh = "What" if classify_noun(role.split()[-1]) not in ("person", "entity") or "headquarters" in role else "Who"
        return _Split(f"{wh} is the {role} of {m.group('obj').strip()}?", outer)

    def _split_relative(self, body: str) -> _Split | None:
        """A noun phrase with a relative clause ("the company that makes X", "the city where Y is")
        becomes its own subgoal. When the wh-word sits inside the clause ("… a country that has how many
        inhabitants?"), the main clause names the bridge and the clause asks the final question."""
        for m in _REL.finditer(body):
            rel = m.group(1).lower()
            pre = body[: m.start()]
            tokens = pre.split()
            if rel != "in which" and tokens and tokens[-1].lower() in _PREPOSITIONS:
                continue  # "of which war", "and who died": not a relative clause on a noun phrase
            clause = body[m.end() :].strip()
            named = re.search(r"((?:[A-Z][\w'’.&-]*\s+)*[A-Z][\w'’.&-]*),?$", pre)
            if named and rel in ("which", "who") and _WH.search(clause) and not _WH.search(pre):
                # "… represented Northgate Technical University which opened in what year?": the
                # clause asks about a named entity directly; the rest is context.
                return _Split(f"{named.group(1)} {clause}?", "", final_is_inner=True)
            det_at = next(
                (
                    len(tokens) - back
                    for back in range(1, min(8, len(tokens)) + 1)
                    if tokens[-back].lower() in _DETERMINERS
                ),
                None,
            )
            if det_at is None:
                continue
            np_words = tokens[det_at + 1 :]
            if not np_words or _WH.search(" ".join(np_words)) or any(w.endswith(",") for w in np_words[:-1]):
                continue
            noun = " ".join(np_words).strip(" ,")
            main_pre = " ".join(tokens[:det_at])
            clause_words = body[m.end() :].split()
            subject_position = not main_pre or not re.search(
                r"\b(is|are|was|were|has|have|had|did|does|do|can|could|will|would)\b|\w+ed\b|\w+s\b",
                main_pre,
                re.I,
            )
            main_post = ""
            if subject_position:
                end = self._clause_end(clause_words, rel)
                if end is None:
                    continue
                clause_words, main_post = clause_words[:end], " ".join(clause_words[end:])
            clause = " ".join(clause_words).strip(" ,")
            if not clause:
                continue
            wh_in_clause = bool(_WH.search(clause))
            wh_in_main = bool(_WH.search(main_pre + " " + main_post))
            person = classify_noun(noun.split()[-1]) == "person"
            if rel in ("where", "in which"):
                inner = f"In which {noun} {clause}?"
            elif rel == "whose":
                inner = f"Which {noun} whose {clause}?"
            else:
                inner = f"{'Who' if person else 'Which ' + noun} {clause}?"
            if wh_in_clause and not wh_in_main:
                # The clause asks; the main clause identifies the bridge entity.
                which = f"{main_pre} which {noun} {main_post}".strip()
                outer = f"{{slot}} {clause}" if rel not in ("where", "in which") else f"In {{slot}}, {clause}"
                return _Split(which + "?", outer)
            if not wh_in_main and not wh_in_clause:
                # No question word at all ("X was founded by an industrialist who …"): the NP is the answer.
                return _Split(f"{main_pre} which {noun} {m.group(1)} {clause}".strip() + "?", "", final_is_inner=True)
            return _Split(inner, f"{main_pre} {{slot}} {main_post}".strip())
        return None

    @staticmethod
    def _clause_end(words: list[str], rel: str) -> int | None:
        """Where a relative clause on the subject ends and the main verb begins (None: can't tell).

        "who recruited Tobias Renner | managed Castleford Rovers…", "where the Gullwings trained each
        winter | can hold…", "in which Varrick broke his arm | earned what…"."""
        in_name = name_done = False
        since_name = 0
        for i, word in enumerate(words):
            low = word.lower().strip(",")
            if i >= 2 and low in _MODAL_BOUNDARY:
                return i
            if word[:1].isupper() or word[:1].isdigit():
                in_name = True
                continue
            if in_name:
                name_done, in_name, since_name = True, False, 0
            since_name += 1
            verb_like = low.endswith("ed") and low not in _STOP_LOWER
            if not name_done or not verb_like or i < 2:
                continue
            if rel in ("who", "that", "which"):
                return i
            if since_name >= 3:
                return i
        return None

    # ------------------------------------------------------------------ refinement
    def _replan(self, task: str, limits: Limits, feedback: list[str], previous: dict[str, Subgoal], rnd: int) -> Plan:
        """After failed verification, re-plan with the verifier's feedback: the same DAG, but every answer
        a rejected claim rests on is avoided (the solver takes the next candidate), comparison items look
        their option up by name alone, and a chain that produced nothing is retried as one lookup."""
        last_round = max((sg.get("round", 0) for sg in previous.values()), default=0)
        prior = sorted((sg for sg in previous.values() if sg.get("round", 0) == last_round), key=lambda s: s["id"])
        info = PlanInfo(feedback=feedback, final="")
        if not prior:
            return Plan("refine", [], info)
        if len(prior) > 1 and not any(sg.get("answer") for sg in prior):
            return Plan("lookup", [_sg(1, task.rstrip("?") + "?", "lookup", rnd=rnd)], {**info, "fallback": True})
        rejected = [f.split(": ", 1)[1] for f in feedback if f.startswith("claim not supported: ")]
        rename = {sg["id"]: f"r{rnd}s{i}" for i, sg in enumerate(prior, start=1)}
        subgoals: list[Subgoal] = []
        changed = False
        for sg in prior:
            query = re.sub(r"\{(\w+)\}", lambda m: "{" + rename.get(m.group(1), m.group(1)) + "}", sg["query"])
            kind = sg.get("kind", "lookup")
            avoid = list(sg.get("avoid", []))
            answer = sg.get("answer", "")
            if kind in ("compare_item", "yesno_item"):
                names = sg.get("follow_titles") or names_in(query)
                query = names[0] if names else query
            elif answer and any(answer in claim for claim in rejected):
                avoid.append(answer)
                changed = True
            new = _sg(0, query, kind, [rename.get(d, d) for d in sg.get("depends_on", [])], sg.get("depth", 0), rnd)
            new["id"] = rename[sg["id"]]
            new["avoid"] = avoid
            if kind in ("compare_item", "yesno_item"):
                new["follow_titles"] = list(sg.get("follow_titles") or [])
            subgoals.append(new)
        if not changed:
            # No claim names its culprit (e.g. a checklist failed): doubt the least confident answer.
            open_ = [
                s
                for s, p in zip(subgoals, prior, strict=True)
                if p.get("answer") and p.get("kind") not in ("compare_item", "yesno_item")
            ]
            if open_:
                weakest = min(
                    open_, key=lambda s: next(p.get("confidence", 0.0) for p in prior if rename[p["id"]] == s["id"])
                )
                source = next(p for p in prior if rename[p["id"]] == weakest["id"])
                weakest["avoid"] = [*weakest.get("avoid", []), source.get("answer", "")]
                weakest["depth"] = weakest.get("depth", 0) + 1
        return Plan("refine", subgoals[: limits.max_subgoals], info)
