"""Hand-written SQL of the gamification context.

The worker's statements run as the service role in its handler transaction; the API's run in the
caller's transaction, under row level security.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from shared.gamification.model import Activity
from shared.platform.db import Row, Statement, Tx
from shared.platform.sql import Order, Select

# --- the worker: facts, activity days, streaks, awards ------------------------------------------------

ENSURE_LEARNER_SQL = """
insert into public.learning_streaks (user_id) select id from public.profiles where id = %s
on conflict (user_id) do nothing
"""
LOCK_LEARNER_SQL = """
select p.timezone from public.learning_streaks s join public.profiles p on p.id = s.user_id
where s.user_id = %s for update of s
"""
"""The learner's streak row, locked: their events are applied one at a time, each seeing the last's."""
RECORD_FACT_SQL = """
insert into app.learning_facts (user_id, kind, subject_id, community_id, score, happened_at)
values (%s, %s, %s, %s, %s, %s) on conflict (user_id, kind, subject_id) do nothing
"""
RECORD_DAY_SQL = """
insert into app.activity_days (user_id, day) values (%s, app.local_day(%s, %s))
on conflict (user_id, day) do nothing returning day
"""
STREAK_SQL = """
with days as (
  select day, day - (row_number() over (order by day))::int as run
    from app.activity_days where user_id = %(user)s
), runs as (
  select max(day) as last_day, count(*)::int as length from days group by run
)
update public.learning_streaks s
   set current_days = case when r.last_day >= app.local_day(%(timezone)s, %(now)s) - 1 then r.length else 0 end,
       longest_days = (select max(length) from runs),
       last_active_day = r.last_day,
       updated_at = now()
  from (select last_day, length from runs order by last_day desc limit 1) r
 where s.user_id = %(user)s
returning s.current_days, s.longest_days, s.last_active_day
"""
"""Runs of consecutive days (gaps and islands) from every activity day, so a late event lands right."""
AWARD_SQL = """
with earned as (
  insert into public.user_achievements (user_id, achievement_id, community_id, points)
  select %(user)s, a.id, %(community)s, a.points
    from public.achievements a
   where a.is_active
     and (a.community_id is null or a.community_id = %(community)s)
     and not exists (select 1 from public.user_achievements u where u.user_id = %(user)s and u.achievement_id = a.id)
     and case a.criterion
           when 'streak' then
             coalesce((select s.longest_days from public.learning_streaks s where s.user_id = %(user)s), 0) >= a.threshold
           when 'completions' then
             (select count(*) from app.learning_facts f
               where f.user_id = %(user)s and f.kind = a.target_type
                 and (a.community_id is null or f.community_id = a.community_id)) >= a.threshold
           else exists (select 1 from app.learning_facts f
                         where f.user_id = %(user)s and f.kind = a.target_type and f.score >= a.threshold
                           and (a.community_id is null or f.community_id = a.community_id))
         end
  on conflict (user_id, achievement_id) do nothing
  returning id, user_id, achievement_id, community_id, points, awarded_at
)
select e.id, e.user_id, e.achievement_id, e.community_id, e.points, e.awarded_at, a.code, a.name, a.tier
  from earned e join public.achievements a on a.id = e.achievement_id
"""
"""Every active entry of the catalogue the learner now meets and has not earned; the unique key keeps
an award to once per learner even when two transactions judge the same entry at once."""
ROLL_OVER_SQL = """
update public.learning_streaks s set current_days = 0, updated_at = now()
  from public.profiles p
 where p.id = s.user_id and s.current_days > 0
   and s.last_active_day < (%(now)s at time zone 'UTC')::date
   and s.last_active_day < app.local_day(p.timezone, %(now)s) - 1
"""
"""A run whose last day is before yesterday in the learner's time zone is over. The first bound is
implied by the second (no zone is a day ahead of UTC plus a day) and lets the partial index answer."""


async def lock_learner(tx: Tx, user_id: UUID) -> str | None:
    """Lock the learner's streak row (made on first use); their time zone, or None without a profile."""
    await tx.execute(ENSURE_LEARNER_SQL, (user_id,))
    timezone = await tx.fetch_val(LOCK_LEARNER_SQL, (user_id,))
    return None if timezone is None else str(timezone)


async def record_fact(tx: Tx, activity: Activity) -> bool:
    """Keep the activity's fact; False when the same fact was kept before."""
    fact = activity.fact
    if fact is None:
        return False
    params = (activity.user_id, fact.kind, fact.subject_id, activity.community_id, fact.score, activity.at)
    return await tx.execute(RECORD_FACT_SQL, params) == 1


async def record_day(tx: Tx, activity: Activity, timezone: str) -> bool:
    """Keep the activity's day in the learner's time zone; False when that day was active already."""
    return await tx.fetch_one(RECORD_DAY_SQL, (activity.user_id, timezone, activity.at)) is not None


async def update_streak(tx: Tx, user_id: UUID, timezone: str, now: datetime) -> Row | None:
    """Recount the learner's current and longest runs of active days, as of `now`."""
    return await tx.fetch_one(STREAK_SQL, {"user": user_id, "timezone": timezone, "now": now})


async def award_earned(tx: Tx, user_id: UUID, community_id: UUID) -> list[Row]:
    """Award what the learner has newly earned, for this community; the new awards with their entries."""
    return await tx.fetch_all(AWARD_SQL, {"user": user_id, "community": community_id})


