"""The machinery of the tenancy matrix; the spec itself is tests/integration/test_tenancy_matrix.py.

A `Table` says, for one relation, which rows each kind of caller sees and what becomes of each write.
`run_matrix` tries every statement as every caller through `shared.platform.db.transaction` (the set-up
the functions use), each attempt inside a savepoint that is rolled back, and returns where the database
and the spec disagree. Outcomes are compared in three layers: `denied` (no privilege), `refused` (a
policy, key or trigger said no) and what happened (`allowed`, or exactly which rows were seen or touched).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from shared.platform.db import Statement, Tx, transaction
from tests.factories import ACME, GLOBEX
from tests.helpers import Sql

Outcome = str | frozenset[str]
DENIED_OUTCOME = "denied"
REFUSED = "refused"
ALLOWED = "allowed"


@dataclass(frozen=True)
class Caller:
    """Who runs the statements, and what the seed makes of them."""

    name: str
    user_id: str | None = None  # None: anon, the API's role without a token
    staff: str | None = None
    member_of: frozenset[str] = frozenset()
    administers: frozenset[str] = frozenset()

    @property
    def role(self) -> str:
        return "anon" if self.user_id is None else "authenticated"


@dataclass(frozen=True)
class Row:
    """A row as the owner sees it: its key, the communities it belongs to, the user it is about."""

    key: str
    communities: frozenset[str] = frozenset()
    user_id: str | None = None


@dataclass(frozen=True)
class Rule:
    """Which callers a row is open to; rules combine with `|`."""

    name: str
    test: Callable[[Caller, Row], bool] = field(compare=False)

    def __call__(self, caller: Caller, row: Row) -> bool:
        return self.test(caller, row)

    def __or__(self, other: Rule) -> Rule:
        return Rule(f"{self.name} | {other.name}", lambda c, r: self(c, r) or other(c, r))


DENIED = Rule("denied: no API role holds the privilege", lambda c, r: False)
OWN = Rule("the caller's own rows", lambda c, r: c.user_id is not None and r.user_id == c.user_id)
STAFF = Rule("every row, for staff", lambda c, r: c.staff is not None)
STAFF_WRITERS = Rule(
    "every row, for super admins and managers", lambda c, r: c.staff in ("super_admin", "manager")
)
SUPER_ADMIN = Rule("every row, for super admins", lambda c, r: c.staff == "super_admin")
MEMBERS = Rule(
    "rows of the communities the caller belongs to", lambda c, r: bool(r.communities & c.member_of)
)
ADMINS = Rule(
    "rows of the communities the caller administers", lambda c, r: bool(r.communities & c.administers)
)


@dataclass(frozen=True)
class Target:
    """Where a new row goes: its community, and the community of the parent row it names."""

    community: str | None = None
    parent: str | None = None

    @property
    def crosses_tenants(self) -> bool:
        return self.parent is not None and self.parent != self.community


IN_NO_COMMUNITY = (Target(),)
IN_EACH_COMMUNITY = (Target(ACME), Target(GLOBEX))
IN_EACH_COMMUNITY_AND_ACROSS = (
    Target(ACME, ACME),
    Target(GLOBEX, GLOBEX),
    Target(ACME, GLOBEX),
    Target(GLOBEX, ACME),
)


@dataclass(frozen=True)
class Insert:
    """A valid new row per target; a row naming another community's parent is always refused.

    `row` is SQL (with the target community as its one parameter, when it goes into one) or a builder.
    """

    row: str | Callable[[Target], Statement]
    allowed: Rule
    into: tuple[Target, ...] = IN_EACH_COMMUNITY
    make_room: Callable[[Target], Statement] | None = None  # run as the owner first (a one-per-community row)


@dataclass(frozen=True)
class Update:
    """`update <table> set <set> [where <where>]`: the rows it reaches; refused unless `accepted` holds."""

    set: str
    rows: Rule
    where: str | None = None
    accepted: Rule | None = None  # a trigger's rule: reaching a row the caller may not change refuses it all
    label: str = "update"


@dataclass(frozen=True)
class Delete:
    """`delete from <table> [where <where>]`: the rows it removes."""

    rows: Rule
    where: str | None = None


@dataclass(frozen=True)
class Table:
    """The tenancy spec of one relation."""

    name: str
    key: str  # SQL naming a row (uuids in it are shown by name)
    read: Rule
    insert: Insert
    update: Update | tuple[Update, ...]
    delete: Delete
    tenant: str = "'{}'::uuid[]"  # SQL: the communities a row belongs to
    user: str = "null::uuid"  # SQL: the user a row is about

    @property
    def updates(self) -> tuple[Update, ...]:
        return self.update if isinstance(self.update, tuple) else (self.update,)


@dataclass(frozen=True)
class Mismatch:
    """One attempt whose outcome differs from the spec."""

    table: str
    caller: str
    attempt: str
    expected: str
    actual: str
    detail: str = field(default="", compare=False)

    def __str__(self) -> str:
        extra = f" [{self.detail}]" if self.detail else ""
        return f"{self.table} · {self.caller} · {self.attempt}: expected {self.expected}, got {self.actual}{extra}"


REACHABLE_RELATIONS_SQL = """
select format('%I.%I', n.nspname, c.relname) as name
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p', 'v', 'm', 'f')
   and n.nspname not in ('pg_catalog', 'information_schema')
   and (has_schema_privilege('anon', n.oid, 'USAGE') or has_schema_privilege('authenticated', n.oid, 'USAGE'))
 order by 1
