"""A learner's streak as the API shows it: read as the caller, as of now in their time zone."""

from __future__ import annotations

from shared.gamification.streak_schemas import StreakView
from shared.platform.db import Row
from shared.platform.errors import NotFoundError


def streak_view(rows: list[Row]) -> StreakView:
    """The streak `repository.my_streak_statement` read (every signed-in user has a profile)."""
    if not rows:
        raise NotFoundError("No profile for this account.")
    return StreakView.model_validate(rows[0])
