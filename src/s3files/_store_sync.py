"""FileStore: validated, streaming file management over any store (the blocking twin;
``AsyncFileStore`` in ``s3files._store_async`` runs it off the event loop).

    >>> files = FileStore.from_url("file:///tmp/s3files-demo")
    >>> stored = files.upload(b"hello", filename="hello.txt")
    >>> files.download(stored.key)
    b'hello'
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from s3files._errors import InvalidInputError, ObjectNotFoundError
from s3files._models import (
    Encryption,
    ListPage,
    ObjectInfo,
    PresignedURL,
    StoredFile,
    encode_metadata,
)
from s3files._receiving import receive_object, receive_part, stale_temporary_files
from s3files._store_core import UploadSource, checked_expiry, content_disposition, put_options
from s3files.direct import DirectUploads
from s3files.naming import (
    NamingPolicy,
    display_name,
    name_upload,
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

__all__ = ["FileStore", "iter_source", "open_store"]


def iter_source(source: UploadSource, chunk_size: int) -> Iterator[bytes]:
    """The bytes of an upload source, ``chunk_size`` at a time."""
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
        options = put_options(
            content_type="application/octet-stream",
            filename=named.display_name,
            metadata=metadata,
            tags=tags,
            encryption=encryption,
            kms_key_id=kms_key_id,
            storage_class=storage_class,
            disposition=content_disposition,
            default_encryption=self.encryption,
            default_kms_key_id=self.kms_key_id,
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
            for chunk in iter_source(data, self.chunk_size):
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
            last = (filename or key).replace("\\", "/").rsplit("/", 1)[-1]
            name = display_name(last)  # as /download names it: emoji and accents kept
            kind = "attachment" if force_download else "inline"
            overrides["content-disposition"] = content_disposition(kind, name)
        if content_type:
            overrides["content-type"] = content_type
        return self.store.presign(
            "GET",
            key,
            expires_in=checked_expiry(expires_in, self.download_url_expiry),
            response_headers=overrides,
        )

    def presign_upload(
        self, key: str, *, content_type: str, expires_in: int | None = None
    ) -> PresignedURL:
        """A short-lived PUT URL; the client must send exactly this ``Content-Type``."""
        return self.store.presign(
            "PUT",
            validate_key(key),
            expires_in=checked_expiry(expires_in, self.upload_url_expiry),
            content_type=content_type,
        )

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
            iter_source(data, self.chunk_size),
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
            iter_source(data, self.chunk_size),
            max_size=max_size,
        )

    def stale_temporary_files(self, *, older_than: datetime, remove: bool = False) -> int:
        """Writes that a killed process left in the local store before ``older_than``
        (deleted with ``remove``); always 0 on S3."""
        return stale_temporary_files(self.store, older_than=older_than, remove=remove)
