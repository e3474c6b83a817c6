"""Routes: a method and a path template (`/items/{item_id:uuid}`), matched with Starlette's path compiler.

Templates use Starlette's syntax and convertors (`str`, the default, `int`, `uuid`, `float`, `path`). A
function answers its routes with or without the `/functions/v1/<name>` prefix.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from re import Pattern
from typing import Any, Literal

from pydantic import BaseModel
from starlette.convertors import Convertor
from starlette.routing import compile_path

from shared.platform.config import DEFAULT_RATE_LIMITS
from shared.platform.db import Role, Row, Statement
from shared.platform.errors import MethodNotAllowedError, NotFoundError
from shared.platform.guards import Guard
from shared.platform.webhooks_http import Webhook

Prefetch = tuple[Sequence[Statement], Sequence[Statement]]
"""A route's prefetched reads: statements run as the caller, then statements run as the platform role.

The platform's rows come back whatever the caller's found: the route must drop those the caller's own
reads do not vouch for (as with `Tx.then_as_platform`)."""
Prefetched = tuple[list[list[Row]], list[list[Row]]]
"""The rows of a route's Prefetch (`ctx.prefetched`): each caller statement's, each platform statement's."""

PREFIX = "/functions/v1"
Auth = Literal["public", "user", "service", "webhook"]
Handler = Callable[..., Awaitable[Any]]

DEFAULT_TX: Mapping[Auth, Role | None] = {
    "user": "authenticated",
    "service": "service_role",
    "public": None,
    "webhook": "service_role",
}
"""The transaction a route opens unless it says otherwise: as the caller, or as the platform."""


@dataclass(slots=True)
class Route:
    """One method and path template of a function, and how it is served."""

    method: str
    template: str
    endpoint: Handler
    auth: Auth
    rate_limit: str | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    tx: Role | None
    status: int
    allow_inactive: bool
    summary: str
    idempotent: bool = False
    webhook: Webhook | None = None
    raw_types: tuple[str, ...] = ()
    """Media types (besides JSON) whose body the route receives unparsed, as `raw: bytes`."""
    allow: Guard | None = None
    """Whom the route is open to, checked before the caller learns anything of its input's errors."""
    responses: Mapping[int, str] = field(default_factory=dict)
    """Statuses the route answers besides those the platform documents for every route of its kind."""
    caller_only: bool = False
    """The route needs nothing from the database but the caller: COMMIT leaves with the opening round trip."""
    read: Callable[..., Statement] | None = None
    """The route's one query, built from its inputs: it and COMMIT leave with the opening (`ctx.rows`)."""
    prefetch: Callable[..., Prefetch] | None = None
    """Reads built from the route's inputs that leave with the opening, the transaction staying open
    for the route's writes (`ctx.prefetched`)."""
    label: str = field(init=False)
    """`GET /items/{item_id:uuid}`, as the log names the route."""
    pattern: Pattern[str] = field(init=False)
    path_format: str = field(init=False)
    """The template without convertors (`/items/{item_id}`), as OpenAPI writes paths."""
    convertors: dict[str, Convertor[Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.label = f"{self.method} {self.template}"
        self.pattern, self.path_format, self.convertors = compile_path(self.template)

    def match(self, path: str) -> dict[str, Any] | None:
        """The converted path parameters when `path` fits this template."""
        found = self.pattern.match(path)
        if found is None:
            return None
        try:
            return {name: self.convertors[name].convert(value) for name, value in found.groupdict().items()}
        except ValueError:
            return None  # e.g. an integer of more digits than Python converts: no such item


def check_declaration(
    method: str,
    template: str,
    *,
    auth: Auth,
    rate_limit: str | None,
    tx: Role | None,
    webhook: Webhook | None,
    allow: Guard | None,
    read: Callable[..., Statement] | None = None,
    prefetch: Callable[..., Prefetch] | None = None,
) -> None:
    """Refuse a route that cannot work when it is declared (at import), not when a request comes."""
    where = f"{method} {template}"
    if read is not None and (method not in ("GET", "HEAD") or tx is None):
        raise ValueError(f"{where}: read= is for GET routes with a transaction (it commits before the route runs)")
    if prefetch is not None and (tx is None or read is not None):
        raise ValueError(f"{where}: prefetch= needs a transaction, and no read= beside it")
    if (auth == "webhook") != (webhook is not None):
        raise ValueError(f"{where}: webhook routes need auth='webhook' and a Webhook verifier, and only they")
    if rate_limit is not None and rate_limit not in DEFAULT_RATE_LIMITS:
        raise ValueError(f"{where}: unknown rate limit class {rate_limit!r}")  # it would limit nothing
    if allow is not None:
        if auth != "user" or tx is None:
            raise ValueError(f"{where}: allow= guards signed-in users' routes that load the principal")
        missing = set(allow.params) - set(compile_path(template)[2])
        if missing:
            raise ValueError(f"{where}: the guard reads missing parameters {missing}")


def transaction_for(auth: Auth, rate_limit: str | None, tx: Role | Literal["default"] | None) -> Role | None:
    """The role a route's transaction runs as: the caller's by default, `anon` to count a public hit."""
    chosen = DEFAULT_TX[auth] if tx == "default" else tx
    if auth == "public" and rate_limit and chosen is None:
        return "anon"  # counting an anonymous hit needs the database anyway
    return chosen


def local_path(function: str, path: str) -> str:
    """The path relative to a function, whether it arrived as /functions/v1/<name>/…, /<name>/… or /…."""
    if path.startswith(PREFIX + "/"):
        path = path[len(PREFIX) :]
    own = "/" + function
    if path == own or path.startswith(own + "/"):
        path = path[len(own) :]
    return path.rstrip("/") or "/"


def resolve(routes: Sequence[Route], method: str, path: str) -> tuple[Route, dict[str, Any]]:
    """The route for this method and path: 404 when no template fits, 405 (with Allow) when the method does not."""
    allowed: list[str] = []
    for route in routes:
        params = route.match(path)
        if params is None:
            continue
        if route.method == method or (method == "HEAD" and route.method == "GET"):
            return route, params
        allowed.append(route.method)
    if allowed:
        raise MethodNotAllowedError(
            f"{method} is not allowed here.", headers={"Allow": ", ".join(sorted({*allowed, "OPTIONS"}))}
        )
    raise NotFoundError("No such route.")


def methods_at(routes: Sequence[Route], path: str) -> list[str]:
    """Every method some route serves at this path."""
    return sorted({r.method for r in routes if r.match(path) is not None})
