"""The local stack's demo catalogue: every type, an agent per community, and two communities seeing differently."""

from __future__ import annotations

from scripts.local.stack import seed_demo_content
from shared.platform.db import as_user
from tests.factories import ACME_LENA, ACME_LIAM, GLOBEX_GINA
from tests.helpers import Sql

TYPES = {"ai_agent", "video", "document", "prompt", "automation", "image", "pdf"}


async def seen_by(user: str) -> dict[str, str]:
    async with as_user({"sub": user, "role": "authenticated"}) as tx:
        rows = await tx.fetch_all("select title, type from public.content_items")
    return {r["title"]: r["type"] for r in rows}


async def test_demo_catalogue_applies_twice_and_gives_each_community_its_own_agent(db: str, sql: Sql) -> None:
    seed_demo_content(db)
    seed_demo_content(db)  # idempotent: serve applies it at every start

    types = {r["type"] for r in sql("select distinct type from content_items where status = 'published'")}
    lena, liam, gina = await seen_by(ACME_LENA), await seen_by(ACME_LIAM), await seen_by(GLOBEX_GINA)

    assert types == TYPES
    assert [t for t, kind in lena.items() if kind == "ai_agent"] == ["Prompt Coach"]
    assert [t for t, kind in gina.items() if kind == "ai_agent"] == ["Data Analyst Buddy"]
    assert (
        "Triage support e-mails automatically" in lena and "Triage support e-mails automatically" not in liam
    )
    assert set(lena) & set(gina) == {"Prompting fundamentals in 10 minutes"}
    assert "Globex onboarding: our AI tools" in gina and "Agents 101 (coming soon)" not in lena | gina
