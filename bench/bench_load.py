"""``s3files serve`` under load, on PostgreSQL + Ceph RGW and on SQLite + the local disk, in
one run: many uploads at once, then slow clients beside a normal upload.

    .venv/bin/python bench/bench_load.py [--uploads-postgres 500] [--uploads-sqlite 200]
        [--slow-clients 200] [--setups postgres,sqlite] [--max-load 3]

* Concurrent uploads: N uploads started at once (500 on PostgreSQL + RGW, 200 on SQLite +
  local disk), random sizes of 64 KiB-4 MiB, streamed as the raw body of ``POST
  /api/v1/files/stream`` by a small asyncio client, a fresh connection per attempt (httpx's
  pool cost more CPU than the service at this concurrency), the uploads spread over
  ``--owners`` API keys. A 201 is stored; a 503 must carry
  ``Retry-After`` and is retried after it (times 1-1.5, so the retries do not come back as
  one wave) up to ``--max-attempts``; anything else (a 500, a 503 without Retry-After, a
  reset, a timeout) is an error. Every stored file is then downloaded through the service
  and hashed, and each owner's listing must hold exactly the stored records (a retried
  upload is not stored twice). Meanwhile a separate process polls ``/healthz`` every 20 ms
  on one keep-alive connection, and the service's RSS is sampled.
* The alternative, same payloads, same concurrency (one thread per upload): boto3
  ``put_object`` straight to the same RGW bucket, or plain file writes (write, fsync,
  rename, as the local store does) into a folder on the same disk; read back and hashed.
* Slow clients: ``--slow-clients`` raw sockets each send the head of an upload
  (``Content-Length`` 1 MiB) and then 1 byte/s; when one is answered or dropped it
  reconnects a second later, so that many stay connected. Meanwhile a normal 1 MB upload
  (503s retried as above), timed; compared with the same upload on the idle service.

Everything talks to 127.0.0.1 and is bounded in time. The exit status is 1 only when
something does not work (wrong bytes, an error answer, an upload never stored), never for
slowness. Before measuring, the run waits up to 10 minutes for the 1-minute load average to
fall below ``--max-load``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path

import httpx
from _common import (
    MB,
    MiB,
    S3Endpoint,
    boto3_client,
    cpu_seconds,
    load_note,
    machine_note,
    reclaim_deleted,
    reporting_failures,
    s3_server,
    s3files_note,
    wait_for_quiet,
)
from bench_service import (
    BenchmarkFailure,
    Line,
    Process,
    Watched,
    create_api_key,
    percentile,
    print_lines,
    service_environment,
    start_service,
    watch,
)

CHUNK = 256 * 1024  # request body chunks
KiB = 1024
PROBE_INTERVAL = 0.02  # seconds between two /healthz probes
VERIFY_IN_FLIGHT = 16  # downloads (and read-backs) in flight while checking the bytes


# Payloads: random bytes, shared, each file a distinct slice with its own head ---------------


@dataclass(frozen=True)
class Payload:
    """One file: a unique 32-byte head, then a slice of the shared random pool."""

    index: int
    size: int
    head: bytes
    offset: int
    sha256: str
    pool: bytes = field(repr=False, compare=False)

    @property
    def filename(self) -> str:
        return f"load-{self.index:05d}.bin"

    def parts(self) -> Iterator[bytes]:
        yield self.head
        view = memoryview(self.pool)[self.offset : self.offset + self.size - len(self.head)]
        for start in range(0, len(view), CHUNK):
            yield bytes(view[start : start + CHUNK])

    async def aparts(self) -> AsyncIterator[bytes]:
        for part in self.parts():
            yield part


def make_payloads(count: int, low: int, high: int, seed: int, tag: str) -> list[Payload]:
    """``count`` payloads of ``low``-``high`` bytes (uniform), SHA-256 computed up front."""
    rng = random.Random(seed)
    pool = rng.randbytes(high)
    payloads = []
    for index in range(count):
        size = rng.randint(low, high)
        head = f"s3files load {tag} {index:08d}\n".encode().ljust(32, b".")[:32]
        offset = rng.randint(0, high - (size - len(head)))
        digest = hashlib.sha256(head)
        digest.update(memoryview(pool)[offset : offset + size - len(head)])
        payloads.append(Payload(index, size, head, offset, digest.hexdigest(), pool))
    return payloads


# Uploads through the service -----------------------------------------------------------------


@dataclass
class Outcome:
    """What became of one upload through the service."""

    payload: Payload
    key: str
    record_id: str | None = None
    attempts: int = 0
    busy: int = 0  # 503 answers (each retried after its Retry-After)
    error: str | None = None  # any other outcome
    seconds: float = 0.0  # from the start of the phase until stored, or given up


def retry_after(response: httpx.Response | Answer) -> int | None:
    """The seconds a 503 asks to wait, None if it does not say."""
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() else None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    status_line = await reader.readline()
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ValueError(f"not an HTTP answer: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length", "")
    body = await reader.readexactly(int(length)) if length.isdigit() else await reader.read()
    return Answer(int(parts[1]), headers, body)


async def raw_post(port: int, target: str, headers: str, parts: Iterator[bytes]) -> Answer:
    """One HTTP/1.1 POST on a fresh connection (``Connection: close``), the body sent chunk
    by chunk while the answer is read: an answer that comes early (a 503 before the body)
    stops the sending. A cheap client: httpx's pool spent more CPU than the service with
    500 uploads in flight."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    answer = asyncio.create_task(read_answer(reader))
    try:
        writer.write(
            f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
            f"{headers}\r\n".encode()
        )
        with contextlib.suppress(ConnectionError):
            for part in parts:
                if answer.done():
                    break
                writer.write(part)
                await writer.drain()
        return await answer
    finally:
        answer.cancel()
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def upload_one(
    port: int, outcome: Outcome, max_attempts: int, started: float, timeout: float
) -> None:
    """POST the payload as the raw body; retry 503s after their Retry-After."""
    try:
        await _upload(port, outcome, max_attempts, timeout)
    finally:
        outcome.seconds = time.perf_counter() - started


