"""Postgres access: a small async pool per instance and transactions in which row level security applies.

Every transaction is opened the way PostgREST opens one: the verified JWT claims and the database role are
set *transaction-locally* (`set_config(..., true)`), never with a session-level SET, because Supabase's
transaction pooler hands the same server connection to other clients after COMMIT. For the same reason no
statement is prepared by default (`prepare_threshold=None`; `DB_PREPARE=1` where the connection allows it).

Plans are reused on the server instead: the opening work is two plpgsql functions (`app.rate_hit`,
`app.open_request`) whose plans each backend caches. The platform's own multi-statement round trips (the
opening, COMMIT with its queued statements) are one simple-protocol Query of client-side bound statements
(`Tx.batch`): one message, one reply to wait for, which costs the client half the CPU of the same
statements in a pipeline, and which the transaction pooler passes as it passes any single query.

psycopg is imported on first use, not at import time: functions that never touch the database (and the
cold start of those that do) do not pay for it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from shared.platform import logging as log
from shared.platform import startup
from shared.platform.config import get_settings
from shared.platform.errors import ConflictError, ForbiddenError, UnavailableError, ValidationFailedError

if TYPE_CHECKING:
    from psycopg import AsyncClientCursor, AsyncConnection
    from psycopg.abc import QueryNoTemplate as Query
    from psycopg.pq.abc import Escaping
    from psycopg_pool import AsyncConnectionPool

Role = Literal["authenticated", "service_role", "anon"]
Row = dict[str, Any]
Params = Sequence[Any] | Mapping[str, Any] | None
Statement = tuple["Query", Params]
"""A statement and its parameters: a constant, or one composed with `shared.platform.sql`."""

_OPEN_SQL = "select * from app.open_request(%s, %s, %s, %s)"
"""Set the claims, role and statement timeout transaction-locally; read the principal when a user is named."""
_BECOME_SQL = "select set_config('role', %s, true)"
_TUPLES_OK = 2
"""libpq's PGRES_TUPLES_OK: a result with rows (read without importing psycopg at import time)."""
PLATFORM_ROLE: Role = "service_role"
PRINCIPAL = "principal"
"""The name the principal's rows come back under, when `transaction(principal_of=…)` asked for them."""


@dataclass(slots=True)
class DbMetrics:
    """Round trips and time spent in the database for the current request."""

    round_trips: int = 0
    time_ms: float = 0.0


db_metrics: ContextVar[DbMetrics | None] = ContextVar("db_metrics", default=None)


def _account(started_ms: float) -> None:
    metrics = db_metrics.get()
    if metrics is not None:
        metrics.round_trips += 1
        metrics.time_ms += log.monotonic_ms() - started_ms


@dataclass(slots=True)
class _PoolHolder:
    pool: AsyncConnectionPool[Any] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    dsn: str = ""
    lock: asyncio.Lock | None = field(default=None)


_holder = _PoolHolder()


async def get_pool() -> AsyncConnectionPool[Any]:
    """The instance's pool, created on first use for the running event loop and the configured DSN."""
    settings = get_settings()
    loop = asyncio.get_running_loop()
    if _holder.pool is not None and _holder.loop is loop and _holder.dsn == settings.database_url:
        return _holder.pool
    with startup.loading():
        return await _new_pool(settings.database_url, loop)


async def _new_pool(dsn: str, loop: asyncio.AbstractEventLoop) -> AsyncConnectionPool[Any]:
    settings = get_settings()
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    old = _holder.pool if _holder.loop is loop else None
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        dsn,
        min_size=1,
        max_size=max(1, settings.db_pool_max),
        open=False,
        timeout=settings.db_connect_timeout_s,
        kwargs={
            "autocommit": True,  # transactions are opened explicitly, so they can share one Query
            "prepare_threshold": 5 if settings.db_prepare else None,
            "row_factory": dict_row,
            "connect_timeout": max(1, int(settings.db_connect_timeout_s)),
            "application_name": "aigym",
        },
    )
    await pool.open(wait=False)
    _holder.pool, _holder.loop, _holder.dsn = pool, loop, dsn
    if old is not None:
        await old.close()
    return pool


async def close_pool() -> None:
    """Close the instance's pool (shutdown, tests)."""
    pool, _holder.pool, _holder.loop = _holder.pool, None, None
    if pool is not None:
        await pool.close()


