"""s3files's HTTP service against the direct alternatives, in one run on a real S3 server.

    .venv/bin/python bench/bench_service.py [--size-mb 1024] [--requests 3000]
    .venv/bin/python bench/bench_service.py --database postgres --skip-transfers  # GETs only

* Streaming upload of a random file through the service (``POST
  /api/v1/files/stream?filename=big.bin``, the file streamed from disk as the raw request
  body by httpx) versus boto3 ``upload_file`` of the same file straight to the same bucket.
* Streaming download of that object through the service (``GET
  /api/v1/files/{id}/download``, the client discards the bytes) versus boto3
  ``download_fileobj`` into a sink that discards them.
* Each transfer runs ``--rounds`` times per side (default 2), the order alternating, after
  an unmeasured warm-up (32 MB through the service, the whole file straight to S3). For
  every transfer: wall time; CPU time of the client (this process), of the service and of
  the Ceph daemons; and the service process's resident memory: its RSS before, the peak
  during (VmRSS sampled every 50 ms, and VmHWM after the kernel's peak mark was lowered to
  the current RSS) and after.
* Requests per second of ``GET /api/v1/files/{id}`` (bearer key) on the service versus a
  bare FastAPI endpoint returning a JSON document of the same size, both single-worker
  uvicorn subprocesses, driven by the same clients: a fixed number of requests from 8
  threads sharing an ``httpx.Client``, and ``wrk`` (8 connections) when it is installed.

The service's metadata database is SQLite (default) or, with ``--database postgres``, a
throw-away PostgreSQL server booted by ``tests/harness/postgres.py``.

``s3files serve`` runs as a subprocess configured only by environment variables, like a
deployment. Every result is checked (sizes, the SHA-256 the service reports, a SHA-256 of
the bytes downloaded through the service, every response's status and body); the exit
status is non-zero only when something does not work, never for slowness. The S3 server is
a throw-away Ceph RGW unless S3FILES_TEST_S3_ENDPOINT names one.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from _common import (
    MB,
    MiB,
    S3Endpoint,
    Timer,
    boto3_client,
    cpu_seconds,
    load_note,
    machine_note,
    make_payload,
    reclaim_deleted,
    render_table,
    reporting_failures,
    s3_server,
    s3files_note,
)

if TYPE_CHECKING:
    from fastapi import FastAPI
    from mypy_boto3_s3.client import S3Client

BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
SAMPLE_SECONDS = 0.05  # how often the service's VmRSS is sampled during a transfer
CHUNK = MiB  # request body chunks read from disk by the upload client
WARM_UP_BYTES = 32 * MB  # the unmeasured first upload (multipart: above one 8 MiB part)
BARE_DOCUMENT_VARIABLE = "S3FILES_BENCH_BARE_DOCUMENT"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchmarkFailure(Exception):
    """Something did not work (as opposed to being slow)."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkFailure(message)


# The bare comparison app (run by uvicorn in a subprocess: bench_service:make_bare_app) ----


def make_bare_app() -> FastAPI:
    """A bare FastAPI app: one route shaped like the service's, answering a fixed JSON
    document (the service's own record of the same file, passed in the environment)."""
    from fastapi import FastAPI

    document: dict[str, Any] = json.loads(os.environ[BARE_DOCUMENT_VARIABLE])
    app = FastAPI()

    @app.get("/api/v1/files/{file_id}")
    async def get_file(file_id: uuid.UUID) -> dict[str, Any]:
        return document

    return app


# Subprocesses ---------------------------------------------------------------------------


