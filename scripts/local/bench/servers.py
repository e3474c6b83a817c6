"""The servers the bench measures: one functions-framework process per target, started, probed, stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
POLL_INTERVAL_S = 0.005
START_TIMEOUT_S = 30.0
UP_PATH = "/__bench_up__"
"""Answered by every target without a token or the database (a 404 from a function, "ok" from hello)."""


class BenchError(RuntimeError):
    """A target could not be measured (did not start, never answered 200, load tool failed)."""


@dataclass(slots=True)
class Target:
    """One thing to measure: the hello-world or a function's bundle, and the request that proves it is up."""

    name: str
    source: Path
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    expect_200: bool = True
    """False for a function with no request this benchmark can make succeed: any answer ends its start."""
    candidates: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """Requests to try, in order, for the first one that answers 200 (chosen once, before measuring)."""
    origin: Path | None = None
    """The repository's functions/<name>/main.py the bundle was built from."""


@dataclass(frozen=True, slots=True)
class Started:
    """A server that answered: its port, process group, and the milliseconds it took."""

    port: int
    pgid: int
    log_path: Path
    """Where the server's stdout and stderr went."""
    first_200_ms: float
    """Spawn to the first 200 on the target's path: the cold start."""
    up_ms: float | None = None
    """Spawn to the first answer of any status on UP_PATH (when asked for): the server is listening."""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_NOT_INHERITED = {
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONPROFILEIMPORTTIME",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPYCACHEPREFIX",
}
"""Kept from the served functions: the repository on the path, and what would stop the discarded first
start from writing the bundle's bytecode beside it (every measured start would compile `shared` again)."""


def child_env(base: Mapping[str, str], **extra: str) -> dict[str, str]:
    """The environment of a served function: the stack's settings, no repository on PYTHONPATH, bytecode kept."""
    env = {k: v for k, v in base.items() if k not in _NOT_INHERITED}
    env.update(extra)
    return env


def _server_argv(target: Target, port: int) -> list[str]:
    return [
        str(BIN / "functions-framework"),
        *("--target", "handler", "--asgi", "--source", str(target.source)),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and its gunicorn worker: they share the process group started for it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGINT)  # gunicorn: quick shutdown
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def raw_request(target: Target, port: int) -> bytes:
    """The target's probe as the bytes of one HTTP/1.1 request that closes its connection."""
    lines = [f"GET {target.path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in target.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_once(port: int, request: bytes, timeout_s: float) -> int | None:
    """The status code of one request over a fresh connection, or None while nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
            sock.sendall(request)
            head = b""
            while b"\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                head += chunk
    except OSError:
        return None
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


def _wait_for(
    port: int,
    request: bytes,
    accept: Callable[[int | None], bool],
    process: subprocess.Popen[bytes],
    deadline: float,
) -> int | None:
    """Send `request` every POLL_INTERVAL_S until its status is accepted; the status, or None on timeout."""
    while True:
        status = status_once(port, request, timeout_s=START_TIMEOUT_S)
        if accept(status):
            return status
        if process.poll() is not None or time.perf_counter() > deadline:
            return None
        time.sleep(POLL_INTERVAL_S)


@contextlib.contextmanager
def served(
    target: Target,
    env: Mapping[str, str],
    log_dir: Path,
    *,
    split: bool = False,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Started]:
    """Start the target's server and yield it once it answered 200; stop it afterwards.

    With `split`, first wait for any answer on UP_PATH (a 404 that needs neither token nor database), so
    the cold start divides into "server listening" and "first real request".
    """
    port = free_port()
    log_path = log_dir / f"{target.name}-{port}.log"
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            _server_argv(target, port),
            cwd=target.source.parent,
            env=child_env(env, **(extra_env or {})),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = started + START_TIMEOUT_S
            up_ms = None
            if split:
                up = raw_request(Target(target.name, target.source, UP_PATH), port)
                if _wait_for(port, up, lambda s: s is not None, process, deadline) is None:
                    raise BenchError(f"{target.name}: never answered.\n{tail(log_path)}")
                up_ms = (time.perf_counter() - started) * 1000
            accept: Callable[[int | None], bool] = (
                (lambda s: s == 200) if target.expect_200 else (lambda s: s is not None)
            )
            status = _wait_for(port, raw_request(target, port), accept, process, deadline)
            if status is None or not accept(status):
                raise BenchError(f"{target.name}: no 200 on {target.path}.\n{tail(log_path)}")
            yield Started(port, process.pid, log_path, (time.perf_counter() - started) * 1000, up_ms)
        finally:
            stop_server(process)


def tail(path: Path) -> str:
    """The end of a server's log, for an error message."""
    return path.read_text(errors="replace")[-2000:]
