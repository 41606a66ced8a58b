"""`langgraph dev` serves the agent graph offline; the SDK lists it, runs a task and streams values."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE
from tests.support.servers import free_port, stop, wait_for_port
from tests.support.two_corpora import FERRY_Q, LIGHTHOUSE_Q, write_corpora

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def studio_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("studio")


@pytest.fixture(scope="module")
def studio_server(studio_workdir: Path) -> Iterator[str]:
    langgraph = Path(sys.executable).with_name("langgraph")
    if not langgraph.exists():
        pytest.skip("langgraph-cli is a dev extra; run `make test` to install it")
    workdir = studio_workdir
    index = workdir / "idx"
    env = {**os.environ, "HRAGENT_EMBEDDER": "hashing", "HRAGENT_INDEX_DIR": str(index), "LANGSMITH_TRACING": "false"}
    ferry_docs, light_docs = write_corpora(workdir)
    for docs, target in ((SAMPLE, index), (ferry_docs, workdir / "ferry-idx"), (light_docs, workdir / "light-idx")):
        subprocess.run(
            [sys.executable, "-m", "agent.cli", "ingest", str(docs), "--index", str(target)],
            check=True,
            env=env,
            cwd=ROOT,
            capture_output=True,
        )
    port = free_port()
    log = (workdir / "dev.log").open("w")
    proc = subprocess.Popen(
        [str(langgraph), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        error = wait_for_port(port, proc, 90)
        if error:
            pytest.fail(f"langgraph dev did not start ({error}): {(workdir / 'dev.log').read_text()[-2000:]}")
        yield url
    finally:
        stop(proc)
        log.close()
        shutil.rmtree(ROOT / ".langgraph_api", ignore_errors=True)


def test_sdk_lists_runs_and_streams(studio_server: str) -> None:
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=studio_server)
    deadline = time.monotonic() + 30
    assistants: list = []
    while time.monotonic() < deadline and not assistants:
        try:
            assistants = client.assistants.search(graph_id="hragent")
        except Exception:  # the server answers before the graph is loaded
            time.sleep(0.5)
    assert assistants, "the hragent graph is not registered"
    assistant_id = assistants[0]["assistant_id"]
    graph = client.assistants.get_graph(assistant_id)
    node_ids = {n["id"] for n in graph["nodes"]}
    assert {"plan", "review_plan", "retrieve", "solve", "verify", "compose"} <= node_ids
    schemas = client.assistants.get_schemas(assistant_id)
    assert "task" in schemas["input_schema"]["properties"]
    assert "max_hops" in str(schemas["input_schema"])

    thread = client.threads.create()
    values = []
    for part in client.runs.stream(
        thread["thread_id"],
        assistant_id,
        input={"task": "What is the maximum payload of the Harrier?"},
        stream_mode="values",
    ):
        if part.event == "values":
            values.append(part.data)
    assert len(values) >= 3, "values should stream step by step"
    final = values[-1]
    assert final["halt_reason"]
    assert final["answer"]
    assert final["citations"] and all(c["quote"] for c in final["citations"])
    state = client.threads.get_state(thread["thread_id"])
    assert state["values"]["answer"] == final["answer"]


def test_plan_approval_from_studio(studio_server: str) -> None:
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=studio_server)
    thread = client.threads.create()
    client.runs.wait(
        thread["thread_id"],
        "hragent",
        input={"task": "In what year was Halden Robotics founded?", "approve_plan": True},
    )
    paused = client.threads.get_state(thread["thread_id"])
    assert paused["next"] == ["review_plan"]
    assert "answer" not in paused["values"] or not paused["values"].get("answer")
    final = client.runs.wait(thread["thread_id"], "hragent", command={"resume": True})
    assert final["halt_reason"] and final["citations"]


def test_two_assistants_over_two_indexes_in_one_server(studio_server: str, studio_workdir: Path) -> None:
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=studio_server)
    workdir = studio_workdir
    ferry = client.assistants.create("hragent", context={"index_dir": str(workdir / "ferry-idx")}, name="ferry")
    light = client.assistants.create(
        "hragent", context={"index_dir": str(workdir / "light-idx"), "strategy": "hybrid"}, name="lighthouse"
    )
    a = client.runs.wait(None, ferry["assistant_id"], input={"task": FERRY_Q})
    b = client.runs.wait(None, light["assistant_id"], input={"task": LIGHTHOUSE_Q})
    assert "Oarmakers Guild" in a["answer"] and {Path(c["source"]).name for c in a["citations"]} == {"ferry.md"}
    assert "Oren Tamm" in b["answer"] and {Path(c["source"]).name for c in b["citations"]} == {"lighthouse.md"}
    crossed = client.runs.wait(None, ferry["assistant_id"], input={"task": LIGHTHOUSE_Q})
    assert "Oren Tamm" not in crossed["answer"]


def test_messages_through_the_sdk_stream_modes(studio_server: str) -> None:
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=studio_server)
    thread = client.threads.create()
    seen: dict[str, int] = {}
    final: dict[str, Any] = {}
    for part in client.runs.stream(
        thread["thread_id"],
        "hragent",
        input={"messages": [{"role": "human", "content": "Which company makes the Kestrel drone?"}]},
        stream_mode=["values", "updates", "messages", "events"],
    ):
        kind = part.event.split("/")[0]
        seen[kind] = seen.get(kind, 0) + 1
        if part.event == "values":
            final = part.data
    assert {"values", "updates", "events"} <= set(seen), seen
    reply = final["messages"][-1]
    assert reply["type"] == "ai" and reply["content"] == final["answer"]
    assert reply["response_metadata"]["hragent"]["citations"]
    follow = client.runs.wait(
        thread["thread_id"], "hragent", input={"messages": [{"role": "human", "content": "and who founded it?"}]}
    )
    assert follow["messages"][-1]["response_metadata"]["hragent"]["task"] == "Who founded Halden Robotics?"