try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)  # loaded before any fork
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the benchmark dies without cleaning up
    (PR_SET_PDEATHSIG; nothing is loaded or imported here, so it is safe after fork)."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Process:
    """A server started by the benchmark; :meth:`stop` ends it (SIGTERM, then SIGKILL)."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise BenchmarkFailure(
                    f"{self.name} exited with status {self.popen.returncode} while starting:\n"
                    f"{tail(self.log)}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + path, timeout=2).status_code < 500:
                    return
            time.sleep(0.1)
        raise BenchmarkFailure(
            f"{self.name} did not answer within {timeout:.0f} s:\n{tail(self.log)}"
        )

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise BenchmarkFailure(
                f"{self.name} exited with status {self.popen.returncode}:\n{tail(self.log)}"
            )

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


def spawn(
    name: str, argv: Sequence[str], env: dict[str, str], cwd: Path, log: Path, url: str
) -> Process:
    with log.open("wb") as out:
        popen = subprocess.Popen(
            list(argv),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    return Process(name, popen, log, url)


def start_service(env: dict[str, str], cwd: Path, log: Path) -> Process:
    """``python -m s3files.cli serve`` on a free port of 127.0.0.1, configured by ``env``."""
    port = free_port()
    argv = [PYTHON, "-m", "s3files.cli", "serve", "--port", str(port)]
    return spawn("s3files serve", argv, env, cwd, log, f"http://127.0.0.1:{port}")


def service_environment(
    server: S3Endpoint | None,
    storage_url: str,
    data_dir: Path,
    size: int,
    database_url: str | None = None,
) -> dict[str, str]:
    """Everything ``s3files serve`` needs, from the environment only: the store
    (``storage_url``, ``s3://bucket/prefix`` on ``server`` or ``file:///path``), files up to
    twice ``size`` of any type, SQLite in ``data_dir`` unless ``database_url`` names one."""
    drop = ("S3FILES_", "S3_", "AWS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        S3FILES_STORAGE_URL=storage_url,
        S3_MAX_FILE_SIZE_MB=str(max(16, 2 * size // MiB)),
        S3_ALLOWED_EXTENSIONS="*",
        S3_ALLOWED_MIME_TYPES="*",
        S3FILES_DATA_DIR=str(data_dir),
        S3FILES_LOG_LEVEL="WARNING",
    )
    if server is not None:
        env.update(
            S3_ENDPOINT_URL=server.endpoint_url,
            S3_ADDRESSING_STYLE="path",
            AWS_ACCESS_KEY_ID=server.access_key,
            AWS_SECRET_ACCESS_KEY=server.secret_key,
            AWS_REGION=server.region,
        )
    if database_url is not None:
        env["S3FILES_DATABASE_URL"] = database_url
    return env


def create_api_key(env: dict[str, str], cwd: Path, owner: str = "bench") -> str:
    """``s3files keys create --owner OWNER --json`` with the service's environment."""
    done = subprocess.run(
        [PYTHON, "-m", "s3files.cli", "keys", "create", "--owner", owner, "--json"],
        env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    check(done.returncode == 0, f"keys create failed ({done.returncode}): {done.stderr[-2000:]}")
    key = str(json.loads(done.stdout)["key"])
    check(key.startswith("s3f_"), f"keys create printed a key not starting with s3f_: {key[:8]}…")
    return key


# Watching the service process -------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in bytes."""
    figures: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0]) * 1024
    return figures


def proc_cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time of ``pid`` (all threads) so far; with ``thread``, of that
    thread only (the main thread's id is the pid: the service's event loop)."""
    where = f"/proc/{pid}/task/{thread}/stat" if thread is not None else f"/proc/{pid}/stat"
    fields = Path(where).read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


@dataclass
class Watched:
    """The service process during one piece of work."""

    rss_before: int = 0
    rss_peak: int = 0  # max of the 50 ms samples and, if the mark was reset, VmHWM
    rss_after: int = 0
    hwm_reset: bool = False
    cpu_seconds: float = 0.0
    loop_cpu_seconds: float = 0.0  # of the main thread alone (the event loop)
    samples: int = 0

    @property
    def growth(self) -> int:
        return self.rss_peak - self.rss_before


@contextlib.contextmanager
def watch(pid: int) -> Iterator[Watched]:
    """Sample the VmRSS of ``pid`` every 50 ms while the block runs; also lower its peak
    mark (``5`` into /proc/PID/clear_refs) first and read VmHWM after."""
    watched = Watched()
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        watched.hwm_reset = True
    except OSError:
        watched.hwm_reset = False
    watched.rss_before = proc_status(pid)["VmRSS"]
    watched.rss_peak = watched.rss_before
    cpu_before, loop_before = proc_cpu_seconds(pid), proc_cpu_seconds(pid, pid)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(SAMPLE_SECONDS):
            with contextlib.suppress(OSError, KeyError):
                watched.rss_peak = max(watched.rss_peak, proc_status(pid)["VmRSS"])
                watched.samples += 1

    sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    sampler.start()
    try:
        yield watched
    finally:
        stop.set()
        sampler.join()
        with contextlib.suppress(OSError, KeyError):
            status = proc_status(pid)
            watched.rss_after = status["VmRSS"]
            peak = max(watched.rss_peak, status["VmRSS"])
            watched.rss_peak = max(peak, status["VmHWM"]) if watched.hwm_reset else peak
            watched.cpu_seconds = proc_cpu_seconds(pid) - cpu_before
            watched.loop_cpu_seconds = proc_cpu_seconds(pid, pid) - loop_before


def s3_server_pids(server: S3Endpoint) -> tuple[int, ...]:
    """The booted Ceph daemons (mon, OSD, RGW): the processes whose command line names
    this cluster's ceph.conf. Empty for an external server."""
    if server.ceph_conf is None:
        return ()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if server.ceph_conf.encode() in argv:
                found.append(int(entry.name))
    return tuple(found)


@dataclass(frozen=True)
class Pids:
    service: int
    s3: tuple[int, ...]  # empty when the S3 server is not on this machine (or not ours)


@dataclass
class Measured:
    """Wall time of one transfer and the CPU time each party spent on it."""

    seconds: float = 0.0
    client_cpu: float = 0.0  # this process, all threads
    service_cpu: float = 0.0
    s3_cpu: float = 0.0  # Ceph mon + OSD + RGW

    @property
    def total_cpu(self) -> float:
        return self.client_cpu + self.service_cpu + self.s3_cpu


