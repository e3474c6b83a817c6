"""Typed keyset positions inside opaque cursors: a cursor that does not fit its list is a 422, never SQL."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.pagination import decode_cursor


def _invalid() -> ValidationFailedError:
    return ValidationFailedError(
        [FieldError("query.cursor", "Not a cursor from this list.", "cursor_invalid")]
    )


def time_and_id(cursor: str | None) -> tuple[datetime, UUID] | None:
    """A (timestamp, uuid) position, e.g. (joined_at, user_id)."""
    key = decode_cursor(cursor, 2)
    if key is None:
        return None
    try:
        moment, ident = datetime.fromisoformat(str(key[0])), UUID(str(key[1]))
    except ValueError:
        raise _invalid() from None
    if moment.tzinfo is None:
        raise _invalid()
    return moment, ident


def text_and_id(cursor: str | None) -> tuple[str, UUID] | None:
    """A (text, uuid) position, e.g. (lower(name), id)."""
    key = decode_cursor(cursor, 2)
    if key is None:
        return None
    if not isinstance(key[0], str):
        raise _invalid()
    try:
        return key[0], UUID(str(key[1]))
    except ValueError:
        raise _invalid() from None


def integer(cursor: str | None) -> int | None:
    """An integer position, e.g. an identity column."""
    key = decode_cursor(cursor, 1)
    if key is None:
        return None
    if not isinstance(key[0], int) or isinstance(key[0], bool) or not 0 < key[0] < 2**63:
        raise _invalid()
    return key[0]


def number_and_id(cursor: str | None) -> tuple[float, UUID] | None:
    """A (number, uuid) position, e.g. (search rank, id)."""
    key = decode_cursor(cursor, 2)
    if key is None:
        return None
    if not isinstance(key[0], int | float) or isinstance(key[0], bool):
        raise _invalid()
    try:
        return float(key[0]), UUID(str(key[1]))
    except ValueError:
        raise _invalid() from None
