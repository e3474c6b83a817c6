"""An agent's prompt and model settings: kept from learners who speak SQL, refused in the payload, shown
only to its editors. Who may chat with an agent is tested through `ai-chat` (tests/functions/test_ai_chat.py)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from scripts.local.stack import seed_demo_content
from shared.platform.db import as_user
from tests.factories import ACME_ADMIN, ACME_LENA, MANAGER, auth, claims
from tests.helpers import Sql

COACH = uuid.UUID("e0000000-0000-4000-8000-0000000c0001")  # a platform agent granted to Acme


async def test_a_learner_speaking_sql_reads_neither_the_prompt_nor_the_model_settings(db: str) -> None:
    seed_demo_content(db)
    async with as_user(claims(ACME_LENA)) as tx:
        payload = await tx.fetch_val("select payload from public.content_items where id = %s", (COACH,))
        probed = await tx.fetch_val(
            "select count(*) from public.content_items where search @@ plainto_tsquery('english', 'patient coach')"
        )
        secrets = await tx.fetch_all("select keys from public.content_item_keys where item_id = %s", (COACH,))
    assert payload["name"] == "Prompt Coach"
    assert "system_prompt" not in payload and "model_settings" not in payload
    assert probed == 0, "the prompt's words are not searchable by learners"
    assert secrets == []


async def test_an_agent_payload_carrying_its_prompt_is_refused_for_every_writer(db: str, sql: Sql) -> None:
    seed_demo_content(db)
    with pytest.raises(Exception, match="agent_secrets_in_payload"):
        sql(
            "update public.content_items set payload = payload || '{\"system_prompt\": \"leaked\"}' where id = %s",
            (COACH,),
        )


@pytest.mark.parametrize(("user", "sees"), [(MANAGER, True), (ACME_ADMIN, False)])
async def test_only_the_agents_editors_read_its_prompt_in_the_repository(
    db: str, client: httpx.AsyncClient, user: str, sees: bool
) -> None:
    seed_demo_content(db)
    response = await client.get(f"/content/{COACH}", headers=auth(user))
    assert response.status_code == 200, response.text
    payload = response.json()["payload"]
    assert payload["name"] == "Prompt Coach"
    assert (payload["system_prompt"] is not None) is sees
    assert (payload["model_settings"] is not None) is sees
