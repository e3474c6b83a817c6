"""The onboarding contract: request and response models of signup links, invitations and imports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, Field, field_validator, model_validator

from shared.identity.onboarding.csv_rows import MAX_EMAIL, is_valid_email, normalize_email
from shared.identity.schemas import CommunityPageQuery
from shared.platform.validation import Body, Integral, PlainText, Query, View

MAX_LINK_LIFETIME = timedelta(days=365)
DEFAULT_LINK_DAYS = 30
MAX_IMPORT_BYTES = 5 * 1024 * 1024
TagIds = Annotated[list[UUID], Field(max_length=50, description="Tags of this community to apply on join.")]
LinkStatus = Literal["active", "expired", "revoked", "exhausted"]
InvitationStatus = Literal["sent", "accepted", "declined", "revoked"]


def _email(value: str) -> str:
    value = normalize_email(value)
    if not is_valid_email(value):
        raise ValueError("must be an email address such as ada@example.com")
    return value


Email = Annotated[str, Field(min_length=3, max_length=MAX_EMAIL), AfterValidator(_email)]


# --- signup links -------------------------------------------------------------------------------------


class CreateSignupLink(Body):
    """A new self-service join link; give `expires_at` or `expires_in_days` (default 30 days), not both."""

    community_id: UUID
    label: PlainText = Field("", max_length=120)
    expires_at: AwareDatetime | None = Field(None, description="In the future and at most one year ahead.")
    expires_in_days: Annotated[int, Field(ge=1, le=365), Integral] | None = None
    max_uses: Annotated[int, Field(ge=1, le=1_000_000), Integral] | None = None
    tag_ids: TagIds = Field(default_factory=list)

    @field_validator("expires_at")
    @classmethod
    def _within_a_year(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        now = datetime.now(UTC)
        if value <= now:
            raise ValueError("must be in the future")
        if value > now + MAX_LINK_LIFETIME:
            raise ValueError("may be at most one year ahead")
        return value

    @model_validator(mode="after")
    def _one_expiry(self) -> CreateSignupLink:
        if self.expires_at is not None and self.expires_in_days is not None:
            raise ValueError("give expires_at or expires_in_days, not both")
        return self

    def expiry(self) -> datetime:
        """When the link stops working."""
        if self.expires_at is not None:
            return self.expires_at
        return datetime.now(UTC) + timedelta(days=self.expires_in_days or DEFAULT_LINK_DAYS)


class SignupLinkView(View):
    """A signup link as admins see it: never its token, which was shown once at creation."""

    id: UUID
    community_id: UUID
    label: str
    status: LinkStatus
    expires_at: datetime
    max_uses: int | None
    use_count: int
    tag_ids: list[UUID]
    created_by: UUID | None
    created_at: datetime
    revoked_at: datetime | None


class CreatedSignupLink(SignupLinkView):
    """The new link with its token: shown in this response only (a replay of the request omits it)."""

    token: str | None = Field(description="The secret of the link; null in an idempotent replay.")
    join_url: str | None = Field(description="Where a user redeems it; the token travels in the fragment.")


class SignupLinkQuery(CommunityPageQuery):
    """A page of a community's signup links, newest first."""

    status: LinkStatus | None = None


class SignupLinkPage(View):
    """Signup links and the cursor of the next page (null on the last)."""

    items: list[SignupLinkView]
    next_cursor: str | None


class RedeemSignupLink(Body):
    """The token of a signup link."""

    token: str = Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")


class Redeemed(View):
    """The outcome of redeeming a link: joined now, or was a member already."""

    outcome: Literal["joined", "already_member"]
    community_id: UUID


# --- invitations --------------------------------------------------------------------------------------


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


# --- imports ------------------------------------------------------------------------------------------


class CreateImport(Body):
    """A CSV file inside JSON, for clients that cannot send `text/csv`."""

    csv: str = Field(min_length=1, max_length=MAX_IMPORT_BYTES)
    filename: PlainText | None = Field(None, max_length=255)


class UploadQuery(Query):
    """The community an upload is for (its body is the file) and, with `text/csv`, the file's name."""

    community_id: UUID = Field(description="The community the people are invited into")
    filename: PlainText | None = Field(None, max_length=255)


class ImportJobView(View):
    """An import job and its progress: processed = succeeded + failed, out of total.

    A row is processed once its invitation was delivered (or it failed); `completed` when all are.
    """

    id: UUID
    community_id: UUID
    filename: str
    status: Literal["queued", "running", "completed", "failed"]
    total: int
    processed: int
    succeeded: int
    failed: int
    failure_reason: str | None = Field(description="Why the worker gave up on a `failed` job.")
    created_by: UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportJobPage(View):
    """Import jobs and the cursor of the next page (null on the last)."""

    items: list[ImportJobView]
    next_cursor: str | None
