"""s3files against plain boto3 on a real S3 server: upload, download, presigned URLs.

    .venv/bin/python bench/bench_library.py [--size-mb 200] [--presign-count 20000]

* Upload of a random ``.bin`` file from disk: ``FileStore(S3Store(...)).upload(path)``
  (permissive policy, no size limit) versus boto3 ``upload_file`` (default TransferConfig).
* Download of that object: ``FileStore.download_file`` versus boto3 ``download_file``.
* Presigned GET URLs per second: ``FileStore.presign_download`` and the raw
  ``s3files.signing.presign_url`` versus boto3 ``generate_presigned_url("get_object")``.

Each transfer runs in its own freshly spawned process, so its wall time and peak RSS
growth are its own. Every result is checked (sizes, SHA-256, presigned URLs fetched from
the server); the exit status is non-zero only when something does not work, never for
slowness. The server is a throw-away Ceph RGW unless S3FILES_TEST_S3_ENDPOINT names one.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _common import (
    MB,
    Isolated,
    MiB,
    Row,
    S3Endpoint,
    Timer,
    boto3_client,
    load_note,
    machine_note,
    make_payload,
    print_table,
    reclaim_deleted,
    run_isolated,
    s3_server,
    s3files_note,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

    from s3files import FileStore


MAX_BOOTED_SIZE_MB = 800  # the booted Ceph OSD keeps everything in 2 GiB of memory


class BenchmarkFailure(Exception):
    """Something did not work (as opposed to being slow)."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkFailure(message)


@dataclass(frozen=True)
class StoreTuning:
    """S3Store's multipart settings; ``None`` keeps the library's defaults."""

    part_size: int | None = None
    max_concurrency: int | None = None


# Set-up in the parent ------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(8 * MiB):
            digest.update(block)
    return digest.hexdigest()


def make_filestore(server: S3Endpoint, bucket: str, tuning: StoreTuning) -> FileStore:
    from s3files import Credentials, FileStore, S3Store, UploadPolicy

    options: dict[str, Any] = {}
    if tuning.part_size is not None:
        options["part_size"] = tuning.part_size
    if tuning.max_concurrency is not None:
        options["max_concurrency"] = tuning.max_concurrency
    store = S3Store(
        bucket,
        endpoint_url=server.endpoint_url,
        region=server.region,
        credentials=Credentials(server.access_key, server.secret_key),
        addressing_style="path",
        **options,
    )
    return FileStore(store, policy=UploadPolicy.permissive(max_size=None))


# The measured sides (each runs in a fresh process: prepare, then the returned work) -----


@dataclass(frozen=True)
class Uploaded:
    key: str
    size: int
    sha256: str | None


def prepare_s3files_upload(
    server: S3Endpoint, bucket: str, path: Path, tuning: StoreTuning
) -> Callable[[], Uploaded]:
    from s3files.validation import sniff_mime_type

    files = make_filestore(server, bucket, tuning)
    sniff_mime_type(b"warm up libmagic")  # load the magic database before measuring

    def work() -> Uploaded:
        try:
            stored = files.upload(path)
        finally:
            files.close()
        return Uploaded(stored.key, stored.size, stored.sha256)

    return work


def prepare_boto3_upload(
    server: S3Endpoint, bucket: str, path: Path, key: str
) -> Callable[[], Uploaded]:
    client = boto3_client(server)

    def work() -> Uploaded:
        client.upload_file(str(path), bucket, key)
        return Uploaded(key, path.stat().st_size, None)

    return work


def prepare_s3files_download(
    server: S3Endpoint, bucket: str, key: str, target: Path, tuning: StoreTuning
) -> Callable[[], int]:
    files = make_filestore(server, bucket, tuning)

    def work() -> int:
        try:
            return files.download_file(key, target)
        finally:
            files.close()

    return work


def prepare_boto3_download(
    server: S3Endpoint, bucket: str, key: str, target: Path
) -> Callable[[], int]:
    client = boto3_client(server)

    def work() -> int:
        client.download_file(bucket, key, str(target))
        return target.stat().st_size

    return work


