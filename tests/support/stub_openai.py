"""Local stub of the OpenAI HTTP API with fault injection, for tests.

Why: the agent code talks to models through ``ChatOpenAI``/``OpenAIEmbeddings``.
Pointing those clients at a real socket (instead of mocking Python objects)
exercises the genuine client stack -- retries, timeouts, SSE parsing, tool-call
parsing -- while letting tests script rate limits, outages, dropped
connections and malformed model output deterministically.

Usage::

    with StubOpenAI() as stub:
        llm = ChatOpenAI(base_url=stub.base_url, api_key="x", max_retries=0)
        stub.script(["429", "ok"])          # next two requests, in order
        stub.fault_rate = 0.3; stub.seed(7)  # then random faults, reproducibly
        stub.chat_delay_s = 0.3              # a slow model; requests carry `t` and `t_end`

Faults apply to every request (chat, embeddings, models), scripted ones first.
``StubOpenAI(personality="ollama")`` (or ``openai_reasoning``, ``azure``, ``vllm``,
``llamacpp``, ``transformers``) makes the chat route refuse or reshape requests the way that server does; the
documented behaviour each personality copies, with sources, is in ``tests.support.personalities``.
Offline, build ``OpenAIEmbeddings(..., check_embedding_ctx_length=False)``: the
default path tokenises with tiktoken, which downloads its encodings first.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import hashlib
import json
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast

from tests.support.personalities import PERSONALITIES, chat_path, refusal, reshape, seen_by_model

Responder = Callable[[dict[str, Any]], str | dict[str, Any]]

FAULT_KINDS = ("latency", "429", "500", "503", "401", "400", "drop", "malformed_json", "schema_violation")
_ALL_KINDS = frozenset((*FAULT_KINDS, "ok"))
_MALFORMED = '{"answer": "x"'  # truncated object: json.loads must fail
_VIOLATION = '{"unexpected": 1}'  # valid JSON that matches no sane schema

_ERRORS: dict[str, tuple[str, str, str]] = {  # status -> (message, type, code)
    "429": ("Rate limit reached (stub)", "requests", "rate_limit_exceeded"),
    "500": ("The server had an error (stub)", "server_error", "internal_error"),
    "503": ("The engine is currently overloaded (stub)", "server_error", "overloaded"),
    "401": ("Incorrect API key provided (stub)", "invalid_request_error", "invalid_api_key"),
    "400": ("Invalid request (stub)", "invalid_request_error", "bad_request"),
    "404": ("Unknown route (stub)", "invalid_request_error", "not_found"),
}


def default_responder(request: dict[str, Any]) -> str:
    """Fixed reply so tests can assert on content without configuring anything."""
    return "stub response"


def _tokens(text: str) -> int:
    """Rough token estimate; only needs to be stable and non-zero."""
    return max(1, len(text) // 4) if text else 0


def _embed(key: str, dim: int) -> list[float]:
    """Unit vector from a hash, so equal inputs embed identically across runs."""
    raw = b"".join(hashlib.sha256(f"{i}:{key}".encode()).digest() for i in range(dim // 32 + 1))
    vec = [b / 127.5 - 1.0 for b in raw[:dim]]
    norm = sum(v * v for v in vec) ** 0.5 or 1.0
    return [v / norm for v in vec]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stub: StubOpenAI


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API (httpx pools connections)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: test output should not be polluted by access logs."""

    @property
    def stub(self) -> StubOpenAI:
        return cast(_Server, self.server).stub

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle plus delayed ACKs stall
        # every response ~40 ms (real servers such as uvicorn set TCP_NODELAY too).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.stub._lock:  # tracked so close() can cut idle keep-alive connections
            self.stub._conns.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.stub._lock:
                self.stub._conns.discard(self.connection)

    def do_GET(self) -> None:
        self._dispatch({})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        self._dispatch(body)

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: str, message: str | None = None, **headers: str) -> None:
        msg, typ, code = _ERRORS[status]
        err = {"message": message or msg, "type": typ, "param": None, "code": code}
        self._send_json(int(status), {"error": err}, headers)

    def _dispatch(self, body: dict[str, Any] | None) -> None:
        stub = self.stub
        path = self.path.split("?", 1)[0]
        fault = stub._next_fault()
        entry = stub._record(path, body, dict(self.headers), fault)
        if fault == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault in _ERRORS:  # "404" is never a fault: script() rejects it
            extra = {"Retry-After": str(stub.retry_after)} if fault == "429" else {}
            self._send_error(fault, **extra)
            return
        if fault == "latency":
            time.sleep(stub.latency_s)
        if body is None:
            self._send_error("400", "Request body is not valid JSON (stub)")
            return
        try:
            is_chat, refused = chat_path(stub.personality, self.path, stub.deployments)
            if self.command == "POST" and is_chat:
                refused = refused or refusal(stub.personality, body, stub.models)
                if refused:
                    self._send_json(*refused)
                else:
                    time.sleep(stub.chat_delay_s)  # a slow model: every answer takes this long
                    self._chat(body, fault)
                entry["t_end"] = time.monotonic()
            elif self.command == "GET" and path.rstrip("/") == "/v1/models":
                now = int(time.time())
                data = [{"id": m, "object": "model", "created": now, "owned_by": "stub"} for m in stub.models]
                self._send_json(200, {"object": "list", "data": data})
            elif self.command == "POST" and path == "/v1/embeddings":
                self._embeddings(body, fault)
            else:
                self._send_error("404", f"No route {self.command} {path} (stub)")
        except Exception as exc:
            self._send_error("500", f"stub responder failed: {exc!r}")

    def _chat(self, body: dict[str, Any], fault: str) -> None:
        stub = self.stub
        tools = body.get("tools") or []
        if fault in ("malformed_json", "schema_violation"):
            text = _MALFORMED if fault == "malformed_json" else _VIOLATION
            reply: dict[str, Any] = {"content": text}
            if tools:
                choice = body.get("tool_choice")
                name = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
                reply["tool_calls"] = [{"name": name or tools[0]["function"]["name"], "arguments": text}]
        else:
            out = stub.responder(seen_by_model(stub.personality, body))
            reply = reshape(stub.personality, body, {"content": out} if isinstance(out, str) else dict(out))
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
        calls: list[dict[str, Any]] = [
            {
                "id": stub._call_id(),
                "type": "function",
                "function": {
                    "name": c["name"],
                    "arguments": c["arguments"] if isinstance(c["arguments"], str) else json.dumps(c["arguments"]),
                },
            }
            for c in reply.get("tool_calls") or []
        ]
        if calls:
            message["tool_calls"] = calls
        finish = "tool_calls" if calls else "stop"
        cap = body.get("max_completion_tokens") or body.get("max_tokens")
        if cap and not calls and _tokens(message["content"] or "") > int(cap):  # the output-token limit
            message["content"], finish = (message["content"] or "")[: int(cap) * 4], "length"
        prompt = _tokens(json.dumps(body.get("messages", [])))
        if stub.context_tokens:  # Ollama: a longer prompt is cut to the context, the usage says so
            prompt = min(prompt, stub.context_tokens)
        completion = _tokens((message["content"] or "") + "".join(c["function"]["arguments"] for c in calls))
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        base = {
            "id": f"chatcmpl-stub{len(stub.requests)}",
            "created": int(time.time()),
            "model": str(body.get("model") or "stub-model"),
            "system_fingerprint": None,
        }
        if not body.get("stream"):
            self._send_json(
                200,
                {
                    **base,
                    "object": "chat.completion",
                    "usage": usage,
                    "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
                },
            )
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # body ends at EOF: no chunked encoding needed
        self.end_headers()
        self.close_connection = True
        chunks: list[dict[str, Any]] = [
            {
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}],
                **({"usage": None} if include_usage else {}),
            }
            for delta, reason in _stream_deltas(message, finish)
        ]
        if include_usage:  # real API: one extra chunk, empty choices, carrying the totals
            chunks.append({"choices": [], "usage": usage})
        for chunk in chunks:
            self.wfile.write(f"data: {json.dumps({**base, 'object': 'chat.completion.chunk', **chunk})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def _embeddings(self, body: dict[str, Any], fault: str) -> None:
        stub = self.stub
        if fault in ("malformed_json", "schema_violation"):  # truncated body / wrong shape
            self._send_json(200, b'{"object": "list", "data": [' if fault == "malformed_json" else {"unexpected": 1})
            return
        raw = body.get("input", [])
        # str | list[str] | list[int] (one tokenised input) | list[list[int]]
        if isinstance(raw, str) or (isinstance(raw, list) and raw and isinstance(raw[0], int)):
            raw = [raw]
        dim = int(body.get("dimensions") or stub.embedding_dim)
        data = []
        for i, item in enumerate(raw):
            key = item if isinstance(item, str) else json.dumps(item)
            vec = _embed(key, dim)
            emb: Any = vec
            if body.get("encoding_format") == "base64":  # openai-python's default
                emb = base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode()
            data.append({"object": "embedding", "index": i, "embedding": emb})
        n = sum(_tokens(x) if isinstance(x, str) else len(x) for x in raw)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model") or "stub-embed",
                "usage": {"prompt_tokens": n, "total_tokens": n},
            },
        )


