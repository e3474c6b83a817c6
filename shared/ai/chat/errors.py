"""How a turn is refused before it begins (provider failures are shared/ai/errors.py's, as for every AI route)."""

from __future__ import annotations

from shared.platform.errors import ConflictError, NotFoundError


class ConversationNotFoundError(NotFoundError):
    code, title = "no_such_conversation", "No such conversation"


class AgentMismatchError(ConflictError):
    code, title = "agent_mismatch", "Another agent's conversation"
