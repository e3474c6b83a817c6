"""Data a load scenario needs beyond the seed: a WOD of 20 pages of 10 blocks, owned by the bench community.

Every page holds the same mix (a header, rich text, a list, a quote, a divider, a video and a document
of the demo catalogue, a submission, a prompt and a quiz of four questions), so a read carries 200 blocks
and 20 quizzes' answers, and a save rewrites a payload of that size. Ids are fixed, so the scenarios can
name the WOD and a page; the items it embeds are written with it (the tests' database has no demo content).
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from scripts.local.bench.targets import BENCH_COMMUNITY, BENCH_USER

BENCH_WOD = "e0000000-0000-4000-8000-0000000be001"
PAGES, BLOCKS_PER_PAGE = 20, 10
VIDEO = "e0000000-0000-4000-8000-0000000be011"
DOCUMENT = "e0000000-0000-4000-8000-0000000be012"
PROMPT = "e0000000-0000-4000-8000-0000000be013"
EMBEDDED = {
    VIDEO: ("video", {"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "platform": "youtube",
                      "platform_video_id": "dQw4w9WgXcQ", "duration_seconds": 212, "transcript": None}),
    DOCUMENT: ("document", {"html_body": "<p>Say what you want.</p>", "json_body": None, "word_count": 4,
                            "reading_minutes": 1}),
    PROMPT: ("prompt", {"prompt_text": "Rewrite this for a busy reader.", "category": None}),
}
"""The items the WOD embeds, the bench community's own."""


def _id(kind: int, page: int, block: int = 0) -> str:
    return str(UUID(int=(0xBE << 120) | (kind << 32) | (page << 16) | block))


def page_id(page: int) -> str:
    """The id of page `page` (0-based) of the bench WOD."""
    return _id(1, page)


def page_blocks(page: int, note: str = "") -> list[dict[str, Any]]:
    """The editor's blocks of page `page`: ten, a quiz with its answers among them."""
    def block(n: int) -> str:
        return _id(2, page, n)

    options = [{"id": c, "text": f"Option {c}"} for c in "abcd"]
    return [
        {"id": block(0), "type": "section_header", "title": f"Part {page + 1}", "subtitle": note},
        {"id": block(1), "type": "rich_text", "html_body": "<p>" + "Practise a little every day. " * 20 + "</p>"},
        {"id": block(2), "type": "list", "style": "numbered", "items": ["Read", "Try", "Reflect", "Share"]},
        {"id": block(3), "type": "quote", "text": "Clear beats clever.", "attribution": "A coach"},
        {"id": block(4), "type": "divider"},
        {"id": block(5), "type": "video", "content_id": VIDEO, "caption": "Watch first", "start_seconds": 30},
        {"id": block(6), "type": "document", "content_id": DOCUMENT, "display": "link"},
        {"id": block(7), "type": "user_submission", "instructions": "Paste your prompt."},
        {"id": block(8), "type": "prompt", "content_id": PROMPT, "intro": "Adapt it."},
        {
            "id": block(9),
            "type": "quiz",
            "title": "Check",
            "questions": [
                {"id": _id(3, page, 0), "kind": "single_choice", "prompt": "Pick one", "options": options,
                 "answer": ["b"], "explanation": "B says it plainly."},
                {"id": _id(3, page, 1), "kind": "multiple_choice", "prompt": "Pick all", "options": options,
                 "answer": ["a", "c"], "explanation": "Both are constraints."},
                {"id": _id(3, page, 2), "kind": "true_false", "prompt": "Longer is better.", "answer": False},
                {"id": _id(3, page, 3), "kind": "short_answer", "prompt": "Name the part.", "answer": ["role"]},
            ],
        },
    ]


def wod_statements() -> list[tuple[str, tuple[Any, ...]]]:
    """The statements (run as the database owner) that write the bench WOD and its answer keys."""
    from shared.authoring import pages

    editor = [
        pages.Page.model_validate_json(
            json.dumps({"id": page_id(p), "title": f"Page {p + 1}", "blocks": page_blocks(p)})
        )
        for p in range(PAGES)
    ]
    stored, keys = pages.split_keys(editor)
    payload = {"difficulty": "intermediate", "estimated_minutes": 90, "pages": pages.dump(stored)}
    insert = (
        "insert into public.content_items (id, community_id, type, title, payload, created_by, updated_by)"
        " values (%s, %s, %s, %s, %s::jsonb, %s, %s) on conflict (id) do nothing"
    )
    admin = BENCH_USER[0]
    items = [
        (insert, (item, BENCH_COMMUNITY, kind, f"Bench {kind}", json.dumps(body), admin, admin))
        for item, (kind, body) in EMBEDDED.items()
    ]
    return [
        *items,
        (insert, (BENCH_WOD, BENCH_COMMUNITY, "wod", "Bench WOD: 20 pages of 10 blocks", json.dumps(payload), admin, admin)),
        (
            "insert into public.content_item_keys (item_id, keys) values (%s, %s::jsonb) on conflict do nothing",
            (BENCH_WOD, json.dumps(keys)),
        ),
    ]


def save_page_body() -> str:
    """The body of the page-save scenario: page 10's blocks as they are, a `{n}` in its title and header."""
    return json.dumps({"title": "Page 10 ({n})", "blocks": page_blocks(9, note="{n}")})
