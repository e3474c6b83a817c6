"""Errors of content grants, each with its stable problem code."""

from __future__ import annotations

from shared.platform.errors import ConflictError, NotFoundError


class GrantNotFoundError(NotFoundError):
    title = "No such grant"


class GrantExistsError(ConflictError):
    code, title = "grant_exists", "Already granted"

    def __init__(self) -> None:
        super().__init__("This item is already granted to this target; change that grant's window instead.")


class GrantOutsideOwnerError(ConflictError):
    code, title = "grant_outside_owner", "Granted outside its community"

    def __init__(self) -> None:
        super().__init__("A community's own item can only be granted within that community.")
