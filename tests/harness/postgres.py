"""A throw-away PostgreSQL server for a test session.

Stdlib only. Uses the server binaries of the newest ``/usr/lib/postgresql/<version>/bin``
(Debian's ``postgresql`` package), else ``initdb``/``postgres`` found on PATH. The data
directory and the unix socket directory live in a private folder ``/tmp/s3f-pg-*`` that
:meth:`PostgresCluster.stop` removes; nothing is written to /etc or /var, and no server
that is already running (e.g. the system one on 127.0.0.1:5432) is touched: ours listens on
a free port of 127.0.0.1 and on its own unix socket.

``initdb`` and ``postgres`` refuse to run as root: when the current user is root they run
as the ``postgres`` system user (created by the Debian package) and the private folder is
chowned to it; otherwise they run as the current user.

Usage::

    with PostgresCluster() as pg:
        conn = await asyncpg.connect(pg.url)
        engine = create_async_engine(pg.async_url)

The server has a superuser role :data:`ROLE` (``s3files``) that connects without a password
(``trust`` authentication for local and 127.0.0.1 connections) and a database
:data:`DATABASE` (``s3files_test``). :meth:`PostgresCluster.create_database` adds more, e.g.
one per test. Settings are made for speed, not durability: ``fsync``,
``synchronous_commit`` and ``full_page_writes`` are off; all data is gone after ``stop()``.
Every process of the server has ``s3f-pg-`` in its command line (the data directory for the
postmaster, ``cluster_name`` for its children), so ``pgrep -af s3f-pg`` lists them.

Command line: ``python -m tests.harness.postgres [--workdir DIR]`` boots a server, prints
``{"url": ..., "async_url": ..., ...}`` on one line and runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any

from tests.harness._process import free_ports, set_pdeathsig, tail

__all__ = [
    "DATABASE",
    "REQUIRED_COMMANDS",
    "ROLE",
    "PostgresCluster",
    "PostgresServer",
    "ensure_installed",
]

#: Superuser role created by initdb; trusted (no password) on local and 127.0.0.1.
ROLE = "s3files"
#: Database created at start.
DATABASE = "s3files_test"
HOST = "127.0.0.1"

#: Executables the harness runs, from the PostgreSQL bin directory.
REQUIRED_COMMANDS: tuple[str, ...] = ("initdb", "postgres", "pg_isready", "psql")
_APT_INSTALL = "sudo apt-get update && sudo apt-get install -y postgresql"
_DEBIAN_ROOT = Path("/usr/lib/postgresql")
_SYSTEM_USER = "postgres"  # who runs initdb/postgres when we are root

_STOP_GRACE = 5.0  # seconds between the shutdown signal and SIGKILL
_CMD_TIMEOUT = 30.0  # per helper command (initdb, psql)
_POLL_INTERVAL = 0.05
_PORT_ATTEMPTS = 3  # server launches when a port picked as free was taken meanwhile
_PORT_IN_USE = ("Address already in use", "could not create any TCP/IP sockets")

#: Server settings: fast and test-friendly, no durability.
_SETTINGS: dict[str, str] = {
    "listen_addresses": HOST,
    "max_connections": "100",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "log_line_prefix": "%m [%p] ",
}


@dataclass(frozen=True)
class PostgresServer:
    """How to reach a running :class:`PostgresCluster`."""

    host: str
    port: int
    user: str
    database: str

    @property
    def url(self) -> str:
        """``postgresql://user@127.0.0.1:port/database`` (libpq, psycopg, asyncpg)."""
        return _url("postgresql", self.user, self.host, self.port, self.database)

    @property
    def async_url(self) -> str:
        """``postgresql+asyncpg://user@127.0.0.1:port/database`` (SQLAlchemy async)."""
        return _url("postgresql+asyncpg", self.user, self.host, self.port, self.database)


def _url(scheme: str, user: str, host: str, port: int, database: str) -> str:
    quote = urllib.parse.quote
    return f"{scheme}://{quote(user, safe='')}@{host}:{port}/{quote(database, safe='')}"


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.name)) or (-1,)


