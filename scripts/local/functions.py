"""Find the functions in `functions/` and serve them all under /functions/v1/<name> in one ASGI app."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from types import ModuleType
from typing import Any

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
PREFIX = "/functions/v1/"
STORAGE_PREFIX = "/storage/v1/local/"
"""The local storage endpoints (uploads' signed URLs on the local stack), mounted beside the functions."""

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def discover(directory: Path = FUNCTIONS_DIR) -> dict[str, Path]:
    """Function name → its main.py, for every folder of `functions/` that has one."""
    return {path.parent.name: path for path in sorted(directory.glob("*/main.py"))}


def load(name: str, directory: Path = FUNCTIONS_DIR) -> ModuleType:
    """Import one function's main.py under a unique module name (every function's file is `main.py`)."""
    module_name = "aigym_function_" + name.replace("-", "_")
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, directory / name / "main.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load function {name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


class LocalGateway:
    """One ASGI app that routes /functions/v1/<name>/… to that function's handler, as Supabase's gateway does.

    It also serves /storage/v1/local/…: the signed upload and download URLs of the local object storage.
    """

    def __init__(self, names: list[str] | None = None) -> None:
        from shared.platform.http import Function

        self.handlers = {name: load(name).handler for name in (names or list(discover()))}
        # A function with no routes: an unknown function's path gets the same 404 problem (request id,
        # CORS, access log) as an unknown path inside a known function.
        self.unknown = Function("gateway").handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        from starlette.requests import Request

        path: str = scope.get("path", "")
        if path.startswith(STORAGE_PREFIX):
            from scripts.local.storage_server import serve_storage

            response = await serve_storage(Request(scope, receive))
            await response(scope, receive, send)
            return
        name = path[len(PREFIX) :].split("/", 1)[0] if path.startswith(PREFIX) else ""
        handler = self.handlers.get(name, self.unknown)
        response = await handler(Request(scope, receive))
        await response(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        from shared.platform.db import close_pool

        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await close_pool()
                await send({"type": "lifespan.shutdown.complete"})
                return
