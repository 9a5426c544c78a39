"""FileStore and AsyncFileStore: validated, streaming file management over any store.

The twins have the same methods with the same typed parameters (a test compares them).
``FileStore`` does the work; ``AsyncFileStore`` runs each blocking step on a worker thread
(``anyio.to_thread``), so the event loop is never blocked, and reads async sources ahead on
the loop for it (``s3files._pulling``): one implementation, two faces. Presigning runs on a
thread too unless the store signs without I/O (``presign_is_local``: given credentials,
the local store); credentials that refresh (an IAM role, credential_process) may need the
network.

    >>> files = FileStore.from_url("file:///tmp/s3files-demo")
    >>> stored = files.upload(b"hello", filename="hello.txt")
    >>> files.download(stored.key)
    b'hello'
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
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, ParamSpec, Self, TypeVar
from urllib.parse import quote

import anyio
import anyio.to_thread

from s3files._errors import InvalidInputError, ObjectNotFoundError
from s3files._models import (
    STORAGE_CLASSES,
    Encryption,
    ListPage,
    MultipartUploadInfo,
    ObjectInfo,
    PresignedPost,
    PresignedURL,
    PutOptions,
    StoredFile,
    UploadPart,
    encode_metadata,
)
from s3files._pulling import pulled
from s3files._receiving import receive_object, receive_part, stale_temporary_files
from s3files.direct import DirectUploadPlan, DirectUploads, Rejection, VerifiedObject
from s3files.naming import (
    NamingPolicy,
    name_upload,
    sanitize_filename,
    sanitize_folder,
    validate_key,
)
from s3files.signing import LocalURLSigner
from s3files.stores.base import DEFAULT_CHUNK_SIZE, ObjectWriter, Store
from s3files.stores.local import LocalStore
from s3files.stores.s3 import S3Store
from s3files.validation import UploadPolicy, UploadValidator

if TYPE_CHECKING:  # settings (pydantic-settings, ~0.2 s) load only when a store is configured
    from s3files._config import Settings, StorageLocation

__all__ = ["AsyncFileStore", "FileStore", "UploadSource", "content_disposition", "open_store"]

UploadSource = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes] | Iterable[bytes]
_P = ParamSpec("_P")
_T = TypeVar("_T")


def content_disposition(disposition: str, filename: str) -> str:
    """``attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`` (RFC 6266/5987)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    ascii_name = ascii_name.replace("\\", "_").replace('"', "_")
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _iter_source(source: UploadSource, chunk_size: int) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source)
        for start in range(0, len(view), chunk_size):
            yield bytes(view[start : start + chunk_size])
    elif isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            while chunk := handle.read(chunk_size):
                yield chunk
    elif hasattr(source, "read"):
        while chunk := source.read(chunk_size):
            yield chunk
    else:
        for chunk in source:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise InvalidInputError("upload source must yield bytes", reason="invalid_source")
            yield bytes(chunk)


def open_store(settings: Settings) -> Store:
    """The store the settings name (S3 or local disk)."""
    location: StorageLocation = settings.storage_location()
    if location.scheme == "s3":
        return S3Store.from_config(settings.s3_config())
    assert location.path is not None
    return LocalStore(location.path, signer=_local_signer(settings))


def _local_signer(settings: Settings) -> LocalURLSigner:
    if settings.signing_key is not None:
        secret = settings.signing_key.get_secret_value().encode()
    else:
        key_file = settings.data_dir / "signing.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(os.urandom(32).hex())
        secret = key_file.read_text().strip().encode()
    return LocalURLSigner(secret, settings.public_base_url)


