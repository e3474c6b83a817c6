"""`openapi`: the OpenAPI 3.1 contract of every function, and an interactive reference of it.

The reference is Swagger UI, served by this function from the pinned `swagger-ui-py` package (its static
files only; the package's Python code is never imported), so the page needs no CDN and works offline.
Every link on the page is built from the path it was opened under, so `/functions/v1/openapi`,
`/functions/v1/openapi/` and a bare deployment's `/` all work.
"""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path

from starlette.responses import HTMLResponse, Response

from shared.platform.errors import NotFoundError
from shared.platform.http import Context, Function

fn = Function("openapi", body_limit=0, description="The API contract and its interactive reference.")
CONTRACT_DIR = "shared/contract"
SWAGGER_FILES = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
OWN_FILES = {"reference.js": "text/javascript; charset=utf-8"}
# Swagger UI styles elements inline and shows inline (data:) images; everything else comes from here.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src *; frame-ancestors 'none'"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AI GYM API reference</title>
<link rel="stylesheet" href="{base}/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="{base}/assets/favicon-32x32.png">
</head>
<body>
<noscript>The reference needs JavaScript; the contract itself is <a href="{base}/openapi.json">openapi.json</a>.</noscript>
<div id="reference" data-spec="{base}/openapi.json"></div>
<script src="{base}/assets/swagger-ui-bundle.js"></script>
<script src="{base}/assets/reference.js"></script>
</body>
</html>
"""


def _contract_file(name: str) -> Path:
    # In a bundle the shared package sits beside main.py; in the repository it is two levels up.
    here = Path(__file__).resolve().parent
    for root in (here, here.parents[1]):
        path = root / CONTRACT_DIR / name
        if path.exists():
            return path
    raise FileNotFoundError(f"{CONTRACT_DIR}/{name} is missing; run scripts/openapi")


@lru_cache(maxsize=1)
def _swagger_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("swagger_ui")  # located, not imported
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@lru_cache(maxsize=8)
def _read(path: Path) -> bytes:
    return path.read_bytes()


@fn.get("/openapi.json", auth="public", rate_limit=None)
async def openapi_json(ctx: Context) -> Response:
    """The OpenAPI 3.1 document."""
    body = _read(_contract_file("openapi.json"))
    return Response(body, media_type="application/json", headers={"Cache-Control": "public, max-age=300"})


@fn.get("/", auth="public", rate_limit=None)
async def reference_page(ctx: Context) -> Response:
    """The interactive API reference (Swagger UI): every route, its parameters, bodies, answers and problems."""
    base = html.escape(ctx.request.url.path.rstrip("/"), quote=True)
    headers = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "public, max-age=300"}
    return HTMLResponse(PAGE.format(base=base), headers=headers)


@fn.get("/assets/{name}", auth="public", rate_limit=None)
async def asset(ctx: Context, name: str) -> Response:
    """A static file of the reference page."""
    if name in SWAGGER_FILES:
        path, media_type = _swagger_dir() / name, SWAGGER_FILES[name]
    elif name in OWN_FILES:
        path, media_type = _contract_file(name), OWN_FILES[name]
    else:
        raise NotFoundError("No such file.")
    return Response(_read(path), media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})


handler = fn.handler
