"""Throughput of s3files behind HAProxy with 1 and with 3 replicas, side by side in one run.

    .venv/bin/python bench/bench_replicas.py [--seconds 15] [--clients 16] [--size-kb 256]

* The same stack for both sides: a throw-away PostgreSQL (``tests/harness/postgres.py``),
  one Ceph RGW bucket (or the server named by ``S3FILES_TEST_S3_ENDPOINT``), HAProxy
  (``tests/harness/haproxy.py``, the configuration the README shows) in front of N
  ``s3files serve`` processes (one worker each) sharing database, store, signing key and
  public URL. Each side gets a database and a key prefix of its own.
* The load: ``--clients`` asyncio clients (one ``httpx.AsyncClient``, keep-alive) through
  HAProxy for ``--seconds`` after a 2 s warm-up, each repeating a mixed step: an upload of
  ``--size-kb`` random bytes (``POST /api/v1/files/stream`` with an ``Idempotency-Key``),
  a download of a file uploaded earlier (the SHA-256 of the bytes checked against the
  upload's), and every fourth step a listing (``GET /api/v1/files?limit=50``).
* Figures per side: operations per second (uploads + downloads + listings), MB/s moved
  (both directions), the p50 and p99 of each operation's latency, and how the requests
  spread over the replicas (HAProxy's ``X-Served-By``). The ratio is 3 replicas / 1.
* Every answer is checked (status, sizes, SHA-256 of what comes back); the exit status is
  non-zero only when something does not work, never for slowness.

Client, replicas, HAProxy, PostgreSQL and Ceph share this machine's cores: with 2 cores, 3
replicas mostly add concurrency where one Python process is busy, not CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import random
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
from _common import MB, S3Endpoint, boto3_client, load_note, machine_note, s3_server, s3files_note

from tests.harness.haproxy import ReplicatedService
from tests.harness.postgres import PostgresCluster

PYTHON = sys.executable
WARM_UP_SECONDS = 2.0


class BenchmarkFailure(RuntimeError):
    """Something did not work (as opposed to being slow)."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkFailure(message)


@dataclass
class Side:
    """What one configuration did during the measured window."""

    replicas: int
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"upload": [], "download": [], "list": []}
    )
    moved_bytes: int = 0
    served: Counter[str] = field(default_factory=Counter)
    busy_answers: int = 0  # 503s waited out (the per-owner or total transfer limit)

    @property
    def operations(self) -> int:
        return sum(len(values) for values in self.latencies.values())

    def rate(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0

    def throughput(self) -> float:
        return self.moved_bytes / MB / self.seconds if self.seconds else 0.0

    def percentile(self, operation: str, fraction: float) -> float:
        values = sorted(self.latencies[operation])
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(fraction * len(values)))] * 1000


