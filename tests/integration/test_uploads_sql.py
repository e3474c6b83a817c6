"""Uploads as a user speaking SQL through PostgREST: what the table lets them do without our function."""

from __future__ import annotations

import psycopg
import pytest

from shared.platform.db import as_user
from shared.platform.errors import AppError
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX_ADMIN, MANAGER
from tests.helpers import Sql

NEW = (
    "insert into public.uploads (community_id, declared_mime, declared_size, expires_at)"
    " values (%s, %s, %s, now() + interval '10 minutes') returning object_key, kind, status, created_by::text"
)


def claims(user_id: str) -> dict[str, str]:
    return {"sub": user_id, "role": "authenticated"}


async def refusal(user_id: str, statement: str, params: tuple[object, ...]) -> type[BaseException]:
    """The database error that refused the statement as this user (the platform wraps it in a problem)."""
    with pytest.raises((AppError, psycopg.Error)) as caught:
        async with as_user(claims(user_id)) as tx:
            await tx.execute(statement, params)
    refused = caught.value.__cause__ if isinstance(caught.value, AppError) else caught.value
    return type(refused)


def pending(sql: Sql, community: str | None = ACME) -> str:
    rows = sql(
        "insert into uploads (community_id, declared_mime, declared_size, expires_at)"
        " values (%s, 'image/png', 10, now() + interval '10 minutes') returning id::text",
        (community,),
    )
    return str(rows[0]["id"])


async def test_an_admin_inserting_directly_gets_a_pending_row_with_a_generated_key_and_themselves_as_author(
    db: str,
) -> None:
    async with as_user(claims(ACME_ADMIN)) as tx:
        row = await tx.fetch_one(NEW, (ACME, "application/pdf", 10))
    assert row is not None
    assert row["object_key"].startswith(f"{ACME}/") and row["object_key"].endswith(".pdf")
    assert (row["kind"], row["status"], row["created_by"]) == ("pdf", "pending", ACME_ADMIN)


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        (
            "insert into public.uploads (community_id, declared_mime, declared_size, expires_at, object_key)"
            " values (%s, 'image/png', 10, now() + interval '1 minute', 'globex/x.png')",
            psycopg.errors.GeneratedAlways,  # nobody names a key, not even the platform
        ),
        (
            "insert into public.uploads (community_id, declared_mime, declared_size, expires_at, status)"
            " values (%s, 'image/png', 10, now() + interval '1 minute', 'confirmed')",
            psycopg.errors.InsufficientPrivilege,
        ),
        (
            "insert into public.uploads (community_id, declared_mime, declared_size, expires_at, created_by)"
            " values (%s, 'image/png', 10, now() + interval '1 minute', auth.uid())",
            psycopg.errors.InsufficientPrivilege,
        ),
    ],
    ids=["names the key", "inserts it confirmed", "names the author"],
)
async def test_an_admin_cannot_name_a_key_a_status_or_an_author(db: str, statement: str, error: type) -> None:
    assert await refusal(ACME_ADMIN, statement, (ACME,)) is error


@pytest.mark.parametrize(
    ("mime", "size"),
    [
        ("image/svg+xml", 10),
        ("image/png", 10 * 1024 * 1024 + 1),
        ("application/pdf", 50 * 1024 * 1024 + 1),
        ("image/png", 0),
    ],
)
async def test_the_table_refuses_a_type_or_size_the_api_refuses(db: str, mime: str, size: int) -> None:
    assert await refusal(ACME_ADMIN, NEW, (ACME, mime, size)) is psycopg.errors.CheckViolation


async def test_a_long_lived_upload_is_refused(db: str) -> None:
    statement = (
        "insert into public.uploads (community_id, declared_mime, declared_size, expires_at)"
        " values (%s, 'image/png', 10, now() + interval '2 hours')"
    )
    assert await refusal(ACME_ADMIN, statement, (ACME,)) is psycopg.errors.CheckViolation


async def test_nobody_confirms_an_upload_by_sql_not_even_its_author(db: str, sql: Sql) -> None:
    upload = pending(sql)
    settle = (
        "update public.uploads set status = 'confirmed', byte_size = 10,"
        " detected_mime = 'image/png', confirmed_at = now() where id = %s"
    )
    for caller in (ACME_ADMIN, MANAGER):
        assert await refusal(caller, settle, (upload,)) is psycopg.errors.InsufficientPrivilege
    assert sql("select status from uploads where id = %s", (upload,))[0]["status"] == "pending"


async def test_learners_and_other_admins_see_no_upload_of_acme(db: str, sql: Sql) -> None:
    pending(sql)
    pending(sql, None)
    for caller in (ACME_LENA, GLOBEX_ADMIN):
        async with as_user(claims(caller)) as tx:
            assert await tx.fetch_all("select id from public.uploads") == []
    async with as_user(claims(ACME_ADMIN)) as tx:
        assert len(await tx.fetch_all("select id from public.uploads")) == 1  # not the platform's


async def test_a_confirmed_upload_is_exactly_what_was_declared(db: str, sql: Sql) -> None:
    upload = pending(sql)
    with pytest.raises(psycopg.errors.CheckViolation):
        sql(
            "update uploads set status = 'confirmed', byte_size = 11, detected_mime = 'image/png',"
            " confirmed_at = now() where id = %s",
            (upload,),
        )