def _stream_deltas(message: dict[str, Any], finish: str) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Split a message into deltas the way the real API does (several pieces per field)."""
    yield {"role": "assistant", "content": ""}, None
    content = message.get("content") or ""
    for i in range(0, len(content), 8):
        yield {"content": content[i : i + 8]}, None
    for idx, call in enumerate(message.get("tool_calls", [])):
        fn = call["function"]
        yield (
            {
                "tool_calls": [
                    {
                        "index": idx,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": fn["name"], "arguments": ""},
                    }
                ]
            },
            None,
        )
        for i in range(0, len(fn["arguments"]), 8):
            yield {"tool_calls": [{"index": idx, "function": {"arguments": fn["arguments"][i : i + 8]}}]}, None
    yield {}, finish


class StubOpenAI:
    """OpenAI-compatible server on 127.0.0.1:<free port>; started on construction."""

    def __init__(
        self, responder: Responder | None = None, embedding_dim: int = 16, personality: str = "openai"
    ) -> None:
        if personality not in PERSONALITIES:
            raise ValueError(f"unknown personality {personality!r}; expected one of {PERSONALITIES}")
        self.personality = personality
        self.deployments: set[str] = {"prod-chat"}  # Azure deployment names the stub serves
        self.responder: Responder = responder or default_responder
        self.embedding_dim = embedding_dim
        self.models: list[str] = ["gpt-4o-mini", "text-embedding-3-small"]
        self.fault_rate = 0.0
        self.fault_kinds: list[str] = list(FAULT_KINDS)
        self.latency_s = 0.2
        self.chat_delay_s = 0.0  # > 0: every chat answer waits this long (a slow model; `t`/`t_end` show overlap)
        self.context_tokens = 0  # > 0: prompts are "truncated" to this many tokens (as Ollama's num_ctx)
        self.retry_after = "1"
        self.requests: list[dict[str, Any]] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._script: collections.deque[str] = collections.deque()
        self._rng = random.Random(0)
        self._calls = 0
        self._conns: set[socket.socket] = set()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stub = self
        self.port: int = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._closed = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="stub-openai", daemon=True
        )  # short poll: fast close() in fixtures
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and cut idle keep-alive connections so nothing lingers."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def script(self, faults: list[str]) -> None:
        """Queue faults for the next len(faults) requests; they take precedence over fault_rate."""
        bad = [f for f in faults if f not in _ALL_KINDS]
        if bad:
            raise ValueError(f"unknown fault kinds {bad}; expected one of {sorted(_ALL_KINDS)}")
        with self._lock:
            self._script.extend(faults)

    def seed(self, n: int) -> None:
        """Make the probabilistic fault sequence reproducible."""
        with self._lock:
            self._rng = random.Random(n)

    def reset(self) -> None:
        """Forget recorded requests, counts and any pending scripted faults."""
        with self._lock:
            self.requests.clear()
            self.counts.clear()
            self._script.clear()
            self._calls = 0

    # Called from handler threads; everything shared goes through self._lock.
    def _next_fault(self) -> str:
        with self._lock:
            if self._script:
                return self._script.popleft()
            if self.fault_rate > 0 and self.fault_kinds and self._rng.random() < self.fault_rate:
                return self._rng.choice(self.fault_kinds)
            return "ok"

    def _record(self, path: str, body: Any, headers: dict[str, str], fault: str) -> dict[str, Any]:
        """Log a request as it arrives (`t`); a chat answer adds `t_end` once it was sent."""
        entry = {"path": path, "json": body, "headers": headers, "fault": fault, "t": time.monotonic()}
        with self._lock:
            self.requests.append(entry)
            self.counts[fault] += 1
        return entry

    def _call_id(self) -> str:
        with self._lock:
            self._calls += 1
            return f"call_{self._calls}"
