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
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

__all__ = ["AsyncSession", "Sessions", "create_engine", "session_factory", "unit_of_work"]

Sessions = async_sessionmaker[AsyncSession]  # what ``unit_of_work`` opens sessions from


def create_engine(url: str, *, pool_size: int = 10, pool_timeout: float = 10.0) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys.

    ``pool_size`` connections are kept, as many again may be opened in a burst, and a
    checkout that waits ``pool_timeout`` seconds fails (the service answers 503 then).
    """
    pool: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "pool_timeout": pool_timeout,
    }
    if url.startswith("sqlite"):
        if make_url(url).database in (None, "", ":memory:"):
            engine = create_async_engine(url)
        else:
            engine = create_async_engine(url, connect_args={"timeout": pool_timeout}, **pool)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, **pool)


def session_factory(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """One short transaction: committed when the block ends, rolled back on any error,
    and the connection returned to the pool either way."""
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
