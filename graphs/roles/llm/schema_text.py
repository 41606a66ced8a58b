"""Output schemas as a server reads them: `$defs`/`$ref` inlined (small models and several
servers' grammar compilers mis-handle references; a pasted schema with references is also harder
to follow), and a strict variant for servers that enforce `json_schema` with `strict: true`
(OpenAI's rules: every object closed, every property required, no `default`, no numeric or length
bounds — pydantic still checks those when the reply is parsed)."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

_STRICT_DROP = frozenset(
    {"default", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "exclusiveMinimum",
     "exclusiveMaximum", "pattern", "format", "title"}
)  # fmt: skip


def _inline(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    if depth > 20:  # our schemas are not recursive; a bound keeps a bad one from looping
        return node
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = copy.deepcopy(defs[ref.rsplit("/", 1)[1]])
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return _inline({**target, **extra}, defs, depth + 1)
        return {k: _inline(v, defs, depth + 1) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs, depth + 1) for v in node]
    return node


def flat_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with every `$ref` replaced by its definition."""
    raw = schema.model_json_schema()
    out: dict[str, Any] = _inline(raw, raw.get("$defs", {}))
    return out


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items() if k not in _STRICT_DROP and k != "properties"}
        if isinstance(node.get("properties"), dict):  # field names are kept whatever they are called
            out["properties"] = {name: _strict(v) for name, v in node["properties"].items()}
        if out.get("type") == "object" and isinstance(out.get("properties"), dict):
            out["required"] = list(out["properties"])
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


def strict_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """`flat_schema` made acceptable to a strict json_schema server."""
    out: dict[str, Any] = _strict(flat_schema(schema))
    return out
