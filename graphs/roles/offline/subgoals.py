"""Building one subgoal of an offline plan: its query cleaned and typed, its id by round, the names it
mentions (which the retriever follows as titles). Shared by the planner and the re-planner."""

from __future__ import annotations

import re

from graphs.state import Subgoal, pending_subgoal
from graphs.text.answer_types import answer_type
from graphs.text.spans import names_in


def strip_article(text: str) -> str:
    return re.sub(r"^(the|a|an)\s+", "", text.strip(), flags=re.I)


def clean(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).strip(" ,;:")


def new_subgoal(
    i: int, query: str, kind: str, depends: list[str] | None = None, depth: int = 0, rnd: int = 0
) -> Subgoal:
    query = clean(query)
    if not query.endswith("?"):
        query += "?"
    subgoal = pending_subgoal(
        f"s{i}" if rnd == 0 else f"r{rnd}s{i}", query, kind, answer_type(query).kind, depends or [], depth, rnd
    )
    subgoal["follow_titles"] = names_in(re.sub(r"\{\w+\}", " ", query))
    return subgoal
