"""Where the bytes of a tus upload go while it is incomplete.

S3 (``MultipartAppender``): a multipart upload at the file's final key. A PATCH's bytes,
after whatever an earlier PATCH left pending, are cut into parts of ``part_size`` bytes
(at least 5 MiB) and each is sent as soon as it is full; what is left, fewer than a part,
is written to a pending-chunk object (``.uploads/<id>.<offset>``, a new key each time so
that the database always names one that is complete), as tusd does, and read back in
front of the next PATCH. The last bytes of the upload become its last, shorter part.

Local disk (``PartialFileAppender``): an append-only partial file at the upload's staging
key, truncated to the recorded offset before each PATCH (a crashed PATCH's tail is cut
off); completion copies it to the final key like a form upload's staged object.

Memory stays flat: a part is spooled to a temporary file (at most 1 MiB in memory) and sent
from there with its exact length.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import anyio
import urllib3

from s3files._errors import StoreError
from s3files.direct import staging_key_for
from s3files.naming import validate_key
from s3files.server.db.models import DirectUpload, TusUpload
from s3files.store import AsyncFileStore
from s3files.stores.local import LocalStore

__all__ = ["Appended", "Appender", "appender_for"]

_SPOOL_IN_MEMORY = 1024 * 1024
_LOCAL_CHECKPOINT = 8 * 1024 * 1024  # bytes appended between two syncs of a partial file
_CHUNK = 1024 * 1024
_http = urllib3.PoolManager(
    num_pools=4, maxsize=16, retries=urllib3.Retry(total=3, backoff_factor=0.5)
)


@dataclass
class Appended:
    """A PATCH's outcome, to be committed with the new offset."""

    offset: int
    parts: list[list[Any]] = field(default_factory=list)
    pending_key: str | None = None
    pending_size: int = 0
    staging_key: str | None = None  # to record: the pending chunk (S3), the partial file
    obsolete_key: str | None = None  # the pending chunk the new state replaces


class Appender(Protocol):
    async def start(self, upload: DirectUpload) -> tuple[str | None, str | None]:
        """Prepare the store; (multipart id, staging key) to record."""
        ...

    async def append(
        self,
        upload: DirectUpload,
        tus: TusUpload,
        body: AsyncIterator[bytes],
        checkpoint: Callable[[Appended], Awaitable[None]],
    ) -> Appended:
        """Take the body's bytes after ``tus.offset`` (stored, not yet committed). At each
        point where what is stored so far is a consistent state, ``checkpoint`` gets it
        (to renew the PATCH lease, and to commit it when the PATCH has no checksum, so a
        dropped connection loses at most a part)."""
        ...

    async def undo(self, upload: DirectUpload, tus: TusUpload, appended: Appended) -> None:
        """Drop what ``append`` stored when the PATCH is refused (checksum mismatch)."""
        ...

    async def finish(self, upload: DirectUpload, tus: TusUpload) -> None:
        """Put the whole upload where completion verifies it."""
        ...


def appender_for(files: AsyncFileStore) -> Appender:
    store = files.store
    if isinstance(store, LocalStore):
        return PartialFileAppender(files, store)
    return MultipartAppender(files)


class _Spool:
    """A part being filled: in memory up to 1 MiB, then in a temporary file."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        self.size = 0

    async def write(self, data: bytes | memoryview) -> None:
        if self.size + len(data) > _SPOOL_IN_MEMORY:
            await anyio.to_thread.run_sync(self.file.write, data)
        else:
            self.file.write(data)
        self.size += len(data)

    def reset(self) -> None:
        self.file.close()
        self.file = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        self.size = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        self.file.seek(0)
        while True:
            data = await anyio.to_thread.run_sync(self.file.read, _CHUNK)
            if not data:
                return
            yield data


def _sync(handle: IO[bytes]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _put(url: str, body: IO[bytes], size: int) -> str:
    """PUT ``size`` bytes of ``body`` to a presigned part URL; the part's ETag."""
    body.seek(0)
    response = _http.urlopen(
        "PUT",
        url,
        body=body,
        headers={"Content-Length": str(size)},
        preload_content=True,
        retries=False,
    )
    if response.status != 200:
        raise StoreError(
            f"the store refused a part: HTTP {response.status} {response.data[:200]!r}"
        )
    etag = response.headers.get("ETag", "").strip('"')
    if not etag:
        raise StoreError("the store answered a part without an ETag")
    return etag


