"""The `me` function's contract: the caller's profile and memberships, and the changes they may make."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field

from shared.identity.model import is_iana_timezone
from shared.platform.validation import NotNull, Patch, PlainText, View, WebUrl


def _timezone(value: str) -> str:
    if not is_iana_timezone(value):
        raise ValueError("must be an IANA time zone name such as Europe/Berlin")
    return value


Timezone = Annotated[str, AfterValidator(_timezone)]
Name = Annotated[PlainText, Field(max_length=100)]


class MembershipView(View):
    """A community the caller belongs to."""

    community_id: UUID
    name: str
    slug: str
    role: str


class MeView(View):
    """The caller: profile, staff role and memberships. Every valid token gets one, never null."""

    id: UUID
    email: str | None
    first_name: str
    last_name: str
    avatar_url: str | None
    timezone: str
    status: str
    staff_role: str | None
    roles: list[str]
    memberships: list[MembershipView]


class UpdateProfile(Patch):
    """Fields a user may change on their own profile; omitted fields stay as they are, null clears the avatar."""

    first_name: Annotated[Name | None, *NotNull] = None
    last_name: Annotated[Name | None, *NotNull] = None
    avatar_url: WebUrl | None = None
    timezone: Annotated[Timezone | None, *NotNull] = None
