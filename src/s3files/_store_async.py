"""AsyncFileStore: the async twin of ``FileStore`` (``s3files._store_sync``).

The twins have the same methods with the same typed parameters (a test compares them).
``FileStore`` does the work; ``AsyncFileStore`` runs each blocking step on a worker thread
(``anyio.to_thread``), so the event loop is never blocked, and reads async sources ahead on
the loop for it (``s3files._pulling``): one implementation, two faces. Presigning runs on a
thread too unless the store signs without I/O (``presign_is_local``: given credentials,
the local store); credentials that refresh (an IAM role, credential_process) may need the
network.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TypeVar

import anyio
import anyio.to_thread

from s3files._models import (
    Encryption,
    ListPage,
    MultipartUploadInfo,
    ObjectInfo,
    PresignedPost,
    PresignedURL,
    StoredFile,
    UploadPart,
)
from s3files._pulling import pulled
from s3files._store_core import UploadSource
from s3files._store_sync import FileStore
from s3files.direct import DirectUploadPlan, Rejection, VerifiedObject
from s3files.naming import NamingPolicy
from s3files.stores.base import Store
from s3files.validation import UploadPolicy

if TYPE_CHECKING:
    from s3files._config import Settings

__all__ = ["AsyncFileStore"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


class AsyncFileStore:
    """The async twin of ``FileStore``: the same methods with the same parameters, awaited;
    nothing that can reach the network (or the disk) runs on the event loop."""

    def __init__(self, files: FileStore, *, limiter: anyio.CapacityLimiter | None = None) -> None:
        self.sync = files
        self._limiter = limiter

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Self:
        """An AsyncFileStore configured entirely from ``Settings`` (environment and ``.env``)."""
        return cls(FileStore.from_settings(settings))

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        """``AsyncFileStore.from_url("s3://bucket/prefix")`` or ``("file:///srv/files")``."""
        return cls(FileStore.from_url(url, **options))

    def __repr__(self) -> str:
        return f"AsyncFileStore({self.store!r})"

    @property
    def store(self) -> Store:
        return self.sync.store

    @property
    def policy(self) -> UploadPolicy:
        """The upload policy (size limit, allowed extensions and types)."""
        return self.sync.policy

    @property
    def naming(self) -> NamingPolicy:
        """The naming policy that builds keys from filenames."""
        return self.sync.naming

    async def _run(self, func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run a blocking call on a worker thread (bounded by the limiter, if any)."""
        return await anyio.to_thread.run_sync(partial(func, *args, **kwargs), limiter=self._limiter)

    async def _run_fed(
        self, func: Callable[..., _T], data: UploadSource | AsyncIterable[bytes], **kwargs: Any
    ) -> _T:
        """``func(data, **kwargs)`` on a worker thread; an async ``data`` is read ahead on
        the event loop and fed to it (``s3files._pulling``)."""
        if not isinstance(data, AsyncIterable):
            return await self._run(func, data, **kwargs)
        async with pulled(data) as pieces:
            return await self._run(func, pieces, **kwargs)

    @property
    def _presign_is_local(self) -> bool:
        """True when the store signs without I/O (see ``presign_is_local`` on the stores);
        otherwise signing may fetch fresh credentials (an IAM role, credential_process)."""
        return getattr(self.store, "presign_is_local", False) is True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._run(self.sync.close)

    # Upload ------------------------------------------------------------------------

    async def upload(
        self,
        data: UploadSource | AsyncIterable[bytes],
        *,
        filename: str | None = None,
        folder: str | None = None,
        key: str | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        encryption: Encryption | None = None,
        kms_key_id: str | None = None,
        storage_class: str | None = None,
        content_disposition: str | None = None,
        expected_sha256: str | None = None,
    ) -> StoredFile:
        """``FileStore.upload``; ``data`` may also be an async iterator of bytes, read ahead
        on the event loop while the upload runs on a worker thread."""
        return await self._run_fed(
            self.sync.upload,
            data,
            filename=filename,
            folder=folder,
            key=key,
            content_type=content_type,
            metadata=metadata,
            tags=tags,
            encryption=encryption,
            kms_key_id=kms_key_id,
            storage_class=storage_class,
            content_disposition=content_disposition,
            expected_sha256=expected_sha256,
        )

    # Read ---------------------------------------------------------------------------

    async def head(self, key: str) -> ObjectInfo:
        return await self._run(self.sync.head, key)

    async def exists(self, key: str) -> bool:
        return await self._run(self.sync.exists, key)

    async def iter_bytes(
        self,
        key: str,
        *,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int | None = None,
    ) -> AsyncGenerator[bytes, None]:
        """Stream an object; each chunk is read on a worker thread (``aclose`` it when
        stopping early, so the store's stream is closed at once)."""
        iterator = await self._run(
            self.sync.iter_bytes, key, offset=offset, length=length, chunk_size=chunk_size
        )
        async for chunk in self._drain(iterator):
            yield chunk

    async def _drain(self, iterator: Iterator[_T]) -> AsyncIterator[_T]:
        done = object()
        try:
            while True:
                item = await self._run(next, iterator, done)
                if item is done:
                    return
                yield item  # type: ignore[misc]
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                await self._run(close)

    async def download(self, key: str, *, offset: int = 0, length: int | None = None) -> bytes:
        return await self._run(self.sync.download, key, offset=offset, length=length)

    async def download_file(self, key: str, path: str | os.PathLike[str]) -> int:
        return await self._run(self.sync.download_file, key, path)

    async def get_tags(self, key: str) -> dict[str, str]:
        return await self._run(self.sync.get_tags, key)

    async def list(
        self, prefix: str = "", *, page_size: int = 1000, token: str | None = None
    ) -> ListPage:
        return await self._run(self.sync.list, prefix, page_size=page_size, token=token)

    async def iter_objects(
        self, prefix: str = "", *, page_size: int = 1000
    ) -> AsyncGenerator[ObjectInfo, None]:
        async for info in self._drain(self.sync.iter_objects(prefix, page_size=page_size)):
            yield info

    async def search(self, prefix: str, *, limit: int = 100) -> builtins.list[ObjectInfo]:
        return await self._run(self.sync.search, prefix, limit=limit)

    # Change -------------------------------------------------------------------------

    async def copy(
        self,
        source_key: str,
        *,
        dest_key: str | None = None,
        folder: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ObjectInfo:
        return await self._run(
            self.sync.copy, source_key, dest_key=dest_key, folder=folder, metadata=metadata
        )

    async def delete(self, key: str) -> None:
        await self._run(self.sync.delete, key)

    # URLs ---------------------------------------------------------------------------

    async def presign_download(
        self,
        key: str,
        *,
        expires_in: int | None = None,
        force_download: bool = False,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> PresignedURL:
        sign = partial(
            self.sync.presign_download,
            key,
            expires_in=expires_in,
            force_download=force_download,
            filename=filename,
            content_type=content_type,
        )
        return sign() if self._presign_is_local else await self._run(sign)

    async def presign_upload(
        self, key: str, *, content_type: str, expires_in: int | None = None
    ) -> PresignedURL:
        sign = partial(
            self.sync.presign_upload, key, content_type=content_type, expires_in=expires_in
        )
        return sign() if self._presign_is_local else await self._run(sign)

    def public_url(self, key: str) -> str:
        return self.sync.public_url(key)

    # What the store's server does (for the local store, which the service serves) ------

    async def receive_upload(
        self,
        key: str,
        data: UploadSource | AsyncIterable[bytes],
        *,
        content_type: str,
        max_size: int | None = None,
        allow_empty: bool = True,
    ) -> str | None:
        """``FileStore.receive_upload``; ``data`` may be a request's async body stream."""
        return await self._run_fed(
            partial(self.sync.receive_upload, key),
            data,
            content_type=content_type,
            max_size=max_size,
            allow_empty=allow_empty,
        )

    async def receive_part(
        self,
        key: str,
        upload_id: str,
        number: int,
        data: UploadSource | AsyncIterable[bytes],
        *,
        max_size: int,
    ) -> str:
        """``FileStore.receive_part``; ``data`` may be a request's async body stream."""
        return await self._run_fed(
            partial(self.sync.receive_part, key, upload_id, number), data, max_size=max_size
        )

    async def stale_temporary_files(self, *, older_than: datetime, remove: bool = False) -> int:
        return await self._run(
            self.sync.stale_temporary_files, older_than=older_than, remove=remove
        )

    # Direct uploads (see s3files.direct) --------------------------------------------

    def limit_for(self, requested: int | None) -> int:
        return self.sync.limit_for(requested)

    async def presign_post(
        self,
        key: str,
        *,
        content_type: str,
        max_size: int,
        expires_in: int | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> PresignedPost:
        return await self._run(
            self.sync.presign_post,
            key,
            content_type=content_type,
            max_size=max_size,
            expires_in=expires_in,
            fields=fields,
        )

    async def start_multipart(
        self, key: str, *, content_type: str, content_disposition: str | None = None
    ) -> str:
        return await self._run(
            self.sync.start_multipart,
            key,
            content_type=content_type,
            content_disposition=content_disposition,
        )

    async def presign_parts(
        self,
        key: str,
        upload_id: str,
        numbers: Iterable[int],
        *,
        expires_in: int | None = None,
    ) -> dict[int, PresignedURL]:
        return await self._run(
            self.sync.presign_parts, key, upload_id, list(numbers), expires_in=expires_in
        )

    async def list_parts(self, key: str, upload_id: str) -> builtins.list[UploadPart]:
        return await self._run(self.sync.list_parts, key, upload_id)

    async def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]] | None = None
    ) -> str | None:
        return await self._run(self.sync.complete_multipart, key, upload_id, parts)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        await self._run(self.sync.abort_multipart, key, upload_id)

    async def list_multipart_uploads(self, prefix: str = "") -> builtins.list[MultipartUploadInfo]:
        return await self._run(self.sync.list_multipart_uploads, prefix)

    async def verify_object(
        self,
        key: str,
        *,
        filename: str,
        claimed_type: str | None,
        max_size: int,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        checksum: bool = False,
    ) -> VerifiedObject:
        return await self._run(
            self.sync.verify_object,
            key,
            filename=filename,
            claimed_type=claimed_type,
            max_size=max_size,
            expected_sha256=expected_sha256,
            expected_size=expected_size,
            checksum=checksum,
        )

    async def plan_direct_upload(
        self,
        filename: str,
        content_type: str | None,
        *,
        max_size: int | None = None,
        prefix: str | None = None,
        size: int | None = None,
        expires_in: int | None = None,
        key_prefix: str = "",
        owner: str | None = None,
    ) -> DirectUploadPlan:
        """``FileStore.plan_direct_upload``: pure computation, so it runs on the loop."""
        return self.sync.plan_direct_upload(
            filename,
            content_type,
            max_size=max_size,
            prefix=prefix,
            size=size,
            expires_in=expires_in,
            key_prefix=key_prefix,
            owner=owner,
        )

    async def sign_direct_upload(
        self, plan: DirectUploadPlan, *, fields: Mapping[str, str] | None = None
    ) -> PresignedPost:
        return await self._run(self.sync.sign_direct_upload, plan, fields=fields)

    async def verify_or_reject(
        self,
        key: str,
        *,
        filename: str,
        claimed_type: str | None,
        max_size: int,
        staging_key: str | None = None,
        expected_size: int | None = None,
        expected_sha256: str | None = None,
    ) -> VerifiedObject | Rejection:
        return await self._run(
            self.sync.verify_or_reject,
            key,
            filename=filename,
            claimed_type=claimed_type,
            max_size=max_size,
            staging_key=staging_key,
            expected_size=expected_size,
            expected_sha256=expected_sha256,
        )

    async def discard_direct_upload(
        self, key: str, *, staging_key: str | None = None, multipart_id: str | None = None
    ) -> None:
        await self._run(
            self.sync.discard_direct_upload, key, staging_key=staging_key, multipart_id=multipart_id
        )
