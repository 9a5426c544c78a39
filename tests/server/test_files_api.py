"""The files API beyond brief 004's examples: listing, edits, downloads, limits, URLs."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from s3files import FileStore
from tests import samples
from tests.server.conftest import Service, make_service

MiB = 1024 * 1024


def upload(client: httpx.Client, content: bytes, name: str, **data: object) -> dict[str, object]:
    response = client.post(
        "/api/v1/files/upload",
        files={"file": (name, content)},
        data={k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code, response.text
    assert isinstance(response.json()["detail"], str)


def store_keys(service: Service) -> list[str]:
    return [info.key for info in service.library().iter_objects()]


def test_listing_filters_and_cursor(service: Service) -> None:
    with service.client() as client:
        ids = [
            upload(client, samples.text(), f"note-{i}.txt", folder="notes")["id"] for i in range(5)
        ]
        upload(client, samples.png(), "Holiday Photo.png", folder="pics")
        upload(client, samples.pdf(), "contract.pdf", folder="docs")
        page = client.get("/api/v1/files", params={"folder": "notes", "limit": 2}).json()
        seen = [item["id"] for item in page["items"]]
        while page["next_cursor"]:
            page = client.get(
                "/api/v1/files",
                params={"folder": "notes", "limit": 2, "cursor": page["next_cursor"]},
            ).json()
            seen += [item["id"] for item in page["items"]]
        assert seen == list(reversed(ids))  # newest first, each once
        found = client.get("/api/v1/files", params={"search": "holiday"}).json()["items"]
        assert [f["original_filename"] for f in found] == ["Holiday Photo.png"]
        assert client.get("/api/v1/files", params={"search": "%"}).json()["items"] == []
        images = client.get("/api/v1/files", params={"content_type": "image/*"}).json()["items"]
        assert [f["content_type"] for f in images] == ["image/png"]
        pdfs = client.get("/api/v1/files", params={"content_type": "application/pdf"}).json()
        assert len(pdfs["items"]) == 1
        assert_error(
            client.get("/api/v1/files", params={"cursor": "nonsense"}), 400, "invalid_cursor"
        )
        assert_error(client.get("/api/v1/files", params={"limit": 0}), 422, "validation_error")
    with service.client("bob") as bob:
        assert bob.get("/api/v1/files").json()["items"] == []
    with service.client("root") as admin:
        assert len(admin.get("/api/v1/files", params={"limit": 200}).json()["items"]) == 7


def test_patch(service: Service) -> None:
    with service.client() as client:
        file_id = upload(client, samples.text(), "a.txt", description="old", metadata={"k": 1})[
            "id"
        ]
        response = client.patch(f"/api/v1/files/{file_id}", json={"description": "new"})
        assert response.status_code == 200
        assert response.json()["description"] == "new"
        assert response.json()["metadata"] == {"k": 1}
        response = client.patch(
            f"/api/v1/files/{file_id}",
            json={"metadata": {"k": 2, "list": [1, 2]}, "is_public": True, "folder": "moved/here"},
        )
        body = response.json()
        assert (body["metadata"], body["is_public"], body["folder"]) == (
            {"k": 2, "list": [1, 2]},
            True,
            "moved/here",
        )
        assert_error(
            client.patch(f"/api/v1/files/{file_id}", json={"owner": "bob"}), 422, "validation_error"
        )
        assert_error(
            client.patch(f"/api/v1/files/{file_id}", json={"metadata": {"bad key": 1}}),
            400,
            "invalid_metadata",
        )
        assert_error(
            client.patch(f"/api/v1/files/{file_id}", json={"folder": "a/../b"}), 400, "invalid_key"
        )
        assert client.get(f"/api/v1/files/{file_id}").json()["folder"] == "moved/here"


def test_download_ranges_etags_and_headers(service: Service) -> None:
    content = samples.text(10_000)
    with service.client() as client:
        record = upload(client, content, "long.txt")
        url = f"/api/v1/files/{record['id']}/download"
        full = client.get(url)
        assert full.status_code == 200 and full.content == content
        assert full.headers["accept-ranges"] == "bytes"
        assert full.headers["content-length"] == str(len(content))
        etag = full.headers["etag"]
        assert etag == f'"{hashlib.sha256(content).hexdigest()}"'
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        part = client.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == content[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(content)}"
        tail = client.get(url, headers={"Range": "bytes=-50"})
        assert tail.status_code == 206 and tail.content == content[-50:]
        open_end = client.get(url, headers={"Range": "bytes=9990-"})
        assert open_end.content == content[9990:]
        beyond = client.get(url, headers={"Range": "bytes=20000-"})
        assert_error(beyond, 416, "invalid_range")
        assert beyond.headers["content-range"] == f"bytes */{len(content)}"
        several = client.get(url, headers={"Range": "bytes=0-1,5-6"})
        assert several.status_code == 200 and several.content == content
        inline = client.get(url, params={"as_attachment": False})
        assert inline.headers["content-disposition"].startswith("inline;")
        assert inline.headers["content-type"].startswith("text/plain")
        assert "sandbox" in inline.headers["content-security-policy"]
        named = upload(client, samples.pdf(), 'R\u00e9sum\u00e9 "final".pdf')
        disposition = client.get(f"/api/v1/files/{named['id']}/download").headers[
            "content-disposition"
        ]
        assert "filename*=UTF-8''R%C3%A9sum%C3%A9%20_final_.pdf" in disposition
        assert 'filename="R_sum_ _final_.pdf"' in disposition


def test_limits_leave_nothing_behind(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    for store in ("local", "s3"):
        service_iter = make_service(
            tmp_path / store, request, store, "sqlite", s3_max_file_size_mb=1
        )
        service = next(service_iter)
        try:
            with service.client() as client:
                big = samples.text(3 * MiB)
                assert_error(
                    client.post("/api/v1/files/upload", files={"file": ("big.txt", big)}),
                    413,
                    "file_too_large",
                )
                assert_error(
                    client.post(
                        "/api/v1/files/stream", params={"filename": "big.txt"}, content=big
                    ),
                    413,
                    "file_too_large",
                )

                def chunked() -> Iterator[bytes]:
                    for _ in range(12):
                        yield b"x" * 256 * 1024

                assert_error(
                    client.post(
                        "/api/v1/files/stream", params={"filename": "big.txt"}, content=chunked()
                    ),
                    413,
                    "file_too_large",
                )
                assert_error(
                    client.post(
                        "/api/v1/files/upload", files={"file": ("tool.exe", samples.elf())}
                    ),
                    415,
                    "unsupported_file_type",
                )
                assert_error(
                    client.post(
                        "/api/v1/files/upload", files={"file": ("photo.jpg", samples.pdf())}
                    ),
                    415,
                    "unsupported_file_type",
                )
                assert_error(
                    client.post(
                        "/api/v1/files/upload",
                        files={"file": ("a.txt", samples.text())},
                        data={"metadata": "{not json"},
                    ),
                    400,
                    "invalid_field",
                )
                assert_error(
                    client.post(
                        "/api/v1/files/upload",
                        files={"file": ("a.txt", samples.text())},
                        data={"is_public": "maybe"},
                    ),
                    400,
                    "invalid_field",
                )
                assert_error(
                    client.post("/api/v1/files/upload", data={"folder": "x"}),
                    415,
                    "unsupported_media_type",
                )
                assert_error(
                    client.post("/api/v1/files/upload", files={"other": ("a.txt", b"x")}),
                    400,
                    "file_required",
                )
                assert_error(
                    client.post("/api/v1/files/upload", files={"file": ("e.txt", b"")}),
                    400,
                    "empty_file",
                )
            assert store_keys(service) == []
            assert service.db_rows("select id from files") == []
        finally:
            next(service_iter, None)


def test_stream_upload(service: Service) -> None:
    content = os.urandom(3 * MiB)
    with service.client() as client:
        response = client.post(
            "/api/v1/files/stream",
            content=iter([content[:MiB], content[MiB:]]),
            params={"filename": "archive.zip", "folder": "raw", "metadata": '{"from": "script"}'},
            headers={"Content-Type": "application/zip"},
        )
        assert response.status_code == 415  # random bytes are not a zip
        zipped = samples.zip_archive()
        response = client.post(
            "/api/v1/files/stream",
            content=zipped,
            params={
                "filename": "archive.zip",
                "folder": "raw",
                "metadata": '{"from": "script"}',
                "is_public": True,
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["folder"], body["metadata"], body["is_public"]) == (
            "raw",
            {"from": "script"},
            True,
        )
        assert body["sha256"] == hashlib.sha256(zipped).hexdigest()
        put = client.put(
            "/api/v1/files/stream", params={"filename": "notes.md"}, content=samples.text()
        )  # what `curl -T notes.md …` sends
        assert put.status_code == 201 and put.json()["content_type"] == "text/markdown"


def test_local_store_signed_urls(sqlite_service: Service) -> None:
    service = sqlite_service
    with service.client() as client:
        record = upload(client, samples.pdf(), "signed.pdf")
        url = client.get(
            f"/api/v1/files/{record['id']}/presigned-url",
            params={"expiry": 2, "force_download": True},
        ).json()["url"]
    if service.settings.storage_location().scheme != "file":
        assert "X-Amz-Signature=" in url
        return
    assert url.startswith(service.url + "/store/")
    fetched = httpx.get(url)
    assert fetched.status_code == 200 and fetched.content == samples.pdf()
    assert fetched.headers["content-disposition"].startswith("attachment")
    assert httpx.get(url, headers={"Range": "bytes=0-3"}).content == b"%PDF"
    assert_error(
        httpx.get(re.sub(r"signature=[^&]+", "signature=AAAA", url)), 403, "invalid_signature"
    )
    assert_error(httpx.get(url.replace("signed.pdf", "other.pdf")), 403, "invalid_signature")
    time.sleep(3.1)
    assert_error(httpx.get(url), 403, "expired_signature")


@pytest.mark.parametrize("store", ["local", "s3"])
def test_upload_memory_stays_flat(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """256 MiB through the service while the server's Python heap stays small."""
    import tracemalloc

    size = 256 * MiB
    block = samples.text(MiB)

    def body() -> Iterator[bytes]:
        for _ in range(size // MiB):
            yield block

    running = make_service(tmp_path, request, store, "sqlite", s3_max_file_size_mb=1024)
    service = next(running)
    tracemalloc.start()
    try:
        with service.client() as client:
            response = client.post(
                "/api/v1/files/stream",
                params={"filename": "big.txt"},
                content=body(),
                headers={"Content-Type": "text/plain"},
            )
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        next(running, None)
    assert response.status_code == 201, response.text
    assert response.json()["file_size"] == size
    assert peak < 64 * MiB, f"peak traced memory {peak / MiB:.0f} MiB"


def test_library_view_matches(service: Service) -> None:
    with service.client() as client:
        record = upload(client, samples.png(), "p.png")
    files: FileStore = service.library()
    info = files.head(str(record["s3_key"]))
    assert info.size == record["file_size"]
    assert info.content_type == "image/png"
