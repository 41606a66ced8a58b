"""Encoders for the bundled MiniLM beyond PyTorch fp32: ONNX Runtime (fp32 or int8) and device choice.

`make_minilm` is what `make_embedder("minilm")` calls: int8 ONNX on a CPU, the GPU (fp32) when one is
present, or, for an existing index, the encoding it was built with.
"""

from tools.encoders.device import resolve_device
from tools.encoders.onnx_minilm import MINILM_ID, OnnxEmbedder, encoding_id

__all__ = ["MINILM_ID", "OnnxEmbedder", "encoding_id", "resolve_device"]
