"""File loaders: Markdown, plain text, HTML and PDF into a `ParsedDocument` of typed blocks."""

from __future__ import annotations

import html
import re
import stat
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from tools.errors import IngestError
from tools.ingest.blocks import Block, BlockKind, ParsedDocument
from tools.ingest.pdf_fonts import SizeCollector, font_size_blocks
from tools.logs import get_logger

log = get_logger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024

_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_SETEXT = re.compile(r"^[ \t]*(=+|-+)[ \t]*$")


def _strip_inline_markdown(s: str) -> str:
    s = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", s)
    return re.sub(r"[*_`]+", "", s).strip()


def _title_from_path(path: Path) -> str:
    stem = re.sub(r"^\d+[-_ ]*", "", path.stem)
    return stem.replace("-", " ").replace("_", " ").strip().capitalize() or path.stem


def parse_markdown(text: str, source: str, title: str = "") -> ParsedDocument:
    """Markdown keeps its own text, so offsets and quotes are exact; fences and tables stay whole."""
    blocks: list[Block] = []
    lines = text.splitlines(keepends=True)
    pos = 0
    i = 0
    para_start: int | None = None
    para_kind: BlockKind = "paragraph"
    para_end = 0

    def flush() -> None:
        nonlocal para_start
        if para_start is not None:
            blocks.append(Block(para_kind, para_start, para_end))
            para_start = None

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        line_end = pos + len(line.rstrip("\r\n"))
        if _FENCE.match(line):
            flush()
            fence = _FENCE.match(line).group(1)  # type: ignore[union-attr]
            start = pos
            pos += len(line)
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                pos += len(lines[i])
                i += 1
            if i < len(lines):
                end = pos + len(lines[i].rstrip("\r\n"))
                pos += len(lines[i])
                i += 1
            else:
                end = pos
            blocks.append(Block("code", start, end))
            continue
        heading = _MD_HEADING.match(stripped)
        if heading:
            flush()
            offset = line.index(stripped[0])
            blocks.append(
                Block(
                    "heading", pos + offset, line_end, len(heading.group(1)), _strip_inline_markdown(heading.group(2))
                )
            )
        elif (
            para_start is not None
            and para_kind == "paragraph"
            and _SETEXT.match(line)
            and i > 0
            and lines[i - 1].strip()
            and para_end == pos - len(lines[i - 1]) + len(lines[i - 1].rstrip("\r\n"))
            and para_start == pos - len(lines[i - 1])
        ):
            level = 1 if stripped.startswith("=") else 2
            blocks.append(
                Block("heading", para_start, para_end, level, _strip_inline_markdown(text[para_start:para_end]))
            )
            para_start = None
        elif not stripped:
            flush()
        else:
            kind: BlockKind = "paragraph"
            if stripped.startswith("|"):
                kind = "table"
            elif re.match(r"^([-*+]|\d+[.)])\s", stripped):
                kind = "list"
            if para_start is not None and kind != para_kind and not (para_kind == "list" and kind == "paragraph"):
                flush()
            if para_start is None:
                para_start = pos + (len(line) - len(line.lstrip()))
                para_kind = kind
            para_end = line_end
        pos += len(line)
        i += 1
    flush()
    first_h1 = next((b.title for b in blocks if b.kind == "heading"), "")
    return ParsedDocument(source, title or first_h1 or source, text, blocks, "text/markdown")


def parse_text(text: str, source: str, title: str = "") -> ParsedDocument:
    """Plain text: paragraphs by blank lines; a short unpunctuated line before a paragraph is a heading."""
    blocks: list[Block] = []
    for m in re.finditer(r"\S(?:.*\S)?(?:\n[ \t]*\S.*)*", text):
        start, end = m.start(), m.end()
        chunk = m.group(0)
        first_line = chunk.split("\n", 1)[0].strip()
        is_heading_line = (
            len(first_line) <= 80
            and not first_line.endswith((".", ",", ";", ":", "?", "!"))
            and len(first_line.split()) <= 10
        )
        if is_heading_line and "\n" in chunk:
            head_end = start + chunk.index("\n")
            blocks.append(Block("heading", start, head_end, 2, first_line))
            body_start = head_end + 1
            while body_start < end and text[body_start].isspace():
                body_start += 1
            blocks.append(Block("paragraph", body_start, end))
        elif is_heading_line and len(first_line.split()) <= 6 and first_line[:1].isupper():
            blocks.append(Block("heading", start, end, 2, first_line))
        else:
            blocks.append(Block("paragraph", start, end))
    return ParsedDocument(source, title or source, text, blocks, "text/plain")


