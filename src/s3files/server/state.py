"""What the app holds for its lifetime, built by the lifespan from ServiceSettings.

``open_app_state`` builds it and closes it again: the service's lifespan uses it, and so
does a host app that includes the files router (``s3files.contrib.fastapi``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from s3files.server.auth import Authenticator
from s3files.server.buckets.service import ServiceConnector
from s3files.server.db.bootstrap import open_database
from s3files.server.db.reads import Reads
from s3files.server.db.session import AsyncSession, session_factory
from s3files.server.failpoints import Failpoints
from s3files.server.limits import ServiceLimits, TransferGate
from s3files.server.metrics import Metrics
from s3files.server.settings import ServiceSettings
from s3files.store import AsyncFileStore, FileStore

__all__ = ["AppState", "open_app_state"]


@dataclass
class AppState:
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    files: AsyncFileStore
    authenticator: Authenticator
    metrics: Metrics
    connector: ServiceConnector | None = None  # bucket administration (S3 stores only)
    limits: ServiceLimits = field(default_factory=ServiceLimits)
    failpoints: Failpoints = field(default_factory=Failpoints)
    transfers: TransferGate = field(init=False)  # uploads, downloads, copies in flight
    reads: Reads = field(init=False)  # single-row reads outside a session (hot paths)

    def __post_init__(self) -> None:
        self.transfers = TransferGate(self.limits)
        self.reads = Reads(self.engine)


@asynccontextmanager
async def open_app_state(
    settings: ServiceSettings,
    *,
    limits: ServiceLimits | None = None,
    failpoints: Failpoints | None = None,
    metrics: Metrics | None = None,
) -> AsyncIterator[AppState]:
    """The database (migrated), the store and the rest, for as long as the block runs;
    ``limits`` default to the ``S3FILES_*`` variables (``ServiceLimits.from_environment``)."""
    limits = limits or ServiceLimits.from_environment()
    engine = await open_database(
        settings, pool_size=limits.pool_size(), pool_timeout=limits.db_pool_timeout
    )
    # a transfer keeps one worker thread busy for its length: room for every admitted
    # transfer, and more for the short store calls beside them
    threads = anyio.CapacityLimiter(limits.max_transfers + 32)
    try:
        files = AsyncFileStore(FileStore.from_settings(settings), limiter=threads)
    except BaseException:
        await engine.dispose()
        raise
    connector = ServiceConnector(settings)
    state = AppState(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        files=files,
        authenticator=Authenticator(settings),
        metrics=metrics or Metrics(),
        connector=connector,
        limits=limits,
        failpoints=failpoints or Failpoints(),
    )
    state.authenticator.reads = state.reads  # key lookups on the driver's connection
    try:
        yield state
    finally:
        await connector.aclose()
        await files.aclose()
        await state.reads.aclose()
        await engine.dispose()
