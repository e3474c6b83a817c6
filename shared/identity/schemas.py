"""The identity contract: request and response models of the `me` function, and the community scope of lists."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field

from shared.identity.model import is_iana_timezone
from shared.platform.pagination import PageQuery
from shared.platform.validation import NotNull, Patch, PlainText, View, WebUrl


def _timezone(value: str) -> str:
    if not is_iana_timezone(value):
        raise ValueError("must be an IANA time zone name such as Europe/Berlin")
    return value


Timezone = Annotated[str, AfterValidator(_timezone)]
Name = Annotated[PlainText, Field(max_length=100)]


NO_SUCH_COMMUNITY = {404: "No such community, or one the caller cannot see"}
"""The extra answer of a route that names its community in the query or body rather than the path."""


class CommunityPageQuery(PageQuery):
    """A page of one community's items: a collection names its community in the query."""

    community_id: UUID = Field(description="The community whose items are listed")


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
