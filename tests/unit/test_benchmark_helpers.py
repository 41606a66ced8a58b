"""The benchmarks' own logic (perturbations, paraphrases, scoring) on tiny inputs: what the numbers in
benchmarks/RESULTS.md rest on."""

from __future__ import annotations

import random

from agent import Citation, RunResult
from agent.results import TraceEvent
from benchmarks.agent import _sentence_match, first_sentence, score_run
from benchmarks.verifier import entity_type, negate, paraphrase, swap_entity, swap_number


def test_paraphrase_resolves_the_pronoun_and_moves_a_leading_date() -> None:
    assert paraphrase("He was born in Bergen (Norway).", "Mira Okafor (engineer)") == "Mira Okafor was born in Bergen."
    assert paraphrase("In 1990, the band released an album.", "X") == "the band released an album in 1990."


def test_perturbations_change_exactly_what_they_say() -> None:
    rng = random.Random(0)
    kind, claim = swap_number("The Kestrel was launched in 2017.", rng) or ("", "")
    assert kind == "date_swap" and "2017" not in claim and claim.startswith("The Kestrel was launched in ")
    kind, claim = swap_number("The plant employs 420 people.", rng) or ("", "")
    assert kind == "number_swap" and "420" not in claim
    assert swap_number("No numbers here.", rng) is None
    assert negate("The Harrier is a drone.") == "The Harrier is not a drone."
    assert negate("Halden Robotics founded the lab.") == "Halden Robotics never founded the lab."
    pool = {"person": ["Ada Lovelace", "Alan Turing"]}
    swapped = swap_entity("Alan Turing was born in London.", "Alan Turing", pool, {"Alan Turing": "person"}, rng)
    assert swapped == "Ada Lovelace was born in London."


def test_entity_type_reads_the_opening_sentence() -> None:
    assert entity_type("Lena Hartwick (born October 8, 1970) is an American model.") == "person"
    assert entity_type("Beiquan is a county-level city in Fujian.") == "place"
    assert entity_type("Summer Ledger is a 1947 American comedy film.") == "work"


def test_sentence_matching_and_run_scoring() -> None:
    assert _sentence_match(
        "Mira Okafor was born in Bergen, Norway, in 1979.", " Mira Okafor was born in Bergen, Norway, in 1979."
    )
    assert not _sentence_match("Mira Okafor was born.", "Tomas Lindqvist was born in Uppsala, Sweden, in 1977.")
    assert first_sentence("# Title\n\nFirst one. Second one.") == "First one."
    record = {
        "answer": "Bergen",
        "supporting_facts": {"title": ["Mira", "Halden"], "sent_id": [0, 0]},
        "context": {"title": ["Mira", "Halden"], "sentences": [["Mira was born in Bergen."], ["Halden makes drones."]]},
    }
    result = RunResult(
        answer="Bergen [1].",
        short_answer="bergen",
        halt_reason="verified",
        citations=[Citation(source="/x/mira.md", quote="Mira was born in Bergen.")],
        trace=[TraceEvent(node="retrieve", detail={"sources": ["/x/mira.md", "/x/other.md"]})],
    )
    row = score_run(record, result, {"mira.md": "Mira", "other.md": "Other"})
    assert (row["em"], row["f1"]) == (1.0, 1.0)
    assert (row["sp_precision"], row["sp_recall"]) == (1.0, 0.5)
    assert (row["evidence_recall"], row["evidence_both"], row["paragraphs_retrieved"]) == (0.5, 0.0, 2)
    assert (row["paragraphs_cited"], row["chars_cited"]) == (1, len("Mira was born in Bergen."))
