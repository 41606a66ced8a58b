"""What small models send, accepted without a repair round: wrapped calls, JSON inside prose, ids
as integers or strings, arrays as JSON strings, verdict synonyms, missing optional fields; and the
json_schema / JSON-mode prompts they are given (flattened schema, a repair that names no function)."""

from __future__ import annotations

import json

import pytest

from graphs.roles.llm import LLMSolver, parse_reply
from graphs.roles.llm.replies import OutputInvalid
from graphs.roles.llm.schema_text import flat_schema, strict_schema
from graphs.roles.llm.schemas import DraftOutput, PlanOutput, ReadingOutput, VerdictsOutput
from graphs.roles.offline import OfflineSolver
from tests.support.fake_llm import fake_llm, text_reply, tool_reply
from tests.unit.test_llm_roles import EVIDENCE, TASK, subgoal

IDS = {"ids": frozenset({"S1", "S2", "S3"})}


@pytest.mark.parametrize(
    "args",
    [
        {"answer": "Tampere", "support": ["S3"], "confidence": 0.8},
        {"answer": "Tampere", "support": [3], "confidence": "80%"},
        {"answer": "Tampere", "support": '["S3"]', "confidence": 80},
        {"answer": "Tampere", "support": "[S3]"},
        {"answer": "Tampere", "support": "3"},
        {"name": "submit_reading", "arguments": {"answer": "Tampere", "support": ["S3"]}},
        {"name": "submit_reading", "arguments": json.dumps({"answer": "Tampere", "support": [3]})},
    ],
)
def test_reading_shapes_small_models_send(args: dict[str, object]) -> None:
    out = parse_reply(tool_reply("submit_reading", args), ReadingOutput, IDS)
    assert (out.answer, out.support) == ("Tampere", ["S3"]) and 0 < out.confidence <= 1


def test_json_inside_prose_is_found() -> None:
    reply = text_reply('Sure, here it is: {"answer": "Tampere", "support": ["S3"], "confidence": 0.7} Hope it helps!')
    assert parse_reply(reply, ReadingOutput, IDS).answer == "Tampere"


def test_json_first_with_prose_after_it_is_found() -> None:
    # The object at position 0 followed by more text: `json.loads` fails on the whole reply.
    reply = text_reply('{"answer": "Tampere", "support": ["S3"]}\nThe answer is Tampere, as stated in S3.')
    assert parse_reply(reply, ReadingOutput, IDS).answer == "Tampere"


def test_values_under_an_echoed_schema_shape_are_taken() -> None:
    # A small model given the schema in its prompt copies its shape around the values.
    echoed = {"type": "object", "properties": {"answer": "Tampere", "support": ["S3"], "confidence": 0.6}}
    assert parse_reply(text_reply(json.dumps(echoed)), ReadingOutput, IDS).support == ["S3"]
    schema_only = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    with pytest.raises(OutputInvalid):  # the schema itself, values missing, stays invalid
        parse_reply(text_reply(json.dumps(schema_only)), ReadingOutput, IDS)


def test_verdict_synonyms_and_string_numbers() -> None:
    raw = {"verdicts": '[{"claim": "1", "verdict": "Supports"}, {"claim": "[2]", "verdict": "insufficient"}]'}
    out = parse_reply(tool_reply("submit_verdicts", raw), VerdictsOutput, {"claims": 2})
    assert [v.verdict for v in out.verdicts] == ["supported", "not_enough_evidence"]


def test_an_object_with_none_of_the_fields_is_still_invalid() -> None:
    with pytest.raises(Exception, match="none of the fields"):
        parse_reply(tool_reply("submit_reading", {"unexpected": 1}), ReadingOutput, IDS)


def test_not_found_is_explicit_and_a_guess_without_support_is_dropped() -> None:
    out = parse_reply(tool_reply("submit_reading", {"answer": "maybe Oslo", "not_found": True}), ReadingOutput, IDS)
    assert out.answer == "" and out.not_found
    draft = parse_reply(tool_reply("submit_answer", {"not_found": True}), DraftOutput, IDS)
    assert draft.short_answer == "" and draft.claims == []


def test_schemas_sent_to_servers_have_no_references() -> None:
    for schema in (PlanOutput, DraftOutput, VerdictsOutput):
        text = json.dumps(flat_schema(schema))
        assert "$ref" not in text and "$defs" not in text
    strict = strict_schema(DraftOutput)
    claim = strict["properties"]["claims"]["items"]
    assert strict["additionalProperties"] is False and set(strict["required"]) == set(strict["properties"])
    assert claim["additionalProperties"] is False and "default" not in json.dumps(strict)


def test_json_schema_method_binds_a_response_format_and_repairs_without_naming_a_function() -> None:
    bad = text_reply("I think the answer is Tampere.")
    good = text_reply({"answer": "Tampere", "support": ["S3"], "confidence": 0.9})
    llm, model = fake_llm([bad, good], method="json_schema")
    reading, usage = LLMSolver(llm, OfflineSolver()).read(TASK, subgoal(), TASK, EVIDENCE, last_hop=True)
    assert reading.answer == "Tampere" and not usage.degraded
    system, repair = model.prompts[1][0].text, model.prompts[1][-1].text
    assert '"$defs"' not in system and '"title":"submit_reading"' in system
    assert "calling `" not in repair and "one JSON object" in repair
