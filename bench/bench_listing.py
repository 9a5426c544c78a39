"""Listing a bucket of 100,000 objects: ``S3Connector.iter_bucket_objects`` against boto3's
``list_objects_v2`` paginator, in the same run, on a real S3 server.

    .venv/bin/python bench/bench_listing.py [--count 100000] [--rounds 3] [--page-size 1000]

* Set-up: a bucket ``s3files-bench-listing-<count>`` with ``count`` objects of 16 bytes
  (``obj/000000`` ...), written by 32 boto3 threads. A marker object ``_complete`` is
  written last; if it is there the bucket is reused (an external server keeps it between
  runs; the booted Ceph RGW starts empty each time).
* Each listing runs in its own freshly spawned process (``_common.run_isolated``): wall
  time and CPU of the listing alone, and the growth of the peak RSS it caused, read from
  the process's own ``VmHWM`` (see :func:`vm_hwm` for why not ``ru_maxrss``). Both sides
  hash every key they see; the counts and hashes must agree (else exit status 1).
* Flat memory: the iterator's peak RSS growth after 10,000 objects and after ``count``
  objects should be about the same; as a control that the measurement sees memory at all,
  both sides also list ``count`` objects *into a list* (``list_bucket_objects(max_keys=N)``
  and a list of the paginator's entries), which must grow with ``count``.

The server is a throw-away Ceph RGW unless S3FILES_TEST_S3_ENDPOINT names one. Slowness
never fails the run; a wrong listing does.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions
from _common import (
    Isolated,
    MiB,
    Row,
    S3Endpoint,
    boto3_client,
    load_note,
    machine_note,
    print_table,
    run_isolated,
    s3_server,
)
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

PREFIX = "obj/"
MARKER = "_complete"
SMALL = 10_000  # the "few objects" point of the flat-memory comparison


class BenchmarkFailure(Exception):
    """Something did not work (as opposed to being slow)."""


@dataclass(frozen=True)
class Listed:
    """What one listing saw, and the growth of its process's own peak RSS (VmHWM)."""

    count: int
    keys_sha256: str
    hwm_growth: int | None = field(default=None, compare=False)


