"""The platform's HTTP behaviour through real handlers: routing, bodies, problems, headers, CORS, rate limits.

`client` is every function of `functions/` behind the local gateway; `sample` is the test-only function in
`tests/functions/sample_fn.py` (routes with bodies, queries, service auth, a crash). Tests that never reach
the database run without the `db` fixture and assert that no round trip happened.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from scripts.local.stack import LOCAL_SECRET_KEY
from shared.platform import logging as log
from shared.platform.config import reset_settings
from shared.platform.db import close_pool
from tests.factories import ACME_LENA, ACME_LIAM, auth
from tests.functions import sample_fn
from tests.helpers import Sql, assert_problem

ALLOWED_ORIGIN = "http://localhost:3000"
UNREACHABLE_DB = "postgresql://postgres@127.0.0.1:1/x"
PEER = "203.0.113.7"
SERVER_TIMING = re.compile(r'^db;dur=\d+\.\d{2};desc="(\d+) round trips", total;dur=\d+\.\d{2}$')


# ----------------------------------------------------------------------------------------------------
# Fixtures and helpers
# ----------------------------------------------------------------------------------------------------


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set environment variables for this test; settings are re-read before and after."""

    def set_env(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        reset_settings()

    reset_settings()
    yield set_env
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
async def sample() -> AsyncIterator[httpx.AsyncClient]:
    """A client for the test-only `sample` function, called through a minimal ASGI adapter."""
    transport = httpx.ASGITransport(app=sample_fn.app, client=(PEER, 4000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver/functions/v1/sample"
    ) as http:
        yield http


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """Capture the structured log; returns a reader of the lines written so far."""
    buffer = io.StringIO()
    monkeypatch.setattr(log, "stream", buffer)
    return lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]


def round_trips(response: httpx.Response) -> int:
    found = SERVER_TIMING.match(response.headers["server-timing"])
    assert found, response.headers["server-timing"]
    return int(found.group(1))


def error_locs(body: dict[str, Any]) -> set[str]:
    return {e["loc"] for e in body["errors"]}


# ----------------------------------------------------------------------------------------------------
# Routing
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/health/nope", "/me/someone-else", "/health/live/extra"])
async def test_unknown_route_of_a_function_is_a_404_problem(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=auth(ACME_LENA))
    assert_problem(response, 404, "not_found")
    assert round_trips(response) == 0


async def test_wrong_method_is_a_405_naming_the_allowed_methods(client: httpx.AsyncClient) -> None:
    response = await client.delete("/me", headers=auth(ACME_LENA))
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, OPTIONS, PATCH"
    assert round_trips(response) == 0

    response = await client.post("/health/live", json={})
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, OPTIONS"


async def test_head_is_answered_by_the_get_route_without_a_body(client: httpx.AsyncClient) -> None:
    response = await client.head("/health/live")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) == len(b'{"status":"ok"}')


# ----------------------------------------------------------------------------------------------------
# Bodies
# ----------------------------------------------------------------------------------------------------


async def test_body_over_the_limit_is_413_before_authentication_or_parsing(client: httpx.AsyncClient) -> None:
    too_big = b"{" * (16 * 1024 + 1)  # not JSON either: the size alone must decide
    response = await client.patch("/me", content=too_big, headers={"content-type": "application/json"})
    assert_problem(response, 413, "payload_too_large")
    assert round_trips(response) == 0


