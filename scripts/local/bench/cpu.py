"""CPU time of the processes under load, read from /proc (Linux; None elsewhere).

The server's share is its process group (the functions-framework arbiter and its worker). Postgres'
share is the cluster: the postmaster, every process it started (backends, autovacuum, walwriter…), and
the children it has already reaped (a backend that ended during the run), read as the postmaster's
cutime and cstime.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcessTimes:
    """One line of /proc/<pid>/stat, the fields the bench reads (clock ticks)."""

    pid: int
    ppid: int
    pgrp: int
    own_ticks: int
    """utime + stime."""
    reaped_children_ticks: int
    """cutime + cstime: children that ended and were waited for."""


def parse_stat(pid: int, text: str) -> ProcessTimes:
    """Read /proc/<pid>/stat; the command name may hold spaces and parentheses, so split after its last ')'."""
    fields = text.rsplit(")", 1)[1].split()
    # After the name: state, ppid, pgrp, … utime (11), stime (12), cutime (13), cstime (14).
    return ProcessTimes(
        pid=pid,
        ppid=int(fields[1]),
        pgrp=int(fields[2]),
        own_ticks=int(fields[11]) + int(fields[12]),
        reaped_children_ticks=int(fields[13]) + int(fields[14]),
    )


def processes(proc: Path = PROC) -> list[ProcessTimes] | None:
    """Every process's times right now; None where there is no /proc."""
    if not proc.is_dir():
        return None
    found = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            found.append(parse_stat(int(stat.parent.name), stat.read_text()))
        except (OSError, IndexError, ValueError):
            continue  # ended while we looked
    return found


def _seconds(ticks: int) -> float:
    return ticks / os.sysconf("SC_CLK_TCK")


def group_cpu_s(pgid: int, proc: Path = PROC) -> float | None:
    """CPU seconds used so far by the processes of group `pgid`."""
    table = processes(proc)
    if table is None:
        return None
    return _seconds(sum(p.own_ticks for p in table if p.pgrp == pgid))


def cluster_cpu_s(postmaster: int, proc: Path = PROC) -> float | None:
    """CPU seconds used so far by a Postgres cluster: the postmaster, its children, and those it reaped."""
    table = processes(proc)
    if table is None:
        return None
    ticks = sum(p.own_ticks for p in table if p.ppid == postmaster)
    ticks += sum(p.own_ticks + p.reaped_children_ticks for p in table if p.pid == postmaster)
    return _seconds(ticks)


def postmaster_pid(database_url: str) -> int | None:
    """The pid of the postmaster serving `database_url`, when it runs on this machine and we may see it.

    Read from `postmaster.pid` in the server's data directory (asking for it needs a superuser or
    pg_read_all_settings, which the local stack's login has); None for a server elsewhere.
    """
    import psycopg

    try:
        with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("select current_setting('data_directory')").fetchone()
        pid = int((Path(row[0]) / "postmaster.pid").read_text().split("\n", 1)[0]) if row else None
    except (psycopg.Error, OSError, ValueError):
        return None
    return pid if pid is not None and (PROC / str(pid)).is_dir() else None
