"""Whatever the model says, the graph keeps every limit (#4), through the real ChatOpenAI path.

The stub's "model" is adversarial: it plans as many subgoals as it is told to, always asks for one
more hop, and judges every claim contradicted, so the run wants to go on forever. Limits are drawn
by hypothesis; the stub's request log is the ground truth for calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import Agent, Limits, Settings
from tests.conftest import SAMPLE
from tests.support.llm_responder import arguments
from tests.support.stub_openai import StubOpenAI
from tools.embeddings import HashingEmbedder

pytestmark = pytest.mark.integration

TASK = "In which city was the chief executive of the company that makes the Kestrel drone born?"
_SID = re.compile(r"^\[(S\d+)\]", re.M)


class Adversary:
    """A responder that never lets the run settle; `plan_size` subgoals per plan."""

    def __init__(self) -> None:
        self.plan_size = 2

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        tool = body["tools"][0]["function"]["name"] if body.get("tools") else ""
        user = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        if tool == "submit_plan":
            args: dict[str, Any] = {
                "kind": "lookup",
                "subgoals": [
                    {"query": f"{TASK} (part {i})", "kind": "lookup", "depends_on": []} for i in range(self.plan_size)
                ],
            }
        elif tool == "submit_reading":
            sids = _SID.findall(user)
            args = {
                "answer": "Bergen",
                "support": sids[:1],
                "confidence": 0.1,
                "follow_query": "and one more search please",
                "follow_titles": ["Kestrel"],
            }
        elif tool == "submit_verdicts":
            n = len(re.findall(r"^claim \d+:", user, re.M))
            args = {
                "verdicts": [
                    {"claim": i, "verdict": "contradicted", "confidence": 0.99, "reason": "no"} for i in range(1, n + 1)
                ]
            }
        else:
            args = arguments(body)
        return {"content": None, "tool_calls": [{"name": tool, "arguments": args}]}


@pytest.fixture(scope="module")
def adversary() -> Iterator[tuple[StubOpenAI, Adversary]]:
    responder = Adversary()
    with StubOpenAI(responder=responder) as server:
        server.latency_s = 0.0
        yield server, responder


@pytest.fixture(scope="module")
def llm_agent(adversary: tuple[StubOpenAI, Adversary], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    server, _ = adversary
    path: Path = tmp_path_factory.mktemp("adv-llm") / "idx"
    llm = {"backend": "openai", "base_url": server.base_url, "api_key": "sk-test", "max_retries": 0}
    agent = Agent(
        path,
        settings=Settings(checkpointer="memory", llm=llm),  # type: ignore[arg-type]
        embedder=HashingEmbedder(),
    )
    agent.ingest(SAMPLE)
    yield agent
    agent.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plan_size=st.integers(1, 4),
    hops=st.integers(1, 4),
    refinements=st.integers(0, 2),
    subgoals=st.integers(1, 4),
    calls=st.integers(1, 25),
    tokens=st.sampled_from([0, 3_000, 12_000]),
)
def test_an_adversarial_model_cannot_push_a_run_past_any_limit(
    adversary: tuple[StubOpenAI, Adversary],
    llm_agent: Agent,
    plan_size: int,
    hops: int,
    refinements: int,
    subgoals: int,
    calls: int,
    tokens: int,
) -> None:
    server, responder = adversary
    responder.plan_size = plan_size
    server.reset()
    limits = Limits(
        max_hops=hops, max_refinements=refinements, max_subgoals=subgoals, max_llm_calls=calls, max_tokens=tokens
    )
    result = llm_agent.run(TASK, limits=limits)
    sent = [r for r in server.requests if r["path"] == "/v1/chat/completions"]
    assert result.halt_reason
    # Calls are refused before they are sent, so the bound is exact, not "one step over".
    assert len(sent) <= calls
    assert result.stats.llm_calls == len(sent)
    assert result.stats.refinements <= refinements
    assert all(s.hops <= hops for s in result.subgoals)
    assert len(result.subgoals) <= subgoals * (refinements + 1)
    if tokens:
        # A prompt that cannot fit is never sent; only the reply to the last affordable prompt can
        # cross the line, and the stub's replies are short.
        assert result.stats.tokens <= tokens + 400
    # The run still ends with something honest: no claim the (adversarial) verifier rejected is
    # presented as supported.
    assert all(c.verdict != "supported" or c.citations for c in result.claims)