def _cpu_of(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += proc_cpu_seconds(pid)
    return total


@contextlib.contextmanager
def measure(pids: Pids) -> Iterator[Measured]:
    measured = Measured()
    client, service, s3 = cpu_seconds(), _cpu_of([pids.service]), _cpu_of(pids.s3)
    started = time.perf_counter()
    try:
        yield measured
    finally:
        measured.seconds = time.perf_counter() - started
        measured.client_cpu = cpu_seconds() - client
        measured.service_cpu = _cpu_of([pids.service]) - service
        measured.s3_cpu = _cpu_of(pids.s3) - s3


# Transfers --------------------------------------------------------------------------------


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            yield block


def service_upload(client: httpx.Client, path: Path, filename: str) -> dict[str, Any]:
    """POST the file as the raw body, streamed from disk; return the record."""
    response = client.post(
        "/api/v1/files/stream",
        params={"filename": filename},
        content=file_chunks(path),
        headers={
            "Content-Length": str(path.stat().st_size),
            "Content-Type": "application/octet-stream",
        },
    )
    check(
        response.status_code == 201,
        f"upload through the service answered {response.status_code}: {response.text[:500]}",
    )
    record: dict[str, Any] = response.json()
    return record


def service_download(client: httpx.Client, file_id: str, digest: Any = None) -> int:
    """Stream the file's bytes from the service, discarding them (hashing them into
    ``digest`` if given); return how many arrived."""
    received = 0
    with client.stream("GET", f"/api/v1/files/{file_id}/download") as response:
        check(
            response.status_code == 200,
            f"download through the service answered {response.status_code}",
        )
        declared = int(response.headers.get("content-length", "-1"))
        for block in response.iter_raw():
            received += len(block)
            if digest is not None:
                digest.update(block)
    check(declared in (-1, received), f"download declared {declared} bytes, sent {received}")
    return received


class NullSink:
    """A seekable file-like object that discards what is written and counts it (so boto3
    uses its normal, seekable download path)."""

    def __init__(self) -> None:
        self.written = 0
        self._position = 0
        self._lock = threading.Lock()

    def write(self, data: bytes) -> int:
        with self._lock:
            self.written += len(data)
            self._position += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            self._position = offset
        elif whence == 1:
            self._position += offset
        return self._position

    def tell(self) -> int:
        return self._position

    def seekable(self) -> bool:
        return True

    def flush(self) -> None:
        pass


def object_key(client: S3Client, bucket: str, s3_key: str) -> str:
    """The full key of the service's object (the service's keys are below its prefix)."""
    for candidate in (f"bench/{s3_key}", s3_key):
        with contextlib.suppress(Exception):
            client.head_object(Bucket=bucket, Key=candidate)
            return candidate
    raise BenchmarkFailure(f"the service's object {s3_key!r} is not in bucket {bucket}")


def object_gone(client: S3Client, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except Exception as error:  # botocore ClientError 404
        response = getattr(error, "response", {})
        return str(response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound")
    return False


@dataclass
class Transfers:
    """Per-round figures of the transfer benchmarks (seconds, and the service watched)."""

    size: int
    pids: Pids
    rss_idle: int = 0  # the service's VmRSS before any upload
    up_service: list[Measured] = field(default_factory=list)
    up_boto3: list[Measured] = field(default_factory=list)
    down_service: list[Measured] = field(default_factory=list)
    down_boto3: list[Measured] = field(default_factory=list)
    up_watch: list[Watched] = field(default_factory=list)
    down_watch: list[Watched] = field(default_factory=list)  # timed rounds and the verifying one


def rss_line(label: str, watched: Watched) -> str:
    return (
        f"    service RSS during {label}: before {watched.rss_before / MiB:.1f} MiB, "
        f"peak {watched.rss_peak / MiB:.1f} MiB (+{watched.growth / MiB:.1f}), "
        f"after {watched.rss_after / MiB:.1f} MiB; service CPU {watched.cpu_seconds:.2f} s; "
        f"{watched.samples} samples"
    )


def timing_line(label: str, measured: Measured, size: int) -> str:
    return (
        f"  {label:<36} {measured.seconds:7.2f} s  {size / MB / measured.seconds:7.1f} MB/s"
        f"  CPU: client {measured.client_cpu:.2f} s, service {measured.service_cpu:.2f} s,"
        f" S3 server {measured.s3_cpu:.2f} s"
    )


@dataclass(frozen=True)
class ServiceFile:
    file_id: str
    key: str  # the object's full key in the bucket


def upload_through_service(
    s3: S3Client, bucket: str, service: Process, api: httpx.Client, payload: Path, digest: str,
    result: Transfers,
) -> ServiceFile:  # fmt: skip
    size = result.size
    with watch(service.pid) as watched, measure(result.pids) as measured:
        record = service_upload(api, payload, "big.bin")
    service.check_alive()
    result.up_service.append(measured)
    result.up_watch.append(watched)
    print(timing_line("upload: service POST /files/stream", measured, size), flush=True)
    print(rss_line("upload", watched), flush=True)
    check(record["file_size"] == size, f"the service recorded {record['file_size']} bytes")
    check(record["sha256"] == digest, "the service reported a different SHA-256")
    check(record["status"] == "active", f"the record's status is {record['status']!r}")
    key = object_key(s3, bucket, str(record["s3_key"]))
    stored = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
    check(stored == size, f"the service's object has {stored} bytes, not {size}")
    return ServiceFile(str(record["id"]), key)


def delete_through_service(
    server: S3Endpoint, s3: S3Client, bucket: str, api: httpx.Client, stored: ServiceFile
) -> None:
    response = api.delete(f"/api/v1/files/{stored.file_id}", params={"hard_delete": "true"})
    check(response.status_code == 204, f"hard delete answered {response.status_code}")
    check(object_gone(s3, bucket, stored.key), "the object is still there after a hard delete")
    reclaim_deleted(server)


def upload_with_boto3(
    server: S3Endpoint, s3: S3Client, bucket: str, payload: Path, result: Transfers
) -> None:
    size = result.size
    key = f"bench-direct/{uuid.uuid4().hex}.bin"
    with measure(result.pids) as measured:
        s3.upload_file(str(payload), bucket, key)
    result.up_boto3.append(measured)
    print(timing_line("upload: boto3 upload_file", measured, size), flush=True)
    stored = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
    check(stored == size, f"boto3 upload_file left {stored} bytes, not {size}")
    s3.delete_object(Bucket=bucket, Key=key)
    reclaim_deleted(server)


def bench_transfers(
    server: S3Endpoint,
    s3: S3Client,
    bucket: str,
    service: Process,
    api: httpx.Client,
    payload: Path,
    digest: str,
    rounds: int,
) -> Transfers:
    """Uploads, then downloads, ``rounds`` times each, alternating which side goes first.
    Every object is deleted once measured (and RGW made to free it), so the in-memory OSD
    holds at most one copy; the last service upload is kept for the downloads."""
    result = Transfers(payload.stat().st_size, Pids(service.pid, s3_server_pids(server)))
    size = result.size

    # Warm-up, not measured. A small multipart upload through the service, so that its
    # one-time set-up (S3 client, threads, libmagic) is not counted as upload memory; and
    # the whole file straight to S3 once, because the first large object costs the fresh
    # OSD far more than later ones (whichever side went first was up to 1.6x slower).
    result.rss_idle = proc_status(service.pid)["VmRSS"]
    warm = payload.with_name("warm-up.bin")
    make_payload(warm, min(size, WARM_UP_BYTES))
    record = service_upload(api, warm, "warm-up.bin")
    warm_file = ServiceFile(str(record["id"]), object_key(s3, bucket, str(record["s3_key"])))
    delete_through_service(server, s3, bucket, api, warm_file)
    warm.unlink()
    warm_key = f"bench-direct/warm-up-{uuid.uuid4().hex}.bin"
    with Timer() as timer:
        s3.upload_file(str(payload), bucket, warm_key)
    s3.delete_object(Bucket=bucket, Key=warm_key)
    reclaim_deleted(server)
    print(
        f" warm-up, not measured: {min(size, WARM_UP_BYTES) // MB} MB through the service"
        f" (its RSS {result.rss_idle / MiB:.1f} MiB idle,"
        f" {proc_status(service.pid)['VmRSS'] / MiB:.1f} MiB after), the whole file"
        f" straight to S3 ({timer.seconds:.1f} s)",
        flush=True,
    )
    kept: ServiceFile | None = None
    for number in range(rounds):
        print(f" upload round {number + 1}/{rounds}", flush=True)
        last = number == rounds - 1
        service_first = number % 2 == 0
        if not service_first:
            upload_with_boto3(server, s3, bucket, payload, result)
        stored = upload_through_service(s3, bucket, service, api, payload, digest, result)
        if last and not service_first:
            kept = stored
        else:
            delete_through_service(server, s3, bucket, api, stored)
        if service_first:
            upload_with_boto3(server, s3, bucket, payload, result)
    if kept is None:  # one round (or an odd count): upload the object the downloads read
        print(" upload for the downloads (not timed)", flush=True)
        with watch(service.pid) as watched:
            record = service_upload(api, payload, "big.bin")
        result.up_watch.append(watched)
        check(record["sha256"] == digest, "the service reported a different SHA-256")
        kept = ServiceFile(str(record["id"]), object_key(s3, bucket, str(record["s3_key"])))

    for number in range(rounds):
        print(f" download round {number + 1}/{rounds}", flush=True)
        sides = ("service", "boto3") if number % 2 == 0 else ("boto3", "service")
        for side in sides:
            if side == "service":
                with watch(service.pid) as watched, measure(result.pids) as measured:
                    received = service_download(api, kept.file_id)
                service.check_alive()
                result.down_service.append(measured)
                result.down_watch.append(watched)
                label = "download: service GET /download"
                print(timing_line(label, measured, size), flush=True)
                print(rss_line("download", watched), flush=True)
                check(received == size, f"the service sent {received} bytes, not {size}")
            else:
                sink = NullSink()
                with measure(result.pids) as measured:
                    s3.download_fileobj(bucket, kept.key, sink)  # type: ignore[arg-type]
                result.down_boto3.append(measured)
                label = "download: boto3 download_fileobj"
                print(timing_line(label, measured, size), flush=True)
                check(sink.written == size, f"boto3 wrote {sink.written} bytes, not {size}")

    # Once, untimed: the bytes the service sends are the bytes that were uploaded.
    hasher = hashlib.sha256()
    with watch(service.pid) as watched:
        received = service_download(api, kept.file_id, hasher)
    result.down_watch.append(watched)
    check(received == size, f"the service sent {received} bytes, not {size}")
    check(hasher.hexdigest() == digest, "the service sent different bytes (SHA-256 differs)")
    print("  verified: SHA-256 of a streamed download through the service matches", flush=True)
    print(rss_line("that verifying download", watched), flush=True)
    delete_through_service(server, s3, bucket, api, kept)
    return result


# Requests per second ------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """Figures of one load run."""

    requests: int
    seconds: float
    p50: float  # seconds
    p99: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def httpx_load(
    url: str, headers: dict[str, str], total: int, threads: int, expected: bytes
) -> Load:
    """``total`` GETs of ``url`` from ``threads`` threads sharing one ``httpx.Client``
    (after a warm-up); every answer must be 200 with exactly ``expected`` as its body.

    Threads rather than asyncio: on this machine ``httpx.AsyncClient`` with 16 requests in
    flight managed only 200-630 requests/s against the bare app, against 1,100-2,000 for
    8 threads sharing a ``Client``, so it would have measured mostly itself."""
    limits = httpx.Limits(max_connections=threads, max_keepalive_connections=threads)
    problems: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()
    with httpx.Client(headers=headers, limits=limits, timeout=60) as client:

        def worker(count: int, record: bool) -> None:
            mine: list[float] = []
            for _ in range(count):
                started = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - started
                if response.status_code != 200 or response.content != expected:
                    with lock:
                        problems.append(f"{response.status_code} {response.text[:200]}")
                mine.append(elapsed)
            if record:
                with lock:
                    latencies.extend(mine)

        def run_all(counts: Sequence[int], record: bool) -> float:
            pool = [
                threading.Thread(target=worker, args=(count, record), name=f"load-{index}")
                for index, count in enumerate(counts)
            ]
            started = time.perf_counter()
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
            return time.perf_counter() - started

        warm_up = max(threads, min(400, total // 5))
        run_all([warm_up // threads] * threads, record=False)
        seconds = run_all(
            [total // threads + (1 if i < total % threads else 0) for i in range(threads)],
            record=True,
        )
    check(not problems, f"{len(problems)} bad answers from {url}, first: {problems[:1]}")
    latencies.sort()
    return Load(len(latencies), seconds, percentile(latencies, 0.5), percentile(latencies, 0.99))


WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"status_errors": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def wrk_load(
    wrk: str, url: str, headers: dict[str, str], seconds: int, connections: int, workdir: Path
) -> Load:
    script = workdir / "report.lua"
    script.write_text(WRK_SCRIPT)
    argv = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    check(done.returncode == 0, f"wrk failed ({done.returncode}): {done.stderr[-1000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    check(bool(lines), f"wrk printed no result: {done.stdout[-1000:]}")
    figures = json.loads(lines[-1].removeprefix("RESULT "))
    check(
        figures["status_errors"] == 0 and figures["socket_errors"] == 0,
        f"wrk against {url} saw errors: {figures}",
    )
    check(figures["requests"] > 0, f"wrk made no requests against {url}")
    return Load(
        int(figures["requests"]),
        figures["duration_us"] / 1e6,
        figures["p50_us"] / 1e6,
        figures["p99_us"] / 1e6,
    )


@dataclass
class Rates:
    document_bytes: tuple[int, int]  # size of the service's answer, of the bare app's
    httpx: tuple[Load, Load] | None = None
    wrk: tuple[Load, Load] | None = None
    wrk_seconds: int = 0
    watched: Watched = field(default_factory=Watched)


def bench_rates(
    api: httpx.Client,
    service: Process,
    key: str,
    start_bare: Any,
    args: argparse.Namespace,
    workdir: Path,
) -> Rates:
    # A small file, uploaded through the service, whose record is fetched.
    small = workdir / "record.txt"
    small.write_text("a small text file whose record the benchmark fetches\n")
    response = api.post(
        "/api/v1/files/stream",
        params={
            "filename": "record.txt",
            "folder": "documents",
            "description": "benchmark record",
            "metadata": json.dumps({"category": "bench"}),
        },
        content=small.read_bytes(),
        headers={"Content-Type": "text/plain"},
    )
    check(response.status_code == 201, f"small upload answered {response.status_code}")
    file_id = str(response.json()["id"])
    path = f"/api/v1/files/{file_id}"
    answer = api.get(path)
    check(answer.status_code == 200, f"GET {path} answered {answer.status_code}")
    check(answer.json()["id"] == file_id, "GET of the record returned another record")
    check(api.get(path, headers={"Authorization": "Bearer s3f_wrong"}).status_code == 401,
          "a wrong key was not refused with 401")  # fmt: skip

    bare: Process = start_bare(answer.text)
    bare_answer = httpx.get(bare.url + path, timeout=10)
    check(bare_answer.status_code == 200, f"the bare app answered {bare_answer.status_code}")
    check(bare_answer.json() == answer.json(), "the bare app's document differs")
    rates = Rates((len(answer.content), len(bare_answer.content)))
    auth = {"Authorization": f"Bearer {key}"}

    with watch(service.pid) as watched:
        ours = httpx_load(service.url + path, auth, args.requests, args.in_flight, answer.content)
        print(
            f"  GET record, httpx x{args.in_flight}:  service {ours.rps:7.0f} req/s, "
            f"p50 {ours.p50 * 1e3:.1f} ms, p99 {ours.p99 * 1e3:.1f} ms",
            flush=True,
        )
        theirs = httpx_load(bare.url + path, {}, args.requests, args.in_flight, bare_answer.content)
        print(
            f"  GET record, httpx x{args.in_flight}:  bare    {theirs.rps:7.0f} req/s, "
            f"p50 {theirs.p50 * 1e3:.1f} ms, p99 {theirs.p99 * 1e3:.1f} ms",
            flush=True,
        )
        rates.httpx = (ours, theirs)
        wrk = shutil.which("wrk")
        if wrk and args.wrk_seconds > 0:
            # rounds alternating the two servers: the machine's load changes by the second
            rounds: list[tuple[Load, Load]] = []
            for number in range(args.wrk_rounds):
                pair: dict[str, Load] = {}
                sides = ("service", "bare") if number % 2 == 0 else ("bare", "service")
                for side in sides:
                    target, headers = (
                        (service.url + path, auth) if side == "service" else (bare.url + path, {})
                    )
                    load = wrk_load(wrk, target, headers, args.wrk_seconds, args.in_flight, workdir)
                    pair[side] = load
                    print(
                        f"  GET record, wrk -c{args.in_flight} round {number + 1}: {side:<7}"
                        f" {load.rps:7.0f} req/s, p50 {load.p50 * 1e3:.1f} ms,"
                        f" p99 {load.p99 * 1e3:.1f} ms",
                        flush=True,
                    )
                rounds.append((pair["service"], pair["bare"]))
            ratios = [ours.rps / theirs.rps for ours, theirs in rounds]
            print(
                "  GET record, wrk: rate ratio per round "
                + ", ".join(f"{ratio:.2f}x" for ratio in ratios),
                flush=True,
            )
            # the round with the median ratio stands for the run
            ours, theirs = sorted(rounds, key=lambda pair: pair[0].rps / pair[1].rps)[
                len(rounds) // 2
            ]
            rates.wrk, rates.wrk_seconds = (ours, theirs), args.wrk_seconds
        elif args.wrk_seconds > 0:
            print("  wrk is not installed: only the httpx client is used", flush=True)
    rates.watched = watched
    service.check_alive()
    print(rss_line("the request runs", watched), flush=True)
    still = api.get(path)
    check(still.status_code == 200 and still.content == answer.content, "the record changed")
    return rates


# Reporting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of the table; ``alternative`` None when there is nothing to compare."""

    name: str
    s3files: float
    alternative: float | None
    unit: str
    better: str = ""  # "higher" or "lower"

    @property
    def ratio(self) -> str:
        if self.alternative is None or not (self.alternative or self.s3files):
            return "-"
        return f"{self.s3files / self.alternative:.2f}x" if self.alternative else "inf"


def figure(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):  # a count
        return f"{value:,}"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def print_lines(lines: Sequence[Line]) -> None:
    headers = ("benchmark", "unit", "s3files", "alternative", "ratio", "better")
    cells = [
        (x.name, x.unit, figure(x.s3files), figure(x.alternative), x.ratio, x.better) for x in lines
    ]
    print("\n".join(render_table(headers, cells, frozenset({0, 1, 5}))))


def transfer_lines(size_mb: int, t: Transfers) -> list[Line]:
    size, median = t.size, statistics.median
    lines: list[Line] = []
    for name, ours, theirs, alternative, watched in (
        (f"upload {size_mb} MB", t.up_service, t.up_boto3, "boto3 upload_file", t.up_watch),
        (f"download {size_mb} MB", t.down_service, t.down_boto3, "boto3 download_fileobj",
         t.down_watch),
    ):  # fmt: skip
        best_ours, best_theirs = min(m.seconds for m in ours), min(m.seconds for m in theirs)
        before = watched[0].rss_before
        peak = max(w.rss_peak for w in watched)
        lines += [
            Line(f"{name}: time, best (vs {alternative})", best_ours, best_theirs, "s", "lower"),
            Line(f"{name}: time, median", median(m.seconds for m in ours),
                 median(m.seconds for m in theirs), "s", "lower"),
            Line(f"{name}: throughput, best", size / MB / best_ours, size / MB / best_theirs,
                 "MB/s", "higher"),
            Line(f"{name}: client CPU, median", median(m.client_cpu for m in ours),
                 median(m.client_cpu for m in theirs), "s", "lower"),
            Line(f"{name}: service CPU, median", median(m.service_cpu for m in ours), None, "s",
                 "lower"),
        ]  # fmt: skip
        if t.pids.s3:
            lines += [
                Line(f"{name}: S3 server CPU, median", median(m.s3_cpu for m in ours),
                     median(m.s3_cpu for m in theirs), "s", "lower"),
                Line(f"{name}: CPU of all parties, median", median(m.total_cpu for m in ours),
                     median(m.total_cpu for m in theirs), "s", "lower"),
            ]  # fmt: skip
        if watched is t.up_watch:
            lines.append(Line(f"{name}: service RSS idle, before warm-up", t.rss_idle / MiB,
                              None, "MiB"))  # fmt: skip
        lines += [
            Line(f"{name}: service RSS before the first", before / MiB, None, "MiB"),
            Line(f"{name}: service RSS peak, max", peak / MiB, None, "MiB", "lower"),
            Line(f"{name}: service RSS growth over that", (peak - before) / MiB, None, "MiB",
                 "lower"),
            Line(f"{name}: service RSS after the last", watched[-1].rss_after / MiB, None,
                 "MiB", "lower"),
        ]  # fmt: skip
    return lines


def rate_lines(label: str, loads: tuple[Load, Load]) -> list[Line]:
    ours, theirs = loads
    name = f"GET /files/{{id}}, {label}"
    return [
        Line(f"{name}: rate (vs bare FastAPI)", ours.rps, theirs.rps, "req/s", "higher"),
        Line(f"{name}: p50 latency", ours.p50 * 1e3, theirs.p50 * 1e3, "ms", "lower"),
        Line(f"{name}: p99 latency", ours.p99 * 1e3, theirs.p99 * 1e3, "ms", "lower"),
    ]


# Main -----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MB (10^6 bytes)")
    parser.add_argument(
        "--requests", type=int, default=3000, help="measured GETs per server with httpx"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds per transfer, sides alternating (default 2)"
    )
    parser.add_argument(
        "--in-flight", type=int, default=8, help="client threads (httpx) and connections (wrk)"
    )
    parser.add_argument(
        "--wrk-seconds", type=int, default=5, help="wrk run per server in seconds (0: no wrk)"
    )
    parser.add_argument(
        "--wrk-rounds",
        type=int,
        default=3,
        help="wrk rounds per server, alternating (the median round's ratio is reported)",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the service's metadata database (postgres: a throw-away server is booted)",
    )
    parser.add_argument(
        "--skip-transfers", action="store_true", help="only the GET /files/{id} rates"
    )
    args = parser.parse_args(argv)
    if (
        min(args.size_mb, args.requests, args.in_flight, args.rounds, args.wrk_rounds) < 1
        or args.wrk_seconds < 0
    ):
        parser.error("--size-mb, --requests, --in-flight and --rounds must be at least 1")
    if args.size_mb > 1500 and not os.environ.get("S3FILES_TEST_S3_ENDPOINT"):
        parser.error("the booted Ceph keeps objects in 4 GiB of memory: use --size-mb <= 1500")
    return args


def run(
    args: argparse.Namespace, stack: contextlib.ExitStack, workdir: Path
) -> tuple[list[Line], list[str]]:
    size = args.size_mb * MB
    payload = workdir / "payload.bin"
    digest = ""
    if not args.skip_transfers:
        with Timer() as timer:
            digest = make_payload(payload, size)
        print(f"payload: {size:,} random bytes written in {timer.seconds:.1f} s", flush=True)
    database_url: str | None = None
    if args.database == "postgres":
        from tests.harness.postgres import PostgresCluster

        with Timer() as timer:
            database_url = stack.enter_context(PostgresCluster()).async_url
        print(f"PostgreSQL: ready after {timer.seconds:.1f} s", flush=True)

    with Timer() as timer:
        server = stack.enter_context(s3_server())
    print(f"S3 server: {server.endpoint_url}, ready after {timer.seconds:.1f} s", flush=True)
    s3 = boto3_client(server)
    bucket = f"s3files-bench-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)

    def drop_bucket() -> None:
        with contextlib.suppress(Exception):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for item in page.get("Contents", []):
                    s3.delete_object(Bucket=bucket, Key=item["Key"])
            s3.delete_bucket(Bucket=bucket)

    stack.callback(drop_bucket)

    # The service: a subprocess configured by environment variables only.
    run_dir = workdir / "service"
    run_dir.mkdir()
    env = service_environment(server, f"s3://{bucket}/bench", run_dir / "data", size, database_url)
    key = create_api_key(env, run_dir)
    service = start_service(env, run_dir, workdir / "service.log")
    stack.callback(service.stop)
    with Timer() as timer:
        service.wait_ready("/healthz")
    print(f"service: pid {service.pid} at {service.url}, ready after {timer.seconds:.1f} s")

    def start_bare(document: str) -> Process:
        bare_port = free_port()
        bare_env = dict(os.environ)
        bare_env[BARE_DOCUMENT_VARIABLE] = document
        bare = spawn(
            "bare FastAPI app",
            [PYTHON, "-m", "uvicorn", "bench_service:make_bare_app", "--factory",
             "--app-dir", str(BENCH), "--host", "127.0.0.1", "--port", str(bare_port),
             "--log-level", "warning"],
            bare_env, workdir, workdir / "bare.log", f"http://127.0.0.1:{bare_port}",
        )  # fmt: skip
        stack.callback(bare.stop)
        bare.wait_ready("/docs")
        print(f"bare FastAPI app: pid {bare.pid} at {bare.url}", flush=True)
        return bare

    timeout = httpx.Timeout(connect=10, read=600, write=600, pool=10)
    api = stack.enter_context(
        httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout
        )
    )
    try:
        transfers: Transfers | None = None
        if not args.skip_transfers:
            print(f"transfers of {args.size_mb} MB:", flush=True)
            transfers = bench_transfers(
                server, s3, bucket, service, api, payload, digest, args.rounds
            )
            payload.unlink()
        print(f"requests per second ({args.in_flight} in flight):", flush=True)
        rates = bench_rates(api, service, key, start_bare, args, workdir)
    except httpx.HTTPError as error:
        service.check_alive()  # a dead service is the better explanation
        raise BenchmarkFailure(
            f"talking to the service: {type(error).__name__}: {error}\n"
            f"service log:\n{tail(service.log)}"
        ) from error

    lines = transfer_lines(args.size_mb, transfers) if transfers else []
    if rates.wrk:
        lines += rate_lines(f"wrk, median of {args.wrk_rounds}x{rates.wrk_seconds} s", rates.wrk)
    if rates.httpx:
        lines += rate_lines(f"httpx, {args.requests} req", rates.httpx)
    watched = [rates.watched]
    if transfers:
        watched = transfers.up_watch + transfers.down_watch + watched
    peak_method = (
        "and VmHWM after lowering the peak mark (clear_refs)"
        if all(w.hwm_reset for w in watched)
        else "(the peak mark could not be reset, so VmHWM is not used)"
    )
    shared = (
        f"the benchmark client, the s3files service, the bare app and Ceph (mon, OSD, RGW) all"
        f" share these {os.cpu_count()} cores"
        if server.ceph_conf
        else "the benchmark client, the service and the bare app share this machine's cores"
    )
    notes = [
        "ratio = s3files / alternative. Transfers: client -> s3files serve -> S3, versus boto3",
        "straight to S3 (default TransferConfig: 8 MiB parts, 10 threads); "
        f"{args.rounds} round(s) per side, order alternating.",
        f"Service RSS: VmRSS of the serve process sampled every 50 ms, {peak_method};",
        "CPU: user+sys during each transfer of this process (the client), the serve process"
        " and the Ceph daemons.",
        f"GET record: {rates.document_bytes[0]} bytes of JSON from the service (API key and"
        f" record looked up in {'PostgreSQL' if database_url else 'SQLite'}),"
        f" {rates.document_bytes[1]} bytes from the bare app;",
        f"one uvicorn worker each; {args.in_flight} requests in flight: httpx from"
        f" {args.in_flight} threads sharing a Client, wrk with 1 thread and"
        f" {args.in_flight} connections.",
        f"machine: {machine_note(server)}",
        shared,
        s3files_note(),
    ]
    print(f"  service RSS at the end of the run: {proc_status(service.pid)['VmRSS'] / MiB:.1f} MiB")
    return lines, notes


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    load_before = os.getloadavg()

    def work() -> tuple[list[Line], list[str]]:
        with contextlib.ExitStack() as stack:
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="s3files-bench-svc-"))
            )
            return run(args, stack, workdir)

    measured = reporting_failures(work, BenchmarkFailure)
    if measured is None:
        return 1
    lines, notes = measured
    print()
    print_lines(lines)
    print()
    for note in notes:
        print(note)
    print(load_note(load_before))
    print(f"total run time: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
