"""Content rows arranged directly in the database (as the owner), for grant and catalogue tests."""

from __future__ import annotations

from typing import Any

from tests import content_helpers
from tests.helpers import Sql


def make_item(
    sql: Sql,
    *,
    community: str | None = None,
    type: str = "prompt",
    title: str = "An item",
    status: str = "published",
    tags: tuple[str, ...] = (),
    payload: dict[str, Any] | None = None,
) -> str:
    """Insert a published content item (platform content when `community` is None); its id."""
    return content_helpers.make_item(
        sql,
        community,
        content_type=type,
        title=title,
        status=status,
        tags=list(tags),
        payload=payload or {"text": title},
    )


def make_grant(
    sql: Sql,
    item: str,
    community: str,
    *,
    tag: str | None = None,
    user: str | None = None,
    starts: str | None = None,
    ends: str | None = None,
) -> str:
    """Grant an item; `starts`/`ends` are intervals from now (e.g. '-1 day', '2 hours'); its id."""
    rows = sql(
        "insert into content_grants (item_id, community_id, tag_id, user_id, starts_at, ends_at)"
        " values (%s, %s, %s, %s, now() + %s::interval, now() + %s::interval) returning id::text",
        (item, community, tag, user, starts, ends),
    )
    return str(rows[0]["id"])


def grant_rows(sql: Sql) -> list[dict[str, Any]]:
    """Every grant, oldest first."""
    return sql(
        "select id::text, item_id::text, community_id::text, tag_id::text, user_id::text, starts_at, ends_at,"
        " created_by::text from content_grants order by created_at, id"
    )
