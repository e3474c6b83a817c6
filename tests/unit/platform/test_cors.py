"""CORS on actual responses: Vary keeps what a route said, and grants go only to allowed origins."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from shared.platform import cors
from shared.platform.config import load_settings

ORIGIN = "https://app.example.com"
SETTINGS = load_settings(
    {
        "DATABASE_URL": "postgresql://app@db.example.com/app",
        "SUPABASE_URL": "https://ref.supabase.co",
        "CORS_ALLOWED_ORIGINS": ORIGIN,
    }
)


def _request(origin: str | None) -> Request:
    headers = [(b"origin", origin.encode())] if origin else []
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": headers}
    return Request(scope)


def test_vary_of_a_route_is_kept_and_origin_added_once() -> None:
    response = Response(b"{}", headers={"Vary": "Authorization"})
    cors.decorate(response, _request(ORIGIN), SETTINGS)
    assert response.headers.getlist("vary") == ["Authorization, Origin"]
    assert response.headers["access-control-allow-origin"] == ORIGIN

    cors.decorate(response, _request(ORIGIN), SETTINGS)  # a second pass adds nothing
    assert response.headers.getlist("vary") == ["Authorization, Origin"]


def test_vary_is_origin_when_the_route_set_none_and_a_stranger_gets_no_grant() -> None:
    response = Response(b"{}")
    cors.decorate(response, _request("https://evil.example.com"), SETTINGS)
    assert response.headers.getlist("vary") == ["Origin"]
    assert "access-control-allow-origin" not in response.headers
