"""Two tiny invented corpora for per-assistant tests: each assistant must answer from its own."""

from __future__ import annotations

from pathlib import Path

FERRY = (
    "# Brackwater Ferry\n\n"
    "The Brackwater ferry is run by the Oarmakers Guild. The ferry crosses the estuary four times a day.\n\n"
    "## Boats\n\nThe guild owns two boats, the Heron and the Plover.\n"
)
LIGHTHOUSE = (
    "# Tallow Lighthouse\n\n"
    "The keeper of the Tallow lighthouse is Oren Tamm. The lighthouse stands on Gull Point.\n\n"
    "## Lamp\n\nThe lamp of the Tallow lighthouse is lit at dusk by the keeper.\n"
)
FERRY_Q = "Who runs the Brackwater ferry?"
LIGHTHOUSE_Q = "Who is the keeper of the Tallow lighthouse?"


def write_corpora(root: Path) -> tuple[Path, Path]:
    """(ferry docs folder, lighthouse docs folder)."""
    ferry, light = root / "ferry-docs", root / "light-docs"
    ferry.mkdir(parents=True)
    light.mkdir(parents=True)
    (ferry / "ferry.md").write_text(FERRY)
    (light / "lighthouse.md").write_text(LIGHTHOUSE)
    return ferry, light
