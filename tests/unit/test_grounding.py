"""Question grounding in the offline verifier: the answer and what was asked must meet in one entry.
Invented API pages and paragraphs only."""

from __future__ import annotations

from graphs.roles.offline.grounding import (
    asked_terms,
    carried,
    counted_kinds,
    ground,
    index_items,
    named_terms,
    sibling_of_asked,
    terms,
)
from graphs.roles.offline.verifier import OfflineVerifier
from graphs.state import CitationDict, ClaimDict, Draft, EvidenceItem, SentenceRef


def entry(doc: str, section: list[str], *sentences: str, title: str = "") -> EvidenceItem:
    """One retrieved entry: its sentences, under a heading path, in document `doc`."""
    refs = []
    pos = 0
    for i, text in enumerate(sentences):
        refs.append(SentenceRef(node_id=f"{doc}:{section[-1]}:{i}", text=text, start=pos, end=pos + len(text)))
        pos += len(text) + 1
    return EvidenceItem(
        node_id=f"{doc}:{section[-1]}",
        doc_id=doc,
        text=" ".join(sentences),
        source=f"/docs/{doc}.html",
        title=title or section[0],
        section=section,
        level="leaf",
        start=0,
        end=pos,
        score=1.0,
        hop=0,
        query="",
        sentences=refs,
    )


def cite(item: EvidenceItem, i: int) -> CitationDict:
    sent = item["sentences"][i]
    return CitationDict(
        source=item["source"],
        section=list(item["section"]),
        quote=sent["text"],
        node_id=sent["node_id"],
        start=sent["start"],
        end=sent["end"],
    )


# An invented API reference: two neighbouring entries of the "tidewater" library.
FLUSH = entry(
    "tidewater-api",
    ["API", "tidewater.flush_queue(timeout=30)"],
    "Writes every pending message of the outbound queue to disk and returns their count.",
)
SPOOL = entry(
    "tidewater-api",
    ["API", "tidewater.spool_path()"],
    "Returns the folder where the spool files are kept.",
)
QUEUE_NOTE = entry(
    "tidewater-guide",
    ["Guide", "Queues"],
    "Every pending message of the outbound queue waits until it is written to disk.",
)


def test_terms_split_compound_identifiers() -> None:
    assert {"flush", "queue"} <= terms("tidewater.flush_queue(timeout=30)")
    assert {"tool", "sync"} <= terms("tool-sync(1) Manual Page")


def test_carried_picks_the_longest_answer_the_text_names() -> None:
    assert carried(["flush_queue", "tidewater.flush_queue"], "tidewater.flush_queue writes …") == (
        "tidewater.flush_queue"
    )
    assert carried(["spool_path"], "Nothing about it here.") == ""


def test_the_answers_own_entry_stating_the_question_grounds_it() -> None:
    claim = ClaimDict(
        text="tidewater.flush_queue writes every pending message of the outbound queue to disk.",
        citations=[cite(FLUSH, 0)],
    )
    asked = asked_terms("Which tidewater function writes every pending message of the outbound queue to disk?")
    g = ground(asked, "tidewater.flush_queue", claim, index_items({"s1": [FLUSH]}))
    assert g.anchored and g.share == 1.0


def test_a_neighbouring_entry_plus_a_sentence_repeating_the_question_is_not_grounded() -> None:
    # The page that documents the answer is missing: a neighbouring entry names "spool_path", and a
    # guide sentence repeats the question's words. Together they cover the claim; apart, neither
    # entry says that spool_path does what was asked.
    task = "Which tidewater function writes every pending message of the outbound queue to disk?"
    claim = ClaimDict(
        text="tidewater.spool_path writes every pending message of the outbound queue to disk.",
        citations=[cite(SPOOL, 0), cite(QUEUE_NOTE, 0)],
    )
    draft = Draft(short_answer="tidewater.spool_path", claims=[claim], confidence=0.9)
    report, _ = OfflineVerifier().verify(task, draft, {"s1": [SPOOL, QUEUE_NOTE]})
    verdict = report["claims"][0]
    assert verdict["verdict"] == "not_enough_evidence"
    assert any("does not state what was asked" in r for r in verdict["reasons"])
    assert not report["passed"]


