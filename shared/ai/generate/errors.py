"""Errors of AI generation, each with its stable problem code."""

from __future__ import annotations

from shared.platform.errors import AppError


class GenerationInvalidError(AppError):
    """The provider answered twice with something that is not a valid block of the type asked for."""

    status, code, title = 502, "generation_invalid", "The AI did not write a valid block"
