"""The invitations' contract: invite, list, revoke and resend (admins); the invitee's own invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field

from shared.identity.onboarding.csv_rows import MAX_EMAIL, is_valid_email, normalize_email
from shared.identity.onboarding.join_tags import TagIds
from shared.identity.schemas import CommunityPageQuery
from shared.platform.validation import Body, PlainText, View

InvitationStatus = Literal["sent", "accepted", "declined", "revoked"]


def _email(value: str) -> str:
    value = normalize_email(value)
    if not is_valid_email(value):
        raise ValueError("must be an email address such as ada@example.com")
    return value


Email = Annotated[str, Field(min_length=3, max_length=MAX_EMAIL), AfterValidator(_email)]


class CreateInvitation(Body):
    """Invite an email address into the community with a role and tags."""

    community_id: UUID
    email: Email
    role: Literal["admin", "member"] = "member"
    tag_ids: TagIds = Field(default_factory=list)
    first_name: PlainText = Field("", max_length=100)
    last_name: PlainText = Field("", max_length=100)
    redirect_to: str | None = Field(
        None, max_length=2048, description="Where the invite link leads; an allowed origin of the app."
    )


class InvitationView(View):
    """An invitation as admins see it: `sent` (pending) until its invitee accepts or declines it.

    The answer to the invite request is the same whether or not the address has an account anywhere;
    `delivery` says whether the invitee was told yet (by e-mail, or in the app for an existing account).
    """

    id: UUID
    community_id: UUID
    email: str
    role: str
    tag_ids: list[UUID]
    first_name: str
    last_name: str
    source: Literal["invitation", "import"]
    user_id: UUID | None = Field(description="The invitee's account, once the invitation was delivered.")
    status: InvitationStatus
    delivery: Literal["pending", "sent", "failed"]
    delivery_error: str | None = Field(description="Why the delivery failed, as a stable code.")
    delivered_at: datetime | None
    invited_by: UUID | None
    created_at: datetime
    updated_at: datetime


class InvitationQuery(CommunityPageQuery):
    """A page of a community's invitations, newest first."""

    status: InvitationStatus | None = None


class InvitationPage(View):
    """Invitations and the cursor of the next page (null on the last)."""

    items: list[InvitationView]
    next_cursor: str | None


class MyInvitationView(View):
    """An invitation as its invitee sees it."""

    id: UUID
    community_id: UUID
    community_name: str
    role: Literal["admin", "member"]
    status: InvitationStatus
    invited_at: datetime


class MyInvitationPage(View):
    """The caller's pending invitations and the cursor of the next page (null on the last)."""

    items: list[MyInvitationView]
    next_cursor: str | None