"""


def unlisted_relations(owner: Sql, tables: Sequence[Table]) -> list[Mismatch]:
    """Relations an API role can reach that the matrix does not list, and listed ones that do not exist."""
    reachable = {row["name"] for row in owner(REACHABLE_RELATIONS_SQL)}
    listed = {table.name for table in tables}
    return [
        Mismatch(name, "-", "reachable by an API role", "listed in the matrix", "not listed")
        for name in sorted(reachable - listed)
    ] + [
        Mismatch(name, "-", "listed in the matrix", "a reachable relation", "no such relation")
        for name in sorted(listed - reachable)
    ]


@dataclass
class _State:
    """What the owner sees of a table before any attempt: its rows and each row's version."""

    rows: list[Row]
    versions: dict[str, str]
    where: dict[str, frozenset[str]]


def _snapshot_sql(table: Table) -> str:
    return f"select ({table.key})::text as key, ctid::text || md5(t::text) as version from {table.name} t"  # noqa: S608


def _state(owner: Sql, table: Table) -> _State:
    rows = [
        Row(r["key"], frozenset(r["tenant"] or ()), r["user_id"])
        for r in owner(
            f"select ({table.key})::text as key, ({table.tenant})::text[] as tenant,"  # noqa: S608
            f" ({table.user})::text as user_id from {table.name} t"
        )
    ]
    versions = {r["key"]: r["version"] for r in owner(_snapshot_sql(table))}
    filters = {u.where for u in table.updates} | {table.delete.where}
    where = {
        w: frozenset(
            r["key"]
            for r in owner(f"select ({table.key})::text as key from {table.name} t where {w}")  # noqa: S608
        )
        for w in filters
        if w is not None
    }
    return _State(rows, versions, where)


async def run_matrix(
    owner: Sql, tables: Sequence[Table], callers: Sequence[Caller], names: Mapping[str, str]
) -> list[Mismatch]:
    """Try every statement of every table as every caller; the attempts whose outcome the spec did not expect."""
    states = {table.name: _state(owner, table) for table in tables}
    mismatches: list[Mismatch] = []
    for caller in callers:
        async with _caller_transaction(caller) as tx:
            for table in tables:
                mismatches += await _try_table(tx, caller, table, states[table.name], names)
            role = await tx.fetch_val("select current_user")
            if role != caller.role:  # every attempt must have been rolled back, role changes included
                mismatches.append(Mismatch("-", caller.name, "role after attempts", caller.role, role))
    return mismatches


@asynccontextmanager
async def _caller_transaction(caller: Caller) -> AsyncIterator[Tx]:
    if caller.user_id is None:
        async with transaction("anon") as (tx, _):
            yield tx
    else:
        async with transaction("authenticated", {"sub": caller.user_id, "role": "authenticated"}) as (tx, _):
            yield tx


async def _try_table(
    tx: Tx, caller: Caller, table: Table, state: _State, names: Mapping[str, str]
) -> list[Mismatch]:
    results: list[tuple[str, Outcome, Outcome, str]] = []
    keys = f"select ({table.key})::text as key from {table.name} t"  # noqa: S608
    seen = await _attempt(tx, caller, (keys, None), rows=True)
    results.append(("select", _expect_rows(caller, table.read, state.rows), *seen))
    for target in table.insert.into:
        statement = _new_row(table.insert, target)
        room = table.insert.make_room(target) if table.insert.make_room else None
        expected = _expect_insert(caller, table.insert, target)
        results.append(
            (f"insert {_label(target, names)}", expected, *await _attempt(tx, caller, statement, room=room))
        )
    for update in table.updates:
        where = f" where {update.where}" if update.where else ""
        candidates = [r for r in state.rows if update.where is None or r.key in state.where[update.where]]
        expected = _expect_change(caller, update.rows, candidates, update.accepted)
        sql = f"update {table.name} t set {update.set}{where}"  # noqa: S608
        results.append(
            (update.label, expected, *await _attempt(tx, caller, (sql, None), touched=(table, state)))
        )
    delete = table.delete
    where = f" where {delete.where}" if delete.where else ""
    candidates = [r for r in state.rows if delete.where is None or r.key in state.where[delete.where]]
    expected = _expect_change(caller, delete.rows, candidates, None)
    sql = f"delete from {table.name} t{where}"  # noqa: S608
    results.append(("delete", expected, *await _attempt(tx, caller, (sql, None), touched=(table, state))))
    # Truncate skips row level security altogether: no API role may ever hold it.
    results.append(
        ("truncate", DENIED_OUTCOME, *await _attempt(tx, caller, (f"truncate {table.name}", None)))
    )
    return [
        Mismatch(table.name, caller.name, attempt, _show(expected, names), _show(actual, names), detail)
        for attempt, expected, actual, detail in results
        if expected != actual
    ]


