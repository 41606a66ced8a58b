"""The structured-documents corpus of #18: real API references and manuals from Debian's doc packages.

Manuals (one name each; gold pages are written `MANUAL/relative/path.html`):

- `click`    python-click-doc: the whole Click manual, API reference included  (dev: tuned on)
- `requests` python-requests-doc: user guide + API reference, no `_modules/` source listings (dev)
- `git`      git-doc: a bounded set of 31 everyday Git command pages (dev)
- `sqlalchemy` python-sqlalchemy-doc: a bounded set of 13 SQLAlchemy 1.4 reference and guide pages
  (engines, pooling, connections, sessions, metadata, types, defaults, reflection, SQLite) — dev, the
  second tuning manual (added in the ninth session: signatures `f(x, pool_size=5)`, `name=default –`
  parameter rows, values in text and a version table)
- `flask`    python-flask-doc: the whole Flask manual, API reference included (TEST: never read while
  tuning; its questions are the `test` split)
- `pytest`   python-pytest-doc: the pytest manual (reference, how-to, explanation, examples) without
  its release announcements, third-party plugin list and full table of contents (VAL: a transfer check
  nobody tunes on, read in aggregate only; its questions are the `val` split)

Which manuals a benchmark indexes by default follows the split (`default_manuals`): `--split test`
indexes the four manuals click, requests, git and flask together, exactly as before `val` and
`sqlalchemy` existed, so test numbers stay comparable; `--split dev` and `all` index those four plus
sqlalchemy (`--manuals click,requests,git,flask` gives the old three-manual dev number on the old
index); `--split val` indexes the pytest manual alone. `--manuals` overrides any of them.

Index pages, search pages, change logs and licence pages are left out of every manual: they are
lists of names, not text that answers anything. The Python 3 `library/` pages are reserved for an
independent check and are never part of this corpus.

Questions (`benchmarks/data/structdocs_questions.json`, one object per line): `id`, `manual`, `kind`
(one of KINDS), `question`, `gold_pages`, `answers`, `split`. `answers` lists the REQUIRED parts of
the answer (one part for most kinds; two_sections / comparison / enumeration have several); each
part is a string or a list of acceptable variants, matched after normalising case and whitespace,
at word boundaries. A part's first variant is its evidence form (`max_retries=0`, not `0`): retrieval
scoring looks for that one only; an agent's answer may give any variant. Unanswerable questions have no gold pages and no answers. The split follows
the manual: `flask` questions are `test`, `pytest` questions are `val`, every other manual's are `dev`.

`python -m benchmarks.structdocs_corpus --setup` installs the packages (apt-get, needs root);
`corpus_files()` raises SystemExit naming the apt command when one is missing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.hotpot import ROOT

QUESTIONS = ROOT / "benchmarks" / "data" / "structdocs_questions.json"
DOC = Path("/usr/share/doc")

KINDS = ("name", "value", "plain", "two_sections", "bridge", "comparison", "enumeration", "unanswerable")
SPLITS = ("dev", "val", "test")
TEST_MANUALS = frozenset({"flask"})

# Pages that are lists of names or history, not reference text.
_SKIP = frozenset({"404.html", "genindex.html", "search.html", "py-modindex.html", "changes.html", "license.html"})

# pytest pages that list names (plugins, every section title) rather than explain anything.
_PYTEST_LISTS = frozenset({"reference/plugin_list.html", "contents.html"})

GIT_COMMANDS = [
    "add",
    "bisect",
    "blame",
    "branch",
    "checkout",
    "cherry-pick",
    "clean",
    "clone",
    "commit",
    "config",
    "diff",
    "fetch",
    "grep",
    "init",
    "log",
    "merge",
    "mv",
    "pull",
    "push",
    "rebase",
    "remote",
    "reset",
    "restore",
    "revert",
    "rm",
    "show",
    "stash",
    "status",
    "switch",
    "tag",
    "worktree",
]


# The SQLAlchemy pages of the dev split: reference pages whose parameters carry defaults, plus the
# guides and FAQ that explain them (the whole manual is 20 MB; the bounded set keeps ingest cheap).
SQLALCHEMY_PAGES = [
    "core/engines.html",
    "core/pooling.html",
    "core/connections.html",
    "core/metadata.html",
    "core/type_basics.html",
    "core/exceptions.html",
    "core/defaults.html",
    "core/reflection.html",
    "orm/session_api.html",
    "orm/session_basics.html",
    "orm/relationship_api.html",
    "dialects/sqlite.html",
    "faq/connections.html",
]

# The manuals indexed together for the test split (and for every dev number before the ninth session).
SHARED_INDEX = ("click", "requests", "git", "flask")


@dataclass(frozen=True)
class Manual:
    name: str
    package: str
    root: Path
    split: str

    def pages(self) -> list[Path]:
        if not self.root.is_dir():
            raise SystemExit(f"{self.package} is not installed: apt-get install -y {self.package}")
        if self.name == "git":
            return [self.root / f"git-{c}.html" for c in GIT_COMMANDS]
        if self.name == "sqlalchemy":
            return [self.root / p for p in SQLALCHEMY_PAGES]
        out = []
        for page in sorted(self.root.rglob("*.html")):
            rel = page.relative_to(self.root)
            if rel.name in _SKIP or rel.parts[0].startswith("_"):
                continue
            if self.name == "requests" and rel.as_posix() in ("community/updates.html", "dev/authors.html"):
                continue  # the change log and the list of contributors
            if self.name == "pytest" and (rel.parts[0] == "announce" or rel.as_posix() in _PYTEST_LISTS):
                continue  # release announcements, the third-party plugin list, the full table of contents
            out.append(page)
        return out


MANUALS: dict[str, Manual] = {
    "click": Manual("click", "python-click-doc", DOC / "python-click-doc" / "html", "dev"),
    "requests": Manual("requests", "python-requests-doc", DOC / "python-requests-doc" / "html", "dev"),
    "git": Manual("git", "git-doc", DOC / "git-doc", "dev"),
    "sqlalchemy": Manual("sqlalchemy", "python-sqlalchemy-doc", DOC / "python-sqlalchemy-doc" / "html", "dev"),
    "flask": Manual("flask", "python-flask-doc", DOC / "python-flask-doc" / "html", "test"),
    "pytest": Manual("pytest", "python-pytest-doc", DOC / "python-pytest-doc" / "html", "val"),
}


def default_manuals(split: str) -> list[str]:
    """The manuals a benchmark indexes when `--manuals` is not given: the val manual(s) alone for
    `val`; for `test` the four-manual index every earlier number was measured on (`SHARED_INDEX`);
    for `dev` and `all` that index plus the dev manuals added since (sqlalchemy)."""
    if split == "val":
        return [n for n, m in MANUALS.items() if m.split == "val"]
    if split == "test":
        return list(SHARED_INDEX)
    return [n for n, m in MANUALS.items() if m.split != "val"]


def setup() -> None:
    """Install every manual's Debian package (idempotent; needs root and the package mirror)."""
    packages = [m.package for m in MANUALS.values()]
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *packages], check=True)


