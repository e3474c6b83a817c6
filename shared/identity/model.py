"""Identity rules that need no I/O."""

from __future__ import annotations

import re
from functools import lru_cache

_TZ_SHAPE = re.compile(r"^(?:UTC|[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2})$")


@lru_cache(maxsize=512)
def is_iana_timezone(name: str) -> bool:
    """Whether `name` is a time zone of the IANA database (e.g. Europe/Berlin), not a path or an offset."""
    if not _TZ_SHAPE.match(name) or len(name) > 64:
        return False
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
