"""What the replica tests share: settings over one PostgreSQL database and one store, the
environment every ``s3files serve`` replica gets, and keys made straight in the database."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from s3files.server.db.session import create_engine, session_factory
from s3files.server.keys.service import create_key
from s3files.server.settings import ServiceSettings
from tests.server._environment import process_environment
from tests.server.conftest import _database_url, _storage, run_async

SIGNING_KEY = "replicas-signing-key-0123456789abcdef"


def cluster_settings(
    tmp_path: Path, request: pytest.FixtureRequest, store: str = "s3", **overrides: Any
) -> ServiceSettings:
    """Settings on a new, empty PostgreSQL database (nothing migrated) and ``store``
    (``s3``: the session's Ceph RGW bucket under a new prefix; ``local``: a folder that
    every replica shares)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    storage = _storage(store, tmp_path, request)
    if store == "local":
        storage = {"storage_url": f"file://{tmp_path / 'shared-files'}"}
    return ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=_database_url("postgres", tmp_path, request),
        signing_key=SIGNING_KEY,
        **{**storage, **overrides},
    )


def replica_env(settings: ServiceSettings, **extra: str) -> dict[str, str]:
    """The whole environment of a replica (or of a CLI run on a replica's machine): the
    settings replicas must share."""
    return process_environment(settings, **{"S3FILES_LOG_LEVEL": "WARNING", **extra})


def run_db(settings: ServiceSettings, work: Any) -> Any:
    """``await work(session)`` in one committed transaction on the settings' database."""

    async def main() -> Any:
        engine = create_engine(settings.database())
        try:
            async with session_factory(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return run_async(main())


def db_rows(settings: ServiceSettings, sql: str) -> list[Any]:
    from sqlalchemy import text

    async def query(session: Any) -> list[Any]:
        return list((await session.execute(text(sql))).all())

    return list(run_db(settings, query))


def new_key(settings: ServiceSettings, owner: str | None = None) -> str:
    """A fresh API key for ``owner`` (default: a new owner of its own)."""
    who = owner or f"user-{uuid.uuid4().hex[:8]}"

    async def make(session: Any) -> str:
        return (await create_key(session, owner=who)).secret

    return str(run_db(settings, make))


def cli(env: dict[str, str], *args: str, cwd: Path) -> subprocess.Popen[str]:
    """``s3files <args>`` as its own process (not waited for)."""
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "s3files.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )
