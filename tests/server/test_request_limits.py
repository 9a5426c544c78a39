"""Limits before authentication, refused metadata, bad forms and cursors, saturation: each
case answered with a 4xx/503 and a stable code, and nothing stored by a refused request."""

from __future__ import annotations

import base64
import json
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from s3files.server.files.service import MAX_METADATA_DEPTH
from s3files.server.keys.service import create_key
from s3files.server.limits import ServiceLimits
from tests import samples
from tests.server.conftest import Service, make_service


@pytest.fixture
def local_sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    yield from make_service(tmp_path, request, "local", "sqlite")


def _host_port(service: Service) -> tuple[str, int]:
    host, port = service.url.removeprefix("http://").split(":")
    return host, int(port)


def raw_exchange(service: Service, head: bytes, body: bytes = b"", *, wait: float = 5.0) -> bytes:
    """Send ``head`` and ``body`` on a socket (the body may be incomplete on purpose) and
    return what the server answers within ``wait`` seconds (until it closes or pauses)."""
    with socket.create_connection(_host_port(service), timeout=wait) as sock:
        sock.sendall(head + body)
        answer = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer:
                headers, _, rest = answer.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in headers.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    None,
                )
                if length is not None and len(rest) >= length:
                    break
        return answer


def status_and_json(answer: bytes) -> tuple[int, dict[str, Any]]:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    status = int(answer.split(b" ", 2)[1])
    body = answer.partition(b"\r\n\r\n")[2]
    return status, json.loads(body) if body else {}


def records(service: Service) -> list[Any]:
    return service.db_rows("select original_filename, status from files")


# Limits before authentication ---------------------------------------------------------


def test_large_json_body_refused_before_auth(local_sqlite: Service) -> None:
    """An anonymous PATCH with a 100 MiB JSON body: 413 at once, the body never read."""
    path = f"/api/v1/files/{uuid.uuid4()}"
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    status, body = status_and_json(raw_exchange(local_sqlite, head, b'{"description": "'))
    assert (status, body["error"]) == (413, "body_too_large")
    assert time.monotonic() - started < 3

    # no Content-Length (chunked): counted as it arrives, cut off at the limit, before the
    # body ends (the final chunk is never sent)
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"x" * 65536
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(24))  # 1.5 MiB
    status, body = status_and_json(raw_exchange(local_sqlite, head, chunked))
    assert (status, body["error"]) == (413, "body_too_large")

    # small bodies still reach the app: 401 without credentials, 404 with
    assert httpx.patch(f"{local_sqlite.url}{path}", json={}).status_code == 401
    with local_sqlite.client() as client:
        assert client.patch(path, json={"description": "x"}).status_code == 404


