"""Forum use cases. Who may do what is decided in the database (row level security for reads, the checked
`app.forum_*` functions for writes); this layer answers first where it can, with a clear status, and
shapes the answers. A reply or post found by its own id is read as the caller first: what they cannot
see is a 404 before anything is attempted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from shared.forum import repository
from shared.forum.errors import ForumNotFoundError, PostNotFoundError, ReplyNotFoundError
from shared.forum.schemas import (
    CreatePost,
    CreateReply,
    Deleted,
    EditHistory,
    EditPost,
    EditReply,
    EditView,
    Moderated,
    PostListQuery,
    PostPage,
    PostView,
    ReplyView,
    Report,
    ReportPage,
    ReportQueueQuery,
    ReportView,
    ThreadView,
)
from shared.identity import policy
from shared.platform import cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Row, Tx
from shared.platform.pagination import page_of, time_and_id


async def require_open_forum(tx: Tx, principal: Principal, community_id: UUID) -> None:
    """404 unless the caller reads the community's forum: a member while it is on, or staff."""
    if principal.community_role(community_id) is None and not principal.is_staff:
        raise ForumNotFoundError()
    if not await repository.forum_open(tx, community_id):
        raise ForumNotFoundError()


async def list_posts(query: PostListQuery, *, tx: Tx, principal: Principal) -> PostPage:
    """A page of the community's posts the caller sees, newest first or most recently active."""
    after = cursors.time_and_id(query.cursor)
    await require_open_forum(tx, principal, query.community_id)
    rows = await repository.list_posts(
        tx,
        community_id=query.community_id,
        sort=query.sort,
        q=query.q,
        tag_id=query.tag_id,
        pinned=query.pinned,
        after=after,
        limit=query.limit + 1,
    )
    column = "last_activity_at" if query.sort == "active" else "created_at"
    page, next_cursor = page_of(rows, query.limit, key=time_and_id(column, "id"))
    return PostPage(items=[PostView.model_validate(r) for r in page], next_cursor=next_cursor)


async def create_post(cmd: CreatePost, *, tx: Tx, principal: Principal) -> PostView:
    """Post in a forum open to the caller (its events are sent by the database with it)."""
    await require_open_forum(tx, principal, cmd.community_id)
    post_id = await repository.create_post(
        tx, cmd.community_id, cmd.title, cmd.body, cmd.tag_ids, cmd.content_item_id
    )
    return await post_view(tx, post_id)


async def post_view(tx: Tx, post_id: UUID) -> PostView:
    """The post as the caller sees it, or 404."""
    return PostView.model_validate(await _post(tx, post_id))


async def thread(tx: Tx, post_id: UUID) -> ThreadView:
    """The post and the replies the caller sees."""
    post = await _post(tx, post_id)
    replies = await repository.replies_of(tx, post_id)
    return ThreadView(post=PostView.model_validate(post), replies=[ReplyView.model_validate(r) for r in replies])


async def edit_post(post_id: UUID, cmd: EditPost, *, tx: Tx) -> PostView:
    """Change the caller's own post within the edit window; the old text is kept."""
    await _post(tx, post_id)
    await repository.edit(tx, post_id, None, cmd.title, cmd.body, cmd.tag_ids)
    return await post_view(tx, post_id)


async def delete_post(post_id: UUID, *, tx: Tx) -> Deleted:
    """Delete the caller's own post and its thread."""
    await _post(tx, post_id)
    await repository.delete(tx, post_id, None)
    return Deleted(id=post_id)


async def create_reply(post_id: UUID, cmd: CreateReply, *, tx: Tx) -> ReplyView:
    """Reply in a thread the caller sees (refused in a locked one)."""
    await _post(tx, post_id)
    reply_id = await repository.create_reply(tx, post_id, cmd.parent_id, cmd.body)
    return ReplyView.model_validate(await _reply(tx, reply_id))


async def edit_reply(reply_id: UUID, cmd: EditReply, *, tx: Tx) -> ReplyView:
    """Change the caller's own reply within the edit window; the old text is kept."""
    reply = await _reply(tx, reply_id)
    await repository.edit(tx, reply["post_id"], reply_id, None, cmd.body, None)
    return ReplyView.model_validate(await _reply(tx, reply_id))


async def delete_reply(reply_id: UUID, *, tx: Tx) -> Deleted:
    """Delete the caller's own reply: its text goes, its place in the thread stays."""
    reply = await _reply(tx, reply_id)
    await repository.delete(tx, reply["post_id"], reply_id)
    return Deleted(id=reply_id)


