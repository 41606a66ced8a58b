"""A model's reply as one schema instance, tolerating what small models send: a JSON object inside
prose, arguments wrapped in `{"name", "arguments"}` (sometimes as a JSON string), a tool call or
plain JSON content. Invalid output raises `OutputInvalid` with what the model sent, for the repair."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.I)
_WRAPPER_KEYS = frozenset({"name", "arguments", "parameters", "type"})
_SCHEMA_KEYS = frozenset({"type", "properties", "required", "title", "description", "$schema", "additionalProperties"})


def tool_name(schema: type[BaseModel]) -> str:
    return str(schema.model_config.get("title") or schema.__name__)


class OutputInvalid(Exception):
    """The reply could not be turned into the schema; `raw` is what the model sent."""

    def __init__(self, error: str, raw: str) -> None:
        super().__init__(error)
        self.error = error
        self.raw = raw


def _summarize(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _json_in_text(text: str) -> Any:
    """The JSON value a reply's text holds: the whole text, else the first object inside prose
    (servers that ignore a forced tool call often answer "Here is the result: {...}")."""
    text = _FENCE.sub("", text.strip())
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        first = text.find("{")
        if first >= 0:  # prose before the object, or anything after it ("{...} I hope this helps")
            try:
                value, _ = json.JSONDecoder().raw_decode(text[first:])
                return value
            except json.JSONDecodeError:
                pass
        raise OutputInvalid(f"the reply is not valid JSON ({exc.msg} at position {exc.pos})", text) from None


def _unwrap(data: Any, name: str) -> Any:
    """Small models often send the call itself, `{"name": "submit_x", "arguments": {...}}` (the
    arguments sometimes as a JSON string), where only the arguments belong, or echo the pasted
    schema's shape with the values under `properties` (`{"type": "object", "properties": {...}}`)."""
    if isinstance(data, dict) and isinstance(data.get("properties"), dict) and data.keys() <= _SCHEMA_KEYS:
        data = data["properties"]
    for _ in range(2):
        if not (isinstance(data, dict) and data.keys() <= _WRAPPER_KEYS and data.get("name") in (name, None)):
            return data
        inner = data.get("arguments", data.get("parameters"))
        if isinstance(inner, str):
            try:
                inner = json.loads(inner)
            except json.JSONDecodeError:
                return data
        if not isinstance(inner, dict):
            return data
        data = inner
    return data


def truncated_reply(exc: BaseException) -> AIMessage | None:
    """The reply inside openai's `LengthFinishReasonError`, as a message to parse and repair.

    langchain-openai sends any request with `response_format` through `chat.completions.parse`,
    which raises this when the reply stopped at the output-token limit (`finish_reason: "length"`):
    a small model looping inside its JSON does it every time. It is output to repair, not an outage
    (no status: it would read as "model unavailable" and send the run offline)."""
    completion = getattr(exc, "completion", None)
    if type(exc).__name__ != "LengthFinishReasonError" or completion is None:
        return None
    choices = getattr(completion, "choices", None) or []
    content = getattr(choices[0].message, "content", None) if choices else None
    usage = getattr(completion, "usage", None)
    metadata: Any = None
    if usage is not None:
        prompt, generated = int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0)
        metadata = {"input_tokens": prompt, "output_tokens": generated, "total_tokens": prompt + generated}
    return AIMessage(content=content or "", response_metadata={"finish_reason": "length"}, usage_metadata=metadata)


def parse_reply(message: BaseMessage, schema: type[T], context: Mapping[str, Any] | None = None) -> T:
    """The schema instance in a reply: the first matching tool call, else a JSON object in the text.
    A reply cut at the output-token limit says so in its error (the repair asks for a shorter one)."""
    try:
        return _parse_reply(message, schema, context)
    except OutputInvalid as bad:
        if message.response_metadata.get("finish_reason") != "length":
            raise
        raise OutputInvalid(
            f"the reply was cut off at the output-token limit (keep it short); {bad.error}", bad.raw
        ) from None


def _parse_reply(message: BaseMessage, schema: type[T], context: Mapping[str, Any] | None) -> T:
    name = tool_name(schema)
    data: Any
    if isinstance(message, AIMessage) and message.tool_calls:
        call = next((c for c in message.tool_calls if c["name"] == name), message.tool_calls[0])
        data = call["args"]
    elif isinstance(message, AIMessage) and message.invalid_tool_calls:
        raw = str(message.invalid_tool_calls[0].get("args") or "")
        raise OutputInvalid("the function arguments are not valid JSON", raw)
    else:
        text = message.text.strip()
        if not text:
            raise OutputInvalid(f"the reply has no call to `{name}` and no JSON", "")
        data = _json_in_text(text)
    data = _unwrap(data, name)
    if not isinstance(data, dict):
        raise OutputInvalid("the arguments must be a JSON object", json.dumps(data)[:2000])
    try:
        return schema.model_validate(data, context=dict(context or {}))
    except ValidationError as exc:
        raise OutputInvalid(_summarize(exc), json.dumps(data, ensure_ascii=False)) from None
