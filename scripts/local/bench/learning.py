"""Learning progress under load, and the worker's throughput applying completion events.

The load scenarios need a published WOD of 10 pages of 5 blocks and a program of it, granted to the bench
community, with half the WOD's pages completed by the bench user (ids fixed, so scenarios can name them).
Recording a completion needs a target not completed before for every request: RECORD_WODS more WODs of
the same shape, granted, whose blocks the scenario's bodies name one each, round robin over the WODs
(learners do not all work through one WOD at once: the per-learner-and-item lock is not what is measured).
The worker part enqueues `learning.completed` events of the community's learners, each of a target not
completed before, and times `events.run_batch` (with the gamification handlers the worker function
subscribes) draining them: every event is a new fact, a streak check and an award check.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scripts.local.bench.targets import BENCH_COMMUNITY, BENCH_USER

LEARN_WOD = "e0000000-0000-4000-8000-0000000bf001"
LEARN_PROGRAM = "e0000000-0000-4000-8000-0000000bf002"
PAGES, BLOCKS_PER_PAGE = 10, 5
LEARNERS = (BENCH_USER[0], "a0000000-0000-4000-8000-000000000012", "a0000000-0000-4000-8000-000000000013")
"""The bench community's seeded admin and learners, whose completions the worker applies."""


RECORD_WODS = 200
"""WODs whose blocks (RECORD_WODS × 50) the completion scenario records, each once."""


def _id(kind: int, page: int = 0, block: int = 0, wod: int = 0) -> str:
    return str(uuid.UUID(int=(0xBF << 120) | (wod << 48) | (kind << 32) | (page << 16) | block))


def block_id(page: int, block: int, wod: int = 0) -> str:
    """The id of block `block` of page `page` (both 0-based) of the learning WOD (`wod` 0) or a record WOD."""
    return _id(2, page, block, wod)


def record_wod_id(wod: int) -> str:
    """The id of record WOD `wod` (1…RECORD_WODS)."""
    return _id(5, wod=wod)


def _page(page: int, wod: int = 0) -> dict[str, Any]:
    return {
        "id": _id(1, page, wod=wod),
        "title": f"Step {page + 1}",
        "blocks": [
            {"id": block_id(page, 0, wod), "type": "section_header", "title": f"Step {page + 1}", "subtitle": ""},
            {"id": block_id(page, 1, wod), "type": "rich_text", "html_body": "<p>" + "Try it on your own work. " * 20 + "</p>"},
            {"id": block_id(page, 2, wod), "type": "list", "style": "bulleted", "items": ["Read", "Try", "Reflect"]},
            {"id": block_id(page, 3, wod), "type": "quote", "text": "Small steps, every day.", "attribution": "A coach"},
            {"id": block_id(page, 4, wod), "type": "user_submission", "instructions": "Paste what you made."},
        ],
    }


INSERT = (
    "insert into public.content_items (id, community_id, type, title, status, payload, created_by, updated_by)"
    " values (%s, %s, %s, %s, 'published', %s::jsonb, %s, %s) on conflict (id) do nothing"
)
GRANT = "insert into public.content_grants (item_id, community_id) values (%s, %s) on conflict do nothing"


def _wod_payload(wod: int) -> dict[str, Any]:
    """A WOD of PAGES pages of BLOCKS_PER_PAGE blocks, as stored (the learning WOD: `wod` 0)."""
    from shared.authoring import pages

    editor = [pages.Page.model_validate_json(json.dumps(_page(p, wod))) for p in range(PAGES)]
    stored, _ = pages.split_keys(editor)
    return {"difficulty": "beginner", "estimated_minutes": 30, "pages": pages.dump(stored)}


