"""Provider profiles: what each OpenAI-compatible server accepts and does reliably, so the request
hragent sends is one the server takes on the first try.

A profile is picked from `llm.base_url` and `llm.model` (or named in `llm.provider`) and decides
the structured-output method, whether `temperature` is sent, where the output-token cap goes, how
strict a JSON schema may be and how much evidence one prompt carries. Every choice can be
overridden in `Settings.llm`. Sources for each server's behaviour:

- OpenAI chat models: tool calling with a named `tool_choice` is reliable.
- OpenAI reasoning models (o1/o3/o4, gpt-5 except gpt-5-chat): reject `temperature` other than 1
  (`code: "unsupported_value"`, `param: "temperature"`) and `max_tokens` (use
  `max_completion_tokens`); accept `reasoning_effort` (openai/openai-python#2072, cline/cline#341).
- Azure OpenAI: `/openai/deployments/{deployment}/chat/completions?api-version=...`, the deployment
  name (not the model name) picks the model; keys go in `api-key` or Entra ID bearer tokens.
- vLLM: a named `tool_choice` and `response_format: json_schema` are both enforced by guided
  decoding, no `--enable-auto-tool-choice` needed; json_schema is chosen (the schema constrains the
  tokens themselves).
- Ollama `/v1`: ignores a forced `tool_choice` (ollama/ollama#8421, #17921) but honours
  `response_format: json_schema`; `num_ctx` cannot be set through `/v1` (ollama/ollama#2722, #5902),
  so its 2-4k default context truncates long prompts silently: the profile sends fewer sentences.
- llama.cpp `llama-server`: `tools` need `--jinja` (older builds answer HTTP 500 "tools param
  requires --jinja flag"); `response_format: json_schema` becomes a grammar and works either way.
- transformers `transformers serve` (5.x, measured here with SmolLM2-135M-Instruct on CPU,
  RESULTS.md #16): `tools` reach the model only through its chat template (a template without tool
  support drops them silently), `tool_choice` and `response_format` are ignored with a warning in
  the server log, unknown body fields are a 422 `{"detail": ...}`, a pinned server answers 400 for
  any other model name; nothing is enforced, so the schema pasted into the prompt is all the model
  gets: json_schema (pasted schema, and kept if a later version enforces it).
- generic: tool calling, falling back to json_schema for the rest of the run if the server says it
  cannot do tools, or answers a forced `tool_choice` without calling the tool (it ignores it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlparse

from policies.budget import PromptLimits

if TYPE_CHECKING:
    from agent.settings import LLMSettings

Provider = Literal["openai", "openai_reasoning", "azure", "vllm", "ollama", "llamacpp", "transformers", "generic"]
Method = Literal["function_calling", "json_schema", "json_mode"]
TokenParam = Literal["max_completion_tokens", "max_tokens"]

_REASONING = re.compile(r"^(o\d+(-mini|-pro|-preview)?|gpt-5(?!-chat)[\w.-]*)(-\d{4}-\d{2}-\d{2})?$", re.I)


@dataclass(frozen=True)
class Profile:
    """How to talk to one kind of server (see the module docstring for where each rule comes from)."""

    provider: Provider
    method: Method
    send_temperature: bool = True
    token_param: TokenParam = "max_completion_tokens"
    strict_schema: bool = False  # json_schema "strict": only where the server documents it
    tools_fallback: bool = False  # on "this server cannot do tools", switch to json_schema for the run
    prompt: PromptLimits | None = None  # smaller prompts for servers with a small default context
    notes: tuple[str, ...] = field(default_factory=tuple)


PROFILES: dict[Provider, Profile] = {
    "openai": Profile("openai", "function_calling"),
    "openai_reasoning": Profile("openai_reasoning", "function_calling", send_temperature=False),
    "azure": Profile("azure", "function_calling"),
    "vllm": Profile("vllm", "json_schema", token_param="max_tokens", tools_fallback=True),
    "ollama": Profile(
        "ollama",
        "json_schema",
        token_param="max_tokens",
        prompt=PromptLimits(read_sentences=16, draft_sentences=20, sentence_chars=400),
        notes=("set OLLAMA_CONTEXT_LENGTH=8192 (or a Modelfile num_ctx) on the server: /v1 cannot set it",),
    ),
    "llamacpp": Profile("llamacpp", "json_schema", token_param="max_tokens"),
    "transformers": Profile(
        "transformers",
        "json_schema",
        token_param="max_tokens",
        notes=("transformers serve ignores response_format and tool_choice: the output schema is only in the prompt",),
    ),
    "generic": Profile("generic", "function_calling", token_param="max_tokens", tools_fallback=True),
}


def is_reasoning_model(model: str) -> bool:
    """o-series and gpt-5 (not gpt-5-chat) models: no temperature, `max_completion_tokens`."""
    return bool(_REASONING.match(model.strip().rsplit("/", 1)[-1]))


def detect_provider(llm: LLMSettings) -> Provider:
    """The profile a configuration implies: an explicit `llm.provider`, else Azure by backend, else a
    reasoning model by name, else the base URL's host and port (Ollama 11434; a name containing
    vllm, ollama, llama.cpp or transformers), else OpenAI when the URL is OpenAI's or absent, else generic."""
    if llm.provider != "auto":
        return llm.provider
    if llm.resolved_backend() == "azure":
        return "azure"
    if is_reasoning_model(llm.model):  # wherever it is served (OpenAI, a proxy): the model decides
        return "openai_reasoning"
    url = llm.effective_base_url()
    if not url:
        return "openai"
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    if host.endswith("openai.com"):
        return "openai"
    where = f"{host}{parsed.path}".lower()
    if parsed.port == 11434 or "ollama" in where:
        return "ollama"
    if "vllm" in where:
        return "vllm"
    if re.search(r"llama[._-]?cpp|llama-server", where):
        return "llamacpp"
    if "transformers" in where:
        return "transformers"
    return "generic"


def resolve_profile(llm: LLMSettings) -> Profile:
    """The detected profile with the user's overrides applied (`structured_output`, `strict`)."""
    base = PROFILES[detect_provider(llm)]
    if base.provider == "azure" and is_reasoning_model(llm.azure_deployment or llm.model):
        base = Profile("azure", base.method, send_temperature=False)
    method: Method = base.method if llm.structured_output == "auto" else llm.structured_output
    strict = base.strict_schema if llm.strict is None else llm.strict
    return Profile(
        base.provider,
        method,
        send_temperature=base.send_temperature and llm.temperature is not None,
        token_param=base.token_param,
        strict_schema=strict,
        tools_fallback=base.tools_fallback and llm.structured_output == "auto",
        prompt=base.prompt,
        notes=base.notes,
    )
