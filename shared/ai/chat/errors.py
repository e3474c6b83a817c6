"""How a turn fails, as problems: never with a provider's own words or a key."""

from __future__ import annotations

from shared.platform.errors import AppError, ConflictError, NotFoundError


class ConversationNotFoundError(NotFoundError):
    code, title = "no_such_conversation", "No such conversation"


class ProviderUnavailableError(AppError):
    """No provider answered (every candidate failed before its first token)."""

    status, code, title = 503, "provider_unavailable", "AI provider unavailable"


class ProviderRefusedError(AppError):
    """The provider refused our request itself; another provider would not accept it either."""

    status, code, title = 502, "provider_error", "AI provider error"


class ProviderInterruptedError(AppError):
    """The answer had begun and the provider broke off; what it said is stored, marked interrupted."""

    status, code, title = 502, "provider_interrupted", "AI answer interrupted"


class AgentMismatchError(ConflictError):
    code, title = "agent_mismatch", "Another agent's conversation"
