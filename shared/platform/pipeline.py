"""The request pipeline of a matched route: credentials, inputs, the opening round trip, the route, COMMIT.

The opening round trip sends, by name: the rate-limit hit, the activity mark and the idempotency-key
claim (committed on their own ahead of the transaction), then BEGIN, `app.open_request` (the caller's
role and claims, and the principal) and the webhook event's record. Their rows are read back by those
names. A route that needs nothing but the caller (`caller_only`) has its COMMIT in that round trip too.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from shared.platform import activity, idempotency
from shared.platform import logging as log
from shared.platform.auth import (
    VerifiedToken,
    bearer_token,
    principal_from_row,
    verify_jwt,
    verify_service_key,
)
from shared.platform.context import Context, client_ip
from shared.platform.db import (
    PRINCIPAL,
    Opened,
    Statement,
    as_login_role,
    caller_then_platform,
    split_caller_then_platform,
    transaction,
)
from shared.platform.errors import AccountDeactivatedError, AppError, UnauthenticatedError
from shared.platform.inputs import needs_body, read_body, route_inputs
from shared.platform.ratelimit import decide, hit_statement, refuse
from shared.platform.responses import Reply, render
from shared.platform.routing import Route

# The names of the opening round trip's statements.
RATE_LIMIT = "rate_limit"
ACTIVITY = "activity"
IDEMPOTENCY = "idempotency"
WEBHOOK_SEEN = "webhook_seen"
READ = "read"
PREFETCH = "prefetch"

_WEBHOOK_SEEN_SQL = (
    "insert into app.webhook_events (provider, event_id) values (%s, %s) on conflict do nothing returning 1"
)


class Opening:
    """What a request sends with its BEGIN, by name, and what reading the rows back needs."""

    # A plain class: a dataclass costs ~0.5 ms of every cold start to create.
    __slots__ = ("before", "claim", "limit", "within")

    def __init__(self) -> None:
        self.before: dict[str, Statement] = {}
        self.within: dict[str, Statement] = {}
        self.limit: tuple[int, int] | None = None
        """The route's rate limit (requests, window seconds) when a hit is counted."""
        self.claim: idempotency.Claim | None = None


async def serve(route: Route, params: dict[str, Any], ctx: Context, body_limit: int) -> Response:
    """Authenticate, parse, open the transaction and run the route."""
    raw = await read_body(ctx.request, body_limit) if needs_body(route) else b""
    token = await _authenticate(route, ctx)
    held: AppError | None = None  # an input error told only once the guard has admitted the caller
    try:
        kwargs = route_inputs(route, params, ctx.request, raw, ctx.settings)
    except AppError as exc:
        if route.allow is None:
            raise
        held, kwargs = exc, {}
    if route.tx is None:
        return _render(route, await route.endpoint(ctx, **kwargs), ctx)

    opening = _opening(route, ctx, token, raw, kwargs, may_claim=held is None)
    if route.read is not None and held is None:
        # Sent before the guard has admitted the caller: it runs as the caller, under row level
        # security, so it returns only what they may see, and the rows are dropped if the guard refuses.
        opening.within[READ] = route.read(**kwargs)
    prefetch = route.prefetch(**kwargs) if route.prefetch is not None and held is None else None
    if prefetch is not None:
        # Reads the route needs before its writes, in the opening's round trip (the caller's under row
        # level security; the platform's dropped by the route when the caller's do not vouch for them).
        statements = caller_then_platform(route.tx, *prefetch)
        opening.within.update((f"{PREFETCH}{i}", statement) for i, statement in enumerate(statements))
    claims = token.claims if token is not None else None
    # A route that needs only the caller, or the caller and its one query, commits with its opening,
    # unless the request has more to settle at COMMIT (an idempotency key's stored response).
    early = (route.caller_only or READ in opening.within) and opening.claim is None
    early = early and WEBHOOK_SEEN not in opening.within
    begin = transaction(
        route.tx,
        claims,
        before=opening.before,
        within=opening.within,
        principal_of=token.user_id if token is not None else None,
        commit=early,
        claims_fixed=True,  # a verified token's claims, or none
    )
    owned: idempotency.Claim | None = None  # a key this request claimed and has not yet settled
    try:
        async with begin as (tx, opened):
            claim_row = opened.first(IDEMPOTENCY) if opening.claim is not None else None
            if claim_row is not None and claim_row["claimed"]:
                owned = opening.claim
            _count_hit(route, ctx, opening, opened)
            if opening.claim is not None and claim_row is not None:
                replay = idempotency.outcome(opening.claim, claim_row)
                if replay is not None:
                    return Response(replay.body, status_code=replay.status, headers=replay.headers)
            if token is not None:
                _admit(route, ctx, token, opened, params)
            if held is not None:
                raise held
            if WEBHOOK_SEEN in opening.within and opened.first(WEBHOOK_SEEN) is None:
                return _render(route, Reply({"status": "duplicate"}), ctx)
            ctx.tx = tx
            if READ in opening.within:
                ctx.read_rows = opened.rows[READ]
            if prefetch is not None:
                rows = [opened.rows[f"{PREFETCH}{i}"] for i in range(len(statements))]
                ctx.prefetched = split_caller_then_platform(route.tx, rows, len(prefetch[0]), len(prefetch[1]))
            response = _render(route, await route.endpoint(ctx, **kwargs), ctx)
            if owned is not None:
                stored = bytes(response.body) if ctx.replay_body is None else ctx.replay_body
                # Headers a route set through ctx (Location, ETag) are replayed too.
                replayed = {**ctx.response_headers, **response.headers}
                finish = idempotency.finish_params(owned, response.status_code, stored, replayed)
                tx.as_platform_at_commit(idempotency.FINISH_SQL, finish)
        owned = None  # committed, together with the stored response
        return response
    finally:
        if owned is not None:
            # The request failed after claiming its key: free the key so the client may retry.
            # Only a key this request claimed: one held by a concurrent request is not ours to free.
            await _release_claim(owned)


