"""The local stack's storage endpoints: accept the PUTs and serve the GETs that `LocalStorage` signs.

Mounted by the local gateway under `/storage/v1/local/` (as Supabase serves Storage beside the functions).
Like an S3 store checking a presigned PUT, an upload must carry the signed Content-Type and exactly the
signed number of bytes before its token expires; anything else is refused and nothing is written.
Errors are plain text, as a store's would be: the browser talks to it directly, not through our API.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from shared.platform import cors
from shared.platform.config import get_settings
from shared.platform.storage import storage_for
from shared.platform.storage_local import (
    MEDIA_TYPES,
    OBJECT_PATH,
    UPLOAD_PATH,
    LocalStorage,
    TokenError,
    read_token,
)


async def serve_storage(request: Request) -> Response:
    """Answer one request under /storage/v1/local/: a signed upload, a signed download or a preflight."""
    settings = get_settings()
    path = request.url.path
    if request.method == "OPTIONS":
        methods = ["PUT"] if path.startswith(UPLOAD_PATH) else ["GET", "HEAD"]
        return cors.preflight(request, settings, methods)
    storage = storage_for(settings.storage)
    if not isinstance(storage, LocalStorage):
        response = Response("local storage is not enabled (STORAGE_BACKEND=local)\n", status_code=404)
    elif path.startswith(UPLOAD_PATH) and request.method == "PUT":
        response = await _accept(request, storage, path[len(UPLOAD_PATH) :])
    elif path.startswith(OBJECT_PATH) and request.method in ("GET", "HEAD"):
        response = _send(storage, path[len(OBJECT_PATH) :])
    else:
        response = Response("no such storage route\n", status_code=404)
    cors.decorate(response, request, settings)
    return response


async def _accept(request: Request, storage: LocalStorage, token: str) -> Response:
    try:
        claims = read_token(storage.signing_key, token, "put")
    except TokenError as exc:
        return Response(f"refused: {exc}\n", status_code=403)
    if request.headers.get("content-type") != claims["type"]:
        return Response("refused: Content-Type is not the signed one\n", status_code=403)
    if request.headers.get("content-length") != str(claims["size"]):
        return Response("refused: Content-Length is not the signed one\n", status_code=403)
    if request.headers.get("if-none-match") != "*":
        return Response("refused: If-None-Match: * is signed (uploads only create)\n", status_code=403)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > claims["size"]:
            return Response("refused: more bytes than signed\n", status_code=400)
    if len(data) != claims["size"]:
        return Response("refused: fewer bytes than signed\n", status_code=400)
    try:
        storage.store(claims["key"], bytes(data), create_only=True)
    except FileExistsError:
        return Response("refused: an object is there already\n", status_code=412)
    return Response(status_code=200)


def _send(storage: LocalStorage, token: str) -> Response:
    try:
        claims = read_token(storage.signing_key, token, "get")
    except TokenError as exc:
        return Response(f"refused: {exc}\n", status_code=403)
    path = storage.path_of(claims["key"])
    if not path.is_file():
        return Response("no such object\n", status_code=404)
    media_type = MEDIA_TYPES.get(PurePosixPath(claims["key"]).suffix, "application/octet-stream")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=60"})
