"""The offline engine's parts on hand-made evidence: answer typing, spans, extraction, comparisons,
claims, verification and composition. No index, no model: milliseconds."""

from __future__ import annotations

import pytest

from graphs.roles.base import Plan
from graphs.roles.offline.composer import OfflineComposer
from graphs.roles.offline.planner import OfflinePlanner
from graphs.roles.offline.solver import OfflineSolver
from graphs.roles.offline.statements import statement
from graphs.roles.offline.verifier import OfflineVerifier, lexical_check
from graphs.state import EvidenceItem, SentenceRef, Subgoal
from graphs.text.answer_types import answer_type
from graphs.text.dates import parse_date
from graphs.text.spans import candidate_spans
from policies.limits import Limits


def ev(title: str, *sentences: str, doc: str = "", sims: list[float] | None = None) -> EvidenceItem:
    """One retrieved paragraph ('# Title' then the sentences), as the retrieve node builds it."""
    refs: list[SentenceRef] = []
    pos = len(title) + 4
    for i, text in enumerate(sentences):
        ref = SentenceRef(node_id=f"{doc or title}-{i}", text=text, start=pos, end=pos + len(text))
        if sims is not None:
            ref["sim"] = sims[i]
        refs.append(ref)
        pos += len(text) + 1
    return EvidenceItem(
        node_id=f"{doc or title}-leaf",
        doc_id=doc or title,
        text=" ".join(sentences),
        source=f"/docs/{doc or title}.md",
        title=title,
        section=[title],
        level="leaf",
        start=0,
        end=pos,
        score=0.5,
        hop=1,
        query="",
        sentences=refs,
    )


def plan(task: str) -> Plan:
    result, usage = OfflinePlanner().plan(task, limits=Limits(), feedback=[], previous={}, round=0)
    assert usage.llm_calls == 0
    return result


# --------------------------------------------------------------------------- answer types and spans
@pytest.mark.parametrize(
    ("question", "kind", "noun"),
    [
        ("The founder of the studio is based in what Ontario city?", "place", "city"),
        ("Brightwater Mall sits in what county?", "place", "county"),
        ("Glass Lanterns was the first single of a duo that was founded by who?", "person", ""),
        ("What is the name of the anthem of the University of Vestmark?", "entity", "anthem"),
        ("Tomas Lindqvist served during what years?", "date", "years"),
        ("Which company Priya Vandermeer joined as a data analyst?", "org", "company"),
        ("Which Italian physicist wrote it?", "person", "physicist"),
        ("What nationality were Ines Carvalho and Otto Brandl?", "nationality", "nationality"),
        ("The hall can hold how many guests?", "number", "guests"),
        ("Were Lakeside Works and Amber Works both opened before 2018?", "yesno", ""),
        ("Northgate Technical University which opened in what year?", "date", "year"),
    ],
)
def test_answer_type_finds_the_wh_phrase_anywhere(question: str, kind: str, noun: str) -> None:
    at = answer_type(question)
    assert (at.kind, at.noun) == (kind, noun)


def test_candidate_spans_are_typed_and_trimmed() -> None:
    spans = {s.text: s.kind for s in candidate_spans("Mira Okafor was born in Bergen, Norway, in 1979.")}
    assert spans["Mira Okafor"] in ("name", "person") and spans["1979"] == "date"
    assert spans["Bergen"] == "place"
    ranges = {
        s.text
        for s in candidate_spans(
            "It was known as the Coastal League from 1961 to 1974 and the Western Plains Conference."
        )
    }
    assert {"1961 to 1974", "Western Plains Conference"} <= ranges  # a date never swallows the next name
    owners = {s.text: s.kind for s in candidate_spans("He served on Ohio Governor Daniel Whitcombe's Committee.")}
    assert owners.get("Daniel Whitcombe") == "person"
    assert "Sight" not in {s.text for s in candidate_spans("It runs on the iSight iMac.")}


def test_parse_date_orders_full_and_partial_dates() -> None:
    assert parse_date("Lena Hartwick (born October 8, 1970)") == (1970, 10, 8)
    assert parse_date("born 3 June 1865") == (1865, 6, 3)
    assert parse_date("in March 1999") == (1999, 3, 0)
    assert parse_date("no date here") is None