def test_header_count_and_size_limited(local_sqlite: Service) -> None:
    many = "".join(f"X-Filler-{n}: {n}\r\n" for n in range(200))
    status, body = status_and_json(
        raw_exchange(local_sqlite, f"GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
    )
    assert (status, body["error"]) == (431, "headers_too_large")
    big = "a" * (40 * 1024)
    status, body = status_and_json(
        raw_exchange(
            local_sqlite, f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n".encode()
        )
    )
    assert (status, body["error"]) == (431, "headers_too_large")
    assert (
        httpx.get(f"{local_sqlite.url}/healthz", headers={"X-Small": "a" * 1000}).status_code == 200
    )


def test_slow_json_body_gets_408(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    limits = ServiceLimits(body_grace=0.5, body_read_timeout=1.0, body_min_rate=1000)
    running = make_service(tmp_path, request, "local", "sqlite", limits=limits)
    service = next(running)
    try:
        head = (
            f"PATCH /api/v1/files/{uuid.uuid4()} HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        ).encode()
        started = time.monotonic()
        status, body = status_and_json(raw_exchange(service, head, b"{", wait=10))
        assert (status, body["error"]) == (408, "body_timeout")
        assert time.monotonic() - started < 5
    finally:
        next(running, None)


# Metadata nested too deep ---------------------------------------------------------------


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_too_deep_metadata_refused_everywhere(local_sqlite: Service) -> None:
    deep = nested(256)
    with local_sqlite.client() as client:
        kept = client.post(
            "/api/v1/files/upload",
            files={"file": ("kept.txt", samples.text())},
            data={"metadata": json.dumps(nested(MAX_METADATA_DEPTH))},
        )
        assert kept.status_code == 201, kept.text
        file_id = kept.json()["id"]
        before = records(local_sqlite)

        answers = {
            "form": client.post(
                "/api/v1/files/upload",
                files={"file": ("deep.txt", samples.text())},
                data={"metadata": json.dumps(deep)},
            ),
            "stream": client.post(
                "/api/v1/files/stream",
                params={"filename": "deep.txt", "metadata": json.dumps(deep)},
                content=samples.text(),
            ),
            "patch": client.patch(f"/api/v1/files/{file_id}", json={"metadata": deep}),
            "copy": client.post(f"/api/v1/files/{file_id}/copy", json={"new_metadata": deep}),
            "just-too-deep": client.patch(
                f"/api/v1/files/{file_id}", json={"metadata": nested(MAX_METADATA_DEPTH + 1)}
            ),
        }
        for where, answer in answers.items():
            assert (where, answer.status_code, answer.json()["error"]) == (
                where,
                400,
                "metadata_too_deep",
            )
        assert records(local_sqlite) == before
        assert client.get(f"/api/v1/files/{file_id}").json()["metadata"] == nested(
            MAX_METADATA_DEPTH
        )
        assert client.get("/api/v1/files").status_code == 200
    assert [info.key for info in local_sqlite.library().iter_objects()] == [kept.json()["s3_key"]]


# Smaller defects ---------------------------------------------------------------------------


def test_long_multipart_boundary_is_400(local_sqlite: Service) -> None:
    boundary = "b" * 300
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        f"hello\r\n--{boundary}--\r\n"
    ).encode()
    with local_sqlite.client() as client:
        answer = client.post(
            "/api/v1/files/upload",
            content=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_form")
    assert records(local_sqlite) == []


def test_cursor_out_of_range_is_400(local_sqlite: Service) -> None:
    cursor = base64.urlsafe_b64encode(
        json.dumps(["9999-12-31T23:59:59-23:59", str(uuid.uuid4())]).encode()
    ).decode()
    with local_sqlite.client() as client:
        answer = client.get("/api/v1/files", params={"cursor": cursor})
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_cursor")


def test_duplicate_form_fields_refused(local_sqlite: Service) -> None:
    with local_sqlite.client() as client:
        answer = client.post(
            "/api/v1/files/upload",
            files=[
                ("folder", (None, b"one")),
                ("folder", (None, b"two")),
                ("file", ("a.txt", samples.text())),
            ],
        )
        assert (answer.status_code, answer.json()["error"]) == (400, "duplicate_field")
        after = client.post(
            "/api/v1/files/upload",
            files=[("file", ("a.txt", samples.text())), ("folder", (None, b"one"))],
            data={},
        )
        assert after.status_code == 201
        late_twice = client.post(
            "/api/v1/files/upload",
            files=[
                ("file", ("b.txt", samples.text())),
                ("description", (None, b"one")),
                ("description", (None, b"two")),
            ],
        )
        assert (late_twice.status_code, late_twice.json()["error"]) == (400, "duplicate_field")
    assert records(local_sqlite) == [("a.txt", "active")]


def _form_head(service: Service, boundary: str, length: int) -> bytes:
    return (
        f"POST /api/v1/files/upload HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {service.keys['alice']}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("is_public", "maybe", "invalid_field"),
        ("metadata", "[1, 2]", "invalid_field"),
        ("colour", "blue", "invalid_field"),
    ],
)
def test_fields_before_the_file_checked_before_any_byte(
    local_sqlite: Service, field: str, value: str, error: str
) -> None:
    """The file part never ends: the answer can only come from checking the early field."""
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n{value}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode() + b"hello " * 2000
    answer = raw_exchange(local_sqlite, _form_head(local_sqlite, boundary, 10**8), body)
    status, payload = status_and_json(answer)
    assert (status, payload["error"]) == (400, error)
    assert records(local_sqlite) == []
    assert list(local_sqlite.library().iter_objects()) == []


def test_stream_query_checked_before_any_byte(local_sqlite: Service) -> None:
    key = local_sqlite.keys["alice"]
    for query, error in (
        ("filename=a.txt&metadata=%5B1%5D", "invalid_field"),
        ("filename=a.txt&metadata=" + quote(json.dumps(nested(300))), "metadata_too_deep"),
        ("filename=a.exe", "unsupported_file_type"),
    ):
        head = (
            f"POST /api/v1/files/stream?{query} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {key}\r\nContent-Length: {10**8}\r\n\r\n"
        ).encode()
        status, payload = status_and_json(raw_exchange(local_sqlite, head, b"hello " * 2000))
        assert (query, status, payload["error"]) == (
            query,
            400 if "exe" not in query else 415,
            error,
        )
    assert records(local_sqlite) == []
    assert list(local_sqlite.library().iter_objects()) == []


# SQLite: a key unused for a while must not lock the database ------------------------------


def test_copy_with_a_key_unused_for_minutes_answers_quickly(local_sqlite: Service) -> None:
    with local_sqlite.client() as client:
        source = client.post("/api/v1/files/upload", files={"file": ("a.txt", samples.text())})
        assert source.status_code == 201
    secret = local_sqlite.run(lambda session: _new_key(session, "alice"))
    local_sqlite.run(_age_keys)
    started = time.monotonic()
    with httpx.Client(
        base_url=local_sqlite.url, headers={"Authorization": f"Bearer {secret}"}, timeout=60
    ) as client:
        copied = client.post(f"/api/v1/files/{source.json()['id']}/copy", json={})
    assert copied.status_code == 201, copied.text
    assert time.monotonic() - started < 5
    touched = local_sqlite.db_rows(
        "select count(*) from api_keys where last_used_at > '2001-01-01 00:00:00'"
    )
    assert touched == [(1,)]  # the key's last use was recorded, in its own short transaction


async def _new_key(session: Any, owner: str) -> str:
    return (await create_key(session, owner=owner)).secret


async def _age_keys(session: Any) -> None:
    from sqlalchemy import text

    await session.execute(
        text("update api_keys set last_used_at = :when"),
        {"when": "2000-01-01 00:00:00"},
    )


# Saturation: 503 with Retry-After, never a 500 ---------------------------------------------


def test_database_pool_timeout_is_503(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    limits = ServiceLimits(db_pool_size=1, db_pool_timeout=0.001)
    running = make_service(tmp_path, request, "local", "postgres", limits=limits)
    service = next(running)
    try:
        with service.client() as client:
            assert (
                client.post(
                    "/api/v1/files/upload", files={"file": ("a.txt", samples.text())}
                ).status_code
                == 201
            )

        def listing(_: int) -> httpx.Response:
            with service.client() as client:
                return client.get("/api/v1/files")

        with ThreadPoolExecutor(40) as pool:
            answers = list(pool.map(listing, range(200)))
        statuses = sorted({answer.status_code for answer in answers})
        assert statuses == [200, 503], statuses
        for answer in answers:
            if answer.status_code == 503:
                assert answer.json()["error"] == "busy" and answer.headers["Retry-After"]
    finally:
        next(running, None)


def test_revoked_key_refused_within_the_cache_bound(local_sqlite: Service) -> None:
    from s3files.server.auth import KEY_CACHE_SECONDS
    from s3files.server.keys.service import revoke_key

    secret = local_sqlite.run(lambda session: _new_key(session, "carol"))
    headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{local_sqlite.url}/api/v1/files", headers=headers).status_code == 200
    local_sqlite.run(lambda session: revoke_key(session, secret[:12]))
    revoked_at = time.monotonic()
    while httpx.get(f"{local_sqlite.url}/api/v1/files", headers=headers).status_code == 200:
        assert time.monotonic() - revoked_at < KEY_CACHE_SECONDS + 2
        time.sleep(0.2)
    answer = httpx.get(f"{local_sqlite.url}/api/v1/files", headers=headers)
    assert (answer.status_code, answer.json()["error"]) == (401, "unauthorized")