async def test_streamed_body_over_the_limit_is_413_without_reading_the_rest(
    sample: httpx.AsyncClient,
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(200):
            sent += 1
            yield b" " * 512

    request = sample.build_request(
        "POST", "/echo", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    response = await sample.send(request)
    assert_problem(response, 413, "payload_too_large")
    assert sent <= 4, f"read {sent} chunks of a body refused after 1 KiB"


async def test_body_exactly_at_the_limit_is_accepted(sample: httpx.AsyncClient) -> None:
    skeleton = len(b'{"name":"","count":3}')
    raw = b'{"name":"' + b"n" * (sample_fn.BODY_LIMIT - skeleton) + b'","count":3}'
    assert len(raw) == sample_fn.BODY_LIMIT
    response = await sample.post("/echo", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["count"] == 3

    response = await sample.post("/echo", content=raw + b" ", headers={"content-type": "application/json"})
    assert_problem(response, 413, "payload_too_large")


@pytest.mark.parametrize("raw", [b"{", b"{'first_name': 'x'}", b"nope", b'{"first_name": "a",}'])
async def test_malformed_json_is_a_400(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.patch(
        "/me", content=raw, headers={**auth(ACME_LENA), "content-type": "application/json"}
    )
    body = assert_problem(response, 400, "bad_request")
    assert "errors" not in body
    assert round_trips(response) == 0


@pytest.mark.parametrize("raw", [b"[]", b'[{"first_name": "x"}]', b'"string"', b"42", b"null"])
async def test_json_that_is_not_an_object_is_a_422(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.patch(
        "/me", content=raw, headers={**auth(ACME_LENA), "content-type": "application/json"}
    )
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [
        {"loc": "body", "message": "The body must be a JSON object.", "type": "model_type"}
    ]
    assert round_trips(response) == 0


async def test_unknown_body_field_is_a_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        "/me",
        json={"first_name": "Lena", "is_staff": True, "staff_role": "super_admin"},
        headers=auth(ACME_LENA),
    )
    body = assert_problem(response, 422, "validation_failed")
    assert error_locs(body) == {"body.is_staff", "body.staff_role"}
    assert {e["type"] for e in body["errors"]} == {"extra_forbidden"}
    assert round_trips(response) == 0


async def test_wrong_type_is_not_coerced_in_strict_bodies(
    client: httpx.AsyncClient, sample: httpx.AsyncClient
) -> None:
    response = await client.patch("/me", json={"first_name": 5}, headers=auth(ACME_LENA))
    body = assert_problem(response, 422, "validation_failed")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [("body.first_name", "string_type")]

    response = await sample.post("/echo", json={"name": "x", "count": "5"})
    body = assert_problem(response, 422, "validation_failed")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [("body.count", "int_type")]

    response = await sample.post("/echo", json={"name": "x", "count": True})
    assert_problem(response, 422, "validation_failed")


async def test_validation_errors_never_echo_the_submitted_values(sample: httpx.AsyncClient) -> None:
    secret = "sk_live_do_not_echo_me"
    response = await sample.post("/echo", json={"name": 1, "count": secret})
    assert_problem(response, 422, "validation_failed")
    assert secret not in response.text


async def test_valid_body_is_parsed_into_the_model(sample: httpx.AsyncClient) -> None:
    response = await sample.post("/echo", json={"name": "  padded  "})
    assert response.status_code == 201, response.text
    assert response.json() == {"name": "padded", "count": 1}


async def test_unknown_query_parameter_is_a_422(client: httpx.AsyncClient, sample: httpx.AsyncClient) -> None:
    response = await client.get("/me", params={"debug": "1"}, headers=auth(ACME_LENA))
    body = assert_problem(response, 422, "validation_failed")
    assert error_locs(body) == {"query.debug"}
    assert round_trips(response) == 0

    response = await sample.get("/search", params={"q": "python", "evil": "1"})
    body = assert_problem(response, 422, "validation_failed")
    assert error_locs(body) == {"query.evil"}


async def test_query_values_are_converted_to_declared_types(sample: httpx.AsyncClient) -> None:
    response = await sample.get("/search", params={"q": "python", "limit": "5"})
    assert response.status_code == 200, response.text
    assert response.json() == {"q": "python", "limit": 5}

    response = await sample.get("/search", params={"q": "python", "limit": "many"})
    body = assert_problem(response, 422, "validation_failed")
    assert error_locs(body) == {"query.limit"}

    response = await sample.get("/search")
    body = assert_problem(response, 422, "validation_failed")
    assert error_locs(body) == {"query.q"}


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
async def test_non_json_content_type_is_a_415(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.patch(
        "/me", content=b'{"first_name": "Lena"}', headers={**auth(ACME_LENA), "content-type": content_type}
    )
    assert_problem(response, 415, "unsupported_media_type")
    assert round_trips(response) == 0


async def test_json_content_type_with_charset_and_json_suffix_are_accepted(sample: httpx.AsyncClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await sample.post(
            "/echo", content=b'{"name": "x"}', headers={"content-type": content_type}
        )
        assert response.status_code == 201, (content_type, response.text)


# ----------------------------------------------------------------------------------------------------
# Request ids, errors and standard headers
# ----------------------------------------------------------------------------------------------------


async def test_given_request_id_is_echoed_in_header_and_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/nope", headers={"x-request-id": "trace-abc.123:4"})
    body = assert_problem(response, 404, "not_found")
    assert response.headers["x-request-id"] == "trace-abc.123:4"
    assert body["request_id"] == "trace-abc.123:4"


@pytest.mark.parametrize("given", [None, "", "has spaces", "x" * 129, "<script>", "a/b"])
async def test_missing_or_unsafe_request_id_is_replaced_by_a_generated_one(
    client: httpx.AsyncClient, given: str | None
) -> None:
    headers = {} if given is None else {"x-request-id": given}
    response = await client.get("/me", headers=headers)
    body = assert_problem(response, 401, "unauthenticated")
    generated = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert body["request_id"] == generated
    second = await client.get("/me", headers=headers)
    assert second.headers["x-request-id"] != generated


async def test_unexpected_exception_is_a_bare_500_and_a_logged_traceback(
    sample: httpx.AsyncClient, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    response = await sample.get("/boom", headers={"x-request-id": "boom-1"})
    body = assert_problem(response, 500, "internal")
    for leak in ("kaboom", "4242", "RuntimeError", "Traceback", "sample_fn", "storage layer"):
        assert leak not in response.text
    assert set(body) == {"type", "title", "status", "detail", "code", "request_id", "error"}

    errors = [line for line in log_lines() if line["message"] == "unhandled error"]
    assert len(errors) == 1
    line = errors[0]
    assert line["severity"] == "ERROR"
    assert line["request_id"] == "boom-1"
    assert line["function"] == "sample"
    assert line["error"] == "RuntimeError"
    assert "Traceback (most recent call last)" in line["traceback"]
    assert "RuntimeError: kaboom: internal detail 4242" in line["traceback"]
    assert "in boom" in line["traceback"]
    access = [line for line in log_lines() if line["message"] == "request"]
    assert [(a["status"], a["severity"], a["request_id"]) for a in access] == [(500, "ERROR", "boom-1")]


@pytest.mark.parametrize("path", ["/health/live", "/health/nope", "/me"])
async def test_every_response_carries_server_timing_and_api_version(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.headers["api-version"] == "v1"
    assert round_trips(response) == 0


# ----------------------------------------------------------------------------------------------------
# CORS
# ----------------------------------------------------------------------------------------------------


async def test_preflight_from_allowed_origin_needs_no_database(
    client: httpx.AsyncClient, env: Callable[..., None]
) -> None:
    env(DATABASE_URL=UNREACHABLE_DB, DB_CONNECT_TIMEOUT_SECONDS="1")
    response = await client.options(
        "/me",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.content == b""
    headers = response.headers
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["access-control-allow-methods"] == "GET, PATCH, OPTIONS"
    allowed_headers = {h.strip() for h in headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "apikey", "x-request-id"} <= allowed_headers
    assert int(headers["access-control-max-age"]) > 0
    assert "Origin" in headers["vary"]
    assert round_trips(response) == 0


async def test_preflight_from_disallowed_origin_gets_no_cors_grant(client: httpx.AsyncClient) -> None:
    for origin in ("https://evil.example.com", "http://localhost:3000.evil.example.com", "null"):
        response = await client.options(
            "/me", headers={"Origin": origin, "Access-Control-Request-Method": "PATCH"}
        )
        assert response.status_code == 204
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-credentials" not in response.headers
        assert "access-control-allow-methods" not in response.headers


async def test_preflight_for_unknown_path_gets_no_cors_grant(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/me/nothing-here", headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in response.headers


async def test_wildcard_origin_never_comes_with_credentials(
    client: httpx.AsyncClient, env: Callable[..., None]
) -> None:
    env(CORS_ALLOWED_ORIGINS="*")
    origin = "https://anyone.example.com"
    preflight = await client.options(
        "/me", headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in preflight.headers

    actual = await client.get("/health/live", headers={"Origin": origin})
    assert actual.status_code == 200
    assert actual.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in actual.headers


async def test_named_origin_keeps_credentials_even_when_a_wildcard_is_also_configured(
    client: httpx.AsyncClient, env: Callable[..., None]
) -> None:
    env(CORS_ALLOWED_ORIGINS=f"{ALLOWED_ORIGIN},*")
    response = await client.get("/health/live", headers={"Origin": ALLOWED_ORIGIN})
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize("path", ["/health/live", "/me", "/health/nope"])
async def test_actual_responses_and_problems_carry_cors_headers_for_allowed_origins(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"Origin": ALLOWED_ORIGIN})
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "retry-after", "ratelimit-remaining", "server-timing", "api-version"} <= exposed
    assert "Origin" in response.headers["vary"]


async def test_actual_response_to_disallowed_origin_has_no_cors_grant(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live", headers={"Origin": "https://evil.example.com"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers
    assert "Origin" in response.headers["vary"]


# ----------------------------------------------------------------------------------------------------
# Rate limits (real database)
# ----------------------------------------------------------------------------------------------------

# A long window, so the four requests of a test can never straddle a window boundary.
LIMIT = "3/3600"


def hits(sql: Sql) -> dict[str, int]:
    rows = sql("select key, limit_class, hits from app.rate_limits order by key")
    assert {r["limit_class"] for r in rows} <= {"general"}
    return {r["key"]: r["hits"] for r in rows}


async def test_fourth_request_over_the_limit_is_a_429_with_retry_after(
    client: httpx.AsyncClient, db: str, sql: Sql, env: Callable[..., None]
) -> None:
    env(RATE_LIMIT_GENERAL=LIMIT)
    for remaining in (2, 1, 0):
        response = await client.get("/me", headers=auth(ACME_LENA))
        assert response.status_code == 200, response.text
        assert response.headers["ratelimit-limit"] == "3"
        assert response.headers["ratelimit-remaining"] == str(remaining)
        assert "retry-after" not in response.headers

    response = await client.get("/me", headers=auth(ACME_LENA))
    assert_problem(response, 429, "rate_limited")
    assert 1 <= int(response.headers["retry-after"]) <= 3600
    assert response.headers["ratelimit-limit"] == "3"
    assert response.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(response.headers["ratelimit-reset"]) <= 3600
    assert response.headers["ratelimit-policy"] == '3;w=3600;name="general"'
    assert hits(sql) == {f"user:{ACME_LENA}": 4}


async def test_refused_request_does_not_run_the_route(
    client: httpx.AsyncClient, db: str, sql: Sql, env: Callable[..., None]
) -> None:
    env(RATE_LIMIT_GENERAL=LIMIT)
    for _ in range(3):
        assert (await client.get("/me", headers=auth(ACME_LENA))).status_code == 200
    response = await client.patch("/me", json={"first_name": "Blocked"}, headers=auth(ACME_LENA))
    assert_problem(response, 429, "rate_limited")
    assert sql("select first_name from profiles where id = %s", (ACME_LENA,)) == [{"first_name": "Lena"}]


async def test_users_are_limited_separately(
    client: httpx.AsyncClient, db: str, sql: Sql, env: Callable[..., None]
) -> None:
    env(RATE_LIMIT_GENERAL=LIMIT)
    statuses = [(await client.get("/me", headers=auth(ACME_LENA))).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = await client.get("/me", headers=auth(ACME_LIAM))
    assert response.status_code == 200, response.text
    assert response.headers["ratelimit-remaining"] == "2"
    assert hits(sql) == {f"user:{ACME_LENA}": 4, f"user:{ACME_LIAM}": 1}


async def test_request_failing_inside_the_route_still_counts(
    client: httpx.AsyncClient, sample: httpx.AsyncClient, db: str, sql: Sql, env: Callable[..., None]
) -> None:
    env(RATE_LIMIT_GENERAL=LIMIT)
    assert (await client.get("/me", headers=auth(ACME_LENA))).status_code == 200
    failed = await sample.post("/reject", headers=auth(ACME_LENA))
    assert_problem(failed, 422, "validation_failed")
    assert failed.headers["ratelimit-remaining"] == "1"
    assert (await client.get("/me", headers=auth(ACME_LENA))).status_code == 200
    assert_problem(await client.get("/me", headers=auth(ACME_LENA)), 429, "rate_limited")
    assert hits(sql) == {f"user:{ACME_LENA}": 4}


async def test_request_refused_before_the_database_does_not_count(
    client: httpx.AsyncClient, db: str, sql: Sql, env: Callable[..., None]
) -> None:
    """Pins http.py's documented order: 401/400/415/422 from parsing are decided before the counting round trip."""
    env(RATE_LIMIT_GENERAL=LIMIT)
    for _ in range(4):
        response = await client.patch("/me", json={"nickname": "x"}, headers=auth(ACME_LENA))
        assert_problem(response, 422, "validation_failed")
        assert round_trips(response) == 0
    response = await client.get("/me", headers=auth(ACME_LENA))
    assert response.status_code == 200
    assert hits(sql) == {f"user:{ACME_LENA}": 1}


async def test_anonymous_callers_are_limited_by_peer_address_not_forwarded_for(
    sample: httpx.AsyncClient, db: str, sql: Sql, env: Callable[..., None]
) -> None:
    env(RATE_LIMIT_GENERAL=LIMIT)
    statuses = [
        (await sample.get("/ping", headers={"x-forwarded-for": f"198.51.100.{i}"})).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert hits(sql) == {f"ip:{PEER}": 4}


# ----------------------------------------------------------------------------------------------------
# Deactivated accounts, database outages, service keys
# ----------------------------------------------------------------------------------------------------


async def test_deactivated_user_may_read_me_but_not_change_it(
    client: httpx.AsyncClient, db: str, sql: Sql
) -> None:
    sql("update profiles set status = 'deactivated' where id = %s", (ACME_LENA,))

    response = await client.patch("/me", json={"first_name": "Changed"}, headers=auth(ACME_LENA))
    body = assert_problem(response, 403, "account_deactivated")
    assert body["status"] == 403
    assert sql("select first_name, status from profiles where id = %s", (ACME_LENA,)) == [
        {"first_name": "Lena", "status": "deactivated"}
    ]

    response = await client.get("/me", headers=auth(ACME_LENA))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "deactivated"


async def test_unreachable_database_is_a_503_without_driver_details(
    client: httpx.AsyncClient, env: Callable[..., None], log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    env(DATABASE_URL=UNREACHABLE_DB, DB_CONNECT_TIMEOUT_SECONDS="1")
    try:
        ready = await client.get("/health/ready")
        user = await client.get("/me", headers=auth(ACME_LENA))
        live = await client.get("/health/live")
    finally:
        await close_pool()

    for response in (ready, user):
        body = assert_problem(response, 503, "unavailable")
        assert int(response.headers["retry-after"]) > 0
        text = response.text.lower()
        for leak in ("psycopg", "pool", "127.0.0.1", "postgres", "connection", "refused", "timeout", "port"):
            assert leak not in text, (leak, body)
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
    assert any(line["message"] == "database unreachable" for line in log_lines())
    assert UNREACHABLE_DB not in json.dumps(log_lines())


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": f"Bearer {LOCAL_SECRET_KEY}"}, {"apikey": LOCAL_SECRET_KEY}],
    ids=["bearer", "apikey"],
)
async def test_service_route_accepts_the_secret_key(
    sample: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await sample.get("/service", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"caller": "service"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer sb_secret_wrong"},
        {"apikey": "sb_secret_wrong"},
        {"Authorization": f"Bearer {LOCAL_SECRET_KEY[:-1]}"},
        {"Authorization": f"Bearer {LOCAL_SECRET_KEY}x"},
        {"Authorization": f"Basic {LOCAL_SECRET_KEY}"},
        {"apikey": ""},
        auth(ACME_LENA),
    ],
    ids=["none", "wrong-bearer", "wrong-apikey", "prefix", "suffix", "basic", "empty-apikey", "user-jwt"],
)
async def test_service_route_refuses_anything_but_the_secret_key(
    sample: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await sample.get("/service", headers=headers)
    assert_problem(response, 401, "unauthenticated")
    assert round_trips(response) == 0


async def test_service_route_runs_as_service_role_and_sees_every_row(
    sample: httpx.AsyncClient, db: str
) -> None:
    response = await sample.get("/service/memberships", headers={"apikey": LOCAL_SECRET_KEY})
    assert response.status_code == 200, response.text
    assert response.json() == {"count": 5}
    response = await sample.get("/service/memberships", headers=auth(ACME_LENA))
    assert_problem(response, 401, "unauthenticated")


# ----------------------------------------------------------------------------------------------------
# Prepared statements (DB_PREPARE)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "prepares"), [("0", False), ("1", True)], ids=["default", "DB_PREPARE=1"])
async def test_statements_are_prepared_only_when_the_setting_asks_for_it(
    client: httpx.AsyncClient, db: str, env: Callable[..., None], setting: str, prepares: bool
) -> None:
    # Off, nothing is ever prepared (what the transaction pooler requires); on, a route's repeated
    # statements are, and every answer is the same.
    from shared.platform.db import get_pool
    from tests.factories import ACME, ACME_ADMIN

    await close_pool()
    env(DB_PREPARE=setting, DB_POOL_MAX="1")
    answers = [
        await client.get("/members", params={"community_id": ACME}, headers=auth(ACME_ADMIN)) for _ in range(8)
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    pool = await get_pool()
    async with pool.connection() as conn:
        cur = await conn.execute("select count(*) as n from pg_prepared_statements")
        prepared = (await cur.fetchone())["n"]  # type: ignore[index]
    assert (prepared > 0) is prepares
    await close_pool()
