"""Block types and quiz questions: what each accepts, refuses and assigns. Pure, no I/O."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.authoring import blocks

CONTENT = "6a6c1a7e-1111-4111-8111-111111111111"
CHOICES = [{"id": "a", "text": "Alpha"}, {"id": "b", "text": "Beta"}, {"id": "c", "text": "Gamma"}]
QUESTIONS: dict[str, dict[str, Any]] = {
    "single_choice": {"kind": "single_choice", "prompt": "Pick one", "options": CHOICES, "answer": ["b"]},
    "multiple_choice": {"kind": "multiple_choice", "prompt": "Pick", "options": CHOICES, "answer": ["a", "c"]},
    "true_false": {"kind": "true_false", "prompt": "Water is wet", "answer": True, "explanation": "Mostly."},
    "short_answer": {"kind": "short_answer", "prompt": "Capital of France?", "answer": ["Paris"]},
}
VALID: dict[str, dict[str, Any]] = {
    "section_header": {"title": "Warm-up", "subtitle": "Five minutes", "level": 1},
    "rich_text": {"html_body": "<p>Breathe <strong>in</strong></p><script>x()</script>"},
    "list": {"style": "numbered", "items": ["one", "two"]},
    "quote": {"text": "Stay hungry.", "attribution": "Someone"},
    "divider": {},
    "image": {"content_id": CONTENT, "caption": "A chart", "alt_text": "Bars", "width": "medium"},
    "video": {"content_id": CONTENT, "start_seconds": 30},
    "pdf": {"content_id": CONTENT, "display": "download"},
    "document": {"content_id": CONTENT},
    "ai_agent": {"content_id": CONTENT, "intro": "Ask the coach for a plan."},
    "prompt": {"content_id": CONTENT},
    "automation": {"content_id": CONTENT, "caption": "Zap"},
    "quiz": {"questions": list(QUESTIONS.values())},
    "user_submission": {"instructions": "Paste your prompt", "kind": "text"},
}
EMBEDS = ("image", "video", "pdf", "document", "ai_agent", "prompt", "automation")
BLOCK: TypeAdapter[Any] = TypeAdapter(blocks.Block)
LEARNER_BLOCK: TypeAdapter[Any] = TypeAdapter(blocks.LearnerBlock)
BLOCKS: TypeAdapter[Any] = TypeAdapter(blocks.Blocks)


def parse(body: Any, adapter: TypeAdapter[Any] = BLOCK) -> Any:
    return adapter.validate_json(json.dumps(body))


def errors(body: Any, adapter: TypeAdapter[Any] = BLOCK) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        parse(body, adapter)
    return [(".".join(str(p) for p in e["loc"]), e["type"]) for e in caught.value.errors()]


def quiz(*questions: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {"type": "quiz", "questions": list(questions), **settings}


def test_there_are_fourteen_block_types() -> None:
    assert len(VALID) == 14


@pytest.mark.parametrize("block_type", sorted(VALID))
def test_every_block_type_parses_and_gets_an_id(block_type: str) -> None:
    block = parse({"type": block_type, **VALID[block_type]})
    assert block.type == block_type
    assert isinstance(block.id, UUID)


def test_an_id_sent_is_kept() -> None:
    block = parse({"id": CONTENT, "type": "divider"})
    assert block.id == UUID(CONTENT)


def test_unknown_types_and_fields_are_refused() -> None:
    assert errors({"type": "carousel"}) == [("", "union_tag_invalid")]
    assert errors({"type": "divider", "colour": "red"}) == [("divider.colour", "extra_forbidden")]
    assert errors({"type": "quote", "text": 5}) == [("quote.text", "string_type")]


@pytest.mark.parametrize("block_type", EMBEDS)
def test_embedding_blocks_need_a_content_id(block_type: str) -> None:
    assert errors({"type": block_type}) == [(f"{block_type}.content_id", "missing")]
    block = parse({"type": block_type, "content_id": CONTENT})
    assert isinstance(block, blocks.EmbedBlock) and block.content_id == UUID(CONTENT)
    assert errors({"type": block_type, "content_id": "nope"}) == [(f"{block_type}.content_id", "uuid_parsing")]


def test_rich_text_is_stored_as_given_but_bounded() -> None:
    block = parse({"type": "rich_text", **VALID["rich_text"]})
    assert block.html_body == VALID["rich_text"]["html_body"]
    assert errors({"type": "rich_text", "html_body": "x" * 100_001}) == [("rich_text.html_body", "string_too_long")]


def test_strings_and_lists_are_bounded() -> None:
    assert errors({"type": "section_header", "title": ""}) == [("section_header.title", "string_too_short")]
    assert errors({"type": "list", "items": []}) == [("list.items", "too_short")]
    assert errors({"type": "list", "items": ["x"] * 101}) == [("list.items", "too_long")]
    assert errors({"type": "image", "content_id": CONTENT, "caption": "c" * 501}) == [
        ("image.caption", "string_too_long")
    ]


def test_a_page_holds_at_most_a_hundred_blocks_with_distinct_ids() -> None:
    assert len(parse([{"type": "divider"}] * 100, BLOCKS)) == 100
    assert errors([{"type": "divider"}] * 101, BLOCKS) == [("", "too_long")]
    assert errors([{"id": CONTENT, "type": "divider"}] * 2, BLOCKS) == [("", "duplicate_id")]


# --- quiz ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(QUESTIONS))
def test_every_question_kind_keeps_its_answer(kind: str) -> None:
    block = parse(quiz(QUESTIONS[kind]))
    question = block.questions[0]
    assert question.kind == kind and question.answer == QUESTIONS[kind]["answer"]
    assert isinstance(question.id, UUID)


def test_quiz_settings_have_defaults_and_bounds() -> None:
    block = parse(quiz(QUESTIONS["true_false"]))
    assert (block.passing_score, block.time_limit_seconds) == (70, None)
    assert (block.retake.allowed, block.retake.max_attempts) == (True, None)
    assert errors(quiz(QUESTIONS["true_false"], passing_score=101)) == [("quiz.passing_score", "less_than_equal")]
    assert errors(quiz(QUESTIONS["true_false"], time_limit_seconds=0)) == [
        ("quiz.time_limit_seconds", "greater_than_equal")
    ]
    assert errors(quiz()) == [("quiz.questions", "too_short")]
    assert errors(quiz(*[QUESTIONS["true_false"]] * 51)) == [("quiz.questions", "too_long")]


def test_the_retake_rule_is_consistent() -> None:
    assert parse(quiz(QUESTIONS["true_false"], retake={"allowed": True, "max_attempts": 3})).retake.max_attempts == 3
    assert errors(quiz(QUESTIONS["true_false"], retake={"allowed": False, "max_attempts": 3})) == [
        ("quiz.retake", "retake_rule")
    ]
    assert errors(quiz(QUESTIONS["true_false"], retake={"allowed": True, "max_attempts": 1})) == [
        ("quiz.retake.max_attempts", "greater_than_equal")
    ]


def answer_errors(kind: str, answer: Any, **changes: Any) -> list[tuple[str, str]]:
    question = {**QUESTIONS[kind], "answer": answer, **changes}
    return [(loc.removeprefix(f"quiz.questions.0.{kind}"), kind_) for loc, kind_ in errors(quiz(question))]


def test_answers_must_fit_their_kind() -> None:
    assert answer_errors("single_choice", ["a", "b"]) == [(".answer", "too_long")]
    assert answer_errors("single_choice", []) == [(".answer", "too_short")]
    assert answer_errors("single_choice", ["z"]) == [("", "unknown_option")]
    assert answer_errors("multiple_choice", ["a", "z"]) == [("", "unknown_option")]
    assert answer_errors("multiple_choice", ["a", "a"]) == [("", "duplicate_option")]
    assert answer_errors("true_false", "true") == [(".answer", "bool_type")]
    assert answer_errors("true_false", 1) == [(".answer", "bool_type")]
    assert answer_errors("short_answer", []) == [(".answer", "too_short")]
    assert answer_errors("short_answer", "Paris") == [(".answer", "list_type")]
    assert answer_errors("single_choice", ["a"], options=[{"id": "a", "text": "A"}]) == [(".options", "too_short")]
    doubled = [{"id": "a", "text": "A"}, {"id": "a", "text": "B"}]
    assert answer_errors("single_choice", ["a"], options=doubled) == [(".options", "duplicate_id")]
    assert answer_errors("true_false", True, options=CHOICES) == [(".options", "extra_forbidden")]


def test_an_editor_question_needs_its_answer() -> None:
    question = {k: v for k, v in QUESTIONS["true_false"].items() if k != "answer"}
    assert errors(quiz(question)) == [("quiz.questions.0.true_false.answer", "missing")]


def test_question_ids_are_distinct_within_a_quiz() -> None:
    question = {**QUESTIONS["true_false"], "id": CONTENT}
    assert errors(quiz(question, question)) == [("quiz.questions", "duplicate_id")]


def test_the_learner_form_of_a_quiz_refuses_answers() -> None:
    learner = {k: v for k, v in QUESTIONS["single_choice"].items() if k != "answer"}
    assert parse(quiz(learner), LEARNER_BLOCK).questions[0].options[1].text == "Beta"
    assert errors(quiz(QUESTIONS["single_choice"]), LEARNER_BLOCK) == [
        ("quiz.questions.0.single_choice.answer", "extra_forbidden")
    ]