def test_the_same_claim_on_the_entry_that_documents_it_passes() -> None:
    task = "Which tidewater function writes every pending message of the outbound queue to disk?"
    claim = ClaimDict(
        text="tidewater.flush_queue writes every pending message of the outbound queue to disk.",
        citations=[cite(FLUSH, 0)],
    )
    draft = Draft(short_answer="tidewater.flush_queue", claims=[claim], confidence=0.9)
    report, _ = OfflineVerifier().verify(task, draft, {"s1": [FLUSH, SPOOL]})
    assert report["claims"][0]["verdict"] == "supported"
    assert report["passed"]


def test_a_bridge_joins_the_answers_paragraph_to_the_page_that_names_it() -> None:
    # Page A names the Korvel Foundry; page B (the Korvel Foundry's own page) gives the answer.
    founder = entry(
        "Ilsa Marrow",
        ["Ilsa Marrow"],
        "Ilsa Marrow was a glass engraver who trained at the Korvel Foundry.",
    )
    foundry = entry("Korvel Foundry", ["Korvel Foundry"], "The Korvel Foundry was established in Dunmere.")
    task = "In which town was the foundry where Ilsa Marrow trained as a glass engraver established?"
    claim = ClaimDict(
        text="The foundry where Ilsa Marrow trained as a glass engraver was established in Dunmere.",
        citations=[cite(foundry, 0), cite(founder, 0)],
    )
    items = index_items({"s1": [founder, foundry]})
    g = ground(asked_terms(task), "Dunmere", claim, items)
    assert g.share == 1.0
    # Without the link (a page that does not name the foundry) the answer's paragraph alone is short.
    stranger = entry("Other Page", ["Other Page"], "Ilsa Marrow trained as a glass engraver.")
    unlinked = ClaimDict(text=claim["text"], citations=[cite(foundry, 0), cite(stranger, 0)])
    assert ground(asked_terms(task), "Dunmere", unlinked, index_items({"s1": [stranger, foundry]})).share < 0.7


def test_an_enumeration_item_from_an_unrelated_entry_is_not_grounded() -> None:
    # Enumeration claims are the item's own sentence: checked against the task, not against itself.
    task = "List the two compression levels tidewater accepts."
    unrelated = entry("tidewater-api", ["API", "tidewater.Spooler"], "A Spooler keeps messages in memory.")
    claim = ClaimDict(text=unrelated["sentences"][0]["text"], citations=[cite(unrelated, 0)])
    draft = Draft(short_answer="Spooler", claims=[claim], items=["Spooler"], confidence=0.9)
    report, _ = OfflineVerifier().verify(task, draft, {"s1": [unrelated]})
    assert report["claims"][0]["verdict"] == "not_enough_evidence"


def test_frame_words_of_a_list_question_are_not_asked_of_the_entry() -> None:
    levels = entry(
        "tidewater-api",
        ["API", "Compression levels"],
        "The accepted compression levels are fast and small.",
    )
    claim = ClaimDict(text=levels["sentences"][0]["text"], citations=[cite(levels, 0)])
    g = ground(
        asked_terms("List the two compression levels tidewater accepts."), "fast", claim, index_items({"s": [levels]})
    )
    # "list" and "two" are not asked; of compression, level, tidewater, accept the entry states three.
    assert g.share == 0.75


def test_asked_terms_leave_out_the_wh_head_noun_and_frame_words() -> None:
    asked = asked_terms("Which tidewater function writes the queue to disk?")
    assert "function" not in asked and terms("tidewater queue disk") <= asked
    assert "three" not in asked_terms("Name the three levels tidewater accepts.")


def test_an_entry_about_a_sibling_of_what_the_question_names_counts_for_nothing() -> None:
    # "tool sync" asked; the window's page is tool-push: same family, another member.
    assert sibling_of_asked("Which tool sync option skips hidden files?", "tool-push(1) Manual Page > OPTIONS") == (
        "tool-push"
    )
    assert sibling_of_asked("Which tool sync option skips hidden files?", "tool-sync(1) Manual Page > OPTIONS") == ""
    # "which tidewater function": a kind of thing, not a member; and naming the member anywhere after
    # the family's name (a bridge through two members) is enough.
    assert sibling_of_asked("Which tidewater function flushes the queue?", "tidewater.flush_queue()") == ""
    assert sibling_of_asked("tool sync --dry-run prints what which tool push option would send?", "tool-push(1)") == ""
    push = entry(
        "tool-push",
        ["tool-push(1) Manual Page", "OPTIONS", "--skip-hidden"],
        "Skips hidden files when sending the tree.",
    )
    claim = ClaimDict(text="--skip-hidden skips hidden files.", citations=[cite(push, 0)])
    task = "Which tool sync option skips hidden files?"
    g = ground(asked_terms(task), "--skip-hidden", claim, index_items({"s": [push]}), question=task)
    assert g.share == 0.0 and g.sibling == "tool-push"


