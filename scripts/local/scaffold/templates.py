"""The files of a scaffolded function, as string.Template texts over names.Names ($function, $cls, …).

The shape is the house's (functions/tags, shared/identity/people/tag_service.py) on the route scheme of
the README: the collection is `/` (its community named in the query or the body), an item is
`/{<item>_id}`, found by its own id; a path never repeats the function's name. Each route declares a
guard (authorise before validate), parses, calls a service that checks its own permission, and responds.
"""

from __future__ import annotations

MAIN = '''\
"""`$function`: a community's $plural_words (scaffolded by scripts/new-function: say what it serves)."""

from __future__ import annotations

from uuid import UUID

from shared.$context import policy
from shared.$context.$module import service
from shared.$context.$module.schemas import ${cls}Page, ${cls}Query, ${cls}View, Create$cls
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("$function", body_limit=16 * 1024, description="A community's $plural_words.")
ITEM = "/{$id_param:uuid}"
READERS = caller(policy.require_any_community_reader)
WRITERS = caller(policy.require_any_community_writer)


@fn.get("/", query=${cls}Query, rate_limit="admin", allow=READERS)
async def list_$module(ctx: Context, query: ${cls}Query) -> ${cls}Page:
    """A community's $plural_words by name (`?community_id=`)."""
    return await service.list_$module(query, tx=ctx.db, principal=ctx.user)


@fn.post("/", body=Create$cls, status=201, idempotent=True, rate_limit="admin", allow=WRITERS)
async def create_$item(ctx: Context, body: Create$cls) -> ${cls}View:
    """Create a $words in the community the body names."""
    return await service.create_$item(body, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))


@fn.get(ITEM, rate_limit="admin", allow=READERS)
async def get_$item(ctx: Context, $id_param: UUID) -> ${cls}View:
    """One $words, by its own id."""
    return await service.get_$item($id_param, tx=ctx.db, principal=ctx.user)


handler = fn.handler
'''

PACKAGE = '''\
"""A community's $plural_words: schemas (the contract), repository (SQL), service (use cases)."""
'''

SCHEMAS = '''\
"""The `$function` contract: request and response models of a community's $plural_words."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field

from shared.platform.pagination import PageQuery
from shared.platform.validation import Body, PlainText, View

${cls}Name = Annotated[PlainText, Field(min_length=1, max_length=100)]


class ${cls}Query(PageQuery):
    """A page of one community's $plural_words: a collection names its community in the query."""

    community_id: UUID = Field(description="The community whose $plural_words are listed")


class Create$cls(Body):
    """A new $words of a community."""

    community_id: UUID
    name: ${cls}Name


class ${cls}View(View):
    """A $words."""

    id: UUID
    community_id: UUID
    name: str
    created_at: datetime


class ${cls}Page(View):
    """One page of a community's $plural_words, by name."""

    items: list[${cls}View]
    next_cursor: str | None
'''

REPOSITORY = '''\
"""SQL for a community's $plural_words. Runs in the caller's transaction, under row level security."""

from __future__ import annotations

from uuid import UUID

from shared.platform.db import Row, Tx

LIST_SQL = """
select id, community_id, name, created_at, lower(name) as sort_name
from public.$table
where community_id = %(community_id)s
  and (%(after_name)s::text is null or (lower(name), id) > (%(after_name)s::text, %(after_id)s::uuid))
order by lower(name), id
limit %(limit)s
"""
GET_SQL = "select id, community_id, name, created_at from public.$table where id = %s"
CREATE_SQL = """
insert into public.$table (community_id, name) values (%s, %s)
returning id, community_id, name, created_at
"""


async def list_$module(tx: Tx, community_id: UUID, after: list[str] | None, limit: int) -> list[Row]:
    """Up to `limit` of the community's $plural_words after the keyset position (name, id), by name."""
    after_name, after_id = after or (None, None)
    params = {"community_id": community_id, "after_name": after_name, "after_id": after_id, "limit": limit}
    return await tx.fetch_all(LIST_SQL, params)


async def get_$item(tx: Tx, $id_param: UUID) -> Row | None:
    """One $words the caller may see, or None."""
    return await tx.fetch_one(GET_SQL, ($id_param,))


async def create_$item(tx: Tx, community_id: UUID, name: str) -> Row:
    """Insert a $words (row level security refuses a community the caller may not write)."""
    row = await tx.fetch_one(CREATE_SQL, (community_id, name))
    assert row is not None  # insert … returning always answers a row
    return row
'''

