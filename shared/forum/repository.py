"""The forum's SQL. Reads run as the caller under row level security (the open forum's members; hidden
rows only for its admins and staff); every write is a checked database function (`app.forum_*`) whose
refusals (`'<code>: <detail>'`) become the forum's problems here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from shared.forum.errors import refusal
from shared.platform.audit import RequestMeta
from shared.platform.db import Row, Tx
from shared.platform.sql import Order, Select

T = TypeVar("T")

_COUNTED = """
coalesce((select jsonb_agg(jsonb_build_object('kind', x.kind, 'count', x.n, 'mine', x.mine) order by x.kind)
            from (select r.kind, count(*)::int as n, bool_or(r.user_id = (select auth.uid())) as mine
                    from public.forum_reactions r"""
POST_SELECT = f"""
select p.id, p.community_id, p.author_id, p.author_name, p.title, p.body, p.content_item_id, p.is_pinned,
       p.is_locked, p.hidden_at is not null as is_hidden, p.reply_count, p.created_at, p.edited_at,
       p.last_activity_at,
       coalesce((select jsonb_agg(jsonb_build_object('id', t.id, 'name', t.name, 'color', t.color)
                                  order by lower(t.name), t.id)
                   from public.user_tags t where t.id = any (p.tag_ids)), '[]'::jsonb) as tags,
       {_COUNTED} where r.post_id = p.id and r.reply_id is null group by r.kind) x), '[]'::jsonb) as reactions
from public.forum_posts p
"""  # noqa: S608 - reviewed constants
REPLY_SELECT = f"""
select r0.id, r0.post_id, r0.community_id, r0.parent_id, r0.author_id, r0.author_name, r0.body,
       r0.hidden_at is not null as is_hidden, r0.deleted_at is not null as is_deleted, r0.created_at,
       r0.edited_at,
       {_COUNTED} where r.reply_id = r0.id group by r.kind) x), '[]'::jsonb) as reactions
from public.forum_replies r0
"""  # noqa: S608 - reviewed constants
NEWEST = Order(("p.created_at", "p.id"), descending=True)
ACTIVE = Order(("p.last_activity_at", "p.id"), descending=True)
REPORTS_OLDEST = Order(("f.created_at", "f.id"))
FORUM_OPEN_SQL = "select %s = any (app.open_forums()) or app.is_staff()"
CREATE_POST_SQL = "select (app.forum_create_post(%s, %s, %s, %s::uuid[], %s)).id"
CREATE_REPLY_SQL = "select (app.forum_create_reply(%s, %s, %s)).id"
EDIT_SQL = "select app.forum_edit(%s, %s, %s, %s, %s::uuid[])"
DELETE_SQL = "select app.forum_delete(%s, %s)"
REACT_SQL = "select app.forum_react(%s, %s, %s, %s)"
REPORT_SQL = "select to_jsonb(app.forum_report(%s, %s, %s))"
MODERATE_SQL = "select app.forum_moderate(%s, %s, %s, %s, %s, %s)"
DISMISS_SQL = "select to_jsonb(app.forum_dismiss_report(%s, %s, %s, %s))"
REPORT_SELECT = """
select f.id, f.community_id, f.post_id, f.reply_id, f.reporter_id, f.reason, f.created_at, f.resolved_at, f.resolution
from public.forum_reports f
"""
EDITS_SQL = """
select e.id, e.editor_id, e.title, e.body, e.edited_at from public.forum_edits e
where e.post_id = %s and e.reply_id is not distinct from %s order by e.id
"""


async def _checked(call: Callable[[], Awaitable[T]]) -> T:
    """Run a checked function's statement; its refusal becomes the forum's problem."""
    import psycopg  # already loaded by the open transaction

    try:
        return await call()
    except psycopg.errors.RaiseException as exc:
        raise refusal(str(exc.diag.message_primary or "")) from None


async def forum_open(tx: Tx, community_id: UUID) -> bool:
    """Whether the caller reads the community's forum (a member while it is on, or staff)."""
    return bool(await tx.fetch_val(FORUM_OPEN_SQL, (community_id,)))


async def list_posts(
    tx: Tx,
    *,
    community_id: UUID,
    sort: str,
    q: str | None,
    tag_id: UUID | None,
    pinned: bool | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Row]:
    """Up to `limit` visible posts of the community after the keyset position, in the order asked."""
    posts = Select(POST_SELECT).where("p.community_id = %(community)s", community=community_id)
    posts.filter("p.search @@ websearch_to_tsquery('simple', %(q)s)", q=q)
    posts.filter("%(tag)s = any (p.tag_ids)", tag=tag_id)
    posts.filter("p.is_pinned = %(pinned)s", pinned=pinned)
    return await tx.fetch_all(*posts.page(ACTIVE if sort == "active" else NEWEST, after, limit))


