"""One structured call to a chat model, the way every LLM role makes it.

Binds the role's output schema (tool calling; `response_format: json_schema` for servers that
enforce it by guided decoding; JSON mode for servers with neither), sends the request through the
retry policy it was given (built in `agent.llm`; graphs never import agent) under the run's
remaining budget, parses the reply into the pydantic schema, tolerating what small models send
(a JSON object inside prose, arguments wrapped in `{"name", "arguments"}`), and on invalid output
asks the model once to repair it. Failures surface as typed `LLMError`s: a configuration the user
must fix (`LLMConfigError`, with the server's code and parameter), an outage, or invalid output;
the roles turn them into an offline fallback. Every request is tagged (`hragent`, the role,
`nostream`) so LangSmith shows which role made it and `stream_mode="messages"` leaves the JSON out.
Tokens come from the response's usage metadata (or the given token counter).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel
from tenacity import RetryCallState, Retrying
from tenacity.stop import stop_any, stop_base

from graphs.roles.budget import RoleBudget
from graphs.roles.llm.evidence import clean, data_block, new_nonce
from graphs.roles.llm.failures import advice, classify, describe, lacks_tools
from graphs.roles.llm.prompts import JSON_MODE_RULE, JSON_REPAIR_USER, REPAIR_USER, REPLY_RULE
from graphs.roles.llm.replies import OutputInvalid, parse_reply, tool_name
from graphs.roles.llm.schema_text import flat_schema, strict_schema
from policies.budget import PromptLimits
from tools.errors import LLMBudgetError, LLMConfigError, LLMError, LLMOutputError, LLMUnavailableError
from tools.logs import get_logger

log = get_logger(__name__)

T = TypeVar("T", bound=BaseModel)
Method = Literal["function_calling", "json_schema", "json_mode"]
TokenCounter = Callable[[str], int]

INTERNAL_TAGS = ("hragent", "nostream")
# A server that reports reading well under what we sent truncated the prompt silently.
TRUNCATION_MIN_TOKENS = 256
TRUNCATION_RATIO = 0.6  # "nostream": LangGraph's messages stream skips these calls


@dataclass
class Meter:
    """What one role call spent; charges the run budget as it goes and refuses what it cannot afford."""

    budget: RoleBudget | None = None
    calls: int = 0
    tokens: int = 0
    held: int = 0  # tokens reserved in the budget for the request in flight

    def before_request(self, estimated_tokens: int) -> None:
        """Reserve a call and the prompt's estimated tokens, or raise `LLMBudgetError`."""
        if self.budget is not None:
            refusal = self.budget.reserve(estimated_tokens)
            if refusal:
                raise LLMBudgetError(refusal)
            self.held = estimated_tokens
        self.calls += 1

    def add_tokens(self, n: int) -> None:
        """The reply's real token count replaces the reservation."""
        self.tokens += n
        if self.budget is not None:
            self.budget.settle(self.held, n)
        self.held = 0

    def release(self) -> None:
        """A request that failed spent its call but no tokens."""
        if self.budget is not None:
            self.budget.settle(self.held, 0)
        self.held = 0

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


