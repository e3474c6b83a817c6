"""The bulk use case for a function's own items (its `Scope`), as each function mounts it: only the scope's
types are its items, their folders are of the scope's repository, and a copy's payload is made by the
hook given (for WODs and BLOCKs: fresh page and block ids)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest

from shared.authoring import bulk
from shared.authoring.bulk_schemas import BulkRequest
from shared.content.schemas import CONTENT
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import as_user
from tests.content_rows import make_item
from tests.factories import ACME, MANAGER
from tests.helpers import Sql

STAFF = Principal(UUID(MANAGER), {}, staff_role="manager")
PROMPTS = replace(CONTENT, types=frozenset({"prompt"}))


def renumbered(content_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {**payload, "text": f"fresh {content_type}"}


async def run(cmd: BulkRequest, acting_on: bulk.Bulk) -> Any:
    async with as_user({"sub": MANAGER, "role": "authenticated"}) as tx:
        return await bulk.run(cmd, acting_on, tx=tx, principal=STAFF, meta=RequestMeta())


async def test_a_copy_takes_its_payload_from_the_hook(sql: Sql) -> None:
    item = make_item(sql, community=ACME, status="draft", payload={"text": "original"})
    result = await run(BulkRequest(action="copy", ids=[UUID(item)]), bulk.Bulk(PROMPTS, renumbered))

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
    with pytest.raises(bulk.BulkRefusedError) as refused:
        await run(BulkRequest(action="delete", ids=[UUID(prompt), UUID(video)]), bulk.Bulk(PROMPTS))
    assert refused.value.extra["failures"] == [{"id": video, "code": "not_found"}]

    # Items without folders (a scope without a folder repository: programs) are filed nowhere.
    with pytest.raises(bulk.BulkRefusedError) as refused:
        unfiled = bulk.Bulk(replace(PROMPTS, folders=None))
        await run(BulkRequest(action="move", ids=[UUID(prompt)], folder_id=wods), unfiled)
    assert refused.value.extra["failures"] == [{"id": prompt, "code": "unknown_folder"}]
    assert sql("select count(*) as n from content_items")[0]["n"] == 2
