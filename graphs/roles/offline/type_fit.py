"""How well each candidate span kind fits each answer type: the offline reader's type prior."""

from __future__ import annotations

# How well a span kind fits each answer type. 'name' is a capitalised 2-4 word span: person or thing.
TYPE_FIT: dict[str, dict[str, float]] = {
    "person": {"person": 1.0, "name": 0.85, "entity": 0.45, "org": 0.6, "quoted": 0.15, "place": 0.1},
    "place": {"place": 1.0, "entity": 0.55, "name": 0.45, "org": 0.3, "nationality": 0.2, "person": 0.1},
    # A number fits an org slot weakly: "which channel / station / platform" is often numbered.
    "org": {"org": 1.0, "name": 0.7, "entity": 0.75, "person": 0.3, "place": 0.3, "quoted": 0.4, "number": 0.3},
    "date": {"date": 1.0, "number": 0.25},
    "number": {"number": 1.0, "date": 0.3},
    "nationality": {"nationality": 1.0, "place": 0.4},
    "occupation": {"occupation": 1.0},
    "entity": {
        "entity": 1.0,
        "name": 0.85,
        "quoted": 1.0,
        "org": 0.85,
        "person": 0.7,
        "place": 0.7,
        "nationality": 0.5,
        "date": 0.2,
        "number": 0.2,
    },
    "text": {
        "entity": 0.8,
        "name": 0.6,
        "quoted": 0.8,
        "org": 0.6,
        "place": 0.6,
        "person": 0.5,
        "entry": 0.8,
        "manner": 1.0,
    },
    # Technical text: 'entry' is an API entry's name (its heading), 'code' an identifier-shaped span,
    # 'flag' a command-line option, 'value' a literal (a default, a path, True/None, a quoted string).
    "identifier": {"entry": 1.0, "code": 0.9, "exception": 0.6, "flag": 0.4, "quoted": 0.4, "entity": 0.3},
    "exception": {"exception": 1.0, "entry": 0.7, "code": 0.7, "entity": 0.25, "name": 0.25},
    "option": {"flag": 1.0, "entry": 0.8, "code": 0.7, "value": 0.6, "quoted": 0.4, "entity": 0.2},
    "command": {"entry": 1.0, "code": 0.7, "flag": 0.5, "quoted": 0.5, "entity": 0.3},
    "version": {"version": 1.0, "number": 0.6, "date": 0.3},
    "value": {"value": 1.0, "number": 0.9, "quoted": 0.8, "flag": 0.6, "code": 0.6, "entity": 0.3, "date": 0.3},
}
# Prose answer types meet technical spans too (an API reference answers "what …" with identifiers).
TYPE_FIT["entity"].update({"entry": 0.85, "code": 0.75, "exception": 0.7, "flag": 0.7, "value": 0.5})
TYPE_FIT["number"].update({"value": 0.8})
