"""Cold start: spawn to first 200, split into listening and first request, with import time and GC.

Every run visits every target in turn (round-robin), so drift on a shared machine hits all of them alike;
one discarded start per target first fills the page cache and the bytecode cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scripts.local.bench.imports import (
    import_ms,
    import_profile,
    median_groups,
    parse_gc_ms,
    timed_gc_env,
    write_hooks,
)
from scripts.local.bench.servers import Target, served
from scripts.local.bench.targets import choose_probe


@dataclass(slots=True)
class StartRuns:
    """One target's runs of each start measurement (ms), and its import profiles."""

    imports: list[float] = field(default_factory=list)
    imports_in_server: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)
    up: list[float] = field(default_factory=list)
    first_request: list[float] = field(default_factory=list)
    gc: list[float] = field(default_factory=list)
    profiles: list[dict[str, float]] = field(default_factory=list)

    def import_groups(self) -> dict[str, float]:
        """Median import self time per package over the profiled starts."""
        return median_groups(self.profiles)


def prepare(targets: list[Target], env: Mapping[str, str], log_dir: Path) -> None:
    """Choose each target's probe and start it once, discarded (page cache, bytecode, first connection)."""
    for target in targets:
        choose_probe(target, env, log_dir)
        with served(target, env, log_dir):
            pass


def measure_starts(
    targets: list[Target], env: Mapping[str, str], runs: int, work: Path, log_dir: Path
) -> dict[str, StartRuns]:
    """`runs` rounds over every target: imports, a plain start, a split and GC-timed start, a profiled start."""
    hooks = write_hooks(work / "hooks")
    found = {t.name: StartRuns() for t in targets}
    for _ in range(runs):
        for target in targets:
            runs_of = found[target.name]
            runs_of.imports.append(import_ms(target, env, in_server=False))
            runs_of.imports_in_server.append(import_ms(target, env, in_server=True))
            with served(target, env, log_dir) as server:
                runs_of.cold.append(server.first_200_ms)
            with served(target, env, log_dir, split=True, extra_env=timed_gc_env(hooks)) as server:
                up = server.up_ms or 0.0
                runs_of.up.append(up)
                runs_of.first_request.append(server.first_200_ms - up)
            runs_of.gc.append(parse_gc_ms(server.log_path.read_text(errors="replace")))
            runs_of.profiles.append(import_profile(target, env, log_dir, hooks))
    return found
