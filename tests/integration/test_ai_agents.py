"""An agent for a turn: published, visible to the caller under row level security, else one 404."""

from __future__ import annotations

import uuid

import pytest

from scripts.local.stack import seed_demo_content
from shared.ai.agents import NoSuchAgentError, load_agent
from shared.platform.db import as_user
from tests.factories import ACME_ADMIN, ACME_LENA, GLOBEX_GINA, MANAGER, claims
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
