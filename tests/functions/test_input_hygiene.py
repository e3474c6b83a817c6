"""Input hygiene at the platform: NUL characters and spreadsheet formulas, on every route and table.

A NUL anywhere in a body, query, path or header is a 422 `nul_character` naming the field (Postgres
cannot store it, so it used to be a 500). Names and labels that a spreadsheet would run are a 422
`spreadsheet_formula` on every route that stores one, a failed row in a CSV import, and a CHECK
violation for a user writing through PostgREST.
"""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from shared.platform.db import as_user
from shared.platform.errors import ValidationFailedError
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, SUPER, auth
from tests.helpers import Sql, assert_problem, count

FORMULA = '=HYPERLINK("http://evil.example/x","click")'


def locs(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["loc"], e["type"]) for e in body["errors"]]


# --- NUL ---------------------------------------------------------------------------------------------


async def test_nul_in_a_tag_name_is_422_naming_the_field(client: httpx.AsyncClient, sql: Sql) -> None:
    response = await client.post(
        "/tags",
        content=f'{{"community_id": "{ACME}", "name": "sales\\u0000"}}'.encode(),
        headers={**auth(ACME_ADMIN), "content-type": "application/json"},
    )
    body = assert_problem(response, 422, "validation_failed")
    assert locs(body) == [("body.name", "nul_character")]
    assert count(sql, "select count(*) as n from user_tags") == 0


async def test_nul_in_a_profile_name_is_422_and_changes_nothing(client: httpx.AsyncClient, sql: Sql) -> None:
    before = sql("select first_name, last_name from profiles where id = %s", (ACME_LENA,))
    response = await client.patch(
        "/me", content=b'{"first_name": "Le\\u0000na", "last_name": "ok"}', headers=auth(ACME_LENA)
    )
    body = assert_problem(response, 422, "validation_failed")
    assert locs(body) == [("body.first_name", "nul_character")]
    assert sql("select first_name, last_name from profiles where id = %s", (ACME_LENA,)) == before


async def test_nul_in_a_nested_value_or_a_key_is_named(client: httpx.AsyncClient, db: str) -> None:
    response = await client.put(
        f"/communities/{ACME}/features",
        content=b'{"features": {"chat\\u0000": true}}',
        headers={**auth(SUPER), "content-type": "application/json"},
    )
    body = assert_problem(response, 422, "validation_failed")
    assert locs(body) == [("body.features.chat\x00", "nul_character")]


async def test_escaped_backslash_before_u0000_is_plain_text(client: httpx.AsyncClient, sql: Sql) -> None:
    response = await client.post(
        "/tags",
        content=f'{{"community_id": "{ACME}", "name": "a\\\\u0000"}}'.encode(),
        headers=auth(ACME_ADMIN),
    )
    assert response.status_code == 201, response.text
    assert sql("select name from user_tags")[0]["name"] == "a\\u0000"


