"""Several ``s3files serve`` replicas behind HAProxy, for the tests that need more than one.

Stdlib only. :class:`HAProxy` runs Debian's ``haproxy`` in the foreground (``-db``) as a
child of the test: its configuration (:data:`CONFIG_TEMPLATE`, the one the README shows)
is written into a private folder, it listens on a free port of 127.0.0.1, checks every
backend's ``/healthz`` twice a second, and offers its statistics (CSV) on a second port.
Nothing needs privileges: no ``user``/``chroot``, no pid file, no system service.

:class:`Replicas` starts N ``s3files serve`` processes at the same moment, each on its
own port with the same environment (database URL, store, signing key, public URL), and
:class:`ReplicatedService` wires both: the public URL is HAProxy's, chosen before the
replicas start so that every signed URL they make points at it.

Usage::

    with ReplicatedService(3, env, workdir) as cluster:
        httpx.get(f"{cluster.url}/healthz")         # through HAProxy
        cluster.replicas[0].kill()                  # SIGKILL
        cluster.haproxy.wait_status("r1", "DOWN")

Every process started here gets SIGKILL from the kernel if the test process dies
(PR_SET_PDEATHSIG, when started from the main thread) and is stopped by :meth:`stop`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from tests.harness._process import free_ports, set_pdeathsig, tail

__all__ = [
    "CONFIG_TEMPLATE",
    "HAProxy",
    "Replica",
    "Replicas",
    "ReplicatedService",
    "ensure_installed",
    "haproxy_config",
]

HOST = "127.0.0.1"
_APT_INSTALL = "sudo apt-get update && sudo apt-get install -y haproxy"
_STOP_GRACE = 5.0
_POLL = 0.05
_PORT_ATTEMPTS = 3

#: The configuration the tests run (and the README shows). ``{servers}`` is one
#: ``server <name> <host>:<port>`` line per replica.
CONFIG_TEMPLATE = """\
global
    maxconn 4096
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    option dontlognull
    option forwardfor
    # a request whose connection to a replica fails goes to another one
    option redispatch 1
    retries 2
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 30s
    timeout queue 30s

frontend s3files
    bind {host}:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    # which replica answered (tests check that the load is spread)
    http-response set-header X-Served-By %s
    default-server check inter 500ms fall 2 rise 1
{servers}

frontend stats
    bind {host}:{stats_port}
    stats enable
    stats uri /stats
"""


def haproxy_config(port: int, stats_port: int, servers: Sequence[tuple[str, int]]) -> str:
    """:data:`CONFIG_TEMPLATE` filled in for ``servers`` (name, port on 127.0.0.1)."""
    lines = "\n".join(f"    server {name} {HOST}:{server_port}" for name, server_port in servers)
    return CONFIG_TEMPLATE.format(host=HOST, port=port, stats_port=stats_port, servers=lines)


def ensure_installed() -> str:
    """The path of ``haproxy``; RuntimeError saying how to install it when missing."""
    found = shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.access(p, os.X_OK)),
        None,
    )
    if found is None:
        raise RuntimeError(f"haproxy not found on PATH or in /usr/sbin. Install it: {_APT_INSTALL}")
    return found


def _preexec() -> Callable[[], None] | None:
    # PR_SET_PDEATHSIG fires when the forking *thread* exits: only from the main thread.
    if sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread():
        return set_pdeathsig
    return None


def _stop_process(process: subprocess.Popen[bytes], first: signal.Signals) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(first)
    try:
        process.wait(_STOP_GRACE)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait()


def _get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """Status and body of a GET (any status), or (0, b"") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()
    except (OSError, urllib.error.URLError):
        return 0, b""


