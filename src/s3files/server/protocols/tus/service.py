"""tus uploads over the direct uploads: creation is ``UploadService.create_tus`` (the same
plan, limits and quota check as a multipart upload), the last byte calls
``UploadService.complete`` (verified, recorded like any upload), termination is
``UploadService.abort``. This module adds what tus itself needs: offsets, the PATCH lease,
checksums of each PATCH, and the early type check on the first bytes.

Every database step is its own short unit of work; none is open while bytes move.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import CursorResult, delete, or_, update

from s3files._errors import InvalidInputError, UnsupportedFileTypeError
from s3files.direct import MULTIPART_LIFETIME, Rejection, plan_parts
from s3files.server.api_error import ApiError
from s3files.server.auth import Principal
from s3files.server.db.models import DirectUpload, FileRecord, TusUpload, UploadStatus, utcnow
from s3files.server.db.session import unit_of_work
from s3files.server.limits import read_ahead
from s3files.server.protocols.companion.service import consume_or_abort, enforce_token_types
from s3files.server.protocols.companion.tokens import TokenScope, type_allowed
from s3files.server.protocols.tus.backends import Appended, appender_for
from s3files.server.state import AppState
from s3files.server.uploads.schemas import MultipartRequest
from s3files.server.uploads.service import UploadService
from s3files.validation import SNIFF_BYTES, resolve_content_type, sniff_mime_type

__all__ = ["CHECKSUMS", "TusService", "parse_metadata"]

CHECKSUMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
PATCH_LEASE = timedelta(minutes=2)  # renewed after every part; a dead replica's runs out


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (value optional)."""
    values: dict[str, str] = {}
    if not header:
        return values
    if len(header) > 8192:
        raise ApiError(400, "invalid_metadata", "Upload-Metadata is longer than 8192 bytes")
    for pair in header.split(","):
        name, _, encoded = pair.strip().partition(" ")
        if not name or name in values:
            raise ApiError(400, "invalid_metadata", "Upload-Metadata has an empty or repeated key")
        try:
            values[name] = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(
                400, "invalid_metadata", f"the value of {name!r} is not base64"
            ) from None
    return values


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise ApiError(400, "unsupported_checksum", "Upload-Checksum takes sha1 or sha256")
    try:
        return algorithm, base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise ApiError(
            400, "invalid_checksum", "the Upload-Checksum digest is not base64"
        ) from None


def _gone(upload: DirectUpload) -> ApiError:
    return ApiError(410, "upload_gone", f"this upload is {upload.status}")