async def react_to_post(post_id: UUID, kind: str, *, on: bool, tx: Tx) -> PostView:
    """Add (once) or take back the caller's reaction of this kind to a post; the post after it."""
    await _post(tx, post_id)
    await repository.react(tx, post_id, None, kind, on=on)
    return await post_view(tx, post_id)


async def react_to_reply(reply_id: UUID, kind: str, *, on: bool, tx: Tx) -> ReplyView:
    """Add (once) or take back the caller's reaction of this kind to a reply; the reply after it."""
    reply = await _reply(tx, reply_id)
    await repository.react(tx, reply["post_id"], reply_id, kind, on=on)
    return ReplyView.model_validate(await _reply(tx, reply_id))


async def report_post(post_id: UUID, cmd: Report, *, tx: Tx) -> ReportView:
    """Report a post the caller sees (once)."""
    await _post(tx, post_id)
    return ReportView.model_validate(await repository.report(tx, post_id, None, cmd.reason))


async def report_reply(reply_id: UUID, cmd: Report, *, tx: Tx) -> ReportView:
    """Report a reply the caller sees (once)."""
    reply = await _reply(tx, reply_id)
    return ReportView.model_validate(await repository.report(tx, reply["post_id"], reply_id, cmd.reason))


async def moderate_post(post_id: UUID, action: str, *, tx: Tx, principal: Principal, meta: RequestMeta) -> Moderated:
    """A moderator pins, unpins, locks, unlocks, hides or restores a post (audited by the database)."""
    post = await _post(tx, post_id)
    policy.require_community_writer(principal, post["community_id"])
    result = await repository.moderate(tx, post_id, None, action, meta)
    return _moderated(result["post"], changed=result["changed"])


async def moderate_reply(
    reply_id: UUID, action: str, *, tx: Tx, principal: Principal, meta: RequestMeta
) -> Moderated:
    """A moderator hides or restores a reply (audited by the database)."""
    reply = await _reply(tx, reply_id)
    policy.require_community_writer(principal, reply["community_id"])
    result = await repository.moderate(tx, reply["post_id"], reply_id, action, meta)
    return _moderated(result["reply"], changed=result["changed"])


async def report_queue(query: ReportQueueQuery, *, tx: Tx, principal: Principal) -> ReportPage:
    """The community's open reports, oldest first, for its admins and staff."""
    policy.require_community_reader(principal, query.community_id)
    after = cursors.time_and_id(query.cursor)
    rows = await repository.open_reports(tx, query.community_id, after, query.limit + 1)
    page, next_cursor = page_of(rows, query.limit, key=time_and_id("created_at", "id"))
    return ReportPage(items=[ReportView.model_validate(r) for r in page], next_cursor=next_cursor)


async def dismiss_report(report_id: UUID, *, tx: Tx, meta: RequestMeta) -> ReportView:
    """A moderator dismisses an open report (audited by the database)."""
    return ReportView.model_validate(await repository.dismiss_report(tx, report_id, meta))


async def post_edits(post_id: UUID, *, tx: Tx) -> EditHistory:
    """The earlier versions of a post the caller may read."""
    await _post(tx, post_id)
    return EditHistory(items=[EditView.model_validate(r) for r in await repository.edits_of(tx, post_id, None)])


async def reply_edits(reply_id: UUID, *, tx: Tx) -> EditHistory:
    """The earlier versions of a reply the caller may read."""
    reply = await _reply(tx, reply_id)
    rows = await repository.edits_of(tx, reply["post_id"], reply_id)
    return EditHistory(items=[EditView.model_validate(r) for r in rows])


async def _post(tx: Tx, post_id: UUID) -> Row:
    row = await repository.get_post(tx, post_id)
    if row is None:
        raise PostNotFoundError()
    return row


async def _reply(tx: Tx, reply_id: UUID) -> Row:
    row = await repository.get_reply(tx, reply_id)
    if row is None:
        raise ReplyNotFoundError()
    return row


def _moderated(row: Mapping[str, Any], *, changed: bool) -> Moderated:
    return Moderated(
        id=row["id"],
        is_pinned=row.get("is_pinned"),
        is_locked=row.get("is_locked"),
        is_hidden=row.get("hidden_at") is not None,
        changed=changed,
    )
