"""Declare a function and its typed routes; get the `functions_framework.aio` handler.

    fn = Function("me")

    @fn.patch("/", body=UpdateProfile)
    async def update_me(ctx: Context, body: UpdateProfile) -> MeView: ...

    handler = fn.handler

The handler does, in order: request id and CORS; route match (404, 405 with Allow); body size (413,
before anything is parsed); authentication (401, no database needed); parsing and validation (400, 415,
422); then one database round trip that counts the rate-limit hit, opens the transaction as the caller
and loads the principal; the route's guard (`allow=`, 403); then the route; then COMMIT. On a route with
a guard, input errors are held until the guard has passed, so only callers it admits learn of them. Any AppError becomes its RFC 9457 problem; anything
else a 500 that names only the request id.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypeVar

from shared.platform import activity, cors, idempotency
from shared.platform import logging as log
from shared.platform.auth import (
    PRINCIPAL_SQL,
    Principal,
    ServiceCaller,
    VerifiedToken,
    bearer_token,
    principal_from_row,
    verify_jwt,
    verify_service_key,
)
from shared.platform.config import DEFAULT_RATE_LIMITS, Settings, get_settings
from shared.platform.db import DbMetrics, Role, Statement, Tx, as_login_role, db_metrics, transaction
from shared.platform.errors import (
    AccountDeactivatedError,
    AppError,
    BadRequestError,
    ConfigError,
    FieldError,
    MethodNotAllowedError,
    NotConfiguredError,
    NotFoundError,
    PayloadTooLargeError,
    Problem,
    UnauthenticatedError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
    internal_problem,
    problem_from,
)
from shared.platform.guards import Guard
from shared.platform.observability import capture_exception, server_timing
from shared.platform.ratelimit import decide, hit_statement, refuse
from shared.platform.schedules import Schedule
from shared.platform.validation import parse_body, parse_query, refuse_nul
from shared.platform.webhooks_http import Webhook

API_VERSION = "v1"
PREFIX = "/functions/v1"
DEFAULT_BODY_LIMIT = 256 * 1024
Auth = Literal["public", "user", "service", "webhook"]
Handler = Callable[..., Awaitable[Any]]
H = TypeVar("H", bound=Handler)
B = TypeVar("B", default=Any)

_WEBHOOK_SEEN_SQL = (
    "insert into app.webhook_events (provider, event_id) values (%s, %s) on conflict do nothing returning 1"
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)(?::(uuid|str|int))?\}")
_CONVERTERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "str": (r"[^/]+", str),
    "int": (r"[0-9]{1,18}", int),
    "uuid": (r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}", uuid.UUID),
}


@dataclass(slots=True)
class Context:
    """What a route receives besides its parsed inputs: the request, the caller and the transaction."""

    request: Request
    request_id: str
    settings: Settings
    principal: Principal | None = None
    service: ServiceCaller | None = None
    tx: Tx | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    replay_body: bytes | None = None
    """What an idempotent replay sends instead of this response's body (e.g. without a secret shown once)."""

    @property
    def user(self) -> Principal:
        """The signed-in caller (routes with auth="user" always have one)."""
        if self.principal is None:
            raise UnauthenticatedError()
        return self.principal

    @property
    def db(self) -> Tx:
        """The request's transaction (routes that declare one always have it)."""
        if self.tx is None:
            raise RuntimeError("this route has no database transaction")
        return self.tx


