"""Choosing the bundled MiniLM's encoding: what `make_embedder("minilm")` returns.

A new index gets fp32: ONNX Runtime on a CPU (PyTorch's vectors, ~2.2x its speed with token-budgeted
passes on two single-threaded sessions, measured loaded), PyTorch on a GPU. int8 ONNX (`minilm-int8`, or `minilm-int8-all` with every
MatMul quantised) is faster still but moves vectors: `minilm-int8` lost .029 structured-docs answer
recall (RESULTS.md, #20), so both are opt-in. An existing index keeps the encoding it was built with,
so upgrading hragent or moving an index between a GPU and a CPU machine never trips the manifest
check; an explicit precision is honoured and a mismatch with the index is the usual
`IndexMismatchError`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.encoders.device import resolve_device
from tools.encoders.onnx_export import PRECISIONS, Precision
from tools.encoders.onnx_minilm import MINILM_ID, OnnxEmbedder, encoding_id
from tools.errors import ConfigError

PRECISION_CHOICES = ("auto", "int8", "int8-all", "fp32", "torch")
DEFAULT_PRECISION = "fp32"  # for new indexes; see the module docstring for why int8 is opt-in
GPU_BATCH = 512  # texts per forward pass on CUDA
_MANIFEST = "manifest.json"  # the index's manifest file (tools.index.MANIFEST)


def manifest_embedder_id(index_dir: str | Path | None) -> str | None:
    """The embedder id recorded by an existing index, or None (no index there, or unreadable: the
    index itself reports that when it is opened)."""
    if index_dir is None:
        return None
    try:
        raw = json.loads((Path(index_dir).expanduser() / _MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    value = raw.get("embedder") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def make_minilm(precision: str = "auto", device: str = "auto", *, existing_id: str | None = None) -> Any:
    """The bundled MiniLM as `precision` ('auto' | 'int8' | 'int8-all' | 'fp32' | 'torch') on `device`.

    'fp32' is ONNX Runtime on a CPU and PyTorch on a GPU (same vectors); 'torch' is
    sentence-transformers on any device (the encoder before #20)."""
    from tools.embeddings import SentenceTransformerEmbedder

    if precision not in PRECISION_CHOICES:
        raise ConfigError(f"unknown MiniLM precision {precision!r}; use one of {', '.join(PRECISION_CHOICES)}")
    dev = resolve_device(device)
    if precision == "auto":
        known: dict[str, Precision] = {encoding_id(MINILM_ID, p): p for p in PRECISIONS}
        precision = known.get(existing_id or "", DEFAULT_PRECISION)
    if precision in ("int8", "int8-all"):
        return OnnxEmbedder(precision=precision, device="cpu")  # type: ignore[arg-type]
    if precision == "fp32" and dev == "cpu":
        return OnnxEmbedder(precision="fp32", device="cpu")
    # On a GPU small batches leave it idle: 512 was ~6x batch 64 on an H200 (RESULTS.md, #20).
    return SentenceTransformerEmbedder(device=dev, batch_size=GPU_BATCH if dev.startswith("cuda") else 64)