class TusService:
    """The tus uploads of one principal."""

    def __init__(
        self, state: AppState, principal: Principal, scope: TokenScope | None = None
    ) -> None:
        self.state = state
        self.principal = principal
        self.scope = scope  # an upload token's limits, when the caller sent one
        self.uploads = UploadService(state, principal)
        self.appender = appender_for(state.files)

    async def create(self, length: int, raw_metadata: str | None) -> tuple[DirectUpload, TusUpload]:
        """Record the upload (limits and quota checked for ``length``), prepare the store."""
        metadata = parse_metadata(raw_metadata)
        folder = metadata.get("folder") or None
        claimed = (metadata.get("filetype") or "application/octet-stream")[:255]
        if self.scope is not None:
            folder = self.scope.folder  # the token's folder, whatever the client says
            if self.scope.allowed_types and not type_allowed(claimed, self.scope.allowed_types):
                raise UnsupportedFileTypeError(
                    f"this upload token accepts {', '.join(self.scope.allowed_types)}",
                    reason="unsupported_file_type",
                )
        request = MultipartRequest(
            original_filename=(metadata.get("filename") or "file")[:1024],
            content_type=claimed,
            folder=folder,
            prefix=folder,
            size=length,
            max_file_size=self.scope.max_file_size if self.scope else None,
            description=None,
            sha256=None,
        )
        upload = await self.uploads.create_tus(request)
        if self.scope is not None:  # counted once the upload is accepted
            await consume_or_abort(self.state.sessions, self.scope, self.uploads, upload.id)
        try:
            multipart_id, staging_key = await self.appender.start(upload)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.uploads.abort(upload.id)
            raise
        tus = TusUpload(
            id=upload.id,
            upload_length=length,
            offset=0,
            part_size=plan_parts(length)[0],
            parts=[],
            pending_size=0,
            raw_metadata=raw_metadata,
        )
        async with unit_of_work(self.state.sessions) as session:
            stored = await session.get(DirectUpload, upload.id)
            assert stored is not None
            stored.multipart_id = multipart_id
            stored.staging_key = staging_key
            session.add(tus)
        upload.multipart_id, upload.staging_key = multipart_id, staging_key
        return upload, tus

    async def get(self, upload_id: uuid.UUID) -> tuple[DirectUpload, TusUpload | None]:
        """The caller's upload (404 for anyone else's) and its tus state (None once done)."""
        upload = await self.uploads.get(upload_id)
        if upload.kind != "tus":
            raise ApiError(404, "not_found", "upload not found")
        async with unit_of_work(self.state.sessions) as session:
            tus = await session.get(TusUpload, upload_id)
        return upload, tus

    async def _lock(self, upload_id: uuid.UUID, offset: int) -> None:
        now = utcnow()
        statement = (
            update(TusUpload)
            .where(
                TusUpload.id == upload_id,
                TusUpload.offset == offset,
                or_(TusUpload.locked_until.is_(None), TusUpload.locked_until < now),
            )
            .values(locked_until=now + PATCH_LEASE)
            .execution_options(synchronize_session=False)
        )
        async with unit_of_work(self.state.sessions) as session:
            result: CursorResult[tuple[()]] = await session.execute(statement)  # type: ignore[assignment]
            if result.rowcount == 1:
                return
            current = await session.get(TusUpload, upload_id)
        if current is not None and current.offset != offset:
            raise ApiError(409, "offset_mismatch", f"the upload's offset is {current.offset}")
        raise ApiError(423, "upload_locked", "another request is sending bytes to this upload")

    async def _renew(self, upload_id: uuid.UUID) -> None:
        async with unit_of_work(self.state.sessions) as session:
            await session.execute(
                update(TusUpload)
                .where(TusUpload.id == upload_id)
                .values(locked_until=utcnow() + PATCH_LEASE)
                .execution_options(synchronize_session=False)
            )

    async def _unlock(self, upload_id: uuid.UUID) -> None:
        with anyio.CancelScope(shield=True):
            async with unit_of_work(self.state.sessions) as session:
                await session.execute(
                    update(TusUpload)
                    .where(TusUpload.id == upload_id)
                    .values(locked_until=None)
                    .execution_options(synchronize_session=False)
                )

    async def _check_first_bytes(
        self, upload: DirectUpload, body: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        """The type sniffed from the first bytes must be allowed: refused before anything
        is stored (completion checks the whole file again)."""
        ahead = await read_ahead(body, SNIFF_BYTES)
        head = bytearray()
        buffered: list[bytes] = []
        async for chunk in ahead:
            buffered.append(chunk)
            head += chunk
            if len(head) >= SNIFF_BYTES:
                break
        policy = self.state.files.policy
        extension = policy.check_extension(upload.original_filename)
        policy.check_mime_type(
            resolve_content_type(
                sniff_mime_type(bytes(head[:SNIFF_BYTES])), extension, upload.content_type
            )
        )

        async def replay() -> AsyncIterator[bytes]:
            for chunk in buffered:
                yield chunk
            buffered.clear()
            async for chunk in ahead:
                yield chunk

        return replay()

    async def patch(
        self,
        upload_id: uuid.UUID,
        offset: int,
        body: AsyncIterator[bytes],
        *,
        content_length: int | None,
        checksum: tuple[str, bytes] | None,
    ) -> tuple[DirectUpload, int, FileRecord | None]:
        """Append the body at ``offset``; on the last byte, verify and record the file.
        Returns (upload, new offset, the file when complete)."""
        upload, tus = await self.get(upload_id)
        if upload.status == UploadStatus.COMPLETE and tus is None:
            length = upload.expected_size or 0
            if offset == length and not content_length:
                return upload, length, None
            raise ApiError(409, "offset_mismatch", f"the upload is complete at {length} bytes")
        if upload.status != UploadStatus.PENDING or tus is None:
            raise _gone(upload)
        if upload.expires_at <= utcnow():
            raise ApiError(410, "upload_gone", "this upload has expired")
        if offset != tus.offset:
            raise ApiError(409, "offset_mismatch", f"the upload's offset is {tus.offset}")
        remaining = tus.upload_length - offset
        if content_length is not None and content_length > remaining:
            raise ApiError(413, "file_too_large", f"the upload has {remaining} bytes left")
        await self._lock(upload_id, offset)
        committed = False
        try:
            hasher = CHECKSUMS[checksum[0]]() if checksum else None
            bounded = self._bounded(body, remaining, hasher)
            if offset == 0:
                try:
                    bounded = await self._check_first_bytes(upload, bounded)
                except InvalidInputError as exc:
                    await self._refuse(upload_id, exc)
                    raise
            else:
                bounded = await read_ahead(bounded, self.state.limits.admission_bytes)

            async def checkpoint(partial: Appended) -> None:
                # keep what arrived, should the connection drop (the last byte is committed
                # with the completion that follows it)
                if checksum is None and partial.offset < tus.upload_length:
                    await self._commit(upload, tus, partial, keep_lock=True)
                else:  # a PATCH with a checksum is taken whole or not at all
                    await self._renew(upload_id)

            async with self.state.transfers.slot(upload.owner):
                appended = await self.appender.append(upload, tus, bounded, checkpoint)
            if checksum and hasher is not None and hasher.digest() != checksum[1]:
                await self.appender.undo(upload, tus, appended)
                raise ApiError(460, "checksum_mismatch", "the body's checksum differs")
            await self._commit(upload, tus, appended)
            committed = True
        finally:
            if not committed:
                await self._unlock(upload_id)
        if appended.offset < tus.upload_length:
            return upload, appended.offset, None
        return upload, appended.offset, await self.finish(upload_id)

    async def _refuse(self, upload_id: uuid.UUID, exc: InvalidInputError) -> None:
        """The first bytes are refused: nothing was stored; the upload becomes ``rejected``
        (with why) and its state goes, so the client's next request answers 410."""
        with anyio.CancelScope(shield=True):
            await self.uploads.abort(upload_id)
            async with unit_of_work(self.state.sessions) as session:
                await session.execute(
                    update(DirectUpload)
                    .where(DirectUpload.id == upload_id)
                    .values(status=UploadStatus.REJECTED, reason=Rejection(exc).reason)
                    .execution_options(synchronize_session=False)
                )
                await session.execute(delete(TusUpload).where(TusUpload.id == upload_id))

    @staticmethod
    async def _bounded(
        body: AsyncIterator[bytes], remaining: int, hasher: Any
    ) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in body:
            if not chunk:
                continue
            sent += len(chunk)
            if sent > remaining:
                raise ApiError(413, "file_too_large", f"the upload has {remaining} bytes left")
            if hasher is not None:
                hasher.update(chunk)
            yield chunk

    async def _commit(
        self, upload: DirectUpload, tus: TusUpload, appended: Appended, *, keep_lock: bool = False
    ) -> None:
        """Record the new offset (and parts, pending chunk), let go of the lease (or renew
        it, part way through a PATCH), extend the expiry; then delete the pending chunk the
        new state replaced."""
        expires: datetime = utcnow() + MULTIPART_LIFETIME
        async with unit_of_work(self.state.sessions) as session:
            stored_tus = await session.get(TusUpload, tus.id)
            stored = await session.get(DirectUpload, upload.id)
            assert stored_tus is not None and stored is not None
            stored_tus.offset = appended.offset
            stored_tus.parts = list(appended.parts)
            stored_tus.pending_size = appended.pending_size
            stored_tus.locked_until = utcnow() + PATCH_LEASE if keep_lock else None
            stored.staging_key = appended.staging_key
            stored.expires_at = expires
        upload.staging_key, upload.expires_at = appended.staging_key, expires
        tus.offset, tus.parts = appended.offset, list(appended.parts)
        tus.pending_size = appended.pending_size
        if appended.obsolete_key and appended.obsolete_key != appended.staging_key:
            await self.state.files.delete(appended.obsolete_key)

    async def finish(self, upload_id: uuid.UUID) -> FileRecord:
        """The last byte arrived: assemble in the store, then complete like any upload.
        Idempotent: run again (by a HEAD) when a completion was cut short."""
        upload, tus = await self.get(upload_id)
        if tus is not None:
            await self.appender.finish(upload, tus)
        record = await self.uploads.complete(upload_id, None)
        async with unit_of_work(self.state.sessions) as session:
            await session.execute(delete(TusUpload).where(TusUpload.id == upload_id))
        if self.scope is not None:  # the sniffed type, held to the token's types
            await enforce_token_types(self.state, self.scope, upload_id, record)
        return record

    async def terminate(self, upload_id: uuid.UUID) -> None:
        """Termination: discard what was sent (``UploadService.abort``) and the state."""
        upload, _ = await self.get(upload_id)
        if upload.status != UploadStatus.PENDING:
            raise _gone(upload)
        await self.uploads.abort(upload_id)
        async with unit_of_work(self.state.sessions) as session:
            await session.execute(delete(TusUpload).where(TusUpload.id == upload_id))
