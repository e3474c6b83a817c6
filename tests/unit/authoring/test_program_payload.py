"""A program's payload: calendar rules, repeats, bounds and server-assigned ids. Pure, no I/O."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from shared.authoring.program_schemas import UpdateProgram
from shared.authoring.programs import MAX_ITEMS, MAX_SECTIONS, ProgramPayload, referenced_ids

WOD, BLOCK, OTHER = (str(uuid.uuid4()) for _ in range(3))


def parse(body: dict[str, Any]) -> ProgramPayload:
    return ProgramPayload.model_validate_json(json.dumps(body))


def errors(body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        parse(body)
    return [(".".join(str(p) for p in e["loc"]), e["type"]) for e in caught.value.errors()]


def course(*items: dict[str, Any]) -> dict[str, Any]:
    return {"difficulty": "beginner", "sections": [{"title": "Basics", "items": list(items)}]}


def calendar(*items: dict[str, Any], weeks: int | None = 4) -> dict[str, Any]:
    return {**course(*items), "calendar": True, "estimated_weeks": weeks}


def test_a_course_needs_no_week_or_day() -> None:
    program = parse(course({"item_id": WOD}, {"item_id": BLOCK}))
    assert program.calendar is False
    assert referenced_ids(program) == [uuid.UUID(WOD), uuid.UUID(BLOCK)]


def test_a_course_item_with_a_week_or_day_is_refused() -> None:
    found = errors(course({"item_id": WOD, "week": 1}, {"item_id": BLOCK, "day": 2}))
    assert found == [("sections.0.items.0.week", "no_calendar"), ("sections.0.items.1.day", "no_calendar")]


def test_a_calendar_places_every_item_on_a_week_and_day() -> None:
    program = parse(calendar({"item_id": WOD, "week": 1, "day": 1}, {"item_id": BLOCK, "week": 4, "day": 7}))
    assert [(i.week, i.day) for i in program.sections[0].items] == [(1, 1), (4, 7)]


def test_a_calendar_item_without_week_or_day_is_refused() -> None:
    found = errors(calendar({"item_id": WOD, "day": 1}, {"item_id": BLOCK, "week": 1}))
    assert found == [("sections.0.items.0.week", "week_required"), ("sections.0.items.1.day", "day_required")]


def test_a_week_beyond_the_estimated_weeks_is_refused() -> None:
    assert errors(calendar({"item_id": WOD, "week": 5, "day": 1})) == [
        ("sections.0.items.0.week", "week_beyond_program")
    ]
    assert parse(calendar({"item_id": WOD, "week": 104, "day": 1}, weeks=None)).estimated_weeks is None


@pytest.mark.parametrize(
    ("item", "loc", "code"),
    [
        ({"week": 0, "day": 1}, "week", "greater_than_equal"),
        ({"week": 105, "day": 1}, "week", "less_than_equal"),
        ({"week": 1, "day": 0}, "day", "greater_than_equal"),
        ({"week": 1, "day": 8}, "day", "less_than_equal"),
        ({"week": "1", "day": 1}, "week", "int_type"),
    ],
)
def test_weeks_and_days_have_bounds(item: dict[str, Any], loc: str, code: str) -> None:
    assert errors(calendar({"item_id": WOD, **item}, weeks=None)) == [(f"sections.0.items.0.{loc}", code)]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("difficulty", "expert", "literal_error"),
        ("estimated_weeks", 0, "greater_than_equal"),
        ("estimated_weeks", 105, "less_than_equal"),
        ("capacity", 0, "greater_than_equal"),
        ("capacity", "10", "int_type"),
        ("calendar", "yes", "bool_type"),
        ("enrollment_deadline", "2027-01-31T12:00:00", "timezone_aware"),
        ("enrollment_deadline", "next week", "datetime_format"),
        ("enrollment_deadline", 1_800_000_000, "datetime_type"),
    ],
)
def test_program_fields_are_strict(field: str, value: Any, code: str) -> None:
    assert errors({**course(), field: value}) == [(field, code)]


def test_limits_and_deadline_are_optional_and_kept() -> None:
    program = parse({**course(), "capacity": 30, "enrollment_deadline": "2027-01-31T12:00:00+02:00"})
    dumped = program.model_dump(mode="json")
    assert (dumped["capacity"], dumped["enrollment_deadline"]) == (30, "2027-01-31T12:00:00+02:00")
    assert parse(course()).model_dump(mode="json") | {"sections": []} == {
        "difficulty": "beginner",
        "estimated_weeks": None,
        "calendar": False,
        "capacity": None,
        "enrollment_deadline": None,
        "sections": [],
    }


def test_an_item_appears_at_most_once_per_program() -> None:
    body = course({"item_id": WOD})
    body["sections"].append({"title": "Again", "items": [{"item_id": BLOCK}, {"item_id": WOD}]})
    assert errors(body) == [("sections.1.items.1.item_id", "duplicate_item")]


def test_ids_are_assigned_when_absent_and_kept_when_given() -> None:
    section_id, item_id = uuid.uuid4(), uuid.uuid4()
    body = course({"id": str(item_id), "item_id": WOD}, {"item_id": BLOCK})
    body["sections"][0]["id"] = str(section_id)
    body["sections"].append({"title": "Second"})
    program = parse(body)
    assert program.sections[0].id == section_id and program.sections[0].items[0].id == item_id
    assert program.sections[0].items[1].id is not None and program.sections[1].id is not None
    ids = [program.sections[0].items[1].id, program.sections[1].id]
    assert len(set(ids) | {section_id, item_id}) == 4


def test_a_saved_program_parses_back_to_itself() -> None:
    first = parse(calendar({"item_id": WOD, "week": 2, "day": 3}))
    again = parse(first.model_dump(mode="json"))
    assert again.model_dump_json() == first.model_dump_json()


def test_an_id_given_twice_is_refused() -> None:
    same = str(uuid.uuid4())
    body = course({"id": same, "item_id": WOD}, {"id": same, "item_id": BLOCK})
    body["sections"][0]["id"] = same
    assert errors(body) == [
        ("sections.0.items.0.id", "duplicate_id"),
        ("sections.0.items.1.id", "duplicate_id"),
    ]


def test_section_and_item_counts_are_bounded() -> None:
    many_sections = {"difficulty": "beginner", "sections": [{"title": "S"}] * (MAX_SECTIONS + 1)}
    assert errors(many_sections) == [("sections", "too_long")]
    per_section = MAX_ITEMS // 2 + 1
    sections = [
        {"title": f"S{s}", "items": [{"item_id": str(uuid.uuid4())} for _ in range(per_section)]}
        for s in range(2)
    ]
    assert errors({"difficulty": "beginner", "sections": sections}) == [("sections", "too_many_items")]
    assert errors(course(*({"item_id": str(uuid.uuid4())} for _ in range(MAX_ITEMS + 1)))) == [
        ("sections.0.items", "too_long")
    ]


def test_unknown_fields_and_bad_titles_are_refused() -> None:
    body = course({"item_id": WOD, "type": "wod"})
    body["sections"][0]["title"] = "=HYPERLINK()"
    body["colour"] = "red"
    assert sorted(errors(body)) == [
        ("colour", "extra_forbidden"),
        ("sections.0.items.0.type", "extra_forbidden"),
        ("sections.0.title", "spreadsheet_formula"),
    ]
    assert errors(course({"item_id": "not-an-id"})) == [("sections.0.items.0.item_id", "uuid_parsing")]


def test_a_change_takes_the_deadline_as_text_only() -> None:
    def deadline(value: Any) -> Any:
        body = {"type": "program", "payload": {"enrollment_deadline": value}}
        return UpdateProgram.model_validate_json(json.dumps(body)).root.payload.enrollment_deadline

    assert deadline("2027-01-31T12:00:00+02:00").isoformat() == "2027-01-31T12:00:00+02:00"
    with pytest.raises(ValidationError) as caught:
        deadline(1_800_000_000)
    assert [e["type"] for e in caught.value.errors()] == ["datetime_type"]
