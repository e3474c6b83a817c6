"""The bench's readers and accounting: /proc CPU, wrk output, request bodies, the report's ratios."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scripts.local.bench import cpu, instructions
from scripts.local.bench.imports import parse_gc_ms, parse_importtime
from scripts.local.bench.loadgen import Requests, etag_of
from scripts.local.bench.report import Report, Sample, render
from scripts.local.bench.servers import Target
from scripts.local.bench.targets import HELLO_SOURCE
from scripts.local.bench.throughput import LoadResult, parse_wrk, per_request_us, wrk_script

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int, name: str, ppid: int, pgrp: int, utime: int, stime: int, cut: int = 0, cst: int = 0) -> str:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
    return f"{pid} ({name}) S {ppid} {pgrp} 0 0 -1 0 0 0 0 0 {utime} {stime} {cut} {cst} 20 0 1 0 0\n"


def _fake_proc(tmp_path: Path, stats: list[str]) -> Path:
    for line in stats:
        folder = tmp_path / line.split(" ", 1)[0]
        folder.mkdir()
        (folder / "stat").write_text(line)
    return tmp_path


def test_stat_is_read_after_the_last_parenthesis_of_the_name() -> None:
    times = cpu.parse_stat(42, _stat(42, "postgres: a (b) c", ppid=7, pgrp=7, utime=5, stime=3, cut=2, cst=1))
    assert (times.ppid, times.pgrp, times.own_ticks, times.reaped_children_ticks) == (7, 7, 8, 3)


def test_cluster_cpu_counts_postmaster_children_and_reaped_children_only(tmp_path: Path) -> None:
    proc = _fake_proc(
        tmp_path,
        [
            _stat(100, "postgres", ppid=1, pgrp=100, utime=10, stime=0, cut=30, cst=10),  # postmaster
            _stat(101, "postgres: aigym aigym_bench idle", ppid=100, pgrp=100, utime=200, stime=50),
            _stat(102, "postgres: autovacuum launcher", ppid=100, pgrp=100, utime=5, stime=5),
            _stat(200, "python", ppid=1, pgrp=200, utime=999, stime=999),  # someone else
        ],
    )
    assert cpu.cluster_cpu_s(100, proc) == (10 + 30 + 10 + 250 + 10) / TICKS
    assert cpu.group_cpu_s(200, proc) == 1998 / TICKS
    assert cpu.cluster_cpu_s(100, tmp_path / "missing") is None


def test_cpu_per_request_needs_both_readings() -> None:
    assert per_request_us(1.0, 1.5, 1000) == 500.0
    assert per_request_us(None, 1.5, 1000) is None
    assert per_request_us(1.0, 1.5, 0) is None


WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:40000/me
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    45.91ms    9.12ms  98.01ms   80.00%
  Latency Distribution
     50%   43.39ms
     75%   50.00ms
     90%   60.00ms
     99%   73.72ms
  3305 requests in 5.00s, 3.10MB read
  Non-2xx or 3xx responses: 4
Requests/sec:    661.00
Transfer/sec:    634.00KB
"""


def test_wrk_output_is_read() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert (result.requests, result.seconds, result.rps, result.non_2xx) == (3305, 5.0, 661.0, 4)
    assert (result.p50_ms, result.p99_ms) == (43.39, 73.72)


def test_wrk_script_sends_the_body_with_a_unique_value_per_request() -> None:
    script = wrk_script("POST", '{"name": "bench {n}", "x": "]]"}', "ab12-")
    assert 'wrk.method = [[POST]]' in script
    assert 'local template = [=[{"name": "bench {n}", "x": "]]"}]=]' in script
    assert 'template:gsub("{n}", prefix .. (tid or 0) .. "-" .. counter)' in script
    assert "local template = nil" in wrk_script("GET", None, "ab12-")


def test_python_load_generator_makes_every_body_unique() -> None:
    requests = Requests("http://127.0.0.1:9/tags?x=1", "POST", {"A": "b"}, '{"name": "bench {n}"}')
    first, second = requests.next(0, 1), requests.next(1, 1)
    assert first != second
    head, body = first.split(b"\r\n\r\n", 1)
    assert head.startswith(b"POST /tags?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nA: b\r\n")
    assert f"Content-Length: {len(body)}".encode() in head and b"{n}" not in body
    plain = Requests("http://127.0.0.1:9/me", "GET", {}, None)
    assert plain.next(0, 1) == plain.next(3, 9) == b"GET /me HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n"


def test_a_scenario_of_bodies_sends_each_in_turn_over_every_connection_and_thread() -> None:
    script = wrk_script("POST", None, "ab12-", bodies=['{"t": 1}', '{"t": 2}', '{"t": 3}'], threads=2)
    assert 'local bodies = {[[{"t": 1}]],\n[[{"t": 2}]],\n[[{"t": 3}]]}' in script
    assert "local thread_count = 2" in script
    assert "bodies[((counter - 1) * thread_count + (tid or 1) - 1) % #bodies + 1]" in script
    assert "local bodies = nil" in wrk_script("POST", "{}", "ab12-")
    requests = Requests("http://127.0.0.1:9/p", "POST", {}, None, bodies=['{"t": 1}', '{"t": 2}'])
    sent = [requests.next(worker, 1).split(b"\r\n\r\n", 1)[1] for worker in (0, 1, 0)]
    assert sent == [b'{"t": 1}', b'{"t": 2}', b'{"t": 1}']
    assert b"Content-Length: 8\r\n" in requests.next(0, 2)


