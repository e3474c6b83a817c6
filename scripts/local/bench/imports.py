"""Import time: a function's main.py in a fresh interpreter, and where a real start spends its imports.

  import_ms        main.py alone (its whole dependency tree), or inside a functions-framework process
                   (only what the function adds);
  import_profile   one start under PYTHONPROFILEIMPORTTIME with the garbage collector off, self time
                   summed by top-level package;
  parse_gc_ms      the collector's time during a start, from a bench-only sitecustomize (write_hooks).
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from scripts.local.bench.servers import BenchError, Target, child_env, served

ROOT = Path(__file__).resolve().parents[3]
GC_ENV = "AIGYM_BENCH_GC"
_GC_LINE = "aigym-bench-gc "
_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")

_IMPORT_PROBE = """
import importlib.util, json, os, sys, time
source, root, preload = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
folder = os.path.dirname(source)
if preload:  # what the functions-framework process holds when it loads the module
    import functions_framework, functions_framework._cli, functions_framework.aio
if root:
    sys.path.insert(0, root)
sys.path.append(folder)  # as functions-framework does
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("main", source, submodule_search_locations=[folder])
module = importlib.util.module_from_spec(spec)
sys.modules["main"] = module
spec.loader.exec_module(module)
elapsed = time.perf_counter() - started
sys.stdout.write(json.dumps({"ms": elapsed * 1000, "modules": len(sys.modules)}))
"""

_SITECUSTOMIZE = f"""
import gc, os, sys, time
_mode = os.environ.get("{GC_ENV}", "")
if _mode == "off":
    gc.disable()
elif _mode == "time":
    _gc = {{"started": 0.0, "total": 0.0}}

    def _aigym_bench_gc(phase, info):
        if phase == "start":
            _gc["started"] = time.perf_counter()
            return
        _gc["total"] += time.perf_counter() - _gc["started"]
        sys.stderr.write("{_GC_LINE}%d %.3f\\n" % (os.getpid(), _gc["total"] * 1000))

    gc.callbacks.append(_aigym_bench_gc)
"""


def import_ms(target: Target, env: Mapping[str, str], *, in_server: bool) -> float:
    """Milliseconds to import a function's main.py in a fresh interpreter.

    in_server=False: the repository's functions/<name>/main.py on its own (its whole dependency tree);
    in_server=True: the bundle's main.py after functions_framework and functions_framework.aio, as in a
    real start, so only what the function adds is timed.
    """
    source = target.source if in_server or target.origin is None else target.origin
    root = "" if in_server or target.origin is None else str(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, str(source), root, "1" if in_server else "0"],
        cwd=source.parent,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(f"{target.name}: import failed\n{result.stderr[-2000:]}")
    return float(json.loads(result.stdout)["ms"])


def group_of(module: str) -> str:
    """The package an imported module is charged to: its top-level name, 'stdlib', or 'main'."""
    top = module.split(".", 1)[0]
    if top in sys.stdlib_module_names or top.startswith("_sysconfigdata") or top in {"site", "sitecustomize"}:
        return "stdlib"
    return top.lstrip("_") or top


def parse_importtime(text: str) -> dict[str, float]:
    """Self time (ms) per package from `-X importtime` output; the modules are counted once each."""
    groups: dict[str, float] = {}
    for line in text.splitlines():
        match = _IMPORTTIME.match(line)
        if match is None:
            continue
        group = group_of(match.group(4))
        groups[group] = groups.get(group, 0.0) + int(match.group(1)) / 1000
    return groups


def write_hooks(folder: Path) -> Path:
    """A sitecustomize for the instrumented starts only: AIGYM_BENCH_GC=off disables the garbage collector
    (so import times are not charged with collections), =time reports the time spent collecting."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    return folder


def timed_gc_env(hooks: Path) -> dict[str, str]:
    """The environment of a start whose garbage collection is timed (see parse_gc_ms)."""
    return {"PYTHONPATH": str(hooks), GC_ENV: "time"}


def import_profile(target: Target, env: Mapping[str, str], log_dir: Path, hooks: Path) -> dict[str, float]:
    """Import self time per package of one real start (server, worker, first request), in ms, GC off."""
    extra = {"PYTHONPROFILEIMPORTTIME": "1", "PYTHONPATH": str(hooks), GC_ENV: "off"}
    with served(target, env, log_dir, extra_env=extra) as server:
        pass
    return parse_importtime(server.log_path.read_text(errors="replace"))


def parse_gc_ms(text: str) -> float:
    """Garbage collection on the critical path of a start: the largest running total any process reported
    (a forked worker inherits the server's total, so its figure covers both)."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(_GC_LINE):
            _, pid, total = line.split()[:3]
            totals[pid] = float(total)
    return max(totals.values(), default=0.0)


def median_groups(profiles: list[dict[str, float]]) -> dict[str, float]:
    """The median of each package's import time over several profiled starts (absent counts as 0)."""
    names = {g for profile in profiles for g in profile}
    return {g: statistics.median(p.get(g, 0.0) for p in profiles) for g in names}