class Tx:
    """One open transaction: run SQL with bound parameters, rows come back as dicts.

    Besides the caller's own statements, a transaction carries the platform's bookkeeping for the
    change (its events, its audit entry, the stored idempotent response). No API role may do that
    bookkeeping itself: a user who could call `app.enqueue_event` or `app.write_audit` could name any
    event or write any community's audit log. So it runs as the platform role (`service_role`), still
    inside the caller's transaction (atomic with the change) and with the caller's claims still set (so
    `app.write_audit` takes the actor from `auth.uid()`): `as_platform` now, or `as_platform_at_commit`
    in the COMMIT round trip. Everything else a user's request runs stays under row level security: only
    fixed, reviewed statements go through these two (events, audit, idempotency, and the onboarding
    look-ups of accounts that no API role may make).
    """

    def __init__(self, conn: AsyncConnection[Any], role: Role) -> None:
        self.conn = conn
        self.role = role
        self.closed = False
        """Committed with its opening round trip (a caller-only route) or by the route itself
        (`commit_after_platform`): it may run no statement."""
        self.at_commit: list[Statement] = []
        """Platform statements that run as the platform role right before COMMIT, in its round trip."""

    async def fetch_all(self, sql: Query, params: Params = None) -> list[Row]:
        """All rows of a query."""
        self._check_open()
        started = log.monotonic_ms()
        cur = await self.conn.execute(sql, params)
        rows = await cur.fetchall()
        _account(started)
        return rows

    async def fetch_one(self, sql: Query, params: Params = None) -> Row | None:
        """The first row of a query, or None."""
        self._check_open()
        started = log.monotonic_ms()
        cur = await self.conn.execute(sql, params)
        row = await cur.fetchone()
        _account(started)
        return row

    async def fetch_val(self, sql: Query, params: Params = None) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetch_one(sql, params)
        return None if row is None else next(iter(row.values()))

    async def execute(self, sql: Query, params: Params = None) -> int:
        """Run a statement; return the number of rows it touched."""
        self._check_open()
        started = log.monotonic_ms()
        cur = await self.conn.execute(sql, params)
        _account(started)
        return cur.rowcount

    async def batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        """Run several statements as one simple-protocol Query (one round trip); each one's rows.

        The parameters are bound on the client (`bind`). A statement that fails makes the server skip
        the rest of the batch, as it would in a pipeline.
        """
        from psycopg import AsyncClientCursor
        from psycopg.pq import Escaping
        from psycopg.rows import tuple_row

        self._check_open()
        started = log.monotonic_ms()
        # Tuples, made dicts here only for results with rows: a dict row factory would be set up for
        # every result of the batch, BEGIN and COMMIT included.
        cur = AsyncClientCursor(self.conn, row_factory=tuple_row)
        escaping = Escaping(self.conn.pgconn)
        await cur.execute("; ".join(bind(cur, escaping, sql, params) for sql, params in statements))
        results: list[list[Row]] = []
        while True:
            result = cur.pgresult
            if result is not None and result.status == _TUPLES_OK:
                names = [(result.fname(i) or b"").decode() for i in range(result.nfields)]
                results.append([dict(zip(names, row, strict=True)) for row in await cur.fetchall()])
            else:
                results.append([])
            if not cur.nextset():
                break
        _account(started)
        return results

    def _check_open(self) -> None:
        if self.closed:
            # After its COMMIT the connection is the login role again: SQL there would escape RLS.
            raise RuntimeError("this transaction has committed: it may run no SQL")

    async def as_platform(self, sql: Query, params: Params = None) -> list[Row]:
        """Run one platform-owned statement as the platform role inside this transaction; its rows.

        One round trip: switch to the platform role, the statement, switch back to the caller's role.
        """
        return (await self.then_as_platform([], [(sql, params)]))[1][0]

    async def then_as_platform(
        self, caller: Sequence[Statement], platform: Sequence[Statement]
    ) -> tuple[list[list[Row]], list[list[Row]]]:
        """Run `caller` statements as the caller, then `platform` ones as the platform role, in one round
        trip; each one's rows. The platform statements run whatever the caller's found: a caller who may
        not see something must have its platform rows dropped by the code that asked for them."""
        results = await self.batch(caller_then_platform(self.role, caller, platform))
        return split_caller_then_platform(self.role, results, len(caller), len(platform))

    def as_platform_at_commit(self, sql: Query, params: Params = None) -> None:
        """Queue a platform-owned statement for the COMMIT round trip (as the platform role).

        It runs iff the transaction is about to commit, after everything else; if it fails, nothing
        commits. It costs no round trip of its own.
        """
        self.at_commit.append((sql, params))

    async def commit_after_platform(self, platform: Sequence[Statement]) -> list[list[Row]]:
        """Run `platform` statements as the platform role, the queued ones, and COMMIT, in one round trip;
        the rows of `platform`. Rolled back if one fails; the transaction is over afterwards (no more SQL).

        For a route whose last writes must leave with its COMMIT and whose answer needs their rows (a chat
        turn begun). A statement that should make the request fail must raise in SQL: once this returns,
        everything is committed.
        """
        self._check_open()
        queued, self.at_commit = self.at_commit, []
        statements = [*platform, *queued]
        become: list[Statement] = [] if self.role == PLATFORM_ROLE else [(_BECOME_SQL, (PLATFORM_ROLE,))]
        try:
            results = await self.batch([*become, *statements, ("commit", None)])
        except BaseException:
            await self.conn.execute("rollback")  # the failed statement left the transaction open and aborted
            self.closed = True
            raise
        self.closed = True
        return results[len(become) : len(become) + len(platform)]

    async def commit(self) -> None:
        """Run the queued platform statements and COMMIT in one round trip; roll back if one fails.

        Nothing to do when the route already committed (`commit_after_platform`).
        """
        if self.closed:
            return
        if not self.at_commit:
            started = log.monotonic_ms()
            await self.conn.execute("commit")
            _account(started)
            return
        queued, self.at_commit = self.at_commit, []
        # The role need not be switched back: COMMIT ends everything set transaction-locally.
        become: list[Statement] = [] if self.role == PLATFORM_ROLE else [(_BECOME_SQL, (PLATFORM_ROLE,))]
        try:
            await self.batch([*become, *queued, ("commit", None)])
        except BaseException:
            # A failed statement makes the server skip the rest of the batch, COMMIT included.
            await self.conn.execute("rollback")
            raise

    async def rollback(self) -> None:
        """Roll the transaction back; queued platform statements are dropped with it."""
        self.at_commit = []
        if self.closed:
            return  # committed (or rolled back) already by the route: nothing is open
        started = log.monotonic_ms()
        await self.conn.execute("rollback")
        _account(started)


