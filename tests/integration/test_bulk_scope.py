"""The bulk use case for a function's own items (`Scope`), as the authoring functions mount it: only the
scope's types are its items, their folders are of the scope's repository, and a copy's payload is made by
the scope's hook (WODs and BLOCKs give their pages and blocks fresh ids)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import pytest

from shared.authoring import bulk
from shared.authoring.bulk_schemas import BulkRequest
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import as_user
from tests.content_rows import make_item
from tests.factories import ACME, MANAGER
from tests.helpers import Sql

STAFF = Principal(UUID(MANAGER), {}, staff_role="manager")


def renumbered(content_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {**payload, "text": f"fresh {content_type}"}


async def run(cmd: BulkRequest, scope: bulk.Scope) -> Any:
    async with as_user({"sub": MANAGER, "role": "authenticated"}) as tx:
        return await bulk.run(cmd, scope, tx=tx, principal=STAFF, meta=RequestMeta())


async def test_a_copy_takes_its_payload_from_the_scopes_hook(sql: Sql) -> None:
    item = make_item(sql, community=ACME, status="draft", payload={"text": "original"})
    scope = bulk.Scope(types=frozenset({"prompt"}), repository="content", copy_payload=renumbered)

    result = await run(BulkRequest(action="copy", ids=[UUID(item)]), scope)

    copy = str(result.copies[0].id)
    rows = {r["id"]: r["payload"] for r in sql("select id::text, payload from content_items")}
    assert rows == {item: {"text": "original"}, copy: {"text": "fresh prompt"}}


async def test_items_of_other_types_and_folders_of_other_repositories_are_not_the_scopes(sql: Sql) -> None:
    prompt = make_item(sql, community=ACME, status="draft")
    video = make_item(sql, community=ACME, type="video", status="draft")
    wods = sql(
        "insert into content_folders (community_id, repository, name) values (%s, 'wods', 'W') returning id",
        (ACME,),
    )[0]["id"]
    scope = bulk.Scope(types=frozenset({"prompt"}), repository="wods")

    with pytest.raises(bulk.BulkRefusedError) as refused:
        await run(BulkRequest(action="delete", ids=[UUID(prompt), UUID(video)]), scope)
    assert refused.value.extra["failures"] == [{"id": video, "code": "not_found"}]

    # Items without folders (a scope without a repository: programs) are filed nowhere.
    with pytest.raises(bulk.BulkRefusedError) as refused:
        await run(BulkRequest(action="move", ids=[UUID(prompt)], folder_id=wods), bulk.Scope(frozenset({"prompt"}), None))
    assert refused.value.extra["failures"] == [{"id": prompt, "code": "unknown_folder"}]
    assert sql("select count(*) as n from content_items")[0]["n"] == 2
