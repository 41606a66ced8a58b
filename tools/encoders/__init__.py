"""Encoders for the bundled MiniLM beyond PyTorch fp32: ONNX Runtime (fp32 or int8) and device choice.

`make_minilm` (in `select`) is what `make_embedder("minilm")` calls: fp32 ONNX on a CPU, PyTorch on a
GPU when one is present, or, for an existing index, the encoding it was built with.
"""

from tools.encoders.device import resolve_device
from tools.encoders.onnx_minilm import MINILM_ID, OnnxEmbedder, encoding_id

__all__ = ["MINILM_ID", "OnnxEmbedder", "encoding_id", "resolve_device"]