# --------------------------------------------------------------------------- planner
def test_wh_inside_the_relative_clause_makes_the_main_clause_the_bridge() -> None:
    p = plan("Marrow Creek Reservoir lies in a nation that counts how many residents?")
    assert p.kind == "bridge"
    assert [s["query"] for s in p.subgoals] == [
        "Marrow Creek Reservoir lies in which nation?",
        "{s1} counts how many residents?",
    ]
    assert p.subgoals[1]["depends_on"] == ["s1"]


def test_relative_clause_on_the_subject_ends_at_the_main_verb() -> None:
    p = plan("The hockey coach who signed Tobias Renner managed Castleford Rovers during what timeframe?")
    assert [s["query"] for s in p.subgoals] == [
        "Who signed Tobias Renner?",
        "{s1} managed Castleford Rovers during what timeframe?",
    ]


def test_of_chain_and_trailing_predicate() -> None:
    p = plan('The producer of the stage musical "Harbour Lights" is based in what Ontario city?')
    assert p.subgoals[0]["query"] == 'Who is the producer of the stage musical "Harbour Lights"?'
    p = plan("In what year was the queen who opened the 1931 Harbour Charter born?")
    assert [s["query"] for s in p.subgoals] == ["Who opened the 1931 Harbour Charter?", "In what year was {s1} born?"]


def test_question_about_a_named_entity_skips_the_context() -> None:
    p = plan(
        "The 2003–04 Harbor City Hawks hockey team represented Northgate Technical University "
        "which opened in what year?"
    )
    assert p.kind == "lookup" and p.subgoals[0]["query"] == "Northgate Technical University opened in what year?"


def test_comparison_shapes() -> None:
    p = plan("Which band, Paper Harbors or Velvet Static, had more members?")
    assert p.kind == "choice" and p.info["options"] == ["Paper Harbors", "Velvet Static"]
    assert p.info["comparator"] == "max"
    p = plan("Are the Kestane Library and Oduncu Hall located in the same district?")
    assert p.kind == "same" and p.info["options"] == ["Kestane Library", "Oduncu Hall"]
    p = plan("Are both Redrock Regional Airport and Hollis B. Marsh Airfield located in Michigan?")
    assert p.kind == "both" and p.info["property"] == "located in Michigan"
    assert all(s["follow_titles"] for s in p.subgoals)  # each item opens its own page directly


def test_context_clause_and_same_entity_conjunction_are_lookups() -> None:
    p = plan("Corvin plays jazz in Oslo, but which label signed Nova-Kite?")
    assert p.subgoals[0]["query"] == "which label signed Nova-Kite?"
    p = plan("Who was the composer of Rivers Run Uphill Tonight and who retired in 1999?")
    assert p.kind == "lookup" and len(p.subgoals) == 1


def test_replan_avoids_the_answer_a_rejected_claim_rests_on() -> None:
    first = plan("Which public office was held by the actress who played Dana Whitford in Summer Ledger?")
    previous = {
        "s1": Subgoal(**{**first.subgoals[0], "answer": "Carla Moss", "status": "answered", "confidence": 0.4}),
        "s2": Subgoal(**{**first.subgoals[1], "answer": "Senator", "status": "answered", "confidence": 0.5}),
    }
    feedback = ["claim not supported: Carla Moss played Dana Whitford in Summer Ledger."]
    again, _ = OfflinePlanner().plan("q", limits=Limits(), feedback=feedback, previous=previous, round=1)
    by_id = {s["id"]: s for s in again.subgoals}
    assert by_id["r1s1"]["avoid"] == ["Carla Moss"] and by_id["r1s2"]["avoid"] == []
    assert by_id["r1s2"]["query"] == "Which public office was held by {r1s1}?"


def test_replan_of_a_broken_chain_is_one_lookup() -> None:
    first = plan("In which city was the chief executive of the company that makes the Kestrel drone born?")
    previous = {s["id"]: Subgoal(**{**s, "status": "failed"}) for s in first.subgoals}
    task = "In which city was the chief executive of the company that makes the Kestrel drone born?"
    again, _ = OfflinePlanner().plan(task, limits=Limits(), feedback=[], previous=previous, round=1)
    assert again.kind == "lookup" and again.subgoals[0]["query"] == task


# --------------------------------------------------------------------------- solver
KESTREL = [
    ev(
        "Products",
        "The Kestrel is an inspection drone made by Halden Robotics.",
        "The Kestrel is manufactured at Lakeside Works.",
        sims=[0.8, 0.6],
    ),
    ev("Plants", "Lakeside Works is located in Tampere, Finland.", "Amber Works opened in 2019.", sims=[0.3, 0.2]),
]


