"""Row level security is in force for the API roles: queries without a WHERE see only what they may.

Every query here runs through `shared.platform.db.as_user` / `as_service`, the same transactions the
handlers open, against a fresh copy of the seeded database (supabase/seed.sql).
"""

from __future__ import annotations

import psycopg
import pytest

from shared.platform.db import as_service, as_user
from shared.platform.errors import ForbiddenError
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
)
from tests.helpers import Sql

ALL_USERS = {SUPER, MANAGER, SPECIALIST, ACME_ADMIN, ACME_LENA, ACME_LIAM, GLOBEX_ADMIN, GLOBEX_GINA}
ALL_MEMBERSHIPS = {
    (ACME, ACME_ADMIN),
    (ACME, ACME_LENA),
    (ACME, ACME_LIAM),
    (GLOBEX, GLOBEX_ADMIN),
    (GLOBEX, GLOBEX_GINA),
}
STRANGER = "b0000000-0000-4000-8000-00000000beef"


def claims(user_id: str) -> dict[str, str]:
    return {"sub": user_id, "role": "authenticated"}


async def memberships_seen_by(user_id: str) -> set[tuple[str, str]]:
    async with as_user(claims(user_id)) as tx:
        rows = await tx.fetch_all("select community_id::text, user_id::text from memberships")
    return {(r["community_id"], r["user_id"]) for r in rows}


async def communities_seen_by(user_id: str) -> set[str]:
    async with as_user(claims(user_id)) as tx:
        rows = await tx.fetch_all("select id::text from communities")
    return {r["id"] for r in rows}


async def profiles_seen_by(user_id: str) -> set[str]:
    async with as_user(claims(user_id)) as tx:
        rows = await tx.fetch_all("select id::text from profiles")
    return {r["id"] for r in rows}


async def test_every_table_in_exposed_schemas_has_row_level_security(db: str, sql: Sql) -> None:
    rows = sql(
        "select n.nspname || '.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where c.relkind in ('r', 'p') and n.nspname in ('public', 'app') and not c.relrowsecurity"
    )
    assert rows == []


async def test_the_transaction_really_runs_as_the_authenticated_role(db: str) -> None:
    async with as_user(claims(ACME_LENA)) as tx:
        row = await tx.fetch_one("select current_user as role, auth.uid()::text as uid")
    assert row == {"role": "authenticated", "uid": ACME_LENA}


async def test_learner_sees_only_own_membership(db: str) -> None:
    assert await memberships_seen_by(ACME_LENA) == {(ACME, ACME_LENA)}


async def test_community_admin_sees_own_community_memberships_and_none_of_another(db: str) -> None:
    seen = await memberships_seen_by(ACME_ADMIN)
    assert seen == {(ACME, ACME_ADMIN), (ACME, ACME_LENA), (ACME, ACME_LIAM)}
    assert not any(community == GLOBEX for community, _ in seen)


async def test_other_community_admin_sees_only_their_community(db: str) -> None:
    assert await memberships_seen_by(GLOBEX_ADMIN) == {(GLOBEX, GLOBEX_ADMIN), (GLOBEX, GLOBEX_GINA)}


async def test_learner_sees_only_their_community(db: str) -> None:
    assert await communities_seen_by(ACME_LENA) == {ACME}
    assert await communities_seen_by(GLOBEX_GINA) == {GLOBEX}


async def test_archived_community_disappears_for_its_members(db: str, sql: Sql) -> None:
    sql("update communities set status = 'archived' where id = %s", (ACME,))
    assert await communities_seen_by(ACME_LENA) == set()
    assert await memberships_seen_by(ACME_ADMIN) == {(ACME, ACME_ADMIN)}  # no longer administers it


async def test_user_without_memberships_sees_nothing_but_themselves(db: str) -> None:
    assert await memberships_seen_by(STRANGER) == set()
    assert await communities_seen_by(STRANGER) == set()
    assert await profiles_seen_by(STRANGER) == set()  # no profile row exists for them


async def test_learner_sees_only_own_profile(db: str) -> None:
    assert await profiles_seen_by(ACME_LENA) == {ACME_LENA}


async def test_community_admin_sees_profiles_of_own_members_only(db: str) -> None:
    assert await profiles_seen_by(ACME_ADMIN) == {ACME_ADMIN, ACME_LENA, ACME_LIAM}


async def test_learner_sees_no_staff_rows(db: str) -> None:
    async with as_user(claims(ACME_LENA)) as tx:
        assert await tx.fetch_all("select user_id from platform_staff") == []


@pytest.mark.parametrize("staff", [SUPER, MANAGER, SPECIALIST])
async def test_staff_see_every_row(db: str, staff: str) -> None:
    assert await memberships_seen_by(staff) == ALL_MEMBERSHIPS
    assert await communities_seen_by(staff) == {ACME, GLOBEX}
    assert await profiles_seen_by(staff) == ALL_USERS
    async with as_user(claims(staff)) as tx:
        assert await tx.fetch_val("select count(*) from platform_staff") == 3