def test_a_namespace_is_a_family_only_where_the_question_joins_its_member() -> None:
    # "Tidewater formats …" names the package; `tidewater.Spool` is not a sibling of a "formats" member.
    assert sibling_of_asked("How wide does Tidewater format its report?", "tidewater.Spool(width=72)") == ""
    assert sibling_of_asked("What does tidewater.flush_queue return?", "tidewater.Spool") == "tidewater-spool"
    # A command family is written with a space: "tool sync" still names the member `sync`.
    assert sibling_of_asked("Which tool sync option skips hidden files?", "tool-push(1)") == "tool-push"


def test_names_the_question_mentions_weigh_double() -> None:
    assert named_terms("Which Tidewater class spools messages to disk?") == terms("Tidewater")
    assert {"tidewater.flush_queue", "flush", "queue"} <= named_terms("What does tidewater.flush_queue return?")
    other = entry("harbor-api", ["API", "harbor.Spooler"], "A Spooler keeps messages on disk until they are sent.")
    claim = ClaimDict(text="harbor.Spooler spools messages to disk.", citations=[cite(other, 0)])
    task = "Which Tidewater class spools messages to disk?"
    # "spools" is the answer's own word; messages and disk are found, the named "Tidewater" (weight 2)
    # is not: 2 of 4.
    g = ground(asked_terms(task), "harbor.Spooler", claim, index_items({"s": [other]}), question=task)
    assert g.share == 0.5 and terms("tidewater") <= set(g.missing)


def test_a_longer_or_shorter_form_of_a_word_matches_but_identifiers_match_whole() -> None:
    cfg = entry("tw", ["API", "tidewater.config_dir()"], "Returns the config folder of the application.")
    claim = ClaimDict(text="tidewater.config_dir returns the configuration folder.", citations=[cite(cfg, 0)])
    task = "Which helper returns the configuration folder of the application?"
    assert ground(asked_terms(task), "tidewater.config_dir", claim, index_items({"s": [cfg]})).share == 1.0
    task = "What does tidewater.config_path return?"
    g = ground(asked_terms(task), "folder", claim, index_items({"s": [cfg]}), question=task)
    assert "tidewater.config_path" in g.missing


def test_the_counted_noun_of_a_list_question_weighs_half() -> None:
    assert counted_kinds("List the four compression modes of tidewater.") == terms("compression modes")
    assert counted_kinds("Name the two exception bases tidewater has.") == terms("exception bases")
    fast = entry("tw", ["tidewater(1) Manual Page", "DESCRIPTION", "--fast"], "Trades size for speed.")
    claim = ClaimDict(text="--fast", citations=[cite(fast, 0)])
    task = "List the four compression modes of tidewater."
    # tidewater found (weight 1); compression, mode (half each) not: 1 of 2.
    g = ground(asked_terms(task), "--fast", claim, index_items({"s": [fast]}), question=task)
    assert g.share == 0.5


def test_a_life_span_states_birth_and_death() -> None:
    person = entry("Oren Valdis", ["Oren Valdis"], "Oren Valdis (4 May 1871 – 2 June 1933) was a Norvish cartographer.")
    claim = ClaimDict(text="Oren Valdis was born in 1871.", citations=[cite(person, 0)])
    task = "In which year was the cartographer Oren Valdis born?"
    g = ground(asked_terms(task), "1871", claim, index_items({"s": [person]}), question=task)
    assert g.share == 1.0
    bare = entry("Oren Valdis", ["Oren Valdis"], "Oren Valdis drew the 1871 coastal charts.")
    claim = ClaimDict(text="Oren Valdis was born in 1871.", citations=[cite(bare, 0)])
    assert "born" in ground(asked_terms(task), "1871", claim, index_items({"s": [bare]}), question=task).missing


