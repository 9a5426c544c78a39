"""What a store's own server does with signed uploads, for the store the s3files service
serves itself (the local disk): take the bytes of a presigned PUT, POST or part as they
come, and tidy writes that a killed process left behind.

The upload policy does not apply here (as on S3, where the bytes never reach s3files):
the object is checked afterwards (``FileStore.verify_object``). ``FileStore`` and
``AsyncFileStore`` expose these as ``receive_upload``, ``receive_part`` and
``stale_temporary_files``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime

from s3files._errors import EmptyFileError, FileTooLargeError, StoreError
from s3files._models import PutOptions
from s3files.stores.base import Store
from s3files.stores.local import LocalStore

__all__ = ["receive_object", "receive_part", "stale_temporary_files"]


def receive_object(
    store: Store,
    key: str,
    chunks: Iterable[bytes],
    *,
    content_type: str,
    max_size: int | None,
    allow_empty: bool,
) -> str | None:
    """Store ``chunks`` under ``key``; more than ``max_size`` bytes raises
    ``FileTooLargeError`` and none (unless ``allow_empty``) ``EmptyFileError``, leaving
    nothing behind. Returns the ETag."""
    writer = store.open_writer(key, PutOptions(content_type=content_type))
    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if max_size is not None and size > max_size:
                raise FileTooLargeError(
                    f"file is larger than the allowed {max_size} bytes",
                    limit=max_size,
                    reason="file_too_large",
                    key=key,
                )
            writer.write(chunk)
        if size == 0 and not allow_empty:
            raise EmptyFileError("file is empty", reason="empty_file", key=key)
        return writer.commit()
    except BaseException:
        writer.abort()
        raise


def _local(store: Store, what: str) -> LocalStore:
    if not isinstance(store, LocalStore):
        raise StoreError(f"{store!r} receives {what} itself; only the local store needs s3files")
    return store


def receive_part(
    store: Store, key: str, upload_id: str, number: int, chunks: Iterable[bytes], *, max_size: int
) -> str:
    """One part of a multipart upload on the local store (S3 receives its parts itself)."""
    return _local(store, "parts").write_part(key, upload_id, number, chunks, max_size=max_size)


def stale_temporary_files(store: Store, *, older_than: datetime, remove: bool) -> int:
    """How many writes a killed process left in the local store's temporary folder before
    ``older_than`` (removed with ``remove``); 0 on other stores, whose unfinished writes are
    multipart uploads (``list_multipart_uploads``)."""
    if not isinstance(store, LocalStore):
        return 0
    count = 0
    for path in (store.root / ".s3files" / "tmp").iterdir():
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < older_than.timestamp():
                count += 1
                if remove:
                    path.unlink()
    return count