async def _upload(port: int, outcome: Outcome, max_attempts: int, timeout: float) -> None:
    payload = outcome.payload
    target = f"/api/v1/files/stream?filename={payload.filename}"
    headers = (
        f"Authorization: Bearer {outcome.key}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {payload.size}\r\n"
    )
    while outcome.attempts < max_attempts:
        outcome.attempts += 1
        try:
            async with asyncio.timeout(timeout):
                response = await raw_post(port, target, headers, payload.parts())
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as error:
            outcome.error = f"{type(error).__name__}: {error}"[:300]
            return
        text = response.body[:200].decode(errors="replace")
        if response.status == 503:
            wait = retry_after(response)
            if wait is None:
                outcome.error = f"503 without Retry-After: {text}"
                return
            outcome.busy += 1
            await asyncio.sleep(wait * random.uniform(1.0, 1.5))
            continue
        if response.status != 201:
            outcome.error = f"{response.status} {text}"
            return
        record = json.loads(response.body)
        if record.get("sha256") != payload.sha256 or record.get("file_size") != payload.size:
            outcome.error = f"201 but the record says {record.get('file_size')} bytes, other hash"
            return
        outcome.record_id = str(record["id"])
        return
    outcome.error = f"still 503 after {max_attempts} attempts"


async def upload_all(
    port: int, outcomes: Sequence[Outcome], max_attempts: int, deadline: float
) -> None:
    """All uploads at once, each on its own connection; cut off after ``deadline`` s."""
    started = time.perf_counter()
    tasks = [
        asyncio.create_task(upload_one(port, outcome, max_attempts, started, 300))
        for outcome in outcomes
    ]
    _, pending = await asyncio.wait(tasks, timeout=deadline)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for outcome, task in zip(outcomes, tasks, strict=True):
        if task.cancelled():
            outcome.error = outcome.error or f"not finished within {deadline:.0f} s"
        elif task.exception() is not None:
            outcome.error = f"the client raised {task.exception()!r}"[:300]


