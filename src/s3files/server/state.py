"""What the app holds for its lifetime, built by the lifespan from ServiceSettings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from s3files.server.auth import Authenticator
from s3files.server.buckets.service import ServiceConnector
from s3files.server.db.reads import Reads
from s3files.server.db.session import AsyncSession
from s3files.server.failpoints import Failpoints
from s3files.server.limits import ServiceLimits, TransferGate
from s3files.server.metrics import Metrics
from s3files.server.settings import ServiceSettings
from s3files.store import AsyncFileStore

__all__ = ["AppState"]


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
