"""Checklists: named checks, listed in YAML (`policies/checklists/*.yaml`), run on every draft."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CHECKLIST_DIR = Path(__file__).parent / "checklists"
_YESNO = re.compile(r"^(is|are|was|were|do|does|did|can|could|has|have|had|will|would|should)\b", re.I)
_UNIT = re.compile(r"\d\s*(%|[a-zA-Z€$£]+)|[€$£]\s?\d")

CheckFn = Callable[[str, str, list[dict[str, Any]], bool], tuple[bool, str]]


def _answers_question(task: str, answer: str, claims: list[dict[str, Any]], grounded: bool) -> tuple[bool, str]:
    if not answer.strip():
        return False, "no answer was found"
    if _YESNO.match(task.strip()) and answer.strip().lower() not in {"yes", "no"}:
        return False, "a yes/no question needs a yes or no answer"
    return True, "ok"


def _every_claim_cites(task: str, answer: str, claims: list[dict[str, Any]], grounded: bool) -> tuple[bool, str]:
    if not claims:
        return False, "the draft has no claims"
    bare = [c["text"][:60] for c in claims if not c.get("citations")]
    return (not bare), ("ok" if not bare else f"claims without citations: {bare}")


def _answer_in_evidence(task: str, answer: str, claims: list[dict[str, Any]], grounded: bool) -> tuple[bool, str]:
    return grounded, "ok" if grounded else "the answer does not appear in any cited quote"


def _numbers_carry_units(task: str, answer: str, claims: list[dict[str, Any]], grounded: bool) -> tuple[bool, str]:
    if not re.search(r"\d", answer):
        return True, "no number in answer"
    return (bool(_UNIT.search(answer)), "ok" if _UNIT.search(answer) else "the number has no unit")


CHECKS: dict[str, CheckFn] = {
    "answers_question": _answers_question,
    "every_claim_cites": _every_claim_cites,
    "answer_in_evidence": _answer_in_evidence,
    "numbers_carry_units": _numbers_carry_units,
}


@lru_cache(maxsize=8)
def load_checklists(directory: str = str(CHECKLIST_DIR)) -> tuple[dict[str, str], ...]:
    """All checklist entries from the YAML files, validated against the known checks."""
    items: list[dict[str, str]] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text()) or []:
            if entry.get("check") not in CHECKS:
                raise ValueError(f"{path}: unknown check {entry.get('check')!r}; known: {sorted(CHECKS)}")
            items.append({k: str(v) for k, v in entry.items()})
    return tuple(items)


def run_checklists(task: str, answer: str, claims: list[dict[str, Any]], grounded: bool) -> list[dict[str, Any]]:
    """Run every applicable check; each result says what failed and why."""
    results: list[dict[str, Any]] = []
    for item in load_checklists():
        pattern = item.get("applies_when", "")
        if pattern and not re.search(pattern, task):
            continue
        passed, detail = CHECKS[item["check"]](task, answer, claims, grounded)
        results.append(
            {"id": item["id"], "passed": passed, "detail": detail, "description": item.get("description", "")}
        )
    return results
