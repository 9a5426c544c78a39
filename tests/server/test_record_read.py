"""``GET /api/v1/files/{id}`` answered by the shortcut (server/files/record_read.py) says
exactly what the FastAPI route says, on SQLite and on PostgreSQL: the same bytes and
headers for a 200, the route's own answers for everything else."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from s3files.server.auth import KEY_CACHE_SECONDS
from s3files.server.keys.service import create_key, revoke_key
from tests.server.conftest import Service, make_service

METADATA = {"tags": ["a", "ü"], "nested": {"n": 1, "x": 1.5, "t": True, "z": None}, "e": ""}


@pytest.fixture(params=["sqlite", "postgres"], scope="module")
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    yield from make_service(tmp_path_factory.mktemp("svc"), request, "local", request.param)


def _upload(client: httpx.Client, name: str) -> str:
    response = client.post(
        "/api/v1/files/upload",
        files={"file": (name, b"some text\n", "text/plain")},
        data={"folder": "docs/ä", "description": 'déjà vu\t"q"', "metadata": json.dumps(METADATA)},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _same(shortcut: httpx.Response, route: httpx.Response) -> None:
    assert shortcut.status_code == route.status_code
    assert shortcut.content == route.content
    for name in ("content-type", "content-length", "www-authenticate", "retry-after"):
        assert shortcut.headers.get(name) == route.headers.get(name), name


def test_the_record_is_the_routes_byte_for_byte(service: Service) -> None:
    with service.client("alice") as alice:
        file_id = _upload(alice, "Zoë's report — final.txt")
        # /metadata is the same record through FastAPI's route, serializer and response
        for spelling in (file_id, file_id.upper(), file_id.replace("-", "")):
            answer = alice.get(f"/api/v1/files/{spelling}")
            assert answer.status_code == 200, answer.text
            _same(answer, alice.get(f"/api/v1/files/{spelling}/metadata"))
        body = alice.get(f"/api/v1/files/{file_id}").json()
        assert body["id"] == file_id and body["metadata"] == METADATA
        assert body["original_filename"] == "Zoë's report — final.txt"


def test_every_other_answer_is_the_routes(service: Service) -> None:
    with service.client("alice") as alice:
        file_id = _upload(alice, "private.txt")
        trashed = _upload(alice, "trashed.txt")
        assert alice.delete(f"/api/v1/files/{trashed}").status_code in (200, 204)
    cases = {
        "owner": {"Authorization": f"Bearer {service.keys['alice']}"},
        "admin": {"Authorization": f"Bearer {service.keys['root']}"},
        "other owner": {"Authorization": f"Bearer {service.keys['bob']}"},
        "revoked": {"Authorization": f"Bearer {service.keys['gone']}"},
        "wrong key": {"Authorization": "Bearer s3f_not-a-key"},
        "not bearer": {"Authorization": f"Basic {service.keys['alice']}"},
        "empty bearer": {"Authorization": "Bearer"},
        "anonymous": {},
    }
    expected = {"owner": 200, "admin": 200, "other owner": 404}
    for target in (file_id, trashed, str(uuid.uuid4())):
        for who, headers in cases.items():
            shortcut = httpx.get(f"{service.url}/api/v1/files/{target}", headers=headers)
            route = httpx.get(f"{service.url}/api/v1/files/{target}/metadata", headers=headers)
            _same(shortcut, route)
            if target == file_id:
                assert shortcut.status_code == expected.get(who, 401), (who, shortcut.text)
            elif who in ("owner", "admin", "other owner"):
                assert shortcut.status_code == 404, (who, shortcut.text)
    # not a GET, not this path: the routes answer as they always did
    assert httpx.head(f"{service.url}/api/v1/files/{file_id}").status_code == 405
    listing = httpx.get(f"{service.url}/api/v1/files/{file_id}/", headers=cases["owner"])
    assert listing.status_code in (200, 307, 404)


def test_metrics_label_the_route_and_revocation_holds(service: Service) -> None:
    secret = service.run(lambda session: _new_key(session, "dave"))
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=service.url, headers=headers) as dave:
        file_id = _upload(dave, "dave.txt")
        for _ in range(3):
            assert dave.get(f"/api/v1/files/{file_id}").status_code == 200
        metrics = httpx.get(f"{service.url}/metrics").text
        assert 'route="/api/v1/files/{file_id}",status="200"' in metrics
        service.run(lambda session: revoke_key(session, secret[:12]))
        revoked_at = time.monotonic()
        while dave.get(f"/api/v1/files/{file_id}").status_code == 200:
            assert time.monotonic() - revoked_at < KEY_CACHE_SECONDS + 2
            time.sleep(0.2)
        answer = dave.get(f"/api/v1/files/{file_id}")
        assert (answer.status_code, answer.json()["error"]) == (401, "unauthorized")


async def _new_key(session: object, owner: str) -> str:
    return (await create_key(session, owner=owner)).secret  # type: ignore[arg-type]
