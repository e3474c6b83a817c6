"""Every `content` route against every kind of caller: what each may do with an Acme item, and that a
refused write changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.content.repository import SNAPSHOT
from tests.content_helpers import item_row, make_item, versions
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX_ADMIN, MANAGER, SPECIALIST, SUPER, auth
from tests.helpers import Sql, assert_problem

NOBODY, FORGED, EXPIRED = "signed out", "forged token", "expired token"
WRITERS = {SUPER, MANAGER, ACME_ADMIN}
READERS = {SUPER, MANAGER, SPECIALIST, ACME_ADMIN}
REFUSED = {
    SPECIALIST: (403, "forbidden"),
    GLOBEX_ADMIN: (404, "not_found"),
    ACME_LENA: (403, "forbidden"),
    NOBODY: (401, "unauthenticated"),
    FORGED: (401, "unauthenticated"),
    EXPIRED: (401, "unauthenticated"),
}
CALLERS = [SUPER, MANAGER, SPECIALIST, ACME_ADMIN, GLOBEX_ADMIN, ACME_LENA, NOBODY, FORGED, EXPIRED]
NAMES = [
    "super_admin",
    "manager",
    "specialist",
    "acme admin",
    "globex admin",
    "acme learner",
    NOBODY,
    FORGED,
    EXPIRED,
]


def headers(caller: str) -> dict[str, str]:
    if caller == NOBODY:
        return {}
    if caller == FORGED:
        return auth(ACME_ADMIN, secret="a-secret-that-is-not-the-projects-but-long-enough")
    if caller == EXPIRED:
        return auth(ACME_ADMIN, ttl_s=-60)
    return auth(caller)


def acme_item(sql: Sql, status: str) -> str:
    """An Acme item in `status` with one saved version, whose title was "Saved"."""
    item = make_item(sql, ACME, status=status, title="Saved")
    sql(
        f"insert into content_versions (item_id, kind, snapshot) select i.id, 'save', {SNAPSHOT}"  # noqa: S608
        " from content_items i where i.id = %s",
        (item,),
    )
    sql("update content_items set title = 'Original' where id = %s", (item,))
    return item


WRITES: list[tuple[str, str, str, dict[str, Any] | None, int]] = [
    ("change", "PATCH", "", {"type": "prompt", "title": "Changed"}, 200),
    ("delete", "DELETE", "", None, 204),
    ("publish", "POST", "/publish", {}, 200),
    ("unpublish", "POST", "/unpublish", {}, 200),
    ("archive", "POST", "/archive", {}, 200),
    ("unarchive", "POST", "/unarchive", {}, 200),
    ("restore", "POST", "/versions/1/restore", {}, 200),
]
START = {"unpublish": "published", "unarchive": "archived"}


@pytest.mark.parametrize("caller", CALLERS, ids=NAMES)
@pytest.mark.parametrize(("name", "method", "suffix", "body", "success"), WRITES, ids=[w[0] for w in WRITES])
async def test_every_write_route_by_every_caller(
    client: httpx.AsyncClient,
    sql: Sql,
    caller: str,
    name: str,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
    success: int,
) -> None:
    item = acme_item(sql, START.get(name, "draft"))
    before, history = item_row(sql, item), versions(sql, item)
    assert before is not None
    params = {"revision": before["revision"]} if method == "DELETE" else None
    payload = None if body is None else {**body, "revision": before["revision"]}

    response = await client.request(
        method, f"/content/{item}{suffix}", json=payload, params=params, headers=headers(caller)
    )

    if caller in WRITERS:
        assert response.status_code == success, response.text
        assert item_row(sql, item) != before
    else:
        assert_problem(response, *REFUSED[caller])
        assert item_row(sql, item) == before and versions(sql, item) == history


READS = [
    ("item", ""),
    ("versions", "/versions"),
    ("version", "/versions/1"),
    ("compare", "/compare?from=1"),
]


@pytest.mark.parametrize("caller", CALLERS, ids=NAMES)
@pytest.mark.parametrize(("name", "suffix"), READS, ids=[r[0] for r in READS])
async def test_every_read_route_by_every_caller(
    client: httpx.AsyncClient, sql: Sql, caller: str, name: str, suffix: str
) -> None:
    item = acme_item(sql, "published")
    response = await client.get(f"/content/{item}{suffix}", headers=headers(caller))
    if caller in READERS:
        assert response.status_code == 200, response.text
    else:
        assert_problem(response, *REFUSED[caller])


@pytest.mark.parametrize("caller", CALLERS, ids=NAMES)
async def test_the_list_by_every_caller(client: httpx.AsyncClient, sql: Sql, caller: str) -> None:
    item = acme_item(sql, "published")
    response = await client.get("/content", params={"community_id": ACME}, headers=headers(caller))
    if caller in READERS:
        assert [i["id"] for i in response.json()["items"]] == [item]
    elif caller == GLOBEX_ADMIN:
        assert (
            response.status_code == 200 and response.json()["items"] == []
        )  # nothing of Acme's exists for them
    else:
        assert_problem(response, *REFUSED[caller])
