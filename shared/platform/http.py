"""Declare a function and its typed routes; get the `functions_framework.aio` handler.

    fn = Function("me")

    @fn.patch("/", body=UpdateProfile)
    async def update_me(ctx: Context, body: UpdateProfile) -> MeView: ...

    handler = fn.handler

The handler does, in order: request id and CORS; route match (404, 405 with Allow; routing.py); body
size (413, before anything is parsed); authentication (401, no database needed); parsing and validation
(400, 415, 422; inputs.py); then one database round trip that counts the rate-limit hit, opens the
transaction as the caller and loads the principal; the route's guard (`allow=`, 403); then the route;
then COMMIT (pipeline.py). On a route with a guard, input errors are held until the guard has passed, so
only callers it admits learn of them. Any AppError becomes its RFC 9457 problem; anything else a 500
that names only the request id (responses.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypeVar

from shared.platform import cors, startup
from shared.platform import logging as log
from shared.platform.config import Settings, get_settings
from shared.platform.context import Context
from shared.platform.db import DbMetrics, Role, Statement, db_metrics
from shared.platform.errors import ConfigError
from shared.platform.guards import Guard
from shared.platform.observability import server_timing
from shared.platform.pipeline import serve
from shared.platform.responses import Reply, error_response, report_config_error
from shared.platform.routing import (
    Auth,
    Handler,
    Prefetch,
    Route,
    check_declaration,
    local_path,
    methods_at,
    resolve,
    transaction_for,
)
from shared.platform.schedules import Schedule
from shared.platform.webhooks_http import Webhook

__all__ = ["API_VERSION", "Context", "Function", "Reply"]

API_VERSION = "v1"
_API_VERSION = API_VERSION.encode()
DEFAULT_BODY_LIMIT = 256 * 1024
H = TypeVar("H", bound=Handler)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_STATIC_PATHS_KEPT = 256


class Function:
    """A deployable function: a name, its routes, and the handler that serves them."""

    def __init__(self, name: str, *, body_limit: int = DEFAULT_BODY_LIMIT, description: str = "") -> None:
        self.name = name
        self.body_limit = body_limit
        self.description = description
        self.routes: list[Route] = []
        self.schedules: list[Schedule] = []
        self._static: dict[tuple[str, str], Route] = {}
        self.handler = self._entry_point()
        """The function functions-framework calls (`--target handler`): a plain async function."""

    def schedule(self, name: str, cron: str, path: str, method: str = "POST") -> None:
        """Declare that `method path` of this function runs on `cron` (UTC) as a service caller."""
        self.schedules.append(Schedule(name, cron, self.name, path, method))

    def route(
        self,
        method: str,
        template: str,
        *,
        auth: Auth = "user",
        rate_limit: str | None = "general",
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        tx: Role | Literal["default"] | None = "default",
        status: int = 200,
        allow_inactive: bool = False,
        summary: str = "",
        idempotent: bool = False,
        webhook: Webhook | None = None,
        raw_types: tuple[str, ...] = (),
        allow: Guard | None = None,
        responses: Mapping[int, str] | None = None,
        caller_only: bool = False,
        read: Callable[..., Statement] | None = None,
        prefetch: Callable[..., Prefetch] | None = None,
    ) -> Callable[[H], H]:
        """Register `endpoint` for `method` and `template` (relative to the function, e.g. "/items/{id:uuid}")."""
        role = transaction_for(auth, rate_limit, tx)
        check_declaration(
            method, template, auth=auth, rate_limit=rate_limit, tx=role, webhook=webhook, allow=allow, read=read,
            prefetch=prefetch,
        )

        def register(endpoint: H) -> H:
            doc = (endpoint.__doc__ or "").strip().splitlines()
            self.routes.append(
                Route(
                    method.upper(),
                    template,
                    endpoint,
                    auth,
                    rate_limit,
                    body,
                    query,
                    role,
                    status,
                    allow_inactive,
                    summary or (doc[0] if doc else ""),
                    idempotent,
                    webhook,
                    tuple(t.lower() for t in raw_types),
                    allow,
                    dict(responses or {}),
                    caller_only=caller_only,
                    read=read,
                    prefetch=prefetch,
                )
            )
            self._static.clear()
            return endpoint

        return register

    def get(self, template: str, **options: Any) -> Callable[[H], H]:
        """Register a GET route."""
        return self.route("GET", template, **options)

    def post(self, template: str, **options: Any) -> Callable[[H], H]:
        """Register a POST route."""
        return self.route("POST", template, **options)

    def put(self, template: str, **options: Any) -> Callable[[H], H]:
        """Register a PUT route."""
        return self.route("PUT", template, **options)

    def patch(self, template: str, **options: Any) -> Callable[[H], H]:
        """Register a PATCH route."""
        return self.route("PATCH", template, **options)

    def delete(self, template: str, **options: Any) -> Callable[[H], H]:
        """Register a DELETE route."""
        return self.route("DELETE", template, **options)

    def _entry_point(self) -> Callable[[Request], Awaitable[Response]]:
        """A plain function forwarding to `handle`: functions-framework refuses bound methods as targets.

        Under functions-framework (already imported when it loads a function's main.py) the function is
        registered with `functions_framework.aio.http`, so it is served in ASGI mode even where the host
        starts the framework without `--asgi`. Elsewhere (tests, `serve`) the framework is not imported.
        """

        async def handler(request: Request) -> Response:
            return await self.handle(request)

        if startup.served():
            from functions_framework import aio

            _check_settings()
            # What is loaded by now (the framework, the platform, pydantic) lives as long as the instance:
            # moving it out of the collector's reach shortens every collection during the rest of start-up
            # (measured: health's cold start 237 → 216 ms).
            startup.released()
            starting = [True]

            # Named `handler` too: functions-framework finds an `aio.http` registration by the function's name.
            async def handler(request: Request) -> Response:
                if starting:
                    starting.clear()
                    # The first request loads what the instance keeps (the driver, its route's schemas).
                    with startup.loading():
                        return await self.handle(request)
                return await self.handle(request)

            return aio.http(handler)  # type: ignore[return-value]
        return handler

    async def handle(self, request: Request) -> Response:
        """Serve one request: route, authenticate, validate, run in a transaction, answer or explain."""
        started = log.monotonic_ms()
        scope = request.scope
        method: str = scope["method"]
        given_id, origin = _request_headers(scope["headers"])
        request_id = given_id if _REQUEST_ID.match(given_id) else os.urandom(16).hex()
        metrics = DbMetrics()
        db_token = db_metrics.set(metrics)
        log_token = log.request_context.set({"request_id": request_id, "function": self.name})
        settings: Settings | None = None
        ctx: Context | None = None
        try:
            settings = get_settings()
            if method == "OPTIONS":
                path = local_path(self.name, scope["path"])
                response = cors.preflight(request, settings, methods_at(self.routes, path))
            else:
                route, params = self._resolve(method, scope["path"])
                log.bind(route=route.label)
                ctx = Context(request, request_id, settings)
                response = await serve(route, params, ctx, self.body_limit)
        except Exception as exc:
            response = error_response(exc, request_id, settings)
        finally:
            db_metrics.reset(db_token)
        total_ms = log.monotonic_ms() - started
        _finish(response, method, origin, settings, ctx, request_id, metrics, total_ms)
        status = response.status_code
        severity = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        log.access(
            severity, method, scope["path"], status, round(total_ms, 2), metrics.round_trips, round(metrics.time_ms, 2)
        )
        log.request_context.reset(log_token)
        return response

    def _resolve(self, method: str, raw_path: str) -> tuple[Route, dict[str, Any]]:
        """The route and path parameters; a path without parameters is matched once and remembered."""
        route = self._static.get((method, raw_path))
        if route is not None:
            return route, {}
        route, params = resolve(self.routes, method, local_path(self.name, raw_path))
        if not params and len(self._static) < _STATIC_PATHS_KEPT:
            self._static[(method, raw_path)] = route
        return route, params


def _check_settings() -> None:
    """Read the settings at start-up, so a deployment's configuration errors are logged before any request."""
    try:
        get_settings()
    except ConfigError as exc:
        report_config_error(exc)  # each request answers 503 not_configured until it is fixed


def _request_headers(headers: Sequence[tuple[bytes, bytes]]) -> tuple[str, str | None]:
    """The request's x-request-id ("" when absent) and Origin, read in one pass (Starlette's first of each)."""
    request_id: str | None = None
    origin: str | None = None
    for name, value in headers:
        if name == b"x-request-id":
            if request_id is None:
                request_id = value.decode("latin-1")
        elif name == b"origin" and origin is None:
            origin = value.decode("latin-1")
    return request_id or "", origin


def _finish(
    response: Response,
    method: str,
    origin: str | None,
    settings: Settings | None,
    ctx: Context | None,
    request_id: str,
    metrics: DbMetrics,
    total_ms: float,
) -> None:
    raw = response.raw_headers
    if ctx is not None and ctx.response_headers:
        present = {name for name, _ in raw}
        for name, value in ctx.response_headers.items():  # a route's own header wins over the platform's
            key = name.lower().encode("latin-1")
            if key not in present:
                raw.append((key, value.encode("latin-1")))
    # Appended as raw pairs: no response carries these yet, and MutableHeaders scans the list per name.
    raw.append((b"x-request-id", request_id.encode("latin-1")))
    raw.append((b"api-version", _API_VERSION))
    raw.append((b"server-timing", server_timing(metrics.time_ms, metrics.round_trips, total_ms).encode()))
    if settings is not None and method != "OPTIONS":
        cors.add_headers(response, origin, settings)
