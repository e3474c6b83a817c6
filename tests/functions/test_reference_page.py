"""The `openapi` function: the contract, and the interactive reference page built on it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from tests.helpers import assert_problem

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contract" / "openapi.json"


def links_of(page: str) -> list[str]:
    """Every src/href/data-spec URL of a page."""
    return re.findall(r'(?:src|href|data-spec)="([^"]+)"', page)


async def test_contract_is_served_as_committed(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(CONTRACT.read_text())


@pytest.mark.parametrize("path", ["/openapi", "/openapi/"])
async def test_every_link_of_the_page_works_with_and_without_a_trailing_slash(
    client: httpx.AsyncClient, path: str
) -> None:
    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    links = links_of(page.text)
    assert sorted(links) == sorted(
        f"/functions/v1/openapi/{name}"
        for name in (
            "assets/swagger-ui.css",
            "assets/favicon-32x32.png",
            "openapi.json",  # in <noscript>
            "openapi.json",  # the spec the reference renders
            "assets/swagger-ui-bundle.js",
            "assets/reference.js",
        )
    )
    for link in set(links):
        response = await client.get(link.removeprefix("/functions/v1"))
        assert response.status_code == 200, link
        assert len(response.content) > 100, link
    js = await client.get("/openapi/assets/swagger-ui-bundle.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in js.text[:200_000] or "SwaggerUIBundle" in js.text


async def test_unknown_asset_is_a_404_problem(client: httpx.AsyncClient) -> None:
    for name in ("index.html", "..%2Fmain.py", "swagger-editor-bundle.js"):
        assert_problem(await client.get(f"/openapi/assets/{name}"), 404, "not_found")
