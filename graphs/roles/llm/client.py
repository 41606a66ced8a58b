"""One structured call to a chat model, the way every LLM role makes it.

Binds the role's output schema (tool calling, or JSON mode for servers without tools), sends the
request through the retry policy it was given (built in `agent.llm`; graphs never import agent)
under the run's remaining budget, parses the reply into the pydantic schema, and on invalid output
asks the model once to repair it. Failures surface as typed `LLMError`s the roles turn into an
offline fallback. Tokens come from the response's usage metadata (or the given token counter).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, RetryError, Retrying
from tenacity.stop import stop_any, stop_base

from graphs.roles.budget import RoleBudget
from graphs.roles.llm.evidence import clean, data_block
from graphs.roles.llm.prompts import JSON_MODE_RULE, REPAIR_USER, REPLY_RULE
from policies.budget import PromptLimits
from tools.errors import LLMBudgetError, LLMError, LLMOutputError, LLMUnavailableError
from tools.logs import get_logger

log = get_logger(__name__)

T = TypeVar("T", bound=BaseModel)
Method = Literal["function_calling", "json_mode"]
TokenCounter = Callable[[str], int]

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.I)


def tool_name(schema: type[BaseModel]) -> str:
    return str(schema.model_config.get("title") or schema.__name__)


@dataclass
class Meter:
    """What one role call spent; charges the run budget as it goes and refuses what it cannot afford."""

    budget: RoleBudget | None = None
    calls: int = 0
    tokens: int = 0

    def before_request(self, estimated_tokens: int) -> None:
        if self.budget is not None:
            refusal = self.budget.left().refusal(estimated_tokens)
            if refusal:
                raise LLMBudgetError(refusal)
            self.budget.charge(calls=1)
        self.calls += 1

    def add_tokens(self, n: int) -> None:
        self.tokens += n
        if self.budget is not None:
            self.budget.charge(tokens=n)

    def seconds_left(self) -> float:
        return self.budget.left().seconds if self.budget is not None else math.inf

    def calls_left(self) -> float:
        return self.budget.left().calls if self.budget is not None else math.inf


class _StopAtBudget(stop_base):
    """Stop retrying when the next wait would outlast the run's wall clock or no call is left."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self.fired = ""

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self.meter.calls_left() <= 0:
            self.fired = "max_llm_calls"
        elif retry_state.upcoming_sleep >= self.meter.seconds_left():
            self.fired = "timeout"
        return bool(self.fired)


class _Stop(stop_base):
    def __init__(self, fn: Callable[[RetryCallState], bool]) -> None:
        self.fn = fn

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.fn(retry_state)


def _as_stop(stop: stop_base | Callable[[RetryCallState], bool]) -> stop_base:
    return stop if isinstance(stop, stop_base) else _Stop(stop)


class OutputInvalid(Exception):
    """The reply could not be turned into the schema; `raw` is what the model sent."""

    def __init__(self, error: str, raw: str) -> None:
        super().__init__(error)
        self.error = error
        self.raw = raw


def describe(exc: BaseException) -> str:
    """A log-safe label for a transport failure: class and status only, never the message (a 401
    message echoes part of the API key) or a response body."""
    if isinstance(exc, RetryError) and exc.last_attempt.failed:
        inner = exc.last_attempt.exception()
        if inner is not None:
            exc = inner
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "")


