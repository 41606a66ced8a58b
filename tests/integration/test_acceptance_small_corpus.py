"""The learned acceptance gate on the default stack (bundled MiniLM, `acceptance="auto"`) over a
corpus of three invented pages: a right, supported answer is kept, and an answer the rules pass
although its page says nothing of what was asked is declined. A corpus this small puts every page
in every evidence pool, which is what the gate's corpus-size-free features are for."""

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

# No page says who designed the lighthouse; the keeper's sentence shares its words.
OFF_TOPIC = "Who designed the Skarvholm lighthouse?"


def _agent(folder: Path, index: Path, acceptance: str | None) -> Agent:
    roles: Any = None
    if acceptance is not None:
        thresholds = OfflineThresholds(acceptance=acceptance)  # type: ignore[arg-type]
        roles = lambda ix: offline_roles(ix.embedder, thresholds)  # noqa: E731
    agent = Agent(index, settings=offline_settings(), roles=roles)
    agent.ingest(folder)
    return agent


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lighthouse")
    for name, text in PAGES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def default_agent(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    agent = _agent(corpus, tmp_path_factory.mktemp("default") / "idx", None)
    yield agent
    agent.close()


def _acceptance(result: RunResult) -> list[dict[str, Any]]:
    return [ev.detail["acceptance"] for ev in result.trace if ev.node == "verify" and ev.detail.get("acceptance")]


def test_a_right_answer_on_a_three_page_corpus_is_kept(default_agent: Agent) -> None:
    result = default_agent.run("Who keeps the Skarvholm lighthouse?")
    assert result.outcome == "answered" and result.short_answer == "Oda Fjeldstad"
    gate = _acceptance(result)[-1]
    assert "score" in gate and float(gate["score"]) >= float(gate["threshold"])  # the gate was asked and kept it
    assert any("01-lighthouse.md" in c.source for c in result.citations)


def test_an_off_topic_answer_the_rules_pass_is_declined(
    default_agent: Agent, corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    rules = _agent(corpus, tmp_path_factory.mktemp("rules") / "idx", "rules")
    try:
        ruled = rules.run(OFF_TOPIC)
    finally:
        rules.close()
    assert ruled.outcome == "answered" and ruled.short_answer  # the rules alone accept the keeper's name
    result = default_agent.run(OFF_TOPIC)
    assert result.outcome == "not_found" and result.short_answer == ""
    assert any(a.get("declined") for a in _acceptance(result))
