"""Content rules without I/O: the lifecycle, derived reading figures and version comparison."""

from __future__ import annotations

import pytest

from shared.content import model


@pytest.mark.parametrize(
    ("current", "action", "expected"),
    [
        ("draft", "publish", "published"),
        ("published", "unpublish", "draft"),
        ("draft", "archive", "archived"),
        ("published", "archive", "archived"),
        ("archived", "unarchive", "draft"),
        ("published", "publish", None),
        ("archived", "publish", None),
        ("draft", "unpublish", None),
        ("archived", "archive", None),
        ("draft", "unarchive", None),
        ("published", "unarchive", None),
        ("archived", "unpublish", None),
    ],
)
def test_lifecycle_steps(current: model.Status, action: model.Action, expected: str | None) -> None:
    assert model.next_status(current, action) == expected


def test_visible_html_text_is_counted_and_scripts_are_not() -> None:
    html = "<p>Hello&nbsp;<b>brave</b> new-world</p><p>it's</p><script>one two</script><style>p{}</style>"
    assert model.word_count(html, None) == 4


@pytest.mark.parametrize(("words", "minutes"), [(0, 0), (1, 1), (200, 1), (201, 2), (1000, 5)])
def test_reading_minutes_round_up(words: int, minutes: int) -> None:
    assert model.reading_minutes(words) == minutes


def test_changes_name_each_field_and_look_inside_objects() -> None:
    before = {
        "title": "A",
        "tags": ["x"],
        "payload": {"model_settings": {"model": "m1", "temperature": 0.2}, "name": "N"},
    }
    after = {
        "title": "B",
        "tags": ["x"],
        "payload": {"model_settings": {"model": "m2", "temperature": 0.2}, "name": "N"},
    }
    assert model.changes(before, after) == [
        {"field": "title", "before": "A", "after": "B"},
        {"field": "payload.model_settings.model", "before": "m1", "after": "m2"},
    ]


def test_added_removed_and_retyped_members_are_changes() -> None:
    before = {"payload": {"a": 1, "gone": None, "obj": {"k": 1}}}
    after = {"payload": {"a": 1, "new": 2, "obj": [1]}}
    assert model.changes(before, after) == [
        {"field": "payload.gone", "before": None, "after": None},
        {"field": "payload.obj", "before": {"k": 1}, "after": [1]},
        {"field": "payload.new", "before": None, "after": 2},
    ]
    assert model.changes(after, after) == []