SERVICE = '''\
"""$cls use cases: list a community's $plural_words, read one, create one; each checks its own permission."""

from __future__ import annotations

from uuid import UUID

from shared.$context import policy
from shared.$context.$module import repository
from shared.$context.$module.schemas import ${cls}Page, ${cls}Query, ${cls}View, Create$cls
from shared.$context.errors import ${cls}NotFoundError
from shared.platform import audit
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.pagination import decode_cursor, page_of

AUDIT_TARGET = "$item"


async def list_$module(query: ${cls}Query, *, tx: Tx, principal: Principal) -> ${cls}Page:
    """A page of the community's $plural_words by name."""
    policy.require_community_reader(principal, query.community_id)
    after = decode_cursor(query.cursor, 2)
    rows = await repository.list_$module(tx, query.community_id, after, query.limit + 1)
    page, next_cursor = page_of(rows, query.limit, key=lambda r: [r["sort_name"], str(r["id"])])
    return ${cls}Page(items=[${cls}View.model_validate(r) for r in page], next_cursor=next_cursor)


async def get_$item($id_param: UUID, *, tx: Tx, principal: Principal) -> ${cls}View:
    """One $words; one of a community the caller may not read answers as a missing one."""
    row = await repository.get_$item(tx, $id_param)
    if row is None:
        raise ${cls}NotFoundError()
    policy.require_item_reader(principal, row["community_id"], ${cls}NotFoundError)
    return ${cls}View.model_validate(row)


async def create_$item(cmd: Create$cls, *, tx: Tx, principal: Principal, meta: RequestMeta) -> ${cls}View:
    """Create a $words in the community `cmd` names, with its audit entry in the same transaction."""
    policy.require_community_writer(principal, cmd.community_id)
    row = await repository.create_$item(tx, cmd.community_id, cmd.name)
    await audit.record(
        tx,
        meta,
        "$item.created",
        target_type=AUDIT_TARGET,
        target_id=row["id"],
        community_id=cmd.community_id,
        after={"name": row["name"]},
    )
    return ${cls}View.model_validate(row)
'''

MIGRATION = """\
-- $function: a community's $plural_words (scaffolded by scripts/new-function).
-- Tenancy in the database, as for every community-scoped table: staff and the community's admins read,
-- staff who may write and the community's admins write. Add public.$table to the tenancy matrix
-- (tests/integration/test_tenancy_matrix.py): the suite fails until it is listed there.

create table public.$table (
  id uuid primary key default gen_random_uuid(),
  community_id uuid not null references public.communities (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 100 and name !~ '^[-=+@\\t\\r]'),
  created_at timestamptz not null default now()
);
create index ${table}_community_name_idx on public.$table (community_id, lower(name), id);

alter table public.$table enable row level security;
revoke all on public.$table from anon, authenticated, public;
grant all on public.$table to service_role;
grant select, insert on public.$table to authenticated;

create policy ${table}_read on public.$table for select to authenticated
  using ((select app.is_staff()) or app.is_admin_of(community_id));
create policy ${table}_insert on public.$table for insert to authenticated
  with check ((select app.has_staff_role(array['super_admin', 'manager'])) or app.is_admin_of(community_id));
"""

TEST = '''\
"""`$function`: a community's admins create and list its $plural_words; nobody else sees or writes them.

Scaffolded by scripts/new-function: grow these with the function's real rules.
"""

from __future__ import annotations

import httpx

from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX_ADMIN, auth
from tests.helpers import Sql, assert_problem

PATH = "/$function"


async def test_admin_creates_lists_and_reads_$module(client: httpx.AsyncClient, sql: Sql) -> None:
    created = await client.post(PATH, json={"community_id": ACME, "name": "First"}, headers=auth(ACME_ADMIN))
    assert created.status_code == 201, created.text
    item = created.json()
    listed = await client.get(PATH, params={"community_id": ACME}, headers=auth(ACME_ADMIN))
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"items": [item], "next_cursor": None}
    fetched = await client.get(f"{PATH}/{item['id']}", headers=auth(ACME_ADMIN))
    assert fetched.json() == item
    assert sql("select name from public.$table where community_id = %s", (ACME,)) == [{"name": "First"}]
    assert sql("select action from public.audit_log where target_id = %s", (item["id"],)) == [
        {"action": "$item.created"}
    ]


async def test_learner_cannot_create_${item}_even_with_a_bad_body(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    refused = await client.post(PATH, json={"community_id": ACME, "name": "Mine"}, headers=auth(ACME_LENA))
    assert_problem(refused, 403, "forbidden")
    assert_problem(await client.post(PATH, json={}, headers=auth(ACME_LENA)), 403, "forbidden")
    assert sql("select count(*)::int as n from public.$table") == [{"n": 0}]


async def test_another_communitys_admin_neither_sees_nor_writes_$module(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    ours = await client.post(PATH, json={"community_id": ACME, "name": "Ours"}, headers=auth(ACME_ADMIN))
    item = ours.json()
    outsider = auth(GLOBEX_ADMIN)
    assert_problem(await client.get(f"{PATH}/{item['id']}", headers=outsider), 404, "not_found")
    assert_problem(await client.get(PATH, params={"community_id": ACME}, headers=outsider), 404, "not_found")
    written = await client.post(PATH, json={"community_id": ACME, "name": "Theirs"}, headers=outsider)
    assert_problem(written, 404, "not_found")
    assert sql("select name from public.$table") == [{"name": "Ours"}]
'''

