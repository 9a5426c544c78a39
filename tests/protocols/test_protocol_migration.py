"""Migration 0007 (upload tokens, tus state, the upload's token) upgrades a database that
already holds files and direct uploads at 0006: every row survives and the new tables are
usable."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from s3files.server.db.migrate import HEAD_REVISION, current_revision, upgrade
from s3files.server.db.models import utcnow
from s3files.server.db.session import create_engine
from tests.server.conftest import run_async


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_upgrade_from_0006_keeps_files_and_uploads(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        cluster = request.getfixturevalue("postgres")
        url = cluster.create_database(f"p_{uuid.uuid4().hex[:10]}").replace(
            "postgresql://", "postgresql+asyncpg://"
        )

    def ident() -> Any:
        value = uuid.uuid4()
        return value if database == "postgres" else value.hex

    async def check() -> Any:
        engine = create_engine(url)
        try:
            await upgrade(engine, "0006")
            now = utcnow()
            async with engine.begin() as connection:
                for index in range(3):
                    await connection.execute(
                        text(
                            "insert into files (id, owner, key, original_filename, content_type,"
                            " size, folder, is_public, metadata, status, created_at, updated_at)"
                            " values (:id, 'alice', :key, 'a.txt', 'text/plain', 5, 'docs',"
                            " false, '{}', 'active', :now, :now)"
                        ),
                        {"id": ident(), "key": f"docs/{index}.txt", "now": now},
                    )
                await connection.execute(
                    text(
                        "insert into uploads (id, owner, key, kind, original_filename,"
                        " content_type, max_size, folder, is_public, metadata, status,"
                        " expires_at, created_at, updated_at) values (:id, 'alice', 'up/1.png',"
                        " 'post', '1.png', 'image/png', 100, '', false, '{}', 'pending', :now,"
                        " :now, :now)"
                    ),
                    {"id": ident(), "now": now},
                )
            await upgrade(engine)
            async with engine.begin() as connection:
                tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
                columns = await connection.run_sync(
                    lambda c: {col["name"] for col in inspect(c).get_columns("uploads")}
                )
                files = (await connection.execute(text("select count(*) from files"))).scalar()
                uploads = (
                    await connection.execute(text("select token_id, status from uploads"))
                ).all()
                await connection.execute(
                    text(
                        'insert into tus_uploads (id, upload_length, "offset", part_size, parts,'
                        " pending_size, created_at, updated_at) values (:id, 10, 0, 5242880,"
                        " '[]', 0, :now, :now)"
                    ),
                    {"id": ident(), "now": now},
                )
            return await current_revision(engine), tables, columns, files, uploads
        finally:
            await engine.dispose()

    revision, tables, columns, files, uploads = run_async(check())
    assert revision == HEAD_REVISION == "0007"
    assert {"upload_tokens", "tus_uploads"} <= tables
    assert "token_id" in columns
    assert files == 3
    assert [(row[0], row[1]) for row in uploads] == [(None, "pending")]
