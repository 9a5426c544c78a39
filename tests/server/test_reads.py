"""``Reads`` (server/db/reads.py) runs statements on the driver's own connection: a record
read there equals the one the ORM loads, column by column, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from s3files.server.db.migrate import upgrade
from s3files.server.db.models import FileRecord, FileStatus
from s3files.server.db.reads import Reads
from s3files.server.db.session import create_engine, session_factory, unit_of_work
from s3files.server.files.repository import select_file
from tests.harness.postgres import PostgresCluster


def _database(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    plain = str(cluster.create_database(f"r_{uuid.uuid4().hex[:12]}"))
    return plain.replace("postgresql://", "postgresql+asyncpg://", 1)


def _record(**values: Any) -> FileRecord:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "owner": "zoë",
        "bucket": None,
        "key": f"k/{uuid.uuid4()}",
        "original_filename": "Bericht über — 報告.txt",
        "content_type": "text/plain",
        "size": 2**40 + 7,
        "sha256": "ab" * 32,
        "etag": '"e"',
        "folder": "a/b",
        "description": 'tab\tquote" nl\n',
        "is_public": True,
        "user_metadata": {"n": 1, "f": 1.25, "l": [1, "ü", None], "d": {"t": False}},
        "status": FileStatus.ACTIVE,
        "created_at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 2, 3, 4, 6, 1, tzinfo=UTC),
        "deleted_at": None,
    }
    fields.update(values)
    return FileRecord(**fields)


COLUMNS = [column.key for column in FileRecord.__mapper__.column_attrs]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_read_equals_the_orms_record(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _database(kind, tmp_path, request)

    async def main() -> None:
        engine = create_engine(url, pool_size=2, pool_timeout=1)
        await upgrade(engine)
        reads = Reads(engine)
        sessions = session_factory(engine)
        through_sqlalchemy: list[object] = []
        fallback = reads._through_engine

        async def counted(statement: Any, parameters: Any) -> Any:
            through_sqlalchemy.append(statement)
            return await fallback(statement, parameters)

        reads._through_engine = counted  # type: ignore[method-assign]
        try:
            plain = _record()
            bare = _record(bucket="b", sha256=None, etag=None, description=None,
                           user_metadata={}, is_public=False, status=FileStatus.DELETED,
                           deleted_at=datetime(2026, 5, 6, tzinfo=UTC))  # fmt: skip
            async with unit_of_work(sessions) as session:
                session.add_all([plain, bare])
            for record, owner, statuses in (
                (plain, "zoë", (FileStatus.ACTIVE,)),
                (plain, None, (FileStatus.ACTIVE,)),
                (bare, "zoë", (FileStatus.DELETED,)),
                (bare, None, (FileStatus.ACTIVE, FileStatus.DELETED)),  # an IN list
            ):
                statement, parameters = select_file(
                    record.id, owner=owner, statuses=statuses, core=True
                )
                found = await reads.one_or_none(FileRecord, statement, parameters)
                async with unit_of_work(sessions) as session:
                    loaded = await session.get(FileRecord, record.id)
                assert found is not None and loaded is not None
                for name in COLUMNS:
                    mine, orms = getattr(found, name), getattr(loaded, name)
                    assert mine == orms and type(mine) is type(orms), (name, mine, orms)
            missing, parameters = select_file(uuid.uuid4(), owner=None, core=True)
            assert await reads.one_or_none(FileRecord, missing, parameters) is None
            other, parameters = select_file(plain.id, owner="someone else", core=True)
            assert await reads.one_or_none(FileRecord, other, parameters) is None
            # only the IN list went through SQLAlchemy; the rest ran on the driver
            assert len(through_sqlalchemy) == 1
        finally:
            await reads.aclose()
            await engine.dispose()

    asyncio.run(main())


def test_postgres_reads_answer_busy_when_their_pool_is_taken(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = _database("postgres", tmp_path, request)

    async def main() -> None:
        engine = create_engine(url, pool_size=1, pool_timeout=0.5)
        await upgrade(engine)
        reads = Reads(engine)
        try:
            statement, parameters = select_file(uuid.uuid4(), owner=None, core=True)
            assert await reads.one_or_none(FileRecord, statement, parameters) is None
            pool = await reads._asyncpg_pool()
            held = await pool.acquire()  # the pool's one connection
            try:
                with pytest.raises(PoolTimeoutError):
                    await reads.one_or_none(FileRecord, statement, parameters)
            finally:
                await pool.release(held)
            assert await reads.one_or_none(FileRecord, statement, parameters) is None
        finally:
            await reads.aclose()
            await engine.dispose()

    asyncio.run(main())
