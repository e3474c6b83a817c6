"""CORS from an allow-list of origins; preflights are answered without touching the database."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from shared.platform.config import Settings

ALLOWED_HEADERS = "authorization, apikey, content-type, x-client-info, x-request-id, idempotency-key, if-match, if-none-match"
EXPOSED_HEADERS = (
    "x-request-id, api-version, etag, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset,"
    " ratelimit-policy, server-timing, location"
)
PREFLIGHT_MAX_AGE_S = "600"


def allowed_origin(origin: str | None, settings: Settings) -> str | None:
    """The value for Access-Control-Allow-Origin, or None when this origin is not allowed."""
    if not origin:
        return None
    if origin in settings.cors_origins:
        return origin
    if "*" in settings.cors_origins:
        return "*"
    return None


def _cors_headers(origin: str) -> dict[str, str]:
    headers = {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": EXPOSED_HEADERS}
    if origin != "*":
        # Credentials only ever go with a named origin: the wildcard plus credentials would let any
        # site read a signed-in user's data.
        headers["Access-Control-Allow-Credentials"] = "true"
    return headers


def preflight(request: Request, settings: Settings, methods: list[str]) -> Response:
    """Answer an OPTIONS request: 204 with CORS headers for an allowed origin, a bare 204 otherwise."""
    allow = ", ".join([*methods, "OPTIONS"]) if methods else "OPTIONS"
    response = Response(status_code=204, headers={"Allow": allow, "Vary": "Origin"})
    origin = allowed_origin(request.headers.get("origin"), settings)
    if origin is not None and methods and request.headers.get("access-control-request-method"):
        response.headers.update(_cors_headers(origin))
        response.headers["Access-Control-Allow-Methods"] = allow
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE_S
    return response


def decorate(response: Response, request: Request, settings: Settings) -> None:
    """Add CORS headers to an actual (non-preflight) response when its origin is allowed."""
    if request.scope["method"] != "OPTIONS":
        add_headers(response, request.headers.get("origin"), settings)


def add_headers(response: Response, origin: str | None, settings: Settings) -> None:
    """Vary on Origin, and the CORS headers when the request's `origin` is allowed (not for preflights)."""
    for name, _ in response.raw_headers:
        if name == b"vary":
            vary = response.headers["vary"]
            if "origin" not in vary.lower():
                response.headers["Vary"] = f"{vary}, Origin"
            break
    else:
        response.raw_headers.append((b"vary", b"Origin"))
    allowed = allowed_origin(origin, settings)
    if allowed is not None:
        response.headers.update(_cors_headers(allowed))