def _summarize(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def parse_reply(message: BaseMessage, schema: type[T], context: Mapping[str, Any] | None = None) -> T:
    """The schema instance in a reply: the first matching tool call, else a JSON object in the text."""
    name = tool_name(schema)
    data: Any
    if isinstance(message, AIMessage) and message.tool_calls:
        call = next((c for c in message.tool_calls if c["name"] == name), message.tool_calls[0])
        data = call["args"]
    elif isinstance(message, AIMessage) and message.invalid_tool_calls:
        raw = str(message.invalid_tool_calls[0].get("args") or "")
        raise OutputInvalid("the function arguments are not valid JSON", raw)
    else:
        text = _FENCE.sub("", message.text.strip())
        if not text:
            raise OutputInvalid(f"the reply has no call to `{name}` and no JSON", "")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OutputInvalid(f"the reply is not valid JSON ({exc.msg} at position {exc.pos})", text) from None
    if not isinstance(data, dict):
        raise OutputInvalid("the arguments must be a JSON object", json.dumps(data)[:2000])
    try:
        return schema.model_validate(data, context=dict(context or {}))
    except ValidationError as exc:
        raise OutputInvalid(_summarize(exc), json.dumps(data, ensure_ascii=False)) from None


class StructuredLLM:
    """A chat model plus how to call it: output mode, retry policy, per-request timeout, token counter."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        retrying: Retrying | None = None,
        method: Method = "function_calling",
        request_timeout_s: float | None = None,
        count_tokens: TokenCounter | None = None,
        prompt_limits: PromptLimits | None = None,
        label: str | None = None,
    ) -> None:
        self.model = model
        self.retrying = retrying
        self.method = method
        self.request_timeout_s = request_timeout_s
        self.count_tokens = count_tokens
        self.prompt_limits = prompt_limits or PromptLimits()
        name = getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__
        self.label = label or f"llm:{name}"
        self._bound: dict[str, Any] = {}

    def __repr__(self) -> str:  # the model object is never shown: it holds the client and its key
        return f"StructuredLLM(label={self.label!r}, method={self.method!r})"

    # ------------------------------------------------------------------ public
    def call(
        self,
        schema: type[T],
        system: str,
        user: str,
        *,
        meter: Meter,
        context: Mapping[str, Any] | None = None,
    ) -> T:
        """Ask for one `schema` instance; one repair round on invalid output, then `LLMOutputError`."""
        name = tool_name(schema)
        if self.method == "json_mode":
            rule = JSON_MODE_RULE.format(schema=json.dumps(schema.model_json_schema(), separators=(",", ":")))
        else:
            rule = REPLY_RULE.format(tool=name)
        messages: list[BaseMessage] = [SystemMessage(f"{system}\n{rule}"), HumanMessage(user)]
        reply = self._send(schema, messages, meter)
        try:
            return parse_reply(reply, schema, context)
        except OutputInvalid as bad:
            log.info("llm.output_invalid", schema=name, error=bad.error[:300], repair=True)
            repair = REPAIR_USER.format(
                error=bad.error,
                bad_output=data_block("previous_reply", [clean(bad.raw, self.prompt_limits.bad_output_chars)]),
                tool=name,
            )
            reply = self._send(schema, [*messages, HumanMessage(repair)], meter)
        try:
            return parse_reply(reply, schema, context)
        except OutputInvalid as bad:
            log.warning("llm.output_invalid", schema=name, error=bad.error[:300], repair=False)
            raise LLMOutputError(f"{name}: invalid output after one repair: {bad.error[:300]}") from None

    # ------------------------------------------------------------------ transport
    def _runnable(self, schema: type[BaseModel]) -> Any:
        name = tool_name(schema)
        if name not in self._bound:
            if self.method == "json_mode":
                self._bound[name] = self.model.bind(response_format={"type": "json_object"})
            else:
                self._bound[name] = self.model.bind_tools([schema], tool_choice=name)
        return self._bound[name]

    def _estimate(self, messages: list[BaseMessage]) -> int:
        text = "\n".join(m.text for m in messages)
        return self.count_tokens(text) if self.count_tokens else len(text) // 4

    def _tokens(self, reply: BaseMessage, prompt_estimate: int) -> int:
        usage = getattr(reply, "usage_metadata", None)
        if usage and usage.get("total_tokens"):
            return int(usage["total_tokens"])
        out = reply.text + "".join(json.dumps(c["args"]) for c in getattr(reply, "tool_calls", []) or [])
        return prompt_estimate + (self.count_tokens(out) if self.count_tokens else len(out) // 4)

    def _send(self, schema: type[BaseModel], messages: list[BaseMessage], meter: Meter) -> BaseMessage:
        runnable = self._runnable(schema)
        estimate = self._estimate(messages)

        def attempt() -> BaseMessage:
            meter.before_request(estimate)
            kwargs: dict[str, Any] = {}
            if self.request_timeout_s is not None:
                kwargs["timeout"] = max(0.05, min(self.request_timeout_s, meter.seconds_left()))
            t0 = time.perf_counter()
            reply: BaseMessage = runnable.invoke(messages, **kwargs)
            meter.add_tokens(self._tokens(reply, estimate))
            log.debug("llm.called", schema=tool_name(schema), ms=round((time.perf_counter() - t0) * 1000, 1))
            return reply

        budget_stop = _StopAtBudget(meter)
        try:
            if self.retrying is None:
                return attempt()
            retrying = self.retrying.copy(stop=stop_any(_as_stop(self.retrying.stop), budget_stop))
            result: BaseMessage = retrying(attempt)
            return result
        except LLMError:
            raise
        except Exception as exc:  # the transport boundary: anything the client raised means "model down"
            if budget_stop.fired or meter.seconds_left() <= 0:  # the run's budget, not the model, ended it
                raise LLMBudgetError(budget_stop.fired or "timeout") from exc
            raise LLMUnavailableError(f"{tool_name(schema)}: model unavailable: {describe(exc)}") from exc
