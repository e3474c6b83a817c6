"""A PgBouncer in transaction mode in front of the test server, as Supabase's transaction pooler stands in front of Postgres.

One server connection per database (`default_pool_size = 1`), handed to the next client as soon as a
transaction ends, and never reset between clients (transaction mode runs no `server_reset_query`): whatever
one client's transaction leaves on the session, the next client sees. PgBouncer refuses to run as root, so
when we are root it runs as the unprivileged account the embedded Postgres runs as.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

PGBOUNCER = shutil.which("pgbouncer") or next(
    (path for path in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(path, os.X_OK)), None
)
"""The PgBouncer binary (Debian installs it in /usr/sbin, which an unprivileged PATH may lack), or None."""
_START_TIMEOUT_S = 20


class PgBouncer:
    """A PgBouncer process in `pool_mode = transaction` in front of the server `server_dsn` names."""

    def __init__(self, server_dsn: str) -> None:
        from psycopg.conninfo import conninfo_to_dict

        if PGBOUNCER is None:
            raise RuntimeError("no pgbouncer on this machine (apt-get install pgbouncer)")
        self.server = conninfo_to_dict(server_dsn)
        self.port = 0
        self.folder = Path(tempfile.mkdtemp(prefix="aigym-pgbouncer-"))
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def dsn(self, server_side_dsn: str) -> str:
        """The DSN of the same database and user, through this PgBouncer."""
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = {
            key: str(value) for key, value in conninfo_to_dict(server_side_dsn).items() if value is not None
        }
        params.update(host="127.0.0.1", port=str(self.port))
        params.pop("password", None)  # the client is trusted; PgBouncer logs in to the server itself
        return make_conninfo("", **params)

    def start(self) -> None:
        """Write the configuration and start PgBouncer in the foreground of a child process; wait until it listens."""
        user = str(self.server.get("user") or "postgres")
        server = " ".join(
            f"{key}={value}"
            for key, value in (
                ("host", self.server.get("host") or "127.0.0.1"),
                ("port", self.server.get("port") or "5432"),
                ("user", user),
                ("password", self.server.get("password")),
            )
            if value
        )
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        (self.folder / "userlist.txt").write_text(f'"{user}" ""\n')
        (self.folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = {server}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.folder / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            "default_pool_size = 1\n"
            "min_pool_size = 0\n"
            "reserve_pool_size = 0\n"
            "max_client_conn = 500\n"
            # A server connection a client never gave back shows as an error within seconds, not a 2-minute hang.
            "query_wait_timeout = 15\n"
            f"admin_users = {user}\n"
        )
        run_as = _unprivileged_account()
        if run_as is not None:
            for path in (self.folder, *self.folder.iterdir()):
                os.chown(path, *run_as)
        self._log = (self.folder / "pgbouncer.log").open("wb")
        assert PGBOUNCER is not None
        self.process = subprocess.Popen(
            [PGBOUNCER, str(self.folder / "pgbouncer.ini")],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.folder,
            user=run_as[0] if run_as else None,
            group=run_as[1] if run_as else None,
            extra_groups=[] if run_as else None,
        )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError as exc:
                if time.monotonic() > deadline:
                    message = f"pgbouncer did not listen within {_START_TIMEOUT_S} s:\n{self.log_tail()}"
                    raise RuntimeError(message) from exc
                time.sleep(0.05)

    def show(self, what: str) -> list[dict[str, str]]:
        """The rows of PgBouncer's admin command `show <what>` (stats, servers, pools, clients…)."""
        import psycopg

        admin = self.dsn(f"host=127.0.0.1 user={self.server.get('user') or 'postgres'} dbname=pgbouncer")
        with psycopg.connect(admin, autocommit=True) as conn:
            # The admin console speaks only the simple query protocol.
            result = conn.pgconn.exec_(f"show {what}".encode())
        names = [(result.fname(i) or b"").decode() for i in range(result.nfields)]
        return [
            {name: (result.get_value(row, i) or b"").decode() for i, name in enumerate(names)}
            for row in range(result.ntuples)
        ]

    def stats(self, database: str) -> dict[str, int]:
        """PgBouncer's running totals for `database`: Query messages, transactions, bytes, times."""
        for row in self.show("stats"):
            if row.pop("database") == database:
                return {name: int(value) for name, value in row.items()}
        return {}

    def servers(self, database: str) -> list[dict[str, str]]:
        """PgBouncer's server connections to `database` (`remote_pid` is the backend's pid)."""
        return [row for row in self.show("servers") if row["database"] == database]

    def log_tail(self, lines: int = 40) -> str:
        """The end of PgBouncer's log, for failure messages."""
        try:
            text = (self.folder / "pgbouncer.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the process this object started, and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _unprivileged_account() -> tuple[int, int] | None:
    """(uid, gid) to run PgBouncer as when we are root: the embedded Postgres's account; None otherwise."""
    if os.geteuid() != 0:
        return None
    from scripts.local.postgres import _ensure_system_user

    who = _ensure_system_user()
    return who.uid, who.gid