class MultipartAppender:
    """A multipart upload at the final key, plus a pending-chunk object (S3)."""

    def __init__(self, files: AsyncFileStore) -> None:
        self.files = files

    async def start(self, upload: DirectUpload) -> tuple[str | None, str | None]:
        multipart_id = await self.files.start_multipart(
            upload.key, content_type=upload.content_type
        )
        return multipart_id, None

    async def _send_part(self, upload: DirectUpload, number: int, spool: _Spool) -> list[Any]:
        assert upload.multipart_id is not None
        urls = await self.files.presign_parts(upload.key, upload.multipart_id, [number])
        size = spool.size
        etag = await anyio.to_thread.run_sync(_put, urls[number].url, spool.file, size)
        spool.reset()
        return [number, etag, size]

    async def append(
        self,
        upload: DirectUpload,
        tus: TusUpload,
        body: AsyncIterator[bytes],
        checkpoint: Callable[[Appended], Awaitable[None]],
    ) -> Appended:
        parts = [list(p) for p in tus.parts]
        part_size = tus.part_size
        spool = _Spool()
        try:
            if tus.pending_size and upload.staging_key:
                async for chunk in self.files.iter_bytes(upload.staging_key):
                    await spool.write(chunk)
                if spool.size != tus.pending_size:
                    raise StoreError(
                        f"the pending chunk has {spool.size} bytes, not {tus.pending_size}"
                    )
            offset = tus.offset
            async for chunk in body:
                view = memoryview(chunk)
                while view:
                    room = part_size - spool.size
                    await spool.write(view[:room])
                    offset += min(room, len(view))
                    view = view[room:]
                    if spool.size == part_size:
                        parts.append(await self._send_part(upload, len(parts) + 1, spool))
                        # the pending chunk is inside the part now: nothing else is pending
                        await checkpoint(
                            Appended(
                                offset=offset, parts=list(parts), obsolete_key=upload.staging_key
                            )
                        )
            appended = Appended(offset=offset, parts=parts, obsolete_key=upload.staging_key)
            if offset == tus.upload_length:
                if spool.size:
                    parts.append(await self._send_part(upload, len(parts) + 1, spool))
            elif spool.size:
                appended.pending_key = f"{staging_key_for(upload.id)}.{offset}"
                appended.pending_size = spool.size
                await self.files.receive_upload(
                    appended.pending_key, spool.chunks(), content_type="application/octet-stream"
                )
            appended.staging_key = appended.pending_key
            if appended.obsolete_key == appended.pending_key:
                appended.obsolete_key = None
            return appended
        finally:
            spool.file.close()

    async def undo(self, upload: DirectUpload, tus: TusUpload, appended: Appended) -> None:
        if appended.pending_key and appended.pending_key != upload.staging_key:
            await self.files.delete(appended.pending_key)

    async def finish(self, upload: DirectUpload, tus: TusUpload) -> None:
        assert upload.multipart_id is not None
        if await self.files.exists(upload.key):
            return  # assembled by an earlier try
        await self.files.complete_multipart(
            upload.key, upload.multipart_id, [(int(n), str(etag)) for n, etag, _ in tus.parts]
        )


class PartialFileAppender:
    """An append-only partial file at the staging key (local disk)."""

    def __init__(self, files: AsyncFileStore, store: LocalStore) -> None:
        self.files = files
        self.store = store

    def _path(self, key: str) -> Path:
        return Path(self.store.root) / validate_key(key)

    async def start(self, upload: DirectUpload) -> tuple[str | None, str | None]:
        key = staging_key_for(upload.id)
        path = self._path(key)

        def create() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()

        await anyio.to_thread.run_sync(create)
        return None, key

    async def append(
        self,
        upload: DirectUpload,
        tus: TusUpload,
        body: AsyncIterator[bytes],
        checkpoint: Callable[[Appended], Awaitable[None]],
    ) -> Appended:
        assert upload.staging_key is not None
        path = self._path(upload.staging_key)
        handle = await anyio.to_thread.run_sync(path.open, "r+b")
        offset = tus.offset
        try:
            await anyio.to_thread.run_sync(handle.truncate, offset)
            handle.seek(offset)
            since_checkpoint = 0
            async for chunk in body:
                await anyio.to_thread.run_sync(handle.write, chunk)
                offset += len(chunk)
                since_checkpoint += len(chunk)
                if since_checkpoint >= _LOCAL_CHECKPOINT:
                    await anyio.to_thread.run_sync(_sync, handle)
                    await checkpoint(Appended(offset=offset, staging_key=upload.staging_key))
                    since_checkpoint = 0
            await anyio.to_thread.run_sync(_sync, handle)
        finally:
            handle.close()
        return Appended(offset=offset, staging_key=upload.staging_key)

    async def undo(self, upload: DirectUpload, tus: TusUpload, appended: Appended) -> None:
        assert upload.staging_key is not None
        path = self._path(upload.staging_key)
        await anyio.to_thread.run_sync(os.truncate, path, tus.offset)

    async def finish(self, upload: DirectUpload, tus: TusUpload) -> None:
        return None  # completion copies the partial file (the staging key) to the final key
