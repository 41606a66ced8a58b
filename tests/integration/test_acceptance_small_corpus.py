"""The learned acceptance gate on the default stack's embedder (bundled MiniLM, `acceptance="auto"`) over a
corpus of three invented pages: the gate is consulted and a right, supported answer is kept. A
corpus this small puts every page in every evidence pool, which is what the gate's
corpus-size-free features are for. (That it also declines off-topic answers the rules pass on such
a corpus is *not* tested: at the shipped operating point it does not — benchmarks/RESULTS.md,
"Ninth session: acceptance by default?".)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent import Agent, RunResult
from graphs.roles.offline import offline_roles
from policies.offline import OfflineThresholds
from tests.conftest import offline_settings

pytestmark = pytest.mark.integration

PAGES = {
    "01-lighthouse.md": """# Skarvholm lighthouse

Skarvholm lighthouse stands on a granite skerry at the mouth of the Vessel fjord. It was lit for the
first time in 1873. Its light is white and flashes twice every ten seconds; it can be seen 17 nautical
miles away.

The lighthouse has been kept by Oda Fjeldstad since 2008. She lives in the keeper's house next to the
tower with two dogs.
""",
    "02-society.md": """# The Skarvholm Lighthouse Society

The Skarvholm Lighthouse Society is a volunteer group that looks after the buildings on the skerry. It
was founded in 1994 and has about 600 members. The society repainted the tower in 2019 and replaced the
roof of the boathouse in 2022.

The society runs a boat to the skerry on Sundays in summer. The boat leaves from Vessel quay at eleven
o'clock.
""",
    "03-weather.md": """# Weather station

A weather station was built on the skerry in 1931. It reports wind, air pressure and sea temperature
every ten minutes to the national weather service. The strongest gust measured at the station was 51
metres per second, during the storm of January 1992.
""",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lighthouse")
    for name, text in PAGES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def auto_agent(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    thresholds = OfflineThresholds(acceptance="auto")  # the bundled MiniLM: the gate runs
    agent = Agent(
        tmp_path_factory.mktemp("auto") / "idx",
        settings=offline_settings(),
        roles=lambda ix: offline_roles(ix.embedder, thresholds),
    )
    agent.ingest(corpus)
    yield agent
    agent.close()


def _acceptance(result: RunResult) -> list[dict[str, Any]]:
    return [ev.detail["acceptance"] for ev in result.trace if ev.node == "verify" and ev.detail.get("acceptance")]


def test_a_right_answer_on_a_three_page_corpus_is_kept(auto_agent: Agent) -> None:
    result = auto_agent.run("Who keeps the Skarvholm lighthouse?")
    assert result.outcome == "answered" and result.short_answer == "Oda Fjeldstad"
    gate = _acceptance(result)[-1]
    assert "score" in gate and float(gate["score"]) >= float(gate["threshold"])  # the gate was asked and kept it
    assert any("01-lighthouse.md" in c.source for c in result.citations)
