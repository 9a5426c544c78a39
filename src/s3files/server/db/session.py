"""Engine, session factory and the service's one unit-of-work rule.

The rule (every service keeps it; a reviewer checks it):

    A database session lives only while the database is used. It is opened by
    ``unit_of_work``, committed when the block ends (rolled back on error) and closed
    before any byte moves to or from the store or the client. Nothing awaits a transfer,
    a store call or the client's body while a session is open.

So an upload is three short transactions (stage the record; transfer with no session;
activate), authentication is its own short transaction, and a download looks its record
up, closes the session, then streams. Repositories only query; services never call
``commit`` themselves outside ``unit_of_work``.

    async with unit_of_work(state.sessions) as session:
        record = await FileRepository(session).get(file_id, owner=owner)
    # session closed: now talk to the store
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

__all__ = ["AsyncSession", "create_engine", "session_factory", "unit_of_work"]


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One short transaction: committed when the block ends, rolled back on any error,
    and the connection returned to the pool either way."""
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
