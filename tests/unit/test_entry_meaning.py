"""Plain-word how-to questions answered by the entry closest in meaning (`graphs/roles/offline/entry_meaning.py`).

Invented pages (`kilnctl-*(1)` manual pages of a kiln controller, `tenderlib` API entries), read with
the bundled MiniLM the way retrieval hands them to the reader: entries in retrieval order, each
sentence carrying its similarity to the question.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from graphs.roles.offline import OfflineSolver, OfflineVerifier
from graphs.roles.offline.claims import names_itself
from graphs.roles.offline.entry_meaning import (
    EntryChoice,
    EntryMeaning,
    asks_by_meaning,
    chosen_by_meaning,
    defining_support,
    entry_readings,
    page_command,
    read_by_meaning,
)
from graphs.roles.offline.evidence import Ranked
from graphs.state import EvidenceItem, SentenceRef, Subgoal
from policies.offline import OfflineThresholds
from tools.embeddings import Embedder, SentenceTransformerEmbedder

QUESTION = "How do I let the oven cool down slowly after a firing without switching it off at once?"

# Manual pages of an invented kiln controller, (section heading, sentences) each: the answer describes
# the behaviour in other words; a distractor page shares the question's words ("switches … off at once").
RAMP = [
    ("DESCRIPTION", ["Lowers the kiln temperature gradually along a cooling curve after the firing ends."]),
    ("--rate <degrees>", ["Degrees per hour to drop while ramping down."]),
]
OFF = [("DESCRIPTION", ["Switches the kiln off at once, cutting power to the elements."])]
LOG = [("DESCRIPTION", ["Prints the temperatures recorded during past firings."])]
GLAZE = [("DESCRIPTION", ["Lists the glaze recipes stored on the controller."])]

# API entries of an invented library, (heading, sentences) each.
CHIME = ("tenderlib.chime(times=1)", ["Sounds the alert tone.", "Repeats it times times."])
OTHERS = [
    ("tenderlib.wrap_text(text, width=70)", ["Breaks a paragraph into lines no wider than width columns."]),
    ("tenderlib.beep()", ["Rings the terminal bell once."]),
    ("tenderlib.colour(text, fg=None)", ["Returns text wrapped in the escape codes of a foreground colour."]),
]


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return SentenceTransformerEmbedder(device="cpu")


def _item(doc: str, title: str, section: list[str], sentences: list[str], n: int, *, heading: bool) -> EvidenceItem:
    refs = [SentenceRef(node_id=f"{doc}:{n}:h", text=section[-1], start=0, end=len(section[-1]), kind="heading")]
    refs = refs if heading else []
    text = "\n".join(([section[-1]] if heading else []) + sentences)
    for i, s in enumerate(sentences):
        refs.append(SentenceRef(node_id=f"{doc}:{n}:{i}", text=s, start=100 * n + i, end=100 * n + i + len(s)))
    return EvidenceItem(
        node_id=f"{doc}:{n}",
        doc_id=doc,
        text=text,
        source=f"/docs/{doc}.html",
        title=title,
        section=section,
        level="leaf",
        start=100 * n,
        end=100 * n + len(text),
        score=0.0,
        hop=0,
        query=QUESTION,
        sentences=refs,
    )


def retrieved(embedder: Embedder, question: str, entries: Sequence[tuple[str, list[str]]]) -> list[EvidenceItem]:
    """API entries as retrieval returns them: sentences scored against the question, items best first."""
    items = [_item("api", "API", ["API", head], body, n, heading=True) for n, (head, body) in enumerate(entries)]
    return _scored(embedder, question, items)


def _scored(embedder: Embedder, question: str, items: list[EvidenceItem]) -> list[EvidenceItem]:
    texts = [s["text"] for ev in items for s in ev["sentences"]]
    vecs = np.asarray(embedder.embed([question, *texts]))
    sims = iter(vecs[1:] @ vecs[0])
    for ev in items:
        for s in ev["sentences"]:
            s["sim"] = float(next(sims))
    return sorted(items, key=lambda ev: -max(s["sim"] for s in ev["sentences"]))


def page(doc: str, sections: list[tuple[str, list[str]]]) -> list[EvidenceItem]:
    title = f"{doc}(1)"
    return [
        _item(doc, title, [f"{title} Manual Page", head], body, n, heading=head.startswith("-"))
        for n, (head, body) in enumerate(sections)
    ]


def kiln_pool(embedder: Embedder, *pages: tuple[str, list[tuple[str, list[str]]]]) -> list[EvidenceItem]:
    return _scored(embedder, QUESTION, [ev for doc, sections in pages for ev in page(doc, sections)])


def test_the_page_described_in_other_words_is_chosen_over_one_sharing_the_questions_words(minilm: Embedder) -> None:
    evidence = kiln_pool(
        minilm, ("kilnctl-off", OFF), ("kilnctl-ramp", RAMP), ("kilnctl-log", LOG), ("kilnctl-glaze", GLAZE)
    )
    choice = EntryMeaning(minilm).choose(QUESTION, evidence)
    assert choice is not None
    assert choice.name == "kilnctl-ramp"
    assert choice.entries == 4
    assert choice.accepted, (choice.margin, choice.sentence_lead)


def test_a_pool_without_the_answer_is_declined(minilm: Embedder) -> None:
    evidence = kiln_pool(minilm, ("kilnctl-off", OFF), ("kilnctl-log", LOG), ("kilnctl-glaze", GLAZE))
    choice = EntryMeaning(minilm).choose(QUESTION, evidence)
    assert choice is not None and not choice.accepted
    assert read_by_meaning(EntryMeaning(minilm), QUESTION, evidence) is None


def test_a_lone_entry_has_no_runner_up_to_be_ahead_of(minilm: Embedder) -> None:
    choice = EntryMeaning(minilm).choose(QUESTION, kiln_pool(minilm, ("kilnctl-ramp", RAMP)))
    assert choice is not None and choice.entries == 1 and not choice.accepted


def test_an_api_entry_is_read_by_its_heading_and_body_and_cited_to_both(minilm: Embedder) -> None:
    question = "How can my tool break a long paragraph into short lines?"
    readings = entry_readings(retrieved(minilm, question, [*OTHERS, CHIME]))
    assert {r.entry.name for r in readings} == {
        "tenderlib.wrap_text",
        "tenderlib.beep",
        "tenderlib.colour",
        "tenderlib.chime",
    }
    chime = next(r for r in readings if r.entry.name == "tenderlib.chime")
    assert chime.text == "tenderlib.chime(times=1): Sounds the alert tone. Repeats it times times."
    support = defining_support(EntryChoice(chime, 0.5, 0.2, 0.1, 4, accepted=True))
    assert [r.sent.get("kind", "sentence") for r in support] == ["sentence", "heading"]
    assert support[1].sent["text"] == "tenderlib.chime(times=1)"


def test_only_plain_word_how_to_questions_are_read_by_meaning() -> None:
    assert asks_by_meaning(QUESTION)
    assert not asks_by_meaning("How do I use --rate with the kiln controller?")  # spells a flag
    assert not asks_by_meaning("What does tenderlib.beep do?")  # spells an identifier
    assert not asks_by_meaning("What is the default width of wrap_text?")  # a value question


def test_a_manual_page_is_one_entry_named_by_its_command(minilm: Embedder) -> None:
    ramp = page("kilnctl-ramp", RAMP)
    readings = entry_readings(kiln_pool(minilm, ("kilnctl-ramp", RAMP), ("kilnctl-log", LOG)))
    assert sorted(r.entry.name for r in readings) == ["kilnctl-log", "kilnctl-ramp"]
    whole = next(r for r in readings if r.entry.name == "kilnctl-ramp")
    assert len(whole.items) == 2 and whole.text.startswith("kilnctl-ramp: Lowers the kiln")
    assert page_command("kilnctl-ramp(1)") == "kilnctl-ramp"
    assert page_command("Kiln controller guide") is None
    # The page's title names its command for a claim only with the switch (the default reader is main's).
    description = Ranked(0.5, ramp[0]["sentences"][0], ramp[0], 0)
    assert not names_itself(description, "kilnctl-ramp")
    assert names_itself(description, "kilnctl-ramp", pages=True)


def test_the_verifier_grounds_the_answer_by_meaning_only_when_switched_on(minilm: Embedder) -> None:
    evidence = kiln_pool(
        minilm, ("kilnctl-off", OFF), ("kilnctl-ramp", RAMP), ("kilnctl-log", LOG), ("kilnctl-glaze", GLAZE)
    )
    on = OfflineThresholds(entry_meaning=True)
    assert OfflineSolver(on, minilm).extract(QUESTION, evidence).answer == "kilnctl-ramp"
    sg = Subgoal(id="s1", query=QUESTION, kind="lookup", queries=[QUESTION])
    reading, _ = OfflineSolver(on, minilm).read(QUESTION, sg, QUESTION, evidence, last_hop=True)
    sg.update(answer=reading.answer, confidence=reading.confidence, support=reading.support, status="answered")
    draft, _ = OfflineSolver(on, minilm).finalize(QUESTION, "lookup", {}, {"s1": sg}, {"s1": evidence})
    assert draft["short_answer"] == "kilnctl-ramp"
    assert draft["claims"][0]["text"].startswith("kilnctl-ramp: Lowers the kiln")
    report, _ = OfflineVerifier(minilm, on).verify(QUESTION, draft, {"s1": evidence})
    assert report["passed"], report["claims"]
    assert chosen_by_meaning(EntryMeaning(minilm), QUESTION, "kilnctl-ramp", {"s1": evidence})
    assert not chosen_by_meaning(EntryMeaning(minilm), QUESTION, "kilnctl-off", {"s1": evidence})
    # Without the switch the verifier asks the question's words of the entry, which it does not state.
    off, _ = OfflineVerifier(minilm, OfflineThresholds()).verify(QUESTION, draft, {"s1": evidence})
    assert not off["passed"]