def corpus_files(manuals: Sequence[str] | None = None) -> list[Path]:
    names = list(manuals or MANUALS)
    unknown = [n for n in names if n not in MANUALS]
    if unknown:
        raise SystemExit(f"unknown manual(s) {unknown}; choose from {sorted(MANUALS)}")
    return [p for n in names for p in MANUALS[n].pages()]


def page_of(source: str) -> str:
    """A hit's page as gold pages are written: `MANUAL/relative/path.html` (the source itself if foreign)."""
    path = Path(source).resolve()
    for manual in MANUALS.values():
        root = manual.root.resolve()
        if path.is_relative_to(root):
            return f"{manual.name}/{path.relative_to(root).as_posix()}"
    return str(path)


@dataclass(frozen=True)
class Question:
    id: str
    manual: str
    kind: str
    question: str
    gold_pages: tuple[str, ...]
    answers: tuple[tuple[str, ...], ...]  # required parts, each a tuple of acceptable variants
    split: str

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"


class QuestionFileError(ValueError):
    """The question file breaks its schema (a benchmark-data error, not a product error)."""


def _parts(raw: object, row: int) -> tuple[tuple[str, ...], ...]:
    """`answers` is a list of required parts; a part is one string or a list of acceptable variants."""
    if not isinstance(raw, list):
        raise QuestionFileError(f"row {row}: answers must be a list")
    parts = []
    for part in raw:
        variants = [part] if isinstance(part, str) else part
        if (
            not isinstance(variants, list)
            or not variants
            or not all(isinstance(v, str) and v.strip() for v in variants)
        ):
            raise QuestionFileError(f"row {row}: an answer part is a non-empty string or list of non-empty strings")
        parts.append(tuple(variants))
    return tuple(parts)