README_ROW = (
    "| `$function` | `GET /?community_id=` · `POST /` {community_id, name} · `GET /{id}` "
    "(scaffolded: say what it serves) | admin |"
)

ERRORS_MODULE = '''\
"""Errors of the $context context, each with its stable problem code."""

from __future__ import annotations

from shared.platform.errors import NotFoundError
'''

NOT_FOUND_ERROR = '''

class ${cls}NotFoundError(NotFoundError):
    title = "No such $words"
'''

POLICY_MODULE = '''\
"""Who may do what in the $context context, as plain functions of the principal.

Row level security draws the same boundaries in the database; these checks answer first, with a clear
status. Routes use them as guards (`allow=`) and the services call them again.
"""

from __future__ import annotations
'''

POLICY_RULES = {
    "require_any_community_reader": '''

def require_any_community_reader(principal: Principal) -> None:
    """Staff, or an admin of some community: who may call a route whose community is in the query or body."""
    if not principal.is_staff and not any(m.role == "admin" for m in principal.memberships):
        raise ForbiddenError("Only platform staff and community admins may do this.")
''',
    "require_any_community_writer": '''

def require_any_community_writer(principal: Principal) -> None:
    """Staff who may write, or an admin of some community: the writing counterpart of the above."""
    if principal.staff_role not in STAFF_WRITERS and not any(m.role == "admin" for m in principal.memberships):
        raise ForbiddenError("Only platform staff who may write and community admins may do this.")
''',
    "require_community_reader": '''

def require_community_reader(principal: Principal, community_id: UUID) -> None:
    """Any staff role or the community's admin reads it; a community the caller is not in is a 404."""
    role = principal.community_role(community_id)
    if principal.is_staff or role == "admin":
        return
    if role is None:
        raise NotFoundError("No such community.")
    raise ForbiddenError("Only platform staff and the community's admins see this.")
''',
    "require_community_writer": '''

def require_community_writer(principal: Principal, community_id: UUID) -> None:
    """Staff who may write or the community's admin change it; a community the caller is not in is a 404."""
    role = principal.community_role(community_id)
    if principal.staff_role in STAFF_WRITERS or role == "admin":
        return
    if role is None and not principal.is_staff:
        raise NotFoundError("No such community.")
    raise ForbiddenError("Only platform staff who may write and the community's admins change this.")
''',
    "require_item_reader": '''

def require_item_reader(principal: Principal, community_id: UUID, missing: type[NotFoundError]) -> None:
    """An item of a community its readers may see; to anyone else it is `missing`, as if absent."""
    if not principal.is_staff and principal.community_role(community_id) != "admin":
        raise missing()
''',
}
"""The rules the templates call, written into the context's policy module only where it lacks them."""

POLICY_IMPORTS = {
    "require_any_community_reader": (("shared.platform.auth", "Principal"), ("shared.platform.errors", "ForbiddenError")),
    "require_any_community_writer": (
        ("shared.platform.auth", "STAFF_WRITERS"),
        ("shared.platform.auth", "Principal"),
        ("shared.platform.errors", "ForbiddenError"),
    ),
    "require_community_reader": (
        ("uuid", "UUID"),
        ("shared.platform.auth", "Principal"),
        ("shared.platform.errors", "ForbiddenError"),
        ("shared.platform.errors", "NotFoundError"),
    ),
    "require_community_writer": (
        ("uuid", "UUID"),
        ("shared.platform.auth", "STAFF_WRITERS"),
        ("shared.platform.auth", "Principal"),
        ("shared.platform.errors", "ForbiddenError"),
        ("shared.platform.errors", "NotFoundError"),
    ),
    "require_item_reader": (
        ("uuid", "UUID"),
        ("shared.platform.auth", "Principal"),
        ("shared.platform.errors", "NotFoundError"),
    ),
}
"""What each rule of POLICY_RULES imports."""
ERRORS_IMPORTS = (("shared.platform.errors", "NotFoundError"),)
