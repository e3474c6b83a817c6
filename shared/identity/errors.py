"""Errors of the identity context (communities, people, onboarding), each with its stable problem code.

A row that is absent and one the caller may not see (another community's) answer alike: each "not
found" carries one fixed detail, so nothing in the answer tells the two apart.
"""

from __future__ import annotations

from shared.platform.errors import AppError, ConflictError, NotFoundError

# --- not found ----------------------------------------------------------------------------------------


class CommunityNotFoundError(NotFoundError):
    title = "No such community"


class MemberNotFoundError(NotFoundError):
    title = "No such member"


class UserNotFoundError(NotFoundError):
    title = "No such user"


class StaffNotFoundError(NotFoundError):
    title = "No such staff member"


class TagNotFoundError(NotFoundError):
    title = "No such tag"


class TagNotHeldError(NotFoundError):
    title = "The member does not hold this tag"


class SignupLinkNotFoundError(NotFoundError):
    title = "No such signup link"


class InvitationNotFoundError(NotFoundError):
    title = "No such invitation"


class ImportJobNotFoundError(NotFoundError):
    title = "No such import"


# --- communities --------------------------------------------------------------------------------------


class CommunityNameTakenError(ConflictError):
    code, title = "community_name_taken", "Community name taken"


class CommunitySlugTakenError(ConflictError):
    code, title = "community_slug_taken", "Community slug taken"


class StaleVersionError(ConflictError):
    code, title = "stale_version", "Stale version"

    def __init__(self) -> None:
        super().__init__("The community changed since you read it; read it again and reapply your change.")


class CommunityArchivedError(ConflictError):
    code, title = "community_archived", "Community archived"


# --- people -------------------------------------------------------------------------------------------


class TagNameTakenError(ConflictError):
    code, title = "tag_name_taken", "Tag name taken"


class OwnAccountError(ConflictError):
    code, title = "own_account", "Not on your own account"


# --- onboarding ---------------------------------------------------------------------------------------


class SignupLinkUnknownError(NotFoundError):
    code, title = "signup_link_unknown", "Unknown signup link"


class SignupLinkExpiredError(AppError):
    status, code, title = 410, "signup_link_expired", "Signup link expired"


class SignupLinkRevokedError(AppError):
    status, code, title = 410, "signup_link_revoked", "Signup link revoked"


class SignupLinkExhaustedError(ConflictError):
    code, title = "signup_link_exhausted", "Signup link used up"


class AlreadyMemberError(ConflictError):
    code, title = "already_member", "Already a member"


class InvitationAcceptedError(ConflictError):
    code, title = "invitation_accepted", "Invitation already accepted"


class InvitationRevokedError(ConflictError):
    code, title = "invitation_revoked", "Invitation revoked"


class InvitationDeclinedError(ConflictError):
    code, title = "invitation_declined", "Invitation declined"


class InvitationPendingError(ConflictError):
    code, title = "invitation_pending", "Invitation pending"


class InvitationClosedError(ConflictError):
    code, title = "invitation_closed", "Invitation no longer pending"


class DeliveryNotFailedError(ConflictError):
    code, title = "delivery_not_failed", "Delivery has not failed"
