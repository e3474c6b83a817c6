"""The contract of the page routes of `wods` and `blocks`: add, save, move and remove pages and blocks,
duplicate an item. Each change names the revision it is made against (here or in If-Match)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from shared.authoring.blocks import Blocks
from shared.authoring.model import MAX_BLOCKS
from shared.authoring.pages import MAX_PAGES, Page, PageTitle
from shared.content.fields import Revision, Title
from shared.platform.validation import Body, Integral, NotNull

NamedRevision = Annotated[Revision | None, *NotNull]
PagePosition = Annotated[int, Field(ge=0, le=MAX_PAGES - 1), Integral]
BlockPosition = Annotated[int, Field(ge=0, le=MAX_BLOCKS - 1), Integral]


class NewPage(Page):
    """A page to add: its title and blocks (ids are assigned when absent), and where it goes."""

    position: PagePosition | None = Field(
        default=None, description="Its place among the pages (0: first); absent: after the last"
    )
    revision: NamedRevision = None


class SavePage(Body):
    """A page's new title and blocks, replacing what it holds; a quiz comes with its answers. A block of
    another page cannot be saved here: move it."""

    title: PageTitle = ""
    blocks: Blocks = Field(default_factory=list)
    revision: NamedRevision = None


class MovePage(Body):
    """Where the page goes, in the resulting order (0: first)."""

    position: PagePosition
    revision: NamedRevision = None


class MoveBlock(Body):
    """Where the block goes: a page (absent: its own) and a place on it, in the resulting order."""

    page_id: UUID | None = Field(default=None, description="The page to move it to; absent: its own page")
    position: BlockPosition
    revision: NamedRevision = None


class Duplicate(Body):
    """A copy of the item as a new draft of the same owner, in the same folder, with new ids throughout."""

    title: Title | None = Field(default=None, description="The copy's title; absent: the original's + (copy)")
