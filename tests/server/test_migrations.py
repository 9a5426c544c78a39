"""The migrations shipped in the package: they build the schema the models describe, on
SQLite and PostgreSQL, and the recorded head is the real one."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from s3files.server.db.migrate import HEAD_REVISION, alembic_config, current_revision, upgrade
from s3files.server.db.models import Base, utcnow
from s3files.server.db.session import create_engine
from tests.server.conftest import run_async


def test_head_revision_is_the_newest_script() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_upgrade_from_empty_and_again(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    else:
        cluster = request.getfixturevalue("postgres")
        url = cluster.create_database(f"m_{uuid.uuid4().hex[:10]}").replace(
            "postgresql://", "postgresql+asyncpg://"
        )

    async def check() -> Any:
        engine = create_engine(url)
        try:
            assert await current_revision(engine) is None
            await upgrade(engine)
            first = await current_revision(engine)
            await upgrade(engine)  # idempotent
            from sqlalchemy import inspect

            async with engine.connect() as connection:
                tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
                drift = await connection.run_sync(
                    lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
                )
            assert drift == [], f"models and migrations differ: {drift}"
            return first, tables
        finally:
            await engine.dispose()

    revision, tables = run_async(check())
    assert revision == HEAD_REVISION
    assert {"files", "api_keys", "uploads", "alembic_version"} <= tables


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_upgrade_keeps_the_rows_of_an_older_schema(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """From 0002 (direct uploads without staging) with rows in it: every row survives, and
    uploads signed before staging have no staging key (completion verifies their key)."""
    from sqlalchemy import text

    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        cluster = request.getfixturevalue("postgres")
        url = cluster.create_database(f"o_{uuid.uuid4().hex[:10]}").replace(
            "postgresql://", "postgresql+asyncpg://"
        )
    upload_id = uuid.uuid4()

    async def check() -> Any:
        engine = create_engine(url)
        try:
            await upgrade(engine, "0002")
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "insert into uploads (id, owner, key, kind, original_filename,"
                        " content_type, max_size, folder, is_public, metadata, status,"
                        " expires_at, created_at, updated_at) values (:id, 'alice', 'k/a.png',"
                        " 'post', 'a.png', 'image/png', 100, '', false, '{}', 'pending',"
                        " :now, :now, :now)"
                    ),
                    {"id": upload_id if database == "postgres" else upload_id.hex, "now": utcnow()},
                )
            await upgrade(engine)
            async with engine.connect() as connection:
                rows = (
                    await connection.execute(
                        text("select key, status, staging_key, completing_until from uploads")
                    )
                ).all()
            return await current_revision(engine), [tuple(row) for row in rows]
        finally:
            await engine.dispose()

    revision, rows = run_async(check())
    assert revision == HEAD_REVISION
    assert rows == [("k/a.png", "pending", None, None)]
