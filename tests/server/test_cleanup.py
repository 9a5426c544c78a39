"""``s3files cleanup``: after crashes and abandoned uploads, the database and the store agree
again, and no completed file is lost. The crashes are real: the service process is killed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from s3files import FileStore, Settings
from s3files._models import PutOptions
from s3files.server.keys.service import create_key
from s3files.server.previews.service import thumbnail_key
from tests import samples
from tests.server._environment import process_environment
from tests.server.conftest import Service, free_port, make_service

MiB = 1024 * 1024


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes a CLI process use the same store and database."""
    return process_environment(settings, **extra)


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "s3files.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(settings),
        cwd=settings.data_dir,
    )


def run_cleanup(settings: Settings, *args: str) -> dict[str, Any]:
    done = cli(settings, "cleanup", "--json", *args)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def findings(report: dict[str, Any]) -> dict[str, int]:
    counts = {k: len(v) if isinstance(v, list) else v for k, v in report.items() if k != "fixed"}
    return {k: v for k, v in counts.items() if v}


def upload(client: httpx.Client, content: bytes, name: str) -> dict[str, Any]:
    response = client.post("/api/v1/files/upload", files={"file": (name, content)})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_cleanup_finds_and_repairs_everything(sqlite_service: Service) -> None:
    service = sqlite_service
    files: FileStore = service.library()
    with service.client() as client:
        kept = upload(client, samples.pdf(), "kept.pdf")
        trashed = upload(client, samples.text(), "trashed.txt")
        client.delete(f"/api/v1/files/{trashed['id']}")
        vanished = upload(client, samples.text(), "vanished.txt")
        files.delete(vanished["s3_key"])  # the object disappears behind the service's back
        abandoned = client.post(
            "/api/v1/uploads", json={"original_filename": "a.png", "content_type": "image/png"}
        ).json()
        httpx.post(
            abandoned["form_url"],
            data=abandoned["form_fields"],
            files={"file": ("a.png", samples.png())},
        )
    orphan = files.upload(samples.text(), filename="orphan.txt", folder="stray").key
    stale = files.start_multipart("stray/stale.bin", content_type="application/zip")
    service.run(lambda session: _expire_uploads(session))

    report = run_cleanup(service.settings, "--grace-minutes", "0", "--retention-days", "0")
    assert findings(report) == {
        "expired_uploads": 1,
        "stale_multipart_uploads": 1,
        "purged_files": 1,
        "orphan_objects": 1,
        "missing_objects": 1,
    }
    assert report["orphan_objects"] == [orphan]
    assert report["missing_objects"] == [vanished["s3_key"]]
    assert files.exists(orphan)  # only a report so far

    fixed = run_cleanup(service.settings, "--fix", "--grace-minutes", "0", "--retention-days", "0")
    assert findings(fixed) == findings(report)
    assert (
        findings(run_cleanup(service.settings, "--grace-minutes", "0", "--retention-days", "0"))
        == {}
    )
    assert not files.exists(orphan) and not files.exists(abandoned["key"])
    assert stale not in [u.upload_id for u in files.list_multipart_uploads()]
    with service.client() as client:
        assert client.get(f"/api/v1/files/{kept['id']}/download").content == samples.pdf()
        assert client.get(f"/api/v1/files/{vanished['id']}").status_code == 404
    assert [row[0] for row in service.db_rows("select key from files")] == [kept["s3_key"]]

    # with the default grace period, fresh things are left alone
    files.upload(samples.text(), filename="fresh.txt", folder="stray")
    assert findings(run_cleanup(service.settings, "--fix")) == {}


async def _expire_uploads(session: Any) -> None:
    from sqlalchemy import text

    await session.execute(text("update uploads set expires_at = '2000-01-01 00:00:00'"))


@pytest.fixture(params=[("local", "postgres"), ("s3", "sqlite")], ids=lambda p: "-".join(p))
def thumbnail_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    (tmp_path / "data").mkdir()  # the CLI runs there
    yield from make_service(tmp_path, request, *request.param)


