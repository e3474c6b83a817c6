"""Arranging learning content for the tests: a published WOD with pages and a quiz (its answers kept as
keys), a program of WODs, granted to a community; and reading what the learning functions recorded."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.content_helpers import make_item
from tests.content_rows import make_grant
from tests.helpers import Sql

QUIZ_ANSWERS = {"q1": ["b"], "q2": ["a", "c"], "q3": True, "q4": ["Prompt", "a prompt"]}


def _id() -> str:
    return str(uuid.uuid4())


@dataclass
class Wod:
    """A published WOD: two pages, the second holding a quiz of four questions."""

    id: str
    pages: list[str]
    blocks: list[str]
    quiz: str
    questions: dict[str, str] = field(default_factory=dict)
    """Question label (q1…q4) → its id."""

    def right_answers(self) -> dict[str, Any]:
        """Every question answered right."""
        return {self.questions[label]: answer for label, answer in QUIZ_ANSWERS.items() if label != "q4"} | {
            self.questions["q4"]: "  PROMPT "
        }


def quiz_block(
    quiz_id: str, questions: dict[str, str], *, passing: int = 70, limit: int | None = None, retake: Any = None
) -> dict[str, Any]:
    """A stored quiz block (no answers), with its settings."""
    options = [{"id": o, "text": f"Option {o}"} for o in ("a", "b", "c")]
    return {
        "id": quiz_id,
        "type": "quiz",
        "title": "Check yourself",
        "passing_score": passing,
        "time_limit_seconds": limit,
        "retake": retake or {"allowed": True, "max_attempts": None},
        "questions": [
            {"id": questions["q1"], "kind": "single_choice", "prompt": "One?", "options": options},
            {"id": questions["q2"], "kind": "multiple_choice", "prompt": "Which?", "options": options},
            {"id": questions["q3"], "kind": "true_false", "prompt": "True?"},
            {"id": questions["q4"], "kind": "short_answer", "prompt": "What do you write?", "case_sensitive": False},
        ],
    }


def make_wod(
    sql: Sql,
    community: str | None,
    *,
    grant_to: str | None = None,
    status: str = "published",
    content_type: str = "wod",
    **quiz: Any,
) -> Wod:
    """A WOD (or BLOCK) of two pages (a text block; a quiz), with the quiz's keys, granted when asked."""
    pages, blocks, quiz_id = [_id(), _id()], [_id()], _id()
    questions = {label: _id() for label in QUIZ_ANSWERS}
    payload = {
        "pages": [
            {"id": pages[0], "title": "Read", "blocks": [{"id": blocks[0], "type": "rich_text", "html_body": "<p>Hi</p>"}]},
            {"id": pages[1], "title": "Check", "blocks": [quiz_block(quiz_id, questions, **quiz)]},
        ]
    }
    payload |= {"difficulty": "beginner"} if content_type == "wod" else {"category": "general"}
    item = make_item(sql, community, content_type=content_type, title="A WOD", status=status, payload=payload)
    keys = {
        quiz_id: {
            questions[label]: {"answer": answer, "explanation": f"Because {label}."}
            for label, answer in QUIZ_ANSWERS.items()
        }
    }
    sql("insert into content_item_keys (item_id, keys) values (%s, %s::jsonb)", (item, json.dumps(keys)))
    if grant_to is not None:
        make_grant(sql, item, grant_to)
    return Wod(item, pages, blocks, quiz_id, questions)


@dataclass
class Program:
    """A published program of one section; `entries` are its program items' ids, by position."""

    id: str
    entries: list[str]


def make_program(
    sql: Sql,
    community: str | None,
    items: list[str],
    *,
    grant_to: str | None = None,
    capacity: int | None = None,
    deadline: str | None = None,
    status: str = "published",
    tag: str | None = None,
    user: str | None = None,
) -> Program:
    """A course of these WODs or BLOCKs, granted to a community (or a tag or member there) when asked."""
    entries = [_id() for _ in items]
    payload = {
        "difficulty": "beginner",
        "calendar": False,
        "capacity": capacity,
        "enrollment_deadline": deadline,
        "sections": [
            {"id": _id(), "title": "All", "items": [{"id": e, "item_id": i} for e, i in zip(entries, items, strict=True)]}
        ],
    }
    program = make_item(sql, community, content_type="program", title="A program", status=status, payload=payload)
    if grant_to is not None:
        make_grant(sql, program, grant_to, tag=tag, user=user)
    return Program(program, entries)


def events(sql: Sql, name: str) -> list[dict[str, Any]]:
    """The payloads of the queued events of this name, oldest first."""
    rows = sql(
        "select message from pgmq.q_events where message->>'name' = %s order by msg_id", (name,)
    )
    return [row["message"]["payload"] for row in rows]


def enrollments(sql: Sql, program: str) -> list[dict[str, Any]]:
    """The program's enrollments, by user."""
    return sql(
        "select id::text, user_id::text, community_id::text, status, source, completed_at, dropped_at"
        " from learning_enrollments where program_id = %s order by user_id",
        (program,),
    )


def completions(sql: Sql, user: str) -> list[dict[str, Any]]:
    """The user's completion stamps, oldest first."""
    return sql(
        "select target_type, target_id::text, item_id::text, score::float, time_spent_s, community_id::text"
        " from learning_completions where user_id = %s order by completed_at, target_type",
        (user,),
    )