async def _attempt(
    tx: Tx,
    caller: Caller,
    statement: Statement,
    *,
    room: Statement | None = None,
    rows: bool = False,
    touched: tuple[Table, _State] | None = None,
) -> tuple[Outcome, str]:
    """Run one statement as the caller inside a savepoint that is always rolled back; its outcome."""
    await tx.execute("savepoint attempt")
    try:
        if room is not None:
            await tx.execute("set local role none")  # back to the login role, for this savepoint only
            await tx.execute(*room)
            await tx.execute("select set_config('role', %s, true)", (caller.role,))
        try:
            cur = await tx.conn.execute(*statement)
        except psycopg.Error as exc:
            return _refusal(exc), f"{exc.sqlstate}: {exc.diag.message_primary}"
        if touched is not None:
            table, state = touched
            await tx.execute("set local role none")
            after = {r["key"]: r["version"] for r in await tx.fetch_all(_snapshot_sql(table))}
            return frozenset(k for k, v in state.versions.items() if after.get(k) != v), ""
        if rows:
            return frozenset(r["key"] for r in await cur.fetchall()), ""
        return ALLOWED, ""
    finally:
        await tx.execute("rollback to savepoint attempt")


def _new_row(insert: Insert, target: Target) -> Statement:
    if not isinstance(insert.row, str):
        return insert.row(target)
    return (insert.row, None if target.community is None else (target.community,))


def _refusal(exc: psycopg.Error) -> str:
    message = exc.diag.message_primary or ""
    return DENIED_OUTCOME if exc.sqlstate == "42501" and message.startswith("permission denied") else REFUSED


def _expect_rows(caller: Caller, rule: Rule, rows: Sequence[Row]) -> Outcome:
    if rule is DENIED or caller.user_id is None:  # anon holds no privilege on any table
        return DENIED_OUTCOME
    return frozenset(r.key for r in rows if rule(caller, r))


def _expect_insert(caller: Caller, insert: Insert, target: Target) -> Outcome:
    if insert.allowed is DENIED or caller.user_id is None:
        return DENIED_OUTCOME
    if target.crosses_tenants:
        return REFUSED
    new = Row("(new)", frozenset({target.community}) if target.community else frozenset())
    return ALLOWED if insert.allowed(caller, new) else REFUSED


def _expect_change(caller: Caller, rule: Rule, candidates: Sequence[Row], accepted: Rule | None) -> Outcome:
    reached = _expect_rows(caller, rule, candidates)
    if accepted is None or not isinstance(reached, frozenset):
        return reached
    return REFUSED if any(not accepted(caller, r) for r in candidates if r.key in reached) else reached


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _label(target: Target, names: Mapping[str, str]) -> str:
    if target.community is None:
        return "a new row"
    where = f"into {names.get(target.community, target.community)}"
    if target.parent is None:
        return where
    return f"{where} naming {names.get(target.parent, target.parent)}'s parent row"


def _show(outcome: Outcome, names: Mapping[str, str]) -> str:
    if isinstance(outcome, str):
        return outcome
    shown = sorted(_UUID.sub(lambda m: names.get(m.group(0), m.group(0)), key) for key in outcome)
    return "rows {" + ", ".join(shown) + "}" if shown else "no rows"


def policy_mutations(owner: Sql) -> list[tuple[str, str]]:
    """(relation, DDL) loosening each row level security policy of the database in turn to `true`."""
    clause = {"r": "using (true)", "d": "using (true)", "a": "with check (true)"}
    rows = owner(
        "select format('%I.%I', n.nspname, c.relname) as relation, format('%I', p.polname) as policy,"
        " p.polcmd::text as cmd"
        " from pg_catalog.pg_policy p join pg_catalog.pg_class c on c.oid = p.polrelid"
        " join pg_catalog.pg_namespace n on n.oid = c.relnamespace order by 1, 2"
    )
    return [
        (
            r["relation"],
            f"alter policy {r['policy']} on {r['relation']} "
            + clause.get(r["cmd"], "using (true) with check (true)"),
        )
        for r in rows
    ]


def grant_mutations(relations: Sequence[str]) -> list[tuple[str, str]]:
    """(relation, DDL) widening the grants on each relation, to both API roles and to the signed-in one."""
    return [
        (relation, f"grant all on {relation} to {roles}")
        for relation in relations
        for roles in ("anon, authenticated", "authenticated")
    ]


def statement(sql: str, *params: Any) -> Statement:
    """A statement with positional parameters, for row builders."""
    return (sql, params)