def statements() -> list[tuple[str, tuple[Any, ...]]]:
    """The statements (run as the database owner) that write the WOD, the program, their grants and half
    the WOD's pages completed by the bench user."""
    from shared.authoring.programs import ProgramPayload

    wod = _wod_payload(0)
    entries = [{"id": _id(3), "item_id": LEARN_WOD, "week": None, "day": None}]
    program = ProgramPayload.model_validate(
        {"difficulty": "beginner", "calendar": False, "capacity": None, "enrollment_deadline": None,
         "sections": [{"id": _id(4), "title": "Start here", "items": entries}]},
        strict=False,
    ).model_dump(mode="json")
    done = (
        "insert into public.learning_completions (user_id, community_id, target_type, target_id, item_id)"
        " values (%s, %s, 'page', %s, %s) on conflict do nothing"
    )
    admin = BENCH_USER[0]
    return [
        (INSERT, (LEARN_WOD, BENCH_COMMUNITY, "wod", "Bench learning WOD", json.dumps(wod), admin, admin)),
        (INSERT, (LEARN_PROGRAM, BENCH_COMMUNITY, "program", "Bench program", json.dumps(program), admin, admin)),
        (GRANT, (LEARN_WOD, BENCH_COMMUNITY)),
        (GRANT, (LEARN_PROGRAM, BENCH_COMMUNITY)),
        *[(done, (admin, BENCH_COMMUNITY, _id(1, p), LEARN_WOD)) for p in range(PAGES // 2)],
    ]


def repeat_body() -> str:
    """The idempotent repeat's body: the last block of the learning WOD's first page (recorded by the first
    request; every later one is answered with the stamp as it was, through the same checks)."""
    return json.dumps(
        {"community_id": BENCH_COMMUNITY, "target_type": "block", "target_id": block_id(0, 4),
         "item_id": LEARN_WOD, "time_spent_s": 60}
    )


def record_statements() -> list[tuple[str, tuple[Any, ...]]]:
    """`statements`, and the record WODs, published and granted to the bench community."""
    admin = BENCH_USER[0]
    wods: list[tuple[str, tuple[Any, ...]]] = []
    for wod in range(1, RECORD_WODS + 1):
        payload = json.dumps(_wod_payload(wod))
        wods.append((INSERT, (record_wod_id(wod), BENCH_COMMUNITY, "wod", f"Record WOD {wod}", payload, admin, admin)))
        wods.append((GRANT, (record_wod_id(wod), BENCH_COMMUNITY)))
    return [*statements(), *wods]


def record_bodies() -> list[str]:
    """The completion-recording scenario's bodies, one per request, each a block not completed before:
    round robin over the record WODs, block after block within each."""
    bodies = []
    for n in range(RECORD_WODS * PAGES * BLOCKS_PER_PAGE):
        wod, (page, block) = 1 + n % RECORD_WODS, divmod(n // RECORD_WODS, BLOCKS_PER_PAGE)
        body = {"community_id": BENCH_COMMUNITY, "target_type": "block", "target_id": block_id(page, block, wod),
                "item_id": record_wod_id(wod), "time_spent_s": 60}
        bodies.append(json.dumps(body))
    return bodies


@dataclass(frozen=True, slots=True)
class WorkerResult:
    """How fast the worker applied `events` completion events (and the awards they caused)."""

    events: int
    delivered: int
    batches: int
    seconds: float
    events_per_s: float
    batch_size: int


async def measure_worker(events_count: int) -> WorkerResult:
    """Empty the queue, enqueue `events_count` completions, time `run_batch` draining them."""
    from scripts.local.stack import drain_queued_events
    from shared.gamification import model
    from shared.platform import events
    from shared.platform.config import get_settings
    from shared.platform.db import as_service

    await drain_queued_events()  # subscribes the worker function's handlers; the seed's events are not timed
    now = datetime.now(UTC).isoformat()
    async with as_service() as tx:
        for n in range(events_count):
            target = str(uuid.uuid4())
            payload = {
                "user_id": LEARNERS[n % len(LEARNERS)], "community_id": BENCH_COMMUNITY, "target_type": "page",
                "target_id": target, "item_id": LEARN_WOD, "score": None, "time_spent_s": 60, "completed_at": now,
            }
            await events.enqueue(tx, events.Event(name=model.COMPLETED, payload=payload))
    batch_size = get_settings().worker_batch_size
    delivered = batches = 0
    started = time.perf_counter()
    while True:
        report = await events.run_batch(batch_size=batch_size)
        if report.read == 0:
            break
        batches += 1
        delivered += report.archived
    seconds = time.perf_counter() - started
    return WorkerResult(
        events_count, delivered, batches, round(seconds, 3), round(events_count / seconds, 1), batch_size
    )
