"""Fake chat models for role unit tests: langchain_core's `GenericFakeChatModel` replaying scripted
replies, plus tool binding (which it lacks) and a record of every prompt it was sent."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field

from graphs.roles.llm import StructuredLLM


class RecordingFakeChatModel(GenericFakeChatModel):
    """Replays `messages` in order; `prompts` holds each call's messages, `bound` the tools bound."""

    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    bound: list[dict[str, Any]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> RecordingFakeChatModel:
        self.bound.append({"tools": list(tools), **kwargs})
        return self

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        self.prompts.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def prompt_text(self, call: int = -1) -> str:
        return "\n".join(m.text for m in self.prompts[call])


def tool_reply(name: str, args: dict[str, Any], tokens: int | None = 40) -> AIMessage:
    """A reply calling `name`; `tokens=None` leaves out usage metadata (some local servers do)."""
    usage = {"input_tokens": tokens - 10, "output_tokens": 10, "total_tokens": tokens} if tokens else None
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": "call_1", "type": "tool_call"}], usage_metadata=usage
    )


def bad_json_reply(raw: str = '{"answer": "x"') -> AIMessage:
    """A reply whose function arguments are not JSON (lands in `invalid_tool_calls`)."""
    return AIMessage(
        content="",
        invalid_tool_calls=[
            {"name": "x", "args": raw, "id": "call_1", "error": "bad json", "type": "invalid_tool_call"}
        ],
        usage_metadata={"input_tokens": 20, "output_tokens": 5, "total_tokens": 25},
    )


def text_reply(payload: dict[str, Any] | str, tokens: int = 30) -> AIMessage:
    content = payload if isinstance(payload, str) else json.dumps(payload)
    return AIMessage(
        content=content, usage_metadata={"input_tokens": tokens - 5, "output_tokens": 5, "total_tokens": tokens}
    )


def fake_llm(replies: list[AIMessage], **kwargs: Any) -> tuple[StructuredLLM, RecordingFakeChatModel]:
    model = RecordingFakeChatModel(messages=iter(replies))
    return StructuredLLM(model, label="llm:fake", **kwargs), model


def replies_left(model: RecordingFakeChatModel) -> int:
    it: Iterator[Any] = model.messages
    return sum(1 for _ in it)
