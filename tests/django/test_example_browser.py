"""examples/django runs (its own process, its own database) against Ceph RGW, and a real
Chromium uploads through brief 003's form straight to the bucket and back."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import samples
from tests.django.chromium import ChromiumThread
from tests.harness.ceph import S3Server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "django"


@dataclass
class ExampleApp:
    url: str
    database: Path

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.database) as connection:
            return list(connection.execute(sql, params))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def example_app(
    s3_server: S3Server, django_bucket: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExampleApp]:
    """``manage.py migrate`` then ``manage.py runserver``, configured as its README says."""
    folder = tmp_path_factory.mktemp("example")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "EXAMPLE_DATABASE": str(folder / "db.sqlite3"),
        "AWS_ACCESS_KEY_ID": s3_server.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
        "AWS_STORAGE_BUCKET_NAME": django_bucket,
        "AWS_REGION": s3_server.region,
        "AWS_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "S3FILES_MAX_UPLOAD_SIZE": str(1024 * 1024),
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput"], cwd=EXAMPLE, env=env, check=True, capture_output=True
    )
    port = free_port()
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=EXAMPLE,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / "server.log").read_text())
            time.sleep(0.2)
        yield ExampleApp(url=url, database=folder / "db.sqlite3")
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


# Scenarios run on the Chromium thread and return what they saw -------------------------


def upload_scenario(browser: Any, url: str, path: Path) -> dict[str, Any]:
    """Pick the file, get brief 003's signed form, submit it straight to the bucket and
    follow the bucket's redirect back to the app's completion page."""
    page = browser.new_page()
    try:
        page.goto(url)
        page.set_input_files("#picker", str(path))
        page.wait_for_selector("form.s3files-direct-upload")
        form = "form.s3files-direct-upload"
        seen = {
            "action": page.get_attribute(form, "action"),
            "files": page.eval_on_selector(f"{form} input[type=file]", "i => i.files.length"),
        }
        with page.expect_navigation(url="**/complete/**", timeout=60_000):
            page.click(f"{form} button[type=submit]")
        seen["status"] = page.text_content("#status")
        link = page.locator("#file-link")
        seen["link"] = link.get_attribute("href") if link.count() else None
        return seen
    finally:
        page.close()


def delete_scenario(browser: Any, url: str, upload_id: str) -> str:
    """The upload's row on the index page, then its Delete button."""
    page = browser.new_page()
    try:
        page.goto(url)
        row = page.locator(f"tr[data-upload-id='{upload_id}']")
        text = str(row.inner_text())
        with page.expect_navigation():
            row.locator("button", has_text="Delete").click()
        return text
    finally:
        page.close()


def refused_scenario(browser: Any, url: str, path: Path) -> dict[str, Any]:
    page = browser.new_page()
    try:
        page.goto(url)
        page.set_input_files("#picker", str(path))
        page.wait_for_selector(".s3files-error")
        return {
            "error": page.text_content(".s3files-error"),
            "forms": page.locator("form.s3files-direct-upload").count(),
        }
    finally:
        page.close()


# Tests ---------------------------------------------------------------------------------


def test_chromium_uploads_through_the_example(
    chromium: ChromiumThread,
    example_app: ExampleApp,
    tmp_path: Path,
    boto_client: Any,
    django_bucket: str,
    s3_server: S3Server,
) -> None:
    path = tmp_path / "sunset.png"
    body = samples.png() + b"\0" * 200_000
    path.write_bytes(body)
    seen = chromium.run(upload_scenario, example_app.url, path)
    assert seen["action"] == f"{s3_server.endpoint_url}/{django_bucket}"  # straight to RGW
    assert seen["files"] == 1 and seen["status"] == "complete"
    [(upload_id, key, status, size, content_type)] = example_app.rows(
        "select id, key, status, size, content_type from s3files_upload"
        " where original_filename = ?",
        "sunset.png",
    )
    assert status == "complete" and size == len(body) and content_type == "image/png"
    assert key.startswith("gallery/")
    assert boto_client.get_object(Bucket=django_bucket, Key=key)["Body"].read() == body
    assert seen["link"] and httpx.get(seen["link"]).content == body  # presigned, same bytes
    # listed on the index page; Delete removes the object and the row
    row = chromium.run(delete_scenario, example_app.url, str(uuid.UUID(upload_id)))
    assert "sunset.png" in row and "complete" in row
    assert example_app.rows("select count(*) from s3files_upload where key = ?", key) == [(0,)]
    assert not boto_client.list_objects_v2(Bucket=django_bucket, Prefix=key).get("KeyCount")


def test_a_spoofed_file_is_refused_after_the_upload(
    chromium: ChromiumThread,
    example_app: ExampleApp,
    tmp_path: Path,
    boto_client: Any,
    django_bucket: str,
) -> None:
    path = tmp_path / "invoice.png"
    path.write_bytes(samples.pdf())  # a PDF wearing a PNG name: the browser says image/png
    seen = chromium.run(upload_scenario, example_app.url, path)
    assert str(seen["status"]).startswith("failed:") and "does not match" in seen["status"]
    assert seen["link"] is None
    [(key, state)] = example_app.rows(
        "select key, status from s3files_upload where original_filename = ?", "invoice.png"
    )
    assert state == "rejected"
    assert not boto_client.list_objects_v2(Bucket=django_bucket, Prefix=key).get("KeyCount")


def test_a_refused_type_gets_no_form(
    chromium: ChromiumThread, example_app: ExampleApp, tmp_path: Path
) -> None:
    path = tmp_path / "tool.exe"
    path.write_bytes(samples.elf())
    seen = chromium.run(refused_scenario, example_app.url, path)
    assert "not allowed" in str(seen["error"]) and seen["forms"] == 0
    assert example_app.rows(
        "select count(*) from s3files_upload where original_filename = ?", "tool.exe"
    ) == [(0,)]
