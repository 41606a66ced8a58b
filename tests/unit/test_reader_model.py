"""The offline reader's learned candidate scorer: feature rows as documented, the packaged weights
file matching the features the solver computes, and the learned ranking on an invented mini API
reference (no real manual)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from graphs.roles.offline.pool import CandidatePool
from graphs.roles.offline.reader_model import (
    FEATURES,
    WEIGHTS_PATH,
    LearnedScorer,
    ReaderWeightsError,
    kind_column,
    load_scorer,
)
from graphs.roles.offline.solver import OfflineSolver
from graphs.state import EvidenceItem
from graphs.text.answer_types import answer_type
from policies.offline import OfflineThresholds
from tests.support.evidence import entry_item
from tools.errors import HragentError


def _entry(heading: str, *sentences: str, doc: str = "kiln", sim: float = 0.4) -> EvidenceItem:
    section = ["API reference", heading]
    return entry_item(section, *sentences, doc=doc, title="kilnkit API", sim=sim, heading=heading, key=heading)


EVIDENCE = [
    _entry(
        "kilnkit.glaze(pot, colour='ash', coats=2)", "Coat a fired pot with a layer of glaze before the second firing."
    ),
    _entry("kilnkit.stack(pots, shelf=None)", "Place pots on a kiln shelf so that the heat reaches each of them."),
]
QUESTION = "Which kilnkit function coats a fired pot with glaze?"


def _pool(question: str = QUESTION, scorer: str = "rules") -> CandidatePool:
    solver = OfflineSolver(OfflineThresholds(scorer=scorer))  # type: ignore[arg-type]
    return solver._candidates(question, EVIDENCE, answer_type(question))


def test_a_feature_row_is_computed_as_documented() -> None:
    pool = _pool()
    pairs = pool.rows()
    assert pairs and all(set(row) == set(FEATURES) for _, row in pairs)
    # The entry's heading name: one kind, one source (one-hot), read from the first hit.
    offered, name = next((o, row) for o, row in pairs if o.key == "kilnkit glaze" and row["from_entry"] == 1.0)
    assert name[kind_column("entry")] == 1.0 and name["kind_entry"] == 1.0
    assert sum(name[f] for f in FEATURES if f.startswith("kind_")) == 1.0
    assert sum(name[f] for f in FEATURES if f.startswith("from_")) == 1.0
    assert name["tech_question"] == 1.0  # "which … function" asks for an identifier
    assert name["log_words"] == pytest.approx(math.log1p(1))  # "kilnkit.glaze" is one word
    assert name["hit_rank"] == 0.0  # the first hit retrieved
    assert name["pages"] == 1.0 and name["log_sentences"] >= math.log1p(1)
    assert 0.0 < name["novelty"] <= 1.0
    # Dense similarity is the sentence's own (a heading line has none: 0, and says it is one).
    heading = offered.node_id.endswith("-head")
    assert name["heading_line"] == float(heading)
    assert name["dense_sim"] == pytest.approx(0.0 if heading else 0.4)
    assert any(row["dense_sim"] == pytest.approx(0.4) for o, row in pairs if not o.node_id.endswith("-head"))
    # The hand-set score is the product the rules use: relevance x fit x factor x novelty.
    rebuilt = math.exp(name["log_relevance"] + name["log_fit"] + name["log_factor"]) * name["novelty"]
    assert offered.hand == pytest.approx(rebuilt, rel=1e-6)
    # ... and the rules rank by it: the pool's score for that sentence is the best hand score there.
    best_here = max(o.hand for o, _ in pairs if o.key == offered.key and o.node_id == offered.node_id)
    assert pool.scores[offered.key][offered.node_id] == pytest.approx(best_here)


def test_the_packaged_weights_load_and_name_the_computed_features() -> None:
    data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    assert tuple(data["features"]) == FEATURES
    scorer = load_scorer()
    offered, row = next(iter(_pool().rows()))
    assert scorer.score(row, offered.hand) > 0.0


def test_the_learned_scorer_picks_the_entry_heading_for_which_function() -> None:
    ex = OfflineSolver(OfflineThresholds(scorer="learned")).extract(QUESTION, EVIDENCE)
    assert ex.answer == "kilnkit.glaze"
    assert ex.support and ex.support[0].ev["section"][-1].startswith("kilnkit.glaze(")


def test_rules_and_learned_offer_the_same_candidates() -> None:
    rules, learned = _pool(scorer="rules"), _pool(scorer="learned")
    assert set(rules.scores) == set(learned.scores)
    assert all(v > 0.0 for per in learned.scores.values() for v in per.values())


def _weights(**changes: object) -> dict[str, object]:
    n = len(FEATURES)
    return {
        "features": list(FEATURES),
        "weights": [0.0] * n,
        "means": [0.0] * n,
        "scales": [1.0] * n,
        "bias": 0.0,
    } | changes


def test_weights_fitted_on_other_features_raise_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ReaderWeightsError, match="other features") as info:
        LearnedScorer.from_dict(_weights(features=[*FEATURES[:-1], "colour_of_the_pot"]))
    assert isinstance(info.value, HragentError)
    with pytest.raises(ReaderWeightsError, match="positive scale"):
        LearnedScorer.from_dict(_weights(scales=[0.0] * len(FEATURES)))
    with pytest.raises(ReaderWeightsError, match="malformed"):
        LearnedScorer.from_dict(_weights(bias="high"))
    bad = tmp_path / "weights.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ReaderWeightsError, match="not a JSON object"):
        load_scorer(bad)
    solver = OfflineSolver(OfflineThresholds(scorer="learned", reader_weights=str(tmp_path / "absent.json")))
    with pytest.raises(ReaderWeightsError, match="cannot read"):
        solver.extract(QUESTION, EVIDENCE)


def test_a_row_missing_a_feature_is_refused() -> None:
    scorer = LearnedScorer.from_dict(_weights(bias=1.0))
    # Zero weights and exponent 1: the hand score, times exp(bias).
    assert scorer.score(dict.fromkeys(FEATURES, 0.0), 0.2) == pytest.approx(0.2 * math.e)
    with pytest.raises(ReaderWeightsError, match="lack"):
        scorer.score({"dense_sim": 0.5}, 0.2)


def test_the_scorer_setting_reads_its_environment_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRAGENT_OFFLINE_SCORER", "learned")
    assert OfflineThresholds().scorer == "learned"
    monkeypatch.setenv("HRAGENT_OFFLINE_SCORER", "")
    assert OfflineThresholds().scorer == "rules"
