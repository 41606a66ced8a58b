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
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel
from tenacity import Retrying
from tenacity.stop import stop_any

from graphs.roles.llm.aio import AsyncModelFactory, AsyncScope, OpenedModel, async_models, model_scope
from graphs.roles.llm.evidence import clean, data_block, new_nonce
from graphs.roles.llm.failures import advice, classify, describe, lacks_tools
from graphs.roles.llm.meter import Meter, StopAtBudget, as_stop, async_retrying
from graphs.roles.llm.prompts import JSON_MODE_RULE, JSON_REPAIR_USER, JSON_REPLY_REMINDER, REPAIR_USER, REPLY_RULE
from graphs.roles.llm.replies import OutputInvalid, parse_reply, tool_name, truncated_reply
from graphs.roles.llm.schema_text import flat_schema, strict_schema
from policies.budget import PromptLimits
from tools.errors import LLMBudgetError, LLMConfigError, LLMError, LLMOutputError, LLMUnavailableError
from tools.logs import get_logger

log = get_logger(__name__)
__all__ = ["Meter", "OpenedModel", "StructuredLLM", "async_models", "failure"]

T = TypeVar("T", bound=BaseModel)
Method = Literal["function_calling", "json_schema", "json_mode"]
TokenCounter = Callable[[str], int]

INTERNAL_TAGS = ("hragent", "nostream")
# A server that reports reading well under what we sent truncated the prompt silently.
TRUNCATION_MIN_TOKENS = 256
TRUNCATION_RATIO = 0.6  # "nostream": LangGraph's messages stream skips these calls


