"""A real Chromium uploads straight to the store (Ceph RGW, or the local store through the
service's signed URLs), completes, and the file comes back byte-identical."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from s3files.stores.s3 import S3Store
from tests import samples
from tests.server.conftest import Service, make_service

MiB = 1024 * 1024


@pytest.fixture(params=["s3", "local"])
def service(request: pytest.FixtureRequest, tmp_path: Path, pages_origin: str) -> Iterator[Service]:
    running = make_service(tmp_path, request, request.param, "sqlite", cors_origins=pages_origin)
    service = next(running)
    store = service.library().store
    if isinstance(store, S3Store):
        store.configure_cors([pages_origin])  # what `s3files bucket setup-cors` does
    try:
        yield service
    finally:
        next(running, None)


def open_page(browser: Any, service: Service, pages_origin: str, **extra: str) -> Any:
    page = browser.new_page()
    query = urlencode({"base": service.url, "token": service.keys["alice"], **extra})
    page.goto(f"{pages_origin}/upload.html?{query}")
    page.wait_for_function("document.getElementById('status').textContent === 'ready'")
    return page


def upload_in_page(page: Any, path: Path, timeout: float = 120_000) -> str:
    page.set_input_files("#file", str(path))
    page.click("#go")
    page.wait_for_function(
        "['done', 'error'].some(w => document.getElementById('status').textContent.startsWith(w))",
        timeout=timeout,
    )
    return str(page.text_content("#status"))


def test_presigned_post_from_the_browser(
    browser: Any, service: Service, pages_origin: str, tmp_path: Path
) -> None:
    path = tmp_path / "picture.png"
    path.write_bytes(samples.png() + b"\0" * 300_000)  # a real PNG header, some bulk
    page = open_page(browser, service, pages_origin)
    status = upload_in_page(page, path)
    assert status.startswith("done"), status
    record = page.evaluate("window.record")
    assert page.evaluate("window.progressEvents") >= 1
    assert record["content_type"] == "image/png" and record["folder"] == "browser"
    with service.client() as client:
        body = client.get(f"/api/v1/files/{record['id']}/download").content
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    page.screenshot(
        path=str(
            Path(os.environ.get("S3FILES_SCREENSHOTS", tmp_path))
            / f"direct-upload-{service.settings.storage_location().scheme}.png"
        )
    )
    page.close()


def test_refused_upload_shows_its_reason(
    browser: Any, service: Service, pages_origin: str, tmp_path: Path
) -> None:
    path = tmp_path / "fake.png"
    path.write_bytes(samples.pdf())
    page = open_page(browser, service, pages_origin)
    status = upload_in_page(page, path)
    assert status.startswith("error unsupported_file_type"), status
    assert "does not match" in status
    with service.client() as client:
        assert client.get("/api/v1/files").json()["items"] == []
    assert [i.key for i in service.library().iter_objects()] == []
    page.close()


def test_multipart_upload_resumes_after_a_reload(
    browser: Any, service: Service, pages_origin: str, tmp_path: Path
) -> None:
    path = tmp_path / "archive.zip"
    with path.open("wb") as handle:
        handle.write(samples.zip_archive())
        handle.write(os.urandom(60 * MiB))
    page = open_page(browser, service, pages_origin, threshold=str(16 * MiB))
    page.set_input_files("#file", str(path))
    page.click("#go")
    # interrupt once part of the file has gone up
    page.wait_for_function("window.sent > 20 * 1024 * 1024", timeout=120_000)
    page.reload()
    page.wait_for_function("document.getElementById('status').textContent === 'ready'")
    with service.client() as client:
        uploads = service.db_rows("select id from uploads where status = 'pending'")
        assert len(uploads) == 1
        upload_id = str(uploads[0][0])
        if "-" not in upload_id:
            upload_id = f"{upload_id[:8]}-{upload_id[8:12]}-{upload_id[12:16]}-{upload_id[16:20]}-{upload_id[20:]}"
        before = client.get(f"/api/v1/uploads/{upload_id}/parts").json()
    assert len(before) >= 1
    status = upload_in_page(page, path)
    assert status.startswith("done"), status
    record = page.evaluate("window.record")
    assert record["file_size"] == path.stat().st_size
    assert service.db_rows("select count(*) from uploads")[0][0] == 1  # resumed, not restarted
    digest = hashlib.sha256()
    headers = {"Authorization": f"Bearer {service.keys['alice']}"}
    with (
        httpx.Client(base_url=service.url, headers=headers) as client,
        client.stream("GET", f"/api/v1/files/{record['id']}/download") as response,
    ):
        for chunk in response.iter_bytes():
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    page.close()
