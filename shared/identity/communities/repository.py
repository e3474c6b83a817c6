"""Hand-written SQL for communities. Runs in the caller's transaction, under row level security."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from shared.identity.errors import CommunityNameTakenError, CommunitySlugTakenError
from shared.platform.db import Row, Tx
from shared.platform.errors import ConflictError
from shared.platform.sql import Order, Select, assignments, compose

COLUMNS = (
    "c.id, c.name, c.slug, c.project_name, c.logo_url, c.brand_color, c.forum_enabled, c.status,"
    " c.is_template, c.template_source_id, c.features, c.created_at, c.updated_at"
)
AI_COLUMNS = (
    "community_id, default_provider, default_model, monthly_token_quota, conversation_retention_days,"
    " has_own_key, own_key_provider, updated_at"
)
UPDATABLE = frozenset(
    {"name", "slug", "project_name", "logo_url", "brand_color", "forum_enabled", "status", "is_template"}
)
AI_UPDATABLE = frozenset(
    {"default_provider", "default_model", "monthly_token_quota", "conversation_retention_days"}
)
_TAKEN = {"communities_name_key": CommunityNameTakenError, "communities_slug_key": CommunitySlugTakenError}

_MEMBER_COUNT = "(select count(*) from public.memberships m where m.community_id = c.id) as member_count"

INSERT_SQL = f"""
insert into public.communities as c (name, slug, project_name, logo_url, brand_color, forum_enabled,
                                     is_template, features, template_source_id)
values (%(name)s, %(slug)s, %(project_name)s, %(logo_url)s, %(brand_color)s, %(forum_enabled)s,
        %(is_template)s, %(features)s::jsonb, %(template_source_id)s)
returning {COLUMNS}, 0::bigint as member_count
"""  # noqa: S608 - reviewed constants

# The community with its member count and AI settings in one statement; `for update of c` when the
# caller is about to change it, so the "before" it audits is exactly what it overwrites.
GET_SQL = f"""
select {COLUMNS}, {_MEMBER_COUNT}, to_jsonb(s) as ai_settings
from public.communities c
left join public.community_ai_settings s on s.community_id = c.id
where c.id = %s
"""  # noqa: S608 - reviewed constants
GET_FOR_UPDATE_SQL = GET_SQL + "for update of c"
UPDATE_SQL = "update public.communities c set {changes} where c.id = %(id)s returning {columns}"

LIST_SQL = f"select {COLUMNS}, {_MEMBER_COUNT} from public.communities c"  # noqa: S608 - reviewed constants
_PATTERN = "(c.name ilike %(pattern)s escape '\\' or c.slug ilike %(pattern)s escape '\\')"
BY_NAME = Order(("c.name", "c.id"))

EXISTS_SQL = "select exists (select 1 from public.communities c where c.id = %s) as found"

TEMPLATE_SQL = (
    "select c.id, c.features from public.communities c where c.id = %s and c.is_template for key share"
)
"""Key-share locked: the template cannot be deleted while a community is being cloned from it."""

CLONE_TAGS_SQL = """
insert into public.user_tags (community_id, name, color)
select %(target)s, t.name, t.color from public.user_tags t where t.community_id = %(source)s
"""

CLONE_AI_SETTINGS_SQL = f"""
update public.community_ai_settings s
   set default_provider = t.default_provider, default_model = t.default_model,
       monthly_token_quota = t.monthly_token_quota, conversation_retention_days = t.conversation_retention_days
  from public.community_ai_settings t
 where s.community_id = %(target)s and t.community_id = %(source)s
