"""``Idempotency-Key`` on the upload routes: the first request stores, a retry with the same
key and owner gets the same record without storing again, a retry while the first is in
flight gets 409 with Retry-After, and a claim left by a dead process is taken over once its
lease runs out."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory

from s3files.server.db.migrate import HEAD_REVISION, alembic_config, current_revision, upgrade
from s3files.server.db.models import FileRecord, FileStatus, utcnow
from s3files.server.db.session import create_engine
from s3files.server.limits import ServiceLimits
from tests import samples
from tests.server.conftest import Service, make_service, run_async

LEASE = 2.0
IDEMPOTENCY_REVISION = "0004"  # the migration that adds files.idempotency_key


@pytest.fixture(
    params=[("local", "sqlite"), ("s3", "postgres")], ids=["local-sqlite", "s3-postgres"]
)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    store, database = request.param
    yield from make_service(
        tmp_path, request, store, database, limits=ServiceLimits(idempotency_lease=LEASE)
    )


def upload(
    client: httpx.Client,
    route: str,
    key: str | bytes | None,
    content: bytes,
    name: str = "a.txt",
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    if route == "upload":
        return client.post("/api/v1/files/upload", files={"file": (name, content)}, headers=headers)
    return client.post(
        "/api/v1/files/stream", params={"filename": name}, content=content, headers=headers
    )


def records_with(service: Service, key: str) -> list[Any]:
    return service.db_rows(f"select id, owner, status from files where idempotency_key = '{key}'")


def object_keys(service: Service) -> list[str]:
    return [info.key for info in service.library().iter_objects()]


@pytest.mark.parametrize("route", ["upload", "stream"])
def test_a_retry_with_the_same_key_returns_the_first_record_and_stores_nothing(
    service: Service, route: str
) -> None:
    key = str(uuid.uuid4())
    with service.client() as alice, service.client("bob") as bob:
        first = upload(alice, route, key, samples.text())
        assert first.status_code == 201, first.text
        assert "idempotent-replayed" not in first.headers
        stored = object_keys(service)
        again = upload(alice, route, key, samples.text())
        assert again.status_code == 200, again.text
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert object_keys(service) == stored, "nothing stored again"
        assert len(records_with(service, key)) == 1
        # the key is per owner: bob's upload with it is his own
        theirs = upload(bob, route, key, samples.text())
        assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
        # another file under a used key is refused, and stores nothing
        other = upload(alice, route, key, samples.text(), name="other.txt")
        assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
        # without a key every request stores
        plain = [upload(alice, route, None, samples.text()).json()["id"] for _ in range(2)]
        assert len(set(plain)) == 2
        assert len(object_keys(service)) == len(stored) + 3
        # a deleted file's key stays used
        assert alice.delete(f"/api/v1/files/{first.json()['id']}").status_code == 204
        gone = upload(alice, route, key, samples.text())
        assert gone.status_code == 422 and gone.json()["error"] == "idempotency_key_reused"


def test_a_retry_while_the_first_is_in_flight_gets_409_with_retry_after(
    service: Service,
) -> None:
    key = str(uuid.uuid4())
    release = threading.Event()
    results: list[httpx.Response] = []
    # more than the lease: the request in flight must renew it to keep the key
    held_for = LEASE * 2.5

    def slow_body() -> Iterator[bytes]:
        yield b"first line\n"
        release.wait(held_for + 10)
        yield b"last line\n"

    def first() -> None:
        with service.client() as client:
            results.append(
                client.post(
                    "/api/v1/files/stream",
                    params={"filename": "slow.txt"},
                    content=slow_body(),
                    headers={"Idempotency-Key": key},
                )
            )

    sender = threading.Thread(target=first)
    sender.start()
    try:
        deadline = time.monotonic() + 10
        while not records_with(service, key) and time.monotonic() < deadline:
            time.sleep(0.05)
        with service.client() as client:
            started = time.monotonic()
            while time.monotonic() - started < held_for:
                busy = upload(client, "stream", key, b"first line\nlast line\n", name="slow.txt")
                assert busy.status_code == 409, busy.text
                assert busy.json()["error"] == "idempotency_in_progress"
                assert 1 <= int(busy.headers["retry-after"]) <= LEASE + 1
                time.sleep(0.5)
        release.set()
        sender.join(30)
        assert results and results[0].status_code == 201, results
        with service.client() as client:
            replay = upload(client, "stream", key, b"first line\nlast line\n", name="slow.txt")
        assert replay.status_code == 200 and replay.json()["id"] == results[0].json()["id"]
        assert [row[2] for row in records_with(service, key)] == [FileStatus.ACTIVE]
    finally:
        release.set()
        sender.join(30)


def test_a_claim_whose_lease_ran_out_is_taken_over_by_the_retry(service: Service) -> None:
    """What a replica killed mid-upload leaves: a pending record holding the key (and
    perhaps its object). The retry removes both and stores the file once."""
    key = str(uuid.uuid4())
    leftover = service.library().upload(samples.text(), filename="a.txt", folder="dead")
    abandoned = uuid.uuid4()

    async def stage(session: Any) -> None:
        session.add(
            FileRecord(
                id=abandoned,
                owner="alice",
                key=leftover.key,
                original_filename="a.txt",
                status=FileStatus.PENDING,
                folder="",
                user_metadata={},
                idempotency_key=key,
                updated_at=utcnow() - timedelta(seconds=LEASE + 1),
            )
        )

    service.run(stage)
    with service.client() as client:
        retry = upload(client, "stream", key, samples.text())
        assert retry.status_code == 201, retry.text
        assert retry.json()["id"] != str(abandoned)
        assert upload(client, "stream", key, samples.text()).json()["id"] == retry.json()["id"]
    rows = records_with(service, key)
    assert [(uuid.UUID(str(row[0])), row[2]) for row in rows] == [
        (uuid.UUID(retry.json()["id"]), "active")
    ]
    assert object_keys(service) == [retry.json()["s3_key"]], "the dead upload's object is gone"


def test_a_bad_key_is_refused_before_anything_is_stored(service: Service) -> None:
    with service.client() as client:
        for bad in ("x" * 256, "tab\tinside", "é".encode()):
            response = upload(client, "stream", bad, samples.text())
            assert response.status_code in (400, 422), (bad, response.text)
            assert response.json()["error"] in ("invalid_idempotency_key", "validation_error")
    assert object_keys(service) == []


def test_openapi_documents_the_header_on_both_upload_routes(service: Service) -> None:
    with service.client(None) as client:
        schema = client.get("/openapi.json").json()
    for path in ("/api/v1/files/upload", "/api/v1/files/stream"):
        operation = schema["paths"][path]["post"]
        (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header" and not header.get("required", False)
        assert (
            "409" in header["description"] and "idempotency_in_progress" in (header["description"])
        )
        assert {"200", "201", "409", "422"} <= set(operation["responses"])


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_the_migration_upgrades_a_database_with_files_in_it(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from sqlalchemy import text

    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    else:
        cluster = request.getfixturevalue("postgres")
        url = cluster.create_database(f"m_{uuid.uuid4().hex[:10]}").replace(
            "postgresql://", "postgresql+asyncpg://"
        )
    before = ScriptDirectory.from_config(alembic_config()).get_revision(IDEMPOTENCY_REVISION)
    assert before is not None and isinstance(before.down_revision, str)

    async def check() -> list[Any]:
        engine = create_engine(url)
        try:
            await upgrade(engine, before.down_revision)
            async with engine.begin() as connection:
                for n in range(2):
                    await connection.execute(
                        text(
                            "insert into files (id, owner, key, original_filename, content_type,"
                            " size, folder, is_public, metadata, status, created_at, updated_at)"
                            " values (:id, 'alice', :key, 'a.txt', 'text/plain', 1, '', false,"
                            " '{}', 'active', :now, :now)"
                        ),
                        {"id": uuid.uuid4().hex, "key": f"k{n}", "now": utcnow()},
                    )
            await upgrade(engine)
            assert await current_revision(engine) == HEAD_REVISION
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text("select key, idempotency_key from files order by key")
                )
                return list(rows.all())
        finally:
            await engine.dispose()

    assert run_async(check()) == [("k0", None), ("k1", None)]


@pytest.mark.parametrize("route", ["upload", "stream"])
def test_a_replay_of_a_large_body_is_answered(service: Service, route: str) -> None:
    """The replay stores nothing but reads the body it was sent: a client that writes the
    whole body before reading the answer must get the 200, not a broken connection."""
    key = str(uuid.uuid4())
    content = samples.text(8 * 1024 * 1024)
    with service.client() as client:
        first = upload(client, route, key, content, name="big.txt")
        assert first.status_code == 201, first.text
        for _ in range(2):
            again = upload(client, route, key, content, name="big.txt")
            assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert len(records_with(service, key)) == 1


def test_a_page_on_another_origin_may_send_the_key(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    origin = "https://app.example.com"
    for running in make_service(tmp_path, request, "local", "sqlite", cors_origins={origin}):
        preflight = httpx.options(
            f"{running.url}/api/v1/files/stream",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, idempotency-key",
            },
        )
        assert preflight.status_code == 200, preflight.text
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "idempotency-key" in allowed
        with running.client() as client:
            client.headers["Origin"] = origin
            first = upload(client, "stream", "k-1", samples.text())
            again = upload(client, "stream", "k-1", samples.text())
        exposed = again.headers["access-control-expose-headers"].lower()
        assert first.status_code == 201 and again.status_code == 200
        assert "idempotent-replayed" in exposed and "retry-after" in exposed
