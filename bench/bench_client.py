"""The client and the CLI's remote mode against ``rclone`` straight to the bucket, in one run
against the same Ceph RGW:

* 2,000 x 10 KiB: ``s3files upload DIR`` (remote mode, through ``s3files serve``) against
  ``rclone copy DIR`` at the same concurrency; both as the commands a person types;
* one 1 GB file up and down: ``s3files upload`` / ``s3files download`` against
  ``rclone copy`` (each direction);
* ``s3files sync DIR :FOLDER`` of the unchanged 2,000-file tree (goal: under 3 s).

    flock /tmp/s3files-bench.lock .venv/bin/python bench/bench_client.py [--files 2000]
        [--size-kib 10] [--big-mb 1000] [--jobs 8]

Installs Debian's ``rclone`` with apt-get if it is missing (run as root). Slowness never
fails the run; wrong bytes or failed commands do.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (
    Row,
    S3Endpoint,
    boto3_client,
    machine_note,
    print_table,
    reclaim_deleted,
    s3_server,
)
from bench_service import (
    PYTHON,
    create_api_key,
    service_environment,
    start_service,
)

MiB = 1024 * 1024


def ensure_rclone() -> None:
    if shutil.which("rclone"):
        return
    print("rclone is missing: installing the Debian package", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-q", "rclone"], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def make_files(folder: Path, count: int, size: int) -> None:
    line = b"The quick brown fox jumps over the lazy dog.\n"
    for index in range(count):
        body = (f"file {index}\n".encode() + line * (size // len(line) + 1))[:size]
        (folder / f"note-{index:05d}.txt").write_bytes(body)


def make_big(path: Path, size: int) -> str:
    """A file of ``size`` bytes that compresses poorly; returns its SHA-256."""
    digest = hashlib.sha256()
    block = os.urandom(MiB)
    with path.open("wb") as handle:
        written = 0
        while written < size:
            chunk = hashlib.sha256(written.to_bytes(8, "big")).digest() + block
            chunk = chunk[: min(MiB, size - written)]
            handle.write(chunk)
            digest.update(chunk)
            written += len(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(4 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed: {done.stderr[-3000:]}")
    return elapsed, done.stdout


def count_objects(server: S3Endpoint, bucket: str, prefix: str) -> int:
    paginator = boto3_client(server).get_paginator("list_objects_v2")
    return sum(page.get("KeyCount", 0) for page in paginator.paginate(Bucket=bucket, Prefix=prefix))


def delete_prefix(server: S3Endpoint, bucket: str, prefix: str) -> None:
    client = boto3_client(server)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    reclaim_deleted(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--size-kib", type=int, default=10)
    parser.add_argument("--big-mb", type=int, default=1000, help="size of the big file (MB)")
    parser.add_argument("--jobs", type=int, default=8, help="transfers in flight, both tools")
    args = parser.parse_args()
    ensure_rclone()
    big_size = args.big_mb * 1000 * 1000
    with s3_server() as server, tempfile.TemporaryDirectory(prefix="s3f-client-") as scratch:
        work = Path(scratch)
        source = work / "notes"
        source.mkdir()
        make_files(source, args.files, args.size_kib * 1024)
        bucket = f"client-{int(time.time())}"
        boto3_client(server).create_bucket(Bucket=bucket)
        data_dir = work / "data"
        service_env = service_environment(server, f"s3://{bucket}/s3files", data_dir, big_size)
        service = start_service(service_env, work, work / "serve.log")
        try:
            service.wait_ready("/readyz")
            key = create_api_key(service_env, work)
            base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work / "home")}
            if os.environ.get("PYTHONPATH"):
                base["PYTHONPATH"] = os.environ["PYTHONPATH"]
            client_env = base | {"S3FILES_URL": service.url, "S3FILES_API_KEY": key}
            rclone_env = base | {
                "RCLONE_CONFIG_BENCH_TYPE": "s3",
                "RCLONE_CONFIG_BENCH_PROVIDER": "Ceph",
                "RCLONE_CONFIG_BENCH_ENDPOINT": server.endpoint_url,
                "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": server.access_key,
                "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": server.secret_key,
                "RCLONE_CONFIG_BENCH_REGION": server.region,
            }
            cli = [PYTHON, "-m", "s3files.cli"]
            rclone = ["rclone", "--s3-no-check-bucket"]
            timed([*cli, "status"], client_env, work)  # warm: imports, first key check
            jobs = str(args.jobs)
            small_ours, _ = timed(
                [*cli, "upload", "notes", "--to", "small", "-j", jobs, "--json"], client_env, work
            )
            small_rclone, _ = timed(
                [*rclone, "copy", "notes", f"bench:{bucket}/rclone-small",
                 "--transfers", jobs, "--checkers", str(2 * args.jobs)],
                rclone_env, work,
            )  # fmt: skip
            listed = json.loads(timed([*cli, "ls", "small/notes", "--json"], client_env, work)[1])
            if (
                len(listed["files"]) != args.files
                or count_objects(server, bucket, "rclone-small/") != args.files
            ):
                raise RuntimeError("the small files did not all arrive")
            sync_seconds, sync_out = timed(
                [*cli, "sync", "notes", ":small/notes"], client_env, work
            )
            if f"0 to upload, 0 to delete, {args.files} unchanged" not in sync_out:
                raise RuntimeError(
                    f"sync of an unchanged tree wanted to change it: {sync_out[-500:]}"
                )

            big = work / "big.bin"
            digest = make_big(big, big_size)
            down = work / "down"
            up_rclone, _ = timed(
                [*rclone, "copy", "big.bin", f"bench:{bucket}/rclone-big",
                 "--transfers", jobs, "--s3-upload-concurrency", jobs],
                rclone_env, work,
            )  # fmt: skip
            down_rclone, _ = timed(
                [*rclone, "copy", f"bench:{bucket}/rclone-big/big.bin", str(down / "rclone"),
                 "--multi-thread-streams", jobs],
                rclone_env, work,
            )  # fmt: skip
            if sha256_of(down / "rclone" / "big.bin") != digest:
                raise RuntimeError("rclone's download differs")
            (down / "rclone" / "big.bin").unlink()
            delete_prefix(server, bucket, "rclone-big/")
            up_ours, out = timed(
                [*cli, "upload", "big.bin", "--to", "big", "--json"], client_env, work
            )
            if json.loads(out)[0]["sha256"] != digest:
                raise RuntimeError("the uploaded file's SHA-256 differs")
            down_ours, _ = timed(
                [*cli, "download", "big/big.bin", "-o", str(down / "ours") + "/"], client_env, work
            )
            if sha256_of(down / "ours" / "big.bin") != digest:
                raise RuntimeError("the client's download differs")
        finally:
            service.stop()
        n = args.files
        mb = big_size / 1e6
        rows = [
            Row(
                f"{n} x {args.size_kib} KiB upload, {args.jobs} in flight",
                n / small_ours,
                n / small_rclone,
                "files/s",
                "higher",
            ),
            Row(f"{args.big_mb} MB upload", mb / up_ours, mb / up_rclone, "MB/s", "higher"),
            Row(f"{args.big_mb} MB download", mb / down_ours, mb / down_rclone, "MB/s", "higher"),
        ]
        print_table(rows, alternative="rclone")
        print(f"sync of the unchanged {n}-file tree: {sync_seconds:.2f} s (goal: under 3 s)")
        print(machine_note(server))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