returning {", ".join("s." + c for c in AI_COLUMNS.split(", "))}
"""  # noqa: S608 - reviewed constants

REPLACE_FEATURES_SQL = f"""
update public.communities c set features = %s::jsonb where c.id = %s returning {COLUMNS}
"""  # noqa: S608 - reviewed constants

DELETE_SQL = "delete from public.communities c where c.id = %s"

GET_AI_SQL = f"select {AI_COLUMNS} from public.community_ai_settings where community_id = %s"  # noqa: S608
GET_AI_FOR_UPDATE_SQL = GET_AI_SQL + " for update"
UPDATE_AI_SQL = (
    "update public.community_ai_settings set {changes} where community_id = %(id)s returning {columns}"
)
SET_KEY_SQL = "select app.set_community_provider_key(%s, %s, %s)"
CLEAR_KEY_SQL = "select app.clear_community_provider_key(%s)"

PLATFORM_COUNTS_SQL = """
select
  (select count(*) from public.communities where status = 'active') as communities_active,
  (select count(*) from public.communities where status = 'archived') as communities_archived,
  (select count(*) from public.communities where is_template) as communities_templates,
  (select count(*) from public.profiles) as users_total,
  (select count(*) from public.profiles where status = 'active') as users_active,
  (select count(*) from public.profiles where status = 'deactivated') as users_deactivated,
  (select count(*) from public.profiles where last_active_at >= now() - interval '7 days')
    as users_active_last_7_days,
  (select count(*) from public.platform_staff) as staff_total,
  (select count(*) from public.platform_staff where role = 'super_admin') as staff_super_admin,
  (select count(*) from public.platform_staff where role = 'manager') as staff_manager,
  (select count(*) from public.platform_staff where role = 'specialist') as staff_specialist,
  (select count(*) from public.content_items) as content_items,
  (select count(*) from public.content_items where status = 'published') as content_published,
  (select count(*) from public.content_items where status = 'draft') as content_draft,
  (select count(*) from public.content_items where status = 'archived') as content_archived,
  (select count(*) from public.content_items where community_id is null) as content_platform,
  (select count(*) from public.content_grants) as content_grants,
  (select coalesce(jsonb_object_agg(t.type, t.n), '{}') from
    (select type, count(*) as n from public.content_items group by type) t) as content_by_type
"""

COMMUNITY_COUNTS_SQL = """
select c.id as community_id,
  (select count(*) from public.memberships m where m.community_id = c.id) as members,
  (select count(*) from public.memberships m where m.community_id = c.id and m.role = 'admin') as admins,
  (select count(*) from public.memberships m join public.profiles p on p.id = m.user_id
    where m.community_id = c.id and p.last_active_at >= now() - interval '7 days') as active_last_7_days,
  (select count(*) from public.user_tags t where t.community_id = c.id) as tags,
  (select count(*) from public.invitations i where i.community_id = c.id and i.status = 'sent')
    as pending_invitations,
  (select count(*) from public.signup_links l
    where l.community_id = c.id and l.revoked_at is null and l.expires_at > now()
      and (l.max_uses is null or l.use_count < l.max_uses)) as signup_links_active,
  (select count(*) from public.content_items i where i.community_id = c.id) as content_items,
  (select count(*) from public.content_items i where i.community_id = c.id and i.status = 'published')
    as content_published,
  (select count(distinct g.item_id) from public.content_grants g where g.community_id = c.id) as content_granted,
  (select d.id from public.analytics_digests d where d.community_id = c.id order by d.week_start desc limit 1)
    as latest_digest_id
from public.communities c
where c.id = %s
"""


def _taken(exc: Exception) -> ConflictError:
    """The stable 409 for a unique violation on the community's name or slug."""
    constraint = getattr(getattr(exc, "diag", None), "constraint_name", None)
    error = _TAKEN.get(constraint or "")
    if error is None:
        return ConflictError("That already exists.")
    return error(
        f"Another community already has this {'name' if error is CommunityNameTakenError else 'slug'}."
    )


async def insert_community(tx: Tx, values: Mapping[str, Any]) -> Row:
    """Insert a community (its AI settings row is created by the database); 409 when name or slug is taken."""
    import psycopg  # loaded already: the transaction is open

    params = {**values, "features": json.dumps(values["features"])}
    try:
        row = await tx.fetch_one(INSERT_SQL, params)
    except psycopg.errors.UniqueViolation as exc:
        raise _taken(exc) from exc
    assert row is not None  # an insert without ON CONFLICT returns its row or raises
    return row


async def get_community(tx: Tx, community_id: UUID, *, lock: bool = False) -> Row | None:
    """The community with member count and AI settings, if the caller can see it."""
    return await tx.fetch_one(GET_FOR_UPDATE_SQL if lock else GET_SQL, (community_id,))


