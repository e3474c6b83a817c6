"""Learning facts and AI calls written straight into the database (as its owner), at given moments, for
the analytics tests and the benchmark's shape."""

from __future__ import annotations

from tests.helpers import Sql


def completion(sql: Sql, user: str, community: str, item: str, at: str, *, seconds: int | None = 60) -> None:
    """A completion stamp of a WOD of `item` at `at` (a timestamptz literal)."""
    sql(
        "insert into public.learning_completions (user_id, community_id, target_type, target_id, item_id,"
        " time_spent_s, completed_at) values (%s, %s, 'wod', gen_random_uuid(), %s, %s, %s::timestamptz)",
        (user, community, item, seconds, at),
    )


def quiz(sql: Sql, user: str, community: str, item: str, at: str, *, score: int) -> None:
    """A submitted quiz attempt at `at`, scored `score`."""
    sql(
        "insert into public.learning_quiz_attempts (user_id, community_id, item_id, block_id, number, status,"
        " started_at, submitted_at, score, passed)"
        " values (%s, %s, %s, gen_random_uuid(), 1, 'submitted', %s::timestamptz, %s::timestamptz, %s, %s >= 70)",
        (user, community, item, at, at, score, score),
    )


def ai_call(sql: Sql, user: str | None, community: str, at: str, *, tokens: int = 30) -> None:
    """One AI chat call of `tokens` tokens (a third in, the rest out) at `at`, costing 0.001 USD."""
    sql(
        "insert into public.ai_usage (community_id, user_id, feature, provider, model, input_tokens,"
        " output_tokens, cost_usd, created_at) values (%s, %s, 'chat', 'offline', 'offline-echo', %s, %s,"
        " 0.001, %s::timestamptz)",
        (community, user, tokens // 3, tokens - tokens // 3, at),
    )
