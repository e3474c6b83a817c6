"""A route's inputs: the raw body within the function's limit, then path, body, query and webhook parsed."""

from __future__ import annotations

import json
from itertools import chain
from typing import Any

from starlette.requests import Request

from shared.platform import logging as log
from shared.platform.config import Settings
from shared.platform.errors import (
    BadRequestError,
    FieldError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)
from shared.platform.routing import Route
from shared.platform.validation import parse_body, parse_query, refuse_nul


def needs_body(route: Route) -> bool:
    """Whether the route reads the raw body (to parse it, verify it or fingerprint it)."""
    return bool(route.body or route.idempotent or route.webhook or route.raw_types)


async def read_body(request: Request, limit: int) -> bytes:
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


def route_inputs(
    route: Route, params: dict[str, Any], request: Request, raw: bytes, settings: Settings
) -> dict[str, Any]:
    """The route's keyword arguments: path parameters, parsed body and query, a verified webhook."""
    kwargs = dict(params)
    # Postgres stores no NUL, and no header or path segment needs one (bodies: parse_body).
    if params:
        refuse_nul({k: v for k, v in params.items() if isinstance(v, str)}, "path")
    if b"\x00" in b"".join(chain.from_iterable(request.scope["headers"])):
        refuse_nul(request.headers, "header")
    if route.webhook is not None:
        # Verified before anything of the body is parsed.
        kwargs["event_id"] = route.webhook.verify(raw, request.headers, settings)
        try:
            kwargs["payload"] = json.loads(raw or b"null")
        except ValueError:
            raise BadRequestError("The request body is not valid JSON.") from None
    if route.raw_types:
        # These media types reach the route unparsed (within the body limit); JSON goes to its model.
        is_raw = _media_type(request) in route.raw_types
        kwargs["raw"] = raw if is_raw else None
        if not is_raw:
            _require_json(request, route.raw_types)
        if route.body is not None:
            kwargs["body"] = None if is_raw else parse_body(route.body, raw)
    elif route.body is not None:
        _require_json(request)
        kwargs["body"] = parse_body(route.body, raw)
    if route.query is not None:
        kwargs["query"] = parse_query(route.query, dict(request.query_params))
    elif request.scope.get("query_string") and request.query_params:
        raise ValidationFailedError(
            [
                FieldError(f"query.{k}", "Unknown query parameter.", "extra_forbidden")
                for k in request.query_params
            ]
        )
    if "community_id" in params:
        log.bind(community_id=str(params["community_id"]))
    return kwargs


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "application/json").split(";")[0].strip().lower()


def _require_json(request: Request, alternatives: tuple[str, ...] = ()) -> None:
    content_type = _media_type(request)
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaTypeError(
            f"Send the body as {' or '.join(('application/json', *alternatives))}."
        )
