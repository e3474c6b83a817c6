"""`programs` through the real handler against the real database: sections of WODs and BLOCKs saved and
reloaded exactly, the calendar rules, what a program may name, concurrent edits, who may do what, and the
content mechanism (lifecycle, versions, grants, catalogue) working for programs."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest

from shared.platform.caching import strong_etag
from shared.platform.db import RuleViolationError, as_user
from tests.content_helpers import item_row, make_item, versions
from tests.content_rows import make_grant
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
from tests.helpers import Sql, assert_problem, count

PROGRAMS = "/programs"
WOD_PAYLOAD = {"difficulty": "beginner", "pages": []}
BLOCK_PAYLOAD = {"category": "warm-up", "pages": []}


def wod(sql: Sql, community: str | None = ACME, *, status: str = "draft", title: str = "A WOD") -> str:
    return make_item(sql, community, content_type="wod", title=title, status=status, payload=WOD_PAYLOAD)


def block(sql: Sql, community: str | None = ACME, *, status: str = "draft") -> str:
    return make_item(sql, community, content_type="block", title="A BLOCK", status=status, payload=BLOCK_PAYLOAD)


def calendar(*placed: tuple[str, int, int], weeks: int = 4) -> dict[str, Any]:
    items = [{"item_id": i, "week": w, "day": d} for i, w, d in placed]
    return {
        "difficulty": "intermediate",
        "estimated_weeks": weeks,
        "calendar": True,
        "capacity": 25,
        "enrollment_deadline": "2027-03-01T09:00:00+01:00",
        "sections": [{"title": "Weeks 1-2", "items": items[:1]}, {"title": "Weeks 3-4", "items": items[1:]}],
    }


def course(*items: str) -> dict[str, Any]:
    return {"sections": [{"title": "All of it", "items": [{"item_id": i} for i in items]}]}


def new_program(payload: dict[str, Any], community: str | None = ACME, title: str = "Program") -> dict[str, Any]:
    body: dict[str, Any] = {"type": "program", "title": title, "payload": payload}
    if community is not None:
        body["community_id"] = community
    return body


async def create(client: httpx.AsyncClient, payload: dict[str, Any], caller: str = ACME_ADMIN) -> dict[str, Any]:
    community = None if caller == MANAGER else ACME
    response = await client.post(PROGRAMS, json=new_program(payload, community), headers=auth(caller))
    assert response.status_code == 201, response.text
    return dict(response.json())


def exact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def programs_count(sql: Sql) -> int:
    return count(sql, "select count(*) as n from content_items where type = 'program'")


# ----------------------------------------------------------------------------------------------------
# Saving and reloading
# ----------------------------------------------------------------------------------------------------


async def test_an_editor_saves_and_reloads_a_program_exactly(client: httpx.AsyncClient, sql: Sql) -> None:
    first, second, warm_up = wod(sql), wod(sql), block(sql)
    created = await create(client, calendar((first, 1, 1), (warm_up, 3, 2), (second, 4, 7)))
    program = created["id"]
    loaded = await client.get(f"{PROGRAMS}/{program}", headers=auth(ACME_ADMIN))

    assert loaded.status_code == 200, loaded.text
    sections = loaded.json()["payload"]["sections"]
    assert exact(sections) == exact(created["payload"]["sections"])
    assert all(s["id"] and all(i["id"] for i in s["items"]) for s in sections)
    assert [[i["item_id"] for i in s["items"]] for s in sections] == [[first], [warm_up, second]]

    # The editor moves an item into the first section, renames a section and saves what it holds.
    edited = loaded.json()["payload"]
    moved = edited["sections"][1]["items"].pop(0)
    edited["sections"][0]["items"].append(moved)
    edited["sections"][1]["title"] = "The last weeks"
    saved = await client.patch(
        f"{PROGRAMS}/{program}",
        json={"type": "program", "payload": edited},
        headers={**auth(ACME_ADMIN), "If-Match": loaded.headers["ETag"]},
    )
    reloaded = await client.get(f"{PROGRAMS}/{program}", headers=auth(ACME_ADMIN))

    assert saved.status_code == 200, saved.text
    assert exact(reloaded.json()["payload"]) == exact(edited) == exact(saved.json()["payload"])
    assert reloaded.headers["ETag"] == strong_etag(program, 2)
    row = item_row(sql, program)
    assert row is not None and row["payload"] == edited and row["revision"] == 2
    audited = sql("select action from audit_log where target_id = %s order by id", (program,))
    assert [a["action"] for a in audited] == ["content.created", "content.updated"]
    refs = sql("select target_id::text as t from content_references where item_id = %s", (program,))
    assert {r["t"] for r in refs} == {first, second, warm_up}


async def test_a_course_has_no_calendar(client: httpx.AsyncClient, sql: Sql) -> None:
    lesson = wod(sql)
    created = await create(client, course(lesson))

    assert created["payload"] | {"sections": []} == {
        "difficulty": "beginner",
        "estimated_weeks": None,
        "calendar": False,
        "capacity": None,
        "enrollment_deadline": None,
        "sections": [],
    }
    [section] = created["payload"]["sections"]
    assert [(i["item_id"], i["week"], i["day"]) for i in section["items"]] == [(lesson, None, None)]


async def test_calendar_rules_are_field_errors_and_nothing_is_written(client: httpx.AsyncClient, sql: Sql) -> None:
    lesson, other = wod(sql), wod(sql)
    with_calendar = calendar((lesson, 5, 1), (other, 1, 1))
    del with_calendar["sections"][1]["items"][0]["day"]
    without = course(lesson, lesson)
    without["sections"][0]["items"][0]["week"] = 2

    refused = await client.post(PROGRAMS, json=new_program(with_calendar), headers=auth(ACME_ADMIN))
    repeated = await client.post(PROGRAMS, json=new_program(without), headers=auth(ACME_ADMIN))

    body = assert_problem(refused, 422, "validation_failed")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        ("body.program.payload.sections.0.items.0.week", "week_beyond_program"),
        ("body.program.payload.sections.1.items.0.day", "day_required"),
    ]
    body = assert_problem(repeated, 422, "validation_failed")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        ("body.program.payload.sections.0.items.0.week", "no_calendar"),
        ("body.program.payload.sections.0.items.1.item_id", "duplicate_item"),
    ]
    assert programs_count(sql) == 0


async def test_a_program_written_directly_against_the_rules_reads_as_it_is(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    lesson = wod(sql)
    broken = {"calendar": True, "sections": [{"title": "S", "items": [{"item_id": lesson}, {"item_id": lesson}]}]}
    program = make_item(sql, ACME, content_type="program", payload=broken)

    first = await client.get(f"{PROGRAMS}/{program}", headers=auth(ACME_ADMIN))
    again = await client.get(f"{PROGRAMS}/{program}", headers=auth(ACME_ADMIN))
    resaved = await client.patch(
        f"{PROGRAMS}/{program}", json={"type": "program", "payload": broken, "revision": 1}, headers=auth(ACME_ADMIN)
    )

    assert first.status_code == 200, first.text
    assert exact(first.json()["payload"]) == exact(again.json()["payload"])
    assert [i["id"] for i in first.json()["payload"]["sections"][0]["items"]] == [None, None]
    assert {e["type"] for e in assert_problem(resaved, 422, "validation_failed")["errors"]} == {
        "week_required",
        "day_required",
        "duplicate_item",
    }


# ----------------------------------------------------------------------------------------------------
# What a program may name
# ----------------------------------------------------------------------------------------------------


async def test_a_program_names_only_wods_and_blocks_its_owner_may_use(client: httpx.AsyncClient, sql: Sql) -> None:
    own = wod(sql)
    granted_platform = block(sql, None, status="published")
    make_grant(sql, granted_platform, ACME)
    globex_wod = wod(sql, GLOBEX)
    ungranted_platform = wod(sql, None, status="published")
    video = make_item(sql, ACME, content_type="video")
    missing = str(uuid.uuid4())

    usable = await client.post(PROGRAMS, json=new_program(course(own, granted_platform)), headers=auth(ACME_ADMIN))
    refused = await client.post(
        PROGRAMS,
        json=new_program(course(own, globex_wod, ungranted_platform, video, missing)),
        headers=auth(ACME_ADMIN),
    )

    assert usable.status_code == 201, usable.text
    body = assert_problem(refused, 422, "validation_failed")
    assert body["item_ids"] == [globex_wod, ungranted_platform, video, missing]
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (f"body.payload.sections.0.items.{n}.item_id", "unknown_item") for n in (1, 2, 3, 4)
    ]
    assert programs_count(sql) == 1


async def test_a_platform_program_names_platform_items_only(client: httpx.AsyncClient, sql: Sql) -> None:
    platform, acme_wod, globex_wod = wod(sql, None), wod(sql, ACME), wod(sql, GLOBEX)

    created = await client.post(PROGRAMS, json=new_program(course(platform), None), headers=auth(MANAGER))
    refused = await client.post(PROGRAMS, json=new_program(course(acme_wod), None), headers=auth(MANAGER))
    # Staff see every item, and still may not give a community's program another community's WOD.
    crossed = await client.post(PROGRAMS, json=new_program(course(globex_wod)), headers=auth(MANAGER))

    assert created.status_code == 201, created.text
    assert assert_problem(refused, 422, "validation_failed")["item_ids"] == [acme_wod]
    assert assert_problem(crossed, 422, "validation_failed")["item_ids"] == [globex_wod]
    assert programs_count(sql) == 1


async def test_a_change_naming_another_communitys_wod_changes_nothing(client: httpx.AsyncClient, sql: Sql) -> None:
    lesson, globex_wod = wod(sql), wod(sql, GLOBEX)
    created = await create(client, course(lesson))

    changed = await client.patch(
        f"{PROGRAMS}/{created['id']}",
        json={"type": "program", "payload": course(lesson, globex_wod), "revision": 1},
        headers=auth(ACME_ADMIN),
    )

    assert assert_problem(changed, 422, "validation_failed")["item_ids"] == [globex_wod]
    row = item_row(sql, created["id"])
    assert row is not None and row["revision"] == 1 and row["payload"] == created["payload"]


async def test_a_wod_a_program_uses_cannot_be_deleted(client: httpx.AsyncClient, sql: Sql) -> None:
    lesson = wod(sql)
    await create(client, course(lesson))

    deleted = await client.delete(f"/wods/{lesson}", headers={**auth(ACME_ADMIN), "If-Match": strong_etag(lesson, 1)})

    assert_problem(deleted, 409, "item_in_use")
    assert item_row(sql, lesson) is not None


async def test_a_postgrest_writer_names_only_wods_and_blocks_its_community_may_use(sql: Sql) -> None:
    lesson, video, globex_wod = wod(sql), make_item(sql, ACME, content_type="video"), wod(sql, GLOBEX)
    insert = (
        "insert into content_items (community_id, type, title, payload, created_by, updated_by)"
        " values (%s, 'program', 'Direct', %s::jsonb, %s, %s) returning id"
    )
    claims = {"sub": ACME_ADMIN, "role": "authenticated", "aud": "authenticated"}

    async with as_user(claims) as tx:
        assert len(await tx.fetch_all(insert, (ACME, json.dumps(course(lesson)), ACME_ADMIN, ACME_ADMIN))) == 1
    codes = []
    for refused in (video, globex_wod):
        with pytest.raises(RuleViolationError) as caught:
            async with as_user(claims) as tx:
                await tx.execute(insert, (ACME, json.dumps(course(lesson, refused)), ACME_ADMIN, ACME_ADMIN))
        codes.append(caught.value.code)

    assert codes == ["unknown_item", "unknown_reference"]
    assert programs_count(sql) == 1


# ----------------------------------------------------------------------------------------------------
# Concurrency and who may do what
# ----------------------------------------------------------------------------------------------------


async def test_concurrent_saves_of_one_revision_keep_exactly_one(client: httpx.AsyncClient, sql: Sql) -> None:
    first, second = wod(sql), wod(sql)
    created = await create(client, course(first))

    async def save(item: str) -> httpx.Response:
        return await client.patch(
            f"{PROGRAMS}/{created['id']}",
            json={"type": "program", "payload": course(item)},
            headers={**auth(ACME_ADMIN), "If-Match": strong_etag(created["id"], 1)},
        )

    answers = await asyncio.gather(save(first), save(second))

    assert sorted(a.status_code for a in answers) == [200, 409]
    [won] = [a for a in answers if a.status_code == 200]
    [lost] = [a for a in answers if a.status_code == 409]
    assert_problem(lost, 409, "stale_version")
    row = item_row(sql, created["id"])
    assert row is not None and row["revision"] == 2 and row["payload"] == won.json()["payload"]


async def test_a_stale_save_is_refused_and_writes_nothing(client: httpx.AsyncClient, sql: Sql) -> None:
    first, second = wod(sql), wod(sql)
    created = await create(client, course(first))
    renamed = await client.patch(
        f"{PROGRAMS}/{created['id']}", json={"type": "program", "title": "Renamed", "revision": 1},
        headers=auth(ACME_ADMIN),
    )

    stale = await client.patch(
        f"{PROGRAMS}/{created['id']}",
        json={"type": "program", "payload": course(second)},
        headers={**auth(ACME_ADMIN), "If-Match": strong_etag(created["id"], 1)},
    )

    assert renamed.status_code == 200, renamed.text
    assert_problem(stale, 409, "stale_version")
    row = item_row(sql, created["id"])
    assert row is not None and row["revision"] == 2 and row["payload"] == created["payload"]


async def test_another_communitys_admin_sees_no_program_and_a_learner_writes_none(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    lesson = wod(sql)
    created = await create(client, course(lesson))
    program = created["id"]
    change = {"type": "program", "title": "Mine now", "revision": 1}

    read = await client.get(f"{PROGRAMS}/{program}", headers=auth(GLOBEX_ADMIN))
    changed = await client.patch(f"{PROGRAMS}/{program}", json=change, headers=auth(GLOBEX_ADMIN))
    listed = await client.get(PROGRAMS, headers=auth(GLOBEX_ADMIN))
    learner_change = await client.patch(f"{PROGRAMS}/{program}", json=change, headers=auth(ACME_LENA))
    learner_create = await client.post(PROGRAMS, json=new_program(course(lesson)), headers=auth(ACME_LENA))
    learner_read = await client.get(f"{PROGRAMS}/{program}", headers=auth(ACME_LENA))
    specialist_change = await client.patch(f"{PROGRAMS}/{program}", json=change, headers=auth(SPECIALIST))

    assert_problem(read, 404, "not_found")
    assert_problem(changed, 404, "not_found")
    assert listed.json()["items"] == []
    assert_problem(learner_change, 403, "forbidden")
    assert_problem(learner_create, 403, "forbidden")
    assert_problem(learner_read, 403, "forbidden")
    assert_problem(specialist_change, 403, "forbidden")
    row = item_row(sql, program)
    assert row is not None and (row["title"], row["revision"]) == ("Program", 1)
    assert programs_count(sql) == 1


# ----------------------------------------------------------------------------------------------------
# The content mechanism, for programs
# ----------------------------------------------------------------------------------------------------


async def test_lifecycle_and_versions_work_for_programs(client: httpx.AsyncClient, sql: Sql) -> None:
    lesson, extra = wod(sql), wod(sql)
    created = await create(client, course(lesson))
    program = created["id"]
    published = await client.post(
        f"{PROGRAMS}/{program}/publish", json={"revision": 1, "change_summary": "Launch"}, headers=auth(ACME_ADMIN)
    )
    grown = await client.patch(
        f"{PROGRAMS}/{program}",
        json={"type": "program", "payload": course(lesson, extra), "revision": 2},
        headers=auth(ACME_ADMIN),
    )
    restored = await client.post(f"{PROGRAMS}/{program}/versions/1/restore", json={"revision": 3}, headers=auth(ACME_ADMIN))
    archived = await client.post(f"{PROGRAMS}/{program}/archive", json={"revision": 4}, headers=auth(ACME_ADMIN))

    assert published.status_code == 200, published.text
    assert grown.status_code == 200, grown.text
    assert restored.status_code == 200, restored.text
    assert exact(restored.json()["payload"]) == exact(created["payload"])
    assert archived.json()["status"] == "archived"
    assert [(v["number"], v["kind"]) for v in versions(sql, program)] == [(1, "publish"), (2, "publish"), (3, "restore")]
    refs = sql("select target_id::text as t from content_references where item_id = %s", (program,))
    assert [r["t"] for r in refs] == [lesson]


async def test_a_granted_program_is_in_its_communitys_catalogue_only(client: httpx.AsyncClient, sql: Sql) -> None:
    lesson = wod(sql, None, status="published", title="Platform lesson")
    created = await create(client, course(lesson), caller=MANAGER)
    program = created["id"]
    await client.post(f"{PROGRAMS}/{program}/publish", json={"revision": 1}, headers=auth(MANAGER))
    granted = await client.post(
        "/content-grants", json={"item_id": program, "community_id": ACME}, headers=auth(MANAGER)
    )

    lena_list = await client.get("/catalogue", headers=auth(ACME_LENA))
    lena_opens = await client.get(f"/catalogue/{program}", headers=auth(ACME_LENA))
    lena_lesson = await client.get(f"/catalogue/{lesson}", headers=auth(ACME_LENA))
    gina_list = await client.get("/catalogue", headers=auth(GLOBEX_GINA))
    gina_opens = await client.get(f"/catalogue/{program}", headers=auth(GLOBEX_GINA))

    assert granted.status_code == 201, granted.text
    assert [i["id"] for i in lena_list.json()["items"]] == [program]
    assert lena_opens.status_code == 200, lena_opens.text
    assert lena_opens.json()["payload"]["sections"] == created["payload"]["sections"]
    assert lena_lesson.status_code == 200, lena_lesson.text
    assert gina_list.json()["items"] == []
    assert_problem(gina_opens, 404, "not_found")
