"""The forum's problems, and the refusals of its database functions turned into them.

Something the caller may not see (another community's post, a hidden one, a switched-off forum) is a
404, as if it did not exist; a rule of the forum (a locked thread, a closed edit window, a second
report) is a 409 with its own code.
"""

from __future__ import annotations

from shared.platform.errors import AppError, ConflictError, ForbiddenError, NotFoundError, RateLimitedError


class ForumNotFoundError(NotFoundError):
    title = "No forum open to you here"


class PostNotFoundError(NotFoundError):
    title = "No such post"


class ReplyNotFoundError(NotFoundError):
    title = "No such reply"


class ReportNotFoundError(NotFoundError):
    title = "No such report"


_MISSING: dict[str, type[NotFoundError]] = {
    "forum_unavailable": ForumNotFoundError,
    "forum_post_not_found": PostNotFoundError,
    "forum_reply_not_found": ReplyNotFoundError,
    "forum_report_not_found": ReportNotFoundError,
}


def refusal(message: str) -> AppError:
    """The problem a checked function's `'<code>: <detail>'` refusal stands for."""
    code, _, detail = message.partition(": ")
    detail = detail[:1].upper() + detail[1:] + "." if detail else "The forum refused this."
    missing = _MISSING.get(code)
    if missing is not None:
        return missing(detail)
    if code == "posting_too_fast":
        return RateLimitedError(detail, headers={"Retry-After": "60"})
    if code in {"forbidden", "not_the_author"}:
        error: AppError = ForbiddenError(detail)
    else:
        error = ConflictError(detail)
    if code.replace("_", "").isalnum():
        error.code = code
    return error
