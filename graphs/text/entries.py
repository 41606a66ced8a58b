"""API-reference entries read from their headings: the entry's name, its aliases and the defaults its
signature declares.

Ingest turns each documented object (a Sphinx `<dl>` entry, a man page's option list item) into a
section whose heading is the entry's `<dt>`: `widgetry.open_link(host, retries=7)`,
`class widgetry.Palette`, `-q <level>, --quiet <level>`. That heading is evidence: the entry's
name is often the answer ("which function …?"), and a default sits in its signature
(`connect(timeout=5.0)` -> the default of timeout is 5.0). Prose headings ("Making a request",
"Summer Ledger (1947 film)") are not entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KEYWORDS = re.compile(
    r"^(?:(?:class|exception|async|def|function|method|classmethod|staticmethod|property|attribute|data|"
    r"decorator|abstractmethod|final|module|type|var|envvar)\s+)+",
    re.I,
)
_NAME = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(?P<rest>.*)$", re.S)
_FLAG = re.compile(r"(?<![\w-])--?[A-Za-z0-9][\w-]*")
_CODE_LIKE = re.compile(r"[._]|[a-z][A-Z]|^[a-z][\w-]*$|^[A-Z][a-z]+[A-Z]")


@dataclass(frozen=True)
class Entry:
    """One documented object: its full name, the names it also goes by, and its signature's defaults."""

    name: str
    aliases: tuple[str, ...] = ()
    defaults: dict[str, str] = field(default_factory=dict)
    kind: str = "identifier"  # identifier | exception | option (a command-line flag)

    @property
    def short(self) -> str:
        """`widgetry.open_link` -> `open_link`: the last dotted part, how prose usually names it."""
        return self.name.rsplit(".", 1)[-1]


def _split_params(params: str) -> list[str]:
    """Top-level comma-separated parts of a parameter list (defaults may hold brackets and commas)."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in params:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _defaults(params: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in _split_params(params):
        name, eq, value = part.partition("=")
        name = name.split(":")[0].strip().lstrip("*")
        if eq and re.fullmatch(r"[A-Za-z_]\w*", name):
            out[name] = value.strip()
    return out


def parse_entry(heading: str) -> Entry | None:
    """The entry a heading documents, or None when the heading is prose."""
    text = " ".join(heading.replace("¶", " ").split())
    if not text or len(text) > 400:
        return None
    if text.startswith("-"):
        flags = tuple(dict.fromkeys(_FLAG.findall(text)))
        return Entry(flags[0], flags, {}, "option") if flags else None
    keyword = _KEYWORDS.match(text)
    body = text[keyword.end() :] if keyword else text
    m = _NAME.match(body)
    if not m:
        return None
    name, rest = m.group("name").rstrip("."), m.group("rest").strip()
    exceptional = bool(keyword and "exception" in keyword.group(0).lower()) or name.endswith(("Error", "Exception"))
    kind = "exception" if exceptional else "identifier"
    if rest.startswith("("):
        close = rest.rfind(")")
        params = rest[1:close] if close > 0 else rest[1:]
        return Entry(name, (name,), _defaults(params), kind)
    if rest and not rest.startswith(("->", ":", "=")):
        return None  # words after the name: a prose heading ("Making a request")
    if not keyword and not _CODE_LIKE.search(name):
        return None  # a bare capitalised word ("Installation") is a topic, not an entry
    return Entry(name, (name,), {}, kind)


# A manual page's NAME line: "ferry-dock - moor a ferry at a berth" (the page's command and what it does).
_WHATIS = re.compile(r"^(?P<name>[a-z][\w.+-]*)(?:,\s*[a-z][\w.+-]*)*\s+[-–—]\s+\S")


def whatis_name(section: list[str], sentence: str) -> str | None:
    """The command a manual page documents, read from the line under its NAME heading (the
    convention of every man page), or None when the sentence is not that line."""
    if not section or section[-1].strip().upper() != "NAME":
        return None
    m = _WHATIS.match(sentence.strip())
    return m.group("name") if m else None


@dataclass(frozen=True)
class FieldRow:
    """One row of an entry's parameter list: the parameter it documents, the default the row itself
    declares (`kilns=4 – …`, `depth (int) – … Defaults to 3.`), and its description. A value stated
    in the row belongs to that parameter; the same number in the next row belongs to another."""

    name: str
    value: str | None
    description: str


# `name=value – text`, `name (type) – text`, `**name** – text`, `name: type = value – text`; a `¶`
# permalink may follow the name. The description may be empty (it is the next paragraph).
_ROW = re.compile(
    r"^\s*\**(?P<name>[A-Za-z_][\w.]*)\**\s*"
    r"(?::\s*[\w.\[\], |]{1,60}?\s*)?"
    r"(?:=\s*(?P<value>'[^']{0,40}'|\"[^\"]{0,40}\"|[^\s¶–—,;()]+))?\s*¶?\s*"
    r"(?:\((?P<type>[^)]{0,80})\))?\s*¶?\s*[–—]\s*(?P<desc>.*)$",
    re.S,
)
_ROW_HYPHEN = re.compile(
    r"^\s*\**(?P<name>[A-Za-z_][\w.]*)\**\s*(?:\((?P<type>[^)]{0,80})\))\s+-\s+(?P<desc>\S.*)$", re.S
)


def parse_field_row(sentence: str) -> FieldRow | None:
    """The parameter row `sentence` is, or None for prose. A hyphen separates name and text only
    after a `(type)`: "kiln - a furnace for …" is prose, "kiln (int) - …" a row."""
    line = sentence.strip()
    if len(line) > 600:
        return None
    m = _ROW.match(line) or _ROW_HYPHEN.match(line)
    if not m:
        return None
    name = m.group("name").rstrip(".")
    value = m.groupdict().get("value")
    return FieldRow(name, value.strip("'\"") if value else None, m.group("desc").strip())