async def test_nul_in_a_query_parameter_is_422(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get(f"/members?community_id={ACME}&q=a%00b", headers=auth(ACME_ADMIN))
    body = assert_problem(response, 422, "validation_failed")
    assert locs(body) == [("query.q", "nul_character")]


async def test_nul_in_a_stored_header_is_422_and_writes_no_audit_entry(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    headers = {**auth(ACME_ADMIN), "user-agent": "probe\x00"}
    response = await client.post("/tags", json={"community_id": ACME, "name": "sales"}, headers=headers)
    body = assert_problem(response, 422, "validation_failed")
    assert locs(body) == [("header.user-agent", "nul_character")]
    assert count(sql, "select count(*) as n from audit_log") == 0


async def test_nul_from_a_learner_on_an_admin_route_is_still_403(client: httpx.AsyncClient, db: str) -> None:
    response = await client.post(
        "/tags", content=f'{{"community_id": "{ACME}", "name": "x\\u0000"}}'.encode(), headers=auth(ACME_LENA)
    )
    assert_problem(response, 403, "forbidden")


async def test_csv_row_with_a_nul_fails_that_row_only(client: httpx.AsyncClient, sql: Sql) -> None:
    csv = "firstName,lastName,email,tags\nAda\x00,L,ada@example.com,\nGrace,Hopper,grace@example.com,\n"
    response = await client.post(
        f"/imports?community_id={ACME}",
        content=csv.encode(),
        headers={**auth(ACME_ADMIN), "content-type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    rows = sql("select row_number, first_name, status, error from import_rows order by row_number")
    assert [(r["row_number"], r["first_name"], r["status"], r["error"]) for r in rows] == [
        (1, "Ada", "failed", "nul_character"),
        (2, "Grace", "pending", None),
    ]


# --- spreadsheet formulas ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [FORMULA, "+1", "-1", "@x", " =trimmed-then-refused", "\t=x"])
async def test_profile_name_that_starts_like_a_formula_is_refused(
    client: httpx.AsyncClient, sql: Sql, value: str
) -> None:
    response = await client.patch("/me", json={"last_name": value}, headers=auth(ACME_LENA))
    body = assert_problem(response, 422, "validation_failed")
    assert locs(body) == [("body.last_name", "spreadsheet_formula")]
    assert sql("select last_name from profiles where id = %s", (ACME_LENA,))[0]["last_name"] != value


STORING_ROUTES = [
    ("post", "/tags", {"community_id": ACME, "name": FORMULA}, "body.name"),
    ("post", "/communities", {"name": FORMULA, "slug": "evil"}, "body.name"),
    ("post", "/communities", {"name": "Evil", "slug": "evil", "project_name": "@x"}, "body.project_name"),
    ("patch", f"/communities/{ACME}", {"project_name": "-x"}, "body.project_name"),
    ("post", "/signup-links", {"community_id": ACME, "label": "+x"}, "body.label"),
    (
        "post",
        "/invitations",
        {"community_id": ACME, "email": "x@example.com", "first_name": "=x"},
        "body.first_name",
    ),
    ("post", f"/imports?community_id={ACME}", {"csv": "a", "filename": "=x.csv"}, "body.filename"),
]


@pytest.mark.parametrize(("method", "path", "body", "loc"), STORING_ROUTES)
async def test_every_stored_name_or_label_refuses_a_formula(
    client: httpx.AsyncClient, db: str, method: str, path: str, body: dict[str, Any], loc: str
) -> None:
    response = await client.request(method.upper(), path, json=body, headers=auth(SUPER))
    problem = assert_problem(response, 422, "validation_failed")
    assert locs(problem) == [(loc, "spreadsheet_formula")]


async def test_csv_upload_filename_in_the_query_refuses_a_formula(client: httpx.AsyncClient, db: str) -> None:
    response = await client.post(
        f"/imports?community_id={ACME}&filename=%3Dx.csv",
        content=b"firstName,lastName,email,tags\nA,B,a@example.com,\n",
        headers={**auth(ACME_ADMIN), "content-type": "text/csv"},
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert locs(problem) == [("query.filename", "spreadsheet_formula")]


async def test_csv_import_fails_a_row_whose_name_is_a_formula(client: httpx.AsyncClient, sql: Sql) -> None:
    csv = f'firstName,lastName,email,tags\n"{FORMULA.replace(chr(34), chr(34) * 2)}",X,evil@example.com,\n'
    response = await client.post(
        f"/imports?community_id={ACME}",
        content=csv.encode(),
        headers={**auth(ACME_ADMIN), "content-type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["failed"] == 1
    rows = sql("select first_name, status, error from import_rows")
    assert rows == [{"first_name": FORMULA, "status": "failed", "error": "first_name_formula"}]
    assert count(sql, "select count(*) as n from profiles where email = 'evil@example.com'") == 0


async def test_postgrest_caller_cannot_store_a_formula_as_own_name(sql: Sql) -> None:
    for value in (FORMULA, "+1", "-1", "@x", "\tx", "\rx"):
        with pytest.raises(ValidationFailedError) as refused:
            async with as_user({"sub": ACME_LENA, "role": "authenticated"}) as tx:
                await tx.execute("update profiles set first_name = %s where id = auth.uid()", (value,))
        assert isinstance(refused.value.__cause__, psycopg.errors.CheckViolation)
    assert sql("select first_name from profiles where id = %s", (ACME_LENA,))[0]["first_name"] == "Lena"


async def test_plain_names_with_formula_characters_inside_are_fine(sql: Sql) -> None:
    async with as_user({"sub": ACME_LENA, "role": "authenticated"}) as tx:
        await tx.execute(
            "update profiles set first_name = 'Anne-Marie', last_name = 'a=b' where id = auth.uid()"
        )
    assert sql("select first_name from profiles where id = %s", (ACME_LENA,))[0]["first_name"] == "Anne-Marie"


@pytest.mark.parametrize(
    ("statement", "params"),
    [
        ("insert into user_tags (community_id, name) values (%s, '=x')", (ACME,)),
        ("update communities set name = '@x' where id = %s", (ACME,)),
        ("update communities set project_name = '-x' where id = %s", (ACME,)),
        (
            "insert into signup_links (community_id, token_hash, label, expires_at)"
            " values (%s, '\\x01', '+x', now() + interval '1 day')",
            (ACME,),
        ),
        ("insert into import_jobs (community_id, filename) values (%s, '=x.csv')", (ACME,)),
    ],
)
async def test_every_stored_name_column_refuses_a_formula_whoever_writes(
    sql: Sql, statement: str, params: Any
) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        sql(statement, params)


async def test_pending_import_row_must_hold_plain_names_but_a_failed_one_keeps_its_cells(sql: Sql) -> None:
    job = sql("insert into import_jobs (community_id) values (%s) returning id", (ACME,))[0]["id"]
    insert = "insert into import_rows (job_id, row_number, community_id, first_name, status) values (%s, %s, %s, '=x', %s)"
    with pytest.raises(psycopg.errors.CheckViolation):
        sql(insert, (job, 1, ACME, "pending"))
    sql(insert, (job, 2, ACME, "failed"))


async def test_signup_metadata_name_that_starts_like_a_formula_is_not_kept(sql: Sql) -> None:
    sql(
        "insert into auth.users (id, email, raw_user_meta_data) values"
        ' (\'b0000000-0000-4000-8000-0000000000f1\', \'f@example.com\', \'{"first_name": "=x", "last_name": "Ok"}\')'
    )
    row = sql("select first_name, last_name from profiles where email = 'f@example.com'")[0]
    assert row == {"first_name": "", "last_name": "Ok"}
