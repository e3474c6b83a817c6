"""The contract of the `admin-dashboard` function: the platform's and a community's counts."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from shared.platform.validation import View


class CommunityCounts(View):
    """Communities by status."""

    active: int
    archived: int
    templates: int


class UserCounts(View):
    """Users by status and recent activity."""

    total: int
    active: int
    deactivated: int
    active_last_7_days: int


class StaffCounts(View):
    """Platform staff by role."""

    total: int
    super_admin: int
    manager: int
    specialist: int


class ContentCounts(View):
    """Content items by status and owner, by type, and the grants that hand them out."""

    items: int
    published: int
    draft: int
    archived: int
    platform: int = Field(description="Items written by staff for every community (no owner)")
    grants: int
    by_type: dict[str, int] = Field(description="Items per type (types without items are left out)")


class PlatformOverview(View):
    """The staff dashboard's counts."""

    communities: CommunityCounts
    users: UserCounts
    staff: StaffCounts
    content: ContentCounts


class CommunityOverview(View):
    """A community dashboard's counts."""

    community_id: UUID
    members: int = Field(description="Every membership, admins included")
    admins: int
    active_last_7_days: int
    tags: int
    pending_invitations: int
    signup_links_active: int
    content_items: int = Field(description="The community's own content items, any status")
    content_published: int = Field(description="The community's own items that are published")
    content_granted: int = Field(description="Items granted in the community (its own and platform content)")
    latest_digest_id: UUID | None = Field(
        description="The latest weekly digest (read it at `reports/{id}`); null before the first"
    )
