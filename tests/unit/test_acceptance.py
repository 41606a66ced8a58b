"""The learned acceptance signal of the offline verifier: features of a draft, the gate on drafts the
rules pass, and typed errors for a bad weights file. Invented API entries only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphs.roles.offline.acceptance import ALL_FEATURES, FEATURES, FeatureReader
from graphs.roles.offline.acceptance_model import FORMAT, AcceptanceModelError, load_model
from graphs.roles.offline.verifier import OfflineVerifier
from graphs.state import ClaimDict, Draft, EvidenceItem
from policies.offline import OfflineThresholds
from tests.unit.test_grounding import cite, entry
from tools.embeddings import HashingEmbedder

TASK = "Which ferrule function trims the stale cache files every night?"


def _scored(item: EvidenceItem, score: float) -> EvidenceItem:
    return EvidenceItem(**{**item, "score": score})  # type: ignore[typeddict-item]


# The entry that answers, ranked first, and an off-topic entry far down the list whose body happens
# to repeat the question's words (the rules cannot tell them apart: both state what was asked).
RIGHT = _scored(entry("ferrule-api", ["API", "ferrule.prune_cache()"], "Trims the stale cache files every night."), 1.0)
OFF_TOPIC = _scored(
    entry(
        "ferrule-notes",
        ["Notes", "ferrule.rotate_keys()"],
        "Unlike the night job that trims stale cache files, it rotates keys.",
    ),
    0.2,
)
FILLER = [
    _scored(
        entry("ferrule-api", ["API", f"ferrule.helper_{i}()"], f"Helper number {i} formats a banner."), 0.5 - i / 20
    )
    for i in range(3)
]
EVIDENCE = {"s1": [RIGHT, *FILLER, OFF_TOPIC]}


def _draft(item: EvidenceItem, name: str) -> Draft:
    claim = ClaimDict(text=f"{name}: {item['sentences'][0]['text']}", citations=[cite(item, 0)])
    return Draft(short_answer=name, claims=[claim], confidence=0.8)


def _weights(tmp_path: Path, **weights: float) -> Path:
    """A weights file that scores only the named features (standardised around 0.5)."""
    payload = {
        "format": FORMAT,
        "features": list(FEATURES),
        "mean": [0.5] * len(FEATURES),
        "scale": [0.25] * len(FEATURES),
        "weights": [weights.get(f, 0.0) for f in FEATURES],
        "bias": 0.0,
        "threshold": 0.5,
    }
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(payload))
    return path


def test_features_say_where_the_cited_entry_ranked_and_what_it_names() -> None:
    right = FeatureReader(None).read(TASK, _draft(RIGHT, "ferrule.prune_cache"), _draft(RIGHT, "x")["claims"], EVIDENCE)
    off = FeatureReader(None).read(
        TASK, _draft(OFF_TOPIC, "ferrule.rotate_keys"), _draft(OFF_TOPIC, "ferrule.rotate_keys")["claims"], EVIDENCE
    )
    assert set(right) == set(ALL_FEATURES) and set(FEATURES) <= set(ALL_FEATURES)
    assert right["query_rank"] == 1.0 and off["query_rank"] < 0.25
    assert right["query_score_ratio"] == 1.0 and off["query_score_ratio"] == pytest.approx(0.2)


def test_rank_and_score_ratio_are_read_within_the_query_that_found_the_entry() -> None:
    """A chain's second hop ranks its own evidence: its best item is first there, whatever the
    first hop's scores (raw scores of different queries are not comparable)."""
    hop1 = [_scored(EvidenceItem(**{**f, "query": "first hop"}), 0.9) for f in FILLER]  # type: ignore[typeddict-item]
    hop2 = _scored(EvidenceItem(**{**RIGHT, "query": "second hop"}), 0.3)  # type: ignore[typeddict-item]
    evidence = {"s1": hop1, "s2": [hop2]}
    got = FeatureReader(None).read(TASK, _draft(hop2, "ferrule.prune_cache"), _draft(hop2, "x")["claims"], evidence)
    assert got["query_rank"] == 1.0 and got["query_score_ratio"] == 1.0
    assert got["cited_rank"] < 0.5  # the corpus-wide rank it replaces


