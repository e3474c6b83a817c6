"""A test-only function with the route shapes the real functions do not have yet.

Bodies, queries, service auth, a route that blows up, a route that fails after touching the database,
and a route that logs. Served through `app`, a tiny ASGI adapter (as `LocalGateway` does), under
`/functions/v1/sample/...`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from shared.platform import logging as log
from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.http import Context, Function, Reply
from shared.platform.validation import Body, Query

BODY_LIMIT = 1024

fn = Function("sample", body_limit=BODY_LIMIT, description="Test-only routes.")


class EchoBody(Body):
    """A strict body: a name and a count."""

    name: str
    count: int = 1


class SearchQuery(Query):
    """A lenient query: strings converted to the declared types."""

    q: str
    limit: int = 10


@fn.post("/echo", auth="public", rate_limit=None, body=EchoBody)
async def echo(ctx: Context, body: EchoBody) -> Reply:
    """Return the parsed body (no database)."""
    return Reply(body.model_dump(), status=201)


@fn.get("/search", auth="public", rate_limit=None, query=SearchQuery)
async def search(ctx: Context, query: SearchQuery) -> dict[str, Any]:
    """Return the parsed query (no database)."""
    return query.model_dump()


@fn.get("/boom", auth="public", rate_limit=None)
async def boom(ctx: Context) -> None:
    """Fail with an unexpected exception whose text must never reach the caller."""
    raise RuntimeError("kaboom: internal detail 4242 from the storage layer")


@fn.get("/log", tx=None)
async def log_inside(ctx: Context) -> dict[str, str]:
    """Log one line while serving a signed-in caller (token verified, no database)."""
    log.info("inside the route", note="hello")
    return {"ok": "yes"}


@fn.post("/reject")
async def reject(ctx: Context) -> None:
    """Fail with a 422 after the request's transaction (and its rate-limit hit) has started."""
    await ctx.db.fetch_val("select 1")
    raise ValidationFailedError([FieldError("body.thing", "Refused by the service.", "value_error")])


@fn.get("/ping", auth="public")
async def ping(ctx: Context) -> dict[str, str]:
    """A public, rate-limited route (counted per client address)."""
    return {"pong": "yes"}


@fn.get("/service", auth="service", tx=None, rate_limit=None)
async def service_only(ctx: Context) -> dict[str, str]:
    """Only for holders of the project's secret key."""
    assert ctx.service is not None
    return {"caller": ctx.service.name}


@fn.get("/service/memberships", auth="service")
async def service_memberships(ctx: Context) -> dict[str, int]:
    """Count every membership, in a service-role transaction."""
    return {"count": int(await ctx.db.fetch_val("select count(*) from public.memberships"))}


handler = fn.handler

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI adapter: what functions-framework does around `handler`."""
    assert scope["type"] == "http"
    response = await handler(Request(scope, receive))
    await response(scope, receive, send)
