"""A start counted in instructions: the figure that does not move with the machine's load.

Wall-clock cold starts on two shared cores move by ±0.4× between runs minutes apart; the instructions a
start executes hardly move at all. Each target is started once in a fresh interpreter under callgrind
the way functions-framework starts it (its own modules and the server's, the function's ASGI app built
from its `main.py`) and then asked its probe request in-process; the count ends at the answer
(`os._exit`: no interpreter teardown). What it leaves out is the same for every target: gunicorn's
arbiter, the worker's fork and uvicorn's sockets. Needs valgrind (`apt-get install valgrind`); a start
takes ~20 s under it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from scripts.local.bench.servers import BenchError, Target, child_env

_START = """
import asyncio, os, sys
import functions_framework._cli, functions_framework.aio, functions_framework._http.gunicorn
import uvicorn_worker
app = functions_framework.aio.create_asgi_app(target="handler", source=sys.argv[1])
path, _, query = sys.argv[2].partition("?")
headers = [(k.lower().encode(), v.encode()) for k, v in zip(sys.argv[3::2], sys.argv[4::2])]
scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
         "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
         "headers": [(b"host", b"127.0.0.1")] + headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
sent = []
async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}
async def send(message):
    sent.append(message)
async def ask():
    await app(scope, receive, send)
try:
    import uvloop
    uvloop.run(ask())
except ImportError:
    asyncio.run(ask())
sys.stderr.write("BENCH_STATUS %d\\n" % sent[0]["status"])
sys.stderr.flush()
os._exit(0)
"""
"""One start to the probe's answer; argv: the bundle's main.py, the probe path, then header names and values."""
_COLLECTED = re.compile(r"Collected : (\d+)")
_STATUS = re.compile(r"BENCH_STATUS (\d+)")


def available() -> bool:
    """Whether valgrind is installed."""
    return shutil.which("valgrind") is not None


def count_start(target: Target, env: Mapping[str, str]) -> float:
    """Millions of instructions from the interpreter's start to the answer of the target's probe."""
    argv = [sys.executable, "-c", _START, str(target.source), target.path]
    for name, value in target.headers.items():
        argv += [name, value]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
            capture_output=True,
            text=True,
            cwd=target.source.parent,
            env=child_env(env, PYTHONHASHSEED="0"),
            timeout=600,
        )
    collected, status = _COLLECTED.search(done.stderr), _STATUS.search(done.stderr)
    if collected is None or status is None:
        raise BenchError(f"{target.name}: no count under callgrind\n{done.stderr[-2000:]}")
    if target.expect_200 and status.group(1) != "200":
        raise BenchError(f"{target.name}: the probe answered {status.group(1)} in-process, not 200")
    return int(collected.group(1)) / 1e6


def count_starts(targets: list[Target], env: Mapping[str, str]) -> dict[str, float]:
    """Every target's start counted once (deterministic: one is enough)."""
    return {target.name: count_start(target, env) for target in targets}