def test_cleanup_keeps_thumbnails_of_files_that_exist(thumbnail_service: Service) -> None:
    """A cached thumbnail has no record of its own: kept while its file has one (in the
    trash too), removed as an orphan once it has none, and with its file when the trash
    is purged."""
    service = thumbnail_service
    files: FileStore = service.library()
    made: dict[str, dict[str, Any]] = {}
    with service.client() as client:
        for name in ("kept.png", "trashed.png", "gone.png"):
            made[name] = upload(client, samples.png(16, 16), name)
            for size in (128, 512):
                answer = client.get(
                    f"/api/v1/files/{made[name]['id']}/thumbnail", params={"size": size}
                )
                assert answer.status_code == 200, answer.text
        assert client.delete(f"/api/v1/files/{made['trashed.png']['id']}").status_code == 204
    thumbs = {
        name: [thumbnail_key(record["s3_key"], size) for size in (128, 512)]
        for name, record in made.items()
    }
    assert all(files.exists(str(key)) for group in thumbs.values() for key in group)
    # the file of gone.png goes behind the service's back, record and object
    files.delete(made["gone.png"]["s3_key"])
    gone_key = made["gone.png"]["s3_key"]
    assert service.db_rows(f"delete from files where key = '{gone_key}' returning key")
    junk = ".thumbnails/not-a-thumbnail.bin"  # under the prefix, but no thumbnail's key
    writer = files.store.open_writer(junk, PutOptions(content_type="application/octet-stream"))
    writer.write(b"junk")
    writer.commit()

    no_purge = ("--grace-minutes", "0", "--retention-days", "3650")
    report = run_cleanup(service.settings, *no_purge)
    assert findings(report) == {"orphan_thumbnails": 3}, report
    fixed = run_cleanup(service.settings, "--fix", *no_purge)
    assert findings(fixed) == {"orphan_thumbnails": 3}, fixed
    assert all(files.exists(str(key)) for key in thumbs["kept.png"] + thumbs["trashed.png"])
    assert not any(files.exists(str(key)) for key in thumbs["gone.png"])
    assert not files.exists(junk)

    purged = run_cleanup(service.settings, "--fix", "--grace-minutes", "0", "--retention-days", "0")
    assert findings(purged) == {"purged_files": 1}, purged
    assert not any(files.exists(str(key)) for key in thumbs["trashed.png"])  # with its file
    assert all(files.exists(str(key)) for key in thumbs["kept.png"])
    assert findings(run_cleanup(service.settings, "--grace-minutes", "0")) == {}
    with service.client() as client:
        again = client.get(f"/api/v1/files/{made['kept.png']['id']}/thumbnail")
        assert again.status_code == 200 and again.headers["content-type"] == "image/webp"


class ServiceProcess:
    """``s3files serve`` in its own process, so that a test can kill it."""

    def __init__(self, settings: Settings, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "s3files.cli", "serve", "--port", str(self.port)],
            env=environment(settings, S3FILES_PUBLIC_URL=self.url, **env),
            cwd=settings.data_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.kill()
        raise AssertionError("the service did not start")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture(params=["local", "s3"])
def crash_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Service, str]]:
    running = make_service(tmp_path, request, request.param, "sqlite")
    service = next(running)
    try:
        key = service.run(lambda session: _new_key(session))
        yield service, key
    finally:
        next(running, None)


async def _new_key(session: Any) -> str:
    return (await create_key(session, owner="crash")).secret


def test_crash_between_store_write_and_commit(crash_settings: tuple[Service, str]) -> None:
    service, key = crash_settings
    headers = {"Authorization": f"Bearer {key}"}
    files = service.library()
    healthy = ServiceProcess(service.settings)
    try:
        before = httpx.post(
            f"{healthy.url}/api/v1/files/upload",
            headers=headers,
            files={"file": ("before.pdf", samples.pdf())},
        ).json()
    finally:
        healthy.kill()

    dying = ServiceProcess(
        service.settings,
        S3FILES_FAILPOINTS_ENABLED="1",
        S3FILES_FAILPOINTS="upload.after_store_write",
    )
    with pytest.raises(httpx.TransportError):
        httpx.post(
            f"{dying.url}/api/v1/files/upload",
            headers=headers,
            files={"file": ("lost.txt", samples.text())},
        )
    assert dying.process.wait(10) == 86
    pending = service.db_rows("select key from files where status = 'pending'")
    assert len(pending) == 1 and files.exists(pending[0][0])  # the half-written state

    mid = ServiceProcess(service.settings)
    stop = threading.Event()

    def slow_body() -> Iterator[bytes]:
        block = samples.text(MiB)
        for _ in range(40):
            yield block
            if stop.is_set():
                return
        time.sleep(30)

    def send() -> None:
        with contextlib.suppress(httpx.TransportError):
            httpx.post(
                f"{mid.url}/api/v1/files/stream",
                params={"filename": "big.txt"},
                headers=headers,
                content=slow_body(),
                timeout=60,
            )

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not service.db_rows(
        "select key from files where original_filename = 'big.txt'"
    ):
        time.sleep(0.05)
    time.sleep(1.0)  # let some parts reach the store
    mid.kill()  # killed mid-upload
    stop.set()
    sender.join(30)

    report = run_cleanup(service.settings, "--fix", "--grace-minutes", "0")
    assert report["unfinished_files"] == 2, report
    after = run_cleanup(service.settings, "--grace-minutes", "0")
    assert findings(after) == {}, after
    assert service.db_rows("select status from files") == [("active",)]
    assert [info.key for info in files.iter_objects()] == [before["s3_key"]]
    assert files.list_multipart_uploads() == []
    assert files.download(before["s3_key"]) == samples.pdf()
    assert os.path.isdir(service.settings.data_dir)
