"""`forum`: a community's posts, threaded replies, reactions, reports and moderation, behind its forum switch."""

from __future__ import annotations

from uuid import UUID

from shared.forum import service
from shared.forum.schemas import (
    CreatePost,
    CreateReply,
    Deleted,
    EditHistory,
    EditPost,
    EditReply,
    Moderated,
    ModeratePost,
    ModerateReply,
    PostListQuery,
    PostPage,
    PostView,
    Reaction,
    ReactionQuery,
    ReplyView,
    Report,
    ReportPage,
    ReportQueueQuery,
    ReportView,
    ThreadView,
)
from shared.identity import policy
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("forum", body_limit=64 * 1024, description="Community forums: posts, replies, reactions, moderation.")
POST = "/posts/{post_id:uuid}"
REPLY = "/replies/{reply_id:uuid}"
MODERATORS = caller(policy.require_any_community_writer)
QUEUE_READERS = caller(policy.require_any_community_reader)


@fn.get("/posts", query=PostListQuery)
async def list_posts(ctx: Context, query: PostListQuery) -> PostPage:
    """A community's posts (`?community_id=`), newest first or most recently active (`sort=active`), searchable (`q`)."""
    return await service.list_posts(query, tx=ctx.db, principal=ctx.user)


@fn.post("/posts", body=CreatePost, status=201, idempotent=True, rate_limit="post")
async def create_post(ctx: Context, body: CreatePost) -> PostView:
    """Post in your community's forum (404 when it is switched off; 429 past the posting limit)."""
    return await service.create_post(body, tx=ctx.db, principal=ctx.user)


@fn.get(POST)
async def get_thread(ctx: Context, post_id: UUID) -> ThreadView:
    """A post with its replies (build the thread from each reply's `parent_id`)."""
    return await service.thread(ctx.db, post_id)


@fn.patch(POST, body=EditPost)
async def edit_post(ctx: Context, post_id: UUID, body: EditPost) -> PostView:
    """Edit your own post within an hour of posting (409 edit_window_closed, thread_locked); the old text is kept."""
    return await service.edit_post(post_id, body, tx=ctx.db)


@fn.delete(POST)
async def delete_post(ctx: Context, post_id: UUID) -> Deleted:
    """Delete your own post with its thread."""
    return await service.delete_post(post_id, tx=ctx.db)


@fn.get(POST + "/edits")
async def post_edits(ctx: Context, post_id: UUID) -> EditHistory:
    """Earlier versions of a post, oldest first (its author, the community's admins and staff see them)."""
    return await service.post_edits(post_id, tx=ctx.db)


@fn.post(POST + "/replies", body=CreateReply, status=201, idempotent=True, rate_limit="post")
async def create_reply(ctx: Context, post_id: UUID, body: CreateReply) -> ReplyView:
    """Reply to a post or to one of its replies (409 thread_locked); the post's author is notified."""
    return await service.create_reply(post_id, body, tx=ctx.db)


@fn.patch(REPLY, body=EditReply)
async def edit_reply(ctx: Context, reply_id: UUID, body: EditReply) -> ReplyView:
    """Edit your own reply within an hour of replying; the old text is kept."""
    return await service.edit_reply(reply_id, body, tx=ctx.db)


@fn.get(REPLY + "/edits")
async def reply_edits(ctx: Context, reply_id: UUID) -> EditHistory:
    """Earlier versions of a reply, oldest first (its author, the community's admins and staff see them)."""
    return await service.reply_edits(reply_id, tx=ctx.db)


@fn.delete(REPLY)
async def delete_reply(ctx: Context, reply_id: UUID) -> Deleted:
    """Delete your own reply: its text goes, its place in the thread stays."""
    return await service.delete_reply(reply_id, tx=ctx.db)


@fn.post(POST + "/reactions", body=Reaction)
async def react_to_post(ctx: Context, post_id: UUID, body: Reaction) -> PostView:
    """Add your reaction of this kind to a post (once: repeating it changes nothing); the post after it."""
    return await service.react_to_post(post_id, body.kind, on=True, tx=ctx.db)


@fn.delete(POST + "/reactions", query=ReactionQuery)
async def unreact_to_post(ctx: Context, post_id: UUID, query: ReactionQuery) -> PostView:
    """Take back your reaction of this kind (`?kind=`) to a post."""
    return await service.react_to_post(post_id, query.kind, on=False, tx=ctx.db)


@fn.post(REPLY + "/reactions", body=Reaction)
async def react_to_reply(ctx: Context, reply_id: UUID, body: Reaction) -> ReplyView:
    """Add your reaction of this kind to a reply (once); the reply after it."""
    return await service.react_to_reply(reply_id, body.kind, on=True, tx=ctx.db)


@fn.delete(REPLY + "/reactions", query=ReactionQuery)
async def unreact_to_reply(ctx: Context, reply_id: UUID, query: ReactionQuery) -> ReplyView:
    """Take back your reaction of this kind (`?kind=`) to a reply."""
    return await service.react_to_reply(reply_id, query.kind, on=False, tx=ctx.db)


@fn.post(POST + "/reports", body=Report, status=201)
async def report_post(ctx: Context, post_id: UUID, body: Report) -> ReportView:
    """Report a post to the community's admins (once each: 409 already_reported)."""
    return await service.report_post(post_id, body, tx=ctx.db)


@fn.post(REPLY + "/reports", body=Report, status=201)
async def report_reply(ctx: Context, reply_id: UUID, body: Report) -> ReportView:
    """Report a reply to the community's admins (once each)."""
    return await service.report_reply(reply_id, body, tx=ctx.db)


@fn.post(POST + "/moderation", body=ModeratePost, rate_limit="admin", allow=MODERATORS)
async def moderate_post(ctx: Context, post_id: UUID, body: ModeratePost) -> Moderated:
    """Pin, unpin, lock, unlock, hide or restore a post (the community's admins, staff who may write); audited."""
    return await service.moderate_post(post_id, body.action, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.post(REPLY + "/moderation", body=ModerateReply, rate_limit="admin", allow=MODERATORS)
async def moderate_reply(ctx: Context, reply_id: UUID, body: ModerateReply) -> Moderated:
    """Hide or restore a reply (the community's admins, staff who may write); audited."""
    return await service.moderate_reply(reply_id, body.action, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.get("/reports", query=ReportQueueQuery, rate_limit="admin", allow=QUEUE_READERS)
async def report_queue(ctx: Context, query: ReportQueueQuery) -> ReportPage:
    """A community's open reports, oldest first (`?community_id=`): its admins and staff."""
    return await service.report_queue(query, tx=ctx.db, principal=ctx.user)


@fn.post("/reports/{report_id:uuid}/dismiss", rate_limit="admin", allow=MODERATORS)
async def dismiss_report(ctx: Context, report_id: UUID) -> ReportView:
    """Dismiss an open report without hiding anything (hiding settles a post's reports itself); audited."""
    return await service.dismiss_report(report_id, tx=ctx.db, meta=meta_of(ctx))


handler = fn.handler
