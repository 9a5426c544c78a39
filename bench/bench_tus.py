"""A large tus upload through the service, against the service's own multipart direct
upload and boto3, on a real S3 server (Ceph RGW booted here, or S3FILES_TEST_S3_ENDPOINT).

    .venv/bin/python bench/bench_tus.py [--size-mb 1024] [--chunk-mb 64]

* tus: tuspy (the Python tus client) sends the file to ``POST /api/v1/tus/`` in PATCH
  requests of ``--chunk-mb``; the service streams each body into the multipart upload
  behind it (8 MiB parts, each spooled to a temporary file and PUT to the store) and, on
  the last byte, completes it, reads the object back for its SHA-256 and records it.
* direct multipart: ``POST /api/v1/uploads/multipart``, part URLs in batches of 100, each
  part PUT straight to the store by this process (4 at a time), then ``complete`` (the
  service reads the object back for its SHA-256, as for tus).
* boto3 ``upload_file`` of the same file straight to the bucket (no verification).

For each: wall time and throughput, and the service process's resident memory (VmRSS
sampled every 50 ms, and VmHWM after the peak mark was lowered): before, peak, after.
Every upload is checked (size and SHA-256 of the record); each object is deleted and the
booted RGW's garbage collected before the next (its OSD keeps all data in memory).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from _common import MiB, boto3_client, make_payload, reclaim_deleted, s3_server
from bench_service import (
    Watched,
    check,
    create_api_key,
    service_environment,
    start_service,
    watch,
)


class _Window(io.RawIOBase):
    """``length`` bytes of a file from ``offset``, read as they are sent."""

    def __init__(self, path: Path, offset: int, length: int) -> None:
        self._handle = path.open("rb")
        self._handle.seek(offset)
        self._left = length

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._handle.read(size)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._handle.close()
        super().close()


def tus_upload(url: str, key: str, payload: Path, chunk: int) -> str:
    from tusclient import client as tus_client

    uploader = tus_client.TusClient(
        f"{url}/api/v1/tus/", headers={"Authorization": f"Bearer {key}"}
    ).uploader(str(payload), chunk_size=chunk, metadata={"filename": "big.bin"})
    uploader.upload()
    return str(uploader.url).rstrip("/").rsplit("/", 1)[1]


def direct_upload(api: httpx.Client, payload: Path, size: int) -> dict[str, Any]:
    created = api.post(
        "/api/v1/uploads/multipart",
        json={
            "original_filename": "big.bin",
            "content_type": "application/octet-stream",
            "size": size,
        },
    )
    check(created.status_code == 201, f"multipart create answered {created.text}")
    plan = created.json()
    part_size, count = plan["part_size"], plan["part_count"]
    urls: dict[int, str] = {}
    for first in range(1, count + 1, 100):
        numbers = list(range(first, min(count, first + 99) + 1))
        signed = api.post(
            f"/api/v1/uploads/{plan['upload_id']}/parts", json={"part_numbers": numbers}
        )
        check(signed.status_code == 200, f"signing parts answered {signed.text}")
        urls |= {p["number"]: p["url"] for p in signed.json()["parts"]}

    def put(number: int) -> None:
        offset = (number - 1) * part_size
        length = min(part_size, size - offset)
        with payload.open("rb") as handle:
            handle.seek(offset)
            body = handle.read(length)
        answer = httpx.put(urls[number], content=body, timeout=120)
        check(answer.status_code == 200, f"part {number} answered {answer.status_code}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, range(1, count + 1)))
    done = api.post(f"/api/v1/uploads/{plan['upload_id']}/complete", timeout=600)
    check(done.status_code == 200, f"complete answered {done.text}")
    record: dict[str, Any] = done.json()
    return record


def rss(watched: Watched) -> str:
    return (
        f"{watched.rss_before / MiB:.0f} → peak {watched.rss_peak / MiB:.0f} → "
        f"{watched.rss_after / MiB:.0f} MiB"
    )


def run(size_mb: int, chunk_mb: int) -> int:
    size = size_mb * MiB
    with s3_server() as server, tempfile.TemporaryDirectory(prefix="s3files-bench-tus-") as tmp:
        work = Path(tmp)
        s3 = boto3_client(server)
        bucket = f"bench-tus-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        payload = work / "big.bin"
        digest = make_payload(payload, size)
        env = service_environment(server, f"s3://{bucket}/bench", work / "data", size)
        env["S3FILES_COMPANION_SWEEP_SECONDS"] = "0"
        key = create_api_key(env, work)
        service = start_service(env, work, work / "serve.log")
        rows: list[tuple[str, float, str]] = []
        try:
            service.wait_ready("/healthz")
            api = httpx.Client(
                base_url=service.url, headers={"Authorization": f"Bearer {key}"}, timeout=600
            )

            def measured(label: str, work_fn: Any) -> dict[str, Any] | None:
                started = time.perf_counter()
                with watch(service.pid) as watched:
                    outcome = work_fn()
                seconds = time.perf_counter() - started
                service.check_alive()
                rows.append((label, seconds, rss(watched)))
                print(
                    f"{label}: {seconds:.1f} s, {size / MiB / seconds:.0f} MiB/s, "
                    f"service RSS {rss(watched)}",
                    flush=True,
                )
                return outcome  # type: ignore[no-any-return]

            def check_and_delete(record: dict[str, Any]) -> None:
                check(record["file_size"] == size, f"recorded {record['file_size']} bytes")
                check(record["sha256"] == digest, "the recorded SHA-256 differs")
                gone = api.delete(f"/api/v1/files/{record['id']}", params={"hard_delete": "true"})
                check(gone.status_code == 204, f"delete answered {gone.status_code}")
                reclaim_deleted(server)

            upload_id = measured(
                f"tus (tuspy, {chunk_mb} MiB PATCHes)",
                lambda: tus_upload(service.url, key, payload, chunk_mb * MiB),
            )
            status = api.get(f"/api/v1/uploads/{upload_id}").json()
            check(status["status"] == "complete", f"the tus upload is {status['status']}")
            check_and_delete(api.get(f"/api/v1/files/{status['file_id']}").json())
            record = measured(
                "service multipart (direct)", lambda: direct_upload(api, payload, size)
            )
            assert record is not None
            check_and_delete(record)
            boto_key = f"boto3/{uuid.uuid4().hex}.bin"
            measured("boto3 upload_file", lambda: s3.upload_file(str(payload), bucket, boto_key))
            stored = s3.head_object(Bucket=bucket, Key=boto_key)["ContentLength"]
            check(stored == size, f"boto3 stored {stored} bytes")
            s3.delete_object(Bucket=bucket, Key=boto_key)
            reclaim_deleted(server)
        finally:
            service.stop()
        print(f"\n{size_mb} MiB to {server.description}\n")
        print("| upload | time | throughput | service RSS (before → peak → after) |")
        print("|---|---|---|---|")
        for label, seconds, memory in rows:
            print(f"| {label} | {seconds:.1f} s | {size / MiB / seconds:.0f} MiB/s | {memory} |")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--chunk-mb", type=int, default=64)
    args = parser.parse_args(argv)
    return run(args.size_mb, args.chunk_mb)


if __name__ == "__main__":
    sys.exit(main())
