"""Structured logs: one JSON object per line, the request's context on every line, no credentials."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from shared.platform import logging as log
from tests.factories import ACME_LENA, GLOBEX_GINA, auth, token_for
from tests.functions import sample_fn

Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    buffer = io.StringIO()
    monkeypatch.setattr(log, "stream", buffer)
    return buffer


@pytest.fixture
def lines(captured: io.StringIO) -> Lines:
    """Every line written so far, each parsed on its own (so each must be exactly one JSON object)."""

    def read() -> list[dict[str, Any]]:
        parsed = []
        for raw in captured.getvalue().split("\n")[:-1]:
            value = json.loads(raw)
            assert isinstance(value, dict), raw
            parsed.append(value)
        assert captured.getvalue().endswith("\n") or captured.getvalue() == ""
        return parsed

    return read


@pytest.fixture
async def sample() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sample_fn.app, client=("203.0.113.7", 4000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver/functions/v1/sample"
    ) as http:
        yield http


# ----------------------------------------------------------------------------------------------------
# Shape
# ----------------------------------------------------------------------------------------------------


def test_each_call_writes_one_json_object_with_severity_message_and_time(lines: Lines) -> None:
    log.info("first")
    log.warning("second", count=2)
    log.error("third")
    log.log("DEBUG", "fourth")
    written = lines()
    assert [(line["severity"], line["message"]) for line in written] == [
        ("INFO", "first"),
        ("WARNING", "second"),
        ("ERROR", "third"),
        ("DEBUG", "fourth"),
    ]
    assert written[1]["count"] == 2
    for line in written:
        stamp = datetime.fromisoformat(line["time"])
        assert stamp.utcoffset() == UTC.utcoffset(None)
        assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60
        assert list(line)[:3] == ["severity", "message", "time"]


def test_multiline_text_and_odd_values_still_make_one_line(captured: io.StringIO, lines: Lines) -> None:
    log.error(
        "line one\nline two\r\n\tthree \u2028 four",
        traceback="Traceback (most recent call last):\n  File x\nValueError: boom",
        user_id=uuid.UUID(ACME_LENA),
        at=datetime(2026, 1, 2, tzinfo=UTC),
        value=object(),
        nested={"list": [1, "two", {"three": 3}]},
    )
    assert captured.getvalue().count("\n") == 1
    (line,) = lines()
    assert line["message"] == "line one\nline two\r\n\tthree \u2028 four"
    assert line["user_id"] == ACME_LENA
    assert line["at"].startswith("2026-01-02")
    assert line["nested"] == {"list": [1, "two", {"three": 3}]}


# ----------------------------------------------------------------------------------------------------
# Redaction
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "authorization",
        "Authorization",
        "apikey",
        "api_key",
        "token",
        "access_token",
        "refresh_token",
        "secret",
        "client_secret",
        "password",
        "new_password",
        "signature",
        "webhook-signature",
        "cookie",
        "Set-Cookie",
    ],
)
def test_values_under_secret_keys_are_redacted(lines: Lines, key: str) -> None:
    log.info(
        "request", **{key: "hunter2-value"}, headers={key: "hunter2-value", "accept": "application/json"}
    )
    (line,) = lines()
    assert line[key] == log.REDACTED
    assert line["headers"] == {key: log.REDACTED, "accept": "application/json"}
    assert "hunter2" not in json.dumps(line)


@pytest.mark.parametrize("value", [123456789, 1.5, True, ["hunter2"], {"a": "hunter2"}])
def test_values_of_any_type_under_secret_keys_are_redacted(lines: Lines, value: Any) -> None:
    # The fast path lets numbers through unexamined, but never under a secret key.
    log.info("request", api_key=value, status=200)
    (line,) = lines()
    assert line["api_key"] == log.REDACTED
    assert line["status"] == 200


def test_credentials_in_the_request_context_are_redacted(lines: Lines) -> None:
    jwt_shaped = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    token = log.request_context.set({"request_id": jwt_shaped, "function": "me"})
    try:
        log.info("request")
    finally:
        log.request_context.reset(token)
    (line,) = lines()
    assert line["request_id"] == log.REDACTED
    assert line["function"] == "me"


def test_secret_keys_are_redacted_inside_nested_structures(captured: io.StringIO, lines: Lines) -> None:
    log.info(
        "nested",
        payload={
            "user": {"email": "a@b.c", "password": "pw-1"},
            "items": [{"token": "tok-2"}, ("secret", "ok")],
        },
    )
    (line,) = lines()
    assert line["payload"]["user"] == {"email": "a@b.c", "password": log.REDACTED}
    assert line["payload"]["items"][0] == {"token": log.REDACTED}
    assert "pw-1" not in captured.getvalue() and "tok-2" not in captured.getvalue()


def test_bearer_tokens_in_text_are_redacted(captured: io.StringIO, lines: Lines) -> None:
    log.warning("upstream said: Bearer abc.DEF-123_x/y+z= was refused", detail="got bearer   opaque~token")
    (line,) = lines()
    assert line["message"] == "upstream said: Bearer [redacted] was refused"
    assert line["detail"] == "got Bearer [redacted]"
    assert "opaque~token" not in captured.getvalue()


def test_jwt_shaped_strings_are_redacted_anywhere(captured: io.StringIO, lines: Lines) -> None:
    token = token_for(ACME_LENA)
    unsigned = token.rsplit(".", 1)[0] + "."
    log.error(
        f"could not verify {token}",
        traceback=f"Traceback ...\nValueError: bad token {token}",
        attempts=[token, {"note": unsigned}],
    )
    (line,) = lines()
    assert line["message"] == "could not verify [redacted]"
    assert line["traceback"].endswith("bad token [redacted]")
    assert line["attempts"] == ["[redacted]", {"note": "[redacted]"}]
    assert token.split(".")[1] not in captured.getvalue()


def test_ordinary_fields_are_not_redacted(lines: Lines) -> None:
    log.info(
        "hello", user_id=ACME_LENA, route="GET /", status=200, path="/functions/v1/me", eyes="eyJust kidding"
    )
    (line,) = lines()
    assert line["user_id"] == ACME_LENA
    assert (line["route"], line["status"], line["path"]) == ("GET /", 200, "/functions/v1/me")
    assert line["eyes"] == "eyJust kidding"


# ----------------------------------------------------------------------------------------------------
# Request context
# ----------------------------------------------------------------------------------------------------


async def test_lines_logged_during_a_request_carry_its_context(
    sample: httpx.AsyncClient, captured: io.StringIO, lines: Lines
) -> None:
    headers = {**auth(ACME_LENA), "x-request-id": "req-ctx-1"}
    response = await sample.get("/log", headers=headers)
    assert response.status_code == 200, response.text

    written = lines()
    inside = [line for line in written if line["message"] == "inside the route"]
    assert len(inside) == 1
    assert inside[0]["request_id"] == "req-ctx-1"
    assert inside[0]["function"] == "sample"
    assert inside[0]["route"] == "GET /log"
    assert inside[0]["user_id"] == ACME_LENA
    assert inside[0]["note"] == "hello"

    (access,) = [line for line in written if line["message"] == "request"]
    assert access["request_id"] == "req-ctx-1"
    assert access["user_id"] == ACME_LENA
    assert (access["method"], access["status"], access["path"]) == ("GET", 200, "/functions/v1/sample/log")
    assert access["duration_ms"] >= 0
    assert "db_round_trips" in access

    # The caller's credentials are nowhere in the log.
    token = headers["Authorization"].removeprefix("Bearer ")
    assert token not in captured.getvalue()
    assert token.split(".")[2] not in captured.getvalue()


async def test_context_does_not_outlive_the_request(sample: httpx.AsyncClient, lines: Lines) -> None:
    await sample.get("/log", headers={**auth(ACME_LENA), "x-request-id": "req-ctx-2"})
    log.info("after the request")
    log.bind(user_id="someone")  # outside a request: ignored
    log.info("still outside")
    after = [line for line in lines() if line["message"] in ("after the request", "still outside")]
    assert len(after) == 2
    for line in after:
        assert not {"request_id", "function", "route", "user_id"} & set(line)


async def test_concurrent_requests_keep_their_own_context(sample: httpx.AsyncClient, lines: Lines) -> None:
    users = {f"req-{i}": (ACME_LENA if i % 2 else GLOBEX_GINA) for i in range(10)}
    responses = await asyncio.gather(
        *(sample.get("/log", headers={**auth(user), "x-request-id": rid}) for rid, user in users.items())
    )
    assert {r.status_code for r in responses} == {200}
    inside = [line for line in lines() if line["message"] == "inside the route"]
    assert len(inside) == len(users)
    for line in inside:
        assert line["user_id"] == users[line["request_id"]]


async def test_refused_request_is_logged_with_its_status_but_without_a_user(
    sample: httpx.AsyncClient, lines: Lines
) -> None:
    response = await sample.get(
        "/log", headers={"Authorization": "Bearer not-a-jwt", "x-request-id": "req-401"}
    )
    assert response.status_code == 401
    (access,) = [line for line in lines() if line["message"] == "request"]
    assert (access["severity"], access["status"], access["request_id"]) == ("WARNING", 401, "req-401")
    assert "user_id" not in access
