"""What an AI route answers when its provider call fails: each a problem with a stable code.

Built from our own words only: a provider's error text (which may echo the key) never reaches a caller.
"""

from __future__ import annotations

from shared.platform.errors import AppError, UnavailableError


class AiRequestRefusedError(AppError):
    """The provider refused our request itself (a 4xx other than auth or rate limits): a bug of ours."""

    status, code, title = 502, "ai_request_refused", "The AI provider refused the request"


class AiInterruptedError(AppError):
    """The answer had begun and the provider broke off (chat: what arrived is stored, marked interrupted)."""

    status, code, title = 502, "ai_interrupted", "The AI answer broke off"


class AiUnavailableError(UnavailableError):
    """No provider answered (every candidate failed, or the answer broke off): worth trying again later."""

    code, title = "ai_unavailable", "No AI provider answered"