def parse_questions(rows: Sequence[dict[str, object]]) -> list[Question]:
    """Validate and convert rows: known kinds and splits, split follows the manual, gold pages and
    answers present exactly when answerable, unique ids. Raises QuestionFileError naming the row."""
    out: list[Question] = []
    seen: set[str] = set()
    fields = {"id", "manual", "kind", "question", "gold_pages", "answers", "split"}
    for i, row in enumerate(rows):
        if set(row) != fields:
            raise QuestionFileError(f"row {i}: fields {sorted(row)} (want {sorted(fields)})")
        q = Question(
            str(row["id"]),
            str(row["manual"]),
            str(row["kind"]),
            str(row["question"]),
            tuple(str(p) for p in row["gold_pages"]),  # type: ignore[attr-defined]
            _parts(row["answers"], i),
            str(row["split"]),
        )
        if q.id in seen:
            raise QuestionFileError(f"row {i}: duplicate id {q.id}")
        seen.add(q.id)
        if q.kind not in KINDS:
            raise QuestionFileError(f"{q.id}: unknown kind {q.kind!r}")
        if q.manual not in MANUALS:
            raise QuestionFileError(f"{q.id}: unknown manual {q.manual!r}")
        if q.split != MANUALS[q.manual].split:
            raise QuestionFileError(f"{q.id}: split {q.split!r} but manual {q.manual} is {MANUALS[q.manual].split}")
        if q.answerable and (not q.gold_pages or not q.answers):
            raise QuestionFileError(f"{q.id}: an answerable question needs gold pages and answers")
        if not q.answerable and (q.gold_pages or q.answers):
            raise QuestionFileError(f"{q.id}: an unanswerable question has no gold pages or answers")
        if any(not p.startswith(q.manual + "/") for p in q.gold_pages):
            raise QuestionFileError(f"{q.id}: gold pages are written {q.manual}/path.html")
        out.append(q)
    return out


def check_balance(questions: Sequence[Question], *, minimum: int = 150, unanswerable_share: float = 0.10) -> None:
    """The file-level promises of #18: enough questions, and in EACH split (dev, val, test) every
    kind present and ≥10 % unanswerable, so no split's aggregate hides a missing kind."""
    if len(questions) < minimum:
        raise QuestionFileError(f"{len(questions)} questions; at least {minimum} wanted")
    for split in SPLITS:
        sub = [q for q in questions if q.split == split]
        if not sub:
            raise QuestionFileError(f"no {split} questions")
        missing = set(KINDS) - {q.kind for q in sub}
        if missing:
            raise QuestionFileError(f"{split}: no question of kind(s) {sorted(missing)}")
        share = sum(not q.answerable for q in sub) / len(sub)
        if share < unanswerable_share:
            raise QuestionFileError(f"{split}: {share:.0%} unanswerable, at least {unanswerable_share:.0%} wanted")


def load_questions(path: Path = QUESTIONS, *, split: str = "all") -> list[Question]:
    questions = parse_questions(json.loads(path.read_text(encoding="utf-8")))
    return [q for q in questions if split in ("all", q.split)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup", action="store_true", help="apt-get install the doc packages")
    args = parser.parse_args(argv)
    if args.setup:
        setup()
    for name, manual in MANUALS.items():
        pages = manual.pages()
        size = sum(p.stat().st_size for p in pages)
        print(f"{name:9} {manual.split:5} {len(pages):4} pages {size / 1e6:6.1f} MB  ({manual.package})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
