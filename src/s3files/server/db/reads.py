"""One-statement reads for the hot paths (``GET /api/v1/files/{id}``, downloads), with as
little work per call as the database allows.

Each statement is compiled once per shape by SQLAlchemy for the database's dialect
(``_Prepared``: its SQL, the order of its parameters, and the bind and result processors
of its columns' types), then run on the driver's own connection: SQLAlchemy's execution
machinery around a single-row read cost more than the read (measured on the 2-core
machine, CPU per read of one record: PostgreSQL, an ``AsyncConnection`` checkout and
``execute`` 320 us, asyncpg's ``fetchrow`` 26-30 us; SQLite, a Core ``execute`` on a held
connection 80-100 us, the ``sqlite3`` cursor 15-20 us). The values go through the same
type processors SQLAlchemy applies, so a record read here equals one the ORM loads
(``tests/server/test_reads.py``). A statement SQLAlchemy must rewrite per call (an
expanding ``IN`` list) runs through SQLAlchemy as before.

A read that is a single SELECT needs no transaction of its own, and a unit of work
(``s3files.server.db.session``) costs more than the query: an ORM session, then BEGIN,
SELECT and COMMIT. Here the statement runs on a connection in autocommit, the row becomes
a detached record, and the connection goes back to the pool at once: the unit-of-work rule
holds (nothing else happens while it is checked out).

- PostgreSQL (asyncpg): an asyncpg pool of its own on the same database (as many
  connections as the service's pool, opened as they are needed, set up with the JSON
  codecs of SQLAlchemy's dialect), so one read is one round trip: no BEGIN, no COMMIT,
  and no pre-ping (on the service's engine a ping is BEGIN, ``;``, ROLLBACK). A read that
  fails there (a dropped connection after a restart ...) is run again through the
  service's engine, which raises SQLAlchemy's errors as every other query does; no free
  connection within the pool timeout is SQLAlchemy's pool ``TimeoutError`` (503 busy).
- SQLite in a file: aiosqlite hands every DBAPI call to its own thread and back (cursor,
  execute, fetch, close, commit: five hops for one SELECT, each a wait for the GIL and, on
  a busy machine, for the scheduler). Here a plain ``sqlite3`` connection on the same file
  (``query_only``; WAL lets it read while another connection writes) runs the statement
  on the event loop itself, with a busy timeout of 0: a lookup by primary key in a local
  file takes tens of microseconds, less than one hop to a thread. If the database is busy
  (the rare moments a WAL reader must wait: recovery, a WAL reset) it never waits on the
  loop: the read is retried on a worker thread with the service's busy timeout, through
  SQLAlchemy (so any other error there is SQLAlchemy's, as for every query). Measured
  on the 2-core machine, sequential reads of one record: 1.0-1.7 ms each through an ORM
  unit of work on aiosqlite, 0.15-0.2 ms on a worker thread, 0.06-0.09 ms on the loop.
- SQLite in memory (or opened by a ``file:`` URI): the service's async engine, as it is (a
  second engine would see another database).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import anyio
from sqlalchemy import Dialect, Engine, Select, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, configure_mappers

__all__ = ["Reads"]

_M = TypeVar("_M", bound=DeclarativeBase)
_Processor = Callable[[Any], Any] | None

# SQLAlchemy's own connect arguments of its asyncpg dialect, not asyncpg's
_SQLALCHEMY_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func",
                    "async_fallback", "async_creator_fn")  # fmt: skip


class _Prepared:
    """``statement`` compiled once for ``dialect``: the SQL, its parameters in order with
    their bind processors, and for each column the model's attribute and the result
    processor of its type (what SQLAlchemy's result applies)."""

    def __init__(self, model: type[Any], statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.statement = statement  # kept: the cache is keyed by its id
        self.compiled = compiled
        self.sql = compiled.string
        self.order: list[str] = list(compiled.positiontup or [])
        self.runnable = bool(self.order) and not any(
            bind.expanding or bind.literal_execute for bind in compiled.binds.values()
        )
        self.binds: list[_Processor] = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in self.order
        ]
        configure_mappers()  # a record's attributes need it (no ORM query may have run yet)
        mapper: Any = model.__mapper__
        self.columns: list[tuple[str, _Processor]] = [
            (
                mapper.get_property_by_column(column).key,
                column.type.dialect_impl(dialect).result_processor(dialect, None),
            )
            for column in statement.selected_columns
        ]

    def arguments(self, parameters: Mapping[str, Any] | None) -> list[Any]:
        values = self.compiled.construct_params(parameters)
        out = [values[name] for name in self.order]
        for index, process in enumerate(self.binds):
            if process is not None:
                out[index] = process(out[index])
        return out

    def values(self, row: Sequence[Any]) -> dict[str, Any]:
        return {
            name: (value if process is None or value is None else process(value))
            for (name, process), value in zip(self.columns, row, strict=True)
        }


def _read_only(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


class _SQLiteReaders:
    """Two plain sqlite3 engines on one file: one connection, kept open, for reads on the
    event loop (busy timeout 0, autocommit; a read there never awaits, so one connection is
    enough, and keeping it saves a pool checkout per read), and a pool for the reads
    retried on worker threads."""

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
        self._held: Any = None  # the pool's DBAPI connection, set up by SQLAlchemy
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

    def on_loop(self, prepared: _Prepared, parameters: Mapping[str, Any] | None) -> Any:
        """Run ``prepared`` on the held connection's cursor (opened again after any error)."""
        if self._held is None:
            self._held = self.loop.raw_connection()
        try:
            cursor = self._held.driver_connection.execute(
                prepared.sql, prepared.arguments(parameters)
            )
            try:
                return cursor.fetchone()
            finally:
                cursor.close()
        except BaseException:
            held, self._held = self._held, None
            held.invalidate()
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


class _Shim:
    """What SQLAlchemy's asyncpg dialect expects when it sets a connection's codecs."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection


class Reads:
    """Single-row reads on the service's database (see the module docstring)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        url = engine.url
        database = url.database
        self._sqlite_file = (
            url.get_backend_name() == "sqlite"
            and database not in (None, "", ":memory:")
            and not str(database).startswith("file:")
        )
        self._asyncpg = url.get_backend_name() == "postgresql" and url.get_driver_name() == (
            "asyncpg"
        )
        self._sqlite: _SQLiteReaders | None = None
        self._pool: Any = None
        self._pool_lock: asyncio.Lock | None = None
        self._lock = threading.Lock()
        self._prepared: dict[int, _Prepared] = {}

    def _readers(self) -> _SQLiteReaders:
        """The sqlite3 engines (made on first use: a CLI command may never read here)."""
        with self._lock:
            if self._sqlite is None:
                self._sqlite = _SQLiteReaders(self._engine)
            return self._sqlite

    def _prepare(self, model: type[Any], statement: Select[Any]) -> _Prepared:
        found = self._prepared.get(id(statement))
        if found is None or found.statement is not statement:
            found = _Prepared(model, statement, self._engine.dialect)
            if len(self._prepared) > 256:  # statements are built once per shape
                self._prepared.clear()
            self._prepared[id(statement)] = found
        return found

    async def _asyncpg_pool(self) -> Any:
        """The asyncpg pool (made on first use), its connections set up like the dialect's."""
        if self._pool is not None:
            return self._pool
        if self._pool_lock is None:
            self._pool_lock = asyncio.Lock()
        async with self._pool_lock:
            if self._pool is None:
                import asyncpg  # type: ignore[import-untyped]

                dialect: Any = self._engine.dialect
                pool: Any = self._engine.sync_engine.pool
                size = int(pool.size()) if hasattr(pool, "size") else 5
                _, options = dialect.create_connect_args(self._engine.url)
                for name in _SQLALCHEMY_ONLY:
                    options.pop(name, None)

                async def setup(connection: Any) -> None:
                    await dialect.setup_asyncpg_json_codec(_Shim(connection))
                    await dialect.setup_asyncpg_jsonb_codec(_Shim(connection))

                async def keep(_: Any) -> None:
                    """Nothing to reset: only single SELECTs run here (asyncpg's reset is
                    a second round trip per read)."""

                self._pool = await asyncpg.create_pool(
                    min_size=0, max_size=size, init=setup, reset=keep, **options
                )
        return self._pool

    async def _on_asyncpg(self, prepared: _Prepared, parameters: Mapping[str, Any] | None) -> Any:
        pool = await self._asyncpg_pool()
        timeout = float(getattr(self._engine.sync_engine.pool, "_timeout", 10.0))
        # the pool timeout bounds the wait for a connection another read holds, as
        # SQLAlchemy's does, not the opening of a new one (asyncpg's covers both)
        room = pool.get_idle_size() > 0 or pool.get_size() < pool.get_max_size()
        try:
            connection = await pool.acquire(timeout=None if room else timeout)
        except TimeoutError:  # as the service's pool answers: 503 busy
            raise PoolTimeoutError(f"no connection for a read within {timeout} s") from None
        try:
            return await connection.fetchrow(prepared.sql, *prepared.arguments(parameters))
        finally:
            await pool.release(connection)

    async def _through_engine(
        self, statement: Select[Any], parameters: Mapping[str, Any] | None
    ) -> Any:
        async with self._engine.connect() as connection:
            return (await connection.execute(statement, parameters)).one_or_none()

    async def _row(self, prepared: _Prepared, parameters: Mapping[str, Any] | None) -> Any:
        """The row as the driver returns it, or None; a statement that cannot run on the
        driver directly returns SQLAlchemy's row, already processed (``_Row``)."""
        if not prepared.runnable or not (self._sqlite_file or self._asyncpg):
            return _Row(await self._through_engine(prepared.statement, parameters))
        if self._asyncpg:
            try:
                return await self._on_asyncpg(prepared, parameters)
            except PoolTimeoutError:
                raise
            except Exception:  # SQLAlchemy's errors (and its retry) come from the engine
                return _Row(await self._through_engine(prepared.statement, parameters))
        readers = self._readers()
        with contextlib.suppress(Exception):  # busy, or else: on a thread, SQLAlchemy's errors
            return readers.on_loop(prepared, parameters)
        return _Row(
            await anyio.to_thread.run_sync(
                _run, readers.threads, prepared.statement, parameters, limiter=readers.limiter
            )
        )

    async def one_or_none(
        self, model: type[_M], statement: Select[Any], parameters: Mapping[str, Any] | None = None
    ) -> _M | None:
        """The one ``model`` that ``statement`` (a select of the model's table, or of the
        model, with ``parameters``) finds, detached, or None. A statement must match at most
        one row."""
        prepared = self._prepare(model, statement)
        row = await self._row(prepared, parameters)
        if row is None:
            return None
        if isinstance(row, _Row):
            if row.row is None:
                return None
            values = {
                name: value for (name, _), value in zip(prepared.columns, row.row, strict=True)
            }
        else:
            values = prepared.values(row)
        # what the ORM's loader does, without its per-attribute events: a new instance
        # with its loaded values in place (ten times cheaper than calling the constructor)
        record: _M = model.__mapper__.class_manager.new_instance()
        record.__dict__.update(values)
        return record

    async def aclose(self) -> None:
        """Close this module's own connections (when the service stops)."""
        with self._lock:
            sqlite, self._sqlite = self._sqlite, None
        if sqlite is not None:
            sqlite.dispose()
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), 5)
            except (TimeoutError, Exception):
                pool.terminate()


class _Row:
    """A row SQLAlchemy has already processed (or None)."""

    __slots__ = ("row",)

    def __init__(self, row: Any) -> None:
        self.row = row