_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "nav", "footer", "form", "button", "svg"}
_BLOCK_TAGS = {"p", "li", "dd", "dt", "blockquote", "figcaption", "caption", "div", "section", "article", "main"}
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_MAIN_HINTS = (("div", "role", "main"), ("main", None, None), ("article", None, None), ("div", "class", "body"))
# Definition lists that are prose, not entries: Sphinx marks one-paragraph lists "simple"; field lists
# (Parameters/Returns) and tables of contents are never sections.
_PLAIN_DL = frozenset({"simple", "field-list", "toc", "footnote", "citation", "glossary"})


class _HTMLBlockParser(HTMLParser):
    """Walks HTML once and emits headings, paragraphs, <pre> code and tables with offsets."""

    def __init__(self, require_main: bool = False, dl_sections: bool = True) -> None:
        super().__init__(convert_charrefs=True)
        self.dl_sections = dl_sections
        self.dl_stack: list[bool] = []  # per open <dl>: are its <dt> entries sections?
        self.section_level = 0  # level of the innermost open section (an h1-h6 or an entry <dt>)
        self.dt_levels: list[int] = []  # levels of entry <dt>s opened inside each open entry <dl>
        self.merge_dt = False  # a <dt> right after another <dt> names the same entry
        self.in_dt = False
        self._last_was_dt = False
        self.out: list[str] = []
        self.length = 0
        self.blocks: list[Block] = []
        self.skip_depth = 0
        self.stack: list[str] = []
        self.current: list[str] = []
        self.current_kind: BlockKind | None = None
        self.heading_level = 0
        self.pre_depth = 0
        self.table_depth = 0
        self.row: list[str] = []
        self.cell: list[str] | None = None
        self.title = ""
        self.in_title = False
        self.main_depth: int | None = None
        self.require_main = require_main

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in _SKIP_TAGS and tag != "head":
            self.skip_depth += 1
        if tag in {"br", "hr", "img", "meta", "link", "input", "wbr"}:
            if tag == "br" and self.current_kind is not None:
                self.current.append("\n" if self.pre_depth else " ")
            return
        self.stack.append(tag)
        attr = dict(attrs)
        if self.main_depth is None:
            for t, key, val in _MAIN_HINTS:
                if tag == t and (key is None or val in (attr.get(key) or "").split()):
                    self.main_depth = len(self.stack)
                    self.flush()
                    break
        if self.skip_depth or self._outside_main():
            return
        if tag in _HEADINGS:
            self.flush()
            self.current_kind = "heading"
            self.heading_level = _HEADINGS[tag]
            self.merge_dt = False
        elif tag == "dl" and not self.pre_depth and not self.table_depth:
            self.flush()
            classes = set((attr.get("class") or "").split())
            entry = self.dl_sections and not (classes & _PLAIN_DL)
            self.dl_stack.append(entry)
            if entry:
                self.dt_levels.append(self.section_level)
        elif tag == "dt" and self.dl_stack and self.dl_stack[-1] and not self.pre_depth and not self.table_depth:
            self.flush()
            self.merge_dt = self._last_was_dt  # nothing since the previous <dt>: same entry
            self.in_dt = True
            self.current_kind = "heading"
            self.heading_level = self.dt_levels[-1] + 1
        elif tag == "pre":
            self.flush()
            self.current_kind = "code"
            self.pre_depth += 1
        elif tag == "table":
            self.flush()
            self.table_depth += 1
            self.current_kind = "table"
        elif tag == "tr" and self.table_depth:
            self.row = []
        elif tag in {"td", "th"} and self.table_depth:
            self.cell = []
        elif tag in _BLOCK_TAGS and not self.pre_depth and not self.table_depth and self.current_kind != "heading":
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _SKIP_TAGS and tag != "head" and self.skip_depth:
            self.skip_depth -= 1
        if tag in self.stack:
            while self.stack:
                popped = self.stack.pop()
                if self.main_depth is not None and len(self.stack) < self.main_depth:
                    self.flush()
                    self.main_depth = -1  # main content closed; ignore the rest
                if popped == tag:
                    break
        if self.skip_depth:
            return
        if tag in _HEADINGS and self.current_kind == "heading":
            self.flush()
        elif tag == "dl" and self.dl_stack and not self.pre_depth and not self.table_depth:
            self.flush()
            if self.dl_stack.pop():
                level = self.dt_levels.pop() + 1
                self._emit("end", "", level)  # content after the list belongs to the enclosing section
                self.section_level = level - 1
        elif tag == "pre" and self.pre_depth:
            self.pre_depth -= 1
            if not self.pre_depth:
                self.flush()
        elif tag in {"td", "th"} and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.table_depth and self.row:
            self.current.append(" | ".join(self.row) + "\n")
            self.row = []
        elif tag == "table" and self.table_depth:
            self.table_depth -= 1
            if not self.table_depth:
                self.flush()
        elif tag in _BLOCK_TAGS and not self.pre_depth and not self.table_depth:
            self.flush()
            if tag == "dt":
                self.in_dt = False

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        if self.skip_depth or self._outside_main():
            return
        if self.cell is not None:
            self.cell.append(data)
            return
        if self.current_kind is None:
            self.current_kind = "paragraph"
        self.current.append(data)

    def _outside_main(self) -> bool:
        return self.require_main and (self.main_depth is None or self.main_depth == -1)

    def flush(self) -> None:
        kind = self.current_kind
        raw = "".join(self.current)
        self.current = []
        self.current_kind = None
        if kind == "code":
            text = raw.strip("\n")
        elif kind == "table":  # one row per line, so a reader can tell rows apart
            text = "\n".join(" ".join(line.split()) for line in raw.splitlines() if line.strip())
        else:
            text = " ".join(raw.split())
        if kind is None or not text.strip():
            self.merge_dt = False
            return
        from_dt = bool(kind == "heading" and self.dl_stack and self.dl_stack[-1] and self.in_dt)
        if kind == "heading":
            text = text.replace("¶", "").strip()
            if not text:
                return
            if self.merge_dt and from_dt and self.blocks and self.blocks[-1].kind == "heading":
                # `-a` then `--all`: several <dt> naming one entry become one heading
                prev = self.blocks.pop()
                self.out.append(", " + text)
                self.length += 2 + len(text)
                self.blocks.append(Block("heading", prev.start, self.length, prev.level, prev.title + ", " + text))
                self.merge_dt = False
                return
            self.section_level = self.heading_level
        self._last_was_dt = bool(from_dt)
        self.merge_dt = False
        self._emit(kind, text, self.heading_level if kind == "heading" else 0)

    def _emit(self, kind: BlockKind, text: str, level: int) -> None:
        if kind == "end":
            self._last_was_dt = False
            self.blocks.append(Block("end", self.length, self.length, level))
            return
        if self.length:
            self.out.append("\n\n")
            self.length += 2
        start = self.length
        self.out.append(text)
        self.length += len(text)
        title = text if kind == "heading" else ""
        self.blocks.append(Block(kind, start, self.length, level, title))