async def verify_stored(
    url: str, outcomes: Sequence[Outcome], owners: dict[str, str], max_attempts: int
) -> list[str]:
    """Download every stored file and compare its SHA-256; each owner's listing must hold
    exactly the stored records. Returns what is wrong."""
    problems: list[str] = []
    gate = asyncio.Semaphore(VERIFY_IN_FLIGHT)
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:

        async def check_one(outcome: Outcome) -> None:
            auth = {"Authorization": f"Bearer {outcome.key}"}
            for _ in range(max_attempts):  # downloads take transfer slots too: 503s retried
                digest = hashlib.sha256()
                path = f"/api/v1/files/{outcome.record_id}/download"
                async with gate, client.stream("GET", path, headers=auth) as response:
                    async for block in response.aiter_raw():
                        digest.update(block)
                if response.status_code != 503:
                    break
                await asyncio.sleep((retry_after(response) or 1) * random.uniform(1.0, 1.5))
            name = outcome.payload.filename
            if response.status_code != 200:
                problems.append(f"{name}: its download answered {response.status_code}")
            elif digest.hexdigest() != outcome.payload.sha256:
                problems.append(f"{name}: the downloaded bytes differ")

        await asyncio.gather(*(check_one(o) for o in outcomes if o.record_id))
        for owner, key in owners.items():
            listed: list[str] = []
            cursor: str | None = None
            while True:
                params = {"limit": "200"} | ({"cursor": cursor} if cursor else {})
                page = await client.get(
                    "/api/v1/files", params=params, headers={"Authorization": f"Bearer {key}"}
                )
                if page.status_code != 200:
                    problems.append(f"listing of {owner} answered {page.status_code}")
                    break
                body = page.json()
                listed += [str(item["id"]) for item in body["items"]]
                cursor = body.get("next_cursor")
                if not cursor:
                    break
            stored = sorted(o.record_id for o in outcomes if o.record_id and o.key == key)
            if sorted(listed) != stored:
                problems.append(
                    f"{owner}: {len(listed)} records listed, {len(stored)} uploads stored"
                )
    return problems


# The /healthz prober, a separate process ----------------------------------------------------


def probe_main(host: str, port: int, stop: Event, results: Connection) -> None:
    """GET /healthz every PROBE_INTERVAL on one keep-alive connection (reopened after a
    failure) until ``stop``; send back (latencies, failures)."""
    import http.client

    latencies: list[float] = []
    failures: list[str] = []
    connection: http.client.HTTPConnection | None = None
    results.send("ready")
    while not stop.is_set():
        started = time.perf_counter()
        try:
            if connection is None:
                connection = http.client.HTTPConnection(host, port, timeout=30)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(f"status {response.status}")
        except (OSError, http.client.HTTPException) as error:
            failures.append(f"{type(error).__name__}: {error}"[:200])
            if connection is not None:
                connection.close()
            connection = None
        latencies.append(time.perf_counter() - started)
        stop.wait(PROBE_INTERVAL)
    results.send((latencies, failures))


@dataclass
class Probed:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def ms(self, fraction: float) -> float:
        values = sorted(self.latencies)
        return percentile(values, fraction) * 1e3 if values else float("nan")


@contextlib.contextmanager
def health_probe(port: int) -> Iterator[Probed]:
    context = get_context("spawn")
    stop = context.Event()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=probe_main, args=("127.0.0.1", port, stop, sender), daemon=True
    )
    process.start()
    probed = Probed()
    try:
        if not receiver.poll(60) or receiver.recv() != "ready":
            raise BenchmarkFailure("the /healthz prober did not start")
        yield probed
    finally:
        stop.set()
        if receiver.poll(60):
            probed.latencies, probed.failures = receiver.recv()
        process.join(10)
        if process.is_alive():
            process.kill()


# The alternative: the same payloads straight to the store ------------------------------------


@dataclass(frozen=True)
class Alternative:
    """Where the same payloads go without the service, and how to read them back."""

    name: str
    store: Callable[[Payload], None]
    digest: Callable[[Payload], str]
    cleanup: Callable[[], None]


def boto3_alternative(server: S3Endpoint, bucket: str, threads: int) -> Alternative:
    client = boto3_client(server, max_pool_connections=threads)

    def store(payload: Payload) -> None:
        body = b"".join(payload.parts())
        client.put_object(Bucket=bucket, Key=f"direct/{payload.filename}", Body=body)

    def digest(payload: Payload) -> str:
        body = client.get_object(Bucket=bucket, Key=f"direct/{payload.filename}")["Body"]
        hasher = hashlib.sha256()
        for block in body.iter_chunks(MiB):
            hasher.update(block)
        return hasher.hexdigest()

    def cleanup() -> None:
        clear_bucket(server, bucket)

    return Alternative("boto3 put_object", store, digest, cleanup)