def vm_hwm() -> int | None:
    """This process's own peak RSS in bytes (Linux ``VmHWM``), which ``run_isolated``'s
    reset lowers to the current RSS. Unlike ``ru_maxrss`` it does not start at the parent's
    peak: Linux carries the parent's high-water mark into a child's ``ru_maxrss`` across
    fork and exec, so growth below the parent's peak would not show there."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def measured(work: Callable[[], tuple[int, str]]) -> Callable[[], Listed]:
    def run() -> Listed:
        before = vm_hwm()
        count, digest = work()
        after = vm_hwm()
        growth = after - before if before is not None and after is not None else None
        return Listed(count, digest, growth)

    return run


# Set-up --------------------------------------------------------------------------------


def ensure_objects(server: S3Endpoint, count: int) -> str:
    """The bucket holding ``count`` objects under ``obj/``, created if needed."""
    bucket = f"s3files-bench-listing-{count}"
    client = boto3_client(server)
    try:
        client.head_object(Bucket=bucket, Key=MARKER)
        print(f"objects: reusing {bucket} ({count:,} objects)", flush=True)
        return bucket
    except botocore.exceptions.ClientError:
        pass
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=bucket)  # an earlier run may have stopped half-way
    threads = 32
    put = _putter(server, threads)
    started = time.monotonic()
    body = b"0123456789abcdef"
    with ThreadPoolExecutor(threads) as pool:
        for done, _ in enumerate(
            pool.map(lambda n: put(bucket, f"{PREFIX}{n:06d}", body), range(count)), 1
        ):
            if done % 10_000 == 0:
                rate = done / (time.monotonic() - started)
                print(f"objects: {done:,}/{count:,} written ({rate:,.0f}/s)", flush=True)
    client.put_object(Bucket=bucket, Key=MARKER, Body=b"")
    print(f"objects: {count:,} written in {time.monotonic() - started:.0f} s", flush=True)
    return bucket


def _putter(server: S3Endpoint, threads: int) -> Callable[[str, str, bytes], Any]:
    """PutObject on a client whose pool has a connection per thread."""
    client: S3Client = boto3.session.Session().client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=server.region,
        config=Config(
            s3={"addressing_style": "path"},
            max_pool_connections=threads,
            retries={"max_attempts": 10, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    return lambda bucket, key, body: client.put_object(Bucket=bucket, Key=key, Body=body)


# The two sides (module-level: each runs in a fresh process) ---------------------------


def prepare_connector_iteration(
    server: S3Endpoint, bucket: str, limit: int, page_size: int
) -> Callable[[], Listed]:
    import asyncio
    from contextlib import aclosing

    from s3files import S3Connector

    loop = asyncio.new_event_loop()
    connector = S3Connector()
    loop.run_until_complete(connector.connect(_credentials(server)))

    async def iterate() -> tuple[int, str]:
        digest = hashlib.sha256()
        count = 0
        objects = connector.iter_bucket_objects(bucket, PREFIX, page_size=page_size)
        async with aclosing(objects) as iterator:
            async for item in iterator:
                digest.update(item.key.encode())
                count += 1
                if count >= limit:
                    break
        return count, digest.hexdigest()

    return measured(lambda: loop.run_until_complete(iterate()))


def prepare_paginator_iteration(
    server: S3Endpoint, bucket: str, limit: int, page_size: int
) -> Callable[[], Listed]:
    paginator = boto3_client(server).get_paginator("list_objects_v2")

    def iterate() -> tuple[int, str]:
        digest = hashlib.sha256()
        count = 0
        pages = paginator.paginate(
            Bucket=bucket, Prefix=PREFIX, PaginationConfig={"PageSize": page_size}
        )
        for page in pages:
            for entry in page.get("Contents", []):
                digest.update(entry["Key"].encode())
                count += 1
                if count >= limit:
                    return count, digest.hexdigest()
        return count, digest.hexdigest()

    return measured(iterate)


def prepare_connector_list(server: S3Endpoint, bucket: str, limit: int) -> Callable[[], Listed]:
    """Control: everything kept in one list, so memory must grow with the count."""
    import asyncio

    from s3files import S3Connector

    loop = asyncio.new_event_loop()
    connector = S3Connector()
    loop.run_until_complete(connector.connect(_credentials(server)))

    def work() -> tuple[int, str]:
        items = loop.run_until_complete(connector.list_bucket_objects(bucket, PREFIX, limit))
        return len(items), hashlib.sha256(b"".join(i.key.encode() for i in items)).hexdigest()

    return measured(work)


def prepare_paginator_list(server: S3Endpoint, bucket: str, limit: int) -> Callable[[], Listed]:
    paginator = boto3_client(server).get_paginator("list_objects_v2")

    def work() -> tuple[int, str]:
        pages = paginator.paginate(Bucket=bucket, Prefix=PREFIX)
        items = [entry for page in pages for entry in page.get("Contents", [])][:limit]
        return len(items), hashlib.sha256(b"".join(e["Key"].encode() for e in items)).hexdigest()

    return measured(work)


def _credentials(server: S3Endpoint) -> dict[str, str]:
    return {
        "aws_access_key_id": server.access_key,
        "aws_secret_access_key": server.secret_key,
        "region_name": server.region,
        "endpoint_url": server.endpoint_url,
    }


# Measuring -----------------------------------------------------------------------------


@dataclass
class Side:
    runs: list[Isolated[Listed]] = field(default_factory=list)

    def rates(self) -> list[float]:
        return [run.result.count / run.seconds for run in self.runs]

    def median_cpu(self) -> float:
        return statistics.median(run.cpu_seconds for run in self.runs)

    def peak(self) -> float:
        return max(growth(run) for run in self.runs) / MiB


def growth(run: Isolated[Listed]) -> int:
    """Peak RSS growth of the listing: VmHWM where Linux has it, else ``ru_maxrss``."""
    return run.result.hwm_growth if run.result.hwm_growth is not None else run.peak_rss_growth


def check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkFailure(message)


def report(label: str, run: Isolated[Listed]) -> None:
    print(
        f"  {label:<34} {run.result.count:>8,} objects in {run.seconds:6.2f} s "
        f"({run.result.count / run.seconds:>8,.0f}/s), CPU {run.cpu_seconds:5.2f} s, "
        f"peak RSS +{growth(run) / MiB:6.1f} MiB",
        flush=True,
    )


def measure(
    server: S3Endpoint, bucket: str, count: int, rounds: int, page_size: int
) -> tuple[list[Row], bool]:
    ours, theirs = Side(), Side()
    expected: Listed | None = None
    for number in range(rounds):
        print(f"iterate {count:,}, round {number + 1}/{rounds}", flush=True)
        order = ("s3files", "boto3") if number % 2 == 0 else ("boto3", "s3files")
        for side in order:
            if side == "s3files":
                run = run_isolated(prepare_connector_iteration, server, bucket, count, page_size)
                ours.runs.append(run)
                report("S3Connector.iter_bucket_objects", run)
            else:
                run = run_isolated(prepare_paginator_iteration, server, bucket, count, page_size)
                theirs.runs.append(run)
                report("boto3 list_objects_v2 paginator", run)
            check(run.result.count == count, f"{side} listed {run.result.count:,}, not {count:,}")
            expected = expected or run.result
            check(run.result == expected, f"{side} listed other keys than the first run")

    print(f"iterate {SMALL:,} (the flat-memory comparison)", flush=True)
    ours_small = run_isolated(prepare_connector_iteration, server, bucket, SMALL, page_size)
    report("S3Connector.iter_bucket_objects", ours_small)
    theirs_small = run_isolated(prepare_paginator_iteration, server, bucket, SMALL, page_size)
    report("boto3 list_objects_v2 paginator", theirs_small)

    print(f"control: {count:,} objects kept in a list", flush=True)
    ours_list = run_isolated(prepare_connector_list, server, bucket, count)
    report("S3Connector.list_bucket_objects", ours_list)
    theirs_list = run_isolated(prepare_paginator_list, server, bucket, count)
    report("boto3 paginator into a list", theirs_list)
    check(ours_list.result == expected, "list_bucket_objects listed other keys")
    check(theirs_list.result == expected, "the paginator list holds other keys")

    n = f"{count:,}"
    rows = [
        Row(f"iterate {n}: objects/s, best", max(ours.rates()), max(theirs.rates()),
            "obj/s", "higher"),
        Row(f"iterate {n}: objects/s, median", statistics.median(ours.rates()),
            statistics.median(theirs.rates()), "obj/s", "higher"),
        Row(f"iterate {n}: client CPU, median", ours.median_cpu(), theirs.median_cpu(), "s",
            "lower"),
        Row(f"iterate {SMALL:,}: peak RSS growth", growth(ours_small) / MiB,
            growth(theirs_small) / MiB, "MiB", "lower"),
        Row(f"iterate {n}: peak RSS growth, max", ours.peak(), theirs.peak(), "MiB", "lower"),
        Row(f"control, {n} kept in a list: peak RSS", growth(ours_list) / MiB,
            growth(theirs_list) / MiB, "MiB", "lower"),
    ]  # fmt: skip
    runs = [*ours.runs, *theirs.runs, ours_small, theirs_small, ours_list, theirs_list]
    return rows, all(run.peak_reset and run.result.hwm_growth is not None for run in runs)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=100_000, help="objects in the bucket")
    parser.add_argument("--rounds", type=int, default=3, help="listings per side (default 3)")
    parser.add_argument("--page-size", type=int, default=1000, help="keys per page (<= 1000)")
    args = parser.parse_args(argv)
    if args.count < SMALL or args.rounds < 1 or not 1 <= args.page_size <= 1000:
        parser.error(f"--count >= {SMALL:,}, --rounds >= 1, 1 <= --page-size <= 1000")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    load_before = os.getloadavg()
    try:
        with s3_server() as server:
            print(f"server: {server.endpoint_url}", flush=True)
            bucket = ensure_objects(server, args.count)
            rows, peak_reset = measure(server, bucket, args.count, args.rounds, args.page_size)
            note = machine_note(server)
    except BenchmarkFailure as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        print("\nFAILED: the benchmark raised an exception", file=sys.stderr)
        return 1
    print()
    print_table(rows)
    print()
    print("ratio = s3files / boto3. Each listing in a fresh process, sides alternating;")
    print(f"pages of {args.page_size} keys; both sides hash every key (counts and hashes agree).")
    if peak_reset:
        print("peak RSS growth = the process's own VmHWM after the listing minus before it,")
        print("the mark first lowered to the current RSS (after set-up, gc).")
    else:
        print("WARNING: VmHWM unavailable or not reset; growth is ru_maxrss-based and may be")
        print("hidden below the parent process's peak.")
    print(f"machine: {note}")
    print(load_note(load_before))
    print(f"total run time: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
