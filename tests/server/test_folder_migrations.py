"""The folders and quotas migrations upgrade a database that already holds files: made
at the previous head (0004, the uploads' idempotency keys), filled, upgraded; every row
survives, the folder index exists, and the old rows' tree is listed from their paths."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from s3files.server.db.migrate import HEAD_REVISION, current_revision, upgrade
from s3files.server.db.models import utcnow
from s3files.server.db.session import create_engine, session_factory
from s3files.server.folders.repository import FolderRepository
from tests.server.conftest import run_async


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_upgrade_from_0004_keeps_files_and_lists_their_folders(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        cluster = request.getfixturevalue("postgres")
        url = cluster.create_database(f"f_{uuid.uuid4().hex[:10]}").replace(
            "postgresql://", "postgresql+asyncpg://"
        )
    folders = ["photos/2026", "photos/2026/jan", "docs", ""]

    async def check() -> Any:
        engine = create_engine(url)
        try:
            await upgrade(engine, "0004")
            async with engine.begin() as connection:
                for index, folder in enumerate(folders):
                    ident = uuid.uuid4()
                    await connection.execute(
                        text(
                            "insert into files (id, owner, key, original_filename, content_type,"
                            " size, folder, is_public, metadata, status, created_at, updated_at)"
                            " values (:id, 'alice', :key, 'a.txt', 'text/plain', :size, :folder,"
                            " false, '{}', 'active', :now, :now)"
                        ),
                        {
                            "id": ident if database == "postgres" else ident.hex,
                            "key": f"old/{index}.txt",
                            "size": 10 + index,
                            "folder": folder,
                            "now": utcnow(),
                        },
                    )
            await upgrade(engine)
            async with engine.connect() as connection:
                indexes = await connection.run_sync(
                    lambda c: {i["name"] for i in inspect(c).get_indexes("files")}
                )
                count = (await connection.execute(text("select count(*) from files"))).scalar()
            async with session_factory(engine)() as session:
                tree = await FolderRepository(session).subfolders("alice", "", after=None, limit=10)
            return await current_revision(engine), indexes, count, tree
        finally:
            await engine.dispose()

    revision, indexes, count, tree = run_async(check())
    assert revision == HEAD_REVISION
    assert "ix_files_owner_folder" in indexes
    assert count == len(folders)
    assert [(s.name, s.files, s.bytes) for s in tree] == [("docs", 1, 12), ("photos", 2, 21)]
