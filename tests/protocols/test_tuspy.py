"""tuspy (the Python tus client, from PyPI) against the service's ``/api/v1/tus/``: whole
and resumed uploads byte-identical on download, limits and types refused, another owner
locked out, termination, per-PATCH checksums and expiry with ``s3files cleanup``."""

from __future__ import annotations

import base64
import hashlib
import io
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from s3files.server.db.models import utcnow
from s3files.server.db.session import create_engine, session_factory
from s3files.server.housekeeping import cleanup
from s3files.store import AsyncFileStore, FileStore
from tests.protocols.conftest import MAX_FILE_MB, MiB, content
from tests.server.conftest import Service, run_async

TUS = {"Tus-Resumable": "1.0.0"}


def tus(service: Service, who: str = "alice") -> tus_client.TusClient:
    return tus_client.TusClient(
        f"{service.url}/api/v1/tus/", headers={"Authorization": f"Bearer {service.keys[who]}"}
    )


def file_of(service: Service, url: str) -> dict[str, str]:
    """The record a finished upload became (its upload id is the last part of its URL)."""
    upload_id = uuid.UUID(url.rstrip("/").rsplit("/", 1)[1])
    with service.client() as client:
        status = client.get(f"/api/v1/uploads/{upload_id}").json()
        assert status["status"] == "complete", status
        record: dict[str, str] = client.get(f"/api/v1/files/{status['file_id']}").json()
    return record


def download(service: Service, file_id: str) -> bytes:
    with service.client() as client:
        response = client.get(f"/api/v1/files/{file_id}/download")
        assert response.status_code == 200
        return response.content


def test_upload_in_chunks_with_checksums_is_byte_identical(service: Service) -> None:
    data = content(13 * MiB)  # 8 MiB parts on S3: a part, pending chunks, a short last part
    uploader = tus(service).uploader(
        file_stream=io.BytesIO(data),
        chunk_size=3 * MiB,
        metadata={"filename": "scan.png", "filetype": "image/png", "folder": "inbox"},
        upload_checksum=True,
    )
    uploader.upload()
    record = file_of(service, uploader.url)
    assert (record["original_filename"], record["folder"], record["content_type"]) == (
        "scan.png",
        "inbox",
        "image/png",
    )
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert download(service, record["id"]) == data


def test_interrupted_upload_resumes_from_the_server_offset(service: Service) -> None:
    data = content(6 * MiB + 123)
    first = tus(service).uploader(
        file_stream=io.BytesIO(data), chunk_size=2 * MiB, metadata={"filename": "a.png"}
    )
    first.upload_chunk()  # then the client "crashes"
    with service.client() as client:
        head = client.head(first.url, headers=TUS)
    assert (head.status_code, head.headers["Upload-Offset"]) == (200, str(2 * MiB))
    assert head.headers["Upload-Length"] == str(len(data))
    assert "Upload-Expires" in head.headers
    resumed = tus(service).uploader(file_stream=io.BytesIO(data), chunk_size=4 * MiB, url=first.url)
    assert resumed.offset == 2 * MiB
    resumed.upload()
    assert download(service, file_of(service, first.url)["id"]) == data


def test_another_owner_cannot_resume_or_terminate(service: Service) -> None:
    data = content(1 * MiB)
    mine = tus(service).uploader(
        file_stream=io.BytesIO(data), chunk_size=512 * 1024, metadata={"filename": "m.png"}
    )
    mine.upload_chunk()
    with pytest.raises(TusCommunicationError) as refused:
        tus(service, "bob").uploader(file_stream=io.BytesIO(data), url=mine.url).upload()
    assert refused.value.status_code == 404
    with service.client("bob") as bob:
        for response in (
            bob.head(mine.url, headers=TUS),
            bob.delete(mine.url, headers=TUS),
            bob.patch(
                mine.url,
                content=data[512 * 1024 :],
                headers={
                    **TUS,
                    "Upload-Offset": str(512 * 1024),
                    "Content-Type": "application/offset+octet-stream",
                },
            ),
        ):
            assert response.status_code == 404, response.text
    mine.upload()  # still the owner's to finish
    assert download(service, file_of(service, mine.url)["id"]) == data


def test_limits_and_types_are_refused(service: Service) -> None:
    with service.client() as client:
        options = client.options("/api/v1/tus/")
        assert options.headers["Tus-Version"] == "1.0.0"
        assert "checksum" in options.headers["Tus-Extension"]
        assert options.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"
        too_big = client.post(
            "/api/v1/tus/",
            headers={
                **TUS,
                "Upload-Length": str((MAX_FILE_MB + 1) * MiB),
                "Upload-Metadata": "filename " + base64.b64encode(b"big.png").decode(),
            },
        )
        assert (too_big.status_code, too_big.json()["error"]) == (413, "file_too_large")
        exe = client.post(
            "/api/v1/tus/",
            headers={
                **TUS,
                "Upload-Length": "10",
                "Upload-Metadata": "filename " + base64.b64encode(b"run.exe").decode(),
            },
        )
        assert exe.status_code in (400, 415), exe.text
        no_version = client.post("/api/v1/tus/", headers={"Upload-Length": "10"})
        assert no_version.status_code == 412
    disguised = b"\x7fELF\x02\x01\x01" + bytes(4096)  # an executable named .png
    uploader = tus(service).uploader(
        file_stream=io.BytesIO(disguised), metadata={"filename": "cat.png"}
    )
    with pytest.raises(TusCommunicationError) as refused:
        uploader.upload()
    assert refused.value.status_code == 415
    with service.client() as client:
        assert client.head(uploader.url, headers=TUS).status_code == 410
        upload_id = uploader.url.rstrip("/").rsplit("/", 1)[1]
        status = client.get(f"/api/v1/uploads/{upload_id}").json()
    assert (status["status"], status["reason"].split(":")[0]) == (
        "rejected",
        "unsupported_file_type",
    )
    assert not service.library().exists(status["key"])  # nothing was stored


