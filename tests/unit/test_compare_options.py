"""Comparisons decide from each option's own text, or not at all. Invented pages only."""

from __future__ import annotations

from graphs.roles.offline.compare import choose, names_option, unread_options, yes_no
from graphs.roles.offline.evidence import Ranked
from graphs.state import EvidenceItem, PlanInfo, SentenceRef


def ranked(title: str, text: str, score: float = 1.0) -> Ranked:
    sent = SentenceRef(node_id=f"{title}:0", text=text, start=0, end=len(text))
    ev = EvidenceItem(
        node_id=title,
        doc_id=title,
        text=text,
        source=f"/pages/{title}.md",
        title=title,
        section=[title],
        level="leaf",
        start=0,
        end=len(text),
        score=score,
        hop=0,
        query="",
        sentences=[sent],
    )
    return Ranked(score, sent, ev, 0)


QUILL = ranked("Quillon Bay (band)", "Quillon Bay is a folk band from Tarrow, Wendland.")
MARSH = ranked("Marsh Avenue", "Marsh Avenue is a folk duo from Dunmere, Wendland.")
# Namesakes: a radio show and a shop that share part of a name with the options, not the options.
QUILL_RADIO = ranked("Quillon Radio", "Quillon Radio is a folk programme from the bay towns of Wendland.")
MARSH_SHOP = ranked("Marsh Records", "The Marsh Records shop on the avenue sold folk records from Wendland.")


def test_a_sentence_on_the_options_own_page_is_about_it() -> None:
    assert names_option(QUILL, "Quillon Bay")  # the page title, less its "(band)" qualifier
    assert not names_option(QUILL_RADIO, "Quillon Bay")


def test_an_option_only_namesakes_speak_of_is_unread_and_nothing_is_decided() -> None:
    info = PlanInfo(options=["Quillon Bay", "Marsh Avenue"], property="folk acts from Wendland", attribute="")
    both = [("Quillon Bay", [QUILL]), ("Marsh Avenue", [MARSH])]
    assert unread_options(both) == []
    assert yes_no("both", info, both)[0] == "yes"
    # Quillon Bay's page is missing: the radio show shares words with the band but is not about it,
    # so the decision is withheld rather than read off it. (A namesake that carries the whole name,
    # "Quillon Bay Radio", would still count: the rule reads names, not what they refer to.)
    missing = [("Quillon Bay", [QUILL_RADIO]), ("Marsh Avenue", [MARSH])]
    assert unread_options(missing) == ["Quillon Bay"]
    assert yes_no("both", info, missing) == ("", 0.0, [])
    choice = PlanInfo(options=["Quillon Bay", "Marsh Avenue"], attribute="is a folk duo", comparator=None)
    assert choose("Which is a folk duo, Quillon Bay or Marsh Avenue?", choice, missing) == ("", 0.0, [])
    assert choose("Which is a folk duo, Quillon Bay or Marsh Avenue?", choice, both)[0] == "Marsh Avenue"


def test_a_sentence_naming_the_option_in_full_counts_when_its_page_is_not_retrieved() -> None:
    named = ranked("Tarrow Festival", "The festival was opened by Quillon Bay in its first year.")
    assert unread_options([("Quillon Bay", [named]), ("Marsh Avenue", [MARSH_SHOP])]) == ["Marsh Avenue"]
