"""Hand-written SQL for usage reads. Runs as the caller, under row level security: admins read the
ledger and quota months of the communities they administer, staff every community's."""

from __future__ import annotations

from datetime import date
from typing import LiteralString
from uuid import UUID

from shared.platform.db import Row, Tx
from shared.platform.sql import compose

NO_ID = UUID(int=0)
"""The key of the group of calls with no agent (or user): nulls sort and page like any other key."""

# `%(community_id)s` null: every community the caller may read (staff: all of them).
_OF_SCOPE = "(%(community_id)s::uuid is null or {alias}.community_id = %(community_id)s)"

MONTHS_SQL = f"""
with months as (
  select m::date as month from generate_series(%(first)s::date, %(last)s::date, interval '1 month') m
), counted as (
  select q.month, sum(q.used_tokens)::bigint as used_tokens from public.ai_quota_months q
   where {_OF_SCOPE.format(alias="q")} and q.month between %(first)s and %(last)s
   group by q.month
), ledger as (
  select u.month, sum(u.input_tokens)::bigint as input_tokens, sum(u.output_tokens)::bigint as output_tokens,
         sum(u.cost_usd) as cost_usd, count(*) as calls
    from public.ai_usage u
   where {_OF_SCOPE.format(alias="u")} and u.month between %(first)s and %(last)s
   group by u.month
)
select m.month, coalesce(c.used_tokens, 0) as used_tokens, s.monthly_token_quota as quota,
       s.monthly_token_quota - least(coalesce(c.used_tokens, 0), s.monthly_token_quota) as remaining_tokens,
       coalesce(l.input_tokens, 0) as input_tokens, coalesce(l.output_tokens, 0) as output_tokens,
       coalesce(l.cost_usd, 0) as cost_usd, coalesce(l.calls, 0) as calls
  from months m
  left join counted c on c.month = m.month
  left join ledger l on l.month = m.month
  left join public.community_ai_settings s on s.community_id = %(community_id)s
 order by m.month
"""  # noqa: S608 - reviewed constants

# One month's ledger grouped by {key}, most tokens first, after the keyset position when one is given.
_BREAKDOWN = """
select * from (
  select coalesce(u.{key}, %(no_id)s::uuid) as key, u.{key}, {names},
         sum(u.input_tokens)::bigint as input_tokens, sum(u.output_tokens)::bigint as output_tokens,
         sum(u.input_tokens + u.output_tokens)::bigint as total_tokens,
         coalesce(sum(u.cost_usd), 0) as cost_usd, count(*) as calls
    from public.ai_usage u
    {names_from}
   where u.month = %(month)s and {scope}
   group by u.{key}
) g
where %(after_tokens)s::bigint is null or (g.total_tokens, g.key) < (%(after_tokens)s::bigint, %(after_key)s::uuid)
order by g.total_tokens desc, g.key desc
limit %(limit)s
"""
# Names as the caller may see them (row level security): a title or name hidden from them is null.
BY_AGENT: LiteralString = "agent_id"
BY_USER: LiteralString = "user_id"
_NAMES: dict[str, tuple[LiteralString, LiteralString]] = {
    BY_AGENT: ("max(a.title) as agent_title", "left join public.content_items a on a.id = u.agent_id"),
    BY_USER: (
        "max(p.first_name) as first_name, max(p.last_name) as last_name, max(p.email) as email",
        "left join public.profiles p on p.id = u.user_id",
    ),
}


async def months(tx: Tx, community_id: UUID | None, first: date, last: date) -> list[Row]:
    """Every month from `first` to `last`: tokens counted against the quota, the quota, the ledger's totals."""
    return await tx.fetch_all(MONTHS_SQL, {"community_id": community_id, "first": first, "last": last})


async def breakdown(
    tx: Tx,
    key: LiteralString,
    *,
    community_id: UUID | None,
    month: date,
    after: tuple[float, UUID] | None,
    limit: int,
) -> list[Row]:
    """Up to `limit` groups of one month's ledger by `key` (BY_AGENT, BY_USER), most tokens first."""
    names, names_from = _NAMES[key]
    statement = compose(
        _BREAKDOWN, key=key, names=names, names_from=names_from, scope=_OF_SCOPE.format(alias="u")
    )
    params = {
        "community_id": community_id,
        "month": month,
        "no_id": NO_ID,
        "after_tokens": None if after is None else int(after[0]),
        "after_key": None if after is None else after[1],
        "limit": limit,
    }
    return await tx.fetch_all(statement, params)