@dataclass(frozen=True, slots=True)
class Reply(Generic[B]):
    """A route's answer when it is not a plain 200 with a model: status, body and headers.

    A route returning `Reply[SomeView]` has its body documented as that model in the contract.
    """

    body: B | None = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


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
    pattern: re.Pattern[str] = field(init=False)
    converters: dict[str, Callable[[str], Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.converters = {}
        regex, last = "", 0
        for match in _PARAM.finditer(self.template):
            name, kind = match.group(1), match.group(2) or "str"
            regex += re.escape(self.template[last : match.start()]) + f"(?P<{name}>{_CONVERTERS[kind][0]})"
            self.converters[name] = _CONVERTERS[kind][1]
            last = match.end()
        regex += re.escape(self.template[last:])
        self.pattern = re.compile(f"^{regex}$")

    def match(self, path: str) -> dict[str, Any] | None:
        """The converted path parameters when `path` fits this template."""
        found = self.pattern.match(path)
        if found is None:
            return None
        return {name: self.converters[name](value) for name, value in found.groupdict().items()}


class Function:
    """A deployable function: a name, its routes, and the handler that serves them."""

    def __init__(self, name: str, *, body_limit: int = DEFAULT_BODY_LIMIT, description: str = "") -> None:
        self.name = name
        self.body_limit = body_limit
        self.description = description
        self.routes: list[Route] = []
        self.schedules: list[Schedule] = []
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
    ) -> Callable[[H], H]:
        """Register `endpoint` for `method` and `template` (relative to the function, e.g. "/items/{id:uuid}")."""
        default_tx: dict[Auth, Role | None] = {
            "user": "authenticated",
            "service": "service_role",
            "public": None,
            "webhook": "service_role",
        }
        if (auth == "webhook") != (webhook is not None):
            raise ValueError("webhook routes need auth='webhook' and a Webhook verifier, and only they")
        if rate_limit is not None and rate_limit not in DEFAULT_RATE_LIMITS:
            raise ValueError(f"unknown rate limit class {rate_limit!r}")  # it would silently limit nothing
        chosen_tx: Role | None = default_tx[auth] if tx == "default" else tx
        if auth == "public" and rate_limit and chosen_tx is None:
            chosen_tx = "anon"  # counting an anonymous hit needs the database anyway
        if allow is not None:
            if auth != "user" or chosen_tx is None:
                raise ValueError("allow= guards signed-in users' routes that load the principal")
            missing = set(allow.params) - {m.group(1) for m in _PARAM.finditer(template)}
            if missing:
                raise ValueError(f"the guard of {method} {template} reads missing parameters {missing}")

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
                    chosen_tx,
                    status,
                    allow_inactive,
                    summary or (doc[0] if doc else ""),
                    idempotent,
                    webhook,
                    tuple(t.lower() for t in raw_types),
                    allow,
                    dict(responses or {}),
                )
            )
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

    def local_path(self, path: str) -> str:
        """The path relative to this function, whether it arrived as /functions/v1/<name>/…, /<name>/… or /…."""
        if path.startswith(PREFIX + "/"):
            path = path[len(PREFIX) :]
        own = "/" + self.name
        if path == own or path.startswith(own + "/"):
            path = path[len(own) :]
        path = path.rstrip("/")
        return path or "/"

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, Any]]:
        """The route for this method and path: 404 when no template fits, 405 when the method does not."""
        allowed: list[str] = []
        for route in self.routes:
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

    def methods_for(self, path: str) -> list[str]:
        """Every method some route serves at this path."""
        return sorted({r.method for r in self.routes if r.match(path) is not None})

    def _entry_point(self) -> Callable[[Request], Awaitable[Response]]:
        """A plain function forwarding to `handle`: functions-framework refuses bound methods as targets.

        Under functions-framework (already imported when it loads a function's main.py) the function is
        registered with `functions_framework.aio.http`, so it is served in ASGI mode even where the host
        starts the framework without `--asgi`. Elsewhere (tests, `serve`) the framework is not imported.
        """

        async def handler(request: Request) -> Response:
            return await self.handle(request)

        if "functions_framework" in sys.modules:
            import gc

            from functions_framework import aio

            # What is loaded by now (the framework, the platform, pydantic) lives as long as the instance:
            # moving it out of the collector's reach shortens every collection during the rest of start-up
            # (measured: health's cold start 237 → 216 ms).
            gc.freeze()
            return aio.http(handler)  # type: ignore[return-value]
        return handler

    async def handle(self, request: Request) -> Response:
        """Serve one request: route, authenticate, validate, run in a transaction, answer or explain."""
        started = log.monotonic_ms()
        request_id = _request_id(request)
        metrics = DbMetrics()
        db_token = db_metrics.set(metrics)
        log_token = log.request_context.set({"request_id": request_id, "function": self.name})
        settings: Settings | None = None
        route: Route | None = None
        ctx: Context | None = None
        try:
            settings = get_settings()
            path = self.local_path(request.url.path)
            if request.method == "OPTIONS":
                response = cors.preflight(request, settings, self.methods_for(path))
            else:
                route, params = self.resolve(request.method, path)
                log.bind(route=f"{route.method} {route.template}")
                ctx = Context(request, request_id, settings)
                response = await self._serve(route, params, ctx)
        except AppError as exc:
            response = _problem_response(problem_from(exc, request_id), exc.headers)
        except ConfigError as exc:
            response = not_configured_response(exc, request_id)
        except Exception as exc:
            log.error("unhandled error", error=type(exc).__name__, traceback=traceback.format_exc(limit=20))
            capture_exception(exc, settings)
            response = _problem_response(internal_problem(request_id))
        finally:
            db_metrics.reset(db_token)
        total_ms = log.monotonic_ms() - started
        self._finish(response, request, settings, ctx, request_id, metrics, total_ms)
        _log_access(request, response, metrics, total_ms)
        log.request_context.reset(log_token)
        return response

    async def _serve(self, route: Route, params: dict[str, Any], ctx: Context) -> Response:
        """Authenticate, parse, open the transaction and run the route."""
        needs_raw = bool(route.body or route.idempotent or route.webhook or route.raw_types)
        raw = await _read_body(ctx.request, self.body_limit) if needs_raw else b""
        token = await self._authenticate(route, ctx, raw)
        held: AppError | None = None  # an input error told only once the guard has admitted the caller
        try:
            kwargs = self._inputs(route, params, ctx, raw)
        except AppError as exc:
            if route.allow is None:
                raise
            held, kwargs = exc, {}
        if route.tx is None:
            return _render(route, await route.endpoint(ctx, **kwargs), ctx)

        before: list[Statement] = []
        limit = ctx.settings.rate_limits.get(route.rate_limit or "", None)
        if route.rate_limit and limit:
            before.append(hit_statement(_rate_key(ctx, token), route.rate_limit, limit[1]))
        touch = activity.touch_statement(token.user_id) if token is not None else None
        if touch is not None:
            before.append(touch)
        claim = None
        if route.idempotent and held is None:
            # The query is part of what is replayed: an upload names its community there, not in its body.
            url = ctx.request.url
            target = f"{url.path}?{url.query}" if url.query else url.path
            claim = idempotency.claim_for(
                ctx.request.headers, _rate_key(ctx, token), route.method, target, raw
            )
            if claim is not None:
                before.append(idempotency.claim_statement(claim))  # last of `before`: read below as such
        within: list[Statement] = []
        if token is not None:
            within.append((PRINCIPAL_SQL, (token.user_id,)))
        if route.webhook is not None and route.webhook.dedupe:
            within.append((_WEBHOOK_SEEN_SQL, (route.webhook.provider, kwargs["event_id"])))
        claims = token.claims if token is not None else None
        owned: idempotency.Claim | None = None  # a key this request claimed and has not yet settled
        try:
            async with transaction(route.tx, claims, before=before, within=within) as (tx, results):
                claim_row = results[len(before) - 1][0] if claim is not None else None
                if claim_row is not None and claim_row["claimed"]:
                    owned = claim
                if route.rate_limit and limit:
                    decision = decide(results[0][0], limit[0], limit[1], route.rate_limit)
                    ctx.response_headers.update(decision.headers())
                    if not decision.is_allowed:
                        raise refuse(decision)
                if claim is not None and claim_row is not None:
                    replay = idempotency.outcome(claim, claim_row)
                    if replay is not None:
                        return Response(replay.body, status_code=replay.status, headers=replay.headers)
                if token is not None:
                    ctx.principal = principal_from_row(token, results[len(before)][0])
                    if not ctx.principal.is_active and not route.allow_inactive:
                        raise AccountDeactivatedError("This account is deactivated.")
                    if route.allow is not None:
                        route.allow(ctx.principal, params)
                if held is not None:
                    raise held
                if route.webhook is not None and route.webhook.dedupe and not results[-1]:
                    return _render(route, Reply({"status": "duplicate"}), ctx)
                ctx.tx = tx
                response = _render(route, await route.endpoint(ctx, **kwargs), ctx)
                if owned is not None:
                    stored = bytes(response.body) if ctx.replay_body is None else ctx.replay_body
                    # Headers a route set through ctx (Location, ETag) are replayed too.
                    replayed = {**ctx.response_headers, **response.headers}
                    params_ = idempotency.finish_params(owned, response.status_code, stored, replayed)
                    tx.as_platform_at_commit(idempotency.FINISH_SQL, params_)
            owned = None  # committed, together with the stored response
            return response
        finally:
            if owned is not None:
                # The request failed after claiming its key: free the key so the client may retry.
                # Only a key this request claimed: one held by a concurrent request is not ours to free.
                await _release_claim(owned)

    async def _authenticate(self, route: Route, ctx: Context, raw: bytes) -> VerifiedToken | None:
        """Check the caller's credentials for this route (no database needed); the user's token if any."""
        if route.auth == "user":
            presented = bearer_token(ctx.request.headers)
            if presented is None:
                raise UnauthenticatedError("A bearer token is required.")
            token = await verify_jwt(presented, ctx.settings)
            log.bind(user_id=str(token.user_id))
            return token
        if route.auth == "service":
            ctx.service = verify_service_key(ctx.request.headers, ctx.settings)
        return None

    def _inputs(self, route: Route, params: dict[str, Any], ctx: Context, raw: bytes) -> dict[str, Any]:
        """The route's keyword arguments: path parameters, parsed body and query, a verified webhook."""
        kwargs = dict(params)
        # Postgres stores no NUL, and no header or path segment needs one (bodies: parse_body).
        refuse_nul({k: v for k, v in params.items() if isinstance(v, str)}, "path")
        refuse_nul(ctx.request.headers, "header")
        if route.webhook is not None:
            # Verified before anything of the body is parsed.
            kwargs["event_id"] = route.webhook.verify(raw, ctx.request.headers, ctx.settings)
            try:
                kwargs["payload"] = json.loads(raw or b"null")
            except ValueError:
                raise BadRequestError("The request body is not valid JSON.") from None
        if route.raw_types:
            # These media types reach the route unparsed (within the body limit); JSON goes to its model.
            is_raw = _media_type(ctx.request) in route.raw_types
            kwargs["raw"] = raw if is_raw else None
            if not is_raw:
                _require_json(ctx.request, route.raw_types)
            if route.body is not None:
                kwargs["body"] = None if is_raw else parse_body(route.body, raw)
        elif route.body is not None:
            _require_json(ctx.request)
            kwargs["body"] = parse_body(route.body, raw)
        if route.query is not None:
            kwargs["query"] = parse_query(route.query, dict(ctx.request.query_params))
        elif ctx.request.query_params:
            raise ValidationFailedError(
                [
                    FieldError(f"query.{k}", "Unknown query parameter.", "extra_forbidden")
                    for k in ctx.request.query_params
                ]
            )
        if "community_id" in params:
            log.bind(community_id=str(params["community_id"]))
        return kwargs

    def _finish(
        self,
        response: Response,
        request: Request,
        settings: Settings | None,
        ctx: Context | None,
        request_id: str,
        metrics: DbMetrics,
        total_ms: float,
    ) -> None:
        headers = response.headers
        if ctx is not None:
            for name, value in ctx.response_headers.items():
                headers.setdefault(name, value)
        headers["X-Request-Id"] = request_id
        headers["API-Version"] = API_VERSION
        headers["Server-Timing"] = server_timing(metrics.time_ms, metrics.round_trips, total_ms)
        if settings is not None:
            cors.decorate(response, request, settings)


