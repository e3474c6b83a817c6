"""The people-administration contract: request and response models of members, tags, staff and audit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from shared.identity.schemas import CommunityPageQuery
from shared.platform.pagination import PageQuery
from shared.platform.validation import Body, DateTimeParam, NotNull, Patch, PlainText, Query, View

CommunityRole = Literal["admin", "member"]
StaffRole = Literal["super_admin", "manager", "specialist"]
Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="Hex colour, #rrggbb")]
TagName = Annotated[PlainText, Field(min_length=1, max_length=60)]
DEFAULT_TAG_COLOR = "#6b7280"
MAX_TAGS_PER_REQUEST = 100

# ---------------------------------------------------------------------------------------------------
# Members
# ---------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------------------------------


class TagView(View):
    """A community's tag and how many members hold it."""

    id: UUID
    community_id: UUID
    name: str
    color: str
    member_count: int
    created_at: datetime
    updated_at: datetime


class TagPage(View):
    """One page of a community's tags, by name."""

    items: list[TagView]
    next_cursor: str | None


class CreateTag(Body):
    """A new tag of a community; the name is unique within the community, whatever its case."""

    community_id: UUID
    name: TagName
    color: Color = DEFAULT_TAG_COLOR


class UpdateTag(Patch):
    """Rename and/or recolour a tag; omitted fields stay as they are."""

    name: Annotated[TagName | None, *NotNull] = None
    color: Annotated[Color | None, *NotNull] = None


class DeleteTagQuery(Query):
    """Deleting a tag removes it from every member holding it, so it must be confirmed."""

    confirm: bool = Field(default=False, description="Must be true: the tag's assignments are removed too")


class TagDeleted(View):
    """What deleting a tag removed."""

    id: UUID
    assignments_removed: int


# ---------------------------------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------------------------------


class StaffView(View):
    """A platform staff member and their role."""

    user_id: UUID
    email: str
    first_name: str
    last_name: str
    role: StaffRole
    granted_by: UUID | None
    created_at: datetime
    updated_at: datetime


class StaffPage(View):
    """One page of platform staff, longest-serving first."""

    items: list[StaffView]
    next_cursor: str | None


class SetStaffRole(Body):
    """The staff role the user holds afterwards."""

    role: StaffRole


# ---------------------------------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------------------------------


class AuditEntryView(View):
    """One administrative action: who, what, on which target, before and after, from where."""

    id: int
    occurred_at: datetime
    actor_id: UUID | None
    actor_type: str
    actor_email: str | None
    action: str
    target_type: str
    target_id: str | None
    community_id: UUID | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    ip: str | None
    user_agent: str | None


class AuditPage(View):
    """One page of audit entries, newest first."""

    items: list[AuditEntryView]
    next_cursor: str | None


class AuditQuery(PageQuery):
    """Filters of the audit trail; all of them narrow the result. Without a community: staff only."""

    community_id: UUID | None = Field(
        default=None, description="Only entries of this community (required of its admins)"
    )
    actor_id: UUID | None = Field(default=None, description="Only actions by this user")
    action: str | None = Field(default=None, max_length=100, description="e.g. member.role_changed")
    target_type: str | None = Field(default=None, max_length=60, description="e.g. membership, user_tag")
    target_id: str | None = Field(default=None, max_length=200, description="The target's id")
    from_: DateTimeParam | None = Field(
        default=None, alias="from", description="Entries at or after (ISO 8601)"
    )
    to: DateTimeParam | None = Field(default=None, description="Entries before (ISO 8601)")