class FileStore(DirectUploads):
    """Upload, download, list, copy, delete and presign files on one store.

    Every upload is validated while it streams (size, extension, sniffed MIME type) and
    named by the naming policy; the raw filename never becomes the key.
    """

    def __init__(
        self,
        store: Store,
        *,
        policy: UploadPolicy | None = None,
        naming: NamingPolicy | None = None,
        encryption: Encryption | None = None,
        kms_key_id: str | None = None,
        upload_url_expiry: int = 3600,
        download_url_expiry: int = 300,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self.store = store
        self.policy = policy or UploadPolicy()
        self.naming = naming or NamingPolicy()
        self.encryption: Encryption | None = encryption
        self.kms_key_id = kms_key_id
        self.upload_url_expiry = upload_url_expiry
        self.download_url_expiry = download_url_expiry
        self.chunk_size = chunk_size

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Self:
        """A FileStore configured entirely from ``Settings`` (environment and ``.env``)."""
        from s3files._config import load_settings

        settings = settings or load_settings()
        encryption: Encryption | None = None
        if settings.s3_kms_key_id:
            encryption = "aws:kms"
        elif settings.s3_encrypt_at_rest:
            encryption = "AES256"
        return cls(
            open_store(settings),
            policy=settings.upload_policy(),
            naming=settings.naming_policy(),
            encryption=encryption,
            kms_key_id=settings.s3_kms_key_id,
            upload_url_expiry=settings.s3_presigned_url_expiry,
            download_url_expiry=settings.s3_download_url_expiry,
        )

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        """``FileStore.from_url("s3://bucket/prefix")`` or ``("file:///srv/files")``;
        other settings come from the environment, ``options`` override them."""
        from s3files._config import load_settings

        return cls.from_settings(load_settings(storage_url=url, **options))

    def __repr__(self) -> str:
        return f"FileStore({self.store!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    # Upload ------------------------------------------------------------------------

    def _put_options(
        self,
        *,
        content_type: str,
        filename: str,
        metadata: Mapping[str, Any] | None,
        tags: Mapping[str, str] | None,
        encryption: Encryption | None,
        kms_key_id: str | None,
        storage_class: str | None,
        disposition: str | None,
    ) -> PutOptions:
        if storage_class is not None and storage_class not in STORAGE_CLASSES:
            raise InvalidInputError(
                f"unknown storage class {storage_class!r}; one of {sorted(STORAGE_CLASSES)}",
                reason="invalid_storage_class",
            )
        if encryption not in (None, "AES256", "aws:kms"):
            raise InvalidInputError(
                f"encryption must be AES256 or aws:kms, not {encryption!r}",
                reason="invalid_encryption",
            )
        for tag_key, tag_value in (tags or {}).items():
            if not isinstance(tag_key, str) or not isinstance(tag_value, str) or not tag_key:
                raise InvalidInputError("tags must map strings to strings", reason="invalid_tags")
        chosen_encryption = encryption or self.encryption
        return PutOptions(
            content_type=content_type,
            content_disposition=disposition or content_disposition("attachment", filename),
            metadata=encode_metadata(metadata),
            tags=dict(tags or {}),
            encryption=chosen_encryption,
            kms_key_id=kms_key_id or (self.kms_key_id if chosen_encryption == "aws:kms" else None),
            storage_class=storage_class,
        )

    def upload(
        self,
        data: UploadSource,
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
        """Validate and store ``data`` (bytes, a path, a binary file or an iterator of bytes).

        The key is built from ``filename`` by the naming policy in ``folder``
        (``naming.name_upload``, as for every upload), or is ``key`` itself; the result's
        ``original_filename`` is the display name;
        ``content_type`` is only a claim, checked against the type sniffed from the content.
        Raises ``FileTooLargeError``, ``UnsupportedFileTypeError``, ``EmptyFileError`` ... and
        then leaves nothing in the store.
        """
        if filename is None and isinstance(data, str | os.PathLike):
            filename = Path(data).name
        if not filename:
            raise InvalidInputError("a filename is required", reason="filename_required")
        named = name_upload(filename, policy=self.naming, folder=folder)
        safe_name = named.safe_name
        target_key = validate_key(key) if key else named.key
        options = self._put_options(
            content_type="application/octet-stream",
            filename=named.display_name,
            metadata=metadata,
            tags=tags,
            encryption=encryption,
            kms_key_id=kms_key_id,
            storage_class=storage_class,
            disposition=content_disposition,
        )
        validator = UploadValidator(
            self.policy,
            filename=safe_name,
            claimed_type=content_type,
            expected_sha256=expected_sha256,
        )
        pending: list[bytes] = []
        writer: ObjectWriter | None = None
        try:
            for chunk in _iter_source(data, self.chunk_size):
                validator.feed(chunk)
                if writer is None:
                    pending.append(chunk)
                    if not validator.sniffed:
                        continue
                    options = replace(options, content_type=validator.content_type or "")
                    writer = self.store.open_writer(target_key, options)
                    chunk = b"".join(pending)
                    pending = []
                writer.write(chunk)
            result = validator.finish()
            if writer is None:
                options = replace(options, content_type=result.content_type)
                writer = self.store.open_writer(target_key, options)
                writer.write(b"".join(pending))
            etag = writer.commit()
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        return StoredFile(
            key=target_key,
            size=result.size,
            sha256=result.sha256,
            content_type=result.content_type,
            etag=etag,
            original_filename=named.display_name,
            bucket=self.store.bucket,
            metadata=dict(metadata or {}),
            tags=dict(options.tags),
            storage_class=options.storage_class or "STANDARD",
            encryption=options.encryption,
        )

    # Read ---------------------------------------------------------------------------

    def head(self, key: str) -> ObjectInfo:
        """Size, type, last modified, ETag, user metadata, storage class of one object."""
        return self.store.head(validate_key(key))

    def exists(self, key: str) -> bool:
        try:
            self.store.head(validate_key(key))
        except ObjectNotFoundError:
            return False
        return True

    def iter_bytes(
        self,
        key: str,
        *,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int | None = None,
    ) -> Iterator[bytes]:
        """Stream an object (or ``length`` bytes from ``offset``) in chunks."""
        if offset < 0 or (length is not None and length < 1):
            raise InvalidInputError(
                "offset must be >= 0 and length >= 1", reason="invalid_range", key=key
            )
        return self.store.iter_bytes(
            validate_key(key),
            offset=offset,
            length=length,
            chunk_size=chunk_size or self.chunk_size,
        )

    def download(self, key: str, *, offset: int = 0, length: int | None = None) -> bytes:
        """The object's bytes in memory; use ``iter_bytes`` or ``download_file`` for big ones."""
        return b"".join(self.iter_bytes(key, offset=offset, length=length))

    def download_file(self, key: str, path: str | os.PathLike[str]) -> int:
        """Stream an object into a file (written beside it, renamed into place); bytes written."""
        target = Path(path)
        partial_path = target.with_name(f".{target.name}.part")
        written = 0
        try:
            with partial_path.open("wb") as handle:
                for chunk in self.iter_bytes(key):
                    handle.write(chunk)
                    written += len(chunk)
            partial_path.replace(target)
        finally:
            partial_path.unlink(missing_ok=True)
        return written

    def get_tags(self, key: str) -> dict[str, str]:
        return self.store.get_tags(validate_key(key))

    def list(
        self, prefix: str = "", *, page_size: int = 1000, token: str | None = None
    ) -> ListPage:
        """One page of objects whose keys start with ``prefix``."""
        return self.store.list_page(prefix, page_size=page_size, token=token)

    def iter_objects(self, prefix: str = "", *, page_size: int = 1000) -> Iterator[ObjectInfo]:
        """Every object under ``prefix``, page by page, in constant memory."""
        token: str | None = None
        while True:
            page = self.store.list_page(prefix, page_size=page_size, token=token)
            yield from page.items
            if not page.next_token:
                return
            token = page.next_token

    def search(self, prefix: str, *, limit: int = 100) -> builtins.list[ObjectInfo]:
        """Objects whose keys start with ``prefix`` (at most ``limit``)."""
        found: builtins.list[ObjectInfo] = []
        for info in self.iter_objects(prefix, page_size=min(limit, 1000)):
            found.append(info)
            if len(found) >= limit:
                break
        return found

    # Change -------------------------------------------------------------------------

    def copy(
        self,
        source_key: str,
        *,
        dest_key: str | None = None,
        folder: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ObjectInfo:
        """Copy to ``dest_key``, or to ``folder`` under the same file name; ``metadata``
        replaces the user metadata."""
        validate_key(source_key)
        if dest_key is None:
            if folder is None:
                raise InvalidInputError("copy needs dest_key or folder", reason="copy_target")
            name = source_key.rsplit("/", 1)[-1]
            safe_folder = sanitize_folder(folder)
            dest_key = f"{safe_folder}/{name}" if safe_folder else name
        validate_key(dest_key)
        if dest_key == source_key and metadata is None:
            raise InvalidInputError("copy onto itself changes nothing", reason="copy_target")
        encoded = encode_metadata(metadata) if metadata is not None else None
        return self.store.copy(source_key, dest_key, metadata=encoded)

    def delete(self, key: str) -> None:
        """Remove an object; deleting a missing object is not an error."""
        self.store.delete(validate_key(key))

    # URLs ---------------------------------------------------------------------------

    def presign_download(
        self,
        key: str,
        *,
        expires_in: int | None = None,
        force_download: bool = False,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> PresignedURL:
        """A short-lived GET URL; ``force_download`` makes browsers save it as ``filename``."""
        validate_key(key)
        overrides: dict[str, str] = {}
        if force_download or filename:
            name = sanitize_filename(filename or key.rsplit("/", 1)[-1])
            kind = "attachment" if force_download else "inline"
            overrides["content-disposition"] = content_disposition(kind, name)
        if content_type:
            overrides["content-type"] = content_type
        return self.store.presign(
            "GET",
            key,
            expires_in=self._expiry(expires_in, self.download_url_expiry),
            response_headers=overrides,
        )

    def presign_upload(
        self, key: str, *, content_type: str, expires_in: int | None = None
    ) -> PresignedURL:
        """A short-lived PUT URL; the client must send exactly this ``Content-Type``."""
        return self.store.presign(
            "PUT",
            validate_key(key),
            expires_in=self._expiry(expires_in, self.upload_url_expiry),
            content_type=content_type,
        )

    @staticmethod
    def _expiry(requested: int | None, default: int) -> int:
        value = default if requested is None else requested
        if not 1 <= value <= 604800:
            raise InvalidInputError(
                "expiry must be between 1 second and 7 days", reason="invalid_expiry"
            )
        return value

    def public_url(self, key: str) -> str:
        return self.store.public_url(validate_key(key))

    # What the store's server does (for the local store, which the service serves) ------

    def receive_upload(
        self,
        key: str,
        data: UploadSource,
        *,
        content_type: str,
        max_size: int | None = None,
        allow_empty: bool = True,
    ) -> str | None:
        """Store the bytes of a presigned PUT or POST under ``key`` as they come: no upload
        policy (the object is checked by ``verify_object`` afterwards), at most
        ``max_size`` bytes; nothing is left behind on error. Returns the ETag."""
        return receive_object(
            self.store,
            validate_key(key),
            _iter_source(data, self.chunk_size),
            content_type=content_type,
            max_size=max_size,
            allow_empty=allow_empty,
        )

    def receive_part(
        self, key: str, upload_id: str, number: int, data: UploadSource, *, max_size: int
    ) -> str:
        """Store one part of a multipart upload sent to a presigned part URL of the local
        store; returns its ETag. ``StoreError`` on S3, which receives its parts itself."""
        return receive_part(
            self.store,
            validate_key(key),
            upload_id,
            number,
            _iter_source(data, self.chunk_size),
            max_size=max_size,
        )

    def stale_temporary_files(self, *, older_than: datetime, remove: bool = False) -> int:
        """Writes that a killed process left in the local store before ``older_than``
        (deleted with ``remove``); always 0 on S3."""
        return stale_temporary_files(self.store, older_than=older_than, remove=remove)


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
