"""Pages: item-wide limits and ids, quiz keys kept apart, and the editors' operations. Pure, no I/O."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.authoring import pages
from shared.authoring.errors import (
    BlockNotFoundError,
    IdTakenError,
    ItemFullError,
    PageFullError,
    PageNotFoundError,
    PositionOutOfRangeError,
    QuizKeysError,
)
from shared.authoring.pages import Page
from shared.platform.errors import FieldError

IMAGE, VIDEO, AGENT = (str(uuid4()) for _ in range(3))
PAGES: TypeAdapter[list[Page]] = TypeAdapter(pages.Pages)
QUIZ = {
    "type": "quiz",
    "passing_score": 80,
    "questions": [
        {
            "kind": "single_choice",
            "prompt": "Pick",
            "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
            "answer": ["b"],
            "explanation": "B is right.",
        },
        {"kind": "true_false", "prompt": "True?", "answer": False},
    ],
}


def page(title: str, *blocks: dict[str, Any]) -> Page:
    return Page.model_validate_json(json.dumps({"title": title, "blocks": list(blocks)}))


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def sample() -> list[Page]:
    return [
        page("One", {"type": "image", "content_id": IMAGE}, QUIZ, {"type": "video", "content_id": VIDEO}),
        page("Two", {"type": "section_header", "title": "Go"}, {"type": "image", "content_id": IMAGE}),
        page("Three", {"type": "ai_agent", "content_id": AGENT}),
    ]


def titles(result: list[Page]) -> list[str]:
    return [p.title for p in result]


def block_ids(result: list[Page]) -> list[list[UUID]]:
    return [[b.id for b in p.blocks] for p in result]


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def locs(error: Any) -> list[tuple[str, str]]:
    found: list[FieldError] = error.errors
    return [(e.loc, e.type) for e in found]


# --- limits and ids -----------------------------------------------------------------------------------


def test_an_item_holds_at_most_a_hundred_pages() -> None:
    assert len(PAGES.validate_json(json.dumps([{"title": "p"}] * 100))) == 100
    with pytest.raises(ValidationError) as caught:
        PAGES.validate_json(json.dumps([{"title": "p"}] * 101))
    assert caught.value.errors()[0]["type"] == "too_long"


def test_page_and_block_ids_are_unique_in_the_item() -> None:
    same = str(uuid4())
    for body in (
        [{"id": same}, {"id": same}],
        [{"blocks": [{"id": same, "type": "divider"}]}, {"blocks": [{"id": same, "type": "divider"}]}],
    ):
        with pytest.raises(ValidationError) as caught:
            PAGES.validate_json(json.dumps(body))
        assert caught.value.errors()[0]["type"] == "duplicate_id"


def test_page_titles_are_plain_text() -> None:
    with pytest.raises(ValidationError) as caught:
        page("=HYPERLINK()")
    assert caught.value.errors()[0]["type"] == "spreadsheet_formula"


# --- keys ---------------------------------------------------------------------------------------------


def test_split_keeps_answers_out_of_the_stored_pages() -> None:
    editor = sample()
    stored, keys = pages.split_keys(editor)
    dumped = pages.dump(stored)
    assert not {"answer", "explanation", "B is right."} & set(strings(dumped))
    quiz = editor[0].blocks[1]
    first, second = (str(q.id) for q in quiz.questions)  # type: ignore[union-attr]
    assert keys == {
        str(quiz.id): {
            first: {"answer": ["b"], "explanation": "B is right."},
            second: {"answer": False, "explanation": ""},
        }
    }
    assert dumped[0]["blocks"][1]["questions"][0]["options"] == [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]
    assert dumped[0]["blocks"][1]["passing_score"] == 80


def test_join_puts_the_answers_back() -> None:
    editor = sample()
    stored, keys = pages.split_keys(editor)
    reloaded = json.loads(json.dumps(pages.dump(stored)))
    assert pages.join_keys(reloaded, json.loads(json.dumps(keys))) == editor


def test_pages_without_a_quiz_have_no_keys() -> None:
    assert pages.split_keys([page("Plain", divider())])[1] == {}


def test_join_refuses_missing_or_ill_fitting_keys() -> None:
    stored, keys = pages.split_keys(sample())
    (block_id, answers), = keys.items()
    first = next(iter(answers))
    for broken in ({}, {block_id: {first: answers[first]}}, {block_id: {**answers, first: {"answer": ["z"]}}}):
        with pytest.raises(QuizKeysError) as caught:
            pages.join_keys(pages.dump(stored), broken)
        assert caught.value.code == "quiz_keys_invalid" and block_id in caught.value.detail


def test_stored_pages_refuse_answers() -> None:
    with pytest.raises(ValidationError):
        pages.load(pages.dump(sample()))


def test_references_name_each_embedded_item_once_with_its_type() -> None:
    assert pages.references(sample()) == [(UUID(IMAGE), "image"), (UUID(VIDEO), "video"), (UUID(AGENT), "ai_agent")]
    assert pages.references(pages.split_keys(sample())[0]) == pages.references(sample())


# --- operations ---------------------------------------------------------------------------------------


def test_add_page_at_a_position_or_at_the_end() -> None:
    before = sample()
    assert titles(pages.add_page(before, page("New"), 0)) == ["New", "One", "Two", "Three"]
    assert titles(pages.add_page(before, page("New"), 3)) == ["One", "Two", "Three", "New"]
    assert titles(pages.add_page(before, page("New"))) == ["One", "Two", "Three", "New"]
    assert titles(before) == ["One", "Two", "Three"]


def test_add_page_refuses_a_position_out_of_range_a_full_item_and_taken_ids() -> None:
    before = sample()
    for position in (-1, 4):
        with pytest.raises(PositionOutOfRangeError) as caught:
            pages.add_page(before, page("New"), position)
        assert locs(caught.value) == [("body.position", "out_of_range")]
    with pytest.raises(ItemFullError) as full:
        pages.add_page([page(str(i)) for i in range(pages.MAX_PAGES)], page("New"))
    assert full.value.status == 422
    clash = Page(id=before[1].id, blocks=[before[0].blocks[0]])
    with pytest.raises(IdTakenError) as taken:
        pages.add_page(before, clash)
    assert locs(taken.value) == [("body.id", "duplicate_id"), ("body.blocks.0.id", "duplicate_id")]


def test_save_page_replaces_its_title_and_blocks_only() -> None:
    before = sample()
    kept = before[1].blocks[0]
    new = page("x", divider()).blocks[0]
    after = pages.save_page(before, before[1].id, "Second", [new, kept])
    assert titles(after) == ["One", "Second", "Three"]
    assert after[1].id == before[1].id and block_ids(after)[1] == [new.id, kept.id]
    assert after[0] is before[0] and after[2] is before[2]
    assert titles(before) == ["One", "Two", "Three"]


def test_save_page_refuses_an_unknown_page_and_a_block_of_another_page() -> None:
    before = sample()
    with pytest.raises(PageNotFoundError) as missing:
        pages.save_page(before, uuid4(), "x", [])
    assert (missing.value.status, missing.value.code) == (404, "page_not_found")
    with pytest.raises(IdTakenError) as taken:
        pages.save_page(before, before[1].id, "x", [before[1].blocks[0], before[0].blocks[0]])
    assert locs(taken.value) == [("body.blocks.1.id", "duplicate_id")]


def test_move_page() -> None:
    before = sample()
    assert titles(pages.move_page(before, before[0].id, 2)) == ["Two", "Three", "One"]
    assert titles(pages.move_page(before, before[2].id, 0)) == ["Three", "One", "Two"]
    assert titles(pages.move_page(before, before[1].id, 1)) == ["One", "Two", "Three"]
    with pytest.raises(PositionOutOfRangeError):
        pages.move_page(before, before[0].id, 3)
    with pytest.raises(PageNotFoundError):
        pages.move_page(before, uuid4(), 0)


def test_move_block_within_its_page() -> None:
    before = sample()
    ids = block_ids(before)
    after = pages.move_block(before, ids[0][0], 2)
    assert block_ids(after)[0] == [ids[0][1], ids[0][2], ids[0][0]]
    assert block_ids(after)[1:] == ids[1:]
    with pytest.raises(PositionOutOfRangeError) as caught:
        pages.move_block(before, ids[0][0], 3)
    assert locs(caught.value) == [("body.position", "out_of_range")]


def test_move_block_to_another_page() -> None:
    before = sample()
    ids = block_ids(before)
    after = pages.move_block(before, ids[0][1], 1, before[2].id)
    assert block_ids(after) == [[ids[0][0], ids[0][2]], ids[1], [ids[2][0], ids[0][1]]]
    assert block_ids(before) == ids
    assert block_ids(pages.move_block(before, ids[2][0], 0, before[0].id))[0][0] == ids[2][0]
    with pytest.raises(PositionOutOfRangeError):
        pages.move_block(before, ids[0][1], 2, before[2].id)


def test_move_block_refuses_unknown_ids_and_a_full_page() -> None:
    before = sample()
    with pytest.raises(BlockNotFoundError) as missing:
        pages.move_block(before, uuid4(), 0)
    assert (missing.value.status, missing.value.code) == (404, "block_not_found")
    with pytest.raises(PageNotFoundError):
        pages.move_block(before, before[0].blocks[0].id, 0, uuid4())
    full = [*before, page("Full", *[divider()] * 100)]
    with pytest.raises(PageFullError) as caught:
        pages.move_block(full, before[0].blocks[0].id, 0, full[3].id)
    assert locs(caught.value) == [("body.page_id", "too_many_blocks")]
    assert len(pages.move_block(full, full[3].blocks[0].id, 99)[3].blocks) == 100


def test_remove_page_and_block() -> None:
    before = sample()
    assert titles(pages.remove_page(before, before[1].id)) == ["One", "Three"]
    after = pages.remove_block(before, before[0].blocks[1].id)
    assert block_ids(after)[0] == [before[0].blocks[0].id, before[0].blocks[2].id]
    assert pages.split_keys(after)[1] == {}
    with pytest.raises(PageNotFoundError):
        pages.remove_page(before, uuid4())
    with pytest.raises(BlockNotFoundError):
        pages.remove_block(before, uuid4())


def all_ids(result: list[Page]) -> set[UUID]:
    found = set()
    for p in result:
        found.add(p.id)
        for b in p.blocks:
            found.add(b.id)
            found.update(q.id for q in getattr(b, "questions", []))
    return found


def test_fresh_ids_copy_everything_under_new_ids_with_keys_remapped() -> None:
    before = sample()
    copy = pages.fresh_ids(before)
    assert not all_ids(copy) & all_ids(before)
    stored, keys = pages.split_keys(copy)
    old_stored, old_keys = pages.split_keys(before)
    assert keys.keys() == {str(copy[0].blocks[1].id)}
    assert [list(v.values()) for v in keys.values()] == [list(v.values()) for v in old_keys.values()]
    assert not set(next(iter(keys.values()))) & set(next(iter(old_keys.values())))

    def without_uuids(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: without_uuids(v) for k, v in value.items() if not (k == "id" and len(v) == 36)}
        return [without_uuids(v) for v in value] if isinstance(value, list) else value

    assert without_uuids(pages.dump(stored)) == without_uuids(pages.dump(old_stored))
    assert pages.join_keys(pages.dump(stored), keys) == copy


def test_duplicate_page_puts_a_fresh_copy_after_it() -> None:
    before = sample()
    after = pages.duplicate_page(before, before[0].id)
    assert titles(after) == ["One", "One", "Two", "Three"]
    assert not all_ids([after[1]]) & all_ids(before)
    assert [b.type for b in after[1].blocks] == [b.type for b in before[0].blocks]


def test_reads_show_answers_only_when_the_keys_answer_every_question() -> None:
    stored, keys = pages.split_keys(sample())
    dumped = pages.dump(stored)
    (block_id, answers), = keys.items()
    partial = {block_id: dict(list(answers.items())[:1])}
    assert pages.with_answers(dumped, keys) == pages.dump(pages.join_keys(dumped, keys))
    assert pages.with_answers(dumped, None) == dumped
    assert pages.with_answers(dumped, partial) == dumped


def test_operations_work_on_stored_pages_and_keys_follow_the_quizzes_still_there() -> None:
    stored, keys = pages.split_keys(sample())
    quiz = stored[0].blocks[1]
    moved = pages.move_block(stored, quiz.id, 0, stored[2].id)
    assert moved[2].blocks[0].id == quiz.id
    assert pages.kept_keys(moved, keys) == keys
    assert pages.kept_keys(pages.remove_page(moved, stored[2].id), keys) is None
    assert pages.kept_keys(stored, {**keys, str(uuid4()): {}}) == keys
