"""Weekly digests as their community's admins read them (preparing them: `weekly`)."""

from __future__ import annotations

from uuid import UUID

from shared.analytics.digest_schemas import Digest, DigestList, DigestQuery, DigestSummary
from shared.analytics.errors import DigestNotFoundError
from shared.identity.communities.scope import require_reader_scope
from shared.platform.auth import Principal
from shared.platform.db import Tx

LIST_SQL = """
select id, community_id, week_start, created_at from public.analytics_digests
 where community_id = %(community_id)s order by week_start desc limit %(limit)s
"""
READ_SQL = "select id, community_id, week_start, created_at, body from public.analytics_digests where id = %s"


async def list_digests(query: DigestQuery, *, tx: Tx, principal: Principal) -> DigestList:
    """A community's digests, newest first."""
    await require_reader_scope(tx, principal, query.community_id)
    rows = await tx.fetch_all(LIST_SQL, {"community_id": query.community_id, "limit": query.limit})
    return DigestList(items=[DigestSummary.model_validate(r) for r in rows])


async def read_digest(digest_id: UUID, *, tx: Tx) -> Digest:
    """One digest, if the caller may read it (row level security: its community's admins, staff)."""
    row = await tx.fetch_one(READ_SQL, (digest_id,))
    if row is None:
        raise DigestNotFoundError()
    return Digest.model_validate(row)
