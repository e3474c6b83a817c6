"""What one bench run measured, as ratios to the hello-world, a table, and JSON."""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scripts.local.bench.learning import WorkerResult
from scripts.local.bench.targets import FLOOR, HELLO
from scripts.local.bench.throughput import LoadResult

COLD_START_TARGET = 1.5
THROUGHPUT_TARGETS = {"health": 0.50, "me": 0.10}
"""Issue 9's targets, as a share of the hello-world's req/s measured in the same run."""
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(slots=True)
class Sample:
    """The runs of one measurement and their median (milliseconds)."""

    runs: list[float]

    @property
    def median(self) -> float:
        """The median run."""
        return statistics.median(self.runs)

    def as_dict(self) -> dict[str, Any]:
        """Median, spread and every run, rounded."""
        return {
            "median_ms": round(self.median, 2),
            "min_ms": round(min(self.runs), 2),
            "max_ms": round(max(self.runs), 2),
            "runs_ms": [round(r, 2) for r in self.runs],
        }


def _ratio(value: float | None, base: float | None, digits: int = 3) -> float | None:
    return round(value / base, digits) if value is not None and base else None


@dataclass(slots=True)
class Report:
    """Everything one run measured."""

    started: str
    machine: dict[str, Any]
    server: dict[str, str]
    settings: dict[str, Any]
    imports: dict[str, Sample] = field(default_factory=dict)
    imports_in_server: dict[str, Sample] = field(default_factory=dict)
    cold: dict[str, Sample] = field(default_factory=dict)
    up: dict[str, Sample] = field(default_factory=dict)
    first_request: dict[str, Sample] = field(default_factory=dict)
    gc: dict[str, Sample] = field(default_factory=dict)
    import_groups: dict[str, dict[str, float]] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    load: dict[str, LoadResult] = field(default_factory=dict)
    """Scenario name → what its load measured (the hello-world's scenario is named HELLO)."""
    worker: WorkerResult | None = None
    """The worker applying completion events, when measured."""
    instructions: dict[str, float] = field(default_factory=dict)
    """Millions of instructions from a start to its probe's answer, counted (`--instructions`)."""

    def ratios(self) -> dict[str, Any]:
        """Every figure that carries over between machines: shares of the hello-world's."""
        ratios: dict[str, Any] = {"cold_start_target": COLD_START_TARGET}
        if HELLO in self.cold:
            hello_cold = self.cold[HELLO].median
            ratios["cold_start_vs_hello"] = {
                n: round(s.median / hello_cold, 2) for n, s in self.cold.items() if n != HELLO
            }
        if FLOOR in self.cold:
            floor_cold = self.cold[FLOOR].median
            ratios["cold_start_vs_floor"] = {
                n: round(s.median / floor_cold, 2) for n, s in self.cold.items() if n not in (HELLO, FLOOR)
            }
        for base in (HELLO, FLOOR):
            if base in self.instructions:
                ratios[f"instructions_vs_{base}"] = {
                    n: round(m / self.instructions[base], 3) for n, m in self.instructions.items() if n != base
                }
        hello = self.load.get(HELLO)
        if hello is not None:
            others = {n: r for n, r in self.load.items() if n != HELLO}
            ratios["throughput_vs_hello"] = {n: _ratio(r.rps, hello.rps) for n, r in others.items()}
            ratios["throughput_targets"] = THROUGHPUT_TARGETS
            ratios["server_cpu_vs_hello"] = {
                n: _ratio(r.server_cpu_us_per_request, hello.server_cpu_us_per_request, 1)
                for n, r in others.items()
            }
        ratios["db_round_trips"] = {n: r.db_round_trips for n, r in self.load.items() if n != HELLO}
        return ratios

    def added_imports(self, name: str, top: int = 8) -> list[tuple[str, float]]:
        """The packages whose import self time `name` adds over the hello-world, largest first."""
        base = self.import_groups.get(HELLO, {})
        added = [(g, ms - base.get(g, 0.0)) for g, ms in self.import_groups.get(name, {}).items()]
        return sorted((a for a in added if a[1] >= 1.0), key=lambda a: -a[1])[:top]

    def to_json(self) -> dict[str, Any]:
        """The whole run, as written to bench-results/."""
        return {
            "started": self.started,
            "machine": self.machine,
            "server": self.server,
            "settings": self.settings,
            "ratios": self.ratios(),
            "targets": {name: self._target_json(name) for name in self.cold},
            "load": {name: asdict(result) for name, result in self.load.items()},
            "worker": None if self.worker is None else asdict(self.worker),
        }

    def _target_json(self, name: str) -> dict[str, Any]:
        def sample(samples: dict[str, Sample]) -> dict[str, Any] | None:
            return samples[name].as_dict() if name in samples else None

        groups = self.import_groups.get(name, {})
        return {
            "path": self.paths.get(name),
            "import_alone": sample(self.imports),
            "import_in_server": sample(self.imports_in_server),
            "cold_start": sample(self.cold),
            "listening": sample(self.up),
            "first_request": sample(self.first_request),
            "gc_during_start": sample(self.gc),
            "start_instructions_m": self.instructions.get(name),
            "import_self_ms_by_package": {
                g: round(ms, 2) for g, ms in sorted(groups.items(), key=lambda i: -i[1])
            },
            "added_over_hello_ms": {g: round(ms, 2) for g, ms in self.added_imports(name, top=100)},
        }

    def save(self, folder: Path, stamp: str) -> Path:
        """Write the JSON into `folder`; its path."""
        folder.mkdir(exist_ok=True)
        out = folder / f"bench-{stamp}.json"
        out.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return out


