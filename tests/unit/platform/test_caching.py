"""Conditional reads: ETags, If-None-Match, If-Match and the caching headers. Pure, no I/O."""

from __future__ import annotations

from starlette.requests import Request

from shared.platform import caching
from shared.platform.responses import Reply


def request(method: str = "GET", **headers: str) -> Request:
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": method, "headers": raw, "path": "/", "query_string": b""})


def test_strong_etags_are_stable_quoted_and_tell_values_apart() -> None:
    tag = caching.strong_etag("item", 3)
    assert tag == caching.strong_etag("item", 3) and tag.startswith('"') and tag.endswith('"')
    assert tag != caching.strong_etag("item", 4) and tag != caching.strong_etag("item3", "")


def test_if_none_match_compares_weakly_and_star_matches() -> None:
    tag = caching.strong_etag(1)
    assert caching.none_match(tag, tag)
    assert caching.none_match(f'"other", W/{tag}', tag)
    assert caching.none_match("*", tag)
    assert not caching.none_match('"other"', tag)
    assert not caching.none_match(None, tag)


def test_if_match_names_a_revision_and_star_names_none() -> None:
    tag = caching.strong_etag(1)
    assert caching.if_match_holds(tag, tag) and caching.if_match_holds(f"W/{tag}", tag)
    assert not caching.if_match_holds("*", tag)
    assert not caching.if_match_holds(caching.strong_etag(2), tag)


def test_a_current_copy_gets_a_bodiless_304_with_the_same_validators() -> None:
    tag = caching.strong_etag(1)
    answer = caching.conditional(request(if_none_match=tag), {"a": 1}, tag, caching.PRIVATE_REVALIDATE)
    assert not isinstance(answer, Reply)
    assert answer.status_code == 304 and answer.body == b""
    assert answer.headers["etag"] == tag and answer.headers["cache-control"] == "private, no-cache"
    assert answer.headers["vary"] == "Authorization" and "content-length" not in answer.headers


def test_a_stale_or_absent_copy_gets_the_body_and_its_validators() -> None:
    tag = caching.strong_etag(1)
    for req in (request(), request(if_none_match=caching.strong_etag(0))):
        answer = caching.conditional(req, {"a": 1}, tag, caching.NO_STORE)
        assert isinstance(answer, Reply) and answer.body == {"a": 1}
        assert answer.headers == {"ETag": tag, "Cache-Control": "private, no-store", "Vary": "Authorization"}


def test_writes_never_answer_304() -> None:
    tag = caching.strong_etag(1)
    assert isinstance(
        caching.conditional(request("POST", if_none_match=tag), {}, tag, caching.NO_STORE), Reply
    )
