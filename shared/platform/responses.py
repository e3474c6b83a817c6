"""Responses: what a route returned rendered as JSON, and every error rendered as an RFC 9457 problem."""

from __future__ import annotations

import json
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic

from pydantic import BaseModel
from starlette.responses import Response
from typing_extensions import TypeVar

from shared.platform import logging as log
from shared.platform.config import Settings
from shared.platform.errors import (
    AppError,
    ConfigError,
    NotConfiguredError,
    Problem,
    internal_problem,
    problem_from,
)
from shared.platform.observability import capture_exception

B = TypeVar("B", default=Any)


@dataclass(frozen=True)
class Reply(Generic[B]):
    """A route's answer when it is not a plain 200 with a model: status, body and headers.

    A route returning `Reply[SomeView]` has its body documented as that model in the contract.
    """

    body: B | None = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    media_type: str = "application/json"


def problem_reply(error: AppError, request_id: str) -> Reply[Any]:
    """Answer `error` as its problem while the route's transaction still commits.

    For a refusal that is itself an outcome to keep (a rejected upload is recorded, then refused): raising
    the error would roll the record back with everything else.
    """
    return Reply(
        problem_from(error, request_id).to_dict(),
        status=error.status,
        headers=error.headers,
        media_type="application/problem+json",
    )


def render(result: Any, *, status: int, method: str) -> Response:
    """Turn what a route returned into a response (`status` unless a Reply says otherwise)."""
    if isinstance(result, Response):
        return result
    headers: dict[str, str] = {}
    media_type = "application/json"
    if isinstance(result, Reply):
        status, headers, media_type, result = (
            result.status,
            dict(result.headers),
            result.media_type,
            result.body,
        )
    if result is None:
        return Response(status_code=204 if status == 200 else status, headers=headers)
    if isinstance(result, BaseModel):
        content = result.model_dump_json().encode()
    else:
        content = json.dumps(result, default=str, separators=(",", ":")).encode()
    if method == "HEAD":
        headers["Content-Length"] = str(len(content))
        content = b""
    media = _MEDIA_TYPES.get(media_type)
    if media is None or headers or not content or status < 200 or status in (204, 304):
        return Response(content, status_code=status, media_type=media_type, headers=headers)
    return JsonBody(content, status, media_type, media)


class JsonBody(Response):
    """A JSON body and no headers of the route's: the two Starlette would add, built directly.

    Starlette's `init_headers` serves any headers and media type; this is the shape of most answers.
    """

    def __init__(self, content: bytes, status_code: int, media_type: str, media: bytes) -> None:
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        self.body = content
        self.raw_headers = [(b"content-length", str(len(content)).encode()), (b"content-type", media)]


_MEDIA_TYPES = {t: t.encode() for t in ("application/json", "application/problem+json")}


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> Response:
    """An `application/problem+json` response for `problem`."""
    body = json.dumps(problem.to_dict(), default=str, separators=(",", ":")).encode()
    return Response(
        body, status_code=problem.status, media_type="application/problem+json", headers=dict(headers or {})
    )


def error_response(exc: Exception, request_id: str, settings: Settings | None) -> Response:
    """The problem for any error a request ended with; an unexpected one is logged and names only the id."""
    if isinstance(exc, AppError):
        return problem_response(problem_from(exc, request_id), exc.headers)
    if isinstance(exc, ConfigError):
        return not_configured_response(exc, request_id)
    log.error("unhandled error", error=type(exc).__name__, traceback=traceback.format_exc(limit=20))
    capture_exception(exc, settings)
    return problem_response(internal_problem(request_id))


_reported_config_errors: set[str] = set()


def report_config_error(exc: ConfigError) -> None:
    """Log a configuration error once per instance and message, naming the setting but never its value."""
    message = str(exc)
    if message not in _reported_config_errors:
        _reported_config_errors.add(message)
        log.error("configuration error: this route cannot work until it is fixed", error=message)


def not_configured_response(exc: ConfigError, request_id: str) -> Response:
    """A 503 `not_configured` for a missing or malformed setting, logged once per instance and message.

    The message names the setting (never its value) and goes to the log only: the caller learns that the
    deployment is incomplete, not how it is configured. Every request would otherwise log the same line.
    """
    report_config_error(exc)
    error = NotConfiguredError("This service is not configured on the server yet.", retry_after_s=60)
    return problem_response(problem_from(error, request_id), error.headers)
