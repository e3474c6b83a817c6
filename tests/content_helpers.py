"""Arranging content for the tests: items and grants written as the database owner, and item bodies."""

from __future__ import annotations

import json
from typing import Any

from shared.content.payloads import AGENT_SECRETS
from tests.helpers import Sql

PROMPT = {
    "prompt_text": "Rewrite this e-mail so a busy reader gets it in ten seconds.",
    "category": "writing",
}
AGENT = {
    "name": "Coach",
    "system_prompt": "You coach people through their first prompts.",
    "model_settings": {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "temperature": 0.3,
        "max_output_tokens": 800,
    },
}
PAYLOADS: dict[str, dict[str, Any]] = {
    "ai_agent": AGENT,
    "video": {
        "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "platform": "youtube",
        "duration_seconds": 212,
    },
    "document": {"html_body": "<h1>Prompting</h1><p>Say what you want, then how.</p>"},
    "prompt": PROMPT,
    "automation": {
        "url": "https://make.com/scenario/42",
        "required_tools": ["Make"],
        "setup_instructions": "Import it.",
    },
    "image": {
        "url": "https://cdn.example.com/cover.png",
        "byte_size": 20480,
        "mime_type": "image/png",
        "width": 640,
    },
    "pdf": {"url": "https://cdn.example.com/guide.pdf", "byte_size": 204800, "page_count": 12},
}


def new_item(content_type: str = "prompt", community: str | None = None, **fields: Any) -> dict[str, Any]:
    """A create body."""
    body = {"type": content_type, "title": f"A {content_type}", "payload": PAYLOADS[content_type], **fields}
    if community is not None:
        body["community_id"] = community
    return body


def make_item(
    sql: Sql,
    community: str | None = None,
    *,
    content_type: str = "prompt",
    title: str = "An item",
    description: str = "",
    status: str = "draft",
    tags: list[str] | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    """An item written directly in the database, as the service stores it (an agent's prompt and model
    settings apart, in content_item_keys); its id."""
    body = dict(payload or PAYLOADS[content_type])
    secrets = {k: body.pop(k) for k in AGENT_SECRETS if k in body} if content_type == "ai_agent" else {}
    rows = sql(
        "insert into content_items (community_id, type, title, description, tags, payload, status)"
        " values (%s, %s, %s, %s, %s, %s::jsonb, %s) returning id::text as id",
        (community, content_type, title, description, tags or [], json.dumps(body), status),
    )
    item = str(rows[0]["id"])
    if secrets:
        sql("insert into content_item_keys (item_id, keys) values (%s, %s::jsonb)", (item, json.dumps(secrets)))
    return item


def grant(sql: Sql, item: str, community: str) -> None:
    """Grant an item to a whole community."""
    from tests.content_rows import make_grant

    make_grant(sql, item, community)


def item_row(sql: Sql, item: str) -> dict[str, Any] | None:
    """The stored item, as the owner sees it."""
    rows = sql(
        "select id::text, community_id::text, type, title, description, tags, status, payload, revision,"
        " latest_version, published_at, created_by::text, updated_by::text from content_items where id = %s",
        (item,),
    )
    return rows[0] if rows else None


def versions(sql: Sql, item: str) -> list[dict[str, Any]]:
    """The item's versions, oldest first."""
    return sql(
        "select number, kind, change_summary, author_id::text, snapshot from content_versions"
        " where item_id = %s order by number",
        (item,),
    )
