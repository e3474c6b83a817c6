"""The members' contract: a community's members, their roles and tags, and account status.

Tags, staff and the audit trail have their own schema modules, so that each function's routes build only
the models they declare (cold start).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.identity.schemas import CommunityPageQuery
from shared.platform.validation import Body, View

CommunityRole = Literal["admin", "member"]
MAX_TAGS_PER_REQUEST = 100



class TagRef(View):
    """A tag as shown on a member."""

    id: UUID
    name: str
    color: str


class MemberView(View):
    """A member of a community: who they are, their role there, their account status and tags."""

    user_id: UUID
    email: str
    first_name: str
    last_name: str
    role: CommunityRole
    joined_at: datetime
    source: str
    status: str
    tags: list[TagRef]


class MemberPage(View):
    """One page of a community's members, newest first."""

    items: list[MemberView]
    next_cursor: str | None


class MemberQuery(CommunityPageQuery):
    """Filters of a community's member list; all of them narrow the result."""

    q: str | None = Field(default=None, max_length=100, description="Text within name or email")
    role: CommunityRole | None = Field(default=None, description="Only members with this role")
    tag: UUID | None = Field(default=None, description="Only members holding this tag (its id)")


class ChangeMemberRole(Body):
    """The member's new role in the community."""

    role: CommunityRole


class ReplaceMemberTags(Body):
    """The complete set of tags the member holds afterwards (an empty list removes all)."""

    tag_ids: list[UUID] = Field(max_length=MAX_TAGS_PER_REQUEST)


class AccountStatusView(View):
    """A user's account status."""

    user_id: UUID
    email: str
    status: Literal["active", "deactivated"]