def test_a_chained_scenario_sends_the_previous_answers_etag_as_if_match() -> None:
    script = wrk_script("PUT", '{"title": "{n}"}', "ab12-", '"e1"')
    assert "local etag = [[\"e1\"]]" in script and 'wrk.headers["If-Match"] = etag' in script
    assert 'etag = headers["etag"] or headers["ETag"] or etag' in script
    assert "function response" not in wrk_script("PUT", "{}", "ab12-")
    requests = Requests("http://127.0.0.1:9/w", "PUT", {"If-Match": '"e1"'}, "{}", chain_etag=True)
    assert requests.next(0, 1).count(b"If-Match") == 1 and b'If-Match: "e1"' in requests.next(0, 1)
    requests.if_match = etag_of(b'HTTP/1.1 200 OK\r\nETag: "e2"\r\ncontent-length: 2\r\n\r\n')
    assert b'If-Match: "e2"' in requests.next(0, 2)
    assert etag_of(b"HTTP/1.1 200 OK\r\n\r\n") is None


def test_import_profile_and_gc_lines_are_summed() -> None:
    text = (
        "import time:       300 |        300 |   json\n"
        "import time:      1500 |       2000 | shared.platform.http\n"
        "import time:       500 |        500 | shared\n"
        "aigym-bench-gc 11 4.000\naigym-bench-gc 12 6.500\naigym-bench-gc 11 5.000\n"
    )
    assert parse_importtime(text) == {"stdlib": 0.3, "shared": 2.0}
    assert parse_gc_ms(text) == 6.5


def _load(rps: float, server: float, postgres: float | None, trips: int | None) -> LoadResult:
    return LoadResult(
        "wrk", int(rps * 5), 5.0, rps, 1.0, 2.0, 0, 0,
        server_cpu_us_per_request=server, postgres_cpu_us_per_request=postgres, db_round_trips=trips,
    )  # fmt: skip


def test_report_gives_ratios_to_the_hello_world_and_postgres_cpu() -> None:
    report = Report("now", {"cpus": 2, "python": "3.11", "loadavg_before": [0.1]}, {}, {})
    report.server = {"functions_framework": "3", "runner": "gunicorn", "loop": "uvloop", "http": "httptools"}
    report.settings = {"runs": 1, "duration_s": 5, "concurrency": 32, "loadgen": "wrk -t1"}
    for name, ms in (("hello", 200.0), ("me", 360.0)):
        for samples in (report.imports, report.imports_in_server, report.cold, report.up, report.first_request):
            samples[name] = Sample([ms])
        report.gc[name] = Sample([10.0])
    report.load = {
        "hello": _load(15000, 50, None, None),
        "me": _load(750, 1000, 800, 2),
        "members-list": _load(450, 1500, 2000, 3),
    }
    ratios = report.ratios()
    assert ratios["cold_start_vs_hello"] == {"me": 1.8}
    assert ratios["throughput_vs_hello"] == {"me": 0.05, "members-list": 0.03}
    assert ratios["server_cpu_vs_hello"] == {"me": 20.0, "members-list": 30.0}
    assert ratios["db_round_trips"] == {"me": 2, "members-list": 3}
    text = render(report)
    assert "5.0% MISSED" in text  # me: 10 % of the hello-world's req/s is the target
    assert [line.split()[-4:-1] for line in text.splitlines() if line.startswith("members-list")] == [
        ["30.0x", "2000", "3"]
    ]
    assert report.to_json()["load"]["me"]["postgres_cpu_us_per_request"] == 800


def test_report_gives_cold_starts_and_counted_starts_against_the_floor_too() -> None:
    report = Report("now", {"cpus": 2, "python": "3.11", "loadavg_before": [0.1]}, {}, {})
    report.server = {"functions_framework": "3", "runner": "gunicorn", "loop": "uvloop", "http": "httptools"}
    report.settings = {"runs": 1, "duration_s": 5, "concurrency": 32, "loadgen": "wrk -t1"}
    for name, ms in (("hello", 200.0), ("floor", 350.0), ("me", 385.0)):
        for samples in (report.imports, report.imports_in_server, report.cold, report.up, report.first_request):
            samples[name] = Sample([ms])
        report.gc[name] = Sample([10.0])
    report.instructions = {"hello": 800.0, "floor": 1400.0, "me": 1540.0}
    ratios = report.ratios()
    assert ratios["cold_start_vs_hello"] == {"floor": 1.75, "me": 1.93}
    assert ratios["cold_start_vs_floor"] == {"me": 1.1}  # neither base is measured against itself
    assert ratios["instructions_vs_hello"] == {"floor": 1.75, "me": 1.925}
    assert ratios["instructions_vs_floor"] == {"hello": 0.571, "me": 1.1}
    text = render(report).splitlines()
    assert next(line.split() for line in text if line.startswith("  me ")) == ["me", "1.93x", "MISSED", "1.10x", "floor"]
    assert [line.split() for line in text if line.startswith("me ")][-1] == ["me", "1540", "1.93x", "1.10x"]
    assert report.to_json()["targets"]["me"]["start_instructions_m"] == 1540.0


@pytest.mark.skipif(not instructions.available(), reason="valgrind is not installed (apt-get install valgrind)")
def test_a_start_is_counted_to_the_probes_answer_under_callgrind(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(HELLO_SOURCE)
    count = instructions.count_start(Target("hello", tmp_path / "main.py", "/"), dict(os.environ))
    assert 100 < count < 5000  # millions: the interpreter and functions-framework, not nothing, not a hang
