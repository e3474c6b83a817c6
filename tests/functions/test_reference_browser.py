"""The API reference in a real headless browser: routes and schemas are rendered, a screenshot is taken.

Chromium comes from the machine (Debian's `chromium`; `scripts/test` installs it when it can). Off CI a
machine without a browser skips this file with the reason; on CI (CI=true) a missing browser fails it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BROWSER = next(
    (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None
)
if BROWSER is None:
    if os.environ.get("CI"):
        raise RuntimeError("no headless browser on CI: scripts/test should have installed chromium")
    pytest.skip("no chromium on this machine (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def base_url(gateway: Any) -> Iterator[str]:
    """The gateway served over real HTTP on a free local port, for the length of this module."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(gateway, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the local server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/functions/v1"
    server.should_exit = True
    thread.join(timeout=10)


def browse(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on `url`, letting the page's scripts run for up to 20 s of virtual time."""
    assert BROWSER is not None
    command = [
        BROWSER,
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--virtual-time-budget=20000",
        "--window-size=1280,2400",
        *extra,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("path", ["/openapi", "/openapi/"])
def test_reference_renders_every_function_route_and_the_schemas(base_url: str, path: str) -> None:
    result = browse(base_url + path, "--dump-dom")
    dom = result.stdout
    assert 'class="swagger-ui' in dom, result.stderr[-2000:]
    for route in ("/functions/v1/me", "/functions/v1/tags/{tag_id}", "/functions/v1/staff/{user_id}"):
        assert f'data-path="{route}"' in dom, route
    assert "Authorize" in dom  # a bearer token can be entered to try calls
    for schema in ("MeView", "Problem", "TagView"):
        assert schema in dom, schema


def test_screenshot_of_the_reference(base_url: str, tmp_path: Path) -> None:
    shot = tmp_path / "reference.png"
    result = browse(base_url + "/openapi", f"--screenshot={shot}")
    assert shot.exists(), result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
