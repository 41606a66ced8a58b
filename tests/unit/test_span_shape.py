"""The offline reader's span-shape rules (invented examples): a sentence that defines a span as the
asked noun, a span that is the agent the asked role names, a name the question spells with "and"
where the page writes "&", and citations chosen to carry the claim's numbers."""

from __future__ import annotations

from graphs.roles.offline.evidence import Ranked
from graphs.roles.offline.solver import OfflineSolver
from graphs.roles.offline.span_shape import by_agent, defined_as
from graphs.roles.offline.support import covering_support
from graphs.text.words import stem
from tests.unit.test_offline_engine import ev


def test_defined_as_reads_a_copula_or_appositive_definition_of_the_noun() -> None:
    text = "The Orlen Kite is a Danish twin-engined medium glider that was built in Aarhus."
    assert defined_as(text, len("The Orlen Kite"), stem("glider"))
    aside = "Marrow Sands, less often called Gull Bay, is a coastal area of dunes and heath."
    assert defined_as(aside, len("Marrow Sands"), stem("area"))
    assert defined_as("Velt, a coastal area of Norland, floods.", len("Velt"), stem("area"))
    # The noun after a preposition is another thing's: "a town in the coastal area" defines a town.
    assert not defined_as("Port Ellis is a town in the coastal area.", len("Port Ellis"), stem("area"))
    assert not defined_as(text, len("The Orlen Kite"), "")


def test_by_agent_matches_the_role_noun_to_its_participle() -> None:
    text = "Cold Lanterns is a song written by Ada Brell and recorded by Tom Vale."
    assert by_agent(text, text.index("Ada"), stem("writer"))
    assert not by_agent(text, text.index("Tom"), stem("writer"))
    film = "Grey Harbour is a film directed by Jo Kerr."
    assert by_agent(film, film.index("Jo"), stem("director"))
    assert not by_agent(film, film.index("Jo"), stem("singer"))


def test_the_defined_span_beats_a_name_standing_near_the_noun() -> None:
    evidence = [
        ev(
            "No. 9 Wing",
            "No. 9 Wing was a glider unit in the Norland campaign, equipped with Orlen Kite gliders.",
            sims=[0.8],
        ),
        ev(
            "Orlen Kite",
            "The Orlen Kite is a Danish twin-engined medium glider that was built in Aarhus.",
            sims=[0.6],
        ),
    ]
    ex = OfflineSolver().extract("Which Danish twin-engined medium glider was used in the Norland campaign?", evidence)
    assert ex.answer == "Orlen Kite"


def test_the_writer_is_the_one_the_song_was_written_by() -> None:
    evidence = [
        ev("Cold Lanterns", "Cold Lanterns is a song recorded by Tom Vale and written by Ada Brell.", sims=[0.8]),
        ev("Tom Vale", "Tom Vale is a singer from Oslo.", sims=[0.4]),
    ]
    assert OfflineSolver().extract("Who was the writer of Cold Lanterns?", evidence).answer == "Ada Brell"
    assert OfflineSolver().extract("Who was the singer of Cold Lanterns?", evidence).answer != "Ada Brell"


def test_a_name_the_question_spells_with_and_is_not_its_answer() -> None:
    evidence = [ev("Salt & Stone", "Salt & Stone is a board game designed by Pia Lund in 1981.", sims=[0.8])]
    ex = OfflineSolver().extract('Who designed the board game "Salt and Stone"?', evidence)
    assert ex.answer == "Pia Lund"


def test_a_claim_cites_the_sentence_holding_the_number_the_question_gave() -> None:
    song = ev("Cold Lanterns", "Cold Lanterns is a song written by Ada Brell.", sims=[0.8])
    person = ev("Ada Brell", "Ada Brell (1930 – 2004) was a Norwegian singer.", sims=[0.5])
    chosen = [Ranked(0.8, song["sentences"][0], song, 0)]
    pool = [*chosen, Ranked(0.5, person["sentences"][0], person, 0)]
    cited = covering_support("Ada Brell was the writer of Cold Lanterns and died in 2004.", chosen, pool)
    assert [r.ev["title"] for r in cited] == ["Cold Lanterns", "Ada Brell"]


def test_of_which_reads_the_inverted_phrase() -> None:
    from graphs.roles.offline.span_shape import heads_inverted, of_head

    query = "Lena Ort was an adviser during the administration of which governor?"
    assert of_head(query) == "administration"
    text = "She advised the Dean of Marlow College and served during the Ardent administration."
    assert heads_inverted(text, text.index("Ardent") + len("Ardent"), "administration")
    assert not heads_inverted(text, text.index("Marlow College") + len("Marlow College"), "administration")
    assert of_head("What is the name of which river?") == ""
    evidence = [
        ev("Lena Ort", "Lena Ort was an adviser to the Dean of Marlow College during the Ardent administration.")
    ]
    assert OfflineSolver().extract(query, evidence).answer == "Ardent"
