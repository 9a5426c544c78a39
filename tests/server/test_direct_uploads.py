"""Direct-to-store uploads: the store enforces the signed policy, the service verifies the
object before it becomes a file, and refusals leave neither an object nor an active record."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import samples
from tests.server.conftest import Service, make_service

MiB = 1024 * 1024


def create(client: httpx.Client, **body: Any) -> dict[str, Any]:
    body.setdefault("original_filename", "photo.png")
    body.setdefault("content_type", "image/png")
    response = client.post("/api/v1/uploads", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def post_form(
    form: dict[str, Any], content: bytes, *, filename: str = "photo.png", **overrides: str
) -> httpx.Response:
    fields = {**form["form_fields"], **overrides}
    return httpx.post(
        form["form_url"], data=fields, files={"file": (filename, content)}, timeout=60
    )


def store_keys(service: Service) -> list[str]:
    return [info.key for info in service.library().iter_objects()]


def test_post_upload_round_trip(sqlite_service: Service) -> None:
    service = sqlite_service
    with service.client() as client:
        form = create(
            client,
            max_file_size=MiB,
            folder="pics",
            metadata={"by": "browser"},
        )
        assert form["key"].startswith("pics/") and form["max_file_size"] == MiB
        assert client.get(f"/api/v1/uploads/{form['upload_id']}").json()["status"] == "pending"
        sent = post_form(form, samples.png())
        assert sent.status_code in (200, 201, 204), sent.text
        done = client.post(f"/api/v1/uploads/{form['upload_id']}/complete")
        assert done.status_code == 200, done.text
        record = done.json()
        assert (record["s3_key"], record["content_type"], record["folder"], record["metadata"]) == (
            form["key"],
            "image/png",
            "pics",
            {"by": "browser"},
        )
        again = client.post(f"/api/v1/uploads/{form['upload_id']}/complete")
        assert again.status_code == 200 and again.json()["id"] == record["id"]
        assert client.get(f"/api/v1/files/{record['id']}/download").content == samples.png()
        status = client.get(f"/api/v1/uploads/{form['upload_id']}").json()
        assert (status["status"], status["file_id"]) == ("complete", record["id"])


def test_store_refuses_forged_posts(sqlite_service: Service) -> None:
    service = sqlite_service
    with service.client() as client:
        form = create(client, max_file_size=64 * 1024)
        too_big = post_form(form, samples.png() + os.urandom(100 * 1024))
        assert too_big.status_code in (400, 413), too_big.text
        other_key = post_form(form, samples.png(), key=form["key"].replace("photo", "other"))
        assert other_key.status_code == 403, other_key.text
        other_type = post_form(form, samples.png(), **{"Content-Type": "text/html"})
        assert other_type.status_code == 403, other_type.text
        assert store_keys(service) == []
        assert client.post(f"/api/v1/uploads/{form['upload_id']}/complete").status_code == 409


def test_expired_policy_is_refused(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    for store in ("local", "s3"):
        running = make_service(
            tmp_path / store, request, store, "sqlite", s3_presigned_url_expiry=1
        )
        service = next(running)
        try:
            with service.client() as client:
                form = create(client)
            time.sleep(2.5)
            response = post_form(form, samples.png())
            assert response.status_code == 403, (store, response.text)
            assert store_keys(service) == []
        finally:
            next(running, None)


@pytest.mark.parametrize(
    ("claimed", "name", "content", "status", "code"),
    [
        ("image/png", "photo.png", samples.pdf(), 415, "unsupported_file_type"),
        ("image/jpeg", "photo.jpg", samples.png(), 200, None),  # an image is an image
        ("application/pdf", "doc.pdf", samples.elf(), 415, "unsupported_file_type"),
    ],
)
def test_completion_sniffs_the_content(
    sqlite_service: Service, claimed: str, name: str, content: bytes, status: int, code: str | None
) -> None:
    service = sqlite_service
    with service.client() as client:
        form = create(client, original_filename=name, content_type=claimed)
        assert post_form(form, content, filename=name).status_code in (200, 201, 204)
        done = client.post(f"/api/v1/uploads/{form['upload_id']}/complete")
        assert done.status_code == status, done.text
        if code is None:
            return
        assert done.json()["error"] == code
        upload = client.get(f"/api/v1/uploads/{form['upload_id']}").json()
        assert upload["status"] == "rejected" and upload["reason"].startswith(code)
        assert store_keys(service) == []
        assert client.get("/api/v1/files").json()["items"] == []
        retry = client.post(f"/api/v1/uploads/{form['upload_id']}/complete")
        assert retry.status_code == 422 and retry.json()["error"] == "upload_rejected"


def test_checksum_and_ownership(sqlite_service: Service) -> None:
    service = sqlite_service
    with service.client() as alice, service.client("bob") as bob:
        form = create(alice, sha256="0" * 64)
        post_form(form, samples.png())
        for call in (
            bob.post(f"/api/v1/uploads/{form['upload_id']}/complete"),
            bob.get(f"/api/v1/uploads/{form['upload_id']}"),
            bob.delete(f"/api/v1/uploads/{form['upload_id']}"),
        ):
            assert call.status_code == 404 and call.json()["error"] == "not_found"
        done = alice.post(f"/api/v1/uploads/{form['upload_id']}/complete")
        assert done.status_code == 400 and done.json()["error"] == "checksum_mismatch"
        assert store_keys(service) == []

        good = create(alice, sha256=hashlib.sha256(samples.png()).hexdigest())
        post_form(good, samples.png())
        done = alice.post(f"/api/v1/uploads/{good['upload_id']}/complete")
        assert (
            done.status_code == 200
            and done.json()["sha256"] == hashlib.sha256(samples.png()).hexdigest()
        )


def test_requests_are_validated_before_signing(sqlite_service: Service) -> None:
    with sqlite_service.client() as client:
        for body, status, code in [
            (
                {"original_filename": "x.exe", "content_type": "application/x-msdownload"},
                415,
                "unsupported_file_type",
            ),
            (
                {"original_filename": "x.png", "content_type": "text/html"},
                415,
                "unsupported_file_type",
            ),
            (
                {"original_filename": "x.png", "content_type": "image/png", "prefix": "../.."},
                400,
                "invalid_key",
            ),
            (
                {"original_filename": "x.png", "content_type": "image/png", "max_file_size": 0},
                422,
                "validation_error",
            ),
            (
                {"original_filename": "x.png", "content_type": "image/png", "key": "mine"},
                422,
                "validation_error",
            ),
        ]:
            response = client.post("/api/v1/uploads", json=body)
            assert (response.status_code, response.json()["error"]) == (status, code), body
        capped = create(client, max_file_size=10**15)
        assert capped["max_file_size"] == 100 * MiB
        assert sqlite_service.db_rows("select count(*) from uploads")[0][0] == 1


def put_parts(
    client: httpx.Client, upload: dict[str, Any], content: bytes, numbers: list[int]
) -> None:
    urls = client.post(
        f"/api/v1/uploads/{upload['upload_id']}/parts", json={"part_numbers": numbers}
    )
    assert urls.status_code == 200, urls.text
    size = upload["part_size"]
    for part in urls.json()["parts"]:
        number = part["number"]
        body = content[(number - 1) * size : number * size]
        response = httpx.put(part["url"], content=body, timeout=60)
        assert response.status_code == 200, response.text
        assert response.headers["etag"]


def test_multipart_upload_with_resume(sqlite_service: Service) -> None:
    service = sqlite_service
    content = samples.zip_archive() + os.urandom(17 * MiB)
    with service.client() as client:
        response = client.post(
            "/api/v1/uploads/multipart",
            json={
                "original_filename": "big.zip",
                "content_type": "application/zip",
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            },
        )
        assert response.status_code == 201, response.text
        upload = response.json()
        assert upload["part_count"] == 3 and upload["part_size"] == 8 * MiB
        put_parts(client, upload, content, [1, 2])
        # an interruption: the page reloads and asks what is already there
        uploaded = client.get(f"/api/v1/uploads/{upload['upload_id']}/parts").json()
        assert [p["number"] for p in uploaded] == [1, 2]
        early = client.post(f"/api/v1/uploads/{upload['upload_id']}/complete")
        assert early.status_code == 400 and early.json()["error"] == "incomplete_upload"
        put_parts(client, upload, content, [3])
        done = client.post(f"/api/v1/uploads/{upload['upload_id']}/complete")
        assert done.status_code == 200, done.text
        record = done.json()
        assert record["file_size"] == len(content)
        assert record["sha256"] == hashlib.sha256(content).hexdigest()
        digest = hashlib.sha256()
        with client.stream("GET", f"/api/v1/files/{record['id']}/download") as stream:
            for chunk in stream.iter_bytes():
                digest.update(chunk)
        assert digest.hexdigest() == record["sha256"]
        assert (
            client.post(
                f"/api/v1/uploads/{upload['upload_id']}/parts", json={"part_numbers": [1]}
            ).status_code
            == 409
        )
        assert service.library().list_multipart_uploads() == []


def test_multipart_limits_and_abort(sqlite_service: Service) -> None:
    service = sqlite_service
    with service.client() as client:
        too_big = client.post(
            "/api/v1/uploads/multipart",
            json={
                "original_filename": "big.zip",
                "content_type": "application/zip",
                "size": 10**12,
            },
        )
        assert too_big.status_code == 413
        upload = client.post(
            "/api/v1/uploads/multipart",
            json={
                "original_filename": "big.zip",
                "content_type": "application/zip",
                "size": 6 * MiB,
            },
        ).json()
        assert (
            client.post(
                f"/api/v1/uploads/{upload['upload_id']}/parts", json={"part_numbers": [5]}
            ).status_code
            == 400
        )
        put_parts(client, upload, samples.zip_archive() + os.urandom(6 * MiB), [1])
        aborted = client.delete(f"/api/v1/uploads/{upload['upload_id']}")
        assert aborted.status_code == 200 and aborted.json()["status"] == "aborted"
        assert service.library().list_multipart_uploads() == []
        assert client.post(f"/api/v1/uploads/{upload['upload_id']}/complete").status_code == 409
    assert store_keys(service) == []


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
