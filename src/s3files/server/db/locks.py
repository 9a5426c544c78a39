"""Database-wide locks for jobs that must not run twice at once across replicas.

``exclusive(engine, name)`` waits until no other process (on any machine sharing the
database) holds the lock ``name``, and holds it for the block::

    async with exclusive(engine, "cleanup"):
        ...  # the one cleanup running anywhere

PostgreSQL: a session-level advisory lock on a connection of its own, taken and then left
idle outside any transaction (so it blocks neither vacuum nor other sessions); it goes
away with the connection if the process dies. SQLite: an ``flock`` on a file beside the
database (every process sharing an SQLite database is on the same machine).

This connection is the one exception to the unit-of-work rule (``session.py``): a batch
job (``s3files cleanup``) holds it, idle, for its whole run; a request never does.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

__all__ = ["exclusive", "lock_key", "serialize_transaction"]


def lock_key(name: str) -> int:
    """The advisory lock number of ``name`` (a signed 64-bit integer, stable)."""
    digest = hashlib.sha256(f"s3files:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def serialize_transaction(session: AsyncSession, name: str) -> None:
    """Make the session's transaction the only one under lock ``name`` until it ends: a
    check-then-insert (the first start's admin key) runs once however many replicas start.

    PostgreSQL: a transaction-level advisory lock. SQLite: a no-op write that takes the
    database file's write lock (the busy timeout lets the others wait for it).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})
    elif dialect == "sqlite":
        await session.execute(text("UPDATE alembic_version SET version_num = version_num"))


@contextlib.asynccontextmanager
async def exclusive(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    """Hold the database-wide lock ``name`` for the block (waiting for it first)."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            key = lock_key(name)
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            await connection.commit()  # a session lock outlives the transaction
            try:
                yield
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                await connection.commit()
        return
    database = make_url(engine.url).database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield  # a database no other process can open
        return
    import fcntl

    path = Path(f"{database}.{name}.lock")
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
