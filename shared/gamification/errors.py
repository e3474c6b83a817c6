"""Errors of the gamification context, each with its stable problem code."""

from __future__ import annotations

from shared.platform.errors import ConflictError, NotFoundError


class AchievementNotFoundError(NotFoundError):
    title = "No such achievement"


class AchievementCodeTakenError(ConflictError):
    code, title = "achievement_code_taken", "Achievement code taken"