_reported_config_errors: set[str] = set()


def not_configured_response(exc: ConfigError, request_id: str) -> Response:
    """A 503 `not_configured` for a missing or malformed setting, logged once per instance and message.

    The message names the setting (never its value) and goes to the log only: the caller learns that the
    deployment is incomplete, not how it is configured. Every request would otherwise log the same line.
    """
    message = str(exc)
    if message not in _reported_config_errors:
        _reported_config_errors.add(message)
        log.error("configuration error: this route cannot work until it is fixed", error=message)
    error = NotConfiguredError("This service is not configured on the server yet.", retry_after_s=60)
    return _problem_response(problem_from(error, request_id), error.headers)


async def _release_claim(claim: idempotency.Claim) -> None:
    try:
        # No API role may touch app.idempotency_keys: the login role claimed the key, and frees it.
        await as_login_role(idempotency.RELEASE_SQL, (claim.owner, claim.key))
    except AppError:
        log.warning("could not release idempotency key; it frees itself when its lock lapses")


def _request_id(request: Request) -> str:
    """The caller's x-request-id when it is sane, a fresh one otherwise."""
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed `limit` (before any parsing)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"The body may be at most {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"The body may be at most {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "application/json").split(";")[0].strip().lower()


def _require_json(request: Request, alternatives: tuple[str, ...] = ()) -> None:
    content_type = _media_type(request)
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaTypeError(
            f"Send the body as {' or '.join(('application/json', *alternatives))}."
        )