def parse_html(raw: str, source: str, title: str = "", *, dl_sections: bool = True) -> ParsedDocument:
    """HTML: main content only (Sphinx `role=main`, <main>, <article>); <pre> and tables stay whole.

    With `dl_sections`, each entry of a definition list that documents things (Sphinx API objects,
    command-line options, environment variables; asciidoc option lists) becomes a section one level
    under the enclosing heading, named by its <dt>; prose lists (Sphinx "simple", field lists) do not.
    """
    has_main = re.search(r"<(main|article)\b|role=[\"']main[\"']", raw, re.IGNORECASE) is not None
    parser = _HTMLBlockParser(require_main=has_main, dl_sections=dl_sections)
    parser.feed(raw)
    parser.close()
    parser.flush()
    page_title = html.unescape(" ".join(parser.title.split())).split(" — ")[0].strip()
    return ParsedDocument(source, title or page_title or source, "".join(parser.out), parser.blocks, "text/html")


def parse_pdf(path: Path, source: str, title: str = "") -> ParsedDocument:
    """PDF via pypdf: outline entries become headings; without one, lines set clearly larger than the
    body text do (levels by size); with neither, each page is a section."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path), strict=False)
        outline_titles: dict[int, list[tuple[int, str]]] = {}

        def walk(items: list[object], depth: int) -> None:
            for item in items:
                if isinstance(item, list):
                    walk(item, depth + 1)
                    continue
                try:
                    page_no = reader.get_destination_page_number(item)  # type: ignore[arg-type]
                except Exception:  # noqa: BLE001 - broken outlines are common; keep the text
                    continue
                if page_no is None:
                    continue
                outline_titles.setdefault(page_no, []).append((depth, str(getattr(item, "title", "")).strip()))

        try:
            walk(list(reader.outline), 1)
        except Exception:  # noqa: BLE001
            outline_titles = {}
        runs: list[list[tuple[str, float | None]]] = []
        if outline_titles:
            pages = [page.extract_text() or "" for page in reader.pages]
        else:
            pages = []
            for page in reader.pages:
                text, page_runs = _extract_with_sizes(page)
                pages.append(text)
                runs.append(page_runs)
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(f"cannot read PDF {source}: {exc}") from exc
    except Exception as exc:  # pypdf raises anything on hostile input; one bad file must not stop an ingest
        raise IngestError(f"cannot read PDF {source}: {type(exc).__name__}: {exc}") from exc
    if not outline_titles:
        try:
            sized = font_size_blocks(pages, runs)
        except Exception as exc:  # noqa: BLE001 - heading detection is a bonus; page sections still work
            log.warning("ingest.pdf_fonts_failed", source=source, error=f"{type(exc).__name__}: {exc}")
            sized = None
        if sized is not None:
            first = next((b for b in sized if b.kind == "heading"), None)
            head_title = first.title if first is not None and first.level == 1 else ""
            return ParsedDocument(
                source,
                title or meta_title or head_title or _title_from_path(path),
                "".join(p + "\n\n" for p in pages),
                sized,
                "application/pdf",
            )
    parts: list[str] = []
    blocks: list[Block] = []
    length = 0
    for page_no, page_text in enumerate(pages):
        headings = outline_titles.get(page_no) or ([] if outline_titles else [(1, f"Page {page_no + 1}")])
        for depth, heading in headings:
            if heading:
                parts.append(heading + "\n\n")
                blocks.append(Block("heading", length, length + len(heading), min(depth, 6), heading))
                length += len(heading) + 2
        for m in re.finditer(r"\S(?:.*\S)?(?:\n[ \t]*\S.*)*", page_text):
            start = length + m.start()
            blocks.append(Block("paragraph", start, start + len(m.group(0))))
        parts.append(page_text + "\n\n")
        length += len(page_text) + 2
    return ParsedDocument(
        source, title or meta_title or _title_from_path(path), "".join(parts), blocks, "application/pdf"
    )


def _extract_with_sizes(page: Any) -> tuple[str, list[tuple[str, float | None]]]:
    """A page's text plus its sized runs; if the visitor pass fails, plain text and no sizes."""
    collector = SizeCollector()
    try:
        text = page.extract_text(visitor_text=collector) or ""
    except Exception:  # noqa: BLE001 - retried without the visitor; a real failure raises there
        return page.extract_text() or "", []
    return text, ([] if collector.failed else collector.runs)


