"""Bridge questions peeled into a chain of subgoals: "the director of the film that …" asks first
for the film, then for its director. Grammar rules only (relative clauses, "the <role> of <name>"):
nothing here knows a corpus or a question. The chain's queries go to `planner`, which types them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphs.text.answer_types import classify_noun
from graphs.text.lexicon import wordset
from graphs.text.words import content_terms

WH = re.compile(r"\b(what|which|who|whom|whose|when|where|how)\b", re.I)
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


@dataclass
class _Split:
    inner: str  # the question whose answer fills the slot
    outer: str  # the rest, with "{slot}" where the inner answer goes
    final_is_inner: bool = False  # no wh-word outside: the inner answer is the task's answer


def bridge_chain(q: str) -> tuple[list[str], bool] | None:
    """Peel nested noun phrases into subgoals, innermost first; None when nothing peels."""
    body = q
    chain: list[str] = []
    final_is_inner = False
    for _ in range(2):
        tail = ""
        pred = _TRAILING_PREDICATE.search(body)
        if pred and _ASKS_PREDICATE.match(body):
            body, tail = body[: pred.start()], body[pred.start() :]
        split = _split_relative(body) or _split_of(body)
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


def _split_of(body: str) -> _Split | None:
    """ "the director of the film X …" -> "Who is the director of the film X?" + "{slot} …"."""
    m = _OF_CHAIN.search(body)
    if not m or WH.search(m.group("obj")) or m.group("obj").strip() in {"The", "A", "An", "This"}:
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


def _split_relative(body: str) -> _Split | None:
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
        if named and rel in ("which", "who") and WH.search(clause) and not WH.search(pre):
            # "… represented Northgate Technical University which opened in what year?": the
            # clause asks about a named entity directly; the rest is context.
            return _Split(f"{named.group(1)} {clause}?", "", final_is_inner=True)
        det_at = next(
            (len(tokens) - back for back in range(1, min(8, len(tokens)) + 1) if tokens[-back].lower() in _DETERMINERS),
            None,
        )
        if det_at is None:
            continue
        np_words = tokens[det_at + 1 :]
        if not np_words or WH.search(" ".join(np_words)) or any(w.endswith(",") for w in np_words[:-1]):
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
            end = _clause_end(clause_words, rel)
            if end is None:
                continue
            clause_words, main_post = clause_words[:end], " ".join(clause_words[end:])
        clause = " ".join(clause_words).strip(" ,")
        if not clause:
            continue
        wh_in_clause = bool(WH.search(clause))
        wh_in_main = bool(WH.search(main_pre + " " + main_post))
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
