"""A program's payload: ordered sections of WODs and BLOCKs, with or without a week/day calendar.

A course is a program without a calendar. With one, every item is placed on a week (within the
estimated weeks, when given) and a day of the week; without one, no item is. An item (a WOD or a BLOCK)
appears at most once in a program. Section and item ids are assigned by the server when absent, so a
client can address them later; an id given twice is refused. Whether each `item_id` names a WOD or BLOCK
the program may use needs the database and is checked when the program is saved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BeforeValidator, Field, Strict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.authoring.model import Difficulty
from shared.platform.validation import Body, DateTimeParam, Integral, PlainText

MAX_WEEKS = 104
MAX_SECTIONS = 50
MAX_ITEMS = 500
"""At most this many items in a program, over all its sections."""

Week = Annotated[int, Field(ge=1, le=MAX_WEEKS), Integral]
Day = Annotated[int, Field(ge=1, le=7, description="1 = the first day of the week, 7 = the last"), Integral]


def _date_time_text(value: Any) -> Any:
    if not isinstance(value, str | datetime):
        raise PydanticCustomError("datetime_type", "must be an ISO 8601 date-time with a time zone")
    return value


# Lax, but text only: a change's `ProgramPayload | None` is tried strictly first by pydantic's union,
# and strict validation refuses every JSON string as a datetime.
Deadline = Annotated[DateTimeParam, Strict(False), BeforeValidator(_date_time_text)]
_ID = Field(default=None, description="Assigned by the server when absent; always present in what it returns")


class ProgramItem(Body):
    """One WOD or BLOCK of a section, on a week and day when the program has a calendar."""

    id: UUID | None = _ID
    item_id: UUID = Field(description="A WOD or BLOCK the program's owner may use")
    week: Week | None = Field(default=None, description="Required with a calendar, absent without one")
    day: Day | None = Field(default=None, description="Required with a calendar, absent without one")


class ProgramSection(Body):
    """A titled, ordered group of items."""

    id: UUID | None = _ID
    title: Annotated[PlainText, Field(min_length=1, max_length=200)]
    items: list[ProgramItem] = Field(default_factory=list, max_length=MAX_ITEMS)


class ProgramShown(Body):
    """A program as stored and shown: difficulty, length, calendar, enrollment limits and its ordered
    sections of items. The rules tying them together are not applied again when it is read (a PostgREST
    writer may have broken them; its editors still see it, ids and all, as it is)."""

    difficulty: Difficulty = "beginner"
    estimated_weeks: Week | None = None
    calendar: bool = Field(default=False, description="Whether items sit on a week and day (a course has none)")
    capacity: Annotated[int, Field(ge=1, le=2**31 - 1), Integral] | None = Field(
        default=None, description="Most learners enrolled at once; null is unlimited"
    )
    enrollment_deadline: Deadline | None = Field(
        default=None, description="No enrollment after this time; null is none"
    )
    sections: list[ProgramSection] = Field(
        default_factory=list,
        max_length=MAX_SECTIONS,
        description=f"In order; at most {MAX_ITEMS} items over all sections",
    )


class ProgramPayload(ProgramShown):
    """A program as sent: the calendar, repeat and count rules hold, and missing ids are assigned."""

    @model_validator(mode="after")
    def _follows_the_rules(self) -> ProgramPayload:
        errors = [*_count_errors(self), *_calendar_errors(self), *_repeat_errors(self)]
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        _assign_ids(self)
        return self


def placed_items(payload: ProgramPayload) -> Iterator[tuple[tuple[int, int], ProgramItem]]:
    """Every item with its place: (section index, item index)."""
    for s, section in enumerate(payload.sections):
        for i, item in enumerate(section.items):
            yield (s, i), item


def referenced_ids(payload: ProgramPayload) -> list[UUID]:
    """The WODs and BLOCKs the program uses, in order."""
    return [item.item_id for _, item in placed_items(payload)]


def item_loc(place: tuple[int, int], field: str) -> tuple[str | int, ...]:
    """Where a field of the item at `place` is, relative to the payload."""
    return ("sections", place[0], "items", place[1], field)


def _error(loc: tuple[str | int, ...], code: str, message: str, **ctx: Any) -> InitErrorDetails:
    return {"type": PydanticCustomError(code, message, ctx or None), "loc": loc, "input": None}


def _count_errors(payload: ProgramPayload) -> Iterator[InitErrorDetails]:
    total = sum(len(section.items) for section in payload.sections)
    if total > MAX_ITEMS:
        yield _error(
            ("sections",), "too_many_items", "a program holds at most {max} items", max=MAX_ITEMS
        )


def _calendar_errors(payload: ProgramPayload) -> Iterator[InitErrorDetails]:
    weeks = payload.estimated_weeks
    for place, item in placed_items(payload):
        if not payload.calendar:
            for field in ("week", "day"):
                if getattr(item, field) is not None:
                    yield _error(item_loc(place, field), "no_calendar", "the program has no calendar")
            continue
        if item.week is None:
            yield _error(item_loc(place, "week"), "week_required", "the program has a calendar")
        elif weeks is not None and item.week > weeks:
            yield _error(
                item_loc(place, "week"), "week_beyond_program", "the program lasts {weeks} weeks", weeks=weeks
            )
        if item.day is None:
            yield _error(item_loc(place, "day"), "day_required", "the program has a calendar")


def _repeat_errors(payload: ProgramPayload) -> Iterator[InitErrorDetails]:
    ids: set[UUID] = set()
    for s, section in enumerate(payload.sections):
        if section.id is not None:
            if section.id in ids:
                yield _error(("sections", s, "id"), "duplicate_id", "another section or item has this id")
            ids.add(section.id)
    used: set[UUID] = set()
    for place, item in placed_items(payload):
        if item.id is not None:
            if item.id in ids:
                yield _error(item_loc(place, "id"), "duplicate_id", "another section or item has this id")
            ids.add(item.id)
        if item.item_id in used:
            yield _error(item_loc(place, "item_id"), "duplicate_item", "the item is already in the program")
        used.add(item.item_id)


def _assign_ids(payload: ProgramPayload) -> None:
    for section in payload.sections:
        section.id = section.id or uuid.uuid4()
        for item in section.items:
            item.id = item.id or uuid.uuid4()
