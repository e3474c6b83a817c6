"""Errors of the learning context, and the answers of its database functions turned into them.

Every write is a database function that checks its caller and answers `{"outcome": …}`; `check`
raises the problem an outcome other than `ok` stands for. Something the caller may not see is a
404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.platform.errors import (
    AppError,
    ConflictError,
    FieldError,
    ForbiddenError,
    NotFoundError,
    ValidationFailedError,
)


class LearningNotFoundError(NotFoundError):
    title = "Not found, or not yours to see"


class EnrollmentNotFoundError(NotFoundError):
    code, title = "enrollment_not_found", "No such enrollment"


class AttemptNotFoundError(NotFoundError):
    code, title = "attempt_not_found", "No such quiz attempt"


class MilestoneNotFoundError(NotFoundError):
    code, title = "milestone_not_found", "No such milestone in this program"


class MilestoneResultNotFoundError(NotFoundError):
    code, title = "milestone_result_not_found", "No such milestone review"


def _conflict(code: str, detail: str) -> ConflictError:
    error = ConflictError(detail)
    error.code = code
    return error


_CONFLICTS = {
    "capacity_reached": "The program is full.",
    "enrollment_closed": "The program's enrollment deadline has passed.",
    "enrollment_completed": "A completed enrollment cannot be dropped.",
    "retake_not_allowed": "This quiz may be taken once only.",
    "attempts_exhausted": "Every attempt this quiz allows has been used.",
    "attempt_submitted": "This attempt was submitted already.",
    "quiz_time_expired": "The attempt's time limit has passed; start a new attempt if the quiz allows one.",
    "quiz_unscorable": "This quiz cannot be scored until its editors complete its answers.",
    "quiz_completed_by_passing": "A quiz block is completed by passing the quiz: submit an attempt.",
    "review_decided": "This milestone review was decided already.",
    "prerequisites_unmet": "This is locked until its prerequisites are completed (see missing or locked).",
    "too_many_milestones": "A program has at most 100 milestones.",
}


_REFUSED_USERS = {
    "not_a_member": ("not members of the community: see user_ids", "Some users are not members of the community."),
    "not_granted": (
        "the program is not granted to these members: see user_ids",
        "The program is not granted to some of these members.",
    ),
}
"""Assigning refused for some users (named in the problem's `user_ids`): field message, detail."""


def check(result: Mapping[str, Any], missing: type[NotFoundError] = LearningNotFoundError) -> Mapping[str, Any]:
    """The function's answer when its outcome is `ok`; otherwise the problem it stands for."""
    outcome = result.get("outcome")
    if outcome == "ok":
        return result
    raise _error(str(outcome), result, missing)


def conflict(code: str) -> AppError:
    """The 409 a rule of the learning context stands for, by its stable code."""
    return _conflict(code, _CONFLICTS[code])


def _error(outcome: str, result: Mapping[str, Any], missing: type[NotFoundError]) -> AppError:
    extra = {key: value for key, value in result.items() if key != "outcome"}
    if outcome in _CONFLICTS:
        return _with(_conflict(outcome, _CONFLICTS[outcome]), extra)
    if outcome == "forbidden":
        return ForbiddenError("Only platform staff who may write and the community's admins do this.")
    if outcome in _REFUSED_USERS:
        message, detail = _REFUSED_USERS[outcome]
        return _with(ValidationFailedError([FieldError("body", message, outcome)], detail), extra)
    if outcome == "unknown_target":
        return ValidationFailedError(
            [FieldError("body.target_id", "the item has no such target of this type", "unknown_target")],
            "The item has no such block, page or program item.",
        )
    return missing()


def _with(error: AppError, extra: Mapping[str, Any]) -> AppError:
    error.extra.update(extra)
    return error
