"""Bulk imports through the real handler and the real worker loop, against the real database."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.identity.onboarding import deliveries, handlers, imports, worker_repository
from shared.identity.provider import LocalIdentityProvider
from shared.platform.errors import UnavailableError
from shared.platform.events import run_batch
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    GLOBEX,
    GLOBEX_ADMIN,
    GLOBEX_GINA,
    MANAGER,
    SPECIALIST,
    auth,
)
from tests.helpers import assert_problem, count, drain_events, open_transactions, send_again

assert handlers  # imported for its subscriptions, as the worker function does

Sql = Any
IMPORTS = "/imports"
OF_ACME = {"community_id": ACME}
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


drain = drain_events


async def upload(
    client: httpx.AsyncClient, text: str, *, user: str = ACME_ADMIN, filename: str | None = None
) -> httpx.Response:
    params = {**OF_ACME, **({"filename": filename} if filename else {})}
    return await client.post(IMPORTS, content=text.encode(), params=params, headers={**auth(user), **CSV})


async def job(client: httpx.AsyncClient, job_id: str, user: str = ACME_ADMIN) -> dict[str, Any]:
    response = await client.get(f"/imports/{job_id}", headers=auth(user))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
def tags(sql: Sql) -> dict[str, str]:
    return {"Sales": make_tag(sql, "Sales"), "Ops": make_tag(sql, "Ops")}


async def test_mixed_csv_invites_valid_rows_and_reports_the_rest(
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
    assert accepted["filename"] == "Q3 staff.csv" and accepted["failure_reason"] is None
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
    # Nobody joined: the new address and the existing account are invited, the member stays as they were.
    assert (
        count(sql, "select count(*) as n from memberships where community_id = %s", (ACME,)) == members_before
    )
    assert count(sql, "select count(*) as n from auth.users") == users_before + 1
    nia = sql("select id::text, encrypted_password from auth.users where email = 'nia@example.com'")[0]
    assert nia["encrypted_password"] is None
    held = sql(
        "select p.email, t.name from user_tag_assignments a join profiles p on p.id = a.user_id"
        " join user_tags t on t.id = a.tag_id order by p.email"
    )
    assert held == [{"email": "lena@acme.example.com", "name": "Ops"}]
    invitations = sql(
        "select id::text, email, status, source, delivery, user_id::text, tag_ids::text[] from invitations"
        " order by email"
    )
    assert [{k: v for k, v in i.items() if k != "id"} for i in invitations] == [
        {
            "email": "gina@globex.example.com",
            "status": "sent",
            "source": "import",
            "delivery": "sent",
            "user_id": GLOBEX_GINA,
            "tag_ids": [tags["Sales"]],
        },
        {
            "email": "nia@example.com",
            "status": "sent",
            "source": "import",
            "delivery": "sent",
            "user_id": nia["id"],
            "tag_ids": [tags["Sales"]],
        },
    ]
    created = sql(
        "select target_id, actor_type, after->>'import_job_id' as job from audit_log"
        " where action = 'invitation.created' order by target_id"
    )
    assert created == sorted(
        ({"target_id": i["id"], "actor_type": "service", "job": accepted["id"]} for i in invitations),
        key=lambda e: e["target_id"],
    )
    (completed,) = sql(
        "select actor_type, after from audit_log where action = 'import.completed' and target_id = %s",
        (accepted["id"],),
    )
    summary = {"total": 7, "processed": 7, "succeeded": 3, "failed": 4, "invited": 2}
    assert completed == {
        "actor_type": "service",
        "after": {"created_by": ACME_ADMIN, "status": "completed", "failure_reason": None, **summary},
    }
    announced = sql(
        "select message->>'name' as name, message->'payload' as payload from pgmq.a_events"
        " where message->>'name' like 'import.%%' or message->>'name' like 'member%%' order by msg_id"
    )
    assert [a["name"] for a in announced] == ["import.requested", "import.completed"]
    assert announced[1]["payload"] == {
        "job_id": accepted["id"],
        "community_id": ACME,
        "status": "completed",
        **summary,
    }

    report = await client.get(f"/imports/{accepted['id']}/errors.csv", headers=auth(ACME_ADMIN))
    assert report.status_code == 200, report.text
    assert report.headers["content-type"] == "text/csv; charset=utf-8"
    assert report.headers["content-disposition"] == 'attachment; filename="Q3_staff-errors.csv"'
    assert report.text == MIXED_ERRORS


async def test_an_imported_invitee_joins_on_acceptance_with_the_rows_tags(
    client: httpx.AsyncClient, sql: Sql, tags: dict[str, str]
) -> None:
    await upload(client, MIXED)
    await drain()
    (invitation,) = sql("select id::text from invitations where email = 'gina@globex.example.com'")

    response = await client.post(f"/invitations/{invitation['id']}/accept", headers=auth(GLOBEX_GINA))

    assert response.status_code == 200, response.text
    joined = sql(
        "select role, source, invited_by::text from memberships where user_id = %s and community_id = %s",
        (GLOBEX_GINA, ACME),
    )
    assert joined == [{"role": "member", "source": "import", "invited_by": ACME_ADMIN}]
    assert sql("select tag_id::text from user_tag_assignments where user_id = %s", (GLOBEX_GINA,)) == [
        {"tag_id": tags["Sales"]}
    ]
    audit = sql("select after from audit_log where action = 'member.joined_via_invitation'")
    assert [a["after"]["source"] for a in audit] == ["import"]


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
    invited = sql(
        "select after->>'invited' as n from audit_log where action = 'import.completed' order by id"
    )
    assert [i["n"] for i in invited] == ["2", "0"]


async def test_progress_is_visible_between_chunks(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK_SIZE", 2)
    text = "firstName,lastName,email,tags\n" + "".join(f"P,{i},p{i}@example.com,\n" for i in range(5))
    accepted = (await upload(client, text)).json()

    assert (await run_batch(batch_size=1)).archived == 1  # the first chunk: two rows invited

    midway = await job(client, accepted["id"])
    assert (midway["status"], midway["processed"], midway["total"]) == ("running", 0, 5)
    rows = sql("select status, count(*)::int as n from import_rows group by status order by status")
    assert rows == [{"status": "invited", "n": 2}, {"status": "pending", "n": 3}]

    assert (await run_batch(batch_size=1)).archived == 1  # their delivery
    delivered = await job(client, accepted["id"])
    assert (delivered["status"], delivered["processed"], delivered["succeeded"]) == ("running", 2, 2)

    await drain()

    done = await job(client, accepted["id"])
    assert (done["status"], done["processed"], done["succeeded"]) == ("completed", 5, 5)


def no_transaction_open_and_job_unlocked(sql: Sql, job_id: str) -> None:
    """What every provider call must find: no transaction open on this database, the job row free."""
    assert open_transactions(sql) == 0
    assert sql("select id::text from import_jobs where id = %s for update nowait", (job_id,)) == [
        {"id": job_id}
    ]


async def test_a_failed_chunk_is_redone_and_each_address_is_sent_exactly_once(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK_SIZE", 2)
    real_invite, real_settle = LocalIdentityProvider.invite, worker_repository.settle_rows
    sent: list[str] = []
    settles = {"n": 0}
    job_id = {"id": ""}

    async def watched_invite(self: LocalIdentityProvider, email: str, **kwargs: Any) -> Any:
        no_transaction_open_and_job_unlocked(sql, job_id["id"])
        sent.append(email)
        return await real_invite(self, email, **kwargs)

    async def flaky_settle(*args: Any, **kwargs: Any) -> None:
        settles["n"] += 1
        await real_settle(*args, **kwargs)
        if settles["n"] == 2:  # the second chunk, after its invitations were inserted: it rolls back
            raise RuntimeError("worker died mid-chunk")

    monkeypatch.setattr(LocalIdentityProvider, "invite", watched_invite)
    monkeypatch.setattr(worker_repository, "settle_rows", flaky_settle)
    text = "firstName,lastName,email,tags\n" + "".join(f"P,{i},p{i}@example.com,\n" for i in range(5))
    accepted = (await upload(client, text)).json()
    job_id["id"] = accepted["id"]

    await drain()

    assert settles["n"] == 4, "the failed chunk ran again"
    assert sorted(sent) == [f"p{i}@example.com" for i in range(5)]
    done = await job(client, accepted["id"])
    assert (done["status"], done["processed"], done["succeeded"], done["failed"]) == ("completed", 5, 5, 0)
    assert count(sql, "select count(*) as n from auth.users where email like 'p_@example.com'") == 5
    assert count(sql, "select count(*) as n from invitations where delivery = 'sent'") == 5
    assert (
        count(
            sql,
            "select count(*) as n from memberships m join profiles p on p.id = m.user_id"
            " where p.email like 'p_@example.com'",
        )
        == 0
    )


async def test_a_provider_failure_is_recorded_on_the_row_and_not_sent_again(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_invite = LocalIdentityProvider.invite
    sent: list[str] = []

    async def refusing_invite(self: LocalIdentityProvider, email: str, **kwargs: Any) -> Any:
        sent.append(email)
        if email == "p1@example.com":
            raise UnavailableError("smtp relay 10.0.0.7 refused")
        return await real_invite(self, email, **kwargs)

    monkeypatch.setattr(LocalIdentityProvider, "invite", refusing_invite)
    text = "firstName,lastName,email,tags\n" + "".join(f"P,{i},p{i}@example.com,\n" for i in range(3))
    accepted = (await upload(client, text)).json()

    await drain()

    done = await job(client, accepted["id"])
    assert (done["status"], done["processed"], done["succeeded"], done["failed"]) == ("completed", 3, 2, 1)
    failed = sql("select delivery, delivery_error, user_id from invitations where email = 'p1@example.com'")
    assert failed == [{"delivery": "failed", "delivery_error": "provider_unavailable", "user_id": None}]
    report = await client.get(f"/imports/{accepted['id']}/errors.csv", headers=auth(ACME_ADMIN))
    assert report.text == (
        "firstName,lastName,email,tags,error\r\nP,1,p1@example.com,,invitation_not_sent:provider_unavailable\r\n"
    )
    assert "smtp" not in report.text

    # The delivery event arriving again (at-least-once) sends nothing: the failure is final.
    assert send_again(sql, "invitations.delivery_requested") == 1
    await drain()
    assert sorted(sent) == ["p0@example.com", "p1@example.com", "p2@example.com"]

    # An admin sends it again once the provider is back: the row and the job count the new outcome.
    monkeypatch.setattr(LocalIdentityProvider, "invite", real_invite)
    (invitation,) = sql("select id::text from invitations where email = 'p1@example.com'")
    resent = await client.post(f"/invitations/{invitation['id']}/resend", headers=auth(ACME_ADMIN))
    assert resent.status_code == 200, resent.text
    await drain()
    done = await job(client, accepted["id"])
    assert (done["status"], done["processed"], done["succeeded"], done["failed"]) == ("completed", 3, 3, 0)
    assert count(sql, "select count(*) as n from auth.users where email = 'p1@example.com'") == 1


async def test_a_dead_lettered_chunk_fails_the_job_with_the_reason(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_chunk(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("connection to 10.0.0.9 lost")

    monkeypatch.setattr(imports, "process_chunk", broken_chunk)
    text = "firstName,lastName,email,tags\nA,B,a@example.com,\nC,D,nope,\n"
    accepted = (await upload(client, text)).json()

    await drain()

    done = await job(client, accepted["id"])
    assert (done["status"], done["processed"], done["succeeded"], done["failed"]) == ("failed", 2, 0, 2)
    assert done["failure_reason"] == (
        "The worker gave up on this import after repeated failures (onboarding.import_first_chunk: RuntimeError)."
    )
    assert done["finished_at"] is not None
    report = await client.get(f"/imports/{accepted['id']}/errors.csv", headers=auth(ACME_ADMIN))
    assert (
        report.text
        == "firstName,lastName,email,tags,error\r\nA,B,a@example.com,,import_failed\r\nC,D,nope,,invalid_email\r\n"
    )
    (failed,) = sql("select actor_type, after from audit_log where action = 'import.failed'")
    assert failed["actor_type"] == "service"
    assert (failed["after"]["created_by"], failed["after"]["failed"]) == (ACME_ADMIN, 2)
    assert count(sql, "select count(*) as n from pgmq.q_events_dead") == 1
    assert count(sql, "select count(*) as n from pgmq.a_events where message->>'name' = 'import.failed'") == 1
    assert count(sql, "select count(*) as n from invitations") == 0


async def test_a_dead_lettered_delivery_fails_its_invitations_and_the_job_still_ends(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_delivery(event: Any) -> None:
        raise RuntimeError("worker out of memory")

    monkeypatch.setattr(deliveries, "deliver", broken_delivery)
    text = "firstName,lastName,email,tags\nA,B,a@example.com,\n"
    accepted = (await upload(client, text)).json()

    await drain()

    done = await job(client, accepted["id"])
    assert (done["status"], done["processed"], done["failed"]) == ("completed", 1, 1)
    assert sql("select delivery, delivery_error from invitations") == [
        {"delivery": "failed", "delivery_error": "worker_gave_up"}
    ]
    assert sql("select status, error from import_rows") == [
        {"status": "failed", "error": "invitation_not_sent:worker_gave_up"}
    ]
    assert count(sql, "select count(*) as n from auth.users where email = 'a@example.com'") == 0


async def test_tag_deleted_after_upload_fails_its_rows_in_the_worker(
    client: httpx.AsyncClient, sql: Sql, tags: dict[str, str]
) -> None:
    text = "firstName,lastName,email,tags\nA,B,a@example.com,Ops\nC,D,c@example.com,Sales\n"
    accepted = (await upload(client, text)).json()
    sql("delete from user_tags where id = %s", (tags["Ops"],))

    await drain()

    done = await job(client, accepted["id"])
    assert (done["succeeded"], done["failed"]) == (1, 1)
    report = await client.get(f"/imports/{accepted['id']}/errors.csv", headers=auth(ACME_ADMIN))
    assert report.text == "firstName,lastName,email,tags,error\r\nA,B,a@example.com,Ops,unknown_tag:Ops\r\n"


async def test_json_upload_is_accepted_like_a_csv_body(client: httpx.AsyncClient, sql: Sql) -> None:
    body = {"csv": "firstName,lastName,email,tags\nA,B,a@example.com,\n", "filename": "one.csv"}
    response = await client.post(IMPORTS, json=body, params=OF_ACME, headers=auth(ACME_ADMIN))
    assert response.status_code == 202, response.text
    assert (response.json()["filename"], response.json()["total"]) == ("one.csv", 1)


async def test_repeated_upload_with_the_same_idempotency_key_creates_one_job(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    headers = {**auth(ACME_ADMIN), **CSV, "Idempotency-Key": "import-1"}
    text = b"firstName,lastName,email,tags\nA,B,a@example.com,\n"
    first = await client.post(IMPORTS, content=text, params=OF_ACME, headers=headers)
    again = await client.post(IMPORTS, content=text, params=OF_ACME, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert count(sql, "select count(*) as n from import_jobs") == 1


async def test_the_same_key_and_file_for_another_community_is_not_a_replay(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    # The community is in the query, so the query is part of what a key stands for.
    headers = {**auth(MANAGER), **CSV, "Idempotency-Key": "import-2"}
    text = b"firstName,lastName,email,tags\nA,B,a@example.com,\n"
    first = await client.post(IMPORTS, content=text, params=OF_ACME, headers=headers)
    other = await client.post(IMPORTS, content=text, params={"community_id": GLOBEX}, headers=headers)
    assert first.status_code == 202, first.text
    assert_problem(other, 422, "idempotency_key_reused")
    assert sql("select community_id::text from import_jobs") == [{"community_id": ACME}]


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
        params=OF_ACME,
        content=b"firstName,lastName,email,tags\n",
        headers={**auth(ACME_ADMIN), "content-type": "text/plain"},
    )
    body = assert_problem(response, 415, "unsupported_media_type")
    assert "text/csv" in body["detail"]


async def test_learner_cannot_upload_or_read_imports(client: httpx.AsyncClient, sql: Sql) -> None:
    assert_problem(await upload(client, MIXED, user=ACME_LENA), 403, "forbidden")
    accepted = (await upload(client, MIXED)).json()
    assert_problem(await client.get(f"/imports/{accepted['id']}", headers=auth(ACME_LENA)), 403, "forbidden")
    errors = await client.get(f"/imports/{accepted['id']}/errors.csv", headers=auth(ACME_LENA))
    assert_problem(errors, 403, "forbidden")
    assert count(sql, "select count(*) as n from import_jobs") == 1


async def test_other_community_admin_cannot_upload_or_read_imports(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    # Acme is a community they cannot see: its imports answer as missing ones.
    assert_problem(await upload(client, MIXED, user=GLOBEX_ADMIN), 404, "not_found")
    accepted = (await upload(client, MIXED)).json()
    for path in (f"/imports/{accepted['id']}", f"/imports/{accepted['id']}/errors.csv"):
        assert_problem(await client.get(path, headers=auth(GLOBEX_ADMIN)), 404, "not_found")
    listed = await client.get(IMPORTS, params=OF_ACME, headers=auth(GLOBEX_ADMIN))
    assert_problem(listed, 404, "not_found")


async def test_specialist_reads_imports_but_cannot_upload(client: httpx.AsyncClient, db: str) -> None:
    accepted = (await upload(client, MIXED)).json()
    assert (await job(client, accepted["id"], user=SPECIALIST))["id"] == accepted["id"]
    listed = await client.get(IMPORTS, params=OF_ACME, headers=auth(SPECIALIST))
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
    (completed,) = sql("select actor_id::text, after from audit_log where action = 'import.completed'")
    assert completed["actor_id"] == ACME_ADMIN
    assert (completed["after"]["created_by"], completed["after"]["failed"]) == (ACME_ADMIN, 1)


async def test_unknown_job_is_not_found(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get("/imports/00000000-0000-4000-8000-000000000000", headers=auth(ACME_ADMIN))
    assert_problem(response, 404, "not_found")
