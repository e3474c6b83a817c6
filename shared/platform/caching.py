"""Conditional reads: an ETag from a stable value, `If-None-Match` answered with 304, and Cache-Control.

    etag = caching.strong_etag(item.id, item.revision)
    return caching.conditional(ctx.request, view, etag, caching.PRIVATE_REVALIDATE)

Tags are strong: a representation derives from the value the tag is made of (a row's id and revision)
and nothing else, so equal tags mean byte-equal bodies, and `If-Match` may compare them as RFC 9110
requires. A proxy that compresses a body may weaken the tag (`W/"…"`); `If-None-Match` compares weakly
(as RFC 9110 says), and `if_match_holds` accepts the weakened form too, since the tag still names exactly
one revision. Content read through the functions depends on who asks (row level security decides what
exists for the caller), so no shared cache may store it: see docs/decisions.md ("Caching").
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from shared.platform.responses import Reply

PRIVATE_REVALIDATE = "private, no-cache"
"""A caller's own copy, kept by their browser and revalidated (a cheap 304) before every use."""
NO_STORE = "private, no-store"
"""Not kept anywhere: work in progress, or anything a stale copy of would mislead."""
NOT_MODIFIED = {304: "Not modified: the copy whose ETag was sent in If-None-Match is current"}
"""The extra answer a conditional read documents in the contract."""
VARY = "Authorization"
"""What the body depends on besides the URL: a cache honouring Vary never shares it across callers."""


def strong_etag(*parts: object) -> str:
    """A strong ETag for the representation derived from `parts` (e.g. a row's id and revision)."""
    stable = "\x1f".join(str(part) for part in parts).encode()
    return '"' + hashlib.sha256(stable).hexdigest()[:32] + '"'


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def _tags(header: str) -> set[str]:
    return {_opaque(tag) for tag in header.split(",") if tag.strip()}


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names the current representation (weak comparison, `*` matches any)."""
    if if_none_match is None:
        return False
    wanted = _tags(if_none_match)
    return "*" in wanted or _opaque(etag) in wanted


def if_match_holds(if_match: str, etag: str) -> bool:
    """Whether an `If-Match` header names the current revision (`*` does not: it names none)."""
    return _opaque(etag) in _tags(if_match)


def headers(etag: str, cache_control: str) -> dict[str, str]:
    """The validator and caching headers of a representation."""
    return {"ETag": etag, "Cache-Control": cache_control, "Vary": VARY}


def conditional(request: Request, body: Any, etag: str, cache_control: str) -> Reply[Any] | Response:
    """`body` with its ETag and Cache-Control, or a bodiless 304 when the caller's copy is current."""
    sent = headers(etag, cache_control)
    if request.method in ("GET", "HEAD") and none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=sent)
    return Reply(body, headers=sent)
