"""Bulk upload of many small files: ``s3files upload`` against ``rclone copy``, same bucket.

    .venv/bin/python bench/bench_cli_bulk.py [--files 2000] [--size-kib 10]

Both run as the commands a person would type (process start included). s3files does more
per file than rclone: it sniffs each file's type, hashes it and writes two database rows
(SQLite here). Needs Debian's ``rclone``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Row, S3Endpoint, boto3_client, machine_note, print_table, s3_server

ROOT = Path(__file__).resolve().parent.parent


def make_files(folder: Path, count: int, size: int) -> None:
    line = b"The quick brown fox jumps over the lazy dog.\n"
    for index in range(count):
        body = (f"file {index}\n".encode() + line * (size // len(line) + 1))[:size]
        (folder / f"note-{index:05d}.txt").write_bytes(body)


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr[-2000:]}")
    return elapsed


def count_objects(server: S3Endpoint, bucket: str, prefix: str) -> int:
    paginator = boto3_client(server).get_paginator("list_objects_v2")
    return sum(page.get("KeyCount", 0) for page in paginator.paginate(Bucket=bucket, Prefix=prefix))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--size-kib", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=8, help="transfers in flight, both tools")
    args = parser.parse_args()
    if shutil.which("rclone") is None:
        print("rclone is missing: apt-get install -y rclone", file=sys.stderr)
        return 1
    with s3_server() as server, tempfile.TemporaryDirectory(prefix="s3f-bulk-") as scratch:
        work = Path(scratch)
        source = work / "notes"
        source.mkdir()
        make_files(source, args.files, args.size_kib * 1024)
        bucket = f"bulk-{int(time.time())}"
        boto3_client(server).create_bucket(Bucket=bucket)
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work)}
        s3files_env = base | {
            "S3FILES_STORAGE_URL": f"s3://{bucket}/s3files",
            "S3_ENDPOINT_URL": server.endpoint_url,
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_REGION": server.region,
            "S3FILES_DATA_DIR": str(work / "data"),
        }
        rclone_env = base | {
            "RCLONE_CONFIG_BENCH_TYPE": "s3",
            "RCLONE_CONFIG_BENCH_PROVIDER": "Ceph",
            "RCLONE_CONFIG_BENCH_ENDPOINT": server.endpoint_url,
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": server.access_key,
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": server.secret_key,
            "RCLONE_CONFIG_BENCH_REGION": server.region,
        }
        s3files_cmd = [
            sys.executable,
            "-m",
            "s3files.cli",
            "upload",
            str(source),
            "--json",
            "--jobs",
            str(args.jobs),
        ]
        # warm both (imports, first bucket access), then measure
        subprocess.run(
            [sys.executable, "-m", "s3files.cli", "--version"],
            env=s3files_env,
            capture_output=True,
            check=True,
        )
        s3files_seconds = timed(s3files_cmd, s3files_env)
        rclone_seconds = timed(
            [
                "rclone",
                "copy",
                str(source),
                f"bench:{bucket}/rclone",
                "--transfers",
                str(args.jobs),
                "--checkers",
                str(args.jobs * 2),
                "--s3-no-check-bucket",
            ],
            rclone_env,
        )
        rclone_default = timed(
            [
                "rclone",
                "copy",
                str(source),
                f"bench:{bucket}/rclone-default",
                "--s3-no-check-bucket",
            ],
            rclone_env,
        )
        for prefix in ("s3files/", "rclone/", "rclone-default/"):
            found = count_objects(server, bucket, prefix)
            if found != args.files:
                raise RuntimeError(f"{prefix}: {found} objects, expected {args.files}")
        n = args.files
        rows = [
            Row(
                f"{n} x {args.size_kib} KiB, {args.jobs} in flight",
                n / s3files_seconds,
                n / rclone_seconds,
                "files/s",
                "higher",
            ),
            Row(
                f"{n} x {args.size_kib} KiB, rclone default (4)",
                n / s3files_seconds,
                n / rclone_default,
                "files/s",
                "higher",
            ),
            Row("wall time (same concurrency)", s3files_seconds, rclone_seconds, "s", "lower"),
        ]
        print_table(rows, alternative="rclone")
        print(machine_note(server))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