def files_alternative(root: Path) -> Alternative:
    root.mkdir(parents=True, exist_ok=True)

    def store(payload: Payload) -> None:
        temporary = root / f".{payload.filename}.{uuid.uuid4().hex}"
        with temporary.open("xb") as handle:
            for part in payload.parts():
                handle.write(part)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, root / payload.filename)

    def digest(payload: Payload) -> str:
        with (root / payload.filename).open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()

    return Alternative("file writes", store, digest, lambda: shutil.rmtree(root))


@dataclass
class AlternativeRun:
    seconds: float
    cpu_seconds: float  # of this process, all threads, while storing
    stored: int
    errors: list[str]


def run_alternative(alternative: Alternative, payloads: Sequence[Payload]) -> AlternativeRun:
    """All payloads at once, a thread each; then read back and hashed; then removed."""
    errors: list[str] = []

    def store(payload: Payload) -> None:
        try:
            alternative.store(payload)
        except Exception as error:
            errors.append(f"{payload.filename}: {type(error).__name__}: {error}"[:300])

    started, cpu = time.perf_counter(), cpu_seconds()
    with ThreadPoolExecutor(len(payloads)) as pool:
        list(pool.map(store, payloads))
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    failed = {error.split(":")[0] for error in errors}
    with ThreadPoolExecutor(VERIFY_IN_FLIGHT) as pool:
        stored = [p for p in payloads if p.filename not in failed]
        digests = list(pool.map(alternative.digest, stored))
    wrong = [p.filename for p, d in zip(stored, digests, strict=True) if d != p.sha256]
    errors += [f"{name}: {alternative.name} read back other bytes" for name in wrong]
    alternative.cleanup()
    return AlternativeRun(seconds, cpu, len(stored) - len(wrong), errors)


def clear_bucket(server: S3Endpoint, bucket: str) -> None:
    """Delete every object of the bucket and make a booted RGW free their data now."""
    client = boto3_client(server)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})  # type: ignore[typeddict-item]
    reclaim_deleted(server)


# Slow clients ---------------------------------------------------------------------------------


@dataclass
class SlowStats:
    connections: int = 0  # opened over the whole phase
    open_now: int = 0
    answers: Counter[str] = field(default_factory=Counter)


async def slow_client(
    port: int, key: str, index: int, stop: asyncio.Event, stats: SlowStats
) -> None:
    """Send an upload's head, then its body at 1 byte/s, until answered or dropped; then
    reconnect a second later; until ``stop``."""
    head = (
        f"POST /api/v1/files/stream?filename=slow-{index}.bin HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {MiB}\r\n\r\n"
    ).encode()
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError as error:
            stats.answers[f"connect failed ({type(error).__name__})"] += 1
            await asyncio.sleep(1)
            continue
        stats.connections += 1
        stats.open_now += 1
        outcome = "still sending at the end"
        try:
            writer.write(head)
            while not stop.is_set():
                writer.write(b"a")
                await writer.drain()
                try:
                    answer = await asyncio.wait_for(reader.read(64), 1.0)
                except TimeoutError:
                    continue
                outcome = answer[:12].decode(errors="replace") if answer else "closed, no answer"
                break
        except OSError as error:
            outcome = f"dropped ({type(error).__name__})"
        finally:
            stats.open_now -= 1
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        stats.answers[outcome] += 1
        if not stop.is_set():
            await asyncio.sleep(1)


@dataclass
class SlowRun:
    idle: list[Outcome]
    loaded: list[Outcome]
    open_when_measured: list[int]
    stats: SlowStats


async def slow_phase(
    port: int, key: str, slow_keys: Sequence[str], args: argparse.Namespace
) -> SlowRun:
    """Normal uploads on the idle service, then the same with the slow clients connected."""
    size = int(args.normal_mb * MB)
    normal = make_payloads(2 * args.normal_uploads, size, size, args.seed + 1, "normal")

    async def timed(payload: Payload) -> Outcome:
        outcome = Outcome(payload, key)
        started = time.perf_counter()
        await upload_one(port, outcome, args.max_attempts, started, args.normal_timeout)
        return outcome

    await timed(normal[0])  # warm-up, not counted: the service's first upload sets things up
    idle = [await timed(p) for p in normal[: args.normal_uploads]]
    stop, stats = asyncio.Event(), SlowStats()
    tasks = [
        asyncio.create_task(slow_client(port, slow_keys[i % len(slow_keys)], i, stop, stats))
        for i in range(args.slow_clients)
    ]
    started = time.monotonic()
    await asyncio.sleep(args.slow_warm_up)
    loaded, open_when_measured = [], []
    for payload in normal[args.normal_uploads :]:
        open_when_measured.append(stats.open_now)
        loaded.append(await timed(payload))
    await asyncio.sleep(max(0.0, args.slow_seconds - (time.monotonic() - started)))
    stop.set()
    await asyncio.gather(*tasks)
    return SlowRun(idle, loaded, open_when_measured, stats)


