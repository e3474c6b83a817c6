"""Errors of the communities context, each with a stable code."""

from __future__ import annotations

from shared.platform.errors import ConflictError, NotFoundError


class CommunityNotFoundError(NotFoundError):
    """No such community, or one the caller may not see (the two are not told apart)."""

    def __init__(self) -> None:
        super().__init__("No such community.")


class CommunityNameTakenError(ConflictError):
    code, title = "community_name_taken", "Community name taken"


class CommunitySlugTakenError(ConflictError):
    code, title = "community_slug_taken", "Community slug taken"


class StaleVersionError(ConflictError):
    code, title = "stale_version", "Stale version"

    def __init__(self) -> None:
        super().__init__("The community changed since you read it; read it again and reapply your change.")