def caller_then_platform(role: Role, caller: Sequence[Statement], platform: Sequence[Statement]) -> list[Statement]:
    """`caller` statements as `role`, then `platform` ones as the platform role, then `role` again."""
    if role == PLATFORM_ROLE or not platform:
        return [*caller, *platform]
    return [*caller, (_BECOME_SQL, (PLATFORM_ROLE,)), *platform, (_BECOME_SQL, (role,))]


def split_caller_then_platform(
    role: Role, results: Sequence[list[Row]], callers: int, platforms: int
) -> tuple[list[list[Row]], list[list[Row]]]:
    """The rows of `caller_then_platform`'s statements: the caller's, the platform's."""
    switched = 0 if role == PLATFORM_ROLE or not platforms else 1
    return list(results[:callers]), list(results[callers + switched : callers + switched + platforms])


def bind(cur: AsyncClientCursor[Any], escaping: Escaping, sql: Query, params: Params) -> str:
    """`sql` with `params` bound as literals, for a simple-protocol Query.

    The platform's hot statements (the opening's) take only None, bool, int, UUID and str, quoted here
    with libpq's own PQescapeLiteral for this connection; anything else goes through psycopg's mogrify,
    which costs ~40 µs a statement (a third of the client's work in `GET /me` before this).
    """
    if params is None and isinstance(sql, str):
        return sql
    if isinstance(sql, str) and isinstance(params, tuple):
        literals = [_literal(escaping, value) for value in params]
        if None not in literals:
            return sql % tuple(literals)
    return cur.mogrify(sql, params)


def _literal(escaping: Escaping, value: Any) -> str | None:
    """A SQL literal for a value of the few simple types, or None to leave it to mogrify."""
    kind = type(value)  # exact types only: a subclass (an enum, say) goes through mogrify
    if kind is str:
        return None if "\x00" in value else escaping.escape_literal(value.encode()).decode()
    if kind is UUID:
        return f"'{value}'"
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    return None


def claims_for(role: Role, claims: Mapping[str, Any] | None) -> str:
    """The JSON PostgREST would put in `request.jwt.claims` for this role."""
    return json.dumps({**(claims or {}), "role": role}, separators=(",", ":"), default=str)