def test_two_pages_that_each_name_one_of_the_askeds_join_but_neighbours_do_not() -> None:
    a = entry("Ivo Stenmark", ["Ivo Stenmark"], "Ivo Stenmark is a Norvish cinematographer.")
    b = entry("Lena Oduya", ["Lena Oduya"], "Lena Oduya worked as a cinematographer in Lagos.")
    task = "What occupation do Ivo Stenmark and Lena Oduya share?"
    claim = ClaimDict(text="Ivo Stenmark and Lena Oduya share cinematographer.", citations=[cite(a, 0), cite(b, 0)])
    g = ground(asked_terms(task), "cinematographer", claim, index_items({"s": [a, b]}), question=task)
    assert g.share >= 0.8
    # Two entries naming the answer, neither naming what the question asks about, do not add up.
    n1 = entry("tw", ["API", "tidewater.open_spool()"], "Opens the spool before a message is written.")
    n2 = entry("tw", ["API", "tidewater.close_spool()"], "Closes the spool after the queue is flushed to disk.")
    task = "Which function writes every pending queue message to disk?"
    claim = ClaimDict(text="Spool writes every pending queue message to disk.", citations=[cite(n1, 0), cite(n2, 0)])
    assert ground(asked_terms(task), "spool", claim, index_items({"s": [n1, n2]}), question=task).share < 0.7


def test_a_qualified_name_is_stated_by_its_member_and_qualifier() -> None:
    rows = entry("tw", ["API", "class tidewater.Sheet", "iter_rows(size=512)"], "Yields the sheet's rows in order.")
    book = entry("tw", ["API", "class tidewater.Book", "iter_rows(size=64)"], "Yields the book's rows in order.")
    task = "What does Sheet.iter_rows yield?"
    claim = ClaimDict(text="Sheet.iter_rows yields the rows in order.", citations=[cite(rows, 0)])
    g = ground(asked_terms(task), "rows in order", claim, index_items({"s": [rows]}), question=task)
    assert "sheet.iter_row" not in g.missing
    claim = ClaimDict(text="Sheet.iter_rows yields the rows in order.", citations=[cite(book, 0)])
    g = ground(asked_terms(task), "rows in order", claim, index_items({"s": [book]}), question=task)
    assert "sheet.iter_row" in g.missing  # the member alone, under another class, is not it


def test_a_signature_states_a_default_by_notation() -> None:
    rows = entry("tw", ["API", "tidewater.read_rows(batch=256)"], "Reads rows from the sheet in batches.")
    task = "What is the default batch of tidewater.read_rows?"
    claim = ClaimDict(text="In tidewater.read_rows, batch = 256.", citations=[cite(rows, 0)])
    g = ground(asked_terms(task), "256", claim, index_items({"s": [rows]}), question=task)
    assert "default" not in g.missing and g.share == 1.0
    g = ground(asked_terms(task), "sheet", claim, index_items({"s": [rows]}), question=task)
    assert "default" in g.missing  # the notation states the default of 256, not of another span


# An invented two-hop chain: page A names the architect, page B (the architect's own page) states
# the office she held, in other words than the question's ("served as" for "held").
MILL = entry(
    "Harrow Mill",
    ["Harrow Mill"],
    "Harrow Mill is a restored grain mill whose 1911 extension was designed by Tamsin Okoro.",
)
OKORO = entry(
    "Tamsin Okoro",
    ["Tamsin Okoro"],
    "Tamsin Okoro was an architect.",
    "In later life she served as Surveyor of the Borough of Wendle.",
)
STRANGER = entry(
    "Wendle Chronicle",
    ["Wendle Chronicle"],
    "The Wendle Chronicle reported that Tamsin Okoro served as Surveyor of the Borough of Wendle.",
)


def _chain(second_cite: CitationDict, evidence: list[EvidenceItem]) -> dict[str, object]:
    task = "What office was held by the architect who designed the extension of Harrow Mill?"
    step1 = ClaimDict(
        text="Tamsin Okoro designed the extension of Harrow Mill.", citations=[cite(MILL, 0)], confidence=0.9
    )
    step2 = ClaimDict(
        text="Surveyor of the Borough of Wendle was held by Tamsin Okoro.", citations=[second_cite], confidence=0.9
    )
    draft = Draft(short_answer="Surveyor of the Borough of Wendle", claims=[step1, step2], confidence=0.9)
    report, _ = OfflineVerifier().verify(task, draft, {"s1": [MILL], "s2": evidence})
    return dict(report["claims"][1])


