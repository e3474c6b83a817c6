"""Structured output in each adapter's documented request format, and how each answer is read back."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

from shared.ai.generate import output
from shared.ai.generate.output import InvalidAnswerError
from shared.ai.providers.base import ChatRequest, Finished, JsonOutput, TextDelta
from shared.ai.providers.gemini import response_schema
from shared.ai.providers.offline import OfflineProvider
from shared.authoring.blocks import QuizBlock, QuoteBlock
from tests.ai_streams import ANTHROPIC, GEMINI, KEY, OPENAI, request, sse
from tests.ai_structured import USAGE, anthropic_tool, gemini_json, openai_json

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 50, "title": "Text", "pattern": "^x"},
        "kind": {"const": "a", "type": "string"},
        "level": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}], "default": None},
        "items": {"type": "array", "items": {"enum": ["x", "y"]}, "minItems": 1},
    },
    "required": ["text"],
}
ANSWER = '{"text": "xyz"}'


def structured(model: str) -> ChatRequest:
    return request(model, output=JsonOutput("page_block", SCHEMA, "A block", {"text": "[offline] x"}))


async def answered(wire: Any, body: str, chat: ChatRequest) -> tuple[dict[str, Any], str, Finished]:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(wire.url).mock(return_value=sse(body))
        events = [event async for event in wire.provider().stream(chat, KEY)]
    text = "".join(event.text for event in events if isinstance(event, TextDelta))
    finished = events[-1]
    assert isinstance(finished, Finished)
    return json.loads(route.calls.last.request.content), text, finished


async def test_openai_asks_for_a_json_schema_response_format_and_streams_the_json_as_content() -> None:
    sent, text, finished = await answered(OPENAI, openai_json(ANSWER), structured("gpt-4.1-mini"))

    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "page_block", "description": "A block", "schema": SCHEMA, "strict": False},
    }
    assert sent["stream"] is True and sent["messages"][0]["role"] == "system"
    assert text == ANSWER and (finished.input_tokens, finished.output_tokens) == USAGE
    assert finished.finish_reason == "stop"


async def test_anthropic_forces_one_tool_whose_input_is_the_answer() -> None:
    sent, text, finished = await answered(ANTHROPIC, anthropic_tool(ANSWER), structured("claude-haiku-4-5"))

    assert sent["tools"] == [{"name": "page_block", "description": "A block", "input_schema": SCHEMA}]
    assert sent["tool_choice"] == {"type": "tool", "name": "page_block"}
    assert text == ANSWER and finished.finish_reason == "stop"  # tool_use is the expected stop
    assert (finished.input_tokens, finished.output_tokens) == USAGE


async def test_anthropic_structured_answers_ignore_text_beside_the_tool_and_chat_ignores_tool_input() -> None:
    body = anthropic_tool(ANSWER).replace(
        'event: ping\ndata: {"type": "ping"}',
        'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 1,'
        ' "delta": {"type": "text_delta", "text": "Sure!"}}',
    )
    assert "Sure!" in body
    _, structured_text, _ = await answered(ANTHROPIC, body, structured("claude-haiku-4-5"))
    sent, chat_text, _ = await answered(ANTHROPIC, body, request("claude-haiku-4-5"))

    assert structured_text == ANSWER
    assert chat_text == "Sure!" and "tools" not in sent and "tool_choice" not in sent


async def test_gemini_asks_for_json_with_a_response_schema_in_its_openapi_subset() -> None:
    sent, text, finished = await answered(GEMINI, gemini_json(ANSWER), structured("gemini-2.5-flash"))

    config = sent["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"] == {
        "type": "OBJECT",
        "required": ["text"],
        "properties": {
            "text": {"type": "STRING", "minLength": 1, "maxLength": 50},
            "kind": {"type": "STRING", "enum": ["a"]},
            "level": {"type": "INTEGER", "minimum": 1, "nullable": True},
            "items": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["x", "y"]}, "minItems": 1},
        },
    }
    assert config["temperature"] == 0.3 and config["maxOutputTokens"] == 256
    assert text == ANSWER and (finished.input_tokens, finished.output_tokens) == USAGE


@pytest.mark.parametrize("wire", [OPENAI, ANTHROPIC, GEMINI], ids=["openai", "anthropic", "gemini"])
async def test_a_chat_request_asks_for_no_structure(wire: Any) -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(wire.url).mock(return_value=sse(wire.sample()))
        [event async for event in wire.provider().stream(request(wire.model), KEY)]
    sent = json.loads(route.calls.last.request.content)
    assert not {"response_format", "tools", "tool_choice"} & sent.keys()
    assert not {"responseMimeType", "responseSchema"} & sent.get("generationConfig", {}).keys()


def test_gemini_schema_keeps_branches_of_a_union_and_drops_what_it_cannot_take() -> None:
    union = {"anyOf": [{"type": "object", "properties": {"a": {"type": "string", "format": "uuid"}}}, {"type": "string"}]}
    assert response_schema(union) == {"anyOf": [{"type": "OBJECT", "properties": {"a": {"type": "STRING"}}}, {"type": "STRING"}]}


async def test_offline_answers_the_requests_own_offline_json() -> None:
    events = [event async for event in OfflineProvider().stream(structured("offline-echo"))]
    text = "".join(event.text for event in events if isinstance(event, TextDelta))
    assert json.loads(text) == {"text": "[offline] x"}


# --- the block schemas and answers ------------------------------------------------------------------------


def test_a_block_schema_leaves_out_what_the_server_decides() -> None:
    quiz = output.schema_for("quiz")
    text = json.dumps(quiz)
    assert "$ref" not in text and "$defs" not in text and "discriminator" not in text
    assert "id" not in quiz["properties"] and "type" not in quiz["properties"]
    questions = quiz["properties"]["questions"]["items"]["anyOf"]
    assert {q["properties"]["kind"]["const"] for q in questions} == {
        "single_choice", "multiple_choice", "true_false", "short_answer"
    }
    assert all("id" not in q["properties"] for q in questions)
    option = questions[0]["properties"]["options"]["items"]
    assert option["required"] == ["id", "text"]  # an option's id is the author's label, not the server's
    rich = output.schema_for("rich_text")
    assert set(rich["properties"]) == {"html_body"} and rich["required"] == ["html_body"]


def test_an_answer_becomes_a_block_with_ids_the_server_assigns() -> None:
    answer = {"id": "not-a-uuid", "questions": [{"id": "x", "kind": "true_false", "prompt": "?", "answer": True}]}
    block = output.block_from("quiz", json.dumps(answer))
    assert isinstance(block, QuizBlock) and block.questions[0].answer is True
    assert isinstance(output.block_from("quote", '{"text": "Hi", "type": "quiz"}'), QuoteBlock)


@pytest.mark.parametrize(
    ("kind", "answer", "problem"),
    [
        ("quote", "not json", "not JSON"),
        ("quote", "[1]", "not a JSON object"),
        ("quote", '{"text": ""}', "text:"),
        ("quote", '{"text": "x", "extra": 1}', "extra:"),
        ("rich_text", "{}", "html_body: must not be empty"),
        ("quote", '{"text": "a\\u0000b"}', "NUL"),
        (
            "quiz",
            '{"questions": [{"kind": "single_choice", "prompt": "?", "options": [{"id": "a", "text": "A"},'
            ' {"id": "b", "text": "B"}], "answer": ["c"]}]}',
            "options the question does not have",
        ),
    ],
)
def test_an_invalid_answer_says_what_is_wrong(kind: Any, answer: str, problem: str) -> None:
    with pytest.raises(InvalidAnswerError) as raised:
        output.block_from(kind, answer)
    assert problem in " ".join(raised.value.problems)