def test_creation_with_upload_checksum_mismatch_and_termination(service: Service) -> None:
    data = content(300 * 1024)
    first = data[: 100 * 1024]
    with service.client() as client:
        created = client.post(
            "/api/v1/tus/",
            content=first,
            headers={
                **TUS,
                "Upload-Length": str(len(data)),
                "Content-Type": "application/offset+octet-stream",
                "Upload-Metadata": "filename " + base64.b64encode(b"x.png").decode(),
            },
        )
        assert created.status_code == 201, created.text
        assert created.headers["Upload-Offset"] == str(len(first))
        url = created.headers["Location"]
        rest = data[len(first) :]
        wrong = client.patch(
            url,
            content=rest,
            headers={
                **TUS,
                "Upload-Offset": str(len(first)),
                "Content-Type": "application/offset+octet-stream",
                "Upload-Checksum": "sha256 " + base64.b64encode(bytes(32)).decode(),
            },
        )
        assert (wrong.status_code, wrong.json()["error"]) == (460, "checksum_mismatch")
        assert client.head(url, headers=TUS).headers["Upload-Offset"] == str(len(first))
        stale = client.patch(
            url,
            content=rest,
            headers={
                **TUS,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert stale.status_code == 409
        ended = client.delete(url, headers=TUS)
        assert ended.status_code == 204
        assert client.head(url, headers=TUS).status_code in (404, 410)
        gone = client.patch(
            url,
            content=rest,
            headers={
                **TUS,
                "Upload-Offset": str(len(first)),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert gone.status_code == 410


def test_abandoned_upload_expires_and_cleanup_removes_it(service: Service) -> None:
    data = content(9 * MiB)
    uploader = tus(service).uploader(
        file_stream=io.BytesIO(data), chunk_size=6 * MiB, metadata={"filename": "left.png"}
    )
    uploader.upload_chunk()
    upload_id = uuid.UUID(uploader.url.rsplit("/", 1)[1])
    past = utcnow() - timedelta(days=2)
    rows = service.db_rows(
        f"select staging_key, multipart_id from uploads where id = '{upload_id.hex}'"
    )
    staging_key, multipart_id = rows[0]
    files = FileStore.from_settings(service.settings)
    assert staging_key is not None and files.exists(staging_key)  # pending chunk or partial file

    async def expire(session: object) -> None:
        from sqlalchemy import text

        await session.execute(  # type: ignore[attr-defined]
            text("update uploads set expires_at = :past where id = :id"),
            {"past": past, "id": upload_id.hex},
        )

    service.run(expire)
    with service.client() as client:
        late = client.patch(
            uploader.url,
            content=data[6 * MiB :],
            headers={
                **TUS,
                "Upload-Offset": str(6 * MiB),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert late.status_code == 410

    async def run() -> object:
        engine = create_engine(service.settings.database())
        store = AsyncFileStore(FileStore.from_settings(service.settings))
        try:
            return await cleanup(
                engine, session_factory(engine), store, fix=True, grace=timedelta(0)
            )
        finally:
            await store.aclose()
            await engine.dispose()

    report = run_async(run())
    assert str(upload_id) in report.closed_tus_uploads  # type: ignore[attr-defined]
    assert not files.exists(staging_key)
    if multipart_id:
        assert all(u.upload_id != multipart_id for u in files.list_multipart_uploads())
    assert service.db_rows(f"select count(*) from tus_uploads where id = '{upload_id.hex}'") == [
        (0,)
    ]
    status = service.db_rows(f"select status from uploads where id = '{upload_id.hex}'")
    assert status == [("expired",)]


def test_a_dropped_patch_keeps_the_bytes_up_to_the_last_part(service: Service) -> None:
    data = content(12 * MiB)
    with service.client() as client:
        created = client.post(
            "/api/v1/tus/",
            headers={
                **TUS,
                "Upload-Length": str(len(data)),
                "Upload-Metadata": "filename " + base64.b64encode(b"drop.png").decode(),
            },
        )
        url = service.url + created.headers["Location"]  # relative, as tus allows

        def body() -> Iterator[bytes]:
            for start in range(0, 10 * MiB, MiB):
                yield data[start : start + MiB]
            raise ConnectionAbortedError("the client went away")

        with pytest.raises(ConnectionAbortedError):
            client.patch(
                url,
                content=body(),
                headers={
                    **TUS,
                    "Upload-Offset": "0",
                    "Content-Type": "application/offset+octet-stream",
                },
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the service notices the drop, lets go of the lease
            head = client.head(url, headers=TUS)
            if (
                client.patch(
                    url,
                    headers={
                        **TUS,
                        "Upload-Offset": head.headers["Upload-Offset"],
                        "Content-Type": "application/offset+octet-stream",
                    },
                ).status_code
                != 423
            ):
                break
            time.sleep(0.1)
        kept = int(client.head(url, headers=TUS).headers["Upload-Offset"])
    # S3: the one full 8 MiB part; local disk: what was synced (every 8 MiB or more)
    assert 8 * MiB <= kept < 10 * MiB, kept
    resumed = tus(service).uploader(file_stream=io.BytesIO(data), chunk_size=4 * MiB, url=url)
    assert resumed.offset == kept
    resumed.upload()
    assert download(service, file_of(service, url)["id"]) == data