# Benchmarks ----------------------------------------------------------------------------


@dataclass
class Transfer:
    """Per-round figures of one side of a transfer benchmark."""

    seconds: list[float] = field(default_factory=list)
    peak_growth: list[int] = field(default_factory=list)
    peak_reset: list[bool] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)

    @property
    def peak(self) -> int:
        return max(self.peak_growth)

    def add(self, measured: Isolated[Any]) -> None:
        self.seconds.append(measured.seconds)
        self.peak_growth.append(measured.peak_rss_growth)
        self.peak_reset.append(measured.peak_reset)
        self.cpu.append(measured.cpu_seconds)


def report_side(label: str, size: int, measured: Isolated[Any]) -> None:
    print(
        f"  {label:<28} {measured.seconds:6.2f} s  {size / MB / measured.seconds:7.1f} MB/s  "
        f"CPU {measured.cpu_seconds:5.2f} s  peak RSS +{measured.peak_rss_growth / MiB:5.1f} MiB "
        f"(RSS before the work {measured.baseline_rss / MiB:.0f} MiB)",
        flush=True,
    )


def bench_upload(
    server: S3Endpoint,
    client: S3Client,
    bucket: str,
    payload: Path,
    digest: str,
    rounds: int,
    tuning: StoreTuning,
) -> tuple[Transfer, Transfer, str]:
    """Upload rounds, alternating which side goes first; returns the key to download."""
    size = payload.stat().st_size
    ours, theirs = Transfer(), Transfer()
    keep: str | None = None
    for round_number in range(rounds):
        print(f"upload, round {round_number + 1}/{rounds}", flush=True)
        order = ("s3files", "boto3") if round_number % 2 == 0 else ("boto3", "s3files")
        for side in order:
            if side == "s3files":
                done = run_isolated(prepare_s3files_upload, server, bucket, payload, tuning)
                check(done.result.size == size, f"FileStore stored {done.result.size} bytes")
                check(done.result.sha256 == digest, "FileStore reported a different SHA-256")
                ours.add(done)
                report_side("FileStore.upload", size, done)
            else:
                key = f"bench/boto3-{uuid.uuid4().hex}.bin"
                done = run_isolated(prepare_boto3_upload, server, bucket, payload, key)
                theirs.add(done)
                report_side("boto3 upload_file", size, done)
            head = client.head_object(Bucket=bucket, Key=done.result.key)
            check(
                head["ContentLength"] == size,
                f"{side} upload left {head['ContentLength']} bytes, not {size}",
            )
            # Keep one s3files object for the download benchmark; drop the others so the
            # in-memory OSD does not fill up.
            if side == "s3files" and keep is None:
                keep = done.result.key
            else:
                client.delete_object(Bucket=bucket, Key=done.result.key)
                reclaim_deleted(server)
    assert keep is not None
    return ours, theirs, keep


def bench_download(
    server: S3Endpoint,
    bucket: str,
    key: str,
    size: int,
    digest: str,
    workdir: Path,
    rounds: int,
    tuning: StoreTuning,
) -> tuple[Transfer, Transfer]:
    ours, theirs = Transfer(), Transfer()
    for round_number in range(rounds):
        print(f"download, round {round_number + 1}/{rounds}", flush=True)
        order = ("s3files", "boto3") if round_number % 2 == 0 else ("boto3", "s3files")
        for side in order:
            target = workdir / f"download-{side}.bin"
            done: Isolated[int]
            if side == "s3files":
                done = run_isolated(prepare_s3files_download, server, bucket, key, target, tuning)
                ours.add(done)
                report_side("FileStore.download_file", size, done)
            else:
                done = run_isolated(prepare_boto3_download, server, bucket, key, target)
                theirs.add(done)
                report_side("boto3 download_file", size, done)
            check(done.result == size, f"{side} download wrote {done.result} bytes, not {size}")
            check(file_sha256(target) == digest, f"{side} downloaded different bytes")
            target.unlink()
    return ours, theirs