class HAProxy:
    """HAProxy in front of ``servers`` (name, port): :meth:`start`, :meth:`stop`.

    ``port`` may be given (it must be free) so that callers can know the URL before the
    backends start; otherwise one is picked.
    """

    def __init__(
        self,
        servers: Sequence[tuple[str, int]],
        workdir: Path | None = None,
        *,
        port: int | None = None,
    ) -> None:
        self.servers = list(servers)
        self.workdir = Path(workdir) if workdir is not None else None
        self.port = port
        self.stats_port: int | None = None
        self.config_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmpdir: Path | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("HAProxy has no port yet")
        return f"http://{HOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self._dir() / "haproxy.log"

    def _dir(self) -> Path:
        if self._tmpdir is None:
            raise RuntimeError("HAProxy has not been started")
        return self._tmpdir

    def start(self, timeout: float = 20.0) -> str:
        """Check the configuration, launch haproxy, wait until it answers; its URL."""
        binary = ensure_installed()
        if self.workdir is not None:
            self.workdir.mkdir(parents=True, exist_ok=True)
        self._tmpdir = Path(tempfile.mkdtemp(prefix="s3f-haproxy-", dir=self.workdir))
        deadline = time.monotonic() + timeout
        fixed_port = self.port is not None
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            ports = free_ports(2 if fixed_port else 3, HOST)
            if not fixed_port:
                self.port = ports.pop()
            self.stats_port = ports[0]
            assert self.port is not None
            self.config_path = self._dir() / "haproxy.cfg"
            self.config_path.write_text(haproxy_config(self.port, self.stats_port, self.servers))
            check = subprocess.run(
                [binary, "-c", "-q", "-f", str(self.config_path)],
                capture_output=True,
                text=True,
                timeout=30,
            )
            if check.returncode != 0:
                raise RuntimeError(f"haproxy refused its configuration:\n{check.stderr}")
            with self.log.open("ab") as log:
                self._proc = subprocess.Popen(
                    [binary, "-db", "-f", str(self.config_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    cwd=self._dir(),
                    start_new_session=True,
                    preexec_fn=_preexec(),
                )
            while True:
                if self._proc.poll() is not None:
                    break
                if _get(f"http://{HOST}:{self.stats_port}/stats;csv")[0] == 200:
                    return self.url
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"haproxy did not answer in {timeout} s\n{tail(self.log)}")
                time.sleep(_POLL)
            message = f"haproxy exited with status {self._proc.returncode}\n{tail(self.log)}"
            self._proc = None
            if "cannot bind" not in message or attempt == _PORT_ATTEMPTS or fixed_port:
                self.stop()
                raise RuntimeError(message)
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """SIGTERM (SIGKILL after a grace period); the private folder is removed unless it
        lives in ``workdir``."""
        process, self._proc = self._proc, None
        if process is not None:
            _stop_process(process, signal.SIGTERM)
        if self._tmpdir is not None and self.workdir is None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def server_status(self) -> dict[str, str]:
        """Each backend server's state as HAProxy sees it (``UP``, ``DOWN``, ``UP 1/2``...)."""
        status, body = _get(f"http://{HOST}:{self.stats_port}/stats;csv")
        if status != 200:
            raise RuntimeError(f"haproxy statistics answered {status}\n{tail(self.log)}")
        text = body.decode("utf-8", errors="replace").lstrip("# ")
        return {
            row["svname"]: row["status"]
            for row in csv.DictReader(io.StringIO(text))
            if row.get("pxname") == "replicas" and row.get("svname") not in ("FRONTEND", "BACKEND")
        }

    def wait_status(self, names: Sequence[str], wanted: str, timeout: float = 20.0) -> None:
        """Until every server in ``names`` is ``wanted`` (``UP`` or ``DOWN``, not a
        transition such as ``UP 1/2``)."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.server_status()
            if all(states.get(name) == wanted for name in names):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"haproxy servers not all {wanted}: {states}")
            time.sleep(_POLL * 2)

    def __enter__(self) -> HAProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass
class Replica:
    """One ``s3files serve`` process."""

    name: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send ``sig`` (default SIGKILL: no shutdown code runs) and reap the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(_STOP_GRACE * 2)

    def output(self) -> str:
        return tail(self.log)


@dataclass
class Replicas:
    """``count`` ``s3files serve`` processes over one environment, started together.

    ``env`` is the whole environment of each process (nothing is inherited but what it
    names); ``argv`` is the command before ``--host/--port``.
    """

    count: int
    env: Mapping[str, str]
    workdir: Path
    argv: Sequence[str] = (sys.executable, "-m", "s3files.cli", "serve")
    members: list[Replica] = field(default_factory=list)

    def start(self) -> None:
        """Launch every replica at once (no waiting in between)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        ports = free_ports(self.count, HOST)
        self.members = [
            Replica(f"r{i + 1}", port, self.workdir / f"r{i + 1}.log")
            for i, port in enumerate(ports)
        ]
        for replica in self.members:
            with replica.log.open("ab") as log:
                replica.process = subprocess.Popen(
                    [*self.argv, "--host", HOST, "--port", str(replica.port)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=dict(self.env),
                    cwd=self.workdir,
                    start_new_session=True,
                    preexec_fn=_preexec(),
                )

    def wait_ready(self, timeout: float = 45.0, path: str = "/healthz") -> None:
        """Until every replica answers 200 on ``path``; RuntimeError with the logs of
        those that died or did not answer."""
        deadline = time.monotonic() + timeout
        waiting = list(self.members)
        while waiting:
            for replica in list(waiting):
                if not replica.alive():
                    raise RuntimeError(
                        f"replica {replica.name} exited with status "
                        f"{replica.process.returncode if replica.process else None}\n"
                        f"{replica.output()}"
                    )
                if _get(replica.url + path, timeout=1.0)[0] == 200:
                    waiting.remove(replica)
            if waiting and time.monotonic() > deadline:
                logs = "\n".join(replica.output() for replica in waiting)
                raise RuntimeError(f"replicas not ready in {timeout} s\n{logs}")
            if waiting:
                time.sleep(_POLL * 2)

    def stop(self) -> None:
        for replica in self.members:
            if replica.process is not None:
                _stop_process(replica.process, signal.SIGTERM)

    def __getitem__(self, index: int) -> Replica:
        return self.members[index]

    def __iter__(self) -> Iterator[Replica]:
        return iter(self.members)

    def __len__(self) -> int:
        return len(self.members)


class ReplicatedService:
    """``count`` replicas behind one HAProxy; the replicas' ``S3FILES_PUBLIC_URL`` is
    HAProxy's URL (the port is chosen first)."""

    def __init__(self, count: int, env: Mapping[str, str], workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.port = free_ports(1, HOST)[0]
        self.url = f"http://{HOST}:{self.port}"
        self.replicas = Replicas(
            count, {**env, "S3FILES_PUBLIC_URL": self.url}, self.workdir / "replicas"
        )
        self.haproxy: HAProxy | None = None

    def start(self, timeout: float = 45.0) -> ReplicatedService:
        """Replicas (together), then HAProxy; returns once HAProxy sees every one UP."""
        try:
            self.replicas.start()
            self.replicas.wait_ready(timeout)
            servers = [(replica.name, replica.port) for replica in self.replicas]
            self.haproxy = HAProxy(servers, self.workdir, port=self.port)
            self.haproxy.start()
            self.haproxy.wait_status([name for name, _ in servers], "UP")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.haproxy is not None:
            self.haproxy.stop()
        self.replicas.stop()

    def __enter__(self) -> ReplicatedService:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
