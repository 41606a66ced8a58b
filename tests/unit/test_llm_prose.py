"""The composer's prose mode: `[n]` markers parsed and checked like structured sources."""

from __future__ import annotations

import re

import pytest

from graphs.roles.llm.prose import ProseInvalid, parse_prose


def test_sentences_and_their_sources() -> None:
    got = parse_prose("The bridge opened in May 1931 [1]. It was designed by Mara Quill [2][1].", {1, 2}, 4)
    assert [(s.text, s.sources) for s in got] == [
        ("The bridge opened in May 1931.", (1,)),
        ("It was designed by Mara Quill.", (1, 2)),
    ]
    assert parse_prose("Opened in 1931. [1]", {1}, 4)[0].text == "Opened in 1931."


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("No source at all.", "names no source"),
        ("Opened in 1931 [3].", "unknown source numbers [3]"),
        ("Opened in 1931 [1]. Designed by Mara Quill.", "last sentence names no source"),
        ("A [1]. B [1]. C [1].", "at most 2"),
    ],
)
def test_broken_citation_rules_are_rejected(text: str, error: str) -> None:
    with pytest.raises(ProseInvalid, match=re.escape(error)):
        parse_prose(text, {1}, 2)
