"""The grants contract: hand an item to a community, one of its tags or one of its members, for a window."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator
from pydantic_core import PydanticCustomError

from shared.platform.pagination import PageQuery
from shared.platform.validation import Body, DateTimeParam, Patch, View

GrantTarget = Literal["community", "tag", "user"]
WindowState = Literal["scheduled", "open", "ended"]


WINDOW_ORDER = "ends_at must be later than starts_at"


def is_window_ordered(starts_at: datetime | None, ends_at: datetime | None) -> bool:
    """Whether a window ends after it starts (either end may be open)."""
    return starts_at is None or ends_at is None or ends_at > starts_at


class CreateGrant(Body):
    """Grant an item to a community as a whole, or to one of its tags (`tag_id`) or members (`user_id`)."""

    item_id: UUID
    community_id: UUID = Field(description="The community the item is granted in")
    tag_id: UUID | None = Field(default=None, description="Only members holding this tag of the community")
    user_id: UUID | None = Field(default=None, description="Only this member of the community")
    starts_at: AwareDatetime | None = Field(default=None, description="Visible from (inclusive); none: now")
    ends_at: AwareDatetime | None = Field(default=None, description="Visible until (exclusive); none: open")

    @model_validator(mode="after")
    def _one_target_and_a_window(self) -> Self:
        if self.tag_id is not None and self.user_id is not None:
            raise PydanticCustomError("one_target", "name a tag_id or a user_id, not both")
        if not is_window_ordered(self.starts_at, self.ends_at):
            raise PydanticCustomError("window_order", WINDOW_ORDER)
        return self


class UpdateGrant(Patch):
    """Move a grant's window; an omitted end stays as it is, null opens it."""

    # A PATCH body is validated from a dict (its "before" check), where strict mode takes no strings.
    starts_at: DateTimeParam | None = Field(
        default=None, strict=False, description="Visible from (inclusive)"
    )
    ends_at: DateTimeParam | None = Field(default=None, strict=False, description="Visible until (exclusive)")


class GrantQuery(PageQuery):
    """The grants of one item (`?item_id=`) or of one community (`?community_id=`), newest first."""

    item_id: UUID | None = Field(default=None, description="The grants of this item")
    community_id: UUID | None = Field(default=None, description="The grants in this community")

    @model_validator(mode="after")
    def _one_scope(self) -> Self:
        if (self.item_id is None) == (self.community_id is None):
            raise PydanticCustomError("one_scope", "name exactly one of item_id and community_id")
        return self


class GrantView(View):
    """A grant: the item, where and to whom it is granted, and its window."""

    id: UUID
    item_id: UUID
    community_id: UUID
    target: GrantTarget
    tag_id: UUID | None
    user_id: UUID | None
    starts_at: datetime | None
    ends_at: datetime | None
    window_state: WindowState = Field(description="Before its start, inside its window, or past its end")
    created_by: UUID | None
    created_at: datetime


class GrantPage(View):
    """One page of grants, newest first."""

    items: list[GrantView]
    next_cursor: str | None


class GrantRevoked(View):
    """The grant that was revoked."""

    id: UUID
    item_id: UUID
    community_id: UUID
