"""One-statement reads for the hot paths (``GET /api/v1/files/{id}``, downloads), with as
little work per call as the database allows.

A read that is a single SELECT needs no transaction of its own, and a unit of work
(``s3files.server.db.session``) costs more than the query: an ORM session, then BEGIN,
SELECT and COMMIT. Here the statement runs on a connection in autocommit, the row becomes
a detached record, and the connection goes back to the pool at once: the unit-of-work rule
holds (nothing else happens while it is checked out).

- PostgreSQL (asyncpg): an engine of its own in autocommit on the same database (as many
  connections as the service's pool), so one read is one round trip: no BEGIN, no COMMIT,
  and no pre-ping (on the service's engine a ping is BEGIN, ``;``, ROLLBACK). A read that
  meets a dropped connection (the database restarted) is retried once on a new one.
- SQLite in a file: aiosqlite hands every DBAPI call to its own thread and back (cursor,
  execute, fetch, close, commit: five hops for one SELECT, each a wait for the GIL and, on
  a busy machine, for the scheduler). Here a plain ``sqlite3`` connection on the same file
  (``query_only``; WAL lets it read while another connection writes) runs the statement
  on the event loop itself, with a busy timeout of 0: a lookup by primary key in a local
  file takes tens of microseconds, less than one hop to a thread. If the database is busy
  (the rare moments a WAL reader must wait: recovery, a WAL reset) it never waits on the
  loop: the read is retried on a worker thread with the service's busy timeout. Measured
  on the 2-core machine, sequential reads of one record: 1.0-1.7 ms each through an ORM
  unit of work on aiosqlite, 0.15-0.2 ms on a worker thread, 0.06-0.09 ms on the loop.
- SQLite in memory (or opened by a ``file:`` URI): the service's async engine, as it is (a
  second engine would see another database).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, TypeVar

import anyio
from sqlalchemy import Connection, Engine, Select, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapper
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["Reads"]

_M = TypeVar("_M", bound=DeclarativeBase)


def _columns(model: type[_M]) -> list[tuple[str, ColumnElement[Any]]]:
    """(attribute name, column) of every column the model maps."""
    mapper: Mapper[Any] = model.__mapper__
    return [(prop.key, prop.columns[0]) for prop in mapper.column_attrs]


def _read_only(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


class _SQLiteReaders:
    """Two plain sqlite3 engines on one file: one connection, kept open, for reads on the
    event loop (busy timeout 0, autocommit; a read there never awaits, so one connection is
    enough, and keeping it saves a pool checkout per read: 120 -> 60-80 us of CPU), and a
    pool for the reads retried on worker threads."""

    def __init__(self, engine: AsyncEngine) -> None:
        pool: Any = engine.sync_engine.pool
        size = int(pool.size()) if hasattr(pool, "size") else 5
        timeout = float(getattr(pool, "_timeout", 10.0))
        url = engine.url.set(drivername="sqlite+pysqlite")
        self.loop = create_sync_engine(
            url,
            pool_size=1,
            max_overflow=0,
            isolation_level="AUTOCOMMIT",
            connect_args={"timeout": 0, "check_same_thread": False},
        )
        self._held: Connection | None = None
        self.threads = create_sync_engine(
            url,
            pool_size=size,
            max_overflow=0,
            pool_timeout=timeout,
            connect_args={"timeout": timeout, "check_same_thread": False},
        )
        for each in (self.loop, self.threads):
            event.listen(each, "connect", _read_only)
        # a read waits for a thread, never for a connection while holding a thread
        self.limiter = anyio.CapacityLimiter(size)

    def on_loop(self, statement: Select[Any], parameters: Mapping[str, Any] | None) -> Any:
        """Run ``statement`` on the held connection (opened again after any error)."""
        if self._held is None:
            self._held = self.loop.connect()
        try:
            return self._held.execute(statement, parameters).one_or_none()
        except BaseException:
            held, self._held = self._held, None
            held.close()
            raise

    def dispose(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None
        self.loop.dispose()
        self.threads.dispose()


def _run(engine: Engine, statement: Select[Any], parameters: Mapping[str, Any] | None) -> Any:
    with engine.connect() as connection:
        return connection.execute(statement, parameters).one_or_none()


def _busy(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return "locked" in text or "busy" in text


class Reads:
    """Single-row reads on the service's database (see the module docstring)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._autocommit: AsyncEngine | None = None
        url = engine.url
        database = url.database
        self._sqlite_file = (
            url.get_backend_name() == "sqlite"
            and database not in (None, "", ":memory:")
            and not str(database).startswith("file:")
        )
        self._sqlite: _SQLiteReaders | None = None
        self._lock = threading.Lock()
        self._models: dict[type[Any], list[tuple[str, ColumnElement[Any]]]] = {}

    def _readers(self) -> _SQLiteReaders:
        """The sqlite3 engines (made on first use: a CLI command may never read here)."""
        with self._lock:
            if self._sqlite is None:
                self._sqlite = _SQLiteReaders(self._engine)
            return self._sqlite

    def _server_engine(self) -> AsyncEngine:
        """PostgreSQL (or another server): an autocommit engine beside the service's."""
        if self._autocommit is None:
            if self._engine.url.get_backend_name() == "sqlite":
                # in memory (or a URI): the service's engine as it is; switching its
                # connections to autocommit and back would cost aiosqlite more hops
                self._autocommit = self._engine
            else:
                pool: Any = self._engine.sync_engine.pool
                size = int(pool.size()) if hasattr(pool, "size") else 5
                self._autocommit = create_async_engine(
                    self._engine.url,
                    isolation_level="AUTOCOMMIT",
                    pool_size=size,
                    max_overflow=0,
                    pool_timeout=float(getattr(pool, "_timeout", 10.0)),
                )
        return self._autocommit

    def _mapping(self, model: type[_M]) -> list[tuple[str, ColumnElement[Any]]]:
        found = self._models.get(model)
        if found is None:
            found = self._models[model] = _columns(model)
        return found

    async def _row(self, statement: Select[Any], parameters: Mapping[str, Any] | None) -> Any:
        if not self._sqlite_file:
            engine = self._server_engine()
            try:
                async with engine.connect() as connection:
                    return (await connection.execute(statement, parameters)).one_or_none()
            except DBAPIError as error:  # a read can be repeated: once, on a new connection
                if not error.connection_invalidated:
                    raise
            async with engine.connect() as connection:
                return (await connection.execute(statement, parameters)).one_or_none()
        readers = self._readers()
        try:
            return readers.on_loop(statement, parameters)
        except OperationalError as error:
            if not _busy(error):
                raise
        return await anyio.to_thread.run_sync(
            _run, readers.threads, statement, parameters, limiter=readers.limiter
        )

    async def one_or_none(
        self, model: type[_M], statement: Select[Any], parameters: Mapping[str, Any] | None = None
    ) -> _M | None:
        """The one ``model`` that ``statement`` (a select of the model's table, or of the
        model, with ``parameters``) finds, detached, or None. A statement must match at most
        one row."""
        columns = self._mapping(model)
        row = await self._row(statement, parameters)
        if row is None:
            return None
        values = row._mapping
        # what the ORM's loader does, without its per-attribute events: a new instance
        # with its loaded values in place (ten times cheaper than calling the constructor)
        record: _M = model.__mapper__.class_manager.new_instance()
        record.__dict__.update({name: values[column] for name, column in columns})
        return record

    async def aclose(self) -> None:
        """Close this module's own connections (when the service stops)."""
        with self._lock:
            sqlite, self._sqlite = self._sqlite, None
        if sqlite is not None:
            sqlite.dispose()
        server, self._autocommit = self._autocommit, None
        if server is not None and self._engine.url.get_backend_name() != "sqlite":
            await server.dispose()  # its own engine (in-memory SQLite shares the service's)