class Opened:
    """The rows of the statements sent with a transaction's opening round trip, by the names they were given."""

    # A plain class: a dataclass costs ~0.7 ms of every cold start to create.
    __slots__ = ("rows",)

    def __init__(self, rows: Mapping[str, list[Row]]) -> None:
        self.rows = rows

    def first(self, name: str) -> Row | None:
        """The first row statement `name` returned, or None; a name that was not sent is a KeyError."""
        rows = self.rows[name]
        return rows[0] if rows else None


@asynccontextmanager
async def transaction(
    role: Role,
    claims: Mapping[str, Any] | None = None,
    *,
    before: Mapping[str, Statement] | None = None,
    within: Mapping[str, Statement] | None = None,
    principal_of: UUID | None = None,
    commit: bool = False,
    claims_fixed: bool = False,
) -> AsyncIterator[tuple[Tx, Opened]]:
    """Open a transaction as `role` with `claims`, committed on success and rolled back on error.

    `before` statements commit on their own ahead of the transaction (a rate-limit hit must count even
    when the request fails), `within` run first inside it. Both share the opening round trip with BEGIN
    and `app.open_request`, which sets the role up and, for `principal_of`, reads that user's principal
    (its row under PRINCIPAL); rows come back under the names they were given. With `commit`, COMMIT
    leaves in the same round trip: the transaction is over when the block starts, and its Tx refuses
    any statement (for routes that need nothing but the caller). `claims_fixed` says the claims object
    is never changed (a verified token's), so its opening statement may be bound once and remembered.
    """
    before, within = before or {}, within or {}
    twice = before.keys() & within.keys() | {PRINCIPAL} & (before.keys() | within.keys())
    if twice:
        raise ValueError(f"statement names used twice: {sorted(twice)}")
    # `before` commits in a transaction of its own, not a Sync of its own: the hosted transaction pooler
    # has dropped replies of batches with several Syncs (supabase/supavisor#1061); one Query is one Sync.
    # COMMIT AND CHAIN ends it and begins the request's own.
    head: list[Statement] = [("begin", None)]
    if before:
        head += [*before.values(), ("commit and chain", None)]
    tail: list[Statement] = [("commit", None)] if commit else []
    async with _connection() as conn:
        tx = Tx(conn, role)
        opening = (
            _bound_opening(conn, role, claims, principal_of)
            if claims_fixed
            else _opening(role, claims, principal_of)
        )
        results = await tx.batch([*head, opening, *within.values(), *tail])
        opened_at = len(head)
        named = dict(zip(before, results[1 : 1 + len(before)], strict=True))
        named.update(zip(within, results[opened_at + 1 : len(results) - len(tail)], strict=True))
        if principal_of is not None:
            named[PRINCIPAL] = results[opened_at]
        opened = Opened(named)
        if commit:
            tx.closed = True
            yield tx, opened
            return
        try:
            yield tx, opened
        except BaseException:
            await tx.rollback()
            raise
        await tx.commit()


def _opening(role: Role, claims: Mapping[str, Any] | None, principal_of: UUID | None) -> Statement:
    timeout = str(get_settings().db_statement_timeout_ms)
    return _OPEN_SQL, (claims_for(role, claims), role, timeout, principal_of)


_OPENINGS_KEPT = 1024
_openings: dict[tuple[int, Role, UUID | None], tuple[Mapping[str, Any] | None, str, str]] = {}
"""(id of the claims, role, user) → (those claims, the statement timeout, the opening with its values bound).

A browser sends the same token for an hour and its verified claims are the same object meanwhile
(auth.VerifiedTokenCache): the claims' JSON and its quoting are done once per token, not per request.
The entry holds the claims object, so its id cannot be reused by other claims while it is kept.
"""


def _bound_opening(
    conn: AsyncConnection[Any], role: Role, claims: Mapping[str, Any] | None, principal_of: UUID | None
) -> Statement:
    """`app.open_request(…)` as SQL text with its values bound, remembered per claims object."""
    from psycopg.pq import Escaping

    timeout = str(get_settings().db_statement_timeout_ms)
    key = (id(claims), role, principal_of)
    kept = _openings.get(key)
    if kept is not None and kept[0] is claims and kept[1] == timeout:
        return kept[2], None
    sql, params = _opening(role, claims, principal_of)
    escaping = Escaping(conn.pgconn)
    literals = [_literal(escaping, value) for value in params or ()]
    if None in literals:
        return sql, params  # a value only mogrify quotes (e.g. a NUL in the claims): bound per request
    text = str(sql) % tuple(literals)
    if len(_openings) >= _OPENINGS_KEPT:
        del _openings[next(iter(_openings))]
    _openings[key] = (claims, timeout, text)
    return text, None


