"""The long-document corpus and questions of #12: five sections of the Python HTML manual
(Debian `python3-doc`) plus the concept guides of the Git manual (Debian `git-doc`).

The Python manual's `library/` section is reserved for an independent check: no question is written
on it and nothing is tuned on it, so it is not part of this corpus.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from benchmarks.hotpot import ROOT

PY_SECTIONS = ("tutorial", "howto", "reference", "faq", "using")
QUESTIONS = ROOT / "benchmarks" / "data" / "longdocs_questions.json"
GIT_DOC = Path("/usr/share/doc/git-doc")


def python_html() -> Path:
    """The python3-doc HTML root, found by glob (the version in the path changes between releases)."""
    for cand in sorted(Path("/usr/share/doc").glob("python3*/html"), reverse=True):
        if (cand / "tutorial").is_dir() and (cand / "reference").is_dir():
            return cand.resolve()
    raise SystemExit("python3-doc is not installed: apt-get install -y python3-doc")


def python_pages() -> list[Path]:
    root = python_html()
    return [p for s in PY_SECTIONS for p in sorted((root / s).glob("*.html"))]


def git_pages() -> list[Path]:
    """Git's guides and concept pages (git(1), gitglossary, gittutorial, the user manual, ...): the
    `git*.html` pages that are not single-command man pages, plus `user-manual.html` and `everyday.html`."""
    if not (GIT_DOC / "user-manual.html").exists():
        return []
    pages = sorted(p for p in GIT_DOC.glob("git*.html") if not p.name.startswith("git-"))
    return [*pages, GIT_DOC / "user-manual.html", GIT_DOC / "everyday.html"]


def corpus_files(*, with_git: bool = True) -> list[Path]:
    return python_pages() + (git_pages() if with_git else [])


def page_of(source: str) -> str:
    """A hit's page, relative to the python3-doc root (gold pages are written that way), or `git/NAME`."""
    path = Path(source).resolve()
    root = python_html()
    if path.is_relative_to(root):
        return str(path.relative_to(root))
    if path.is_relative_to(GIT_DOC.resolve()):
        return "git/" + str(path.relative_to(GIT_DOC.resolve()))
    return str(path)


@dataclass(frozen=True)
class Question:
    id: str
    group: str  # naming | plain | multi
    question: str
    gold_pages: tuple[str, ...]
    answers: tuple[str, ...]
    split: str  # dev (odd ids; tune here) | test (even ids; report)


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    out = []
    for row in json.loads(path.read_text()):
        num = int("".join(c for c in row["id"] if c.isdigit()))
        out.append(
            Question(
                row["id"],
                row["group"],
                row["question"],
                tuple(row["gold_pages"]),
                tuple(row["answers"]),
                "dev" if num % 2 else "test",
            )
        )
    return out
