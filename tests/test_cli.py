"""The file commands of the CLI, run as a user runs them, on the local disk and Ceph RGW."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import samples
from tests.harness.ceph import S3Server

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Cli:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "S3FILES_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
    }
    if store_kind == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        bucket = request.getfixturevalue("session_bucket")
        env |= {
            "S3FILES_STORAGE_URL": f"s3://{bucket}/cli-{uuid.uuid4().hex[:8]}",
            "S3_ENDPOINT_URL": server.endpoint_url,
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_REGION": server.region,
        }

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "s3files.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (done.returncode == 0) == ok, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    return run


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


def test_every_file_command(cli: Cli, tmp_path: Path, store_kind: str) -> None:
    (tmp_path / "album" / "2025").mkdir(parents=True)
    (tmp_path / "album" / "cover.png").write_bytes(samples.png())
    (tmp_path / "album" / "2025" / "notes.txt").write_bytes(samples.text(5000))
    report = tmp_path / "report.pdf"
    report.write_bytes(samples.pdf())

    uploaded = as_json(
        cli(
            "upload",
            str(report),
            str(tmp_path / "album"),
            "--folder",
            "docs",
            "--metadata",
            '{"team": "blue"}',
            "--json",
        )
    )
    assert sorted((u["original_filename"], u["folder"]) for u in uploaded) == [
        ("cover.png", "docs/album"),
        ("notes.txt", "docs/album/2025"),
        ("report.pdf", "docs"),
    ]
    assert all(u["metadata"] == {"team": "blue"} and not u["is_public"] for u in uploaded)
    summary = cli("upload", str(report), "--public")
    assert "uploaded 1 file(s)" in summary.stdout

    listed = as_json(cli("ls", "--json", "--limit", "200"))
    assert len(listed) == 4
    assert [
        f["original_filename"] for f in as_json(cli("ls", "--folder", "docs/album", "--json"))
    ] == ["cover.png"]
    assert len(as_json(cli("ls", "--search", "report", "--json"))) == 2
    table = cli("ls").stdout
    assert "report.pdf (public)" in table and "4 file(s)" in table

    pdf = next(u for u in uploaded if u["original_filename"] == "report.pdf")
    info = as_json(cli("info", pdf["id"], "--json"))
    assert info["sha256"] == hashlib.sha256(samples.pdf()).hexdigest()
    assert "report.pdf" in cli("info", pdf["id"]).stdout

    notes = next(u for u in uploaded if u["original_filename"] == "notes.txt")
    out = tmp_path / "fetched.txt"
    (tmp_path / ".fetched.txt.part").write_bytes(samples.text(5000)[:1234])  # interrupted
    fetched = cli("download", notes["id"], "-o", str(out))
    assert "resumed" in fetched.stdout
    assert out.read_bytes() == samples.text(5000)
    cli("download", notes["s3_key"], "-o", str(tmp_path / "by-key.txt"))
    assert (tmp_path / "by-key.txt").read_bytes() == samples.text(5000)

    link = as_json(cli("presign", pdf["id"], "--expiry", "60", "--download", "--json"))
    assert link["expires_in"] == 60
    if store_kind == "s3":
        assert httpx.get(link["url"]).content == samples.pdf()
    else:
        assert "/store/" in link["url"] and "signature=" in link["url"]

    copied = as_json(cli("cp", pdf["id"], "--folder", "archive", "--json"))
    assert copied["folder"] == "archive" and copied["id"] != pdf["id"]
    cli("rm", pdf["id"])
    assert [f["id"] for f in as_json(cli("ls", "--trash", "--json"))] == [pdf["id"]]
    cli("restore", pdf["id"])
    cli("rm", pdf["id"], "--hard")
    missing = cli("info", pdf["id"], ok=False)
    assert "not found" in missing.stderr
    assert len(as_json(cli("ls", "--json", "--limit", "200"))) == 4  # 5 files - 1 deleted


def test_errors_exit_non_zero_with_one_line(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "tool.exe"
    bad.write_bytes(samples.elf())
    refused = cli("upload", str(bad), ok=False)
    assert "failed" in refused.stdout and "not allowed" in refused.stdout
    for args, text in [
        (("upload", str(tmp_path / "nowhere.txt")), "no such file"),
        (("upload", str(bad), "--metadata", "{oops"), "JSON object"),
        (("info", "not-an-id"), "not a file id"),
        (("rm", str(uuid.uuid4())), "not found"),
        (("restore", str(uuid.uuid4())), "not found"),
        (("download", "missing/key.txt"), "no such object"),
    ]:
        done = cli(*args, ok=False)
        assert text in done.stderr + done.stdout, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) <= 2, done.stderr
    assert cli("upload", "--help").stdout.count("Example") == 1
    usage = cli("upload", ok=False)
    assert usage.returncode == 2
