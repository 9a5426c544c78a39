"""``s3files buckets | bucket-info | objects | search`` against the real Ceph RGW, run as a
user would: a subprocess configured by environment variables."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import new_bucket
from tests.harness.ceph import S3Server


@pytest.fixture(scope="module")
def listed_bucket(boto_client: Any) -> tuple[str, str]:
    """(bucket, prefix) with four objects under the prefix and one elsewhere."""
    bucket = new_bucket(boto_client)
    prefix = f"cli-{uuid.uuid4().hex[:8]}/"
    for n in range(4):
        boto_client.put_object(Bucket=bucket, Key=f"{prefix}{n}.csv", Body=b"a,b\n" * (n + 1))
    boto_client.put_object(Bucket=bucket, Key="other.txt", Body=b"x")
    boto_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket, prefix


def run_cli(
    s3_server: S3Server, tmp_path: Path, *args: str, secret: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": s3_server.access_key,
        "AWS_SECRET_ACCESS_KEY": secret or s3_server.secret_key,
        "AWS_REGION": s3_server.region,
        "S3_ENDPOINT_URL": s3_server.endpoint_url,
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "s3files.cli", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_buckets(s3_server: S3Server, tmp_path: Path, listed_bucket: tuple[str, str]) -> None:
    bucket, _ = listed_bucket
    result = run_cli(s3_server, tmp_path, "buckets", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    mine = next(row for row in rows if row["name"] == bucket)
    assert mine["region"] == "default" and mine["creation_date"]
    table = run_cli(s3_server, tmp_path, "buckets")
    assert table.returncode == 0 and bucket in table.stdout and "bucket(s)" in table.stdout


def test_bucket_info(s3_server: S3Server, tmp_path: Path, listed_bucket: tuple[str, str]) -> None:
    bucket, _ = listed_bucket
    result = run_cli(s3_server, tmp_path, "bucket-info", bucket, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["name"] == bucket and info["versioning"] == "Enabled" and info["tags"] is None
    table = run_cli(s3_server, tmp_path, "bucket-info", bucket)
    assert table.returncode == 0 and "Enabled" in table.stdout and "versioning" in table.stdout
    missing = run_cli(s3_server, tmp_path, "bucket-info", f"s3files-missing-{uuid.uuid4().hex}")
    assert missing.returncode == 1 and "bucket does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_objects(s3_server: S3Server, tmp_path: Path, listed_bucket: tuple[str, str]) -> None:
    bucket, prefix = listed_bucket
    result = run_cli(s3_server, tmp_path, "objects", bucket, "--prefix", prefix, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["key"] for row in rows] == [f"{prefix}{n}.csv" for n in range(4)]
    assert rows[0]["size"] == 4 and rows[0]["bucket_name"] == bucket
    limited = run_cli(s3_server, tmp_path, "objects", bucket, "--limit", "2")
    assert limited.returncode == 0, limited.stderr
    assert f"{prefix}0.csv" in limited.stdout and "other.txt" not in limited.stdout
    assert "2 object(s) (more exist" in limited.stdout


def test_search(s3_server: S3Server, tmp_path: Path, listed_bucket: tuple[str, str]) -> None:
    bucket, prefix = listed_bucket
    everywhere = run_cli(s3_server, tmp_path, "search", prefix, "--json")
    assert everywhere.returncode == 0, everywhere.stderr
    assert [(r["bucket_name"], r["key"]) for r in json.loads(everywhere.stdout)] == [
        (bucket, f"{prefix}{n}.csv") for n in range(4)
    ]
    one = run_cli(s3_server, tmp_path, "search", f"{prefix}3", "--bucket", bucket)
    assert one.returncode == 0 and f"{prefix}3.csv" in one.stdout and "1 object(s)" in one.stdout


def test_refused_credentials_are_one_line(s3_server: S3Server, tmp_path: Path) -> None:
    result = run_cli(s3_server, tmp_path, "buckets", secret="wrong-secret")
    assert result.returncode == 1
    assert "refused the credentials" in result.stderr and "Traceback" not in result.stderr