def find_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with all REQUIRED_COMMANDS, else the
    directory of ``postgres`` on PATH if all are there, else None."""
    candidates: list[Path] = []
    if _DEBIAN_ROOT.is_dir():
        versions = sorted(
            (p for p in _DEBIAN_ROOT.iterdir() if p.is_dir()), key=_version_key, reverse=True
        )
        candidates += [p / "bin" for p in versions]
    on_path = shutil.which("postgres")
    if on_path is not None:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / cmd, os.X_OK) for cmd in REQUIRED_COMMANDS):
            return bindir
    return None


def ensure_installed() -> None:
    """Raise RuntimeError naming what is missing and how to install it."""
    if find_bindir() is None:
        raise RuntimeError(
            f"PostgreSQL server executables ({', '.join(REQUIRED_COMMANDS)}) not found in "
            f"{_DEBIAN_ROOT}/<version>/bin or on PATH. Install them with: {_APT_INSTALL}"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(_SYSTEM_USER)
        except KeyError:
            raise RuntimeError(
                f"running as root, but the {_SYSTEM_USER!r} system user that runs initdb and "
                f"postgres does not exist. Install the package with: {_APT_INSTALL}"
            ) from None


def _clean_env() -> dict[str, str]:
    """The environment without libpq/server variables (PGHOST, PGDATA, ...), messages in C."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for var in ("LANG", "LANGUAGE", "LC_ALL"):
        env.pop(var, None)
    env["LC_ALL"] = "C"
    return env


def _ctype_locale() -> str:
    """``C.UTF-8`` (Unicode-aware lower()/upper()/ILIKE) where installed, else ``C``."""
    for name in ("C.utf8", "C.UTF-8"):
        if Path("/usr/lib/locale", name).exists():
            return "C.UTF-8"
    return "C"


