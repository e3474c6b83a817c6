"""`admin-dashboard` through the real handler, against the real database (row level security on)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.content_rows import make_grant, make_item
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
)
from tests.helpers import Sql


def seen_recently(sql: Sql, *users: str, days_ago: int = 1) -> None:
    sql(
        "update profiles set last_active_at = now() - make_interval(days => %s) where id = any(%s::uuid[])",
        (days_ago, list(users)),
    )


async def test_staff_overview_counts_communities_users_and_staff(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    seen_recently(sql, ACME_LENA, GLOBEX_GINA)
    seen_recently(sql, ACME_LIAM, days_ago=10)
    sql("update communities set status = 'archived' where id = %s", (GLOBEX,))
    sql("update communities set is_template = true where id = %s", (ACME,))
    sql("update profiles set status = 'deactivated' where id = %s", (ACME_LIAM,))
    agent = make_item(sql, type="ai_agent")
    make_item(sql, community=ACME, status="draft")
    make_item(sql, community=GLOBEX, type="video", status="archived")
    make_grant(sql, agent, ACME)
    make_grant(sql, agent, GLOBEX)

    response = await client.get("/admin-dashboard", headers=auth(SPECIALIST))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "communities": {"active": 1, "archived": 1, "templates": 1},
        # Lena, Gina and the specialist asking: a request marks its caller active.
        "users": {"total": 8, "active": 7, "deactivated": 1, "active_last_7_days": 3},
        "staff": {"total": 3, "super_admin": 1, "manager": 1, "specialist": 1},
        "content": {
            "items": 3,
            "published": 1,
            "draft": 1,
            "archived": 1,
            "platform": 1,
            "grants": 2,
            "by_type": {"ai_agent": 1, "prompt": 1, "video": 1},
        },
    }


@pytest.mark.parametrize("user", [ACME_ADMIN, ACME_LENA], ids=["community-admin", "learner"])
async def test_staff_overview_is_refused_to_non_staff(client: httpx.AsyncClient, db: str, user: str) -> None:
    response = await client.get("/admin-dashboard", headers=auth(user))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_staff_overview_needs_a_token(client: httpx.AsyncClient, db: str) -> None:
    assert (await client.get("/admin-dashboard")).status_code == 401


def _arrange_acme(sql: Sql) -> None:
    """Acme: 3 members (1 admin), 2 recently active, 2 tags, 1 pending invitation, 1 usable signup link."""
    seen_recently(sql, ACME_LENA, ACME_ADMIN, GLOBEX_GINA)
    seen_recently(sql, ACME_LIAM, days_ago=8)
    sql(
        "insert into user_tags (community_id, name) values (%s, 'Sales'), (%s, 'Ops'), (%s, 'Globex only')",
        (ACME, ACME, GLOBEX),
    )
    sql(
        "insert into invitations (community_id, email, status) values"
        " (%s, 'new@acme.example.com', 'sent'), (%s, 'old@acme.example.com', 'accepted'),"
        " (%s, 'gone@acme.example.com', 'revoked'), (%s, 'g@globex.example.com', 'sent')",
        (ACME, ACME, ACME, GLOBEX),
    )
    sql(
        "insert into signup_links (community_id, token_hash, expires_at, max_uses, use_count, revoked_at) values"
        " (%s, 'a', now() + interval '1 day', null, 0, null),"
        " (%s, 'b', now() + interval '1 day', null, 0, now()),"
        " (%s, 'c', now() - interval '1 day', null, 0, null),"
        " (%s, 'd', now() + interval '1 day', 2, 2, null),"
        " (%s, 'e', now() + interval '1 day', null, 0, null)",
        (ACME, ACME, ACME, ACME, GLOBEX),
    )
    own = make_item(sql, community=ACME)
    make_item(sql, community=ACME, status="draft")
    platform = make_item(sql)
    make_grant(sql, own, ACME)
    make_grant(sql, platform, ACME)
    make_grant(sql, platform, ACME, user=ACME_LENA)
    make_grant(sql, make_item(sql, community=GLOBEX), GLOBEX)


@pytest.mark.parametrize("user", [ACME_ADMIN, SPECIALIST, SUPER], ids=["admin", "specialist", "super-admin"])
async def test_community_overview_counts_only_that_community(
    client: httpx.AsyncClient, db: str, sql: Sql, user: str
) -> None:
    _arrange_acme(sql)
    response = await client.get(f"/admin-dashboard/{ACME}", headers=auth(user))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "community_id": ACME,
        "members": 3,
        "admins": 1,
        "active_last_7_days": 2,
        "tags": 2,
        "pending_invitations": 1,
        "signup_links_active": 1,
        "content_items": 2,
        "content_published": 1,
        "content_granted": 2,
        "latest_digest_id": None,
    }


async def test_community_overview_refuses_learners_with_403(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get(f"/admin-dashboard/{ACME}", headers=auth(ACME_LENA))
    assert response.status_code == 403


@pytest.mark.parametrize("user", [GLOBEX_ADMIN, GLOBEX_GINA], ids=["other-admin", "other-learner"])
async def test_community_overview_of_another_community_is_404(
    client: httpx.AsyncClient, db: str, user: str
) -> None:
    response = await client.get(f"/admin-dashboard/{ACME}", headers=auth(user))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_community_overview_of_unknown_or_archived_community(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    assert (await client.get(f"/admin-dashboard/{uuid.uuid4()}", headers=auth(MANAGER))).status_code == 404
    sql("update communities set status = 'archived' where id = %s", (ACME,))
    assert (await client.get(f"/admin-dashboard/{ACME}", headers=auth(ACME_ADMIN))).status_code == 404
    assert (await client.get(f"/admin-dashboard/{ACME}", headers=auth(MANAGER))).status_code == 200