class StructuredLLM:
    """A chat model plus how to call it: output method, retry policy, per-request timeout, token counter.

    `tools_fallback`: when the server answers that it cannot do tool calling (llama.cpp without
    `--jinja`, vLLM without auto tool choice), switch to `json_schema` for the rest of its life
    instead of failing every role."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        retrying: Retrying | None = None,
        method: Method = "function_calling",
        strict: bool = False,
        tools_fallback: bool = False,
        request_timeout_s: float | None = None,
        count_tokens: TokenCounter | None = None,
        prompt_limits: PromptLimits | None = None,
        label: str | None = None,
    ) -> None:
        self.model = model
        self.retrying = retrying
        self.method: Method = method
        self.strict = strict
        self.tools_fallback = tools_fallback
        self.request_timeout_s = request_timeout_s
        self.count_tokens = count_tokens
        self.prompt_limits = prompt_limits or PromptLimits()
        name = getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__
        self.label = label or f"llm:{name}"
        self._bound: dict[tuple[str, str, str], Any] = {}

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
        role: str = "",
    ) -> T:
        """Ask for one `schema` instance; one repair round on invalid output, then `LLMOutputError`."""
        try:
            return self._call(schema, system, user, meter=meter, context=context, role=role)
        except LLMConfigError as exc:
            if not (self.tools_fallback and self.method == "function_calling" and exc.lacks_tools):
                raise
            log.warning("llm.tools_unsupported", schema=tool_name(schema), switch_to="json_schema")
            self.method = "json_schema"
            return self._call(schema, system, user, meter=meter, context=context, role=role)

    def _call(
        self,
        schema: type[T],
        system: str,
        user: str,
        *,
        meter: Meter,
        context: Mapping[str, Any] | None,
        role: str,
    ) -> T:
        name = tool_name(schema)
        method = self.method
        if method == "function_calling":
            rule = REPLY_RULE.format(tool=name)
        else:
            rule = JSON_MODE_RULE.format(schema=json.dumps(flat_schema(schema), separators=(",", ":")))
        messages: list[BaseMessage] = [SystemMessage(f"{system}\n{rule}"), HumanMessage(user)]
        reply = self._send(schema, messages, meter, role)
        try:
            return parse_reply(reply, schema, context)
        except OutputInvalid as bad:
            log.info("llm.output_invalid", schema=name, error=bad.error[:300], repair=True)
            template = REPAIR_USER if method == "function_calling" else JSON_REPAIR_USER
            repair = template.format(
                error=bad.error,
                bad_output=data_block(
                    "previous_reply", [clean(bad.raw, self.prompt_limits.bad_output_chars)], new_nonce()
                ),
                tool=name,
            )
            reply = self._send(schema, [*messages, HumanMessage(repair)], meter, role)
        try:
            return parse_reply(reply, schema, context)
        except OutputInvalid as bad:
            log.warning("llm.output_invalid", schema=name, error=bad.error[:300], repair=False)
            raise LLMOutputError(f"{name}: invalid output after one repair: {bad.error[:300]}") from None

    def prose(self, system: str, user: str, *, meter: Meter, role: str) -> str:
        """Plain text from the model, streamed to whoever watches (tagged `hragent:answer`, not
        `nostream`): for the composer's prose mode, checked by the caller afterwards."""
        key = ("(prose)", "text", role)
        if key not in self._bound:
            tags = ["hragent", f"hragent:{role}", "hragent:answer"]
            self._bound[key] = self.model.with_config(run_name=f"hragent.{role}.answer", tags=tags)
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(user)]
        return self._send_runnable(self._bound[key], "answer_text", messages, meter, role).text

    # ------------------------------------------------------------------ transport
    def _runnable(self, schema: type[BaseModel], role: str) -> Any:
        name = tool_name(schema)
        key = (name, self.method, role)
        if key not in self._bound:
            bound: Any
            if self.method == "json_mode":
                bound = self.model.bind(response_format={"type": "json_object"})
            elif self.method == "json_schema":
                body = strict_schema(schema) if self.strict else flat_schema(schema)
                fmt = {"name": name, "schema": body, **({"strict": True} if self.strict else {})}
                bound = self.model.bind(response_format={"type": "json_schema", "json_schema": fmt})
            else:
                bound = self.model.bind_tools([schema], tool_choice=name)
            # Never streamed, even when a watcher's callbacks would make langchain stream it: the
            # JSON is of no use half-way, and a server's streamed tool calls are its least reliable part.
            bound = bound.bind(stream=False)
            tags = [*INTERNAL_TAGS, f"hragent:{role or 'role'}", f"hragent:{name}"]
            self._bound[key] = bound.with_config(run_name=f"hragent.{role or 'role'}.{name}", tags=tags)
        return self._bound[key]

    def _estimate(self, messages: list[BaseMessage]) -> int:
        text = "\n".join(m.text for m in messages)
        return self.count_tokens(text) if self.count_tokens else len(text) // 4

    def _tokens(self, reply: BaseMessage, prompt_estimate: int) -> int:
        usage = getattr(reply, "usage_metadata", None)
        if usage and usage.get("total_tokens"):
            read = int(usage.get("input_tokens") or 0)
            if read and prompt_estimate >= TRUNCATION_MIN_TOKENS and read < TRUNCATION_RATIO * prompt_estimate:
                # Ollama's /v1 cuts a prompt past its context (2-4k by default) without an error and
                # reports only what it read: the model answered a prompt with its evidence missing.
                log.warning(
                    "llm.prompt_truncated",
                    sent_estimate=prompt_estimate,
                    server_read=read,
                    hint="raise the server's context (Ollama: OLLAMA_CONTEXT_LENGTH) or lower llm.prompt.*",
                )
            return int(usage["total_tokens"])
        out = reply.text + "".join(json.dumps(c["args"]) for c in getattr(reply, "tool_calls", []) or [])
        return prompt_estimate + (self.count_tokens(out) if self.count_tokens else len(out) // 4)

    def _schema_tokens(self, schema: type[BaseModel]) -> int:
        """What the bound schema adds to a prompt (servers count tool definitions and response
        formats as prompt tokens); JSON mode already pastes it into the system message."""
        if self.method == "json_mode":
            return 0
        text = json.dumps(flat_schema(schema), separators=(",", ":"))
        return self.count_tokens(text) if self.count_tokens else len(text) // 4

    def _send(self, schema: type[BaseModel], messages: list[BaseMessage], meter: Meter, role: str) -> BaseMessage:
        runnable = self._runnable(schema, role)
        return self._send_runnable(runnable, tool_name(schema), messages, meter, role, self._schema_tokens(schema))

    def _send_runnable(
        self, runnable: Any, name: str, messages: list[BaseMessage], meter: Meter, role: str, extra_tokens: int = 0
    ) -> BaseMessage:
        estimate = self._estimate(messages) + extra_tokens

        def attempt() -> BaseMessage:
            meter.before_request(estimate)
            kwargs: dict[str, Any] = {}
            if self.request_timeout_s is not None:
                kwargs["timeout"] = max(0.05, min(self.request_timeout_s, meter.seconds_left()))
            t0 = time.perf_counter()
            try:
                reply: BaseMessage = runnable.invoke(messages, **kwargs)
            except BaseException:
                meter.release()
                raise
            tokens = self._tokens(reply, estimate)
            meter.add_tokens(tokens)
            ms = round((time.perf_counter() - t0) * 1000, 1)
            log.debug("llm.called", schema=name, role=role, ms=ms, tokens=tokens)
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
            raise failure(name, exc) from exc


def failure(name: str, exc: BaseException) -> LLMError:
    """The typed error for a request that failed for good: a configuration to fix, a refused
    request (the next one may pass), or a model that stayed down."""
    kind = classify(exc)
    if kind == "config":
        err = LLMConfigError(f"{name}: the server refused the request: {describe(exc)}; {advice(exc)}")
        err.lacks_tools = lacks_tools(exc)
        return err
    if kind == "request":
        return LLMError(f"{name}: the server refused this request: {describe(exc)}", reason="llm_request_refused")
    return LLMUnavailableError(f"{name}: model unavailable: {describe(exc)}")
