"""Upload tokens and the Companion routes' authority, in the request shapes Uppy's S3
plugin sends: expiry, revocation, scope (files, folder, types sniffed at completion), the
echoed key checked, another owner's upload out of reach, secrets stored hashed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from s3files import FileStore
from s3files.server.auth import Authenticator
from s3files.server.db.session import create_engine, session_factory
from s3files.server.metrics import Metrics
from s3files.server.protocols.companion.sweeper import sweep_once
from s3files.server.state import AppState
from s3files.store import AsyncFileStore
from tests import samples
from tests.protocols.conftest import content
from tests.server.conftest import Service, run_async


def mint(service: Service, who: str = "alice", **scope: Any) -> dict[str, Any]:
    with service.client(who) as client:
        response = client.post("/api/v1/companion/tokens", json=scope)
    assert response.status_code == 201, response.text
    minted: dict[str, Any] = response.json()
    return minted


def params(endpoint: str, name: str = "a.png", kind: str = "image/png") -> httpx.Response:
    return httpx.get(f"{endpoint}/s3/params", params={"filename": name, "type": kind})


def post_form(signed: dict[str, Any], data: bytes, name: str = "a.png") -> httpx.Response:
    kind = signed["fields"].get("Content-Type", "application/octet-stream")
    return httpx.post(signed["url"], data=signed["fields"], files={"file": (name, data, kind)})


def test_expired_and_revoked_tokens_are_refused(service: Service) -> None:
    short = mint(service, expires_in=1)
    assert params(short["companion_endpoint"]).status_code == 200
    time.sleep(1.2)
    expired = params(short["companion_endpoint"])
    assert (expired.status_code, expired.json()["error"]) == (401, "invalid_upload_token")

    revoked = mint(service)
    with service.client("bob") as bob:
        assert bob.delete(f"/api/v1/companion/tokens/{revoked['id']}").status_code == 404
    with service.client() as alice:
        assert alice.delete(f"/api/v1/companion/tokens/{revoked['id']}").status_code == 204
    assert params(revoked["companion_endpoint"]).status_code == 401
    assert params(revoked["companion_endpoint"].replace("s3fu_", "s3fu_x")).status_code == 401
    with service.client(None) as anonymous:  # a token is no API key
        as_key = anonymous.get(
            "/api/v1/files", headers={"Authorization": f"Bearer {revoked['token']}"}
        )
        assert as_key.status_code == 401
        assert anonymous.post("/api/v1/companion/tokens", json={}).status_code == 401


def test_secrets_are_stored_hashed(service: Service) -> None:
    minted = mint(service)
    rows = service.db_rows(
        f"select * from upload_tokens where id = '{minted['id'].replace('-', '')}'"
    )
    assert len(rows) == 1
    assert all(minted["token"] not in str(value) for value in rows[0])


def test_scope_files_folder_and_types(service: Service) -> None:
    one = mint(service, max_files=1, folder="scoped", allowed_types=["image/*"])
    refused_type = params(one["companion_endpoint"], "a.txt", "text/plain")
    assert refused_type.status_code == 415
    signed = params(one["companion_endpoint"])
    assert signed.status_code == 200, signed.text
    assert params(one["companion_endpoint"]).json()["error"] == "upload_token_exhausted"
    # claimed image/png, really text: stored by the form, refused when verified
    assert post_form(signed.json(), b"just some text " * 100).status_code in (200, 201, 204)
    key = signed.json()["fields"]["key"]
    done = httpx.post(f"{one['companion_endpoint']}/complete", json={"key": key})
    assert done.status_code in (415, 422), done.text
    with service.client() as client:
        assert client.get("/api/v1/files", params={"folder": "scoped"}).json()["items"] == []

    images = mint(service, folder="scoped", allowed_types=["image/*"])
    signed = params(images["companion_endpoint"]).json()
    assert post_form(signed, samples.png()).status_code in (200, 201, 204)
    done = httpx.post(
        f"{images['companion_endpoint']}/complete", json={"key": signed["fields"]["key"]}
    )
    assert done.status_code == 200, done.text
    assert (done.json()["folder"], done.json()["content_type"]) == ("scoped", "image/png")


def test_a_tokens_folder_keeps_its_name(service: Service) -> None:
    minted = mint(service, folder="Holiday 🌴/שמש")
    signed = params(minted["companion_endpoint"]).json()
    assert post_form(signed, samples.png()).status_code in (200, 201, 204)
    done = httpx.post(
        f"{minted['companion_endpoint']}/complete", json={"key": signed["fields"]["key"]}
    )
    assert done.status_code == 200, done.text
    assert done.json()["folder"] == "Holiday 🌴/שמש"


def test_another_owner_cannot_resume_complete_or_abort(service: Service) -> None:
    alice = mint(service)["companion_endpoint"]
    bob = mint(service, "bob")["companion_endpoint"]
    created = httpx.post(
        f"{alice}/s3/multipart",
        json={"filename": "big.png", "type": "image/png", "metadata": {"name": "big.png"}},
    )
    assert created.status_code == 200, created.text
    upload_id, key = created.json()["uploadId"], created.json()["key"]
    assert "big" in key and key != "big.png"  # the server's key, the name only a hint
    part = httpx.get(f"{alice}/s3/multipart/{upload_id}/1", params={"key": key})
    assert part.status_code == 200
    assert httpx.put(part.json()["url"], content=content(64 * 1024)).status_code == 200
    query = {"key": key}
    for attempt in (
        httpx.get(f"{bob}/s3/multipart/{upload_id}", params=query),
        httpx.get(f"{bob}/s3/multipart/{upload_id}/2", params=query),
        httpx.get(f"{bob}/s3/multipart/{upload_id}/batch", params={**query, "partNumbers": "2"}),
        httpx.post(f"{bob}/s3/multipart/{upload_id}/complete", params=query, json={"parts": []}),
        httpx.delete(f"{bob}/s3/multipart/{upload_id}", params=query),
        # the owner's own token with a key that is not the upload's
        httpx.get(f"{alice}/s3/multipart/{upload_id}", params={"key": "other/key.png"}),
    ):
        assert attempt.status_code == 404, attempt.text
    parts = httpx.get(f"{alice}/s3/multipart/{upload_id}", params=query).json()
    assert [p["PartNumber"] for p in parts] == [1]
    batch = httpx.get(
        f"{alice}/s3/multipart/{upload_id}/batch", params={**query, "partNumbers": "2,3"}
    )
    assert sorted(batch.json()["presignedUrls"]) == ["2", "3"]
    done = httpx.post(
        f"{alice}/s3/multipart/{upload_id}/complete",
        params=query,
        json={"parts": [{"PartNumber": 1, "ETag": parts[0]["ETag"]}]},
    )
    assert done.status_code == 200, done.text
    assert done.json()["key"] == key
    with service.client() as client:
        got = client.get(f"/api/v1/files/{done.json()['file_id']}/download")
        assert len(got.content) == 64 * 1024
    cancelled = httpx.post(f"{alice}/s3/multipart", json={"filename": "x.png", "type": "image/png"})
    ident, other_key = cancelled.json()["uploadId"], cancelled.json()["key"]
    assert (
        httpx.delete(f"{alice}/s3/multipart/{ident}", params={"key": other_key}).status_code == 200
    )
    status = service.db_rows(f"select status from uploads where id = '{ident.replace('-', '')}'")
    assert status == [("aborted",)]


def test_sweepers_on_several_replicas_record_each_small_file_once(service: Service) -> None:
    """Three more sweepers (another "replica" on the same database and store) race the
    service's own: every form upload becomes exactly one file, none is rejected."""
    minted = mint(service, folder="raced")
    for index in range(5):
        signed = params(minted["companion_endpoint"], f"r{index}.png").json()
        assert post_form(signed, samples.png()).status_code in (200, 201, 204)

    async def replica() -> list[int]:
        engine = create_engine(service.settings.database())
        files = AsyncFileStore(FileStore.from_settings(service.settings))
        state = AppState(
            settings=service.settings,
            engine=engine,
            sessions=session_factory(engine),
            files=files,
            authenticator=Authenticator(service.settings),
            metrics=Metrics(),
        )
        try:
            return list(await asyncio.gather(*(sweep_once(state) for _ in range(3))))
        finally:
            await files.aclose()
            await state.reads.aclose()
            await engine.dispose()

    completed = run_async(replica())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = service.db_rows(
            "select status, count(*) from uploads where original_filename like 'r_.png'"
            " group by status"
        )
        if rows == [("complete", 5)]:
            break
        time.sleep(0.2)
    assert rows == [("complete", 5)], (rows, completed)
    assert sum(completed) <= 5  # what these sweepers completed; the service's did the rest
    with service.client() as client:
        items = client.get("/api/v1/files", params={"folder": "raced"}).json()["items"]
    assert sorted(item["original_filename"] for item in items) == [f"r{i}.png" for i in range(5)]
