"""Errors of onboarding, each with its stable problem code."""

from __future__ import annotations

from shared.platform.errors import AppError, ConflictError, NotFoundError


class CommunityNotFoundError(NotFoundError):
    """No community has this id."""


class SignupLinkNotFoundError(NotFoundError):
    """The community has no signup link with this id."""


class InvitationNotFoundError(NotFoundError):
    """No invitation with this id that the caller may see (its community's, or their own as invitee)."""


class ImportJobNotFoundError(NotFoundError):
    """The community has no import job with this id."""


class SignupLinkUnknownError(NotFoundError):
    code, title = "signup_link_unknown", "Unknown signup link"


class SignupLinkExpiredError(AppError):
    status, code, title = 410, "signup_link_expired", "Signup link expired"


class SignupLinkRevokedError(AppError):
    status, code, title = 410, "signup_link_revoked", "Signup link revoked"


class SignupLinkExhaustedError(ConflictError):
    code, title = "signup_link_exhausted", "Signup link used up"


class CommunityArchivedError(ConflictError):
    code, title = "community_archived", "Community archived"


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
