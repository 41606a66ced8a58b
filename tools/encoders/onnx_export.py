"""Turn the bundled MiniLM's own weights into ONNX Runtime models on first use, and cache them.

Nothing is downloaded: torch (already installed with sentence-transformers) traces the local
weights, ONNX Runtime's transformer optimizer fuses attention, LayerNorm and GELU, and dynamic int8
quantisation (per-channel weights) shrinks the MatMuls. The files are written under a key of the
weights and the tool versions, so an upgrade re-exports instead of loading a stale graph.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Literal

from tools.errors import ConfigError
from tools.locks import WriterLock

Precision = Literal["fp32", "int8", "int8-all"]
# "int8": dynamic int8, each layer's FFN output projection kept fp32 (closer to fp32); "int8-all":
# every MatMul int8 (faster; RESULTS.md #20 has both recipes' speed and recall).
PRECISIONS: tuple[Precision, ...] = ("fp32", "int8", "int8-all")
_EXPORT_LOCK = threading.Lock()
RECIPE = 2  # bump when the export, optimisation or quantisation steps change (re-exports on next use)


def default_cache_dir() -> Path:
    """`HRAGENT_CACHE_DIR`, else `$XDG_CACHE_HOME/hragent`, else `~/.cache/hragent`."""
    explicit = os.environ.get("HRAGENT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "hragent"


def export_key(model_dir: Path) -> str:
    """Identity of an export: the weights (name, size, config) and the versions that shape the graph."""
    import onnxruntime

    weights = sorted(p for p in model_dir.iterdir() if p.suffix in (".safetensors", ".bin"))
    if not weights:
        raise ConfigError(f"{model_dir} holds no model weights (model.safetensors) to export")
    parts = [f"{p.name}:{p.stat().st_size}" for p in weights]
    parts.append((model_dir / "config.json").read_text())
    parts.append(f"onnxruntime={onnxruntime.__version__}")
    parts.append(f"recipe={RECIPE}")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def onnx_model_path(model_dir: Path, precision: Precision, cache_dir: Path | None = None) -> Path:
    """Path of the cached ONNX model for `precision`, exporting it first when it is missing.

    Concurrent processes serialise on a file lock; files appear by atomic rename only, so a crash
    mid-export leaves no half-written model behind."""
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown ONNX precision {precision!r}; use one of {PRECISIONS}")
    folder = (cache_dir or default_cache_dir()) / "onnx" / f"{model_dir.name}-{export_key(model_dir)}"
    target = folder / f"model-{precision}.onnx"
    if target.exists():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the ONNX cache {folder}: {exc}; set HRAGENT_CACHE_DIR") from exc
    with _EXPORT_LOCK, WriterLock(folder / "export.lock"):
        if not target.exists():
            _export_all(model_dir, folder)
    return target


def _export_all(model_dir: Path, folder: Path) -> None:
    try:
        import onnx  # noqa: F401  (the quantiser and optimizer need it)
    except ImportError as exc:
        raise ConfigError("the ONNX encoder needs the `onnx` package: pip install onnx") from exc
    config = json.loads((model_dir / "config.json").read_text())
    fp32 = folder / "model-fp32.onnx"
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        if not fp32.exists():
            raw = Path(tmp) / "raw.onnx"
            _trace(model_dir, raw)
            _optimize(raw, Path(tmp) / "opt.onnx", config)
            os.replace(Path(tmp) / "opt.onnx", fp32)
        for precision, keep_ffn_out in (("int8", True), ("int8-all", False)):
            target = folder / f"model-{precision}.onnx"
            if not target.exists():
                _quantize(fp32, Path(tmp) / "q.onnx", keep_ffn_out=keep_ffn_out)
                os.replace(Path(tmp) / "q.onnx", target)


def _trace(model_dir: Path, out: Path) -> None:
    """Trace the transformer (token embeddings out; pooling stays in numpy) with dynamic batch and length."""
    import torch
    from transformers import AutoModel

    base = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.base = base

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            out = self.base(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            hidden: torch.Tensor = out.last_hidden_state
            return hidden

    sample = torch.ones(2, 16, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(),
            (sample, sample, torch.zeros_like(sample)),
            str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["token_embeddings"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "token_embeddings": axes},
            opset_version=17,
            dynamo=False,
        )


def _optimize(raw: Path, out: Path, config: dict[str, object]) -> None:
    from onnxruntime.transformers import optimizer

    heads = int(str(config.get("num_attention_heads", 12)))
    hidden = int(str(config.get("hidden_size", 384)))
    model = optimizer.optimize_model(str(raw), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1)
    model.save_model_to_file(str(out))


def _quantize(fp32: Path, out: Path, *, keep_ffn_out: bool) -> None:
    """Dynamic int8 with per-channel weights; `keep_ffn_out` leaves each layer's FFN output
    projection in fp32.

    Measured against fp32 on 300 manual paragraphs (mean / min cosine): per-tensor .964 / .909,
    per-channel .992 / .979, per-channel without the FFN outputs (whose inputs, after GELU, have the
    widest range) .995 / .990 at most of the speed."""
    import logging
    import re

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    ffn_out = [n.name for n in graph.node if n.op_type == "MatMul" and re.search(r"layer\.\d+/output/dense", n.name)]
    if keep_ffn_out and not ffn_out:
        raise ConfigError(f"{fp32} has no FFN output projections to keep in fp32 (an unexpected graph)")

    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))  # the quantiser warns "run pre-processing" on the root logger
    try:
        quantize_dynamic(
            str(fp32),
            str(out),
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=ffn_out if keep_ffn_out else [],
            extra_options={"DefaultTensorType": 1},  # FLOAT, for outputs of the fused contrib ops
        )
    finally:
        root.setLevel(level)