# One setup: a service, its uploads, its alternative, its slow clients --------------------------


@dataclass
class Setup:
    label: str
    uploads: int
    env: dict[str, str]
    alternative: Alternative


def run_setup(
    setup: Setup, args: argparse.Namespace, stack: contextlib.ExitStack, workdir: Path
) -> tuple[list[Line], list[str]]:
    """Measure one setup; return its lines and what did not work."""
    print(f"\n== {setup.label} ==", flush=True)
    run_dir = workdir / setup.label.split()[0].lower()
    run_dir.mkdir()
    owners = {
        f"load-{n}": create_api_key(setup.env, run_dir, f"load-{n}") for n in range(args.owners)
    }
    slow_keys = [create_api_key(setup.env, run_dir, f"slow-{n}") for n in range(args.slow_owners)]
    service = start_service(setup.env | args.service_env, run_dir, run_dir / "service.log")
    stack.callback(service.stop)
    service.wait_ready("/healthz")
    if args.service_nice:
        renice(service.pid, args.service_nice)
    print(f"service: pid {service.pid} at {service.url}", flush=True)
    lines: list[Line] = []
    problems: list[str] = []
    if "uploads" in args.phases:
        lines += concurrent_uploads(setup, args, service, owners, problems)
    if "slow" in args.phases:
        port = int(service.url.rpartition(":")[2])
        print(f"  slow clients: {args.slow_clients} at 1 byte/s, for {args.slow_seconds:.0f} s")
        with health_probe(port) as probed, watch(service.pid) as watched:
            keys = list(owners.values())
            with lowered_priority(args.client_nice):
                slow = asyncio.run(slow_phase(port, keys[0], slow_keys, args))
        service.check_alive()
        print(f"  slow answers: {dict(slow.stats.answers)}", flush=True)
        lines += slow_lines(args, slow, probed, watched)
        problems += [f"normal upload: {o.error}" for o in slow.idle + slow.loaded if o.error]
        problems += probe_failures(probed)
    service.stop()
    return lines, [f"{setup.label}: {problem}" for problem in problems]


def renice(pid: int, nice: int) -> None:
    """Every thread of ``pid`` (and those it starts later) at niceness ``nice``."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.setpriority(os.PRIO_PROCESS, int(task.name), nice)


@contextlib.contextmanager
def lowered_priority(nice: int) -> Iterator[None]:
    """The calling thread (and the threads it starts) at niceness ``nice`` while the block
    runs: on two shared cores the load generator otherwise takes CPU from the service it
    measures. Linux's niceness is per thread, so the service, the prober and the servers,
    started before, keep theirs. Restored afterwards where allowed (root; others stay)."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        yield
        return
    before = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, before + nice)
    try:
        yield
    finally:
        with contextlib.suppress(PermissionError):
            os.setpriority(os.PRIO_PROCESS, 0, before)


@contextlib.contextmanager
def profiling(folder: Path | None, pid: int, name: str) -> Iterator[None]:
    """``py-spy record`` of ``pid`` while the block runs (nothing without ``folder``)."""
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    output = folder / f"{name}-uploads.txt"
    argv = [spy, "record", "-p", str(pid), "-f", "raw", "-o", str(output), "-r", "200",
            "--threads", "--gil", "--nonblocking"]  # fmt: skip
    recorder = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        try:
            recorder.wait(30)
        except subprocess.TimeoutExpired:
            recorder.kill()
        print(f"  profile: {output}", flush=True)


def probe_failures(probed: Probed) -> list[str]:
    if not probed.failures:
        return []
    return [f"{len(probed.failures)} /healthz probes failed, first: {probed.failures[0]}"]