def test_extract_picks_a_typed_span_near_the_question_terms() -> None:
    solver = OfflineSolver()
    ex = solver.extract("Which company makes the Kestrel drone?", KESTREL)
    assert ex.answer == "Halden Robotics"
    assert ex.support and "Halden Robotics" in ex.support[0].sent["text"]
    assert solver.extract("In which city is Lakeside Works located?", KESTREL).answer == "Tampere"


def test_extract_avoiding_the_best_answer_gives_a_less_confident_second_choice() -> None:
    solver = OfflineSolver()
    first = solver.extract("Which company makes the Kestrel drone?", KESTREL)
    second = solver.extract("Which company makes the Kestrel drone?", KESTREL, avoid=[first.answer])
    assert second.answer and second.answer != first.answer
    assert second.confidence < first.confidence


def test_entity_focus_prefers_the_page_of_the_entity_asked_about() -> None:
    evidence = [
        ev("Lantern (band)", "Lantern is a Finnish pop trio formed in 2013 by Orbit Entertainment.", sims=[0.6]),
        ev("Other band", "Skyline is a pop trio formed in 2014 by K. Wave Camp.", sims=[0.7]),
    ]
    assert OfflineSolver().extract("Lantern was formed by who?", evidence).answer == "Orbit Entertainment"


def test_read_asks_for_a_hop_naming_entities_when_unsure_and_never_repeats_one() -> None:
    solver = OfflineSolver()
    sg = Subgoal(id="s1", query="Who founded the lab?", kind="lookup", queries=[], hops=1)
    evidence = [
        ev("Lab", "The lab works with Nordhav Subsea.", "Its partners include Lumetra Optics.", sims=[0.2, 0.2]),
        ev("Fund", "The fund backs Aster Labs.", "Its board includes Kari Dahl.", sims=[0.2, 0.2]),
    ]
    reading, usage = solver.read("task", sg, "Who founded the lab?", evidence, last_hop=False)
    assert usage.llm_calls == 0
    assert reading.follow_query and reading.follow_titles
    sg["queries"] = ["Who founded the lab?", reading.follow_query]
    again, _ = solver.read("task", sg, reading.follow_query, evidence, last_hop=False)
    assert again.follow_query is None
    last, _ = solver.read("task", sg, "Who founded the lab?", evidence, last_hop=True)
    assert last.follow_query is None


def test_finalize_bridge_states_each_step_as_a_cited_claim() -> None:
    solver = OfflineSolver()
    s1 = Subgoal(id="s1", query="Which company makes the Kestrel drone?", kind="lookup", depends_on=[], round=0)
    s1.update(answer="Halden Robotics", status="answered", confidence=0.6, support=["Products-0"])
    s2 = Subgoal(id="s2", query="In which city is {s1} based?", kind="bridge", depends_on=["s1"], round=0)
    s2.update(answer="Oslo", status="answered", confidence=0.5, support=["HQ-0"])
    evidence = {"s1": KESTREL, "s2": [ev("HQ", "Halden Robotics is based in Oslo.", doc="HQ")]}
    draft, _ = solver.finalize("task", "bridge", {"final": "s2"}, {"s1": s1, "s2": s2}, evidence)
    assert draft["short_answer"] == "Oslo"
    assert [c["text"] for c in draft["claims"]] == [
        "Halden Robotics makes the Kestrel drone.",
        "Halden Robotics is based in Oslo.",
    ]
    assert all(c["citations"][0]["quote"] for c in draft["claims"])