def test_rules_pass_both_drafts_and_the_learned_gate_declines_the_off_topic_one(tmp_path: Path) -> None:
    rules = OfflineVerifier()
    for item, name in ((RIGHT, "ferrule.prune_cache"), (OFF_TOPIC, "ferrule.rotate_keys")):
        report, _ = rules.verify(TASK, _draft(item, name), EVIDENCE)
        assert report["passed"], name
    learned = OfflineVerifier(
        thresholds=OfflineThresholds(
            acceptance="learned", acceptance_weights=str(_weights(tmp_path, query_rank=3.0, query_score_ratio=3.0))
        )
    )
    kept, _ = learned.verify(TASK, _draft(RIGHT, "ferrule.prune_cache"), EVIDENCE)
    assert kept["passed"] and kept["claims"][0]["verdict"] == "supported"
    assert float(kept["acceptance"]["score"]) >= 0.5  # type: ignore[arg-type]
    declined, _ = learned.verify(TASK, _draft(OFF_TOPIC, "ferrule.rotate_keys"), EVIDENCE)
    assert not declined["passed"] and declined["acceptance"]["declined"]
    assert declined["claims"][0]["verdict"] == "not_enough_evidence"
    assert any("acceptance model" in r for r in declined["claims"][0]["reasons"])
    assert declined["confidence"] == 0.0


def test_the_threshold_is_the_knob(tmp_path: Path) -> None:
    path = str(_weights(tmp_path, query_rank=3.0))
    strict = OfflineThresholds(acceptance="learned", acceptance_weights=path, acceptance_threshold=0.999)
    report, _ = OfflineVerifier(thresholds=strict).verify(TASK, _draft(RIGHT, "ferrule.prune_cache"), EVIDENCE)
    assert not report["passed"] and report["acceptance"]["threshold"] == 0.999


def test_a_missing_weights_file_is_a_typed_error_when_the_verifier_is_built(tmp_path: Path) -> None:
    with pytest.raises(AcceptanceModelError, match="not found"):
        OfflineVerifier(
            thresholds=OfflineThresholds(acceptance="learned", acceptance_weights=str(tmp_path / "absent.json"))
        )


def test_weights_fitted_on_other_features_or_malformed_are_refused(tmp_path: Path) -> None:
    path = _weights(tmp_path)
    payload = json.loads(path.read_text())
    payload["features"] = [*FEATURES[1:], "some_other_feature"]
    path.write_text(json.dumps(payload))
    with pytest.raises(AcceptanceModelError, match="other features"):
        load_model(path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(AcceptanceModelError, match="unreadable"):
        load_model(bad)
    payload["features"] = list(FEATURES)
    payload["weights"] = payload["weights"][:-1]
    short = tmp_path / "short.json"
    short.write_text(json.dumps(payload))
    with pytest.raises(AcceptanceModelError, match="weights"):
        load_model(short)


def test_the_shipped_weights_match_the_features_this_code_computes() -> None:
    model = load_model()
    assert 0.0 <= model.threshold <= 1.0
    assert len(model.weights) == len(FEATURES)


def test_rules_compute_features_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HRAGENT_ACCEPTANCE_FEATURES", raising=False)
    rules = OfflineThresholds(acceptance="rules")
    plain, _ = OfflineVerifier(thresholds=rules).verify(TASK, _draft(RIGHT, "ferrule.prune_cache"), EVIDENCE)
    assert plain["passed"] and "acceptance" not in plain  # no feature work with the rules alone
    asked = OfflineVerifier(thresholds=rules.model_copy(update={"acceptance_features": True}))
    report, _ = asked.verify(TASK, _draft(RIGHT, "ferrule.prune_cache"), EVIDENCE)
    assert report["passed"] and set(report["acceptance"]["features"]) == set(ALL_FEATURES)  # type: ignore[arg-type]
    monkeypatch.setenv("HRAGENT_ACCEPTANCE_FEATURES", "1")
    assert OfflineThresholds().acceptance_features


def test_auto_leaves_other_embedders_to_the_rules_and_learned_refuses_them(tmp_path: Path) -> None:
    """The shipped weights read MiniLM similarities: on hashing vectors `auto` gates nothing (the
    rules decide) and an explicit `learned` is a typed error, not a gate on meaningless numbers."""
    shipped = load_model()
    assert shipped.embedder == "sentence-transformers/all-MiniLM-L6-v2"
    hashing = HashingEmbedder()
    assert not shipped.fits(hashing) and not shipped.fits(None)
    auto = OfflineVerifier(hashing, OfflineThresholds(acceptance="auto"))
    assert auto.model is None
    report, _ = auto.verify(TASK, _draft(RIGHT, "ferrule.prune_cache"), EVIDENCE)
    assert report["passed"]
    with pytest.raises(AcceptanceModelError, match="hashing-256"):
        OfflineVerifier(hashing, OfflineThresholds(acceptance="learned"))
    # A weights file that names no embedder applies to any (the hand-made ones above).
    anyone = OfflineVerifier(hashing, OfflineThresholds(acceptance="auto", acceptance_weights=str(_weights(tmp_path))))
    assert anyone.model is not None
