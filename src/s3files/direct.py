"""Direct-to-store uploads in the core: sign a POST policy or multipart part URLs, and
verify an object that a client uploaded before anything trusts it.

    post = files.presign_post(key, content_type="image/png", max_size=5 * 1024 * 1024)
    # … the browser POSTs post.fields + the file to post.url …
    verified = files.verify_object(key, filename="photo.png", claimed_type="image/png",
                                   max_size=5 * 1024 * 1024)   # raises, and the caller deletes

These are mixed into ``FileStore``; the service and the Django app both build on them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from s3files._errors import (
    ChecksumMismatchError,
    EmptyFileError,
    FileTooLargeError,
    InvalidInputError,
    StoreError,
)
from s3files._models import MultipartUploadInfo, PresignedPost, PresignedURL, PutOptions, UploadPart
from s3files.naming import validate_key
from s3files.stores.base import Store
from s3files.stores.direct import MAX_PARTS, MIN_PART_SIZE, DirectUploadStore
from s3files.validation import (
    SNIFF_BYTES,
    UploadPolicy,
    resolve_content_type,
    sniff_mime_type,
)

__all__ = ["DirectUploads", "VerifiedObject", "plan_parts"]

MAX_PART_BATCH = 100


@dataclass(frozen=True, slots=True)
class VerifiedObject:
    """What verification learned about an uploaded object."""

    size: int
    content_type: str
    etag: str | None
    sha256: str | None  # only when a checksum was asked for (it needs a full read)


def plan_parts(size: int, *, part_size: int = 8 * 1024 * 1024) -> tuple[int, int]:
    """(part size, part count) for an object of ``size`` bytes within S3's limits."""
    if size < 1:
        raise InvalidInputError("size must be at least 1 byte", reason="invalid_size")
    part_size = max(part_size, MIN_PART_SIZE, -(-size // MAX_PARTS))
    return part_size, -(-size // part_size)


class _FilesBase(Protocol):
    @property
    def store(self) -> Store: ...

    @property
    def policy(self) -> UploadPolicy: ...

    @property
    def upload_url_expiry(self) -> int: ...


def _direct(store: Store) -> DirectUploadStore:
    if not isinstance(store, DirectUploadStore):
        raise StoreError(f"{store!r} does not support direct uploads")
    return store


class DirectUploads:
    """Direct-upload operations of ``FileStore``."""

    def limit_for(self: _FilesBase, requested: int | None) -> int:
        """The size limit of a direct upload: what the client asks, capped by the policy."""
        cap = self.policy.max_size
        if requested is not None and requested < 1:
            raise InvalidInputError("max_file_size must be at least 1 byte", reason="invalid_size")
        if cap is None:
            return requested or 5 * 1024**4
        return min(requested or cap, cap)

    def presign_post(
        self: _FilesBase,
        key: str,
        *,
        content_type: str,
        max_size: int,
        expires_in: int | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> PresignedPost:
        """A form upload bound to exactly ``key``, ``content_type`` and 1..``max_size``;
        ``fields`` (such as ``success_action_redirect``) are signed as exact matches."""
        if not content_type or len(content_type) > 255 or "\n" in content_type:
            raise InvalidInputError("content type is malformed", reason="invalid_content_type")
        return _direct(self.store).presign_post(
            validate_key(key),
            content_type=content_type,
            max_size=max_size,
            expires_in=expires_in or min(self.upload_url_expiry, 3600),
            fields=fields,
        )

    def start_multipart(
        self: _FilesBase, key: str, *, content_type: str, content_disposition: str | None = None
    ) -> str:
        options = PutOptions(content_type=content_type, content_disposition=content_disposition)
        return _direct(self.store).create_multipart(validate_key(key), options)

    def presign_parts(
        self: _FilesBase,
        key: str,
        upload_id: str,
        numbers: Iterable[int],
        *,
        expires_in: int | None = None,
    ) -> dict[int, PresignedURL]:
        """Part URLs, at most 100 per call."""
        wanted = sorted(set(numbers))
        if not wanted or len(wanted) > MAX_PART_BATCH or wanted[0] < 1 or wanted[-1] > MAX_PARTS:
            raise InvalidInputError(
                f"ask for 1 to {MAX_PART_BATCH} part numbers between 1 and {MAX_PARTS}",
                reason="invalid_part_numbers",
            )
        store = _direct(self.store)
        seconds = expires_in or min(self.upload_url_expiry, 3600)
        return {n: store.presign_part(key, upload_id, n, expires_in=seconds) for n in wanted}

    def list_parts(self: _FilesBase, key: str, upload_id: str) -> list[UploadPart]:
        return _direct(self.store).list_parts(validate_key(key), upload_id)

    def complete_multipart(
        self: _FilesBase, key: str, upload_id: str, parts: Sequence[tuple[int, str]] | None = None
    ) -> str | None:
        """Assemble the parts (by default every uploaded part, in order)."""
        store = _direct(self.store)
        if parts is None:
            uploaded = store.list_parts(key, upload_id)
            numbers = [p.number for p in uploaded]
            if numbers != list(range(1, len(numbers) + 1)):
                raise InvalidInputError(
                    f"parts are missing: uploaded {numbers[:20]}", reason="missing_parts", key=key
                )
            parts = [(p.number, p.etag) for p in uploaded]
        return store.complete_multipart(validate_key(key), upload_id, parts)

    def abort_multipart(self: _FilesBase, key: str, upload_id: str) -> None:
        _direct(self.store).abort_multipart(validate_key(key), upload_id)

    def list_multipart_uploads(self: _FilesBase, prefix: str = "") -> list[MultipartUploadInfo]:
        return list(_direct(self.store).list_multipart_uploads(prefix))

    def verify_object(
        self: _FilesBase,
        key: str,
        *,
        filename: str,
        claimed_type: str | None,
        max_size: int,
        expected_sha256: str | None = None,
    ) -> VerifiedObject:
        """Check an uploaded object: it exists, 1..``max_size`` bytes, its type sniffed from
        the first bytes (a ranged read) is allowed and agrees with the claim, and its SHA-256
        matches when one is expected (a full streaming read). Raises the typed error."""
        info = self.store.head(validate_key(key))
        if info.size == 0:
            raise EmptyFileError("uploaded file is empty", reason="empty_file", key=key)
        if info.size > max_size:
            raise FileTooLargeError(
                f"uploaded file is larger than {max_size} bytes",
                limit=max_size,
                reason="file_too_large",
                key=key,
            )
        extension = self.policy.check_extension(filename)
        head = b"".join(self.store.iter_bytes(key, length=min(SNIFF_BYTES, info.size)))
        content_type = resolve_content_type(sniff_mime_type(head), extension, claimed_type)
        self.policy.check_mime_type(content_type)
        digest = None
        if expected_sha256:
            hasher: Any = hashlib.sha256()
            for chunk in self.store.iter_bytes(key):
                hasher.update(chunk)
            digest = hasher.hexdigest()
            if digest != expected_sha256.lower():
                raise ChecksumMismatchError(
                    f"uploaded file's SHA-256 is {digest}, expected {expected_sha256}",
                    reason="checksum_mismatch",
                    key=key,
                )
        return VerifiedObject(
            size=info.size, content_type=content_type, etag=info.etag, sha256=digest
        )
