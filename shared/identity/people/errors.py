"""Errors of people administration, each with its stable problem code."""

from __future__ import annotations

from shared.platform.errors import ConflictError, NotFoundError


class CommunityNotFoundError(NotFoundError):
    """No community has this id."""


class MemberNotFoundError(NotFoundError):
    """The user is not a member of this community."""


class TagNotFoundError(NotFoundError):
    """The community has no tag with this id."""


class UserNotFoundError(NotFoundError):
    """No user (profile) has this id."""


class StaffNotFoundError(NotFoundError):
    """The user holds no staff role."""


class TagNameTakenError(ConflictError):
    code, title = "tag_name_taken", "Tag name taken"


class OwnAccountError(ConflictError):
    code, title = "own_account", "Not on your own account"
