"""`hragent mcp` driven by the official MCP client over stdio: tools listed, `ask` and `retrieve`
answer with structured content, a restricted document stays invisible to a server started without
its principal (whatever a tool call says), and bad input is a tool error, not a dead server."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from agent import Agent
from tests.conftest import SAMPLE, offline_settings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

# An invented restricted memo; its code word appears nowhere in the sample corpus.
SECRET = "# Bonus pool memo\n\nThe discretionary bonus pool code word is ZEPHYRQUILL, approved for the payroll team.\n"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mcp")
    memo = root / "private" / "bonus-memo.md"
    memo.parent.mkdir()
    memo.write_text(SECRET)
    index = root / "idx"
    with Agent(index_dir=index, settings=offline_settings(embedder="hashing")) as agent:
        agent.ingest(SAMPLE)
        agent.ingest(memo, acl=["hr"])
    return index


def _params(index: Path, principal: str | None) -> StdioServerParameters:
    args = ["-m", "agent.cli", "mcp", "--index", str(index)]
    if principal:
        args += ["--principal", principal]
    env = {
        "HRAGENT_EMBEDDER": "hashing",
        "HRAGENT_LLM__BACKEND": "offline",
        "HRAGENT_CHECKPOINTER": "memory",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
    }
    return StdioServerParameters(command=sys.executable, args=args, env=env, cwd=str(ROOT))


def _session(index: Path, principal: str | None, body: Any) -> Any:
    async def main() -> Any:
        async with stdio_client(_params(index, principal)) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            with anyio.fail_after(60):
                return await body(session)

    return anyio.run(main)


def _text(result: Any) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")


def test_tools_ask_retrieve_and_errors(index_dir: Path) -> None:
    async def body(session: ClientSession) -> dict[str, Any]:
        tools = await session.list_tools()
        return {
            "tools": {t.name: t for t in tools.tools},
            "ask": await session.call_tool("ask", {"question": "Who founded the company that makes the Kestrel?"}),
            "retrieve": await session.call_tool("retrieve", {"query": "Kestrel drone", "k": 3}),
            "secret": await session.call_tool("retrieve", {"query": "ZEPHYRQUILL bonus pool code word", "k": 5}),
            "sources": await session.call_tool("list_sources", {}),
            "blank": await session.call_tool("ask", {"question": "   "}),
            "widen": await session.call_tool("retrieve", {"query": "ZEPHYRQUILL", "principal": "hr"}),
            "after": await session.call_tool("retrieve", {"query": "Kestrel", "k": 1}),
        }

    out = _session(index_dir, None, body)
    assert set(out["tools"]) == {"ask", "retrieve", "list_sources"}
    assert "principal" not in str(out["tools"]["retrieve"].input_schema)  # no argument can name an identity

    ask = out["ask"]
    assert not ask.is_error
    structured = ask.structured_content
    assert set(structured) >= {"short_answer", "outcome", "claims", "citations"}
    assert structured["outcome"] in {"answered", "partial", "not_found"}
    assert _text(ask).strip()
    if structured["outcome"] != "not_found":
        assert structured["citations"] and all("source" in c for c in structured["citations"])

    hits = out["retrieve"].structured_content["hits"]
    assert 1 <= len(hits) <= 3
    assert any("Kestrel" in h["text"] for h in hits)
    assert all(Path(h["source"]).parent == SAMPLE.resolve() for h in hits)

    assert all("ZEPHYRQUILL" not in h["text"] for h in out["secret"].structured_content["hits"])
    sources = [s["source"] for s in out["sources"].structured_content["sources"]]
    assert len(sources) == len(list(SAMPLE.glob("*.md")))
    assert not any("bonus-memo" in s for s in sources)

    assert out["blank"].is_error and "InvalidTaskError" in _text(out["blank"])
    # An extra `principal` argument is not a way in: rejected or ignored, never obeyed.
    widen = out["widen"]
    assert widen.is_error or all("ZEPHYRQUILL" not in h["text"] for h in widen.structured_content["hits"])
    assert not out["after"].is_error  # the server survived the bad calls


def test_principal_fixed_at_start_sees_restricted_document(index_dir: Path) -> None:
    async def body(session: ClientSession) -> dict[str, Any]:
        return {
            "hits": await session.call_tool("retrieve", {"query": "ZEPHYRQUILL bonus pool code word", "k": 5}),
            "sources": await session.call_tool("list_sources", {}),
        }

    out = _session(index_dir, "alice,hr", body)
    assert any("ZEPHYRQUILL" in h["text"] for h in out["hits"].structured_content["hits"])
    assert any("bonus-memo" in s["source"] for s in out["sources"].structured_content["sources"])


def test_missing_index_is_a_tool_error(tmp_path: Path) -> None:
    async def body(session: ClientSession) -> Any:
        return await session.call_tool("retrieve", {"query": "anything"})

    result = _session(tmp_path / "nowhere", None, body)
    assert result.is_error and "no hragent index" in _text(result)
    assert not (tmp_path / "nowhere").exists()  # serving never creates an index as a side effect
