"""Several ``s3files serve`` replicas behind HAProxy on one PostgreSQL and one store:
started together on an empty database, they migrate it once and all become ready; what one
replica signs, another accepts; two cleanups at once lose nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from s3files import FileStore
from s3files.server.db.locks import exclusive
from s3files.server.db.migrate import HEAD_REVISION
from s3files.server.db.session import create_engine
from s3files.server.settings import ServiceSettings
from tests import samples
from tests.harness.haproxy import ReplicatedService, haproxy_config
from tests.server._replicas import cli, cluster_settings, db_rows, new_key, replica_env
from tests.server.conftest import run_async


class Cluster(ReplicatedService):
    """Replicas with the settings they share."""

    def __init__(self, count: int, settings: ServiceSettings, workdir: Path) -> None:
        super().__init__(count, replica_env(settings), workdir)
        self.settings = settings

    def on(self, index: int, key: str) -> httpx.Client:
        """A client of replica ``index`` itself (HAProxy bypassed)."""
        return httpx.Client(
            base_url=self.replicas[index].url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )


def cluster(tmp_path: Path, request: pytest.FixtureRequest, store: str) -> Iterator[Cluster]:
    running = Cluster(3, cluster_settings(tmp_path, request, store), tmp_path / "cluster")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def three(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """Three replicas (not started) on an empty database and the Ceph RGW bucket."""
    yield from cluster(tmp_path, request, "s3")


@pytest.fixture
def three_local(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """Three started replicas sharing one folder as their local store."""
    for running in cluster(tmp_path, request, "local"):
        yield running.start()


@pytest.fixture
def three_s3(three: Cluster) -> Cluster:
    return three.start()


MiB = 1024 * 1024


def test_three_replicas_started_together_migrate_once_and_all_become_ready(
    three: Cluster,
) -> None:
    settings = three.settings
    assert db_rows(settings, "select count(*) from pg_tables where schemaname = 'public'") == [(0,)]
    three.start()  # all three launched at once; raises if one dies or is not ready
    assert [replica.alive() for replica in three.replicas] == [True, True, True]
    assert db_rows(settings, "select version_num from alembic_version") == [(HEAD_REVISION,)]
    first_start = db_rows(settings, "select owner, is_admin from api_keys")
    assert first_start == [("admin", True)], "one admin key for the first start, not one each"
    served: Counter[str] = Counter()
    with httpx.Client(base_url=three.url, timeout=10) as client:
        for _ in range(9):
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            served[ready.headers["x-served-by"]] += 1
    assert served == {"r1": 3, "r2": 3, "r3": 3}
    for replica in three.replicas:
        assert replica.alive(), replica.output()
        assert "Traceback" not in replica.log.read_text(), replica.output()


def test_upgrades_started_together_on_one_sqlite_file_all_succeed(tmp_path: Path) -> None:
    """SQLite needs no lock of its own: the upgrade's write transaction holds the file's."""
    database = tmp_path / "shared.db"
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{database}",
        storage_url=f"file://{tmp_path / 'files'}",
        signing_key="x" * 32,
    )
    runs = [cli(replica_env(settings), "db", "upgrade", cwd=tmp_path) for _ in range(3)]
    outcomes = [(run.wait(60), run.stderr.read() if run.stderr else "") for run in runs]
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    with sqlite3.connect(database) as connection:
        rows = connection.execute("select version_num from alembic_version").fetchall()
    assert rows == [(HEAD_REVISION,)]


def test_a_direct_upload_signed_on_one_replica_completes_on_another(three_s3: Cluster) -> None:
    key = new_key(three_s3.settings)
    content = samples.png() + os.urandom(64 * 1024)
    with three_s3.on(0, key) as first, three_s3.on(1, key) as second, three_s3.on(2, key) as third:
        form = first.post(
            "/api/v1/uploads", json={"original_filename": "p.png", "content_type": "image/png"}
        ).json()
        sent = httpx.post(
            form["form_url"],
            data=form["form_fields"],
            files={"file": ("p.png", content)},
            timeout=60,
        )
        assert sent.status_code in (200, 201, 204), sent.text
        done = second.post(f"/api/v1/uploads/{form['upload_id']}/complete")
        assert done.status_code == 200, done.text
        record = done.json()
        assert record["sha256"] == hashlib.sha256(content).hexdigest()
        assert third.get(f"/api/v1/uploads/{form['upload_id']}").json()["status"] == "complete"
        assert third.get(f"/api/v1/files/{record['id']}/download").content == content

        # two parts: signed on two replicas, completed on a third
        big = samples.zip_archive() + os.urandom(9 * MiB)
        multipart = first.post(
            "/api/v1/uploads/multipart",
            json={
                "original_filename": "big.zip",
                "content_type": "application/zip",
                "size": len(big),
            },
        )
        assert multipart.status_code == 201, multipart.text
        upload = multipart.json()
        size = upload["part_size"]
        for number, client in ((1, first), (2, second)):
            signed = client.post(
                f"/api/v1/uploads/{upload['upload_id']}/parts", json={"part_numbers": [number]}
            )
            assert signed.status_code == 200, signed.text
            url = signed.json()["parts"][0]["url"]
            put = httpx.put(url, content=big[(number - 1) * size : number * size], timeout=60)
            assert put.status_code == 200, put.text
        finished = third.post(f"/api/v1/uploads/{upload['upload_id']}/complete")
        assert finished.status_code == 200, finished.text
        assert first.get(f"/api/v1/files/{finished.json()['id']}/download").content == big


def test_a_local_store_signed_url_made_by_one_replica_is_accepted_by_the_others(
    three_local: Cluster,
) -> None:
    key = new_key(three_local.settings)
    replicas = three_local.replicas
    content = samples.pdf()
    with three_local.on(0, key) as first, three_local.on(2, key) as third:
        record = first.post("/api/v1/files/upload", files={"file": ("s.pdf", content)}).json()
        url = first.get(f"/api/v1/files/{record['id']}/presigned-url").json()["url"]
        assert url.startswith(three_local.url + "/store/"), "signed for the public URL"
        path = url.removeprefix(three_local.url)
        for replica in replicas:
            fetched = httpx.get(replica.url + path)
            assert (fetched.status_code, fetched.content) == (200, content), replica.name
            forged = httpx.get(replica.url + re.sub(r"signature=[^&]+", "signature=AAAA", path))
            assert forged.status_code == 403, replica.name
        served = {httpx.get(url).headers["x-served-by"] for _ in range(3)}
        assert served == {"r1", "r2", "r3"}

        # a direct upload to the local store: signed by r1, sent to r2, completed on r3
        form = first.post(
            "/api/v1/uploads",
            json={"original_filename": "d.pdf", "content_type": "application/pdf"},
        ).json()
        assert form["form_url"].startswith(three_local.url)
        sent = httpx.post(
            replicas[1].url + form["form_url"].removeprefix(three_local.url),
            data=form["form_fields"],
            files={"file": ("d.pdf", content)},
            timeout=60,
        )
        assert sent.status_code in (200, 201, 204), sent.text
        done = third.post(f"/api/v1/uploads/{form['upload_id']}/complete")
        assert done.status_code == 200, done.text
        assert first.get(f"/api/v1/files/{done.json()['id']}/download").content == content


def test_cleanup_fix_on_two_replicas_at_once_loses_nothing(three_s3: Cluster) -> None:
    settings = three_s3.settings
    key = new_key(three_s3.settings)
    kept: dict[str, bytes] = {}
    with httpx.Client(
        base_url=three_s3.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as client:
        for index in range(8):
            content = os.urandom(1024 + index).hex().encode()
            record = client.post(
                "/api/v1/files/upload", files={"file": (f"keep-{index}.txt", content)}
            ).json()
            kept[record["id"]] = content
        trashed = client.post(
            "/api/v1/files/upload", files={"file": ("trash.txt", b"in the trash")}
        ).json()
        assert client.delete(f"/api/v1/files/{trashed['id']}").status_code == 204
    with FileStore.from_settings(settings) as files:
        orphans = {
            files.upload(b"stray %d" % n, filename=f"orphan-{n}.txt", folder="strays").key
            for n in range(6)
        }
    cleanups = [
        cli(
            replica_env(settings),
            "cleanup",
            "--fix",
            "--json",
            "--grace-minutes",
            "0",
            "--retention-days",
            "0",
            cwd=settings.data_dir,
        )
        for _ in range(2)
    ]
    reports = []
    for run in cleanups:
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        reports.append(json.loads(out))
    found = Counter(key for report in reports for key in report["orphan_objects"])
    assert found == dict.fromkeys(orphans, 1), "every orphan found and removed once"
    assert sum(report["purged_files"] for report in reports) == 1
    for report in reports:
        assert report["missing_objects"] == [], "no record lost its object"
    with httpx.Client(
        base_url=three_s3.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as client:
        listed = client.get("/api/v1/files", params={"limit": 200}).json()["items"]
        assert {item["id"] for item in listed} == set(kept)
        for file_id, content in kept.items():
            assert client.get(f"/api/v1/files/{file_id}/download").content == content
    with FileStore.from_settings(settings) as files:
        left = {info.key for info in files.iter_objects()}
    assert left == {item["s3_key"] for item in listed}, "orphans and the trash gone, files kept"
    again = cli(replica_env(settings), "cleanup", "--json", "--grace-minutes", "0",
                "--retention-days", "0", cwd=settings.data_dir)  # fmt: skip
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    findings = {name: value for name, value in json.loads(out).items() if name != "fixed" and value}
    assert findings == {}, "a second look finds nothing left to do"


def test_the_readme_shows_the_haproxy_configuration_the_tests_run() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    shown = readme.split("```haproxy\n", 1)[1].split("```", 1)[0]
    assert shown == haproxy_config(8000, 8404, [("r1", 8001), ("r2", 8002), ("r3", 8003)])


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_exclusive_lets_one_holder_in_at_a_time(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """What keeps two ``cleanup --fix`` apart: two engines (as on two machines) on one
    database; the second holder gets in only after the first left."""
    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"l_{uuid.uuid4().hex[:8]}")
        url = url.replace("postgresql://", "postgresql+asyncpg://")
    spans: list[tuple[float, float]] = []

    async def hold() -> None:
        engine = create_engine(url)
        try:
            async with exclusive(engine, "cleanup"):
                entered = time.monotonic()
                await asyncio.sleep(0.5)
                spans.append((entered, time.monotonic()))
        finally:
            await engine.dispose()

    holders = [threading.Thread(target=run_async, args=(hold(),)) for _ in range(2)]
    for holder in holders:
        holder.start()
    for holder in holders:
        holder.join(30)
    first, second = sorted(spans)
    assert second[0] >= first[1], "the second holder entered while the first held the lock"
