"""Schema validators: when a task asks for structured output (a pydantic model or a JSON Schema),
the verifier checks the answer against it and reports each violation."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from pydantic import BaseModel, ValidationError


def validate_output(answer: str | dict[str, Any], schema: type[BaseModel] | dict[str, Any]) -> list[str]:
    """Return a list of violations (empty when valid)."""
    try:
        data = json.loads(answer) if isinstance(answer, str) else answer
    except json.JSONDecodeError as exc:
        return [f"answer is not valid JSON: {exc.msg} at position {exc.pos}"]
    if isinstance(schema, dict):
        validator = jsonschema.Draft202012Validator(schema)
        return [f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in validator.iter_errors(data)]
    try:
        schema.model_validate(data)
    except ValidationError as exc:
        return [f"{'/'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()]
    return []