@pytest.mark.parametrize(
    ("task", "info", "texts", "expected"),
    [
        (
            "Who is older, Lena Hartwick or Paul Dremmer?",
            {"options": ["Lena Hartwick", "Paul Dremmer"], "comparator": "min", "attribute": "is older"},
            [
                "Lena Hartwick (born October 8, 1970) is an American model.",
                "Paul Dremmer (born August 14, 1965) is a photographer.",
            ],
            "Paul Dremmer",
        ),
        (
            "Which has a longer flight time, the Kestrel or the Harrier?",
            {"options": ["Kestrel", "Harrier"], "comparator": "max", "attribute": "has a longer flight time"},
            [
                "The Kestrel has a maximum flight time of 55 minutes.",
                "The Harrier has a maximum flight time of 42 minutes.",
            ],
            "Kestrel",
        ),
        (
            "Which poet came from England, Arthur Penhallow or Edmund Carey Lisle?",
            {
                "options": ["Arthur Penhallow", "Edmund Carey Lisle"],
                "comparator": None,
                "attribute": "poet came from England",
            },
            ["Arthur Penhallow was an American novelist.", "Edmund Carey Lisle was a British poet."],
            "Edmund Carey Lisle",
        ),
    ],
)
def test_choice_compares_extracted_attributes(
    task: str, info: dict[str, object], texts: list[str], expected: str
) -> None:
    options = list(info["options"])  # type: ignore[call-overload]
    subgoals = [
        Subgoal(id=f"s{i + 1}", query=f"{o} {info['attribute']}?", kind="compare_item") for i, o in enumerate(options)
    ]
    evidence = {f"s{i + 1}": [ev(o, t, doc=o)] for i, (o, t) in enumerate(zip(options, texts, strict=True))}
    draft, _ = OfflineSolver().finalize(task, "choice", info, {s["id"]: s for s in subgoals}, evidence)
    assert draft["short_answer"] == expected
    assert len(draft["claims"]) == 2  # both sides of the comparison are cited


@pytest.mark.parametrize(
    ("kind", "prop", "texts", "expected"),
    [
        (
            "both",
            "located in Michigan",
            ["Redrock Airport is in Pine County, Nevada.", "Marsh Airport is near Lowell, Michigan."],
            "no",
        ),
        (
            "both",
            "based in the United States",
            ["Static Bloom is an American rock band.", "Half Measure is a band from Kearney, Nebraska."],
            "yes",
        ),
        ("both", "opened before 2018", ["Lakeside Works opened in 2016.", "Amber Works opened in 2019."], "no"),
        (
            "same",
            "of the same nationality",
            ["Nadia Roos is an American director.", "Colm Barry was an American filmmaker."],
            "yes",
        ),
        (
            "same",
            "the same tier of city",
            ["Lanzhi is a prefecture-level city.", "Beiquan is a county-level city."],
            "no",
        ),
    ],
)
def test_yes_no_by_attributes(kind: str, prop: str, texts: list[str], expected: str) -> None:
    options = [t.split(" is ")[0].split(" was ")[0].split(" opened")[0] for t in texts]
    attribute = prop.split("same ", 1)[1] if "same" in prop else ""
    info = {"options": options, "property": prop, "attribute": attribute}
    subgoals = [Subgoal(id=f"s{i + 1}", query=f"Is {o} {prop}?", kind="yesno_item") for i, o in enumerate(options)]
    evidence = {f"s{i + 1}": [ev(o, t, doc=o)] for i, (o, t) in enumerate(zip(options, texts, strict=True))}
    draft, _ = OfflineSolver().finalize("q", kind, info, {s["id"]: s for s in subgoals}, evidence)
    assert draft["short_answer"] == expected


def test_statements_turn_questions_into_checkable_claims() -> None:
    assert statement("In which city was Mira Okafor born?", "Bergen") == "Mira Okafor was born in Bergen."
    assert statement("Who is the chief executive of Halden Robotics?", "Mira Okafor") == (
        "Mira Okafor is the chief executive of Halden Robotics."
    )
    assert statement("Brightwater Mall sits in what county?", "Pine County") == (
        "Brightwater Mall sits in Pine County."
    )


# --------------------------------------------------------------------------- verifier
@pytest.mark.parametrize(
    ("claim", "evidence", "verdict"),
    [
        ("Mira Okafor was born in Bergen in 1979.", "Mira Okafor was born in Bergen, Norway, in 1979.", "ok"),
        ("Mira Okafor was born in Bergen in 1981.", "Mira Okafor was born in Bergen, Norway, in 1979.", "contradicted"),
        ("It finished 2–9 in league play.", "It finished 3–9 and 2–6 in league play.", "contradicted"),
        (
            "He was mayor from 6 January 1922.",
            "He was mayor from 6 May 1922 until his death in January 1936.",
            "contradicted",
        ),
        ("Mira Okafor was not born in Bergen.", "Mira Okafor was born in Bergen, Norway, in 1979.", "contradicted"),
        ("Tomas Lindqvist was born in Bergen.", "Mira Okafor was born in Bergen, Norway, in 1979.", "contradicted"),
        ("I Can't Stay Awake reached number 1.", "It reached number 1 in the United Kingdom.", "ok"),
    ],
)
def test_lexical_checks_catch_what_similarity_misses(claim: str, evidence: str, verdict: str) -> None:
    context = "I Can't Stay Awake" if claim.startswith("I Can't") else ""
    hint, reasons, _coverage = lexical_check(claim, evidence, context)
    assert hint == verdict, reasons