def _children(pid: int) -> list[int]:
    """PIDs of the direct children of ``pid`` (from /proc; empty elsewhere)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may contain spaces and parentheses.
            fields = stat[stat.rfind(")") + 2 :].split()
            if len(fields) > 1 and fields[1] == str(pid):
                found.append(int(entry.name))
    return found


class _PortInUseError(RuntimeError):
    """The server could not bind its port (raced with another process); launch is retried."""


class PostgresCluster:
    """Boots (``start``) and tears down (``stop``) a throw-away PostgreSQL server.

    ``workdir`` (created if missing) receives the server log ``postgres.log`` and
    ``initdb.log`` and keeps them after ``stop()``. Without it the logs live in the private
    ``/tmp/s3f-pg-*`` folder and go away with it. Data and sockets are always in that
    private folder (short socket paths, and a place the ``postgres`` user can reach).
    """

    def __init__(self, workdir: Path | None = None) -> None:
        self.workdir = Path(workdir).resolve() if workdir is not None else None
        self.server: PostgresServer | None = None
        self.bindir: Path | None = None
        #: (step, seconds) of the last start(), for diagnostics.
        self.timings: list[tuple[str, float]] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmpdir: Path | None = None
        self._logdir: Path | None = None
        self._lock = threading.Lock()
        self._atexit_registered = False

    # ------------------------------------------------------------------ public API

    def start(self, timeout: float = 60.0) -> PostgresServer:
        """initdb, launch the server, create :data:`DATABASE`; return once it accepts queries.

        Raises RuntimeError (with the tail of the relevant log) if a step fails, the server
        dies, or ``timeout`` seconds pass. Anything already started is stopped then.
        """
        if self.server is not None:
            return self.server
        if self._proc is not None or self._tmpdir is not None:
            raise RuntimeError("PostgresCluster.start() called while it is starting/stopping")
        ensure_installed()
        deadline = time.monotonic() + timeout
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        try:
            self.server = self._start(deadline)
            return self.server
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Shut the server down by PID (SIGKILL after a few seconds) and remove its files.

        The signal is SIGINT, PostgreSQL's "fast" shutdown: SIGTERM would be its "smart"
        shutdown, which waits for every client (e.g. a leftover connection pool) to
        disconnect. Idempotent; logs in ``workdir`` are kept.
        """
        with self._lock:
            proc, self._proc = self._proc, None
            self.server = None
            if proc is not None:
                _terminate(proc)
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
                self._tmpdir = None

    def create_database(self, name: str) -> str:
        """Create database ``name`` (owned by :data:`ROLE`); return its URL."""
        server = self.server
        if server is None:
            raise RuntimeError("PostgresCluster.create_database() needs a started server")
        ident = '"' + name.replace('"', '""') + '"'
        self._psql(f"CREATE DATABASE {ident}", time.monotonic() + _CMD_TIMEOUT, server.port)
        return PostgresServer(server.host, server.port, server.user, name).url

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """PID of the postmaster, if running."""
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        """Whether the postmaster started here still runs."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def log(self) -> Path:
        """The server log (stdout/stderr of ``postgres``)."""
        return self._logs() / "postgres.log"

    # ------------------------------------------------------------------ internals

    def _logs(self) -> Path:
        if self._logdir is None:
            raise RuntimeError("PostgresCluster has not been started")
        return self._logdir

    def _as_server_user(self) -> dict[str, Any]:
        """Popen keywords that run initdb/postgres as the ``postgres`` user when we are root."""
        if os.geteuid() != 0:
            return {}
        entry = pwd.getpwnam(_SYSTEM_USER)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _prepare_dirs(self) -> tuple[Path, Path]:
        tmpdir = Path(tempfile.mkdtemp(prefix="s3f-pg-"))
        self._tmpdir = tmpdir
        sockdir = tmpdir / "sock"
        sockdir.mkdir(mode=0o700)
        if os.geteuid() == 0:
            entry = pwd.getpwnam(_SYSTEM_USER)
            for path in (tmpdir, sockdir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        if self.workdir is not None:
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._logdir = self.workdir
        else:
            self._logdir = tmpdir
        for name in ("initdb.log", "postgres.log"):  # a previous run's logs in workdir
            with contextlib.suppress(FileNotFoundError):
                (self._logdir / name).unlink()
        return tmpdir / "data", sockdir

    def _check_server(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is not None:
            message = (
                f"PostgreSQL server (pid {proc.pid}) exited with status {proc.returncode}\n"
                f"{tail(self.log)}"
            )
            if any(marker in message for marker in _PORT_IN_USE):
                raise _PortInUseError(message)
            raise RuntimeError(message)

    def _run(
        self,
        argv: Sequence[str],
        deadline: float,
        log: Path | None = None,
        server_user: bool = False,
    ) -> str:
        """Run a helper command, return its stdout; raise RuntimeError with its output (and
        a log tail) if it fails or times out, or if the server dies meanwhile."""
        cmd = " ".join(argv)
        limit = min(deadline, time.monotonic() + _CMD_TIMEOUT)
        extra = self._as_server_user() if server_user else {}
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=_clean_env(),
                cwd=self._tmpdir,  # reachable by the postgres user, unlike e.g. /root
                **extra,
            )
            try:
                while proc.poll() is None:
                    self._check_server()
                    if time.monotonic() > limit:
                        raise RuntimeError(
                            f"command timed out: {cmd}\n" + (tail(log) if log else "")
                        )
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(_POLL_INTERVAL)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            out.seek(0)
            err.seek(0)
            stdout = out.read().decode("utf-8", errors="replace")
            stderr = err.read().decode("utf-8", errors="replace")
        if log is not None:
            with log.open("a", encoding="utf-8") as fh:
                fh.write(f"$ {cmd}\n{stdout}{stderr}")
        if proc.returncode != 0:
            self._check_server()
            raise RuntimeError(
                f"command failed with status {proc.returncode}: {cmd}\n"
                f"stdout: {stdout.strip()}\nstderr: {stderr.strip()}\n" + (tail(log) if log else "")
            )
        return stdout

    def _psql(self, sql: str, deadline: float, port: int, database: str = "postgres") -> str:
        assert self.bindir is not None
        argv = [str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", HOST, "-p", str(port), "-U", ROLE, "-d", database, "-c", sql]  # fmt: skip
        return self._run(argv, deadline)

    def _timed(self, label: str, step: Callable[[], object]) -> None:
        t0 = time.monotonic()
        step()
        self.timings.append((label, round(time.monotonic() - t0, 2)))

    def _launch(self, datadir: Path, sockdir: Path, port: int) -> None:
        assert self.bindir is not None and self._tmpdir is not None
        settings = {**_SETTINGS, "cluster_name": self._tmpdir.name}
        argv = [str(self.bindir / "postgres"), "-D", str(datadir), "-p", str(port),
                "-k", str(sockdir)]  # fmt: skip
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        preexec: Callable[[], None] | None = None
        # PR_SET_PDEATHSIG fires when the *thread* that forked exits, so only arm it from
        # the main thread (whose end is the end of the process).
        if (
            sys.platform.startswith("linux")
            and threading.current_thread() is threading.main_thread()
        ):
            preexec = set_pdeathsig
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=_clean_env(),
                cwd=self._tmpdir,
                start_new_session=True,
                preexec_fn=preexec,
                **self._as_server_user(),
            )

    def _is_ready(self, port: int, deadline: float) -> bool:
        assert self.bindir is not None
        argv = [str(self.bindir / "pg_isready"), "-q", "-h", HOST, "-p", str(port),
                "-U", ROLE, "-d", "postgres", "-t", "1"]  # fmt: skip
        try:
            self._run(argv, deadline)
        except RuntimeError:
            self._check_server()
            return False
        return True

    def _wait_ready(self, port: int, deadline: float) -> None:
        while True:
            self._check_server()
            if self._is_ready(port, deadline):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"timed out waiting for PostgreSQL on {HOST}:{port}\n{tail(self.log)}"
                )
            time.sleep(_POLL_INTERVAL)

    def _start(self, deadline: float) -> PostgresServer:
        self.timings = []
        self.bindir = find_bindir()
        if self.bindir is None:  # ensure_installed() passed, but be safe
            raise RuntimeError(f"PostgreSQL executables not found; {_APT_INSTALL}")
        datadir, sockdir = self._prepare_dirs()
        initdb_log = self._logs() / "initdb.log"
        initdb = [str(self.bindir / "initdb"), "-D", str(datadir), "-U", ROLE,
                  "--auth=trust", "--encoding=UTF8", "--locale=C",
                  f"--lc-ctype={_ctype_locale()}", "--no-sync"]  # fmt: skip
        self._timed("initdb", lambda: self._run(initdb, deadline, initdb_log, server_user=True))
        attempt = 1
        while True:
            port = free_ports(1, HOST)[0]
            t0 = time.monotonic()
            self._launch(datadir, sockdir, port)
            try:
                self._wait_ready(port, deadline)
            except _PortInUseError:
                # Another process took the port between our probe and the server's bind.
                proc, self._proc = self._proc, None
                if proc is not None:
                    _terminate(proc)
                if attempt >= _PORT_ATTEMPTS or time.monotonic() > deadline:
                    raise
                attempt += 1
                continue
            self.timings.append(("server ready", round(time.monotonic() - t0, 2)))
            break
        ident = '"' + DATABASE.replace('"', '""') + '"'
        self._timed("create database", lambda: self._psql(f"CREATE DATABASE {ident}",
                                                          deadline, port))  # fmt: skip
        return PostgresServer(host=HOST, port=port, user=ROLE, database=DATABASE)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    """Fast-shutdown the postmaster (SIGINT); after the grace period SIGKILL it and the
    children it left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGINT)
    try:
        proc.wait(_STOP_GRACE)
    except subprocess.TimeoutExpired:
        children = _children(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child, signal.SIGKILL)
        proc.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.harness.postgres``: run a server until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m tests.harness.postgres", description=__doc__
                                     and __doc__.splitlines()[0])  # fmt: skip
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="folder for the server logs, kept after exit (default: the temporary folder)",
    )
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)

    stop_event = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_event.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    cluster = PostgresCluster(args.workdir)
    try:
        t0 = time.monotonic()
        server = cluster.start(args.timeout)
        out: IO[str] = sys.stdout
        print(json.dumps({
            "url": server.url,
            "async_url": server.async_url,
            "host": server.host,
            "port": server.port,
            "user": server.user,
            "database": server.database,
            "pid": cluster.pid,
            "log": str(cluster.log),
            "start_seconds": round(time.monotonic() - t0, 2),
            "timings": cluster.timings,
        }), file=out, flush=True)  # fmt: skip
        while not stop_event.is_set():
            if not cluster.alive():
                print(f"PostgreSQL server exited\n{tail(cluster.log)}", file=sys.stderr)
                return 1
            stop_event.wait(1.0)
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
