"""Hand-written SQL of the dashboards. Runs as the caller, under row level security: a community's admins
read their community's rollups, staff every community's. `community_id` null: every community in sight."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from shared.platform.db import Row, Tx

_SCOPE = "(%(community_id)s::uuid is null or {alias}.community_id = %(community_id)s)"
_FIGURES = """coalesce(sum({a}.completions), 0)::int as completions,
  (coalesce(sum({a}.time_spent_s), 0) / 60)::int as minutes,
  coalesce(sum({a}.quiz_attempts), 0)::int as quiz_attempts,
  round(sum({a}.quiz_score_sum) / nullif(sum({a}.quiz_attempts), 0), 2) as average_score,
  coalesce(sum({a}.ai_messages), 0)::int as ai_messages,
  coalesce(sum({a}.ai_tokens), 0)::bigint as ai_tokens,
  coalesce(sum({a}.ai_cost_usd), 0)::numeric(14, 6) as ai_cost_usd"""

SERIES_SQL = f"""
select d::date as day, coalesce(sum(a.active_users), 0)::int as active_users, {_FIGURES.format(a="a")}
  from generate_series(%(first)s::date, %(last)s::date, interval '1 day') d
  left join public.analytics_daily a on a.day = d::date and {_SCOPE.format(alias="a")}
 group by d
 order by d
"""  # noqa: S608 - reviewed constants

TOTALS_SQL = f"""
select (select count(*) from (select distinct u.community_id, u.user_id from public.analytics_user_daily u
                               where {_SCOPE.format(alias="u")} and u.day between %(first)s and %(last)s) s
       )::int as active_users,
       {_FIGURES.format(a="a")}
  from public.analytics_daily a
 where {_SCOPE.format(alias="a")} and a.day between %(first)s and %(last)s
"""  # noqa: S608 - reviewed constants

TOP_CONTENT_SQL = f"""
select c.item_id, i.title, i.type, sum(c.completions)::int as completions, (sum(c.time_spent_s) / 60)::int as minutes
  from public.analytics_content_daily c
  left join public.content_items i on i.id = c.item_id
 where {_SCOPE.format(alias="c")} and c.day between %(first)s and %(last)s
 group by c.item_id, i.title, i.type
 order by completions desc, minutes desc, c.item_id
 limit %(limit)s
"""  # noqa: S608 - reviewed constants

# Ranked before the names are joined: the aggregate stays narrow. A learner is one row per community and
# day, so `count(*)` counts their active days within one community (summed over communities for staff).
TOP_LEARNERS_SQL = f"""
select t.*, p.first_name, p.last_name, p.email
  from (select u.user_id, count(*)::int as active_days, {_FIGURES.format(a="u")}
          from public.analytics_user_daily u
         where {_SCOPE.format(alias="u")} and u.day between %(first)s and %(last)s
         group by u.user_id
         order by completions desc, minutes desc, u.user_id
         limit %(limit)s) t
  left join public.profiles p on p.id = t.user_id
 order by t.completions desc, t.minutes desc, t.user_id
"""  # noqa: S608 - reviewed constants

# Members (not admins) of the communities in scope who have had no activity for `inactive_days` up to
# `last` (having joined before that), or whose completions in the range fell below the period before it.
AT_RISK_SQL = f"""
with activity as (
  select u.community_id, u.user_id, max(u.day) as last_active_day,
         coalesce(sum(u.completions) filter (where u.day >= %(first)s), 0)::int as completions,
         coalesce(sum(u.completions) filter (where u.day < %(first)s and u.day >= %(previous)s), 0)::int
           as previous_completions
    from public.analytics_user_daily u
   where {_SCOPE.format(alias="u")} and u.day <= %(last)s
   group by u.community_id, u.user_id
), judged as (
  select m.community_id, m.user_id, a.last_active_day,
         coalesce(a.completions, 0) as completions, coalesce(a.previous_completions, 0) as previous_completions,
         case when (a.last_active_day is null or a.last_active_day <= %(idle_since)s)
                   and m.joined_at < (%(idle_since)s + 1)::timestamp at time zone 'UTC' then 'inactive'
              when coalesce(a.completions, 0) < coalesce(a.previous_completions, 0) then 'falling'
         end as reason
    from public.memberships m
    left join activity a on a.community_id = m.community_id and a.user_id = m.user_id
   where m.role = 'member' and {_SCOPE.format(alias="m")}
)
select j.community_id, j.user_id, p.first_name, p.last_name, p.email, j.reason, j.last_active_day,
       j.completions, j.previous_completions
  from judged j
  left join public.profiles p on p.id = j.user_id
 where j.reason is not null
 order by j.reason desc, j.last_active_day nulls first, j.previous_completions - j.completions desc, j.user_id
 limit %(limit)s
"""  # noqa: S608 - reviewed constants


def range_params(community_id: UUID | None, first: date, last: date, **more: Any) -> dict[str, Any]:
    """The parameters every dashboard statement takes."""
    return {"community_id": community_id, "first": first, "last": last, **more}


async def series(tx: Tx, community_id: UUID | None, first: date, last: date) -> list[Row]:
    """Every day from `first` to `last`, with its figures (zeros where nothing happened)."""
    return await tx.fetch_all(SERIES_SQL, range_params(community_id, first, last))


async def totals(tx: Tx, community_id: UUID | None, first: date, last: date) -> Row:
    """The figures of the whole range, each active learner counted once per community."""
    row = await tx.fetch_one(TOTALS_SQL, range_params(community_id, first, last))
    assert row is not None  # an aggregate always returns its row
    return row


async def top_content(tx: Tx, community_id: UUID | None, first: date, last: date, limit: int) -> list[Row]:
    """Content items by completions over the range, most first."""
    return await tx.fetch_all(TOP_CONTENT_SQL, range_params(community_id, first, last, limit=limit))


async def top_learners(tx: Tx, community_id: UUID | None, first: date, last: date, limit: int) -> list[Row]:
    """Learners by completions over the range, most first."""
    return await tx.fetch_all(TOP_LEARNERS_SQL, range_params(community_id, first, last, limit=limit))


async def at_risk(
    tx: Tx, community_id: UUID | None, first: date, last: date, *, inactive_days: int, limit: int
) -> list[Row]:
    """Members inactive for `inactive_days` up to `last`, or completing less than in the period before."""
    params = range_params(
        community_id,
        first,
        last,
        previous=first - (last - first + timedelta(days=1)),
        idle_since=last - timedelta(days=inactive_days),
        limit=limit,
    )
    return await tx.fetch_all(AT_RISK_SQL, params)
