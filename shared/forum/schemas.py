"""The contract of the `forum` function: posts, replies, reactions, reports and moderation."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field

from shared.platform.pagination import PageQuery
from shared.platform.validation import Body, NotNull, Patch, PlainText, Query, View

ReactionKind = Literal["like", "love", "insightful", "celebrate", "laugh"]
PostAction = Literal["pin", "unpin", "lock", "unlock", "hide", "restore"]
ReplyAction = Literal["hide", "restore"]
MAX_TAGS = 10
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_markdown(text: str) -> str:
    """Markdown as stored: line ends normalised, control characters (but tab and newline) removed."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def _non_empty(text: str) -> str:
    if not text:
        raise ValueError("may not be empty once control characters are removed")
    return text


Markdown = Annotated[
    str,
    Field(min_length=1, max_length=20000, description="Markdown; rendered by the frontend with raw HTML off"),
    AfterValidator(clean_markdown),
    AfterValidator(_non_empty),
]
Title = Annotated[PlainText, Field(min_length=1, max_length=200)]
TagIds = Annotated[list[UUID], Field(max_length=MAX_TAGS, description="Tags of the community (its user tags)")]


class CreatePost(Body):
    """A new post in a community's forum; `content_item_id` names an item you can see there."""

    community_id: UUID
    title: Title
    body: Markdown
    tag_ids: TagIds = Field(default_factory=list)
    content_item_id: UUID | None = None


class EditPost(Patch):
    """Your own post's new title, body or tags, within an hour of posting; the old text is kept."""

    title: Annotated[Title | None, *NotNull] = None
    body: Annotated[Markdown | None, *NotNull] = None
    tag_ids: Annotated[TagIds | None, *NotNull] = None


class CreateReply(Body):
    """A reply to the post, or (with `parent_id`) to one of its replies."""

    body: Markdown
    parent_id: UUID | None = None


class EditReply(Body):
    """Your own reply's new body, within an hour of replying; the old text is kept."""

    body: Markdown


class Report(Body):
    """Why the post or reply should be looked at (each member reports each once)."""

    reason: Annotated[PlainText, Field(min_length=1, max_length=1000)]


class ModeratePost(Body):
    """A moderator's action on a post."""

    action: PostAction


class ModerateReply(Body):
    """A moderator's action on a reply."""

    action: ReplyAction


class Reaction(Body):
    """A reaction of one kind (each member has at most one of each kind on a post or reply)."""

    kind: ReactionKind


class ReactionQuery(Query):
    """The kind of reaction to take back."""

    kind: ReactionKind


class PostListQuery(PageQuery):
    """A community's posts: newest first or most recently active, optionally searched or narrowed."""

    community_id: UUID
    sort: Literal["newest", "active"] = "newest"
    q: str | None = Field(default=None, min_length=1, max_length=200, description="Full-text search")
    tag_id: UUID | None = None
    pinned: bool | None = Field(default=None, description="true: only pinned posts (shown above the list)")


class ReportQueueQuery(PageQuery):
    """The open reports of a community, oldest first."""

    community_id: UUID


class CommunityQuery(Query):
    """The community a list belongs to."""

    community_id: UUID


class ReactionCount(View):
    """How many members reacted with one kind, and whether you did."""

    kind: ReactionKind
    count: int
    mine: bool


class TagRef(View):
    """A forum tag: one of the community's tags."""

    id: UUID
    name: str
    color: str | None


class PostView(View):
    """A post as the list and the thread show it."""

    id: UUID
    community_id: UUID
    author_id: UUID | None
    author_name: str | None
    title: str
    body: str
    tags: list[TagRef]
    content_item_id: UUID | None
    is_pinned: bool
    is_locked: bool
    is_hidden: bool = Field(description="Hidden by a moderator: only admins and staff see it")
    reply_count: int = Field(description="Replies its readers see: neither hidden by a moderator nor deleted")
    reactions: list[ReactionCount]
    created_at: datetime
    edited_at: datetime | None
    last_activity_at: datetime


class PostPage(View):
    """One page of posts."""

    items: list[PostView]
    next_cursor: str | None


class ReplyView(View):
    """A reply; `parent_id` places it in the thread. A deleted reply keeps its place without its text."""

    id: UUID
    post_id: UUID
    parent_id: UUID | None
    author_id: UUID | None
    author_name: str | None
    body: str
    is_hidden: bool
    is_deleted: bool
    reactions: list[ReactionCount]
    created_at: datetime
    edited_at: datetime | None


class ThreadView(View):
    """A post with its replies in the order they were written (build the tree from `parent_id`)."""

    post: PostView
    replies: list[ReplyView]


class EditView(View):
    """An earlier version of a post or reply."""

    id: int
    editor_id: UUID | None
    title: str | None
    body: str
    edited_at: datetime


class EditHistory(View):
    """The earlier versions of a post or reply, oldest first (its author, the admins and staff read them)."""

    items: list[EditView]


class ReportView(View):
    """A report in the queue."""

    id: UUID
    community_id: UUID
    post_id: UUID
    reply_id: UUID | None
    reporter_id: UUID
    reason: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: Literal["hidden", "dismissed"] | None


class ReportPage(View):
    """One page of open reports."""

    items: list[ReportView]
    next_cursor: str | None


class Moderated(View):
    """What a moderation action left: the post or reply's moderation state."""

    id: UUID
    is_pinned: bool | None = None
    is_locked: bool | None = None
    is_hidden: bool
    changed: bool


class Deleted(View):
    """What was deleted."""

    id: UUID
    deleted: bool = True
