"""The audit trail's contract: administrative actions, filtered."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from shared.platform.pagination import PageQuery
from shared.platform.validation import DateTimeParam, View


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
