"""Which accelerator the encoder runs on: `device="auto"` picks CUDA, then Apple MPS, then the CPU.

Probing is cheap on a machine without a GPU: torch is only imported when an NVIDIA driver or an
Apple-silicon Mac is present, so a CPU-only ONNX encoder never pays torch's import time.
"""

from __future__ import annotations

import os
import platform
import sys
from functools import lru_cache

from tools.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(device: str) -> str:
    """'auto' -> the best present device; an explicit device is checked, and refused when absent."""
    device = (device or "auto").strip().lower()
    base = device.split(":", 1)[0]
    if base not in DEVICES:
        raise ConfigError(f"unknown embedder device {device!r}; use one of {', '.join(DEVICES)} (or cuda:N)")
    if base == "auto":
        return _best_device()
    if base == "cuda" and not _cuda_available():
        raise ConfigError(f"embedder device {device!r} requested but no CUDA GPU is usable here")
    if base == "mps" and not _mps_available():
        raise ConfigError("embedder device 'mps' requested but Apple MPS is not available here")
    return device


@lru_cache(maxsize=1)
def _best_device() -> str:
    if _cuda_available():
        return "cuda"
    if _mps_available():
        return "mps"
    return "cpu"


@lru_cache(maxsize=1)
def _cuda_available() -> bool:
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    if not (os.path.exists("/proc/driver/nvidia/version") or sys.platform == "win32"):
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@lru_cache(maxsize=1)
def _mps_available() -> bool:
    if sys.platform != "darwin" or platform.machine() != "arm64":
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.backends.mps.is_available())
