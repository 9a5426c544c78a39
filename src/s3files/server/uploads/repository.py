"""Every query on ``uploads``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

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

    async def expired_pending(self, before: datetime, limit: int = 500) -> Sequence[DirectUpload]:
        statement = (
            select(DirectUpload)
            .where(DirectUpload.status == UploadStatus.PENDING, DirectUpload.expires_at < before)
            .order_by(DirectUpload.expires_at)
            .limit(limit)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def pending_keys(self) -> set[str]:
        statement = select(DirectUpload.key).where(DirectUpload.status == UploadStatus.PENDING)
        return set((await self.session.execute(statement)).scalars().all())

    async def pending_multipart_ids(self) -> set[str]:
        statement = select(DirectUpload.multipart_id).where(
            DirectUpload.status == UploadStatus.PENDING, DirectUpload.multipart_id.is_not(None)
        )
        return {value for value in (await self.session.execute(statement)).scalars().all() if value}
