"""The offline reader's learned candidate scorer: a small log-linear model over features that do not
depend on a manual's wording (how relevant the sentence is, where it sits, what kind of span the
candidate is, how well it fits the asked type, whether it was read from a heading, a signature or a
table, how many sentences name it).

The weights live in `reader_weights.json` next to this module, written by
`python -m benchmarks.fit_reader` (fitted on the dev manuals and HotpotQA questions 0-49). Scoring
is plain Python: scipy is a fitting-time dependency only. The file names its features; a file
whose features are not the ones the solver computes (`FEATURES`) raises `ReaderWeightsError` instead of
scoring with weights meant for other columns.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from graphs.state import SentenceRef
from tools.errors import ConfigError

WEIGHTS_PATH = Path(__file__).with_name("reader_weights.json")

# Span kinds grouped into the one-hot columns the model sees (a kind outside these is "other").
KIND_GROUPS: dict[str, str] = {
    "entry": "entry",
    "code": "code",
    "flag": "flag",
    "exception": "exception",
    "value": "value",
    "version": "version",
    "number": "number",
    "date": "date",
    "person": "named",
    "name": "named",
    "org": "named",
    "place": "named",
    "entity": "named",
    "quoted": "named",
    "nationality": "named",
}
KIND_COLUMNS = (*sorted(set(KIND_GROUPS.values())), "other")
# Where an offer came from: a sentence's span, an entry's heading name, a signature default, a table
# cell, a value the sentence states as a default, a manual page's NAME line, a document's own title.
SOURCES = ("span", "entry", "signature", "table", "default", "command", "title")

FEATURES: tuple[str, ...] = (
    "log_relevance",  # the sentence's relevance to the question (lexical + dense), log
    "dense_sim",  # MiniLM similarity of the question to the candidate's sentence (0 when not computed)
    "sentence_rank",  # rank of the sentence among those read, / 10
    "sentence_pos",  # position of the sentence inside its hit, / 10 (capped at 2)
    "hit_rank",  # retrieval rank of the hit the sentence comes from, / 10 (capped at 2)
    "log_fit",  # answer-type fit of the span kind (after the type prior's adjustments), log
    "log_factor",  # the span's closeness to the question's terms and shape cues, log
    "novelty",  # share of the candidate's terms the question does not already use
    "heading_line",  # the sentence is the entry's heading (signature) line
    "field_row",  # the sentence is an entry's field-list / `Default:` row
    "in_example",  # the sentence is a code block or command example
    "tech_question",  # the question asks for a technical answer type (identifier, option, value …)
    "log_words",  # candidate length in words, log1p
    "log_sentences",  # distinct sentences naming the candidate, log1p
    "pages",  # distinct pages naming the candidate, capped at 3
    *(f"kind_{k}" for k in KIND_COLUMNS),
    *(f"from_{s}" for s in SOURCES),
)


class ReaderWeightsError(ConfigError):
    """The learned reader's weights file is missing, unreadable, or was fitted on other features;
    re-fit it with `python -m benchmarks.fit_reader` or set `OfflineThresholds.scorer="rules"`."""


def kind_column(kind: str) -> str:
    return f"kind_{KIND_GROUPS.get(kind, 'other')}"


def offer_features(
    *,
    relevance: float,
    sentence: SentenceRef,
    sentence_rank: int,
    sentence_pos: int,
    hit_rank: int,
    fit: float,
    factor: float,
    novelty: float,
    in_example: bool,
    tech_question: bool,
    text: str,
    kind: str,
    source: str,
) -> dict[str, float]:
    """One offer's own features (`FEATURES` less the candidate-level agreement counts and the
    one-hot columns it does not set, which `CandidatePool.rows` fills in)."""
    return {
        "log_relevance": math.log(max(relevance, 1e-4)),
        "dense_sim": float(sentence.get("sim") or 0.0),
        "sentence_rank": sentence_rank / 10,
        "sentence_pos": min(sentence_pos, 20) / 10,
        "hit_rank": min(hit_rank, 20) / 10,
        "log_fit": math.log(max(fit, 1e-4)),
        "log_factor": math.log(max(factor, 1e-4)),
        "novelty": novelty,
        "heading_line": float(sentence.get("kind") == "heading"),
        "field_row": float(sentence.get("kind") == "entry_row"),
        "in_example": float(in_example),
        "tech_question": float(tech_question),
        "log_words": math.log1p(len(text.split())),
        kind_column(kind): 1.0,
        f"from_{source}": 1.0,
    }


@dataclass(frozen=True)
class LearnedScorer:
    """A log-linear candidate score: exp(e * log(hand) + b + sum w_i (x_i - mean_i) / scale_i), where
    `hand` is the hand-set product (relevance x fit x factor x novelty) and e its fitted-in exponent:
    with e = 1 the model is the rules corrected by learned weights (zero weights are the rules), with
    e = 0 it scores from its features alone. The result stays on the hand scores' scale."""

    weights: Mapping[str, float]
    means: Mapping[str, float]
    scales: Mapping[str, float]
    bias: float
    hand_exponent: float = 1.0

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> LearnedScorer:
        features = data.get("features")
        if not isinstance(features, list) or tuple(features) != FEATURES:
            have = set(features) if isinstance(features, list) else set()
            raise ReaderWeightsError(
                "reader weights were fitted on other features "
                f"(missing {sorted(set(FEATURES) - have)}, unknown {sorted(have - set(FEATURES))}); "
                "re-fit with `python -m benchmarks.fit_reader`"
            )
        try:
            columns = [data["weights"], data["means"], data["scales"]]
            vectors = [[float(v) for v in col] for col in columns]  # type: ignore[attr-defined]
            bias = float(data["bias"])  # type: ignore[arg-type]
            exponent = float(data.get("hand_exponent", 1.0))  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError) as exc:
            raise ReaderWeightsError(f"reader weights are malformed: {exc}") from exc
        if any(len(v) != len(FEATURES) for v in vectors) or any(s <= 0 for s in vectors[2]):
            raise ReaderWeightsError("reader weights need one weight, mean and positive scale per feature")
        w, m, s = (dict(zip(FEATURES, v, strict=True)) for v in vectors)
        return cls(w, m, s, bias, exponent)

    def score(self, features: Mapping[str, float], hand: float) -> float:
        """The candidate's score in one sentence (higher ranks first)."""
        missing = [f for f in FEATURES if f not in features]
        if missing:
            raise ReaderWeightsError(f"candidate features lack {missing}")
        z = self.bias + sum(self.weights[f] * (features[f] - self.means[f]) / self.scales[f] for f in FEATURES)
        z += self.hand_exponent * math.log(max(hand, 1e-6))
        return math.exp(max(-30.0, min(5.0, z)))


def load_scorer(path: Path | str = WEIGHTS_PATH) -> LearnedScorer:
    """Read a weights file (cached per path: every solver of a process shares one model)."""
    return _load(str(path))


@lru_cache(maxsize=8)
def _load(path: str) -> LearnedScorer:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReaderWeightsError(f"cannot read reader weights {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ReaderWeightsError(f"reader weights {path} are not a JSON object")
    return LearnedScorer.from_dict(data)