def concurrent_uploads(
    setup: Setup,
    args: argparse.Namespace,
    service: Process,
    owners: dict[str, str],
    problems: list[str],
) -> list[Line]:
    """The N uploads at once through the service, checked; then the alternative."""
    keys = list(owners.values())
    low, high = args.min_kib * KiB, args.max_kib * KiB
    payloads = make_payloads(setup.uploads, low, high, args.seed, "load")
    total = sum(p.size for p in payloads)
    outcomes = [Outcome(p, keys[p.index % len(keys)]) for p in payloads]
    print(f"  {setup.uploads} uploads at once: {total / MB:.0f} MB", flush=True)
    port = int(service.url.rpartition(":")[2])
    client_cpu = cpu_seconds()
    with (
        health_probe(port) as probed,
        watch(service.pid) as watched,
        profiling(args.profile, service.pid, setup.label.split()[0].lower()),
        lowered_priority(args.client_nice),
    ):
        asyncio.run(upload_all(port, outcomes, args.max_attempts, args.deadline))
    client_cpu = cpu_seconds() - client_cpu
    service.check_alive()
    stored = [o for o in outcomes if o.record_id]
    errors = [f"{o.payload.filename}: {o.error}" for o in outcomes if o.error]
    seconds = max(o.seconds for o in outcomes)
    busy = sum(o.busy for o in outcomes)
    print(f"  service: {len(stored)} stored in {seconds:.1f} s, {busy} answers 503,"
          f" {len(errors)} errors; /healthz p99 {probed.ms(0.99):.1f} ms", flush=True)  # fmt: skip
    for line in Counter(e.split(": ", 1)[1][:80] for e in errors).most_common(5):
        print(f"    {line[1]} x {line[0]}")
    found = asyncio.run(verify_stored(service.url, stored, owners, args.max_attempts))
    verified = len(stored) - len([p for p in found if ": its download" in p or "differ" in p])
    print(f"  verified: {verified} downloads byte-identical; {len(found)} problems", flush=True)
    if setup.env["S3FILES_STORAGE_URL"].startswith("s3://") and args.server is not None:
        clear_bucket(args.server, args.bucket)  # the service's objects: free RGW's memory

    with lowered_priority(args.client_nice):  # its threads inherit it: the same conditions
        alternative = run_alternative(setup.alternative, payloads)
    print(f"  {setup.alternative.name}: {alternative.stored} stored in {alternative.seconds:.1f} s,"
          f" {len(alternative.errors)} errors", flush=True)  # fmt: skip
    problems += found + errors + [f"{setup.alternative.name}: {e}" for e in alternative.errors]
    problems += probe_failures(probed)
    cpu = (client_cpu, watched.cpu_seconds)
    return upload_lines(setup, outcomes, (seconds, total), cpu, probed, watched, alternative)


def upload_lines(
    setup: Setup,
    outcomes: Sequence[Outcome],
    phase: tuple[float, int],  # seconds until the last upload ended, bytes offered
    cpu: tuple[float, float],  # CPU seconds of the client (this process), of the service
    probed: Probed,
    watched: Watched,
    alternative: AlternativeRun,
) -> list[Line]:
    seconds, total = phase
    n, alt = len(outcomes), setup.alternative.name
    stored = [o for o in outcomes if o.record_id]
    stored_bytes = sum(o.payload.size for o in stored)

    def row(name: str, ours: float, theirs: float | None, unit: str, better: str = "") -> Line:
        return Line(f"{n} at once: {name}", ours, theirs, unit, better)

    return [
        row(f"stored (vs {alt})", len(stored), alternative.stored, "files", "higher"),
        row("201 at the first attempt", sum(o.attempts == 1 for o in stored), None, "files"),
        row("503 answers, each retried", sum(o.busy for o in outcomes), None, "answers"),
        row("uploads stored after a 503", sum(o.busy > 0 for o in stored), None, "files"),
        row("most attempts of one upload", max(o.attempts for o in outcomes), None, "attempts"),
        row("other outcomes (must be 0)", sum(bool(o.error) for o in outcomes),
            len(alternative.errors), "uploads", "lower"),
        row("time until the last one ended", seconds, alternative.seconds, "s", "lower"),
        row("throughput", stored_bytes / MB / seconds, total / MB / alternative.seconds, "MB/s",
            "higher"),
        row("files per second", len(stored) / seconds, n / alternative.seconds, "files/s",
            "higher"),
        row(f"/healthz p50 ({len(probed.latencies)} probes)", probed.ms(0.5), None, "ms", "lower"),
        row("/healthz p99 (target < 50)", probed.ms(0.99), None, "ms", "lower"),
        row("/healthz max", probed.ms(1.0), None, "ms", "lower"),
        row("client CPU", cpu[0], alternative.cpu_seconds, "s", "lower"),
        row("service CPU", cpu[1], None, "s", "lower"),
        row("service CPU: event loop thread", watched.loop_cpu_seconds, None, "s", "lower"),
        row("service RSS before", watched.rss_before / MiB, None, "MiB"),
        row("service RSS peak", watched.rss_peak / MiB, None, "MiB", "lower"),
    ]  # fmt: skip