async def test_service_role_sees_every_row(db: str) -> None:
    async with as_service() as tx:
        memberships = await tx.fetch_all("select community_id::text, user_id::text from memberships")
        communities = await tx.fetch_all("select id::text from communities")
        profiles = await tx.fetch_all("select id::text from profiles")
        assert await tx.fetch_val("select current_user") == "service_role"
    assert {(r["community_id"], r["user_id"]) for r in memberships} == ALL_MEMBERSHIPS
    assert {r["id"] for r in communities} == {ACME, GLOBEX}
    assert {r["id"] for r in profiles} == ALL_USERS


async def test_learner_cannot_update_another_users_profile(db: str, sql: Sql) -> None:
    async with as_user(claims(ACME_LENA)) as tx:
        touched = await tx.execute("update profiles set first_name = 'Hacked' where id = %s", (ACME_LIAM,))
        touched_all = await tx.execute("update profiles set first_name = 'Hacked'")
    assert touched == 0
    assert touched_all == 1  # only her own row was visible to the unqualified update
    assert sql("select id::text from profiles where first_name = 'Hacked'") == [{"id": ACME_LENA}]


async def test_community_admin_cannot_update_a_member_profile(db: str, sql: Sql) -> None:
    async with as_user(claims(ACME_ADMIN)) as tx:
        touched = await tx.execute("update profiles set last_name = 'Renamed' where id = %s", (ACME_LENA,))
    assert touched == 0
    assert sql("select last_name from profiles where id = %s", (ACME_LENA,)) == [{"last_name": "Learner"}]


async def test_learner_cannot_change_own_status(db: str, sql: Sql) -> None:
    with pytest.raises(ForbiddenError) as caught:
        async with as_user(claims(ACME_LENA)) as tx:
            await tx.execute("update profiles set status = 'deactivated' where id = %s", (ACME_LENA,))
    assert isinstance(caught.value.__cause__, psycopg.errors.InsufficientPrivilege)
    assert sql("select status from profiles where id = %s", (ACME_LENA,)) == [{"status": "active"}]


async def test_failed_write_rolls_back_earlier_writes_of_the_same_transaction(db: str, sql: Sql) -> None:
    with pytest.raises(ForbiddenError):
        async with as_user(claims(ACME_LENA)) as tx:
            assert (
                await tx.execute("update profiles set first_name = 'Half' where id = %s", (ACME_LENA,)) == 1
            )
            await tx.execute("update profiles set status = 'deactivated' where id = %s", (ACME_LENA,))
    assert sql("select first_name, status from profiles where id = %s", (ACME_LENA,)) == [
        {"first_name": "Lena", "status": "active"}
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "insert into memberships (community_id, user_id, role) values ('{globex}', '{user}', 'admin')",
        "update memberships set role = 'admin' where user_id = '{user}'",
        "delete from memberships where user_id = '{user}'",
        "insert into platform_staff (user_id, role) values ('{user}', 'super_admin')",
        "update communities set name = 'Mine now' where id = '{acme}'",
        "delete from profiles where id = '{user}'",
        "select * from app.rate_limits",
    ],
    ids=[
        "join-other-community",
        "promote-self",
        "leave-via-delete",
        "become-staff",
        "rename-community",
        "delete-profile",
        "read-rate-limits",
    ],
)
async def test_learner_is_refused_privileged_statements(db: str, sql: Sql, statement: str) -> None:
    before = sql("select count(*) as n from memberships where role = 'admin'") + sql(
        "select count(*) as n from platform_staff"
    )
    # Refused outright (no grant, or a row the policy's WITH CHECK rejects) or, where the role may
    # write the table but row level security hides every row, nothing touched: both leave state intact.
    try:
        async with as_user(claims(ACME_LENA)) as tx:
            touched = await tx.execute(statement.format(user=ACME_LENA, globex=GLOBEX, acme=ACME))
    except ForbiddenError as refused:
        assert isinstance(refused.__cause__, psycopg.errors.InsufficientPrivilege)
    else:
        assert touched == 0
    after = sql("select count(*) as n from memberships where role = 'admin'") + sql(
        "select count(*) as n from platform_staff"
    )
    assert after == before
    assert sql("select count(*) as n from memberships") == [{"n": 5}]
    assert sql("select name from communities where id = %s", (ACME,)) == [{"name": "Acme Corp"}]


async def test_claims_do_not_leak_into_the_next_transaction_on_the_same_connection(db: str) -> None:
    async with as_user(claims(SUPER)) as tx:
        assert await tx.fetch_val("select count(*) from memberships") == 5
    # The pool (max 4) hands back the same connection; nothing of the staff caller may remain.
    for _ in range(4):
        assert await memberships_seen_by(ACME_LENA) == {(ACME, ACME_LENA)}
    async with as_service() as tx:
        assert await tx.fetch_val("select current_user") == "service_role"
    async with as_user(claims(ACME_LENA)) as tx:
        assert await tx.fetch_val("select current_user") == "authenticated"
        assert await tx.fetch_val("select auth.uid()::text") == ACME_LENA
