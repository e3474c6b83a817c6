"""`ai-usage` through the real handler: usage per month against the quota, per agent and per user."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from scripts.local.stack import seed_demo_content
from shared.ai.usage_reads.schemas import months_before, this_month
from shared.platform.db import as_user
from tests.ai_rows import ANALYST, PROMPT_COACH, usage
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    ACME_LIAM,
    GLOBEX,
    GLOBEX_ADMIN,
    GLOBEX_GINA,
    MANAGER,
    SPECIALIST,
    SUPER,
    auth,
    claims,
)
from tests.helpers import Sql, assert_problem

NOW = this_month()
LAST = months_before(NOW, 1)


def ym(month: Any) -> str:
    return f"{month:%Y-%m}"


@pytest.fixture
def ledger(db: str, sql: Sql) -> None:
    """Acme (quota 1000): Liam 350 tokens with the analyst, Lena 300 with the coach and 15 with no agent this
    month, 300 last month; Globex: Gina 800 this month."""
    seed_demo_content(db)
    sql("update public.community_ai_settings set monthly_token_quota = 1000 where community_id = %s", (ACME,))
    usage(sql, ACME, ACME_LIAM, ANALYST, tokens=(250, 100), cost="0.002")
    usage(sql, ACME, ACME_LENA, PROMPT_COACH, tokens=(100, 50))
    usage(sql, ACME, ACME_LENA, PROMPT_COACH, tokens=(100, 50))
    usage(sql, ACME, ACME_LENA, None, tokens=(10, 5), feature="generate", cost="0")
    usage(sql, ACME, ACME_LENA, PROMPT_COACH, tokens=(300, 0), month=f"{LAST:%Y-%m}-15")
    usage(sql, GLOBEX, GLOBEX_GINA, ANALYST, tokens=(400, 400))


async def test_an_admin_reads_their_communitys_months_against_the_quota(
    client: httpx.AsyncClient, ledger: None
) -> None:
    response = await client.get(
        "/ai-usage", params={"community_id": ACME, "from": ym(LAST), "to": ym(NOW)}, headers=auth(ACME_ADMIN)
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "community_id": ACME,
        "months": [
            {"month": LAST.isoformat(), "used_tokens": 300, "quota": 1000, "remaining_tokens": 700,
             "input_tokens": 300, "output_tokens": 0, "cost_usd": "0.001000", "calls": 1},
            {"month": NOW.isoformat(), "used_tokens": 665, "quota": 1000, "remaining_tokens": 335,
             "input_tokens": 460, "output_tokens": 205, "cost_usd": "0.004000", "calls": 4},
        ],
    }


async def test_months_default_to_the_last_twelve_and_empty_months_count_zero(
    client: httpx.AsyncClient, ledger: None
) -> None:
    response = await client.get("/ai-usage", params={"community_id": GLOBEX}, headers=auth(GLOBEX_ADMIN))
    months = response.json()["months"]
    assert [m["month"] for m in months] == [months_before(NOW, n).isoformat() for n in range(11, -1, -1)]
    assert months[-2] == {"month": LAST.isoformat(), "used_tokens": 0, "quota": 1000000,
                          "remaining_tokens": 1000000, "input_tokens": 0, "output_tokens": 0,
                          "cost_usd": "0", "calls": 0}
    assert months[-1]["used_tokens"] == 800


async def test_an_admin_reads_one_month_per_agent_and_per_user_in_pages(
    client: httpx.AsyncClient, ledger: None
) -> None:
    agents: list[tuple[Any, ...]] = []
    cursor = None
    for _ in range(3):
        params: dict[str, Any] = {"community_id": ACME, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/ai-usage/agents", params=params, headers=auth(ACME_ADMIN))).json()
        assert page["month"] == NOW.isoformat()
        agents += [(a["agent_id"], a["agent_title"], a["total_tokens"], a["calls"]) for a in page["items"]]
        cursor = page["next_cursor"]
    assert cursor is None
    assert agents == [
        (ANALYST, None, 350, 1),  # the analyst is granted to Globex only: its title is hidden from Acme's admin
        (PROMPT_COACH, "Prompt Coach", 300, 2),
        (None, None, 15, 1),
    ]
    users = (await client.get("/ai-usage/users", params={"community_id": ACME}, headers=auth(ACME_ADMIN))).json()
    assert [(u["user_id"], u["email"], u["input_tokens"], u["output_tokens"]) for u in users["items"]] == [
        (ACME_LIAM, "liam@acme.example.com", 250, 100),
        (ACME_LENA, "lena@acme.example.com", 210, 105),
    ]
    last = await client.get(
        "/ai-usage/users", params={"community_id": ACME, "month": ym(LAST)}, headers=auth(ACME_ADMIN)
    )
    assert [(u["user_id"], u["total_tokens"]) for u in last.json()["items"]] == [(ACME_LENA, 300)]


@pytest.mark.parametrize("staff", [SUPER, MANAGER, SPECIALIST])
async def test_staff_read_any_community_or_all_of_them_together(
    client: httpx.AsyncClient, ledger: None, staff: str
) -> None:
    globex = await client.get("/ai-usage/users", params={"community_id": GLOBEX}, headers=auth(staff))
    assert [(u["user_id"], u["total_tokens"]) for u in globex.json()["items"]] == [(GLOBEX_GINA, 800)]
    every = await client.get("/ai-usage", params={"from": ym(NOW)}, headers=auth(staff))
    assert every.json() == {
        "community_id": None,
        "months": [
            {"month": NOW.isoformat(), "used_tokens": 1465, "quota": None, "remaining_tokens": None,
             "input_tokens": 860, "output_tokens": 605, "cost_usd": "0.005000", "calls": 5},
        ],
    }
    users = await client.get("/ai-usage/users", headers=auth(staff))
    assert [u["user_id"] for u in users.json()["items"]] == [GLOBEX_GINA, ACME_LIAM, ACME_LENA]


@pytest.mark.parametrize("path", ["", "/agents", "/users"])
@pytest.mark.parametrize(
    ("who", "community", "status", "code"),
    [
        (ACME_LENA, ACME, 403, "forbidden"),  # a learner, even for their own usage
        (GLOBEX_GINA, GLOBEX, 403, "forbidden"),
        (GLOBEX_ADMIN, ACME, 404, "not_found"),  # another community's admin
        (ACME_ADMIN, "c0000000-0000-4000-8000-00000000ffff", 404, "not_found"),
    ],
    ids=["learner", "other-learner", "other-admin", "no-such-community"],
)
async def test_learners_and_other_communities_admins_read_no_usage(
    client: httpx.AsyncClient, ledger: None, path: str, who: str, community: str, status: int, code: str
) -> None:
    response = await client.get(f"/ai-usage{path}", params={"community_id": community}, headers=auth(who))
    body = assert_problem(response, status, code)
    assert "tokens" not in body


async def test_an_admin_must_name_their_community(client: httpx.AsyncClient, ledger: None) -> None:
    response = await client.get("/ai-usage/users", headers=auth(ACME_ADMIN))
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["loc"] == "query.community_id"


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"from": "2026-13"}, "query.from"),
        ({"to": "2026-1"}, "query.to"),
        ({"from": "2026-11-01"}, "query.from"),
        ({"from": "2026-10", "to": "2026-09"}, "query"),
        ({"from": "2024-01", "to": "2026-01"}, "query"),
        ({"month": "2026-11"}, "query.month"),
    ],
)
async def test_a_bad_month_or_range_is_a_422(
    client: httpx.AsyncClient, ledger: None, params: dict[str, str], loc: str
) -> None:
    response = await client.get("/ai-usage", params={"community_id": ACME, **params}, headers=auth(ACME_ADMIN))
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["loc"] == loc


async def test_a_range_of_24_months_is_allowed(client: httpx.AsyncClient, ledger: None) -> None:
    response = await client.get(
        "/ai-usage", params={"community_id": ACME, "from": "2024-01", "to": "2025-12"}, headers=auth(ACME_ADMIN)
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["months"]) == 24


async def test_a_bad_page_cursor_is_a_422(client: httpx.AsyncClient, ledger: None) -> None:
    response = await client.get(
        "/ai-usage/agents", params={"community_id": ACME, "cursor": "WyJ4IiwieSJd"}, headers=auth(ACME_ADMIN)
    )
    assert assert_problem(response, 422, "validation_failed")["errors"][0]["loc"] == "query.cursor"


@pytest.mark.parametrize(
    "headers",
    [auth(ACME_ADMIN, secret="a-secret-that-is-not-the-projects-but-long-enough"), auth(SUPER, exp=1), {}],
    ids=["forged", "expired", "none"],
)
async def test_a_forged_expired_or_missing_token_is_a_401(
    client: httpx.AsyncClient, ledger: None, headers: dict[str, str]
) -> None:
    response = await client.get("/ai-usage", params={"community_id": ACME}, headers=headers)
    assert_problem(response, 401, "unauthenticated")


async def test_sql_callers_read_only_the_usage_row_level_security_allows(ledger: None) -> None:
    async with as_user(claims(GLOBEX_ADMIN)) as tx:
        assert await tx.fetch_all("select 1 from public.ai_usage where community_id = %s", (ACME,)) == []
        assert await tx.fetch_all("select 1 from public.ai_quota_months where community_id = %s", (ACME,)) == []
    async with as_user(claims(ACME_LENA)) as tx:
        # A learner sees their own ledger rows (PostgREST), never the community's months or others' rows.
        rows = await tx.fetch_all("select user_id::text as u from public.ai_usage")
        assert {r["u"] for r in rows} == {ACME_LENA}
        assert await tx.fetch_all("select 1 from public.ai_quota_months") == []


async def test_a_month_used_past_its_quota_has_nothing_remaining(
    client: httpx.AsyncClient, sql: Sql, ledger: None
) -> None:
    sql("update public.community_ai_settings set monthly_token_quota = 500 where community_id = %s", (ACME,))
    response = await client.get("/ai-usage", params={"community_id": ACME, "from": ym(NOW)}, headers=auth(SUPER))
    [month] = response.json()["months"]
    assert (month["used_tokens"], month["quota"], month["remaining_tokens"]) == (665, 500, 0)


@pytest.mark.parametrize("path", ["", "/agents", "/users"])
async def test_an_admin_elsewhere_is_a_learner_here_and_reads_no_usage(
    client: httpx.AsyncClient, sql: Sql, ledger: None, path: str
) -> None:
    sql("insert into public.memberships (community_id, user_id, role) values (%s, %s, 'member')", (ACME, GLOBEX_ADMIN))
    usage(sql, ACME, GLOBEX_ADMIN, PROMPT_COACH, tokens=(5, 5))
    response = await client.get(f"/ai-usage{path}", params={"community_id": ACME}, headers=auth(GLOBEX_ADMIN))
    assert_problem(response, 403, "forbidden")
