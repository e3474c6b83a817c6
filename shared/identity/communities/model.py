"""Community rules that need no I/O: field shapes, who-changes-what sets, versions and search patterns."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$"
"""2 to 64 characters of a-z, 0-9 and '-', neither starting nor ending with '-'."""
COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"
FEATURE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,49}$"
MAX_FEATURES = 50
FORUM_FLAG = "forum"
"""Not a feature flag: `forum_enabled` is the forum's only switch (the database refuses the flag too)."""
KEY_PROVIDERS = ("openai", "anthropic", "gemini")
PROVIDERS = (*KEY_PROVIDERS, "offline")

ADMIN_FIELDS = frozenset({"name", "project_name", "logo_url", "brand_color", "forum_enabled"})
"""Community settings its own admins may change."""
PLATFORM_FIELDS = frozenset({"slug", "status", "is_template"})
"""Community fields only platform staff who may write change (the database refuses anyone else too)."""
AI_ADMIN_FIELDS = frozenset({"default_provider", "default_model", "conversation_retention_days"})
AI_PLATFORM_FIELDS = frozenset({"monthly_token_quota"})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def version_of(updated_at: datetime) -> int:
    """A row's version: microseconds since the epoch of its `updated_at`, computed exactly."""
    return (updated_at - _EPOCH) // _MICROSECOND


def etag_of(updated_at: datetime) -> str:
    """The weak ETag of a row version, `W/"<epoch-micros>"`."""
    return f'W/"{version_of(updated_at)}"'


def if_match_holds(if_match: str | None, current: str) -> bool:
    """Whether an If-Match header allows writing over `current` (absent or `*` always does).

    Comparison is weak (RFC 9110 §8.8.3.2): `W/"1"` and `"1"` name the same version.
    """
    if if_match is None:
        return True
    wanted = {tag.strip().removeprefix("W/") for tag in if_match.split(",") if tag.strip()}
    return "*" in wanted or current.removeprefix("W/") in wanted


def changed_values(current: Mapping[str, Any], requested: Mapping[str, Any]) -> dict[str, Any]:
    """The requested values that differ from the current ones."""
    return {name: value for name, value in requested.items() if current.get(name) != value}


def like_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, with `\\`, `%` and `_` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def merged_features(template: Mapping[str, bool] | None, given: Mapping[str, bool] | None) -> dict[str, bool]:
    """A cloned community's flags: the template's, overridden by the ones given explicitly."""
    return {**(template or {}), **(given or {})}
