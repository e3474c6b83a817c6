"""An agent for a turn: published, visible to the caller under row level security, else one 404."""

from __future__ import annotations

import uuid

import httpx
import pytest

from scripts.local.stack import seed_demo_content
from shared.ai.agents import NoSuchAgentError, load_agent
from shared.platform.db import as_user
from tests.factories import ACME_ADMIN, ACME_LENA, GLOBEX_GINA, MANAGER, auth, claims
from tests.helpers import Sql

COACH = uuid.UUID("e0000000-0000-4000-8000-0000000c0001")  # a platform agent granted to Acme
VIDEO = uuid.UUID("e0000000-0000-4000-8000-0000000c0003")  # a video Acme's learners see


async def test_a_learner_loads_the_agent_granted_to_their_community_with_its_server_side_prompt(
    db: str, sql: Sql
) -> None:
    seed_demo_content(db)
    async with as_user(claims(ACME_LENA)) as tx:
        agent = await load_agent(tx, COACH)
    assert (agent.id, agent.community_id, agent.name) == (COACH, None, "Prompt Coach")
    assert agent.system_prompt.startswith("You are a patient prompt-writing coach")
    assert (agent.provider, agent.model, agent.temperature, agent.max_output_tokens) == (
        "offline",
        "offline-echo",
        0.4,
        800,
    )


@pytest.mark.parametrize(
    ("user", "change"),
    [
        (GLOBEX_GINA, None),  # granted to Acme only
        (ACME_LENA, "update content_items set status = 'draft' where id = %s"),
        (ACME_LENA, "update content_items set status = 'archived' where id = %s"),
        (ACME_ADMIN, "update content_items set status = 'draft' where id = %s"),
        (MANAGER, "update content_items set status = 'draft' where id = %s"),  # staff see drafts: not a chat
    ],
)
async def test_an_agent_the_caller_cannot_chat_with_is_one_404(
    db: str, sql: Sql, user: str, change: str | None
) -> None:
    seed_demo_content(db)
    if change:
        sql(change, (COACH,))
    with pytest.raises(NoSuchAgentError) as missing:
        async with as_user(claims(user)) as tx:
            await load_agent(tx, COACH)
    assert (missing.value.status, missing.value.code) == (404, "no_such_agent")


@pytest.mark.parametrize("item", [uuid.uuid4(), VIDEO], ids=["unknown", "a video"])
async def test_an_unknown_id_or_another_type_of_item_is_the_same_404(db: str, item: uuid.UUID) -> None:
    seed_demo_content(db)
    with pytest.raises(NoSuchAgentError):
        async with as_user(claims(ACME_LENA)) as tx:
            await load_agent(tx, item)


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