def test_a_bridge_step_on_the_page_of_the_entity_a_grounded_step_found_is_grounded() -> None:
    claim = _chain(cite(OKORO, 1), [OKORO])
    assert claim["verdict"] == "supported", claim["reasons"]


def test_a_bridge_step_read_off_a_page_about_something_else_keeps_the_usual_rule() -> None:
    # The same sentence on a page that is not the architect's own: no entity chain, "held" is missing.
    claim = _chain(cite(STRANGER, 0), [STRANGER])
    assert claim["verdict"] == "not_enough_evidence"


def test_a_claim_led_by_its_quotes_page_title_names_that_page_subject() -> None:
    from graphs.roles.offline.verifier import led_by_heading

    quote = cite(OKORO, 1)
    assert led_by_heading("Tamsin Okoro: In later life she served as Surveyor of the Borough of Wendle.", quote)
    assert not led_by_heading("Harrow Mill: In later life she served as Surveyor of the Borough of Wendle.", quote)
    task = "Which of the two, Harrow Mill or Tamsin Okoro, served as Surveyor of the Borough of Wendle?"
    claim = ClaimDict(text="Tamsin Okoro: Tamsin Okoro was an architect.", citations=[cite(OKORO, 0)])
    sentence = entry("Tamsin Okoro", ["Tamsin Okoro"], "Other offices followed in Dunmere.")
    led = ClaimDict(text="Tamsin Okoro: Other offices followed in Dunmere.", citations=[cite(sentence, 0)])
    report, _ = OfflineVerifier().verify(
        task, Draft(short_answer="Tamsin Okoro", claims=[claim, led], confidence=0.9), {"s1": [OKORO, sentence]}
    )
    assert report["claims"][1]["verdict"] == "supported", report["claims"][1]["reasons"]


def test_only_the_clause_that_asks_is_asked_of_the_answer() -> None:
    from graphs.text.clauses import asked_clause

    task = "Corvin plays jazz in Oslo, but where does Nova-Kite come from?"
    assert asked_clause(task) == "where does Nova-Kite come from?"
    assert not {"corvin", "jazz", "oslo"} & asked_terms(task)
    assert asked_clause("Where does Nova-Kite come from?") == "Where does Nova-Kite come from?"


ZANZO = entry("Pell Arrow", ["Pell Arrow"], "Pell Arrow, known by his stage name Zanzo, is a magician and adviser.")
ADVISERS = entry("Advising", ["Advising"], "Advising is the practice of helping firms cut their costs.")
SCRAPS = entry("Ledger", ["Ledger"], "A ledger helps firms.", "Costs were cut.")


def test_a_question_may_describe_its_answer_in_words_another_page_states_in_one_sentence() -> None:
    task = "Who was known by his stage name Zanzo and helped firms cut their costs as an adviser?"
    items = index_items({"s1": [ZANZO, ADVISERS, SCRAPS]})
    whole = ClaimDict(text="Pell Arrow …", citations=[cite(ZANZO, 0), cite(ADVISERS, 0)])
    assert ground(asked_terms(task), "Pell Arrow", whole, items, question=task).share == 1.0
    # The same words in bits from two sentences do not join: that is how a wrong window fills up.
    bits = ClaimDict(text="Pell Arrow …", citations=[cite(ZANZO, 0), cite(SCRAPS, 0), cite(SCRAPS, 1)])
    assert ground(asked_terms(task), "Pell Arrow", bits, items, question=task).share < 0.7
    # And not when the answer's own page lacks the name the question asks about.
    other = entry("Dorn Vale", ["Dorn Vale"], "Dorn Vale is a magician and adviser.")
    unnamed = ClaimDict(text="Dorn Vale …", citations=[cite(other, 0), cite(ADVISERS, 0)])
    items = index_items({"s1": [other, ADVISERS]})
    assert ground(asked_terms(task), "Dorn Vale", unnamed, items, question=task).share < 0.7
