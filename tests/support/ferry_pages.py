"""Invented mini-documents shared by the enumeration tests of both engines (no real manual).

`FERRY_TIE` is a man page whose MODES section lists six knot modes as sibling `<dl>` entries, each
with a one-line description: the offline reader and the LLM path must both return every mode, each
cited by its own entry."""

from __future__ import annotations

from pathlib import Path

FERRY_TIE_MODES = ["--bowline", "--hitch", "--sheet", "--reef", "--cleat", "--slip"]

FERRY_TIE = """<html><head><title>ferry-tie(1)</title></head><body><div role="main">
<h1>ferry-tie(1)</h1>
<h2>DESCRIPTION</h2><p>Tie a vessel to its berth in one of six knot modes.</p>
<h2>MODES</h2>
<dl>
<dt>--bowline</dt><dd><p>Tie a fixed loop that never slips under load.</p></dd>
<dt>--hitch</dt><dd><p>Tie a quick knot that is easy to undo by hand.</p></dd>
<dt>--sheet</dt><dd><p>Join two ropes of different thickness.</p></dd>
<dt>--reef</dt><dd><p>Bind a sail around its boom.</p></dd>
<dt>--cleat</dt><dd><p>Make the line fast on a cleat of the pier.</p></dd>
<dt>--slip</dt><dd><p>Tie a knot that comes free with one pull of the tail.</p></dd>
</dl>
</div></body></html>
"""


def write_ferry_tie(folder: Path) -> Path:
    """Write the ferry-tie page into `folder` (created if needed) and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ferry-tie.html").write_text(FERRY_TIE, encoding="utf-8")
    return folder
