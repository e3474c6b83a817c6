"""The catalogue contract: the published items granted to the caller, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from shared.content.model import ItemType
from shared.platform.pagination import PageQuery
from shared.platform.validation import View


class CatalogueQuery(PageQuery):
    """Filters of the caller's catalogue; all of them narrow the result."""

    community_id: UUID | None = Field(
        default=None, description="Only what is granted through this community (default: all of the caller's)"
    )
    type: ItemType | None = Field(default=None, description="Only items of this type")
    tag: str | None = Field(
        default=None, min_length=1, max_length=60, description="Only items with this label"
    )
    q: str | None = Field(
        default=None, min_length=1, max_length=200, description="Full-text search (web search syntax)"
    )


class CatalogueItem(View):
    """An item as the catalogue lists it; its payload is read from the item itself."""

    id: UUID
    type: ItemType
    title: str
    description: str
    thumbnail_url: str | None
    tags: list[str]
    community_id: UUID | None = Field(description="The owning community; null for platform content")
    published_at: datetime
    revision: int


class CataloguePage(View):
    """One page of the catalogue, newest first."""

    items: list[CatalogueItem]
    next_cursor: str | None


class CatalogueEntry(CatalogueItem):
    """A published item the caller may open, with its payload as a learner reads it."""

    payload: dict[str, Any] = Field(
        description="The type's payload (see `content`, `wods`, `blocks`, `programs`), without what a"
        " learner never reads: an AI agent's system prompt and model settings, a file's storage key."
        " A quiz never carries its answers"
    )
