"""Helpers shared by the benchmarks: the S3 server, a boto3 client configured like
``S3Store``'s, a timer, peak-memory measurement in a fresh process, and a table printer.

Peak memory: each measured side runs in its own freshly spawned process
(:func:`run_isolated`). The process first does its set-up (imports, clients), lowers the
kernel's peak-RSS mark to the current RSS (Linux), reads ``ru_maxrss``, does the work, and
reads ``ru_maxrss`` again; the difference is the growth of the peak resident set caused by
the work alone, unpolluted by the other side or by set-up's transient allocations.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # for tests.harness.ceph when run as a script
    sys.path.insert(0, str(ROOT))

MB = 1_000_000  # throughput is reported in decimal megabytes per second
MiB = 1024 * 1024

_T = TypeVar("_T")

__all__ = [
    "MB",
    "Isolated",
    "MiB",
    "Row",
    "S3Endpoint",
    "Timer",
    "boto3_client",
    "load_note",
    "machine_note",
    "print_table",
    "reclaim_deleted",
    "render_table",
    "reporting_failures",
    "run_isolated",
    "s3_server",
    "s3files_note",
    "wait_for_quiet",
]


# The server --------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Endpoint:
    """How to reach the S3 server the benchmark runs against."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str
    description: str
    ceph_conf: str | None = None  # set when the benchmark booted the Ceph cluster itself


@contextlib.contextmanager
def s3_server() -> Iterator[S3Endpoint]:
    """The server named by ``S3FILES_TEST_S3_ENDPOINT`` (with ``..._ACCESS_KEY`` and
    ``..._SECRET_KEY``), or else a throw-away Ceph RGW booted in a temporary folder."""
    from tests.harness.ceph import CephCluster, external_server

    external = external_server()
    if external is not None:
        yield S3Endpoint(
            endpoint_url=external.endpoint_url,
            access_key=external.access_key,
            secret_key=external.secret_key,
            region=external.region,
            description=f"external S3 server at {external.endpoint_url}",
        )
        return

    with tempfile.TemporaryDirectory(prefix="s3files-bench-ceph-") as workdir:
        cluster = CephCluster(Path(workdir))
        with cluster as server:
            yield S3Endpoint(
                endpoint_url=server.endpoint_url,
                access_key=server.access_key,
                secret_key=server.secret_key,
                region=server.region,
                description="Ceph RGW (memstore OSD) booted on this machine",
                ceph_conf=str(cluster.conf),
            )


# The `radosgw-admin` script must not see a virtualenv's Python settings (as in the harness).
_CEPH_ENV_DROP = ("PYTHONPATH", "PYTHONHOME", "CEPH_ARGS", "CEPH_CONF")


def reclaim_deleted(server: S3Endpoint) -> None:
    """Make a booted Ceph RGW free the data of deleted objects now.

    RGW hands the tail of a deleted object to its garbage collector, which by default frees
    it only hours later; the booted OSD keeps everything in 2 GiB of memory, so a few runs
    of 200 MB uploads would fill it (uploads then went unanswered). No-op for an
    external server.
    """
    if server.ceph_conf is None:
        return
    env = {k: v for k, v in os.environ.items() if k not in _CEPH_ENV_DROP}
    env["CEPH_CONF"] = server.ceph_conf
    subprocess.run(
        ["radosgw-admin", "-c", server.ceph_conf, "-n", "client.admin",
         "gc", "process", "--include-all"],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=True,
    )  # fmt: skip


def boto3_client(server: S3Endpoint, *, max_pool_connections: int = 10) -> S3Client:
    """A boto3 client configured as ``S3Store`` configures its own: SigV4, path-style
    addressing, checksums only where S3 requires them; ``max_pool_connections`` as many
    as the caller's threads (botocore's default is 10)."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=server.region,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            max_pool_connections=max_pool_connections,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


# Measuring ---------------------------------------------------------------------------


class Timer:
    """``with Timer() as t: ...``; then ``t.seconds``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.seconds = time.perf_counter() - self._start


def peak_rss_bytes() -> int:
    """This process's peak resident set so far (``ru_maxrss`` is in KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far, all threads included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reset_peak_rss() -> bool:
    """Lower the peak-RSS mark to the current RSS (Linux: ``5`` into /proc/self/clear_refs),
    so that memory freed during set-up does not hide the work's own peak. False if the
    kernel does not allow it; the peak then still includes set-up's transient peak."""
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Isolated(Generic[_T]):
    """What one side did in its own process: its result, wall time and peak RSS growth."""

    result: _T
    seconds: float
    peak_rss_growth: int  # bytes the peak RSS grew during the work (after set-up)
    baseline_rss: int  # ru_maxrss after set-up, just before the work
    peak_reset: bool  # True if the baseline is the current RSS, not set-up's own peak
    cpu_seconds: float  # user + system CPU time of the process (all threads) during the work


