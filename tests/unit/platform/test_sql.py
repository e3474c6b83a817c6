"""Dynamic SQL composed with psycopg.sql: fixed fragments, quoted names, values always bound. No I/O."""

from __future__ import annotations

from typing import Any

import pytest

from shared.platform.sql import Order, Select, assignments, compose, identifier

NEWEST_FIRST = Order(("t.created_at", "t.id"), descending=True)


def text(composed: Any) -> str:
    return " ".join(composed.as_string(None).split())


def test_optional_filters_without_a_value_are_left_out_and_values_stay_bound() -> None:
    statement, params = (
        Select("select * from public.t t")
        .where("t.community_id = %(community_id)s", community_id="c1")
        .filter("t.role = %(role)s", role=None)
        .filter("t.name ilike %(pattern)s", pattern="%'; drop table t; --%")
        .statement()
    )
    assert (
        text(statement)
        == "select * from public.t t where t.community_id = %(community_id)s and t.name ilike %(pattern)s"
    )
    assert params == {"community_id": "c1", "pattern": "%'; drop table t; --%"}


def test_a_required_condition_without_its_value_is_refused_not_dropped() -> None:
    with pytest.raises(ValueError, match="lacks its value"):
        Select("select * from public.t t").where("t.community_id = %(community_id)s", community_id=None)


def test_a_page_continues_after_its_keyset_position_in_order() -> None:
    statement, params = Select("select * from public.t t").page(NEWEST_FIRST, ("2026-01-01", "id-1"), 51)
    assert text(statement) == (
        "select * from public.t t where (t.created_at, t.id) < (%(page_after_0)s, %(page_after_1)s)"
        " order by t.created_at desc, t.id desc limit %(page_limit)s"
    )
    assert params == {"page_after_0": "2026-01-01", "page_after_1": "id-1", "page_limit": 51}
    first, _ = Select("select * from public.t t").page(Order(("lower(t.name)", "t.id")), None, 10)
    assert text(first) == "select * from public.t t order by lower(t.name), t.id limit %(page_limit)s"


def test_parameter_names_cannot_collide() -> None:
    select = Select("select 1").where("a = %(a)s", a=1)
    with pytest.raises(ValueError):
        select.filter("b = %(a)s", a=2)
    with pytest.raises(ValueError):
        select.filter("c = %(page_limit)s", page_limit=2)


def test_assignments_quote_allowed_columns_only() -> None:
    statement = compose(
        "update public.t set {changes} where id = %(id)s returning {columns}",
        changes=assignments({"name": "x", "slug": "y"}, {"name", "slug"}),
        columns="id, name",
    )
    assert (
        text(statement)
        == 'update public.t set "name" = %(name)s, "slug" = %(slug)s where id = %(id)s returning id, name'
    )
    with pytest.raises(ValueError, match="not updatable"):
        assignments({"name": "x", "id = id; --": "y"}, {"name"})
    with pytest.raises(ValueError, match="nothing"):
        assignments({}, {"name"})


def test_identifiers_from_code_are_quoted() -> None:
    assert text(identifier("pgmq.q_events_dead")) == '"pgmq"."q_events_dead"'
    assert text(identifier('odd"name')) == '"odd""name"'