def slow_lines(
    args: argparse.Namespace, slow: SlowRun, probed: Probed, watched: Watched
) -> list[Line]:
    idle, loaded = [o.seconds for o in slow.idle], [o.seconds for o in slow.loaded]
    name = f"{args.normal_mb:g} MB upload, {args.slow_clients} slow clients"

    def row(what: str, ours: float, theirs: float | None, unit: str, better: str = "") -> Line:
        return Line(f"{name}: {what}", ours, theirs, unit, better)

    median = statistics.median
    lines = [
        row("stored (vs idle)", sum(bool(o.record_id) for o in slow.loaded),
            sum(bool(o.record_id) for o in slow.idle), "uploads", "higher"),
        row("median time (vs idle)", median(loaded), median(idle), "s", "lower"),
        row("worst (target < 1)", max(loaded), max(idle), "s", "lower"),
        row("503 answers before stored", sum(o.busy for o in slow.loaded),
            sum(o.busy for o in slow.idle), "answers", "lower"),
        row("slow connections open when measured, fewest", min(slow.open_when_measured), None,
            "conns"),
        row("slow connections opened", slow.stats.connections, None, "conns"),
        row("/healthz p99", probed.ms(0.99), None, "ms", "lower"),
        row("service RSS peak", watched.rss_peak / MiB, None, "MiB", "lower"),
    ]  # fmt: skip
    for answer, count in sorted(slow.stats.answers.items()):
        lines.append(row(f"ended with {answer!r}", count, None, "conns"))
    return lines


# Main ------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--setups", default="postgres,sqlite", help="postgres (with Ceph RGW), sqlite (local disk)")
    add("--uploads-postgres", type=int, default=500, help="uploads at once on PostgreSQL + RGW")
    add("--uploads-sqlite", type=int, default=200, help="uploads at once on SQLite + local disk")
    add("--min-kib", type=int, default=64, help="smallest upload, KiB")
    add("--max-kib", type=int, default=4096, help="largest upload, KiB")
    add("--owners", type=int, default=8, help="API keys (owners) the uploads are spread over")
    add("--max-attempts", type=int, default=60, help="attempts per upload (503s retried)")
    add("--deadline", type=float, default=600, help="seconds the concurrent uploads may take")
    add("--slow-clients", type=int, default=200, help="connections sending 1 byte/s")
    add("--slow-owners", type=int, default=1, help="API keys the slow clients use")
    add("--slow-seconds", type=float, default=20, help="how long the slow clients stay")
    add("--slow-warm-up", type=float, default=3, help="seconds before the normal uploads")
    add("--normal-mb", type=float, default=1, help="size of the normal upload, MB")
    add("--normal-uploads", type=int, default=3, help="normal uploads, idle and with slow clients")
    add("--normal-timeout", type=float, default=30, help="seconds a normal upload may take")
    add("--phases", default="uploads,slow", help="uploads (at once), slow (clients), or both")
    add(
        "--service-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the service, e.g. S3FILES_MAX_TRANSFERS=300 (repeatable)",
    )
    add("--seed", type=int, default=11)
    add(
        "--client-nice",
        type=int,
        default=10,
        help="niceness of the load generator's thread while it sends (the service, its"
        " prober, the database and the store keep theirs; 0: as started)",
    )
    add(
        "--service-nice",
        type=int,
        default=0,
        help="niceness given to every thread of the service once started (a diagnosis: below"
        " 0 needs root; tells CPU contention on the machine from the service's own work)",
    )
    add(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="record the service with py-spy during the uploads at once (raw stacks of the"
        " thread holding the GIL, per thread: DIR/<setup>-uploads.txt; needs py-spy, not a"
        " project dependency)",
    )
    add("--max-load", type=float, default=3, help="wait for a 1-minute load below this (0: no)")
    args = parser.parse_args(argv)
    args.setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    if not set(args.setups) <= {"postgres", "sqlite"} or not args.setups:
        parser.error("--setups: postgres, sqlite or both")
    if not 1 <= args.min_kib <= args.max_kib or min(args.owners, args.slow_owners) < 1:
        parser.error("need 1 <= --min-kib <= --max-kib, and at least one owner")
    args.phases = {phase.strip() for phase in args.phases.split(",") if phase.strip()}
    if not args.phases or not args.phases <= {"uploads", "slow"}:
        parser.error("--phases: uploads, slow or both")
    if any("=" not in item for item in args.service_env):
        parser.error("--service-env takes NAME=VALUE")
    args.service_env = dict(item.split("=", 1) for item in args.service_env)
    args.server, args.bucket = None, None
    return args


