"""The collector around a served function's start: paused while it loads, resumed after, never left off."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.platform import startup

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def collector() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.fixture
def as_served(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "functions_framework", sys.modules[__name__])


@pytest.mark.usefixtures("collector", "as_served")
def test_a_served_import_pauses_the_collector_until_the_function_is_declared() -> None:
    gc.enable()
    startup.pause_while_importing()
    assert not gc.isenabled()
    startup.released()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("collector", "as_served")
def test_a_collector_switched_off_before_the_import_stays_off() -> None:
    gc.disable()
    startup.pause_while_importing()
    startup.released()
    assert not gc.isenabled()
    with startup.loading():
        pass
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_outside_functions_framework_nothing_is_paused_or_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "functions_framework", raising=False)
    gc.enable()
    startup.pause_while_importing()
    assert gc.isenabled()
    with startup.loading():
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("collector", "as_served")
def test_loading_resumes_the_collector_even_when_the_load_fails() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), startup.loading():
        raise RuntimeError
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


_SERVED_START = """
import asyncio, gc, sys
import functions_framework.aio
app = functions_framework.aio.create_asgi_app(target="handler", source=sys.argv[1])
after_import = gc.isenabled()
statuses = []
scope = {"type": "http", "method": "GET", "path": "/health/live", "raw_path": b"/health/live",
         "query_string": b"", "headers": [(b"host", b"127.0.0.1")], "http_version": "1.1",
         "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1), "root_path": ""}
async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}
async def send(message):
    if message["type"] == "http.response.start":
        statuses.append(message["status"])
asyncio.run(app(scope, receive, send))
print(after_import, gc.isenabled(), statuses[0], gc.get_freeze_count() > 0)
"""


def test_a_served_function_starts_with_the_collector_resumed() -> None:
    found = subprocess.run(
        [sys.executable, "-c", _SERVED_START, str(ROOT / "functions" / "health" / "main.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert found.stdout.splitlines()[-1].split() == ["True", "True", "200", "True"]
