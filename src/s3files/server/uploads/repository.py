"""Every query on ``uploads``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import CursorResult, or_, select, update

from s3files.server.db.models import DirectUpload, UploadStatus
from s3files.server.db.session import AsyncSession

__all__ = ["UploadRepository"]


class UploadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, upload: DirectUpload) -> DirectUpload:
        self.session.add(upload)
        await self.session.flush()
        return upload

    async def get(
        self, upload_id: uuid.UUID, *, owner: str | None, for_update: bool = False
    ) -> DirectUpload | None:
        statement = select(DirectUpload).where(DirectUpload.id == upload_id)
        if owner is not None:
            statement = statement.where(DirectUpload.owner == owner)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def claim(self, upload_id: uuid.UUID, *, now: datetime, until: datetime) -> bool:
        """Take the completion lease of a pending upload; False if another holds it."""
        statement = (
            update(DirectUpload)
            .where(
                DirectUpload.id == upload_id,
                DirectUpload.status == UploadStatus.PENDING,
                or_(DirectUpload.completing_until.is_(None), DirectUpload.completing_until < now),
            )
            .values(completing_until=until)
            .execution_options(synchronize_session=False)
        )
        result: CursorResult[tuple[()]] = await self.session.execute(statement)  # type: ignore[assignment]
        return result.rowcount == 1

    async def release(self, upload_id: uuid.UUID) -> None:
        """Give the completion lease back (the upload stays as it is)."""
        await self.session.execute(
            update(DirectUpload)
            .where(DirectUpload.id == upload_id)
            .values(completing_until=None)
            .execution_options(synchronize_session=False)
        )

    async def expired_pending(self, before: datetime, limit: int = 500) -> Sequence[DirectUpload]:
        """Pending uploads past ``before``, except those a completion is working on."""
        statement = (
            select(DirectUpload)
            .where(
                DirectUpload.status == UploadStatus.PENDING,
                DirectUpload.expires_at < before,
                or_(
                    DirectUpload.completing_until.is_(None),
                    DirectUpload.completing_until < before,
                ),
            )
            .order_by(DirectUpload.expires_at)
            .limit(limit)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def pending_keys(self) -> set[str]:
        """The keys pending uploads own: their final keys and their staging keys."""
        statement = select(DirectUpload.key, DirectUpload.staging_key).where(
            DirectUpload.status == UploadStatus.PENDING
        )
        keys: set[str] = set()
        for key, staging_key in (await self.session.execute(statement)).all():
            keys.add(key)
            if staging_key:
                keys.add(staging_key)
        return keys

    async def pending_multipart_ids(self) -> set[str]:
        statement = select(DirectUpload.multipart_id).where(
            DirectUpload.status == UploadStatus.PENDING, DirectUpload.multipart_id.is_not(None)
        )
        return {value for value in (await self.session.execute(statement)).scalars().all() if value}