def fetch(url: str) -> tuple[int, bytes | int]:
    """(status, body) of a GET; the body is only counted when it is big."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            status = int(response.status)
            if int(response.headers.get("Content-Length") or 0) > 16 * MiB:
                total = 0
                while block := response.read(MiB):
                    total += len(block)
                return status, total
            return status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


PRESIGN_BATCHES = 5


def rates(signers: Sequence[Callable[[], str]], count: int) -> list[float]:
    """URLs per second of each signer: ``count`` calls each, in batches taken in turn (so a
    burst of load elsewhere hits every signer alike); each signer's best batch counts."""
    for make_url in signers:  # warm-up
        for _ in range(200):
            make_url()
    per_batch = max(1, count // PRESIGN_BATCHES)
    best = [0.0] * len(signers)
    for _ in range(PRESIGN_BATCHES):
        for index, make_url in enumerate(signers):
            with Timer() as timer:
                for _ in range(per_batch):
                    make_url()
            best[index] = max(best[index], per_batch / timer.seconds)
    return best


def bench_presign(
    server: S3Endpoint,
    client: S3Client,
    bucket: str,
    big_key: str,
    size: int,
    count: int,
    tuning: StoreTuning,
) -> list[Row]:
    from s3files.signing import Credentials, presign_url, quote_key

    files = make_filestore(server, bucket, tuning)
    store = files.store
    credentials = Credentials(server.access_key, server.secret_key)
    origin = server.endpoint_url.rstrip("/")
    host = origin.split("://", 1)[1]

    def raw_url(key: str) -> str:
        return presign_url(
            method="GET",
            origin=origin,
            path=f"/{quote_key(bucket)}/{quote_key(key)}",
            host=host,
            credentials=credentials,
            region=server.region,
            expires_in=300,
        )

    def boto3_url(key: str) -> str:
        return client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300
        )

    # First make sure every signer produces URLs the server accepts (and that it checks).
    print("presigned URLs: checking them against the server", flush=True)
    status, body = fetch(files.presign_download(big_key).url)
    check(status == 200, f"GET of FileStore.presign_download URL answered {status}")
    check(body == size, f"GET of FileStore.presign_download URL gave {body!r} bytes, not {size}")
    small_key = f"bench/presign-check-{uuid.uuid4().hex}.bin"
    small = os.urandom(4096)
    client.put_object(Bucket=bucket, Key=small_key, Body=small)
    for label, url in (
        ("FileStore.presign_download", files.presign_download(small_key).url),
        ("signing.presign_url", raw_url(small_key)),
        ("boto3 generate_presigned_url", boto3_url(small_key)),
    ):
        status, body = fetch(url)
        check(status == 200 and body == small, f"GET of the {label} URL answered {status}")
    tampered = files.presign_download(small_key).url
    tampered = tampered[:-1] + ("0" if tampered[-1] != "0" else "1")
    status, _ = fetch(tampered)
    check(status == 403, f"a tampered signature was answered {status}, not 403")
    client.delete_object(Bucket=bucket, Key=small_key)

    print(f"presigned URLs: {count:,} of each, best of {PRESIGN_BATCHES} batches", flush=True)
    filestore_rate, raw_rate, boto3_rate = rates(
        [
            lambda: files.presign_download(big_key).url,
            lambda: raw_url(big_key),
            lambda: boto3_url(big_key),
        ],
        count,
    )
    store.close()
    return [
        Row("presign GET: FileStore.presign_download", filestore_rate, boto3_rate, "URLs/s",
            "higher"),
        Row("presign GET: signing.presign_url (raw)", raw_rate, boto3_rate, "URLs/s", "higher"),
    ]  # fmt: skip