def _decode(data: bytes, source: str) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 (before the NUL test: its ASCII has NUL bytes)
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError(f"{source} has a UTF-16 byte-order mark but is not valid UTF-16: {exc}") from exc
    if b"\x00" in data[:8192]:
        raise IngestError(f"{source} looks binary (NUL bytes); only text, Markdown, HTML and PDF are supported")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{source} is not valid UTF-8 or cp1252 text: {exc}") from exc


LOADERS: dict[str, str] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdx": "markdown",
    ".txt": "text",
    ".text": "text",
    ".rst": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
}


def load_file(path: Path, source: str | None = None, *, dl_sections: bool = True) -> ParsedDocument:
    """Parse one file by extension; raises `IngestError` with the reason when it cannot.
    `dl_sections` is the HTML loader's choice to make definition-list entries sections."""
    source = source or str(path)
    kind = LOADERS.get(path.suffix.lower())
    if kind is None:
        raise IngestError(f"unsupported file type {path.suffix or '(none)'} for {source}")
    try:
        info = path.stat()
    except OSError as exc:
        raise IngestError(f"cannot read {source}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise IngestError(f"{source} is not a regular file (a FIFO or device would block the ingest)")
    size = info.st_size
    if size == 0:
        raise IngestError(f"{source} is empty")
    if size > MAX_FILE_BYTES:
        raise IngestError(f"{source} is {size} bytes, over the {MAX_FILE_BYTES}-byte limit")
    if kind == "pdf":
        doc = parse_pdf(path, source)
    else:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise IngestError(f"cannot read {source}: {exc.strerror or exc}") from exc
        text = _decode(data, source)
        if kind == "html":
            doc = parse_html(text, source, dl_sections=dl_sections)
        else:
            parser: Callable[[str, str, str], ParsedDocument] = {"markdown": parse_markdown, "text": parse_text}[kind]
            doc = parser(text, source, _title_from_path(path) if kind == "text" else "")
    if not doc.text.strip() or not any(b.kind not in ("heading", "end") for b in doc.blocks):
        raise IngestError(f"{source} has no extractable text")
    return doc