def test_judge_uses_headings_only_for_pronouns_and_needs_coverage() -> None:
    verifier = OfflineVerifier()
    assert (
        verifier.judge("Dana Whitford served as Chief Archivist.", ["She served as Chief Archivist."], "Dana Whitford")[
            0
        ]
        == "supported"
    )
    assert verifier.judge("The lab is in Oslo.", [])[0] == "not_enough_evidence"
    verdict, _conf, reasons = verifier.judge(
        "Halden Robotics sells boats in Chile.", ["The Kestrel is an inspection drone."]
    )
    assert verdict != "supported" and reasons


# --------------------------------------------------------------------------- composer
def test_composer_justifies_with_cited_evidence_sentences() -> None:
    cite = {"source": "a.md", "section": ["A"], "node_id": "n1", "start": 0, "end": 10}
    claims = [
        {
            "text": "Halden Robotics makes the Kestrel.",
            "verdict": "supported",
            "citations": [{**cite, "quote": "The Kestrel is made by Halden Robotics."}],
        },
        {
            "text": "Mira Okafor was born in Bergen.",
            "verdict": "supported",
            "citations": [{**cite, "node_id": "n2", "quote": "Mira Okafor was born in Bergen."}],
        },
        {
            "text": "Bergen is in Peru.",
            "verdict": "contradicted",
            "citations": [{**cite, "node_id": "n3", "quote": "Bergen is in Norway."}],
        },
    ]
    out, _ = OfflineComposer().compose("q", {"short_answer": "Bergen", "missing": []}, {"claims": claims}, "verified")  # type: ignore[typeddict-item]
    first, justification, flagged = out["answer"].split("\n")
    assert first == "Bergen [2]."
    assert justification == "The Kestrel is made by Halden Robotics. [1] Mira Okafor was born in Bergen. [2]"
    assert "Bergen is in Norway" not in out["answer"] and "Left out 1 claim" in flagged
    assert {c["node_id"] for c in out["citations"]} == {"n1", "n2"}


def test_a_claim_joining_two_pages_cites_a_sentence_from_each() -> None:
    solver = OfflineSolver()
    sg = Subgoal(
        id="s1",
        query="Halden Robotics was founded by which engineer who designed the Kestrel drone?",
        kind="lookup",
        depends_on=[],
        round=0,
    )
    sg.update(answer="Mira Okafor", status="answered", confidence=0.6, support=["Halden Robotics-0"])
    evidence = {
        "s1": [
            ev("Halden Robotics", "Halden Robotics was founded by Mira Okafor in 2011.", sims=[0.7]),
            ev("Mira Okafor", "Mira Okafor is an engineer who designed the Kestrel drone.", sims=[0.6]),
            ev("Lakeside Works", "Lakeside Works opened in 2016.", sims=[0.2]),
            ev("Kestrel", "The Kestrel drone was not designed by an engineer of Halden Robotics.", sims=[0.8]),
        ]
    }
    draft, _ = solver.finalize("task", "lookup", {}, {"s1": sg}, evidence)
    cited = [c["source"] for c in draft["claims"][0]["citations"]]
    # Not the unrelated page, nor the negated sentence that shares the claim's words.
    assert cited == ["/docs/Halden Robotics.md", "/docs/Mira Okafor.md"]


def test_a_page_title_names_the_subject_for_entities_only() -> None:
    claim = "45 is the default of the Quillon --timeout option."
    quote = "The `--timeout` option defaults to 45 seconds."
    assert lexical_check(claim, quote)[0] != "ok"  # the quote alone does not name Quillon
    assert lexical_check(claim, quote, titles="Quillon command line")[0] == "ok"
    # The title is no evidence for a number: a value only the title holds is still missing.
    assert lexical_check("Quillon 3 keeps 60 backups.", "It keeps backups.", titles="Quillon 3")[0] != "ok"