def _isolated_main(
    prepare: Callable[..., Callable[[], _T]], args: tuple[object, ...]
) -> Isolated[_T]:
    work = prepare(*args)
    reset = reset_peak_rss()
    before = peak_rss_bytes()
    cpu_before = cpu_seconds()
    with Timer() as timer:
        result = work()
    cpu = cpu_seconds() - cpu_before
    growth = peak_rss_bytes() - before
    return Isolated(result, timer.seconds, growth, before, reset, cpu)


def run_isolated(prepare: Callable[..., Callable[[], _T]], *args: object) -> Isolated[_T]:
    """Run ``prepare(*args)`` then the zero-argument callable it returns, in a freshly
    spawned process; time only that callable and measure its peak RSS growth: ``ru_maxrss``
    at its end minus at its start (the mark first lowered to the current RSS where the
    kernel allows, see :func:`reset_peak_rss`).

    ``prepare`` must be a module-level function (it is pickled by name) and the result
    picklable. Exceptions in the child are raised here.
    """
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_isolated_main, prepare, args).result()


def make_payload(path: Path, size: int) -> str:
    """Write ``size`` random bytes to ``path`` (synced to disk, so no write-back disturbs
    the measurements); return their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        remaining = size
        while remaining:
            block = os.urandom(min(8 * 1024 * 1024, remaining))
            digest.update(block)
            handle.write(block)
            remaining -= len(block)
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest()


# Reporting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the side-by-side table. ``ratio`` is s3files / alternative."""

    name: str
    s3files: float
    alternative: float
    unit: str
    better: str  # "higher" or "lower": which way is good for this figure

    @property
    def ratio(self) -> float:
        return self.s3files / self.alternative if self.alternative else float("inf")


def _figure(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render_table(
    headers: Sequence[str], cells: Sequence[Sequence[str]], left: frozenset[int]
) -> list[str]:
    """The lines of a table: columns padded to their widest cell, those in ``left`` aligned
    left, the others right, a rule under the headers."""
    widths = [max(len(str(line[i])) for line in (headers, *cells)) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.ljust(w) if i in left else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths), *(line(cell) for cell in cells)]


def print_table(rows: Sequence[Row], *, alternative: str = "boto3") -> None:
    """Print the rows side by side with the s3files / alternative ratio."""
    headers = ("benchmark", "unit", "s3files", alternative, f"s3files/{alternative}", "better")
    cells = [
        (r.name, r.unit, _figure(r.s3files), _figure(r.alternative), f"{r.ratio:.2f}x", r.better)
        for r in rows
    ]
    print("\n".join(render_table(headers, cells, frozenset({0, 1, 5}))))


def machine_note(server: S3Endpoint) -> str:
    """Cores, Python, library versions, and where the server runs."""
    import botocore

    shared = " (client and server share this machine's cores)" if server.ceph_conf else ""
    return (
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, boto3 {boto3.__version__}, "
        f"botocore {botocore.__version__}; server: {server.description}{shared}"
    )


def s3files_note() -> str:
    """Which s3files is measured: its folder, and its git commit when it is a checkout."""
    import s3files

    folder = Path(s3files.__file__).resolve().parent
    note = f"s3files {s3files.__version__} from {folder}"
    try:
        commit = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return note
    return f"{note} (git {commit}{', with uncommitted changes' if dirty else ''})"


def load_note(before: tuple[float, float, float]) -> str:
    """The 1/5/15-minute load averages seen before the run, with a warning if others ran."""
    figures = "/".join(f"{value:.1f}" for value in before)
    busy = before[0] > 0.5
    return f"load average before the run (1/5/15 min): {figures}" + (
        "; other processes were busy, so the figures are noisier than usual" if busy else ""
    )


def wait_for_quiet(max_load: float, timeout: float = 600.0) -> tuple[float, float, float]:
    """Wait (up to ``timeout`` seconds) until the 1-minute load average is below
    ``max_load``, so that the run does not compete with other work on a shared machine;
    return the load averages seen last. ``max_load`` 0 or less: no wait."""
    deadline = time.monotonic() + timeout
    load = os.getloadavg()
    if max_load <= 0:
        return load
    while load[0] >= max_load and time.monotonic() < deadline:
        print(f"waiting: 1-minute load average {load[0]:.2f} >= {max_load:g}", flush=True)
        time.sleep(min(15.0, max(0.0, deadline - time.monotonic())))
        load = os.getloadavg()
    if load[0] >= max_load:
        print(f"still busy after {timeout:.0f} s (load {load[0]:.2f}): running anyway", flush=True)
    return load


def reporting_failures(work: Callable[[], _T], expected: type[Exception]) -> _T | None:
    """Run ``work``; if it raises, print ``FAILED`` and why (``expected`` is the script's own
    "something did not work" error, printed as its message; anything else with its
    traceback) and return None."""
    try:
        return work()
    except expected as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
    except Exception:
        traceback.print_exc()
        print("\nFAILED: the benchmark raised an exception", file=sys.stderr)
    return None