def _rate_key(ctx: Context, token: Any) -> str:
    if token is not None:
        return f"user:{token.user_id}"
    if ctx.service is not None:
        return "service"
    return f"ip:{client_ip(ctx.request, ctx.settings.trusted_proxy_hops)}"


def client_ip(request: Request, trusted_proxy_hops: int = 0) -> str:
    """The caller's address: the socket peer, or the entry the last trusted proxy appended to XFF."""
    if trusted_proxy_hops > 0:
        hops = [
            part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()
        ]
        if len(hops) >= trusted_proxy_hops:
            return hops[-trusted_proxy_hops]
    return request.client.host if request.client else "unknown"


def _render(route: Route, result: Any, ctx: Context) -> Response:
    """Turn what a route returned into a response."""
    if isinstance(result, Response):
        return result
    status, headers = route.status, {}
    if isinstance(result, Reply):
        status, headers, result = result.status, dict(result.headers), result.body
    if result is None:
        return Response(status_code=204 if status == 200 else status, headers=headers)
    if isinstance(result, BaseModel):
        content = result.model_dump_json().encode()
    else:
        content = json.dumps(result, default=str, separators=(",", ":")).encode()
    if ctx.request.method == "HEAD":
        headers["Content-Length"] = str(len(content))
        content = b""
    return Response(content, status_code=status, media_type="application/json", headers=headers)


def _problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(problem.to_dict(), default=str, separators=(",", ":")).encode()
    return Response(
        body, status_code=problem.status, media_type="application/problem+json", headers=dict(headers or {})
    )


def _log_access(request: Request, response: Response, metrics: DbMetrics, total_ms: float) -> None:
    severity = (
        "ERROR" if response.status_code >= 500 else "WARNING" if response.status_code >= 400 else "INFO"
    )
    log.log(
        severity,
        "request",
        method=request.method,
        path=request.url.path,
        status=response.status_code,
        duration_ms=round(total_ms, 2),
        db_round_trips=metrics.round_trips,
        db_ms=round(metrics.time_ms, 2),
    )
