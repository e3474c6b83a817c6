"""Errors of conversations: a conversation the caller may not read answers exactly as a missing one."""

from __future__ import annotations

from shared.platform.errors import NotFoundError


class ConversationNotFoundError(NotFoundError):
    title = "No such conversation"
