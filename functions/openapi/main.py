"""`openapi`: the OpenAPI 3.1 contract of every function, and a readable page of it."""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.responses import HTMLResponse, Response

from shared.platform.http import Context, Function

fn = Function("openapi", body_limit=0, description="The API contract.")
CONTRACT = Path(__file__).resolve().parent / "shared" / "contract" / "openapi.json"


@lru_cache(maxsize=1)
def _document() -> bytes:
    # In a bundle the shared package sits beside main.py; in the repository it is two levels up.
    for path in (CONTRACT, Path(__file__).resolve().parents[2] / "shared" / "contract" / "openapi.json"):
        if path.exists():
            return path.read_bytes()
    raise FileNotFoundError("openapi.json is missing; run scripts/openapi")


@fn.get("/openapi.json", auth="public", rate_limit=None)
async def openapi_json(ctx: Context) -> Response:
    """The OpenAPI 3.1 document."""
    return Response(
        _document(), media_type="application/json", headers={"Cache-Control": "public, max-age=300"}
    )


@fn.get("/", auth="public", rate_limit=None)
async def docs_page(ctx: Context) -> Response:
    """A human-readable list of every route, generated from the same document."""
    doc: dict[str, Any] = json.loads(_document())
    rows = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            auth = "public" if not op.get("security") else next(iter(op["security"][0]))
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(op.get('summary', ''))}</td><td>{html.escape(auth)}</td></tr>"
            )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>AI GYM API</title>"
        "<style>body{font-family:system-ui;margin:2rem}td{padding:.3rem .8rem;border-bottom:1px solid #ddd}</style>"
        f"</head><body><h1>{html.escape(doc['info']['title'])} {html.escape(doc['info']['version'])}</h1>"
        f"<p>{html.escape(doc['info']['description'])} Machine-readable: <a href='openapi/openapi.json'>openapi.json</a>.</p>"
        "<table><tr><th>Method</th><th>Path</th><th>What</th><th>Auth</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
    return HTMLResponse(page)


handler = fn.handler
