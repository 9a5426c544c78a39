"""Direct uploads keep the bytes they verified: a signed form or part URL cannot change a
file once its upload is complete, every record carries the SHA-256 and ETag of its bytes,
and what a client declares (size, description) is held to."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import samples
from tests.server.conftest import Service, make_service
from tests.server.test_cleanup import findings, run_cleanup
from tests.server.test_direct_uploads import create, post_form, put_parts, store_keys

MiB = 1024 * 1024


def download(client: httpx.Client, file_id: str) -> bytes:
    response = client.get(f"/api/v1/files/{file_id}/download")
    assert response.status_code == 200, response.text
    return response.content


def test_replayed_form_cannot_change_a_completed_file(sqlite_service: Service) -> None:
    service = sqlite_service
    original = samples.png() + os.urandom(3000)
    with service.client() as client:
        form = create(client, max_file_size=MiB)
        assert form["form_fields"]["key"] != form["key"]  # the form writes to a staging key
        assert post_form(form, original).status_code in (200, 201, 204)
        done = client.post(f"/api/v1/uploads/{form['upload_id']}/complete")
        assert done.status_code == 200, done.text
        record = done.json()
        assert record["sha256"] == hashlib.sha256(original).hexdigest()
        assert record["etag"]
        assert store_keys(service) == [form["key"]]  # staged object moved, not copied twice

        # the same signed fields, other bytes, within the policy's expiry
        for hostile in (samples.elf(), b"<html><script>alert(1)</script></html>"):
            replay = post_form(form, hostile)
            assert replay.status_code in (200, 201, 204), replay.text  # the store takes it ...
            assert download(client, record["id"]) == original  # ... but the file is unchanged
            again = client.post(f"/api/v1/uploads/{form['upload_id']}/complete")
            assert again.status_code == 200 and again.json()["sha256"] == record["sha256"]
            assert download(client, record["id"]) == original
        staged = f".uploads/{uuid.UUID(form['upload_id']).hex}"
        assert form["form_fields"]["key"].endswith(staged)  # under the store's prefix, if any
        assert staged in store_keys(service)

    report = run_cleanup(service.settings, "--fix", "--grace-minutes", "0")
    assert findings(report) == {"stale_staging_objects": 1}, report
    assert store_keys(service) == [form["key"]]
    assert service.library().download(form["key"]) == original


def test_part_urls_are_closed_by_completion(sqlite_service: Service) -> None:
    service = sqlite_service
    content = samples.zip_archive() + os.urandom(MiB)
    with service.client() as client:
        upload = client.post(
            "/api/v1/uploads/multipart",
            json={
                "original_filename": "a.zip",
                "content_type": "application/zip",
                "size": len(content),
            },
        ).json()
        urls = client.post(
            f"/api/v1/uploads/{upload['upload_id']}/parts", json={"part_numbers": [1]}
        ).json()["parts"]
        assert httpx.put(urls[0]["url"], content=content, timeout=60).status_code == 200
        done = client.post(f"/api/v1/uploads/{upload['upload_id']}/complete")
        assert done.status_code == 200, done.text
        record = done.json()
        assert record["sha256"] == hashlib.sha256(content).hexdigest() and record["etag"]

        late = httpx.put(urls[0]["url"], content=samples.elf() + bytes(len(content)), timeout=60)
        assert late.status_code in (403, 404), late.text  # the upload id is closed
        assert download(client, record["id"]) == content
        assert service.library().list_multipart_uploads() == []


def test_multipart_completion_holds_the_declared_size(sqlite_service: Service) -> None:
    service = sqlite_service
    content = samples.zip_archive() + os.urandom(200_001 - len(samples.zip_archive()))
    with service.client() as client:
        upload = client.post(
            "/api/v1/uploads/multipart",
            json={"original_filename": "a.zip", "content_type": "application/zip", "size": 5},
        ).json()
        assert upload["part_count"] == 1
        put_parts(client, upload, content, [1])  # one part, far more than declared
        done = client.post(f"/api/v1/uploads/{upload['upload_id']}/complete")
        assert done.status_code == 413 and done.json()["error"] == "file_too_large", done.text
        status = client.get(f"/api/v1/uploads/{upload['upload_id']}").json()
        assert status["status"] == "rejected" and "larger_than_declared" in status["reason"]
        assert client.get("/api/v1/files").json()["items"] == []
    assert store_keys(service) == []
    assert service.library().list_multipart_uploads() == []


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_nul_in_a_direct_uploads_description_is_refused(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    running = make_service(tmp_path, request, "local", database)
    service = next(running)
    try:
        with service.client() as client:
            for path, extra in (
                ("/api/v1/uploads", {}),
                ("/api/v1/uploads/multipart", {"size": 9}),
            ):
                response = client.post(
                    path,
                    json={
                        "original_filename": "a.png",
                        "content_type": "image/png",
                        "description": "a\u0000b",
                        **extra,
                    },
                )
                assert response.status_code == 400, response.text
                assert response.json()["error"] == "invalid_field"
                assert "description" in response.json()["detail"]
        assert service.db_rows("select count(*) from uploads") == [(0,)]
    finally:
        next(running, None)


def test_openapi_documents_the_statuses_answered(sqlite_service: Service) -> None:
    service = sqlite_service
    with service.client() as client:
        schema = client.get("/openapi.json").json()
        parts = schema["paths"]["/api/v1/uploads/{upload_id}/parts"]["get"]["responses"]
        form = create(client)
        answered = client.get(f"/api/v1/uploads/{form['upload_id']}/parts")
        assert answered.status_code == 400 and answered.json()["error"] == "not_multipart"
        assert "400" in parts
        store_upload = schema["paths"]["/store-upload"]["post"]["responses"]
        assert "415" in store_upload
        wrong_type = httpx.post(
            f"{service.url}/store-upload", content=b"x", headers={"content-type": "text/plain"}
        )
        if service.settings.storage_url and service.settings.storage_url.startswith("file:"):
            assert wrong_type.status_code == 415, wrong_type.text
        else:
            assert wrong_type.status_code == 404  # no local store behind this service


def test_one_completion_at_a_time(sqlite_service: Service) -> None:
    """A completion in flight holds a lease: a second one (and an abort) waits its turn."""
    service = sqlite_service
    with service.client() as client:
        form = create(client)
        post_form(form, samples.png())
        upload_id = uuid.UUID(form["upload_id"]).hex
        service.run(lambda session: _lease(session, upload_id, "2999-01-01 00:00:00"))
        busy = client.post(f"/api/v1/uploads/{form['upload_id']}/complete")
        assert busy.status_code == 409 and busy.json()["error"] == "completion_in_progress"
        cancel = client.delete(f"/api/v1/uploads/{form['upload_id']}")
        assert cancel.status_code == 409 and cancel.json()["error"] == "completion_in_progress"
        assert client.get(f"/api/v1/uploads/{form['upload_id']}").json()["status"] == "pending"
        # a crashed completion's lease runs out; then the next one goes through
        service.run(lambda session: _lease(session, upload_id, "2000-01-01 00:00:00"))
        done = client.post(f"/api/v1/uploads/{form['upload_id']}/complete")
        assert done.status_code == 200, done.text
        assert service.db_rows("select completing_until from uploads") == [(None,)]


async def _lease(session: Any, upload_id: str, until: str) -> None:
    from sqlalchemy import text

    await session.execute(
        text("update uploads set completing_until = :until where id = :id"),
        {"until": until, "id": upload_id},
    )


def test_an_upload_signed_before_staging_still_completes(sqlite_service: Service) -> None:
    """A row from before the staging key (its form wrote to the file's key) completes by
    verifying that key, as it did."""
    service = sqlite_service
    with service.client() as client:
        form = create(client)
        upload_id = uuid.UUID(form["upload_id"]).hex
        service.run(lambda session: _unstaged(session, upload_id))
        service.library().upload(samples.png(), filename="photo.png", key=form["key"])
        done = client.post(f"/api/v1/uploads/{form['upload_id']}/complete")
        assert done.status_code == 200, done.text
        assert done.json()["sha256"] == hashlib.sha256(samples.png()).hexdigest()
        assert download(client, done.json()["id"]) == samples.png()


async def _unstaged(session: Any, upload_id: str) -> None:
    from sqlalchemy import text

    await session.execute(
        text("update uploads set staging_key = null where id = :id"), {"id": upload_id}
    )
