"""The learner's visibility rule and the content rules, held by the database for a user speaking SQL.

Each test runs as PostgREST would (claims and `role authenticated` set transaction-locally), so nothing
of our Python stands between the caller and the tables.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from psycopg import sql as sql_text

from shared.content.catalogue.repository import catalogue_statement
from shared.platform.db import RuleViolationError, Tx, as_user, transaction
from shared.platform.errors import ConflictError, ForbiddenError
from tests.content_rows import grant_rows, make_grant, make_item
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX, GLOBEX_GINA, claims
from tests.helpers import Sql, make_tag


async def visible(tx: Tx) -> set[str]:
    return {str(r["id"]) for r in await tx.fetch_all("select id from public.content_items")}


async def seen_at_the_edge(item: str, window: str) -> set[str]:
    """What lena sees of `item` when its grant's window is `window` (SQL of now()), in one transaction.

    now() is the transaction's start, so a grant made in the same transaction with starts_at = now()
    is exactly at its edge when lena looks.
    """
    async with transaction("authenticated", claims(ACME_LENA)) as (tx, _):
        await tx.execute("set local role none")  # the owner, for the arrangement only
        await tx.execute(
            "insert into public.content_grants (item_id, community_id, starts_at, ends_at)"
            f" select %s, %s, {window}",
            (item, ACME),
        )
        await tx.execute("select set_config('role', 'authenticated', true)")
        found = await visible(tx)
        await tx.execute("set local role none")
        await tx.execute("delete from public.content_grants where item_id = %s", (item,))
        return found


@pytest.mark.parametrize(
    ("window", "is_seen"),
    [
        ("now(), null", True),  # starts exactly now: inside
        ("now() + interval '1 microsecond', null", False),  # starts a moment from now
        ("null, now()", False),  # ended exactly now: outside (the end is exclusive)
        ("null, now() + interval '1 microsecond'", True),  # ends a moment from now
        ("now() - interval '1 day', now()", False),
        ("now(), now() + interval '1 microsecond'", True),  # the smallest window there is, and we are in it
    ],
)
async def test_window_edges(sql: Sql, window: str, is_seen: bool) -> None:
    item = make_item(sql)

    assert (await seen_at_the_edge(item, window) == {item}) is is_seen


async def test_a_learner_reads_no_grants_versions_or_folders(sql: Sql) -> None:
    item = make_item(sql, community=ACME)
    make_grant(sql, item, ACME, user=ACME_LENA)
    sql(
        "insert into content_versions (item_id, number, kind, snapshot) values (%s, 1, 'publish', '{}')",
        (item,),
    )
    sql("insert into content_folders (community_id, repository, name) values (%s, 'content', 'f')", (ACME,))

    async with as_user(claims(ACME_LENA)) as tx:
        assert await visible(tx) == {item}
        for table in ("content_grants", "content_versions", "content_folders"):
            assert await tx.fetch_all(f"select * from public.{table}") == []  # noqa: S608


async def test_a_learner_cannot_grant_themselves_anything(sql: Sql) -> None:
    item = make_item(sql, community=ACME)

    with pytest.raises(ForbiddenError):
        async with as_user(claims(ACME_LENA)) as tx:
            await tx.execute(
                "insert into public.content_grants (item_id, community_id, user_id) values (%s, %s, %s)",
                (item, ACME, ACME_LENA),
            )
    assert grant_rows(sql) == []


async def test_a_learner_cannot_publish_or_write_an_item(sql: Sql) -> None:
    item = make_item(sql, community=ACME, status="draft")

    async with as_user(claims(ACME_LENA)) as tx:
        changed = await tx.execute(
            "update public.content_items set status = 'published' where id = %s", (item,)
        )
        removed = await tx.execute("delete from public.content_items where id = %s", (item,))
    assert (changed, removed) == (0, 0)
    assert sql("select status from content_items where id = %s", (item,)) == [{"status": "draft"}]


async def test_an_admin_cannot_grant_platform_content_in_sql(sql: Sql) -> None:
    item = make_item(sql)

    with pytest.raises(ForbiddenError):
        async with as_user(claims(ACME_ADMIN)) as tx:
            await tx.execute(
                "insert into public.content_grants (item_id, community_id) values (%s, %s)", (item, ACME)
            )
    assert grant_rows(sql) == []


async def test_a_community_item_never_leaves_its_community(sql: Sql) -> None:
    item = make_item(sql, community=ACME)

    with pytest.raises(RuleViolationError) as raised:
        async with transaction("service_role") as (tx, _):
            await tx.execute(
                "insert into public.content_grants (item_id, community_id) values (%s, %s)", (item, GLOBEX)
            )
    assert raised.value.code == "grant_outside_owner"
    assert grant_rows(sql) == []


async def test_a_tag_grant_names_a_tag_of_its_own_community(sql: Sql) -> None:
    item = make_item(sql)
    globex_tag = make_tag(sql, GLOBEX, "globex")

    with pytest.raises(ConflictError):
        async with transaction("service_role") as (tx, _):
            await tx.execute(
                "insert into public.content_grants (item_id, community_id, tag_id) values (%s, %s, %s)",
                (item, ACME, globex_tag),
            )
    assert grant_rows(sql) == []


async def test_helpers_answer_only_about_the_caller(sql: Sql) -> None:
    item = make_item(sql, community=GLOBEX)
    make_grant(sql, item, GLOBEX, user=GLOBEX_GINA)

    async with as_user(claims(ACME_LENA)) as tx:
        row: dict[str, Any] | None = await tx.fetch_one(
            "select app.granted_content_ids(%s::uuid) as through_globex, app.granted_content_ids() as mine,"
            " app.administered_granted_content_ids() as administered, app.administers_content_item(%s) as admin",
            (GLOBEX, item),
        )
    assert row == {"through_globex": [], "mine": [], "administered": [], "admin": False}


async def test_folders_refuse_cycles_and_deleting_a_folder_that_holds_something(sql: Sql) -> None:
    [top] = sql(
        "insert into content_folders (community_id, repository, name) values (%s, 'content', 'top') returning id",
        (ACME,),
    )
    [sub] = sql(
        "insert into content_folders (community_id, repository, parent_id, name) values (%s, 'content', %s, 'sub') returning id",
        (ACME, top["id"]),
    )

    with pytest.raises(RuleViolationError) as cycle:
        async with as_user(claims(ACME_ADMIN)) as tx:
            await tx.execute(
                "update public.content_folders set parent_id = %s where id = %s", (sub["id"], top["id"])
            )
    with pytest.raises(RuleViolationError) as not_empty:
        async with as_user(claims(ACME_ADMIN)) as tx:
            await tx.execute("delete from public.content_folders where id = %s", (top["id"],))

    assert (cycle.value.code, not_empty.value.code) == ("folder_cycle", "folder_not_empty")
    assert sql("select count(*) as n from content_folders")[0]["n"] == 2
    sql("delete from communities where id = %s", (ACME,))  # the community's deletion takes its whole tree
    assert sql("select count(*) as n from content_folders")[0]["n"] == 0


async def test_versions_are_numbered_by_the_database_without_gaps(sql: Sql) -> None:
    item = make_item(sql, community=ACME)

    async with as_user(claims(ACME_ADMIN)) as tx:
        numbers = [
            await tx.fetch_val(
                "insert into public.content_versions (item_id, number, kind, snapshot, author_id)"
                " values (%s, 99, 'save', '{}', %s) returning number",
                (item, ACME_ADMIN),
            )
            for _ in range(3)
        ]
    assert numbers == [1, 2, 3]
    assert sql("select latest_version, revision from content_items where id = %s", (item,)) == [
        {"latest_version": 3, "revision": 1}
    ]


async def test_the_catalogue_reads_the_learners_granted_rows_by_primary_key_never_the_whole_table(
    sql: Sql,
) -> None:
    sql(
        "insert into content_items (type, title, status, payload)"
        " select 'prompt', 'filler ' || g, 'published', '{}' from generate_series(1, 3000) g"
    )
    for item in (make_item(sql), make_item(sql)):
        make_grant(sql, item, ACME)
    sql("analyze content_items")

    async with as_user(claims(ACME_LENA)) as tx:
        for q in (None, "filler"):
            query, params = catalogue_statement(
                community_id=None, type=None, tag=None, q=q, after=None, limit=21
            )
            plan = json.dumps(
                await tx.fetch_val(sql_text.SQL("explain (format json) {}").format(query), params)
            )
            assert "content_items_pkey" in plan, plan
            assert '"Seq Scan"' not in plan, plan
