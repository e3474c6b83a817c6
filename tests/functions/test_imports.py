"""Bulk imports through the real handler and the real worker loop, against the real database."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.identity.onboarding import handlers, imports
from shared.identity.provider import LocalIdentityProvider
from shared.platform.events import run_batch
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX_ADMIN, GLOBEX_GINA, SPECIALIST, auth
from tests.helpers import assert_problem, count

assert handlers  # imported for its subscriptions, as the worker function does

Sql = Any
IMPORTS = f"/imports/communities/{ACME}/imports"
CSV = {"content-type": "text/csv"}
MIXED = (
    "firstName,lastName,email,tags\r\n"
    "Nia,New,nia@example.com,Sales\r\n"
    "Bad,Email,not-an-email,\r\n"
    "Nia,Again,NIA@example.com,\r\n"
    "Tom,Tag,tom@example.com,Ghost\r\n"
    "Gina,Globex,Gina@Globex.example.com,sales\r\n"
    "Lena,Learner,lena@acme.example.com,Ops\r\n"
    '"=HYPERLINK(""http://evil"")",X,bad-at-example.com,\r\n'
)
MIXED_ERRORS = (
    "firstName,lastName,email,tags,error\r\n"
    "Bad,Email,not-an-email,,invalid_email\r\n"
    "Nia,Again,NIA@example.com,,duplicate_in_file\r\n"
    "Tom,Tag,tom@example.com,Ghost,unknown_tag:Ghost\r\n"
    '"\'=HYPERLINK(""http://evil"")",X,bad-at-example.com,,first_name_formula; invalid_email\r\n'
)


def make_tag(sql: Sql, name: str) -> str:
    return str(
        sql("insert into user_tags (community_id, name) values (%s, %s) returning id", (ACME, name))[0]["id"]
    )


async def drain() -> None:
    """Run the worker loop until the queue is empty (failed deliveries come back at once)."""
    for _ in range(100):
        if (await run_batch(batch_size=20, visibility_s=0)).read == 0:
            return
    raise AssertionError("the queue did not drain")


async def upload(
    client: httpx.AsyncClient, text: str, *, user: str = ACME_ADMIN, filename: str | None = None
) -> httpx.Response:
    params = {"filename": filename} if filename else None
    return await client.post(IMPORTS, content=text.encode(), params=params, headers={**auth(user), **CSV})


async def job(client: httpx.AsyncClient, job_id: str, user: str = ACME_ADMIN) -> dict[str, Any]:
    response = await client.get(f"{IMPORTS}/{job_id}", headers=auth(user))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
def tags(sql: Sql) -> dict[str, str]:
    return {"Sales": make_tag(sql, "Sales"), "Ops": make_tag(sql, "Ops")}


async def test_mixed_csv_imports_valid_rows_and_reports_the_rest(
    client: httpx.AsyncClient, sql: Sql, tags: dict[str, str]
) -> None:
    members_before = count(sql, "select count(*) as n from memberships where community_id = %s", (ACME,))
    users_before = count(sql, "select count(*) as n from auth.users")

    response = await upload(client, MIXED, filename="Q3 staff.csv")

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert (accepted["status"], accepted["total"], accepted["processed"], accepted["failed"]) == (
        "queued",
        7,
        4,
        4,
    )
    assert accepted["filename"] == "Q3 staff.csv"
    audit = sql("select action, after from audit_log where target_id = %s", (accepted["id"],))
    assert audit == [
        {
            "action": "import.created",
            "after": {"filename": "Q3 staff.csv", "total": 7, "failed_validation": 4},
        }
    ]

    await drain()

    done = await job(client, accepted["id"])
    assert (done["status"], done["total"], done["processed"], done["succeeded"], done["failed"]) == (
        "completed",
        7,
        7,
        3,
        4,
    )
    assert done["started_at"] is not None and done["finished_at"] is not None
    members = sql(
        "select p.email, m.source from memberships m join profiles p on p.id = m.user_id"
        " where m.community_id = %s and p.email in ('nia@example.com', 'gina@globex.example.com',"
        " 'lena@acme.example.com') order by p.email",
        (ACME,),
    )
    assert members == [
        {"email": "gina@globex.example.com", "source": "import"},
        {"email": "lena@acme.example.com", "source": "admin"},
        {"email": "nia@example.com", "source": "import"},
    ]
    assert (
        count(sql, "select count(*) as n from memberships where community_id = %s", (ACME,))
        == members_before + 2
    )
    assert count(sql, "select count(*) as n from auth.users") == users_before + 1
    nia = sql("select id::text, encrypted_password from auth.users where email = 'nia@example.com'")[0]
    assert nia["encrypted_password"] is None
    held = sql(
        "select p.email, t.name from user_tag_assignments a join profiles p on p.id = a.user_id"
        " join user_tags t on t.id = a.tag_id order by p.email"
    )
    assert held == [
        {"email": "gina@globex.example.com", "name": "Sales"},
        {"email": "lena@acme.example.com", "name": "Ops"},
        {"email": "nia@example.com", "name": "Sales"},
    ]
    invitations = sql("select email, status, user_id::text, tag_ids::text[] from invitations")
    assert invitations == [
        {"email": "nia@example.com", "status": "sent", "user_id": nia["id"], "tag_ids": [tags["Sales"]]}
    ]
    announced = sql(
        "select message->>'name' as name, message->'payload' as payload from pgmq.a_events"
        " where message->>'name' in ('members.imported', 'import.completed') order by msg_id"
    )
    assert [a["name"] for a in announced] == ["members.imported", "import.completed"]
    assert announced[0]["payload"]["user_ids"] == sorted([nia["id"], GLOBEX_GINA])
    assert announced[1]["payload"] == {
        "job_id": accepted["id"],
        "community_id": ACME,
        "total": 7,
        "succeeded": 3,
        "failed": 4,
    }

    report = await client.get(f"{IMPORTS}/{accepted['id']}/errors.csv", headers=auth(ACME_ADMIN))
    assert report.status_code == 200, report.text
    assert report.headers["content-type"] == "text/csv; charset=utf-8"
    assert report.headers["content-disposition"] == 'attachment; filename="Q3_staff-errors.csv"'
    assert report.text == MIXED_ERRORS


async def test_running_the_same_csv_again_adds_nobody_twice(
    client: httpx.AsyncClient, sql: Sql, tags: dict[str, str]
) -> None:
    await upload(client, MIXED)
    await drain()
    snapshot = [
        count(sql, "select count(*) as n from memberships"),
        count(sql, "select count(*) as n from auth.users"),
        count(sql, "select count(*) as n from user_tag_assignments"),
        count(sql, "select count(*) as n from invitations"),
    ]

    again = (await upload(client, MIXED)).json()
    await drain()

    done = await job(client, again["id"])
    assert (done["status"], done["succeeded"], done["failed"]) == ("completed", 3, 4)
    assert [
        count(sql, "select count(*) as n from memberships"),
        count(sql, "select count(*) as n from auth.users"),
        count(sql, "select count(*) as n from user_tag_assignments"),
        count(sql, "select count(*) as n from invitations"),
    ] == snapshot


async def test_progress_is_visible_between_chunks(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK_SIZE", 2)
    text = "firstName,lastName,email,tags\n" + "".join(f"P,{i},p{i}@example.com,\n" for i in range(5))
    accepted = (await upload(client, text)).json()

    report = await run_batch(batch_size=1)

    assert report.archived == 1
    midway = await job(client, accepted["id"])
    assert (midway["status"], midway["processed"], midway["succeeded"], midway["total"]) == (
        "running",
        2,
        2,
        5,
    )
    assert count(sql, "select count(*) as n from import_rows where status = 'pending'") == 3

    await drain()

    done = await job(client, accepted["id"])
    assert (done["status"], done["processed"], done["succeeded"]) == ("completed", 5, 5)


async def test_a_failed_chunk_is_redone_without_losing_or_doubling_rows(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK_SIZE", 2)
    real_invite = LocalIdentityProvider.invite
    calls = {"n": 0}

    async def flaky_invite(self: LocalIdentityProvider, email: str, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 4:  # the second chunk's second row: the first row of that chunk was invited
            raise RuntimeError("provider hiccup")
        return await real_invite(self, email, **kwargs)

    monkeypatch.setattr(LocalIdentityProvider, "invite", flaky_invite)
    text = "firstName,lastName,email,tags\n" + "".join(f"P,{i},p{i}@example.com,\n" for i in range(5))
    accepted = (await upload(client, text)).json()

    await drain()

    done = await job(client, accepted["id"])
    assert (done["status"], done["processed"], done["succeeded"], done["failed"]) == ("completed", 5, 5, 0)
    assert count(sql, "select count(*) as n from auth.users where email like 'p_@example.com'") == 5
    assert (
        count(
            sql,
            "select count(*) as n from memberships m join profiles p on p.id = m.user_id"
            " where p.email like 'p_@example.com'",
        )
        == 5
    )
    assert count(sql, "select count(*) as n from invitations") == 5


async def test_tag_deleted_after_upload_fails_its_rows_in_the_worker(
    client: httpx.AsyncClient, sql: Sql, tags: dict[str, str]
) -> None:
    text = "firstName,lastName,email,tags\nA,B,a@example.com,Ops\nC,D,c@example.com,Sales\n"
    accepted = (await upload(client, text)).json()
    sql("delete from user_tags where id = %s", (tags["Ops"],))

    await drain()

    done = await job(client, accepted["id"])
    assert (done["succeeded"], done["failed"]) == (1, 1)
    report = await client.get(f"{IMPORTS}/{accepted['id']}/errors.csv", headers=auth(ACME_ADMIN))
    assert report.text == "firstName,lastName,email,tags,error\r\nA,B,a@example.com,Ops,unknown_tag:Ops\r\n"


async def test_json_upload_is_accepted_like_a_csv_body(client: httpx.AsyncClient, sql: Sql) -> None:
    body = {"csv": "firstName,lastName,email,tags\nA,B,a@example.com,\n", "filename": "one.csv"}
    response = await client.post(IMPORTS, json=body, headers=auth(ACME_ADMIN))
    assert response.status_code == 202, response.text
    assert (response.json()["filename"], response.json()["total"]) == ("one.csv", 1)


async def test_repeated_upload_with_the_same_idempotency_key_creates_one_job(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    headers = {**auth(ACME_ADMIN), **CSV, "Idempotency-Key": "import-1"}
    text = b"firstName,lastName,email,tags\nA,B,a@example.com,\n"
    first = await client.post(IMPORTS, content=text, headers=headers)
    again = await client.post(IMPORTS, content=text, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert count(sql, "select count(*) as n from import_jobs") == 1


async def test_file_with_a_wrong_header_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    response = await upload(client, "email,firstName,lastName,tags\na@example.com,A,B,\n")
    body = assert_problem(response, 422, "validation_failed")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [("body.csv", "csv_header")]
    assert count(sql, "select count(*) as n from import_jobs") == 0


async def test_file_over_the_size_limit_is_413(client: httpx.AsyncClient, sql: Sql) -> None:
    text = "firstName,lastName,email,tags\n" + "x" * (5 * 1024 * 1024)
    assert_problem(await upload(client, text), 413, "payload_too_large")
    assert count(sql, "select count(*) as n from import_jobs") == 0


async def test_other_media_types_are_415(client: httpx.AsyncClient, db: str) -> None:
    response = await client.post(
        IMPORTS,
        content=b"firstName,lastName,email,tags\n",
        headers={**auth(ACME_ADMIN), "content-type": "text/plain"},
    )
    body = assert_problem(response, 415, "unsupported_media_type")
    assert "text/csv" in body["detail"]


async def test_learner_cannot_upload_or_read_imports(client: httpx.AsyncClient, sql: Sql) -> None:
    assert_problem(await upload(client, MIXED, user=ACME_LENA), 403, "forbidden")
    accepted = (await upload(client, MIXED)).json()
    assert_problem(await client.get(f"{IMPORTS}/{accepted['id']}", headers=auth(ACME_LENA)), 403, "forbidden")
    errors = await client.get(f"{IMPORTS}/{accepted['id']}/errors.csv", headers=auth(ACME_LENA))
    assert_problem(errors, 403, "forbidden")
    assert count(sql, "select count(*) as n from import_jobs") == 1


async def test_other_community_admin_cannot_upload_or_read_imports(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    assert_problem(await upload(client, MIXED, user=GLOBEX_ADMIN), 403, "forbidden")
    accepted = (await upload(client, MIXED)).json()
    assert_problem(
        await client.get(f"{IMPORTS}/{accepted['id']}", headers=auth(GLOBEX_ADMIN)), 403, "forbidden"
    )


async def test_specialist_reads_imports_but_cannot_upload(client: httpx.AsyncClient, db: str) -> None:
    accepted = (await upload(client, MIXED)).json()
    assert (await job(client, accepted["id"], user=SPECIALIST))["id"] == accepted["id"]
    listed = await client.get(IMPORTS, headers=auth(SPECIALIST))
    assert [j["id"] for j in listed.json()["items"]] == [accepted["id"]]
    assert_problem(await upload(client, MIXED, user=SPECIALIST), 403, "forbidden")


async def test_file_whose_rows_all_fail_validation_is_completed_without_the_worker(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    accepted = (await upload(client, "firstName,lastName,email,tags\nA,B,nope,\n")).json()
    assert (accepted["status"], accepted["processed"], accepted["failed"]) == ("completed", 1, 1)
    assert (
        count(sql, "select count(*) as n from pgmq.q_events where message->>'name' = 'import.requested'") == 0
    )


async def test_unknown_job_is_not_found(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get(f"{IMPORTS}/00000000-0000-4000-8000-000000000000", headers=auth(ACME_ADMIN))
    assert_problem(response, 404, "not_found")
