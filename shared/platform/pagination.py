"""Keyset pagination: `limit` (1 to 100) and an opaque `cursor`; responses carry `next_cursor`.

A cursor is the sort key of the last row served, base64url-encoded JSON. It is opaque to callers and
validated on the way in (a malformed one is a 422 on `query.cursor`), never trusted as SQL.

    rows = await tx.fetch_all(
        "... where (created_at, id) < (%(after_ts)s, %(after_id)s) order by created_at desc, id desc limit %(n)s",
        {..., "n": query.limit + 1},
    )
    items, next_cursor = page_of(rows, query.limit, key=time_and_id("created_at", "id"))
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import Field

from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.validation import Query

T = TypeVar("T")
MAX_LIMIT = 100


class PageQuery(Query):
    """Base of list queries: page size and the cursor from the previous page."""

    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=512)


def encode_cursor(key: Sequence[Any]) -> str:
    """The opaque cursor for a sort key."""
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    """The sort key inside a cursor (None for the first page); a malformed cursor is a 422."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != arity
        or not all(isinstance(k, str | int | float) for k in key)
    ):
        raise ValidationFailedError(
            [FieldError("query.cursor", "Not a cursor from this list.", "cursor_invalid")]
        )
    return key


def time_and_id(time_column: str, id_column: str) -> Callable[[Mapping[str, Any]], list[str]]:
    """The sort key of lists ordered by a timestamp, then an id: the commonest keyset."""
    return lambda row: [row[time_column].isoformat(), str(row[id_column])]


def page_of(rows: list[T], limit: int, key: Callable[[T], Sequence[Any]]) -> tuple[list[T], str | None]:
    """Split `limit + 1` fetched rows into the page and the cursor of the next one (None at the end)."""
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, encode_cursor(key(page[-1]))
