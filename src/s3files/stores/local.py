"""The local-disk store: objects are files under a root directory.

Layout::

    <root>/<key>                          the bytes
    <root>/.s3files/meta/<key>.json       content type, disposition, metadata, tags, ETag
    <root>/.s3files/tmp/<random>          writes in progress, renamed into place on commit

A write goes to a temporary file on the same file system and is renamed into place, so a
reader never sees half an object. Presigned URLs are HMAC tokens that the s3files service
verifies (``signing.LocalURLSigner``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from s3files._errors import (
    InvalidInputError,
    InvalidKeyError,
    ObjectExistsError,
    ObjectNotFoundError,
    PermissionDeniedError,
    StoreError,
    StoreUnavailableError,
)
from s3files._models import ListPage, ObjectInfo, PresignedURL, PutOptions, decode_metadata
from s3files.naming import validate_key
from s3files.signing import LocalURLSigner
from s3files.stores.base import DEFAULT_CHUNK_SIZE, decode_token, encode_token
from s3files.stores.local_direct import LocalDirectUploads

_logger = logging.getLogger("s3files")

__all__ = ["LocalStore", "translate_os_errors"]

_INTERNAL = ".s3files"


@contextlib.contextmanager
def translate_os_errors(key: str | None) -> Iterator[None]:
    """The one place where OSError becomes an s3files error."""
    try:
        yield
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise ObjectNotFoundError("no such object", key=key) from exc
    except NotADirectoryError as exc:
        raise ObjectExistsError("an object exists where a folder is needed", key=key) from exc
    except PermissionError as exc:
        raise PermissionDeniedError("permission denied on the local store", key=key) from exc
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS):
            raise StoreUnavailableError(f"local store failed: {exc.strerror}", key=key) from exc
        if exc.errno == errno.ENAMETOOLONG:
            raise InvalidKeyError("key is too long for the local file system", key=key) from exc
        raise StoreError(f"local store error: {exc}", key=key) from exc


class _LocalWriter:
    def __init__(self, store: LocalStore, key: str, options: PutOptions) -> None:
        self._store = store
        self._key = key
        self._options = options
        self._tmp = store._tmp_dir / uuid.uuid4().hex
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._size = 0
        self._file: IO[bytes] | None
        with translate_os_errors(key):
            self._file = self._tmp.open("xb")

    def write(self, data: bytes) -> None:
        if self._file is None:
            raise StoreError("writer is closed", key=self._key)
        with translate_os_errors(self._key):
            self._file.write(data)
        self._md5.update(data)
        self._size += len(data)

    def commit(self) -> str | None:
        if self._file is None:
            raise StoreError("writer is closed", key=self._key)
        etag = self._md5.hexdigest()
        target = self._store._path(self._key)
        with translate_os_errors(self._key):
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
            target.parent.mkdir(parents=True, exist_ok=True)
            self._store._write_meta(self._key, self._options, etag)
            os.replace(self._tmp, target)
        return etag

    def abort(self) -> None:
        """Remove the temporary file; a failure is logged, never raised over the error
        that made the caller abort."""
        try:
            if self._file is not None:
                self._file.close()
                self._file = None
            self._tmp.unlink(missing_ok=True)
        except OSError as exc:
            _logger.error("could not remove the temporary file %s: %s", self._tmp, exc)


class LocalStore(LocalDirectUploads):
    """Objects as files under ``root``; thread-safe, every write atomic."""

    def __init__(
        self, root: str | os.PathLike[str], *, signer: LocalURLSigner | None = None
    ) -> None:
        self.root = Path(root).absolute()
        self._meta_dir = self.root / _INTERNAL / "meta"
        self._tmp_dir = self.root / _INTERNAL / "tmp"
        self._tmp_dir.mkdir(parents=True, exist_ok=True)
        self._meta_dir.mkdir(parents=True, exist_ok=True)
        self.signer = signer

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    @property
    def bucket(self) -> str | None:
        return None

    @property
    def presign_is_local(self) -> bool:
        """Always True: local URLs are HMAC tokens, signed without I/O."""
        return True

    # Paths -------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        validate_key(key)
        if key.split("/", 1)[0] == _INTERNAL:
            raise InvalidKeyError(f"keys under {_INTERNAL}/ are reserved", key=key)
        path = self.root / key
        if self.root not in path.parents:
            raise InvalidKeyError("key resolves outside the store", key=key)
        return path

    def _meta_path(self, key: str) -> Path:
        return self._meta_dir / f"{key}.json"

    def _write_meta(self, key: str, options: PutOptions, etag: str) -> None:
        record = {
            "content_type": options.content_type,
            "content_disposition": options.content_disposition,
            "metadata": dict(options.metadata),
            "tags": dict(options.tags),
            "storage_class": options.storage_class,
            "etag": etag,
        }
        self._write_meta_record(key, record)

    def _write_meta_record(self, key: str, record: Mapping[str, Any]) -> None:
        path = self._meta_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp_dir / f"{uuid.uuid4().hex}.json"
        tmp.write_text(json.dumps(record))
        os.replace(tmp, path)

    def _read_meta(self, key: str) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads(self._meta_path(key).read_text())
            return loaded
        except (FileNotFoundError, ValueError):
            return {}

    # Operations --------------------------------------------------------------------

    def open_writer(self, key: str, options: PutOptions) -> _LocalWriter:
        self._path(key)
        return _LocalWriter(self, key, options)

    def head(self, key: str) -> ObjectInfo:
        path = self._path(key)
        with translate_os_errors(key):
            stat = path.stat()
            if not path.is_file():
                raise FileNotFoundError(key)
        meta = self._read_meta(key)
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            etag=meta.get("etag"),
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
            content_type=meta.get("content_type") or "application/octet-stream",
            content_disposition=meta.get("content_disposition"),
            metadata=decode_metadata(meta.get("metadata") or {}),
            storage_class=meta.get("storage_class") or "STANDARD",
            encryption=None,
        )

    def iter_bytes(
        self,
        key: str,
        *,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Iterator[bytes]:
        path = self._path(key)
        with translate_os_errors(key):
            handle = path.open("rb")
        return self._read_range(handle, key, offset, length, chunk_size)

    def _read_range(
        self, handle: IO[bytes], key: str, offset: int, length: int | None, chunk_size: int
    ) -> Iterator[bytes]:
        with handle:
            size = os.fstat(handle.fileno()).st_size
            if offset and offset >= size:
                raise InvalidInputError(
                    f"range starts at {offset}, past the end ({size} bytes)",
                    reason="invalid_range",
                    key=key,
                )
            handle.seek(offset)
            remaining = size - offset if length is None else min(length, size - offset)
            while remaining > 0:
                chunk = handle.read(min(chunk_size, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

    def get_tags(self, key: str) -> dict[str, str]:
        self.head(key)
        tags: dict[str, str] = self._read_meta(key).get("tags") or {}
        return tags

    def delete(self, key: str) -> None:
        path = self._path(key)
        with translate_os_errors(key):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            with contextlib.suppress(FileNotFoundError):
                self._meta_path(key).unlink()
        self._prune_empty_dirs(path.parent, self.root)
        self._prune_empty_dirs(self._meta_path(key).parent, self._meta_dir)

    @staticmethod
    def _prune_empty_dirs(directory: Path, stop: Path) -> None:
        while directory != stop and stop in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    def copy(
        self, source_key: str, dest_key: str, *, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        source = self._path(source_key)
        target = self._path(dest_key)
        record = self._read_meta(source_key)
        if metadata is not None:
            record["metadata"] = dict(metadata)
        tmp = self._tmp_dir / uuid.uuid4().hex
        try:
            with translate_os_errors(source_key):
                shutil.copyfile(source, tmp)
            with translate_os_errors(dest_key):
                target.parent.mkdir(parents=True, exist_ok=True)
                self._write_meta_record(dest_key, record)
                os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return self.head(dest_key)

    def _walk(self, directory: Path, key_prefix: str, after: str | None) -> Iterator[str]:
        """Keys below ``directory`` in S3's order (UTF-8 byte order of the whole key)."""
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return
        named = []
        for entry in entries:
            if not key_prefix and entry.name == _INTERNAL:
                continue
            is_dir = entry.is_dir(follow_symlinks=False)
            if not is_dir and not entry.is_file(follow_symlinks=False):
                continue
            sort_key = key_prefix + entry.name + ("/" if is_dir else "")
            named.append((sort_key.encode("utf-8", "surrogateescape"), sort_key, is_dir, entry))
        named.sort()
        for _, key, is_dir, entry in named:
            if is_dir:
                if after is not None and key < after and not after.startswith(key):
                    continue
                yield from self._walk(Path(entry.path), key, after)
            elif after is None or key > after:
                yield key

    def list_page(
        self, prefix: str = "", *, page_size: int = 1000, token: str | None = None
    ) -> ListPage:
        if page_size < 1:
            raise InvalidInputError("page_size must be at least 1", reason="invalid_page_size")
        after = decode_token(token) if token else None
        folder, _, _ = prefix.rpartition("/")
        start = self.root / folder if folder else self.root
        if folder:
            validate_key(folder)
        items: list[ObjectInfo] = []
        next_token = None
        for key in self._walk(start, f"{folder}/" if folder else "", after):
            if not key.startswith(prefix):
                continue
            if len(items) == page_size:
                next_token = encode_token(items[-1].key)
                break
            try:
                items.append(self.head(key))
            except ObjectNotFoundError:
                continue  # deleted while listing
        return ListPage(items=items, next_token=next_token, prefix=prefix)

    def presign(
        self,
        method: str,
        key: str,
        *,
        expires_in: int,
        content_type: str | None = None,
        response_headers: Mapping[str, str] | None = None,
    ) -> PresignedURL:
        self._path(key)
        if self.signer is None:
            raise StoreError(
                "this local store has no URL signer; configure S3FILES_SIGNING_KEY", key=key
            )
        params = {f"response-{k}": v for k, v in (response_headers or {}).items()}
        headers = {}
        if method == "PUT" and content_type:
            params["content-type"] = content_type
            headers["Content-Type"] = content_type
        url, expires_at = self.signer.sign(method, key, expires_in=expires_in, params=params)
        return PresignedURL(url=url, method=method, expires_at=expires_at, headers=headers)

    def public_url(self, key: str) -> str:
        return self._path(key).as_uri()

    def close(self) -> None:
        return None
