"""Run the Alembic migrations shipped in ``s3files/server/db/migrations``.

Several replicas may start at the same moment on an empty database: the upgrade runs in one
transaction under a database-wide lock, so one process migrates and the others, once the
lock is theirs, find the schema at head and do nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from s3files.server.db.locks import lock_key

__all__ = ["HEAD_REVISION", "MIGRATION_LOCK_KEY", "alembic_config", "current_revision", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


# The newest migration; a test checks it against the scripts. Knowing it lets every start
# skip loading Alembic when the database is already up to date.
HEAD_REVISION = "0007"


async def current_revision(engine: AsyncEngine) -> str | None:
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return result.scalar_one_or_none()
    except DBAPIError:
        return None


#: The PostgreSQL advisory lock taken (for one transaction) around the upgrade.
MIGRATION_LOCK_KEY = lock_key("migrations")


async def _lock_database(connection: AsyncConnection) -> None:
    """Wait for the database-wide migration lock; it is released when the transaction ends.

    PostgreSQL: a transaction-level advisory lock. SQLite: ``BEGIN IMMEDIATE`` takes the
    database file's write lock before Alembic reads anything (another process's upgrade
    holds it for its whole transaction, and the busy timeout of ``create_engine`` lets us
    wait for it); that file lock is all SQLite needs, since every process sharing the
    database shares the file.
    """
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
        )
    elif connection.dialect.name == "sqlite":
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (idempotent; safe to call at every start, from
    several processes at once)."""
    if revision == "head" and await current_revision(engine) == HEAD_REVISION:
        return

    def run(connection: Any) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)  # a no-op when another process got there first

    async with engine.begin() as connection:
        await _lock_database(connection)
        await connection.run_sync(run)
