"""A throw-away one-node Ceph cluster with a RADOS Gateway (RGW) as the real S3 server.

Stdlib only. One monitor, one OSD on the in-memory object store (memstore) and one RGW,
all running as the current user, with every file (ceph.conf, monmap, mon/osd data, logs,
keyrings, admin sockets) inside ``workdir``. Only if ``workdir`` is too long for Unix
socket paths (107 bytes; pytest's tmp paths can be long) do the admin sockets go to a
short private folder under /tmp (``s3f-ceph-*``), removed by :meth:`CephCluster.stop`.
Nothing is written to /etc or /var.

Usage::

    with CephCluster(tmp_path / "ceph") as s3:
        client = boto3.client(
            "s3",
            endpoint_url=s3.endpoint_url,
            aws_access_key_id=s3.access_key,
            aws_secret_access_key=s3.secret_key,
            region_name=s3.region,
            config=botocore.config.Config(
                s3={"addressing_style": "path"}, signature_version="s3v4"
            ),
        )

What the booted RGW (Ceph 16.2 "Pacific") accepts besides plain S3:

* ``ServerSideEncryption="AES256"`` over plain http (``rgw crypt require ssl = false``).
  Ceph 16 has no real SSE-S3: it accepts the header, stores the object unencrypted and
  echoes no ``ServerSideEncryption`` in the PutObject/HeadObject answers. (Setting
  ``rgw crypt default encryption key`` would encrypt everything at rest, but then every
  CopyObject and UploadPartCopy answers NotImplemented, so the harness does not.)
* ``ServerSideEncryption="aws:kms"`` with ``SSEKMSKeyId=KMS_KEY_ID`` (the "testing" KMS
  backend with one key named :data:`KMS_KEY_ID`); PutObject/HeadObject echo both. An
  unknown key id is refused (error code InvalidAccessKeyId). CopyObject *from* an SSE-KMS
  object answers NotImplemented (Ceph 16 limitation).
* ``StorageClass="STANDARD_IA"`` (placement storage class added before RGW starts);
  other classes such as GLACIER are refused with InvalidArgument.

Notes for callers:

* Use path-style addressing (no wildcard DNS on loopback) and SigV4. RGW verifies the
  signature with whatever region the request's credential scope names, so any region
  works; :attr:`S3Server.region` is ``us-east-1`` so that CreateBucket sends no
  LocationConstraint (RGW refuses e.g. ``eu-west-1`` with InvalidLocationConstraint).
* The first CreateBucket creates RGW's bucket pools; with this configuration (fast
  monitor commits) it takes about 0.1 s rather than the 2 s seen with Ceph's defaults,
  so no pre-warming is needed.
* CompleteMultipartUpload answers with an empty ``<ETag>`` (Ceph bug); HeadObject and
  listings show the usual ``"<md5>-<parts>"`` ETag.
* The lifecycle worker thread is off (it delays radosgw's exit by 5 s): lifecycle
  configuration calls work, objects are never expired.
* The OSD keeps all data in memory (at most 2 GiB): everything is gone after
  :meth:`CephCluster.stop`.
* If the Python process dies without calling :meth:`CephCluster.stop`, the daemons get
  SIGKILL from the kernel (PR_SET_PDEATHSIG) as long as the cluster was started from the
  main thread; ``stop`` is also registered with :mod:`atexit`.

Command line: ``python -m tests.harness.ceph [--workdir DIR]`` boots a cluster, prints
``{"endpoint_url": ..., "access_key": ..., "secret_key": ..., "region": ..., ...}`` on one
line and runs until SIGINT/SIGTERM (or until a daemon dies: exit status 1).
"""

from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType

from tests.harness._process import free_ports, set_pdeathsig, tail

__all__ = [
    "KMS_KEY_ID",
    "REQUIRED_COMMANDS",
    "STORAGE_CLASSES",
    "CephCluster",
    "S3Server",
    "ensure_installed",
    "external_server",
]

#: Key id accepted as ``SSEKMSKeyId`` (RGW's "testing" KMS backend).
KMS_KEY_ID = "testkey"
#: Storage classes RGW accepts besides ``STANDARD``.
STORAGE_CLASSES: tuple[str, ...] = ("STANDARD_IA",)
#: Region to sign with. RGW verifies SigV4 against the region in the request's own
#: credential scope; ``us-east-1`` also makes boto3 omit the LocationConstraint.
REGION = "us-east-1"