def environment(server: S3Endpoint, bucket: str, database_url: str, data: Path) -> dict[str, str]:
    """What every replica shares (the README's list), from the environment only."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data),
        "S3FILES_DATA_DIR": str(data),
        "S3FILES_DATABASE_URL": database_url,
        "S3FILES_STORAGE_URL": f"s3://{bucket}/bench-{uuid.uuid4().hex[:8]}",
        "S3FILES_SIGNING_KEY": os.urandom(32).hex(),
        "S3_ENDPOINT_URL": server.endpoint_url,
        "S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_REGION": server.region,
        "S3_ALLOWED_EXTENSIONS": "*",
        "S3_ALLOWED_MIME_TYPES": "*",
        "S3FILES_LOG_LEVEL": "WARNING",
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def create_key(env: dict[str, str], cwd: Path) -> str:
    import json
    import subprocess

    done = subprocess.run(
        [PYTHON, "-m", "s3files.cli", "keys", "create", "--owner", "bench", "--json"],
        env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    check(done.returncode == 0, f"keys create failed: {done.stderr[-2000:]}")
    return str(json.loads(done.stdout)["key"])


async def send(
    side: Side, request: Callable[[], Awaitable[httpx.Response]], attempts: int = 20
) -> httpx.Response:
    """One request; a 503 ``busy`` is waited out (Retry-After) and counted, not failed."""
    for _ in range(attempts):
        response = await request()
        if response.status_code != 503:
            return response
        side.busy_answers += 1
        await asyncio.sleep(float(response.headers.get("retry-after", "1")))
    return response


async def client_loop(
    client: httpx.AsyncClient,
    side: Side,
    stored: list[tuple[str, str, int]],
    size: int,
    measuring: asyncio.Event,
    stop: asyncio.Event,
    seed: int,
) -> None:
    rng = random.Random(seed)
    step = 0
    while not stop.is_set():
        step += 1
        body = rng.randbytes(size)
        started = time.perf_counter()
        key = uuid.uuid4().hex
        response = await send(
            side,
            partial(
                client.post,
                "/api/v1/files/stream",
                params={"filename": f"b{seed}-{step}.bin"},
                content=body,
                headers={"Idempotency-Key": key},
            ),
        )
        check(response.status_code == 201, f"upload: {response.status_code} {response.text[:300]}")
        record = response.json()
        digest = hashlib.sha256(body).hexdigest()
        check(record["file_size"] == size, f"upload stored {record['file_size']} bytes")
        if measuring.is_set():
            side.latencies["upload"].append(time.perf_counter() - started)
            side.moved_bytes += size
            side.served[response.headers.get("x-served-by", "?")] += 1
        stored.append((record["id"], digest, size))

        file_id, expected, length = rng.choice(stored)
        started = time.perf_counter()
        response = await send(side, partial(client.get, f"/api/v1/files/{file_id}/download"))
        check(response.status_code == 200, f"download: {response.status_code}")
        check(hashlib.sha256(response.content).hexdigest() == expected, "downloaded bytes differ")
        if measuring.is_set():
            side.latencies["download"].append(time.perf_counter() - started)
            side.moved_bytes += length
            side.served[response.headers.get("x-served-by", "?")] += 1

        if step % 4 == 0:
            started = time.perf_counter()
            response = await send(side, partial(client.get, "/api/v1/files", params={"limit": 50}))
            check(response.status_code == 200, f"listing: {response.status_code}")
            check(len(response.json()["items"]) > 0, "listing is empty")
            if measuring.is_set():
                side.latencies["list"].append(time.perf_counter() - started)
                side.served[response.headers.get("x-served-by", "?")] += 1


async def drive(url: str, key: str, side: Side, args: argparse.Namespace) -> None:
    stored: list[tuple[str, str, int]] = []
    measuring, stop = asyncio.Event(), asyncio.Event()
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60, limits=limits
    ) as client:
        tasks = [
            asyncio.create_task(
                client_loop(client, side, stored, args.size_kb * 1024, measuring, stop, seed)
            )
            for seed in range(args.clients)
        ]
        await asyncio.sleep(WARM_UP_SECONDS)
        measuring.set()
        started = time.perf_counter()
        done, _ = await asyncio.wait(tasks, timeout=args.seconds)
        side.seconds = time.perf_counter() - started
        stop.set()
        for task in done:
            task.result()  # a failed client fails the run
        for task in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(task, BaseException):
                raise task


def run_side(
    replicas: int, args: argparse.Namespace, server: S3Endpoint, bucket: str, pg: PostgresCluster,
    workdir: Path,
) -> Side:  # fmt: skip
    name = f"bench_{replicas}_{uuid.uuid4().hex[:6]}"
    database_url = pg.create_database(name).replace("postgresql://", "postgresql+asyncpg://")
    data = workdir / name
    data.mkdir(parents=True)
    env = environment(server, bucket, database_url, data)
    side = Side(replicas)
    with ReplicatedService(replicas, env, data / "cluster") as cluster:
        key = create_key(env, data)
        asyncio.run(drive(cluster.url, key, side, args))
        for replica in cluster.replicas:
            check(replica.alive(), f"replica {replica.name} died:\n{replica.output()}")
    return side


def figure(value: float) -> str:
    if value != value:  # NaN
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def print_results(one: Side, three: Side) -> None:
    rows: list[tuple[str, str, float, float, str]] = [
        ("operations", "ops/s", three.rate(), one.rate(), "higher"),
        ("bytes moved", "MB/s", three.throughput(), one.throughput(), "higher"),
    ]
    for operation in ("upload", "download", "list"):
        for label, fraction in (("p50", 0.5), ("p99", 0.99)):
            rows.append(
                (
                    f"{operation} {label}",
                    "ms",
                    three.percentile(operation, fraction),
                    one.percentile(operation, fraction),
                    "lower",
                )
            )
    headers = ("benchmark", "unit", "3 replicas", "1 replica", "3/1", "better")
    cells = [
        (name, unit, figure(a), figure(b), f"{a / b:.2f}x" if b else "-", better)
        for name, unit, a, b, better in rows
    ]
    widths = [max(len(line[i]) for line in (headers, *cells)) for i in range(len(headers))]
    for line in (headers, tuple("-" * w for w in widths), *cells):
        print(
            "  ".join(
                v.ljust(w) if i in (0, 1, 5) else v.rjust(w)
                for i, (v, w) in enumerate(zip(line, widths, strict=True))
            )
        )
    for side in (one, three):
        spread = ", ".join(f"{name} {count}" for name, count in sorted(side.served.items()))
        print(
            f"{side.replicas} replica(s): {side.operations} operations in {side.seconds:.1f} s "
            f"(uploads {len(side.latencies['upload'])}, downloads "
            f"{len(side.latencies['download'])}, listings {len(side.latencies['list'])}); "
            f"served by: {spread}; 503 busy answers waited out: {side.busy_answers}"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per side")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--size-kb", type=int, default=256, help="size of each upload")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    load_before = os.getloadavg()
    try:
        with contextlib.ExitStack() as stack:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="s3f-bench-")))
            server = stack.enter_context(s3_server())
            bucket = f"bench-replicas-{uuid.uuid4().hex[:8]}"
            boto3_client(server).create_bucket(Bucket=bucket)
            pg = PostgresCluster(workdir / "pg")
            pg.start()
            stack.callback(pg.stop)
            one = run_side(1, args, server, bucket, pg, workdir)
            three = run_side(3, args, server, bucket, pg, workdir)
            notes = [machine_note(server), s3files_note()]
    except BenchmarkFailure as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        print("\nFAILED: the benchmark raised an exception", file=sys.stderr)
        return 1
    print()
    print(
        f"mixed load through HAProxy: {args.clients} clients, {args.size_kb} KiB uploads, "
        f"{args.seconds:.0f} s per side after {WARM_UP_SECONDS:.0f} s of warm-up"
    )
    print_results(one, three)
    print()
    for note in notes:
        print(note)
    print(load_note(load_before))
    print(f"total run time: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