async def get_post(tx: Tx, post_id: UUID) -> Row | None:
    """One post, if the caller sees it."""
    return await tx.fetch_one(*Select(POST_SELECT).where("p.id = %(id)s", id=post_id).statement())


async def replies_of(tx: Tx, post_id: UUID) -> list[Row]:
    """The post's replies the caller sees, in the order they were written."""
    replies = Select(REPLY_SELECT).where("r0.post_id = %(post)s", post=post_id)
    return await tx.fetch_all(*replies.statement(suffix="order by r0.created_at, r0.id"))


async def get_reply(tx: Tx, reply_id: UUID) -> Row | None:
    """One reply, if the caller sees it."""
    return await tx.fetch_one(*Select(REPLY_SELECT).where("r0.id = %(id)s", id=reply_id).statement())


async def create_post(
    tx: Tx, community_id: UUID, title: str, body: str, tag_ids: list[UUID], item_id: UUID | None
) -> UUID:
    """`app.forum_create_post` as the caller: the new post's id."""
    params = (community_id, title, body, [str(t) for t in tag_ids], item_id)
    return await _checked(lambda: tx.fetch_val(CREATE_POST_SQL, params))


async def create_reply(tx: Tx, post_id: UUID, parent_id: UUID | None, body: str) -> UUID:
    """`app.forum_create_reply` as the caller: the new reply's id."""
    return await _checked(lambda: tx.fetch_val(CREATE_REPLY_SQL, (post_id, parent_id, body)))


async def edit(
    tx: Tx, post_id: UUID, reply_id: UUID | None, title: str | None, body: str | None, tag_ids: list[UUID] | None
) -> None:
    """`app.forum_edit` as the caller (the old text is kept as an edit)."""
    tags = None if tag_ids is None else [str(t) for t in tag_ids]
    await _checked(lambda: tx.fetch_val(EDIT_SQL, (post_id, reply_id, title, body, tags)))


async def delete(tx: Tx, post_id: UUID, reply_id: UUID | None) -> None:
    """`app.forum_delete` as the caller."""
    await _checked(lambda: tx.fetch_val(DELETE_SQL, (post_id, reply_id)))


async def react(tx: Tx, post_id: UUID, reply_id: UUID | None, kind: str, *, on: bool) -> None:
    """`app.forum_react` as the caller: add (once) or take back their reaction of this kind."""
    await _checked(lambda: tx.fetch_val(REACT_SQL, (post_id, reply_id, kind, on)))


async def report(tx: Tx, post_id: UUID, reply_id: UUID | None, reason: str) -> dict[str, Any]:
    """`app.forum_report` as the caller: the new report."""
    return dict(await _checked(lambda: tx.fetch_val(REPORT_SQL, (post_id, reply_id, reason))))


async def moderate(tx: Tx, post_id: UUID, reply_id: UUID | None, action: str, meta: RequestMeta) -> dict[str, Any]:
    """`app.forum_moderate` as the caller (audited there): {"post", "reply", "changed"}."""
    params = (post_id, reply_id, action, meta.request_id, meta.ip, meta.user_agent)
    return dict(await _checked(lambda: tx.fetch_val(MODERATE_SQL, params)))


async def dismiss_report(tx: Tx, report_id: UUID, meta: RequestMeta) -> dict[str, Any]:
    """`app.forum_dismiss_report` as the caller (audited there): the settled report."""
    params = (report_id, meta.request_id, meta.ip, meta.user_agent)
    return dict(await _checked(lambda: tx.fetch_val(DISMISS_SQL, params)))


async def open_reports(tx: Tx, community_id: UUID, after: tuple[datetime, UUID] | None, limit: int) -> list[Row]:
    """Up to `limit` open reports of the community the caller sees, oldest first."""
    reports = Select(REPORT_SELECT).where("f.community_id = %(community)s", community=community_id)
    reports.where("f.resolved_at is null")
    return await tx.fetch_all(*reports.page(REPORTS_OLDEST, after, limit))


async def edits_of(tx: Tx, post_id: UUID, reply_id: UUID | None) -> list[Row]:
    """The earlier versions of a post or reply the caller may read, oldest first."""
    return await tx.fetch_all(EDITS_SQL, (post_id, reply_id))
