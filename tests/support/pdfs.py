"""Tiny PDFs built by hand (no PDF writer needed): text lines at chosen font sizes, xref and all."""

from __future__ import annotations

from collections.abc import Sequence


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def line_ops(size: float, text: str, y: float, *, scaled: bool = False) -> str:
    """One line of Helvetica; `scaled` sets it as `1 Tf` with the size in the text matrix instead."""
    if scaled:
        return f"BT /F1 1 Tf {size} 0 0 {size} 72 {y:.1f} Tm ({_escape(text)}) Tj ET"
    return f"BT /F1 {size} Tf 72 {y:.1f} Td ({_escape(text)}) Tj ET"


def sized_pdf(pages: Sequence[Sequence[tuple[float, str]]], *, scaled: bool = False) -> bytes:
    """A PDF whose pages hold `(font size, text)` lines, top to bottom, in a standard Type1 font."""
    objs: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, once the page ids are known
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    kids: list[int] = []
    for lines in pages:
        y = 760.0
        ops = []
        for size, text in lines:
            y -= size * 1.5
            ops.append(line_ops(size, text, y, scaled=scaled))
        stream = "\n".join(ops).encode("latin-1")
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        objs.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R"
            b" /Resources << /Font << /F1 3 0 R >> >> >>" % len(objs)
        )
        kids.append(len(objs))
    objs[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    return assemble(objs)


def assemble(objs: Sequence[bytes]) -> bytes:
    """Objects 1..n (object 1 the catalog) written out with a correct xref table and trailer."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)