def _verdict(value: float | None, target: float | None, *, at_most: bool, percent: bool) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.1%}" if percent else f"{value:.2f}x"
    if target is None:
        return text
    ok = value <= target if at_most else value >= target
    return f"{text} {'ok' if ok else 'MISSED'}"


def _num(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def render(report: Report) -> str:
    """The human-readable summary: ratios first, then the figures behind them."""
    lines = _header(report) + _cold_lines(report) + _instruction_lines(report) + _load_lines(report)
    lines += _worker_lines(report)
    return "\n".join(lines + _import_lines(report))


def _header(report: Report) -> list[str]:
    machine, server, settings = report.machine, report.server, report.settings
    return [
        f"AI GYM bench {report.started} - {machine['cpus']} CPUs, Python {machine['python']}, "
        f"load average {machine['loadavg_before']} before, {machine.get('loadavg_after')} after",
        f"server: functions-framework {server['functions_framework']} --asgi -> {server['runner']}, "
        f"{server['loop']} + {server['http']}",
        f"load: {settings['loadgen']}, {settings['concurrency']} connections, "
        f"{settings['duration_s']} s per scenario, loopback; medians of {settings['runs']} runs",
        "",
    ]


def _cold_lines(report: Report) -> list[str]:
    all_ratios = report.ratios()
    ratios, to_floor = all_ratios.get("cold_start_vs_hello", {}), all_ratios.get("cold_start_vs_floor", {})
    w = max((len(n) for n in report.cold), default=5) + 1
    lines = [
        f"cold start vs hello-world (target <= {COLD_START_TARGET}x), and vs {FLOOR} (a database function"
        " made of the libraries alone: one pydantic model, psycopg's pool, one query):"
    ]
    for name, ratio in ratios.items():
        probe = "  (no 200 to ask for: any answer)" if report.paths.get(name, "").endswith("(any answer)") else ""
        floor = f"  {to_floor[name]:.2f}x {FLOOR}" if name in to_floor else ""
        verdict = _verdict(ratio, COLD_START_TARGET, at_most=True, percent=False)
        lines.append(f"  {name:<{w}} {verdict:<13}{floor}{probe}")
    lines += [
        "",
        f"{'target':<{w}} {'import':>7} {'in ff':>6} {'cold start':>11} {'(min-max)':>10} {'listening':>10}"
        f" {'1st req':>8} {'gc':>5}",
        f"{'':<{w}} {'ms':>7} {'ms':>6} {'ms':>11} {'':>10} {'ms':>10} {'ms':>8} {'ms':>5}",
    ]
    for name, cold in report.cold.items():
        up, first, gc = report.up.get(name), report.first_request.get(name), report.gc.get(name)
        spread = f"{min(cold.runs):.0f}-{max(cold.runs):.0f}"
        lines.append(
            f"{name:<{w}} {report.imports[name].median:>7.1f} {report.imports_in_server[name].median:>6.1f}"
            f" {cold.median:>11.1f} {spread:>10} {up.median if up else 0:>10.1f}"
            f" {first.median if first else 0:>8.1f} {gc.median if gc else 0:>5.0f}"
        )
    return lines


def _instruction_lines(report: Report) -> list[str]:
    if not report.instructions:
        return []
    ratios = report.ratios()
    to_hello, to_floor = ratios.get(f"instructions_vs_{HELLO}", {}), ratios.get(f"instructions_vs_{FLOOR}", {})
    w = max(len(n) for n in report.instructions) + 1
    lines = [
        "",
        "a start counted (callgrind, in-process: interpreter, functions-framework, the function, its probe):",
        f"{'target':<{w}} {'M instr':>8} {'vs hello':>9} {'vs floor':>9}",
    ]
    for name, count in report.instructions.items():
        hello, floor = to_hello.get(name), to_floor.get(name)
        lines.append(
            f"{name:<{w}} {count:>8.0f} {_num(hello, '.2f') + ('x' if hello else ''):>9}"
            f" {_num(floor, '.2f') + ('x' if floor else ''):>9}"
        )
    return lines


def _load_lines(report: Report) -> list[str]:
    if not report.load:
        return []
    ratios = report.ratios()
    throughput, cpu = ratios.get("throughput_vs_hello", {}), ratios.get("server_cpu_vs_hello", {})
    w = max(len(n) for n in report.load) + 1
    routes = {n: _UUID.sub("{id}", f"{x.method} {x.path}") for n, x in report.load.items()}
    r = max(len(route) for route in routes.values()) + 1
    lines = [
        "",
        "under load (server CPU: the function's process group; Postgres CPU: every process of the cluster;"
        " round trips: Server-Timing):",
        f"{'scenario':<{w}} {'route':<{r}} {'req/s':>7} {'vs hello':>14} {'p50':>6} {'p99':>6}"
        f" {'server':>7} {'vs hello':>8} {'postgres':>8} {'rt':>3} {'non-2xx':>7}",
        f"{'':<{w}} {'':<{r}} {'':>7} {'':>14} {'ms':>6} {'ms':>6} {'us/req':>7} {'':>8} {'us/req':>8}",
    ]
    for name, load in report.load.items():
        share = _verdict(throughput.get(name), THROUGHPUT_TARGETS.get(name), at_most=False, percent=True)
        lines.append(
            f"{name:<{w}} {routes[name]:<{r}} {load.rps:>7.0f}"
            f" {'' if name == HELLO else share:>14} {load.p50_ms:>6.2f} {load.p99_ms:>6.2f}"
            f" {_num(load.server_cpu_us_per_request, '.0f'):>7}"
            f" {_num(cpu.get(name), '.1f') + ('x' if cpu.get(name) else ''):>8}"
            f" {_num(load.postgres_cpu_us_per_request, '.0f'):>8}"
            f" {_num(load.db_round_trips, 'd'):>3} {load.non_2xx + load.errors:>7}"
        )
    return lines


def _worker_lines(report: Report) -> list[str]:
    w = report.worker
    if w is None:
        return []
    return [
        "",
        f"worker: {w.events} learning.completed events applied in {w.seconds:.2f} s = {w.events_per_s:.0f} events/s"
        f" ({w.batches} batches of up to {w.batch_size}; {w.delivered} deliveries with the awards they sent)",
    ]


def _import_lines(report: Report) -> list[str]:
    w = max((len(n) for n in report.cold), default=5) + 1
    hello_total = sum(report.import_groups.get(HELLO, {}).values())
    lines = [
        "",
        "import self time added over the hello-world, by package (server + worker + first request,"
        " GC off; median of the profiled starts):",
        f"  {HELLO:<{w}} {hello_total:.0f} ms of imports in all",
    ]
    for name in report.cold:
        if name == HELLO:
            continue
        added = report.added_imports(name)
        total = sum(ms for _, ms in report.added_imports(name, top=100))
        text = ", ".join(f"{g} {ms:.0f}" for g, ms in added) or "nothing measurable"
        lines.append(f"  {name:<{w}} +{total:.0f} ms: {text}")
    return lines
