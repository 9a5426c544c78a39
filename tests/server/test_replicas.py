"""Several ``s3files serve`` replicas behind HAProxy on one PostgreSQL and one store:
started together on an empty database, they migrate it once and all become ready; what one
replica signs, another accepts; two cleanups at once lose nothing."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from s3files import Settings
from s3files.server.db.migrate import HEAD_REVISION
from tests.harness.haproxy import ReplicatedService
from tests.server._replicas import cli, cluster_settings, db_rows, replica_env


@pytest.fixture
def three(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ReplicatedService]:
    settings = cluster_settings(tmp_path, request)
    cluster = ReplicatedService(3, replica_env(settings), tmp_path / "cluster")
    cluster.settings = settings  # type: ignore[attr-defined]
    try:
        yield cluster
    finally:
        cluster.stop()


def test_three_replicas_started_together_migrate_once_and_all_become_ready(
    three: ReplicatedService,
) -> None:
    settings = three.settings  # type: ignore[attr-defined]
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
    settings = Settings(
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