def transfer_rows(name: str, size: int, ours: Transfer, theirs: Transfer) -> list[Row]:
    return [
        Row(f"{name}: time, best", ours.best, theirs.best, "s", "lower"),
        Row(f"{name}: time, median", ours.median, theirs.median, "s", "lower"),
        Row(f"{name}: throughput, best", size / MB / ours.best, size / MB / theirs.best,
            "MB/s", "higher"),
        Row(f"{name}: client CPU, median", ours.median_cpu, theirs.median_cpu, "s", "lower"),
        Row(f"{name}: peak RSS growth, max", ours.peak / MiB, theirs.peak / MiB, "MiB",
            "lower"),
    ]  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=int, default=200, help="file size in MB (10^6 bytes)")
    parser.add_argument("--presign-count", type=int, default=20000, help="URLs per signer")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per transfer benchmark (default 3)"
    )
    parser.add_argument(
        "--part-size-mb", type=int, default=None, help="S3Store part_size (default: library's)"
    )
    parser.add_argument("--max-concurrency", type=int, default=None, help="S3Store max_concurrency")
    args = parser.parse_args(argv)
    if args.size_mb < 1 or args.presign_count < 1 or args.rounds < 1:
        parser.error("--size-mb, --presign-count and --rounds must be at least 1")
    if args.size_mb > MAX_BOOTED_SIZE_MB and not os.environ.get("S3FILES_TEST_S3_ENDPOINT"):
        parser.error(
            f"the booted Ceph keeps objects in 2 GiB of memory and holds two copies at once: "
            f"use --size-mb <= {MAX_BOOTED_SIZE_MB}, or an external server "
            "(S3FILES_TEST_S3_ENDPOINT)"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    size = args.size_mb * MB
    tuning = StoreTuning(
        part_size=args.part_size_mb * MiB if args.part_size_mb else None,
        max_concurrency=args.max_concurrency,
    )
    started = time.monotonic()
    load_before = os.getloadavg()
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="s3files-bench-") as tmp:
            workdir = Path(tmp)
            payload = workdir / "payload.bin"
            digest = make_payload(payload, size)
            print(f"payload: {payload.name}, {size:,} random bytes", flush=True)
            boot_started = time.monotonic()
            with s3_server() as server:
                boot = time.monotonic() - boot_started
                print(f"server: {server.endpoint_url}, ready after {boot:.1f} s", flush=True)
                client = boto3_client(server)
                bucket = f"s3files-bench-{uuid.uuid4().hex[:12]}"
                client.create_bucket(Bucket=bucket)
                ours_up, theirs_up, key = bench_upload(
                    server, client, bucket, payload, digest, args.rounds, tuning
                )
                ours_down, theirs_down = bench_download(
                    server, bucket, key, size, digest, workdir, args.rounds, tuning
                )
                presign_rows = bench_presign(
                    server, client, bucket, key, size, args.presign_count, tuning
                )
                client.delete_object(Bucket=bucket, Key=key)
                client.delete_bucket(Bucket=bucket)
                note = machine_note(server)
    except BenchmarkFailure as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        print("\nFAILED: the benchmark raised an exception", file=sys.stderr)
        return 1
    rows += transfer_rows(f"upload {args.size_mb} MB", size, ours_up, theirs_up)
    rows += transfer_rows(f"download {args.size_mb} MB", size, ours_down, theirs_down)
    rows += presign_rows
    print()
    print_table(rows)
    print()
    print("ratio = s3files / boto3: above 1 is better for s3files where 'better' is higher,")
    print(f"below 1 where it is lower. Transfers: {args.rounds} round(s), each side in a fresh")
    print("process; client CPU = user+sys of that process (all threads) during the work;")
    print("peak RSS growth = ru_maxrss after the work minus before it,")
    transfers = (ours_up, theirs_up, ours_down, theirs_down)
    if all(all(t.peak_reset) for t in transfers):
        print("the peak mark first lowered to the current RSS (after set-up, gc).")
    else:
        print("WARNING: the peak mark could not be reset (no /proc/self/clear_refs): growth")
        print("is counted above set-up's own transient peak and may be too low.")
    if tuning != StoreTuning():
        print(f"S3Store tuning: {tuning}")
    print(f"machine: {note}")
    print(s3files_note())
    print(load_note(load_before))
    print(f"total run time: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