#: Executables the harness runs (``ceph`` comes with ``ceph-common``, a dependency).
REQUIRED_COMMANDS: tuple[str, ...] = (
    "ceph-mon",
    "ceph-osd",
    "radosgw",
    "radosgw-admin",
    "monmaptool",
    "ceph",
)
_APT_INSTALL = "sudo apt-get update && sudo apt-get install -y radosgw ceph-mon ceph-osd"

_MON_ID = "a"
_OSD_ID = 0
_RGW_NAME = "client.rgw"
_STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
_CMD_TIMEOUT = 30.0  # per helper command (monmaptool, ceph, radosgw-admin)
_MAX_SOCKET_PATH = 100  # sun_path holds 107 bytes; leave room for longer daemon names
_PORT_ATTEMPTS = 3  # start() attempts when a port picked as free was taken meanwhile


class _PortInUseError(RuntimeError):
    """A daemon could not bind its port (raced with another process); start is retried."""


@dataclass(frozen=True)
class S3Server:
    """How to reach the S3 API of a running :class:`CephCluster`."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str


def external_server() -> S3Server | None:
    """The S3 server named by ``S3FILES_TEST_S3_ENDPOINT`` (with ``…_ACCESS_KEY``,
    ``…_SECRET_KEY`` and optionally ``…_REGION``), or None to boot Ceph RGW."""
    endpoint = os.environ.get("S3FILES_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    return S3Server(
        endpoint_url=endpoint,
        access_key=os.environ["S3FILES_TEST_S3_ACCESS_KEY"],
        secret_key=os.environ["S3FILES_TEST_S3_SECRET_KEY"],
        region=os.environ.get("S3FILES_TEST_S3_REGION", REGION),
    )


def ensure_installed() -> None:
    """Raise RuntimeError naming the missing Ceph executables and how to install them."""
    missing = [cmd for cmd in REQUIRED_COMMANDS if shutil.which(cmd) is None]
    if missing:
        raise RuntimeError(
            f"Ceph executables not found on PATH: {', '.join(missing)}. "
            f"Install them with: {_APT_INSTALL}"
        )


def _random_key(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _b64_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class _Daemon:
    """A Ceph daemon run in the foreground (``-f``) in its own session."""

    def __init__(
        self, name: str, argv: Sequence[str], log: Path, stderr: Path, env: dict[str, str]
    ) -> None:
        self.name = name
        self.log = log
        self.stderr = stderr
        preexec: Callable[[], None] | None = None
        # PR_SET_PDEATHSIG fires when the *thread* that forked exits, so only arm it from
        # the main thread (whose end is the end of the process).
        if (
            sys.platform.startswith("linux")
            and threading.current_thread() is threading.main_thread()
        ):
            preexec = set_pdeathsig
        with stderr.open("ab") as err:
            self.proc: subprocess.Popen[bytes] = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                env=env,
                start_new_session=True,
                preexec_fn=preexec,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def describe_exit(self) -> str:
        return (
            f"{self.name} (pid {self.pid}) exited with status {self.proc.returncode}\n"
            f"{tail(self.log)}\n{tail(self.stderr)}"
        )


class CephCluster:
    """Boots (``start``) and tears down (``stop``) a one-node Ceph cluster with RGW.

    All files live in ``workdir`` (created if missing; reusing a previous run's folder is
    fine, its old state is wiped), except maybe the admin sockets, see the module docstring.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir).resolve()
        self.server: S3Server | None = None
        self._daemons: list[_Daemon] = []
        self._rundir: Path | None = None
        self._lock = threading.Lock()
        self._atexit_registered = False
        self.conf = self.workdir / "ceph.conf"
        self.logdir = self.workdir / "log"
        #: (step, seconds) of the last start(), for diagnostics.
        self.timings: list[tuple[str, float]] = []

    # ------------------------------------------------------------------ public API

    def start(self, timeout: float = 120.0) -> S3Server:
        """Boot mon, OSD and RGW, create an S3 user; return once ``GET /`` answers 200.

        Raises RuntimeError (with the tail of the relevant log) if a step fails, a daemon
        dies, or ``timeout`` seconds pass. Anything already started is stopped then.
        """
        if self.server is not None:
            return self.server
        if self._daemons:
            raise RuntimeError("CephCluster.start() called while it is starting/stopping")
        ensure_installed()
        deadline = time.monotonic() + timeout
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        attempt = 1
        while True:
            try:
                self.server = self._start(deadline)
                return self.server
            except _PortInUseError:
                # Another process took one of the ports between our probe and the bind.
                self.stop()
                if attempt >= _PORT_ATTEMPTS or time.monotonic() > deadline:
                    raise
                attempt += 1
            except BaseException:
                self.stop()
                raise

    def stop(self) -> None:
        """SIGTERM every daemon started here (by PID), SIGKILL after a few seconds.

        Idempotent; also removes the admin-socket folder. Leaves ``workdir`` (logs) alone.
        """
        with self._lock:
            daemons, self._daemons = self._daemons, []
            self.server = None
            # One at a time, in reverse start order: radosgw needs the OSD to shut down
            # cleanly (else it hangs), the OSD tells the monitor it is going down and
            # waits for the answer. This way each exits within a fraction of a second.
            for daemon in reversed(daemons):
                _terminate(daemon)
            if self._rundir is not None:
                shutil.rmtree(self._rundir, ignore_errors=True)
                self._rundir = None

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pids(self) -> list[int]:
        """PIDs of the daemons currently managed (mon, osd, rgw)."""
        return [d.pid for d in self._daemons]

    # ------------------------------------------------------------------ internals

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        # The `ceph` CLI is a /usr/bin/python3 script: keep a virtualenv's settings away.
        for var in ("PYTHONPATH", "PYTHONHOME", "CEPH_ARGS", "CEPH_CONF"):
            env.pop(var, None)
        env["CEPH_CONF"] = str(self.conf)
        return env

    def check_alive(self) -> None:
        """Raise RuntimeError (with the tail of its log) if a daemon has exited."""
        self._check_daemons()

    def _check_daemons(self) -> None:
        for daemon in self._daemons:
            if not daemon.alive():
                message = f"Ceph daemon died: {daemon.describe_exit()}"
                if "Address already in use" in message:
                    raise _PortInUseError(message)
                raise RuntimeError(message)

    def _run(self, argv: Sequence[str], deadline: float, log: Path | None = None) -> str:
        """Run a helper command, return its stdout; raise RuntimeError with its output (and
        a log tail) if it fails or times out, or if one of our daemons dies meanwhile."""
        cmd = " ".join(argv)
        limit = min(deadline, time.monotonic() + _CMD_TIMEOUT)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=self._env(),
                cwd=self.workdir,
            )
            try:
                while proc.poll() is None:
                    self._check_daemons()
                    if time.monotonic() > limit:
                        raise RuntimeError(
                            f"command timed out: {cmd}\n" + (tail(log) if log else "")
                        )
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(0.05)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            out.seek(0)
            err.seek(0)
            stdout = out.read().decode("utf-8", errors="replace")
            stderr = err.read().decode("utf-8", errors="replace")
        if proc.returncode != 0:
            self._check_daemons()
            raise RuntimeError(
                f"command failed with status {proc.returncode}: {cmd}\n"
                f"stdout: {stdout.strip()}\nstderr: {stderr.strip()}\n" + (tail(log) if log else "")
            )
        return stdout

    def _timed(
        self, label: str, argv: Sequence[str], deadline: float, log: Path | None = None
    ) -> str:
        t0 = time.monotonic()
        res = self._run(argv, deadline, log)
        self.timings.append((label, round(time.monotonic() - t0, 2)))
        return res

    def _spawn(self, name: str, argv: Sequence[str], log: Path) -> _Daemon:
        daemon = _Daemon(name, argv, log, self.logdir / f"{name}.stderr", self._env())
        self._daemons.append(daemon)
        return daemon

    def _wait_for(
        self,
        what: str,
        check: Callable[[], bool],
        deadline: float,
        log: Path,
        interval: float = 0.2,
    ) -> None:
        while True:
            self._check_daemons()
            if check():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}\n{tail(log)}")
            time.sleep(interval)

    def _prepare_dirs(self) -> None:
        if self.workdir.exists():
            # A previous run's mon store / OSD would carry a different fsid.
            for child in ("mon", "osd", "rgw", "log", "crash", "monmap", "ceph.conf"):
                path = self.workdir / child
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
        for sub in ("mon", "osd", "rgw", "log", "crash"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        # Unix socket paths are limited to 107 bytes: use <workdir>/run if short enough.
        rundir = self.workdir / "run"
        if len(str(rundir / "mon.a.asok")) <= _MAX_SOCKET_PATH:
            shutil.rmtree(rundir, ignore_errors=True)
            rundir.mkdir()
            self._rundir = rundir
        else:
            self._rundir = Path(tempfile.mkdtemp(prefix="s3f-ceph-"))

    def _write_conf(self, fsid: str, mon_port: int, rgw_port: int) -> None:
        assert self._rundir is not None
        w, r = self.workdir, self._rundir
        conf = f"""\
[global]
fsid = {fsid}
mon host = [v2:127.0.0.1:{mon_port}]
mon initial members = {_MON_ID}
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind ipv6 = false
# a taken port fails fast (the OSD still scans 6800-7300 for free ones first)
ms bind retry count = 1
ms bind retry delay = 1
# cluster auth is "none", which cannot do msgr2 "secure" mode (RGW defaults to it)
ms client mode = crc
ms cluster mode = crc
ms service mode = crc
ms mon client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
auth cluster required = none
auth service required = none
auth client required = none
keyring = {w}/keyring
run dir = {r}
admin socket = {r}/$name.asok
pid file =
log file = {w}/log/$name.log
log to stderr = false
err to stderr = false
log max recent = 500
crash dir = {w}/crash
mon data = {w}/mon/$id
osd data = {w}/osd/$id
mgr data = {w}/mgr/$id
mon cluster log file = {w}/log/cluster.log
mon cluster log file level = warn
mon data avail crit = 0
mon data avail warn = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
# one mon: commit map changes (pool creation by RGW) at once instead of once a second
paxos propose interval = 0.01
paxos min wait = 0.001
osd objectstore = memstore
memstore device bytes = 4294967296
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
debug ms = 0/0
debug mon = 0/0
debug paxos = 0/0
debug auth = 0/0
debug monc = 0/0
debug osd = 0/0
debug memstore = 0/0
debug objecter = 0/0
debug rados = 0/0
debug rgw = 0/0
debug civetweb = 0/0
debug asok = 0/0
debug rocksdb = 0/0
debug finisher = 0/0
debug heartbeatmap = 0/0

[client]
admin socket =
log file = {w}/log/client.log

[client.admin]
# radosgw-admin may start before the OSD is up; its objecter then learns of the OSD only
# on its next tick (default every 5 s)
objecter tick interval = 0.1

[{_RGW_NAME}]
admin socket = {r}/rgw.asok
log file = {w}/log/rgw.log
rgw data = {w}/rgw
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
# the lifecycle thread makes radosgw take 5+ s to exit on SIGTERM; lifecycle *configuration*
# calls still work, only the background expiry processing is off
rgw enable lc threads = false
# SSE over plain http. NOT "rgw crypt default encryption key": with it Ceph 16 encrypts
# every object and then answers NotImplemented to every CopyObject/UploadPartCopy;
# AES256 is accepted without it.
rgw crypt require ssl = false
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = {KMS_KEY_ID}={_b64_key()}
# free deleted objects' data within seconds (default: hours), so that a long test session
# does not fill the in-memory OSD
rgw gc obj min wait = 1
rgw gc processor period = 2
rgw gc processor max time = 2
"""
        self.conf.write_text(conf)

    def _start(self, deadline: float) -> S3Server:
        self.timings = []
        self._prepare_dirs()
        w = self.workdir
        fsid = str(uuid.uuid4())
        mon_port, rgw_port = free_ports(2)
        self._write_conf(fsid, mon_port, rgw_port)
        conf = ["-c", str(self.conf)]
        mon_log = self.logdir / f"mon.{_MON_ID}.log"
        osd_log = self.logdir / f"osd.{_OSD_ID}.log"
        rgw_log = self.logdir / "rgw.log"
        client_log = self.logdir / "client.log"

        # Monitor
        monmap = w / "monmap"
        self._timed(
            "monmaptool",
            ["monmaptool", "--create", "--clobber", "--fsid", fsid,
             "--addv", _MON_ID, f"[v2:127.0.0.1:{mon_port}]", str(monmap)],
            deadline,
        )  # fmt: skip
        self._timed(
            "mon mkfs",
            ["ceph-mon", *conf, "--mkfs", "-i", _MON_ID, "--monmap", str(monmap)],
            deadline,
            mon_log,
        )
        self._spawn("mon", ["ceph-mon", *conf, "-i", _MON_ID, "-f"], mon_log)

        # OSD (memstore): register it in the osdmap, mkfs, run.
        osd_id = self._timed(
            "osd create", ["ceph", *conf, "osd", "create"], deadline, mon_log
        ).strip()
        if osd_id != str(_OSD_ID):
            raise RuntimeError(f"`ceph osd create` returned {osd_id!r}, expected {_OSD_ID}")
        self._check_daemons()
        (w / "osd" / str(_OSD_ID)).mkdir(parents=True, exist_ok=True)
        self._timed(
            "osd mkfs", ["ceph-osd", *conf, "-i", str(_OSD_ID), "--mkfs"], deadline, osd_log
        )
        self._spawn("osd", ["ceph-osd", *conf, "-i", str(_OSD_ID), "-f"], osd_log)

        # The S3 user. The first radosgw-admin call also creates the default realm-less
        # zonegroup/zone and RGW's pools; it blocks until the OSD is up and they are active.
        admin = ["radosgw-admin", *conf, "-n", "client.admin"]
        access_key = _random_key(20, string.ascii_uppercase + string.digits)
        secret_key = _random_key(40, string.ascii_letters + string.digits)
        self._timed(
            "user create",
            [*admin, "user", "create", "--uid", "test", "--display-name", "test",
             "--access-key", access_key, "--secret", secret_key],
            deadline, client_log,
        )  # fmt: skip

        # Extra storage classes, before RGW reads the zonegroup (no restart needed).
        for storage_class in STORAGE_CLASSES:
            self._timed(
                "zonegroup placement add",
                [*admin, "zonegroup", "placement", "add", "--rgw-zonegroup", "default",
                 "--placement-id", "default-placement", "--storage-class", storage_class],
                deadline, client_log,
            )  # fmt: skip
            pool = f"default.rgw.{storage_class.lower().replace('_', '-')}.data"
            self._timed(
                "zone placement add",
                [*admin, "zone", "placement", "add", "--rgw-zone", "default",
                 "--placement-id", "default-placement", "--storage-class", storage_class,
                 "--data-pool", pool],
                deadline, client_log,
            )  # fmt: skip

        self._spawn("rgw", ["radosgw", *conf, "-n", _RGW_NAME, "-f"], rgw_log)

        endpoint = f"http://127.0.0.1:{rgw_port}"
        self._wait_for("RGW to answer GET / with 200", lambda: _get_ok(endpoint), deadline,
                       rgw_log)  # fmt: skip
        return S3Server(
            endpoint_url=endpoint, access_key=access_key, secret_key=secret_key, region=REGION
        )


def _terminate(daemon: _Daemon) -> None:
    """SIGTERM the daemon, SIGKILL it if it still runs after the grace period."""
    if daemon.alive():
        with contextlib.suppress(ProcessLookupError):
            os.kill(daemon.pid, signal.SIGTERM)
    try:
        daemon.proc.wait(_STOP_GRACE)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(daemon.pid, signal.SIGKILL)
        daemon.proc.wait()


def _get_ok(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/", timeout=2) as resp:
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _create_bucket(server: S3Server, name: str) -> None:
    """CreateBucket through boto3 (installed with the service), for ``--bucket``."""
    import boto3

    boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=server.region,
    ).create_bucket(Bucket=name)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.harness.ceph``: run a cluster until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.harness.ceph",
        description="Run a throw-away Ceph cluster with RGW (S3) until SIGINT/SIGTERM; "
        "print its endpoint and keys as JSON on one line.",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="folder for the cluster's files (default: a temporary folder, removed at exit)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="start timeout (s)")
    parser.add_argument(
        "--bucket", action="append", default=[], help="create this bucket once it runs (repeatable)"
    )
    args = parser.parse_args(argv)

    stop_event = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_event.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    with contextlib.ExitStack() as stack:
        if args.workdir is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="s3f-ceph-w-"))
            workdir = Path(tmp)
        else:
            workdir = args.workdir
        cluster = CephCluster(workdir)
        stack.callback(cluster.stop)
        t0 = time.monotonic()
        server = cluster.start(args.timeout)
        for name in args.bucket:
            _create_bucket(server, name)
        info = {
            "endpoint_url": server.endpoint_url,
            "access_key": server.access_key,
            "secret_key": server.secret_key,
            "region": server.region,
            "kms_key_id": KMS_KEY_ID,
            "workdir": str(cluster.workdir),
            "start_seconds": round(time.monotonic() - t0, 2),
            "buckets": args.bucket,
        }
        print(json.dumps(info), flush=True)
        while not stop_event.wait(0.5):
            try:
                cluster.check_alive()
            except RuntimeError as exc:
                print(exc, file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
