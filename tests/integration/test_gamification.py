"""Gamification against real Postgres: facts, activity days and streaks in the learner's time zone (DST,
gaps, late events), awards at most once (redelivery, concurrency), the awarded event, leaderboards' RLS."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.gamification import model, payloads, service
from shared.platform.db import as_service, as_user
from tests.factories import ACME, ACME_LENA, ACME_LIAM, GLOBEX, GLOBEX_GINA, claims
from tests.gamification_helpers import award, completed, deliver, enrolled, graduated, quiz, send
from tests.helpers import Sql, count, drain_events, send_again

NOW = datetime.now(UTC)


def local(zone: str, *parts: int) -> datetime:
    """A wall-clock moment in a zone (fold 0 for an ambiguous one)."""
    return datetime(*parts, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


def set_timezone(sql: Sql, user: str, zone: str) -> None:
    sql("update profiles set timezone = %s where id = %s", (zone, user))


def awards(sql: Sql, user: str = ACME_LENA) -> dict[str, dict[str, Any]]:
    rows = sql(
        "select a.code, u.points, u.community_id::text from user_achievements u"
        " join achievements a on a.id = u.achievement_id where u.user_id = %s",
        (user,),
    )
    return {r["code"]: r for r in rows}


def announced(sql: Sql) -> list[dict[str, Any]]:
    """The `achievement.awarded` events sent (queued or already archived)."""
    return sql(
        "select message->'payload' as payload from pgmq.q_events where message->>'name' = 'achievement.awarded'"
        " union all select message->'payload' from pgmq.a_events where message->>'name' = 'achievement.awarded'"
    )


def streak(sql: Sql, user: str = ACME_LENA) -> dict[str, Any]:
    rows = sql(
        "select current_days, longest_days, last_active_day from learning_streaks where user_id = %s", (user,)
    )
    return rows[0] if rows else {}


def days(sql: Sql, user: str = ACME_LENA) -> list[date]:
    return [r["day"] for r in sql("select day from app.activity_days where user_id = %s order by day", (user,))]


async def apply(event: Any, now: datetime) -> list[dict[str, Any]]:
    """Apply one event as the worker does, as of `now` (the clock the streak is judged by)."""
    async with as_service() as tx:
        return await service.apply_activity(tx, payloads.activity_of(event.name, event.payload), now)


# --- awards from events ----------------------------------------------------------------------------


async def test_first_wod_completion_awards_first_steps_once_and_announces_it(db: str, sql: Sql) -> None:
    await deliver(completed(ACME_LENA, NOW, kind="page"))
    assert awards(sql) == {}  # a page is not a WOD
    await deliver(completed(ACME_LENA, NOW), completed(ACME_LENA, NOW))
    assert awards(sql) == {"first_steps": {"code": "first_steps", "points": 10, "community_id": ACME}}
    [event] = announced(sql)
    assert event["payload"] | {"award_id": None, "awarded_at": None, "achievement_id": None} == {
        "award_id": None,
        "awarded_at": None,
        "achievement_id": None,
        "user_id": ACME_LENA,
        "community_id": ACME,
        "code": "first_steps",
        "name": "First Steps",
        "tier": "bronze",
        "points": 10,
    }
    assert awards(sql, ACME_LIAM) == {}


async def test_a_fact_delivered_again_counts_once(db: str, sql: Sql) -> None:
    wods = [completed(ACME_LENA, NOW) for _ in range(9)]
    await deliver(*wods)
    assert send_again(sql, model.COMPLETED) == 9  # the same nine completions, as new events
    await drain_events()
    assert count(sql, "select count(*) as n from app.learning_facts where user_id = %s", (ACME_LENA,)) == 9
    assert "wod_warrior" not in awards(sql)
    await deliver(completed(ACME_LENA, NOW))
    assert set(awards(sql)) == {"first_steps", "wod_warrior"}
    assert len(announced(sql)) == 2


async def test_redelivered_awarded_event_does_not_award_twice(db: str, sql: Sql) -> None:
    event = completed(ACME_LENA, NOW)
    await deliver(event)
    await deliver(event)  # the same event id again: the worker's applied-events record skips it
    sql("delete from app.applied_events")  # and even when that record is gone, the award's key holds
    await deliver(event)
    assert count(sql, "select count(*) as n from user_achievements where user_id = %s", (ACME_LENA,)) == 1
    assert len(announced(sql)) == 1


async def test_concurrent_events_of_one_learner_award_each_achievement_once(db: str, sql: Sql) -> None:
    await apply(enrolled(ACME_LENA, NOW), NOW)  # the day is kept already: nothing else makes them queue
    events = [completed(ACME_LENA, NOW) for _ in range(12)]
    results = await asyncio.gather(*(apply(e, NOW) for e in events))
    made = [a["code"] for batch in results for a in batch]
    assert sorted(made) == ["first_steps", "wod_warrior"]
    assert set(awards(sql)) == {"first_steps", "wod_warrior"}
    assert len(announced(sql)) == 2


async def test_a_learners_events_apply_one_after_another_so_none_misses_a_count(db: str, sql: Sql) -> None:
    for _ in range(8):
        await apply(completed(ACME_LENA, NOW), NOW)
    async with as_service() as first:
        ninth = completed(ACME_LENA, NOW)
        await service.apply_activity(first, payloads.activity_of(ninth.name, ninth.payload), NOW)
        tenth = asyncio.create_task(apply(completed(ACME_LENA, NOW), NOW))
        await asyncio.sleep(0.5)
        assert not tenth.done()  # it waits for the ninth's transaction, so it will count nine before it
    assert [a["code"] for a in await tenth] == ["wod_warrior"]


async def test_concurrent_workers_award_once(db: str, sql: Sql) -> None:
    import shared.gamification.handlers  # noqa: F401
    from shared.platform.events import run_batch

    await send(*(completed(ACME_LENA, NOW) for _ in range(10)))
    await asyncio.gather(*(run_batch(batch_size=2, visibility_s=30) for _ in range(5)))
    await drain_events()
    assert set(awards(sql)) == {"first_steps", "wod_warrior"}
    assert len(announced(sql)) == 2


async def test_program_graduate_and_a_community_score_entry(db: str, sql: Sql) -> None:
    sql(
        "insert into achievements (community_id, code, name, tier, points, criterion, target_type, threshold)"
        " values (%s, 'quiz_ace', 'Quiz Ace', 'gold', 40, 'score', 'quiz', 90)",
        (ACME,),
    )
    await deliver(quiz(ACME_LENA, NOW, 89.5), graduated(ACME_LENA, NOW))
    assert set(awards(sql)) == {"program_graduate"}
    await deliver(quiz(ACME_LENA, NOW, 95, community=GLOBEX))  # Acme's entry is not earned in Globex
    assert set(awards(sql)) == {"program_graduate"}
    await deliver(quiz(ACME_LENA, NOW, 90))
    assert awards(sql)["quiz_ace"] == {"code": "quiz_ace", "points": 40, "community_id": ACME}


async def test_an_inactive_entry_is_not_awarded(db: str, sql: Sql) -> None:
    sql("update achievements set is_active = false where code = 'first_steps'")
    await deliver(completed(ACME_LENA, NOW))
    assert awards(sql) == {}


async def test_an_award_stays_in_its_entrys_community(db: str, sql: Sql) -> None:
    sql(
        "insert into achievements (community_id, code, name, tier, points, criterion, target_type, threshold)"
        " values (%s, 'acme_only', 'Acme only', 'gold', 5, 'completions', 'page', 1)",
        (ACME,),
    )
    with pytest.raises(Exception, match="award_community_mismatch"):
        sql(
            "insert into user_achievements (user_id, achievement_id, community_id, points)"
            " select %s, id, %s, 5 from achievements where code = 'acme_only'",
            (GLOBEX_GINA, GLOBEX),
        )


async def test_the_database_keeps_an_award_to_once_per_learner(db: str, sql: Sql) -> None:
    import psycopg

    award = (
        "insert into user_achievements (user_id, achievement_id, community_id, points)"
        " select %s, id, %s, 10 from achievements where code = 'first_steps'"
    )
    sql(award, (ACME_LENA, ACME))
    with pytest.raises(psycopg.errors.UniqueViolation):
        sql(award, (ACME_LENA, GLOBEX))  # a global entry: once per learner, not once per community


async def test_a_payload_outside_the_contract_is_refused() -> None:
    with pytest.raises(ValueError):
        payloads.activity_of(model.COMPLETED, {"user_id": ACME_LENA, "community_id": ACME, "target_type": "wod"})
    with pytest.raises(ValueError):
        payloads.activity_of("learning.forgotten", {})


# --- streaks: time zones, DST, gaps, the schedule ------------------------------------------------------


async def test_the_active_day_is_the_learners_own(db: str, sql: Sql) -> None:
    set_timezone(sql, ACME_LENA, "America/Los_Angeles")
    moment = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # 23:30 on 1 March in Los Angeles
    await apply(enrolled(ACME_LENA, moment), moment)
    await apply(enrolled(ACME_LIAM, moment), moment)  # Liam keeps UTC
    assert days(sql) == [date(2026, 3, 1)]
    assert days(sql, ACME_LIAM) == [date(2026, 3, 2)]
    set_timezone(sql, GLOBEX_GINA, "Not/AZone")  # a zone Postgres does not know counts as UTC
    await apply(enrolled(GLOBEX_GINA, moment, community=GLOBEX), moment)
    assert days(sql, GLOBEX_GINA) == [date(2026, 3, 2)]


@pytest.mark.parametrize(
    ("zone", "moments"),
    [
        # New York springs forward on 8 March 2026 (a 23-hour day): 00:30 and 23:30 of it are one day.
        ("America/New_York", [(2026, 3, 7, 23, 30), (2026, 3, 8, 0, 30), (2026, 3, 8, 23, 30), (2026, 3, 9, 0, 5)]),
        # ... and falls back on 1 November 2026 (a 25-hour day, 01:30 happens twice).
        ("America/New_York", [(2026, 10, 31, 23, 59), (2026, 11, 1, 1, 30), (2026, 11, 1, 23, 30), (2026, 11, 2, 0, 1)]),
        # Berlin springs forward on 29 March 2026.
        ("Europe/Berlin", [(2026, 3, 28, 23, 30), (2026, 3, 29, 3, 30), (2026, 3, 29, 23, 59), (2026, 3, 30, 0, 0)]),
    ],
)
async def test_a_dst_change_neither_splits_nor_merges_days(
    db: str, sql: Sql, zone: str, moments: list[tuple[int, ...]]
) -> None:
    set_timezone(sql, ACME_LENA, zone)
    stamps = [local(zone, *m) for m in moments]
    for stamp in stamps:
        await apply(completed(ACME_LENA, stamp), stamps[-1])
    first = stamps[0].date()
    assert days(sql) == [first, first + timedelta(days=1), first + timedelta(days=2)]
    assert streak(sql) == {"current_days": 3, "longest_days": 3, "last_active_day": stamps[-1].date()}


async def test_gaps_end_a_run_and_a_late_event_joins_runs(db: str, sql: Sql) -> None:
    zone = "Asia/Kolkata"  # +05:30
    set_timezone(sql, ACME_LENA, zone)
    day = [local(zone, 2026, 5, d, 21, 0) for d in range(1, 10)]
    for d in (1, 2, 3, 5, 6):  # 4 is missing
        await apply(enrolled(ACME_LENA, day[d - 1]), day[5])
    assert streak(sql) == {"current_days": 2, "longest_days": 3, "last_active_day": date(2026, 5, 6)}
    await apply(enrolled(ACME_LENA, day[3]), day[5])  # day 4 arrives late
    assert streak(sql) == {"current_days": 6, "longest_days": 6, "last_active_day": date(2026, 5, 6)}
    await apply(enrolled(ACME_LENA, day[8]), day[8])  # then 7 and 8 are missed
    assert streak(sql) == {"current_days": 1, "longest_days": 6, "last_active_day": date(2026, 5, 9)}


async def test_activity_judged_after_a_missed_day_starts_no_current_run(db: str, sql: Sql) -> None:
    moment = datetime(2026, 5, 1, 12, tzinfo=UTC)
    await apply(enrolled(ACME_LENA, moment), moment + timedelta(days=2))  # applied two days late
    assert streak(sql) == {"current_days": 0, "longest_days": 1, "last_active_day": date(2026, 5, 1)}


async def test_the_schedule_ends_a_streak_after_a_whole_missed_day_in_each_zone(db: str, sql: Sql) -> None:
    set_timezone(sql, ACME_LENA, "Pacific/Kiritimati")  # UTC+14
    set_timezone(sql, ACME_LIAM, "Pacific/Pago_Pago")  # UTC-11
    for user, zone in ((ACME_LENA, "Pacific/Kiritimati"), (ACME_LIAM, "Pacific/Pago_Pago")):
        for d in (1, 2):
            stamp = local(zone, 2026, 6, d, 12)
            await apply(enrolled(user, stamp), stamp)
        assert streak(sql, user)["current_days"] == 2
    # 2 June 12:00 UTC: 3 June 02:00 in Kiritimati (yesterday was the 2nd: still running), 1:00 on 2 June in Pago Pago.
    async with as_service() as tx:
        assert await service.roll_over_streaks(tx, datetime(2026, 6, 2, 12, tzinfo=UTC)) == 0
    # 3 June 10:00 UTC: 4 June 00:00 in Kiritimati (the 3rd was missed); 23:00 on 2 June in Pago Pago.
    async with as_service() as tx:
        assert await service.roll_over_streaks(tx, datetime(2026, 6, 3, 10, tzinfo=UTC)) == 1
    assert streak(sql, ACME_LENA) == {"current_days": 0, "longest_days": 2, "last_active_day": date(2026, 6, 2)}
    assert streak(sql, ACME_LIAM)["current_days"] == 2
    # 4 June 11:00 UTC: 4 June 00:00 in Pago Pago, its 3rd was missed too.
    async with as_service() as tx:
        assert await service.roll_over_streaks(tx, datetime(2026, 6, 4, 11, tzinfo=UTC)) == 1
    assert streak(sql, ACME_LIAM) == {"current_days": 0, "longest_days": 2, "last_active_day": date(2026, 6, 2)}


async def test_seven_days_in_a_row_earn_week_warrior_and_not_month_master(db: str, sql: Sql) -> None:
    zone = "America/Sao_Paulo"
    set_timezone(sql, ACME_LENA, zone)
    stamps = [local(zone, 2026, 7, d, 22, 30) for d in range(1, 8)]
    for stamp in stamps:
        await apply(quiz(ACME_LENA, stamp, 50), stamp)
    assert set(awards(sql)) == {"week_warrior"}
    assert awards(sql)["week_warrior"]["points"] == 30


# --- the leaderboard and what a user may read with SQL, as PostgREST would let them -----------------

LEADERBOARD = "select user_id::text, points, rank from app.community_leaderboard(%s, %s, 10)"


async def test_leaderboard_is_for_the_communitys_members_only(db: str, sql: Sql) -> None:
    award(sql, ACME_LENA, "first_steps", ACME, 1)
    award(sql, ACME_LENA, "program_graduate", ACME, 20)
    award(sql, ACME_LIAM, "wod_warrior", ACME, 2)
    award(sql, GLOBEX_GINA, "month_master", GLOBEX, 1)
    week = datetime.now(UTC) - timedelta(days=7)
    async with as_user(claims(ACME_LIAM)) as tx:
        assert await tx.fetch_all(LEADERBOARD, (ACME, None)) == [
            {"user_id": ACME_LENA, "points": 110, "rank": 1},
            {"user_id": ACME_LIAM, "points": 50, "rank": 2},
        ]
        assert await tx.fetch_all(LEADERBOARD, (ACME, week)) == [
            {"user_id": ACME_LIAM, "points": 50, "rank": 1},
            {"user_id": ACME_LENA, "points": 10, "rank": 2},
        ]
        assert await tx.fetch_all(LEADERBOARD, (GLOBEX, None)) == []  # another community's: nothing
        # Awards: their own, never a fellow member's or another community's rows.
        rows = await tx.fetch_all("select user_id::text from public.user_achievements")
        assert rows == [{"user_id": ACME_LIAM}]
    async with as_user(claims(GLOBEX_GINA)) as tx:
        assert await tx.fetch_all(LEADERBOARD, (ACME, None)) == []
        assert await tx.fetch_all("select user_id from public.learning_streaks where user_id <> auth.uid()") == []


async def test_a_member_who_left_drops_off_the_leaderboard(db: str, sql: Sql) -> None:
    award(sql, ACME_LIAM, "wod_warrior", ACME, 2)
    sql("delete from memberships where user_id = %s and community_id = %s", (ACME_LIAM, ACME))
    async with as_user(claims(ACME_LENA)) as tx:
        assert await tx.fetch_all(LEADERBOARD, (ACME, None)) == []


async def test_a_learner_cannot_award_themselves_or_touch_their_streak(db: str, sql: Sql) -> None:
    import psycopg

    async with as_user(claims(ACME_LENA)) as tx:
        for statement, params in (
            (
                "insert into public.user_achievements (user_id, achievement_id, community_id, points)"
                " select auth.uid(), id, %s, 1000 from public.achievements where code = 'first_steps'",
                (ACME,),
            ),
            ("update public.learning_streaks set longest_days = 99", None),
            (
                "insert into app.learning_facts (user_id, kind, subject_id, community_id, happened_at)"
                " values (auth.uid(), 'wod', gen_random_uuid(), %s, now())",
                (ACME,),
            ),
        ):
            await tx.execute("savepoint s")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                await tx.conn.execute(statement, params)
            await tx.execute("rollback to savepoint s")
