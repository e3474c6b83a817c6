"""Favourites held by the database for a user speaking SQL as PostgREST does: own rows only, and only of an
item the user can see (the tenancy matrix covers every caller; these are the cases it cannot name)."""

from __future__ import annotations

import pytest

from shared.platform.db import as_user
from shared.platform.errors import ForbiddenError
from tests.content_rows import make_grant, make_item
from tests.factories import ACME, ACME_LENA, ACME_LIAM, GLOBEX, claims
from tests.helpers import Sql

INSERT = "insert into public.content_favourites (user_id, item_id) values (%s, %s)"


def favourites(sql: Sql) -> set[tuple[str, str]]:
    return {(r["u"], r["i"]) for r in sql("select user_id::text as u, item_id::text as i from content_favourites")}


async def test_a_learner_favourites_a_published_item_granted_to_them(sql: Sql) -> None:
    item = make_item(sql, community=ACME)
    make_grant(sql, item, ACME)
    async with as_user(claims(ACME_LENA)) as tx:
        await tx.execute(INSERT, (ACME_LENA, item))
    assert favourites(sql) == {(ACME_LENA, item)}


@pytest.mark.parametrize(
    "case", ["for another user", "an item of another community", "a draft granted to them", "no such item"]
)
async def test_a_learner_cannot_favourite_for_others_or_what_they_cannot_see(sql: Sql, case: str) -> None:
    granted = make_item(sql, community=ACME)
    make_grant(sql, granted, ACME)
    draft = make_item(sql, community=ACME, status="draft")
    make_grant(sql, draft, ACME)
    theirs = make_item(sql, community=GLOBEX)
    make_grant(sql, theirs, GLOBEX)
    user, item = {
        "for another user": (ACME_LIAM, granted),
        "an item of another community": (ACME_LENA, theirs),
        "a draft granted to them": (ACME_LENA, draft),
        "no such item": (ACME_LENA, "00000000-0000-4000-8000-00000000dead"),
    }[case]
    with pytest.raises(ForbiddenError):
        async with as_user(claims(ACME_LENA)) as tx:
            await tx.execute(INSERT, (user, item))
    assert favourites(sql) == set()


async def test_a_user_neither_reads_nor_removes_anothers_favourites(sql: Sql) -> None:
    item = make_item(sql, community=ACME)
    make_grant(sql, item, ACME)
    sql(INSERT, (ACME_LIAM, item))
    async with as_user(claims(ACME_LENA)) as tx:
        seen = await tx.fetch_all("select item_id from public.content_favourites")
        removed = await tx.execute("delete from public.content_favourites")
    assert (seen, removed) == ([], 0)
    assert favourites(sql) == {(ACME_LIAM, item)}
