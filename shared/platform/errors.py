"""Application errors: each maps to one RFC 9457 problem with a stable machine `code`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple


class FieldError(NamedTuple):
    """One failing field of a request: where it is, what is wrong, a stable type."""

    loc: str
    message: str
    type: str


class AppError(Exception):
    """Base of every error a caller may see; subclasses fix status, code and title."""

    status: int = 500
    code: str = "internal"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class BadRequestError(AppError):
    status, code, title = 400, "bad_request", "Bad request"


class UnauthenticatedError(AppError):
    status, code, title = 401, "unauthenticated", "Authentication required"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class ForbiddenError(AppError):
    status, code, title = 403, "forbidden", "Forbidden"


class AccountDeactivatedError(ForbiddenError):
    code, title = "account_deactivated", "Account deactivated"


class NotFoundError(AppError):
    status, code, title = 404, "not_found", "Not found"


class MethodNotAllowedError(AppError):
    status, code, title = 405, "method_not_allowed", "Method not allowed"


class ConflictError(AppError):
    status, code, title = 409, "conflict", "Conflict"


class PayloadTooLargeError(AppError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class UnsupportedMediaTypeError(AppError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class ValidationFailedError(AppError):
    status, code, title = 422, "validation_failed", "Validation failed"

    def __init__(self, errors: Sequence[FieldError], detail: str | None = None) -> None:
        super().__init__(detail or "The request has invalid fields.")
        self.errors = list(errors)


class RateLimitedError(AppError):
    status, code, title = 429, "rate_limited", "Too many requests"


class QuotaExceededError(AppError):
    status, code, title = 429, "quota_exceeded", "Quota exceeded"


class UnavailableError(AppError):
    status, code, title = 503, "unavailable", "Service unavailable"

    def __init__(self, detail: str | None = None, *, retry_after_s: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class NotConfiguredError(UnavailableError):
    """A setting this route needs is missing or malformed: the deployment, not the caller, must act."""

    code, title = "not_configured", "Not configured"


class ConfigError(Exception):
    """A required setting is missing or malformed; raised at first use, never shown to callers."""


@dataclass(slots=True)
class Problem:
    """The RFC 9457 body, as sent."""

    status: int
    code: str
    title: str
    detail: str
    request_id: str
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Render as the JSON object of an `application/problem+json` response."""
        body: dict[str, object] = {
            "type": f"urn:aigym:problem:{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            "request_id": self.request_id,
            # supabase-py and supabase-js show this member as the error's message.
            "error": self.detail,
        }
        if self.errors:
            body["errors"] = [{"loc": e.loc, "message": e.message, "type": e.type} for e in self.errors]
        body.update(self.extra)
        return body


def problem_from(error: AppError, request_id: str) -> Problem:
    """Build the problem body for an application error."""
    return Problem(
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        request_id=request_id,
        errors=list(getattr(error, "errors", [])),
        extra=error.extra,
    )


def internal_problem(request_id: str) -> Problem:
    """The body for anything unexpected: it names the request id and nothing internal."""
    return Problem(
        status=500,
        code="internal",
        title="Internal error",
        detail="Something went wrong on our side. Quote the request id when reporting it.",
        request_id=request_id,
    )
