"""Small files sent by Uppy's form path call no route afterwards: this sweeper finds them.

Every ``S3FILES_COMPANION_SWEEP_SECONDS`` each replica looks at the pending form uploads
created through an upload token; one whose staged object has arrived is completed exactly
as ``POST /api/v1/uploads/{id}/complete`` would (verified, recorded, or rejected and
deleted). The completion lease (``UploadService.complete``) makes it safe across replicas:
two sweepers, or a sweeper and an explicit completion, never complete one upload twice.
Uploads whose object never arrives are expired by ``s3files cleanup`` like any other.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
from sqlalchemy import or_, select

from s3files._errors import InvalidInputError, S3FilesError
from s3files.server.api_error import ApiError
from s3files.server.auth import Principal
from s3files.server.db.models import DirectUpload, UploadStatus, UploadToken, utcnow
from s3files.server.db.session import unit_of_work
from s3files.server.protocols.companion.service import enforce_token_types
from s3files.server.protocols.companion.tokens import TokenScope
from s3files.server.state import AppState
from s3files.server.uploads.service import UploadService

__all__ = ["sweep_forever", "sweep_once", "with_sweeper"]

logger = logging.getLogger("s3files.server")
_BATCH = 200


def _scope(token: UploadToken) -> TokenScope:
    return TokenScope(
        id=token.id,
        owner=token.owner,
        folder=token.folder,
        max_file_size=token.max_file_size,
        allowed_types=tuple(token.allowed_types) if token.allowed_types else None,
        max_files=token.max_files,
        expires_at=token.expires_at,
    )


async def sweep_once(state: AppState) -> int:
    """Complete the token uploads whose object has arrived; returns how many."""
    now = utcnow()
    statement = (
        select(DirectUpload, UploadToken)
        .join(UploadToken, UploadToken.id == DirectUpload.token_id)
        .where(
            DirectUpload.token_id.is_not(None),
            DirectUpload.status == UploadStatus.PENDING,
            DirectUpload.kind == "post",
            or_(DirectUpload.completing_until.is_(None), DirectUpload.completing_until < now),
        )
        .order_by(DirectUpload.created_at)
        .limit(_BATCH)
    )
    async with unit_of_work(state.sessions) as session:
        rows = (await session.execute(statement)).all()
    completed = 0
    for upload, token in rows:
        if upload.staging_key is None or not await state.files.exists(upload.staging_key):
            continue  # not arrived (or copied by a completion that is still recording it)
        service = UploadService(state, Principal(owner=upload.owner))
        try:
            record = await service.complete(upload.id, None)
            await enforce_token_types(state, _scope(token), upload.id, record)
        except (ApiError, InvalidInputError):
            continue  # rejected (recorded and deleted), or another replica is on it
        completed += 1
    return completed


async def sweep_forever(state: AppState, interval: float) -> None:
    """``sweep_once`` every ``interval`` seconds until cancelled; a failing pass is logged
    and the next one tries again."""
    while True:
        await anyio.sleep(interval)
        try:
            await sweep_once(state)
        except (S3FilesError, OSError, ApiError) as exc:
            logger.warning("companion_sweep_failed", extra={"fields": {"error": str(exc)}})
        except Exception:  # the database may be away for a moment: keep sweeping
            logger.exception("companion_sweep_failed")


def with_sweeper(
    lifespan: Callable[[Any], AbstractAsyncContextManager[None]], interval: float
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """``lifespan`` (which sets ``app.state.s3files``) with the sweeper running inside it
    every ``interval`` seconds (0: never)."""

    @asynccontextmanager
    async def wrapped(app: Any) -> AsyncIterator[None]:
        async with lifespan(app):
            if interval <= 0:
                yield
                return
            async with anyio.create_task_group() as background:
                background.start_soon(sweep_forever, app.state.s3files, interval)
                try:
                    yield
                finally:
                    background.cancel_scope.cancel()

    return wrapped