async def list_communities(
    tx: Tx,
    *,
    pattern: str | None,
    status: str | None,
    is_template: bool | None,
    after: tuple[str, UUID] | None,
    limit: int,
) -> list[Row]:
    """Up to `limit` communities after the keyset `after`, in (name, id) order."""
    communities = (
        Select(LIST_SQL)
        .filter(_PATTERN, pattern=pattern)
        .filter("c.status = %(status)s", status=status)
        .filter("c.is_template = %(is_template)s", is_template=is_template)
    )
    return await tx.fetch_all(*communities.page(BY_NAME, after, limit))


async def update_community(tx: Tx, community_id: UUID, changes: Mapping[str, Any]) -> Row | None:
    """Apply `changes` to the community; 409 when the new name or slug is taken."""
    import psycopg

    statement = compose(UPDATE_SQL, changes=assignments(changes, UPDATABLE), columns=COLUMNS)
    try:
        return await tx.fetch_one(statement, {**changes, "id": community_id})
    except psycopg.errors.UniqueViolation as exc:
        raise _taken(exc) from exc


async def replace_features(tx: Tx, community_id: UUID, features: Mapping[str, bool]) -> Row | None:
    """Replace the community's feature flags."""
    return await tx.fetch_one(REPLACE_FEATURES_SQL, (json.dumps(dict(features)), community_id))


async def delete_community(tx: Tx, community_id: UUID) -> bool:
    """Delete the community and, by cascade, everything scoped to it."""
    return await tx.execute(DELETE_SQL, (community_id,)) == 1


async def exists(tx: Tx, community_id: UUID) -> bool:
    """Whether the community exists (and the caller may see it)."""
    return bool(await tx.fetch_val(EXISTS_SQL, (community_id,)))


async def template(tx: Tx, template_id: UUID) -> Row | None:
    """A template community (id and features), if it is one the caller can see."""
    return await tx.fetch_one(TEMPLATE_SQL, (template_id,))


async def clone_tags(tx: Tx, *, source: UUID, target: UUID) -> int:
    """Copy the source's user tags (names and colours, not who holds them) onto the target."""
    return await tx.execute(CLONE_TAGS_SQL, {"source": source, "target": target})


async def clone_ai_settings(tx: Tx, *, source: UUID, target: UUID) -> Row | None:
    """Copy provider, model, quota and conversation retention from the source (never its key)."""
    return await tx.fetch_one(CLONE_AI_SETTINGS_SQL, {"source": source, "target": target})


async def get_ai_settings(tx: Tx, community_id: UUID, *, lock: bool = False) -> Row | None:
    """A community's AI settings row."""
    return await tx.fetch_one(GET_AI_FOR_UPDATE_SQL if lock else GET_AI_SQL, (community_id,))


async def update_ai_settings(tx: Tx, community_id: UUID, changes: Mapping[str, Any]) -> Row | None:
    """Apply `changes` to the community's AI settings."""
    statement = compose(UPDATE_AI_SQL, changes=assignments(changes, AI_UPDATABLE), columns=AI_COLUMNS)
    return await tx.fetch_one(statement, {**changes, "id": community_id})


async def set_provider_key(tx: Tx, community_id: UUID, provider: str, ciphertext: bytes) -> None:
    """Store the community's encrypted key (the database function checks who may)."""
    await tx.execute(SET_KEY_SQL, (community_id, provider, ciphertext))


async def clear_provider_key(tx: Tx, community_id: UUID) -> None:
    """Remove the community's own key."""
    await tx.execute(CLEAR_KEY_SQL, (community_id,))


async def platform_counts(tx: Tx) -> Row:
    """Platform-wide counts (staff see every row they count)."""
    row = await tx.fetch_one(PLATFORM_COUNTS_SQL)
    assert row is not None  # a select without FROM returns one row
    return row


async def community_counts(tx: Tx, community_id: UUID) -> Row | None:
    """One community's counts, if the caller can see it."""
    return await tx.fetch_one(COMMUNITY_COUNTS_SQL, (community_id,))