async def _authenticate(route: Route, ctx: Context) -> VerifiedToken | None:
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


def _opening(
    route: Route,
    ctx: Context,
    token: VerifiedToken | None,
    raw: bytes,
    kwargs: dict[str, Any],
    *,
    may_claim: bool,
) -> Opening:
    """The named statements this request sends with its BEGIN."""
    opening = Opening()
    limit = ctx.settings.rate_limits.get(route.rate_limit or "")
    if route.rate_limit and limit:
        opening.limit = limit
        opening.before[RATE_LIMIT] = hit_statement(_rate_key(ctx, token), route.rate_limit, limit[1])
    touch = activity.touch_statement(token.user_id) if token is not None else None
    if touch is not None:
        opening.before[ACTIVITY] = touch
    if route.idempotent and may_claim:
        # The query is part of what is replayed: an upload names its community there, not in its body.
        url = ctx.request.url
        target = f"{url.path}?{url.query}" if url.query else url.path
        claim = idempotency.claim_for(ctx.request.headers, _rate_key(ctx, token), route.method, target, raw)
        if claim is not None:
            opening.claim = claim
            opening.before[IDEMPOTENCY] = idempotency.claim_statement(claim)
    if route.webhook is not None and route.webhook.dedupe:
        opening.within[WEBHOOK_SEEN] = (_WEBHOOK_SEEN_SQL, (route.webhook.provider, kwargs["event_id"]))
    return opening


def _count_hit(route: Route, ctx: Context, opening: Opening, opened: Opened) -> None:
    """Tell the caller its rate-limit state; refuse the request when it is over the limit."""
    if opening.limit is None or route.rate_limit is None:
        return
    decision = decide(opened.rows[RATE_LIMIT][0], opening.limit[0], opening.limit[1], route.rate_limit)
    ctx.response_headers.update(decision.headers())
    if not decision.is_allowed:
        raise refuse(decision)


def _admit(route: Route, ctx: Context, token: VerifiedToken, opened: Opened, params: dict[str, Any]) -> None:
    """Load the principal; refuse a deactivated account and a caller the route's guard is closed to."""
    ctx.principal = principal_from_row(token, opened.rows[PRINCIPAL][0])
    if not ctx.principal.is_active and not route.allow_inactive:
        raise AccountDeactivatedError("This account is deactivated.")
    if route.allow is not None:
        route.allow(ctx.principal, params)


def _render(route: Route, result: Any, ctx: Context) -> Response:
    return render(result, status=route.status, method=ctx.request.method)


async def _release_claim(claim: idempotency.Claim) -> None:
    try:
        # No API role may touch app.idempotency_keys: the login role claimed the key, and frees it.
        await as_login_role(idempotency.RELEASE_SQL, (claim.owner, claim.key))
    except AppError:
        log.warning("could not release idempotency key; it frees itself when its lock lapses")


def _rate_key(ctx: Context, token: VerifiedToken | None) -> str:
    if token is not None:
        return f"user:{token.user_id}"
    if ctx.service is not None:
        return "service"
    return f"ip:{client_ip(ctx.request, ctx.settings.trusted_proxy_hops)}"
