"""The learned acceptance model at run time: a logistic regression over `acceptance.FEATURES`, read from
a small JSON file in the package, scored with numpy (scikit-learn is needed only to fit it:
`python -m benchmarks.fit_acceptance`).

The file names the features it was fitted on, in order, and the embedder whose similarities it
read; a file that is missing, unreadable, or fitted on other features is refused with
`AcceptanceModelError` rather than scored wrongly, and so is a run on another embedder's vectors
with `acceptance="learned"` (`"auto"`, the default, leaves the decision to the rules there).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from graphs.roles.offline.acceptance import FEATURES, as_vector
from tools.embeddings import Embedder
from tools.errors import ConfigError

WEIGHTS_PATH = Path(__file__).with_name("acceptance_weights.json")
FORMAT = "hragent-acceptance/1"


class AcceptanceModelError(ConfigError):
    """The acceptance weights file is missing, malformed, or fitted on other features."""


@dataclass(frozen=True)
class AcceptanceModel:
    """P(draft is right | features) = logistic(w · (x - mean) / scale + b)."""

    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]
    bias: float
    threshold: float  # the operating point chosen when fitting (see the file's `operating_point`)
    meta: Mapping[str, Any]

    @property
    def embedder(self) -> str | None:
        """The id of the embedder whose similarities the model was fitted on (None: any)."""
        value = self.meta.get("embedder")
        return str(value) if value else None

    def fits(self, embedder: Embedder | None) -> bool:
        """Were the model's similarity features fitted on this embedder's vectors?"""
        return self.embedder is None or (embedder is not None and embedder.id == self.embedder)

    def score(self, features: Mapping[str, float]) -> float:
        missing = [f for f in FEATURES if f not in features]
        if missing:
            raise AcceptanceModelError(f"acceptance features missing: {missing}")
        z = float(((as_vector(features) - self.mean) / self.scale) @ self.weights + self.bias)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def _vector(payload: Mapping[str, Any], key: str, path: Path) -> npt.NDArray[np.float64]:
    values = payload.get(key)
    if not isinstance(values, list) or len(values) != len(FEATURES):
        raise AcceptanceModelError(f"{path}: `{key}` must list {len(FEATURES)} numbers, one per feature")
    try:
        out = np.array([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AcceptanceModelError(f"{path}: `{key}` holds a value that is not a number") from exc
    if not np.all(np.isfinite(out)):
        raise AcceptanceModelError(f"{path}: `{key}` holds a value that is not finite")
    return out


def parse_model(payload: Any, path: Path) -> AcceptanceModel:
    """Validate a weights payload against the features this code computes."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise AcceptanceModelError(f"{path}: not an acceptance weights file (format {FORMAT!r} expected)")
    if list(payload.get("features", [])) != list(FEATURES):
        raise AcceptanceModelError(
            f"{path}: fitted on other features than this code computes; re-fit with "
            "`python -m benchmarks.fit_acceptance`"
        )
    scale = _vector(payload, "scale", path)
    if np.any(scale <= 0):
        raise AcceptanceModelError(f"{path}: `scale` must be positive")
    try:
        bias, threshold = float(payload["bias"]), float(payload["threshold"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AcceptanceModelError(f"{path}: `bias` and `threshold` must be numbers") from exc
    if not 0.0 <= threshold <= 1.0:
        raise AcceptanceModelError(f"{path}: `threshold` must lie in [0, 1]")
    meta = {k: v for k, v in payload.items() if k not in {"mean", "scale", "weights", "bias", "threshold"}}
    return AcceptanceModel(
        _vector(payload, "mean", path), scale, _vector(payload, "weights", path), bias, threshold, meta
    )


def load_model(path: Path | str | None = None) -> AcceptanceModel:
    """The model in `path` (default: the one shipped with the package)."""
    return _load(Path(path) if path is not None else WEIGHTS_PATH)


@lru_cache(maxsize=8)
def _load(path: Path) -> AcceptanceModel:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AcceptanceModelError(
            f"acceptance weights not found at {path}; fit them with `python -m benchmarks.fit_acceptance` "
            "or set acceptance='rules'"
        ) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AcceptanceModelError(f"{path}: unreadable acceptance weights ({exc})") from exc
    return parse_model(payload, path)