async def roll_over_streaks(tx: Tx, now: datetime) -> int:
    """End the runs whose learners missed a whole day in their time zone; how many ended."""
    return await tx.execute(ROLL_OVER_SQL, {"now": now})


# --- the API: a learner's streak, the catalogue, awards, leaderboards --------------------------------

MY_STREAK_SQL = """
select p.timezone, app.local_day(p.timezone, now()) as today,
       case when s.last_active_day >= app.local_day(p.timezone, now()) - 1 then s.current_days else 0 end
         as current_days,
       coalesce(s.longest_days, 0) as longest_days, s.last_active_day
  from public.profiles p left join public.learning_streaks s on s.user_id = p.id
 where p.id = auth.uid()
"""

_ENTRY_COLUMNS = """a.id, a.community_id, a.code, a.name, a.description, a.tier, a.points, a.criterion,
       a.target_type, a.threshold, a.is_active, a.created_at, a.updated_at"""
CATALOGUE_SQL = f"""
select {_ENTRY_COLUMNS}, u.awarded_at, lower(a.name) as sort_name
  from public.achievements a
  left join public.user_achievements u on u.achievement_id = a.id and u.user_id = (select auth.uid())
"""  # noqa: S608 - reviewed constants
BY_NAME = Order(("lower(a.name)", "a.id"))
MINE_SQL = f"""
select {_ENTRY_COLUMNS}, u.id as award_id, u.community_id as awarded_in, u.points as awarded_points, u.awarded_at
  from public.user_achievements u join public.achievements a on a.id = u.achievement_id
"""  # noqa: S608 - reviewed constants
NEWEST_FIRST = Order(("u.awarded_at", "u.id"), descending=True)
MY_POINTS_SQL = "select coalesce(sum(points), 0)::int from public.user_achievements where user_id = auth.uid()"
LEADERBOARD_SQL = "select * from app.community_leaderboard(%s, %s, %s)"
GET_ENTRY_SQL = f"select {_ENTRY_COLUMNS} from public.achievements a where a.id = %s"  # noqa: S608
LOCK_ENTRY_SQL = GET_ENTRY_SQL + " for update"
CREATE_ENTRY_SQL = f"""
insert into public.achievements as a
  (community_id, code, name, description, tier, points, criterion, target_type, threshold)
values (%(community_id)s, %(code)s, %(name)s, %(description)s, %(tier)s, %(points)s, %(criterion)s,
        %(target_type)s, %(threshold)s)
on conflict (community_id, code) do nothing
returning {_ENTRY_COLUMNS}
"""  # noqa: S608 - reviewed constants
UPDATE_ENTRY_SQL = f"""
update public.achievements a
   set name = %(name)s, description = %(description)s, tier = %(tier)s, points = %(points)s,
       is_active = %(is_active)s, updated_at = now()
 where a.id = %(id)s
returning {_ENTRY_COLUMNS}
"""  # noqa: S608 - reviewed constants


def my_streak_statement() -> Statement:
    """The caller's streak as of now in their time zone (a run that missed yesterday counts 0)."""
    return MY_STREAK_SQL, None


async def leaderboard(tx: Tx, community_id: UUID, since: datetime | None, limit: int) -> list[Row]:
    """A community's best learners since a moment; no rows unless the caller is a member or staff."""
    return await tx.fetch_all(LEADERBOARD_SQL, (community_id, since, limit))


async def catalogue(
    tx: Tx, community_id: UUID | None, after: tuple[str, UUID] | None, limit: int
) -> list[Row]:
    """Entries the caller may see by name (global ones and their communities'), with their own award."""
    entries = Select(CATALOGUE_SQL).filter(
        "(a.community_id is null or a.community_id = %(community_id)s)", community_id=community_id
    )
    entries = entries.where(
        "(a.is_active or u.awarded_at is not null or (select app.is_staff()) or app.is_admin_of(a.community_id))"
    )
    return await tx.fetch_all(*entries.page(BY_NAME, after, limit))


async def my_awards(tx: Tx, after: tuple[datetime, UUID] | None, limit: int) -> list[Row]:
    """The caller's awards, newest first."""
    awards = Select(MINE_SQL).where("u.user_id = (select auth.uid())")
    return await tx.fetch_all(*awards.page(NEWEST_FIRST, after, limit))


async def my_points(tx: Tx) -> int:
    """The points of all the caller's awards."""
    return int(await tx.fetch_val(MY_POINTS_SQL) or 0)


async def get_entry(tx: Tx, entry_id: UUID, *, lock: bool = False) -> Row | None:
    """One catalogue entry the caller may see (locked for an update when asked), or None."""
    return await tx.fetch_one(LOCK_ENTRY_SQL if lock else GET_ENTRY_SQL, (entry_id,))


async def create_entry(tx: Tx, values: dict[str, object]) -> Row | None:
    """Insert a catalogue entry; None when its scope already has that code."""
    return await tx.fetch_one(CREATE_ENTRY_SQL, values)


async def update_entry(tx: Tx, values: dict[str, object]) -> Row:
    """Change an entry's name, description, tier, points and whether it is still awarded."""
    row = await tx.fetch_one(UPDATE_ENTRY_SQL, values)
    assert row is not None  # locked by the caller's transaction just before
    return row