def run(args: argparse.Namespace, stack: contextlib.ExitStack, workdir: Path) -> list[str]:
    """Every setup, one after the other; returns what did not work."""
    size = args.max_kib * KiB
    setups: list[Setup] = []
    if "postgres" in args.setups:
        from tests.harness.postgres import PostgresCluster

        args.server = server = stack.enter_context(s3_server())
        args.bucket = bucket = f"s3files-load-{uuid.uuid4().hex[:12]}"
        boto3_client(server).create_bucket(Bucket=bucket)
        stack.callback(lambda: boto3_client(server).delete_bucket(Bucket=bucket))
        stack.callback(clear_bucket, server, bucket)
        database = stack.enter_context(PostgresCluster(workdir / "postgres-logs"))
        env = service_environment(server, f"s3://{bucket}/load", workdir / "pg-data", size,
                                  database_url=database.url)  # fmt: skip
        alternative = boto3_alternative(server, bucket, args.uploads_postgres)
        setups.append(Setup("PostgreSQL + Ceph RGW", args.uploads_postgres, env, alternative))
    if "sqlite" in args.setups:
        files = workdir / "sqlite-files"
        env = service_environment(None, files.as_uri(), workdir / "sqlite-data", size)
        alternative = files_alternative(workdir / "plain-files")
        setups.append(Setup("SQLite + local disk", args.uploads_sqlite, env, alternative))

    problems: list[str] = []
    tables: list[tuple[str, list[Line]]] = []
    for setup in setups:
        lines, found = run_setup(setup, args, stack, workdir)
        tables.append((setup.label, lines))
        problems += found
    for setup, (label, lines) in zip(setups, tables, strict=True):
        against = f" against {setup.alternative.name}" if "uploads" in args.phases else ""
        print(f"\n{label}: s3files serve{against}")
        print_lines(lines)
    print()
    print("ratio = s3files / alternative; the alternative stores the same files at the same")
    print(
        "concurrency, one thread each (boto3 put_object to the same bucket, or write+fsync+rename)."
    )
    print(
        f"uploads spread over {args.owners} owners; slow clients use {args.slow_owners} owner(s)."
    )
    if args.service_env:
        print(f"service settings: {' '.join(f'{k}={v}' for k, v in args.service_env.items())}")
    if args.server is not None:
        print(f"machine: {machine_note(args.server)}")
    print(s3files_note())
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = wait_for_quiet(args.max_load)
    started = time.monotonic()

    def work() -> list[str]:
        with contextlib.ExitStack() as stack:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="s3files-load-")))
            return run(args, stack, workdir)

    problems = reporting_failures(work, BenchmarkFailure)
    if problems is None:
        return 1
    print(load_note(load_before))
    print(f"load average after the run: {'/'.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(f"total run time: {time.monotonic() - started:.0f} s")
    if problems:
        print(f"\nFAILED: {len(problems)} things did not work:", file=sys.stderr)
        alike = Counter(re.sub(r"load-\d+\.bin", "load-N.bin", p) for p in problems)
        for problem, count in alike.most_common(30):
            print(f"  {count} x {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