class StructuredLLM:
    """A chat model plus how to call it: output method, retry policy, per-request timeout, token counter.

    `tools_fallback`: when the server answers that it cannot do tool calling (llama.cpp without
    `--jinja`, vLLM without auto tool choice), switch to `json_schema` for the rest of its life
    instead of failing every role.

    `open_async`: builds the same model on a new async HTTP client (see `AsyncModels`); without it
    async requests go through `model` itself (a test double, or a model whose client the caller owns)."""

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
        open_async: AsyncModelFactory | None = None,
    ) -> None:
        self.model = model
        self.open_async = open_async
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
            if not self._switch_from_tools(exc, schema):
                raise
            return self._call(schema, system, user, meter=meter, context=context, role=role)

    async def acall(
        self,
        schema: type[T],
        system: str,
        user: str,
        *,
        meter: Meter,
        context: Mapping[str, Any] | None = None,
        role: str = "",
    ) -> T:
        """`call` as a coroutine on the caller's event loop (`ainvoke`, async retries and budget wait)."""
        async with model_scope(self, self.model, self._bound, self.open_async) as scope:
            try:
                return await self._acall(scope, schema, system, user, meter=meter, context=context, role=role)
            except LLMConfigError as exc:
                if not self._switch_from_tools(exc, schema):
                    raise
                return await self._acall(scope, schema, system, user, meter=meter, context=context, role=role)

    def _switch_from_tools(self, exc: LLMConfigError, schema: type[BaseModel]) -> bool:
        if not (self.tools_fallback and self.method == "function_calling" and exc.lacks_tools):
            return False
        log.warning("llm.tools_unsupported", schema=tool_name(schema), switch_to="json_schema")
        self.method = "json_schema"
        return True

    def _first_messages(self, schema: type[BaseModel], system: str, user: str) -> list[BaseMessage]:
        if self.method == "function_calling":
            rule = REPLY_RULE.format(tool=tool_name(schema))
        else:
            rule = JSON_MODE_RULE.format(schema=json.dumps(flat_schema(schema), separators=(",", ":")))
            user = f"{user}\n{JSON_REPLY_REMINDER}"  # small models follow the last line they read
        return [SystemMessage(f"{system}\n{rule}"), HumanMessage(user)]

    def _repair_messages(
        self, schema: type[BaseModel], messages: list[BaseMessage], bad: OutputInvalid, method: Method
    ) -> list[BaseMessage]:
        name = tool_name(schema)
        log.info("llm.output_invalid", schema=name, error=bad.error[:300], repair=True)
        template = REPAIR_USER if method == "function_calling" else JSON_REPAIR_USER
        repair = template.format(
            error=bad.error,
            bad_output=data_block("previous_reply", [clean(bad.raw, self.prompt_limits.bad_output_chars)], new_nonce()),
            tool=name,
        )
        return [*messages, HumanMessage(repair)]

    def _second_messages(
        self,
        schema: type[BaseModel],
        system: str,
        user: str,
        messages: list[BaseMessage],
        reply: BaseMessage,
        bad: OutputInvalid,
        method: Method,
    ) -> list[BaseMessage]:
        """The one further request after an unusable reply: the repair prompt, or, when the server
        ignored a forced `tool_choice`, the same question in JSON form (the switch is for good)."""
        if self._switch_from_ignored_tools(reply, schema, method):
            return self._first_messages(schema, system, user)
        return self._repair_messages(schema, messages, bad, method)

    def _switch_from_ignored_tools(self, reply: BaseMessage, schema: type[BaseModel], method: Method) -> bool:
        """A forced `tool_choice` answered without any tool call means the server ignores it
        (Ollama's /v1; `transformers serve`, whose chat templates may drop `tools` altogether): a
        tools repair would fail the same way, so profiles with `tools_fallback` move to json_schema."""
        if not (self.tools_fallback and method == "function_calling"):
            return False
        if getattr(reply, "tool_calls", None) or getattr(reply, "invalid_tool_calls", None):
            return False  # the server does tool calling; the model got the arguments wrong
        if self.method == "function_calling":
            log.warning("llm.tool_choice_ignored", schema=tool_name(schema), switch_to="json_schema")
            self.method = "json_schema"
        return True

    @staticmethod
    def _parse_repaired(reply: BaseMessage, schema: type[T], context: Mapping[str, Any] | None) -> T:
        try:
            return parse_reply(reply, schema, context)
        except OutputInvalid as bad:
            name = tool_name(schema)
            log.warning("llm.output_invalid", schema=name, error=bad.error[:300], repair=False)
            raise LLMOutputError(f"{name}: invalid output after one repair: {bad.error[:300]}") from None

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
        method = self.method
        messages = self._first_messages(schema, system, user)
        reply = self._send(schema, messages, meter, role)
        try:
            return parse_reply(reply, schema, context)
        except OutputInvalid as bad:
            retry = self._second_messages(schema, system, user, messages, reply, bad, method)
            reply = self._send(schema, retry, meter, role)
        return self._parse_repaired(reply, schema, context)

    async def _acall(
        self,
        scope: AsyncScope,
        schema: type[T],
        system: str,
        user: str,
        *,
        meter: Meter,
        context: Mapping[str, Any] | None,
        role: str,
    ) -> T:
        method = self.method
        messages = self._first_messages(schema, system, user)
        reply = await self._asend(scope, schema, messages, meter, role)
        try:
            return parse_reply(reply, schema, context)
        except OutputInvalid as bad:
            retry = self._second_messages(schema, system, user, messages, reply, bad, method)
            reply = await self._asend(scope, schema, retry, meter, role)
        return self._parse_repaired(reply, schema, context)

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
    def _bind(self, model: BaseChatModel, schema: type[BaseModel], role: str) -> Any:
        name = tool_name(schema)
        bound: Any
        if self.method == "json_mode":
            bound = model.bind(response_format={"type": "json_object"})
        elif self.method == "json_schema":
            body = strict_schema(schema) if self.strict else flat_schema(schema)
            fmt = {"name": name, "schema": body, **({"strict": True} if self.strict else {})}
            bound = model.bind(response_format={"type": "json_schema", "json_schema": fmt})
        else:
            bound = model.bind_tools([schema], tool_choice=name)
        # Never streamed, even when a watcher's callbacks would make langchain stream it: the
        # JSON is of no use half-way, and a server's streamed tool calls are its least reliable part.
        bound = bound.bind(stream=False)
        tags = [*INTERNAL_TAGS, f"hragent:{role or 'role'}", f"hragent:{name}"]
        return bound.with_config(run_name=f"hragent.{role or 'role'}.{name}", tags=tags)

    def _runnable(self, schema: type[BaseModel], role: str, scope: AsyncScope | None = None) -> Any:
        bound = self._bound if scope is None else scope.bound
        key = (tool_name(schema), self.method, role)
        if key not in bound:
            bound[key] = self._bind(self.model if scope is None else scope.model, schema, role)
        return bound[key]

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

    async def _asend(
        self, scope: AsyncScope, schema: type[BaseModel], messages: list[BaseMessage], meter: Meter, role: str
    ) -> BaseMessage:
        runnable = self._runnable(schema, role, scope)
        name, extra = tool_name(schema), self._schema_tokens(schema)
        return await self._asend_runnable(runnable, name, messages, meter, role, extra)

    def _request_kwargs(self, meter: Meter) -> dict[str, Any]:
        if self.request_timeout_s is None:
            return {}
        return {"timeout": max(0.05, min(self.request_timeout_s, meter.seconds_left()))}

    def _answered(
        self, reply: BaseMessage, estimate: int, meter: Meter, name: str, role: str, t0: float
    ) -> BaseMessage:
        tokens = self._tokens(reply, estimate)
        meter.add_tokens(tokens)
        ms = round((time.perf_counter() - t0) * 1000, 1)
        log.debug("llm.called", schema=name, role=role, ms=ms, tokens=tokens)
        return reply

    def _send_runnable(
        self, runnable: Any, name: str, messages: list[BaseMessage], meter: Meter, role: str, extra_tokens: int = 0
    ) -> BaseMessage:
        estimate = self._estimate(messages) + extra_tokens

        def attempt() -> BaseMessage:
            meter.before_request(estimate)
            t0 = time.perf_counter()
            try:
                reply: BaseMessage = runnable.invoke(messages, **self._request_kwargs(meter))
            except BaseException as exc:
                if (cut := truncated_reply(exc)) is None:
                    meter.release()
                    raise
                reply = cut  # stopped at the output-token limit: invalid output for the repair, not an outage
            return self._answered(reply, estimate, meter, name, role, t0)

        budget_stop = StopAtBudget(meter)
        try:
            if self.retrying is None:
                return attempt()
            retrying = self.retrying.copy(stop=stop_any(as_stop(self.retrying.stop), budget_stop))
            result: BaseMessage = retrying(attempt)
            return result
        except LLMError:
            raise
        except Exception as exc:  # the transport boundary: anything the client raised means "model down"
            raise _gave_up(name, exc, budget_stop, meter) from exc

    async def _asend_runnable(
        self, runnable: Any, name: str, messages: list[BaseMessage], meter: Meter, role: str, extra_tokens: int = 0
    ) -> BaseMessage:
        estimate = self._estimate(messages) + extra_tokens

        async def attempt() -> BaseMessage:
            await meter.abefore_request(estimate)
            t0 = time.perf_counter()
            try:
                reply: BaseMessage = await runnable.ainvoke(messages, **self._request_kwargs(meter))
            except BaseException as exc:  # a cancelled run included: the reservation is given back
                if (cut := truncated_reply(exc)) is None:
                    meter.release()
                    raise
                reply = cut
            return self._answered(reply, estimate, meter, name, role, t0)

        budget_stop = StopAtBudget(meter)
        try:
            if self.retrying is None:
                return await attempt()
            retrying = async_retrying(self.retrying, stop_any(as_stop(self.retrying.stop), budget_stop))
            result: BaseMessage = await retrying(attempt)
            return result
        except LLMError:
            raise
        except Exception as exc:  # the transport boundary, as in `_send_runnable`
            raise _gave_up(name, exc, budget_stop, meter) from exc


def _gave_up(name: str, exc: Exception, budget_stop: StopAtBudget, meter: Meter) -> LLMError:
    if budget_stop.fired or meter.seconds_left() <= 0:  # the run's budget, not the model, ended it
        return LLMBudgetError(budget_stop.fired or "timeout")
    return failure(name, exc)


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
