"""Quiz attempts' SQL. Starting and submitting are `app.start_quiz_attempt` and `app.submit_quiz_attempt`,
which check the caller and score in the database; the list runs as the caller (their own attempts)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from shared.platform.db import Row, Tx

START_SQL = "select app.start_quiz_attempt(%s, %s, %s) as result"
SUBMIT_SQL = "select app.submit_quiz_attempt(%s, %s::jsonb) as result"
MINE_SQL = """
select a.id, a.community_id, a.item_id, a.block_id, a.number, a.status, a.started_at, a.deadline,
       a.submitted_at, a.score, a.passed, a.results
from public.learning_quiz_attempts a
where a.user_id = auth.uid() and a.item_id = %s and a.block_id = %s
order by a.number
"""


async def start(tx: Tx, community_id: UUID, item_id: UUID, block_id: UUID) -> dict[str, Any]:
    """`app.start_quiz_attempt`'s answer: {"outcome", "created", "attempt"} or why not."""
    return dict(await tx.fetch_val(START_SQL, (community_id, item_id, block_id)))


async def submit(tx: Tx, attempt_id: UUID, answers: dict[str, Any]) -> dict[str, Any]:
    """`app.submit_quiz_attempt`'s answer: {"outcome", "attempt"} or why not."""
    return dict(await tx.fetch_val(SUBMIT_SQL, (attempt_id, json.dumps(answers))))


async def mine(tx: Tx, item_id: UUID, block_id: UUID) -> list[Row]:
    """The caller's attempts at one quiz, oldest first."""
    return await tx.fetch_all(MINE_SQL, (item_id, block_id))
