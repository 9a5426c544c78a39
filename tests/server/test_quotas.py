"""Usage and quotas: admins set them through the API, a default applies to everyone else,
over quota nothing is stored (uploads, copies, direct uploads when signed and when
completed), the trash counts until emptied, and 50 concurrent uploads never take an owner
past the quota, on SQLite and on PostgreSQL."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from s3files.server.limits import ServiceLimits
from tests import samples
from tests.server._environment import process_environment
from tests.server.conftest import Service, make_service

FILES = "/api/v1/files"
CONTENT = b"quota test line\n" * 64  # 1,024 bytes


def upload(client: httpx.Client, name: str = "a.txt") -> httpx.Response:
    return client.post(f"{FILES}/upload", files={"file": (name, CONTENT)})


def refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "quota_exceeded"


def store_keys(service: Service) -> set[str]:
    return {info.key for info in service.library().iter_objects()}


def test_usage_quotas_trash_and_copies(service: Service) -> None:
    with service.client() as alice, service.client("root") as root, service.client("bob") as bob:
        usage = alice.get("/api/v1/usage").json()
        assert usage == {
            "owner": "alice", "files": 0, "bytes": 0, "trash_files": 0, "trash_bytes": 0,
            "quota": {"max_bytes": None, "max_files": None},
        }  # fmt: skip
        limit = {"max_bytes": 3 * len(CONTENT), "max_files": 10}
        assert bob.put("/api/v1/quotas/alice", json=limit).status_code == 403
        set_ = root.put("/api/v1/quotas/alice", json=limit)
        assert set_.status_code == 200 and set_.json()["quota"] == limit

        first = upload(alice).json()
        second = upload(alice).json()
        assert alice.delete(f"{FILES}/{second['id']}").status_code == 204  # trash still counts
        upload(alice)
        keys = store_keys(service)
        refused(upload(alice))
        refused(alice.post(f"{FILES}/{first['id']}/copy", json={"new_folder": "c"}))
        assert store_keys(service) == keys
        assert service.db_rows("select count(*) from files")[0][0] == 3
        usage = alice.get("/api/v1/usage").json()
        assert (usage["files"], usage["bytes"]) == (2, 2 * len(CONTENT))
        assert (usage["trash_files"], usage["trash_bytes"]) == (1, len(CONTENT))
        assert upload(bob).status_code == 201  # bob has no quota

        emptied = alice.delete("/api/v1/trash")
        assert emptied.status_code == 200 and emptied.json() == {"files": 1}
        assert second["s3_key"] not in store_keys(service)
        assert alice.get(f"{FILES}", params={"deleted": True}).json()["items"] == []
        assert upload(alice).status_code == 201  # room again
        assert root.get("/api/v1/quotas/alice").json()["files"] == 3


@pytest.fixture(params=["sqlite", "postgres"])
def race_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    limits = ServiceLimits(max_transfers=128, max_transfers_per_owner=128)
    yield from make_service(tmp_path, request, "local", request.param, limits=limits)


def test_fifty_concurrent_uploads_stay_within_the_quota(race_service: Service) -> None:
    service = race_service
    allowed = 7
    with service.client("root") as root:
        quota = {"max_bytes": allowed * len(CONTENT) + len(CONTENT) // 2, "max_files": None}
        assert root.put("/api/v1/quotas/alice", json=quota).status_code == 200

    def one(index: int) -> int:
        with service.client() as client:
            return upload(client, f"race-{index}.txt").status_code

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(one, range(50)))
    assert statuses.count(201) == allowed, statuses
    assert set(statuses) <= {201, 403}, statuses
    rows = service.db_rows("select count(*), sum(size) from files where status = 'active'")
    assert tuple(rows[0]) == (allowed, allowed * len(CONTENT))
    assert len(store_keys(service)) == allowed


def test_the_cli_bulk_upload_counts_against_the_quota(
    race_service: Service, tmp_path: Path
) -> None:
    """``s3files upload`` of a folder goes through the service's quota: checked before the
    bytes move and, binding, in the transaction that activates the batch; what does not
    fit is refused with ``quota_exceeded`` and leaves no object."""
    service = race_service
    with service.client("root") as root:
        quota = {"max_bytes": None, "max_files": 3}
        assert root.put("/api/v1/quotas/alice", json=quota).status_code == 200
    folder = tmp_path / "bulk"
    folder.mkdir()
    for index in range(5):
        (folder / f"{index}.txt").write_bytes(CONTENT)

    def cli_upload() -> list[dict[str, Any]]:
        done = subprocess.run(
            [sys.executable, "-m", "s3files.cli", "upload", str(folder), "--owner", "alice",
             "--jobs", "5", "--json"],
            env=process_environment(service.settings), capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        return list(json.loads(done.stdout))

    first = cli_upload()
    assert len([r for r in first if "error" not in r]) == 3
    assert [r["error"].split(":")[0] for r in first if "error" in r] == ["quota_exceeded"] * 2
    rows = service.db_rows("select status, count(*) from files group by status")
    assert [tuple(row) for row in rows] == [("active", 3)]
    assert len(store_keys(service)) == 3
    again = cli_upload()  # full: refused before any byte moves
    assert [r["error"].split(":")[0] for r in again] == ["quota_exceeded"] * 5
    assert len(store_keys(service)) == 3
    assert service.db_rows("select count(*) from files")[0][0] == 3


@pytest.fixture
def defaulted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    yield from make_service(
        tmp_path, request, "local", "sqlite", default_quota_bytes=None, default_quota_files=1
    )


def test_the_default_quota_and_direct_uploads(defaulted: Service) -> None:
    """A default of one file: the second direct upload is refused when signed; one signed
    while there was room is refused when completed, and its object removed."""
    with defaulted.client() as client:
        usage = client.get("/api/v1/usage").json()
        assert usage["quota"] == {"max_bytes": None, "max_files": 1}
        body: dict[str, Any] = {"original_filename": "photo.png", "content_type": "image/png"}
        signed = client.post("/api/v1/uploads", json=body)
        assert signed.status_code == 201, signed.text
        form = signed.json()
        assert client.post(f"{FILES}/upload", files={"file": ("a.txt", CONTENT)}).status_code == 201
        refused(client.post("/api/v1/uploads", json=body))  # full: refused when signed
        sent = httpx.post(
            form["form_url"], data=form["form_fields"], files={"file": ("photo.png", samples.png())}
        )
        assert sent.status_code in (200, 201, 204), sent.text
        refused(client.post(f"/api/v1/uploads/{form['upload_id']}/complete"))
        assert client.get(f"/api/v1/uploads/{form['upload_id']}").json()["status"] == "rejected"
        assert len(store_keys(defaulted)) == 1
        assert defaulted.db_rows("select count(*) from files")[0][0] == 1
