"""The forum's rules that need no database: bodies as stored, refusals as problems, posting as activity."""

from __future__ import annotations

from uuid import uuid4

import pytest
from pydantic import ValidationError

from shared.forum.errors import PostNotFoundError, refusal
from shared.forum.schemas import CreatePost, EditPost, clean_markdown
from shared.gamification import model, payloads
from shared.platform.errors import ConflictError, ForbiddenError, NotFoundError, RateLimitedError


def test_markdown_keeps_text_and_loses_control_characters() -> None:
    assert clean_markdown(" **Hi**\r\n\tcode\x00\x07\x1b[0m \n") == "**Hi**\n\tcode[0m"


def test_a_body_of_control_characters_only_is_refused() -> None:
    with pytest.raises(ValidationError, match="may not be empty"):
        CreatePost.model_validate({"community_id": str(uuid4()), "title": "t", "body": "\x07\x08"})


@pytest.mark.parametrize("field", ["title", "body", "tag_ids"])
def test_an_edit_may_omit_but_not_null_a_field(field: str) -> None:
    with pytest.raises(ValidationError):
        EditPost.model_validate({field: None})
    with pytest.raises(ValidationError, match="name at least one field"):
        EditPost.model_validate({})


def test_a_title_that_starts_like_a_formula_is_refused() -> None:
    with pytest.raises(ValidationError, match="spreadsheet"):
        CreatePost.model_validate({"community_id": str(uuid4()), "title": "=HYPERLINK()", "body": "b"})


@pytest.mark.parametrize(
    ("message", "kind", "status", "code"),
    [
        ("forum_post_not_found: no such post", PostNotFoundError, 404, "not_found"),
        ("forum_unavailable: no forum", NotFoundError, 404, "not_found"),
        ("not_the_author: only its author", ForbiddenError, 403, "not_the_author"),
        ("forbidden: only admins", ForbiddenError, 403, "forbidden"),
        ("thread_locked: this thread is locked", ConflictError, 409, "thread_locked"),
        ("not a coded message", ConflictError, 409, "conflict"),
        ("posting_too_fast: at most 30", RateLimitedError, 429, "rate_limited"),
    ],
)
def test_refusals_become_the_forums_problems(message: str, kind: type, status: int, code: str) -> None:
    error = refusal(message)
    assert isinstance(error, kind) and error.status == status and error.code == code
    assert error.detail.endswith(".")


def test_a_forum_post_is_activity_without_a_fact() -> None:
    user, community = uuid4(), uuid4()
    payload = {"user_id": str(user), "community_id": str(community), "post_id": str(uuid4()), "reply_id": None,
               "posted_at": "2026-12-05T10:00:00+01:00"}
    activity = payloads.activity_of(model.POSTED, payload)
    assert (activity.user_id, activity.community_id, activity.fact) == (user, community, None)
    assert activity.at.isoformat() == "2026-12-05T10:00:00+01:00"
