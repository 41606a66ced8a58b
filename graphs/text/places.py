"""Places and nationalities a text names, from the general-knowledge word lists."""

from __future__ import annotations

from graphs.text.lexicon import COUNTRY_DEMONYMS, DEMONYM_COUNTRY, PLACE_HEADS, US_STATES
from graphs.text.normalize import normalize_answer


def place_name(text: str) -> bool:
    t = text.lower().strip()
    return t in COUNTRY_DEMONYMS or t in US_STATES or t.split()[-1] in PLACE_HEADS


def nationalities(text: str) -> set[str]:
    """Countries a text ties its subject to, through demonyms ("an American actor") or names."""
    out: set[str] = set()
    low = " " + normalize_answer(text) + " "
    for demonym, country in DEMONYM_COUNTRY.items():
        if f" {demonym} " in low:
            out.add(country)
    for country in COUNTRY_DEMONYMS:
        if len(country) > 2 and f" {country} " in low:
            out.add(country)
    return out
