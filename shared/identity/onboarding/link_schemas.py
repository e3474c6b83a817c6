"""The signup links' contract: create, list and revoke them (admins), redeem one (any signed-in user)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, field_validator, model_validator

from shared.identity.onboarding.join_tags import TagIds
from shared.identity.schemas import CommunityPageQuery
from shared.platform.validation import Body, Integral, PlainText, View

MAX_LINK_LIFETIME = timedelta(days=365)
DEFAULT_LINK_DAYS = 30
LinkStatus = Literal["active", "expired", "revoked", "exhausted"]


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
