"""A real service per test: uvicorn on a free port, over the local disk or Ceph RGW, on
SQLite or PostgreSQL (a throw-away cluster from tests/harness/postgres.py)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from s3files import FileStore
from s3files.server import create_app
from s3files.server.db.migrate import upgrade
from s3files.server.db.session import create_engine, session_factory
from s3files.server.keys.service import create_key, revoke_key
from s3files.server.limits import ServiceLimits
from s3files.server.settings import ServiceSettings
from tests.harness.ceph import S3Server
from tests.harness.postgres import PostgresCluster
from tests.harness.postgres import ensure_installed as ensure_postgres


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster | None]:
    """A PostgreSQL server for the session (or the one S3FILES_TEST_DATABASE_URL names)."""
    if os.environ.get("S3FILES_TEST_DATABASE_URL"):
        yield None
        return
    ensure_postgres()
    cluster = PostgresCluster(tmp_path_factory.mktemp("pg"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def run_async(coroutine: Any) -> Any:
    """``asyncio.run`` on a thread of its own: works even where a loop is running (for
    example under Playwright's sync API)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A running s3files service and what a test needs to talk to it."""

    url: str
    settings: ServiceSettings
    keys: dict[str, str] = field(default_factory=dict)
    _library: FileStore | None = field(default=None, repr=False, compare=False)

    def client(self, who: str | None = "alice", **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)

    def library(self) -> FileStore:
        """The store behind the service, to check what it really holds (one per service:
        a new S3 client for every check cost the access matrix most of its time)."""
        if self._library is None:
            self._library = FileStore.from_settings(self.settings)
        return self._library

    def run(self, coroutine_factory: Any) -> Any:
        async def main() -> Any:
            engine = create_engine(self.settings.database())
            try:
                async with session_factory(engine)() as session:
                    result = await coroutine_factory(session)
                    await session.commit()
                    return result
            finally:
                await engine.dispose()

        return run_async(main())

    def db_rows(self, sql: str) -> list[Any]:
        from sqlalchemy import text

        async def query(session: Any) -> list[Any]:
            return list((await session.execute(text(sql))).all())

        return list(self.run(query))


def _database_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'meta.db'}"
    external = os.environ.get("S3FILES_TEST_DATABASE_URL")
    if external:
        return external
    cluster = request.getfixturevalue("postgres")
    return str(cluster.create_database(f"t_{uuid.uuid4().hex[:12]}"))


def _storage(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    if kind == "local":
        return {"storage_url": f"file://{tmp_path / 'files'}"}
    server: S3Server = request.getfixturevalue("s3_server")
    bucket: str = request.getfixturevalue("session_bucket")
    return {
        "storage_url": f"s3://{bucket}/svc-{uuid.uuid4().hex[:10]}",
        "s3_endpoint_url": server.endpoint_url,
        "aws_access_key_id": server.access_key,
        "aws_secret_access_key": server.secret_key,
        "aws_region": server.region,
    }


def start_service(
    settings: ServiceSettings, limits: ServiceLimits | None = None
) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(
        create_app(settings, limits=limits),
        host="127.0.0.1",
        port=int(settings.public_base_url.rsplit(":", 1)[1]),
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    return server, thread


def make_service(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    store: str,
    database: str,
    *,
    limits: ServiceLimits | None = None,
    **overrides: Any,
) -> Iterator[Service]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=_database_url(database, tmp_path, request),
        public_base_url=f"http://127.0.0.1:{port}",
        signing_key="test-signing-key-0123456789abcdef",
        **{**_storage(store, tmp_path, request), **overrides},
    )
    service = Service(url=settings.public_base_url, settings=settings)

    async def prepare(session: Any) -> None:
        for owner, admin in (("alice", False), ("bob", False), ("root", True), ("gone", False)):
            service.keys[owner] = (await create_key(session, owner=owner, is_admin=admin)).secret

    async def migrate_then_prepare() -> None:
        engine = create_engine(settings.database())
        await upgrade(engine)
        await engine.dispose()

    run_async(migrate_then_prepare())
    service.run(prepare)
    gone_prefix = service.keys["gone"][:12]
    service.run(lambda session: revoke_key(session, gone_prefix))
    server, thread = start_service(settings, limits)
    try:
        yield service
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture(
    params=[("local", "sqlite"), ("s3", "sqlite"), ("local", "postgres"), ("s3", "postgres")],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """The service in each of the four combinations of store and database."""
    store, database = request.param
    yield from make_service(tmp_path, request, store, database)


@pytest.fixture(params=["local", "s3"])
def sqlite_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """The service on SQLite, over each store (for the heavier tests)."""
    yield from make_service(tmp_path, request, request.param, "sqlite")