@asynccontextmanager
async def as_user(claims: Mapping[str, Any]) -> AsyncIterator[Tx]:
    """A transaction as the signed-in user of `claims`: row level security applies to everything."""
    async with transaction("authenticated", claims) as (tx, _):
        yield tx


@asynccontextmanager
async def as_service() -> AsyncIterator[Tx]:
    """A transaction for trusted callers (schedules, the worker, webhooks, named admin operations)."""
    async with transaction("service_role") as (tx, _):
        yield tx


async def service_round_trip(statements: Sequence[Statement]) -> list[list[Row]]:
    """A whole service transaction (BEGIN, role set-up, `statements`, COMMIT) sent as one round trip.

    For the worker's many small, independent writes (one per provider outcome), where a transaction of
    three round trips would triple their cost. Each statement's rows; nothing commits if one fails.
    """
    async with _connection() as conn:
        batch = [("begin", None), _opening("service_role", None, None), *statements, ("commit", None)]
        try:
            results = await Tx(conn, "service_role").batch(batch)
        except Exception:
            await conn.execute("rollback")  # the failed statement left the transaction open and aborted
            raise
    return results[2:-1]


class RuleViolationError(ConflictError):
    """A rule the database enforces for every caller (e.g. the last admin stays), by its stable code."""


def _rule_error(exc: Exception) -> ConflictError:
    """Turn `raise exception '<code>: <detail>'` from a trigger into a 409 with that code."""
    message = str(getattr(getattr(exc, "diag", None), "message_primary", None) or exc)
    code, sep, detail = message.partition(": ")
    if not sep or not code.replace("_", "").isalnum():
        return ConflictError("A database rule refused the change.")
    error = RuleViolationError(detail[:1].upper() + detail[1:] + ".")
    error.code = code
    return error


async def as_login_role(sql: Query, params: Params = None) -> list[Row]:
    """Run one statement as the database login role, committed on its own; its rows.

    For the few tables no API role may touch (rate limits, idempotency keys) and for probes. Nothing
    else should use it: everything a caller does runs in `transaction()`, under row level security.
    """
    async with _connection() as conn:
        started = log.monotonic_ms()
        cur = await conn.execute(sql, params)
        rows = await cur.fetchall() if cur.description else []
        _account(started)
    return rows


async def probe() -> str | None:
    """Check the database answers; return the newest applied migration version (as the login role)."""
    rows = await as_login_role(
        "select case when to_regclass('supabase_migrations.schema_migrations') is null then null"
        " else (select max(version) from supabase_migrations.schema_migrations) end as version"
    )
    return rows[0]["version"] if rows else None


@asynccontextmanager
async def _connection() -> AsyncIterator[AsyncConnection[Any]]:
    """A pooled connection; failures to reach the database become a 503 problem."""
    pool = await get_pool()  # creating it connects nothing: failing to connect surfaces in `connection()`
    import psycopg
    from psycopg_pool import PoolTimeout

    try:
        async with pool.connection() as conn:
            try:
                yield conn
            except psycopg.errors.InsufficientPrivilege as exc:
                # Row level security or a missing grant refused the write: the caller may not do this.
                raise ForbiddenError("You are not allowed to do that.") from exc
            except psycopg.errors.QueryCanceled as exc:
                raise UnavailableError("The database took too long to answer.", retry_after_s=2) from exc
            except psycopg.errors.RaiseException as exc:
                raise _rule_error(exc) from exc
            except psycopg.errors.UniqueViolation as exc:
                raise ConflictError("That already exists.") from exc
            except psycopg.errors.ForeignKeyViolation as exc:
                raise ConflictError("That refers to something that does not exist (any more).") from exc
            except psycopg.errors.CheckViolation as exc:
                raise ValidationFailedError([], "A value is outside what is allowed.") from exc
    except PoolTimeout as exc:
        log.error("database unreachable", error=type(exc).__name__)
        raise UnavailableError("The database is unreachable.") from exc
    except psycopg.OperationalError as exc:
        log.error("database connection failed", error=type(exc).__name__)
        raise UnavailableError("The database is unreachable.") from exc
