"""What FileStore and AsyncFileStore share, without I/O: the sources an upload takes,
the Content-Disposition of a download, the checked options of a write and of a URL."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import IO, Any
from urllib.parse import quote

from s3files._errors import InvalidInputError
from s3files._models import STORAGE_CLASSES, Encryption, PutOptions, encode_metadata

__all__ = ["UploadSource", "checked_expiry", "content_disposition", "put_options"]

UploadSource = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes] | Iterable[bytes]
MAX_URL_EXPIRY = 604800  # seven days, S3's limit for a presigned URL


def content_disposition(disposition: str, filename: str) -> str:
    """``attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`` (RFC 6266/5987)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    ascii_name = ascii_name.replace("\\", "_").replace('"', "_")
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def checked_expiry(requested: int | None, default: int) -> int:
    """The lifetime of a presigned URL: ``requested`` or ``default``, 1 s to 7 days."""
    value = default if requested is None else requested
    if not 1 <= value <= MAX_URL_EXPIRY:
        raise InvalidInputError(
            "expiry must be between 1 second and 7 days", reason="invalid_expiry"
        )
    return value


def put_options(
    *,
    content_type: str,
    filename: str,
    metadata: Mapping[str, Any] | None,
    tags: Mapping[str, str] | None,
    encryption: Encryption | None,
    kms_key_id: str | None,
    storage_class: str | None,
    disposition: str | None,
    default_encryption: Encryption | None,
    default_kms_key_id: str | None,
) -> PutOptions:
    """The checked options of one write (the defaults are the FileStore's)."""
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
    chosen_encryption = encryption or default_encryption
    return PutOptions(
        content_type=content_type,
        content_disposition=disposition or content_disposition("attachment", filename),
        metadata=encode_metadata(metadata),
        tags=dict(tags or {}),
        encryption=chosen_encryption,
        kms_key_id=kms_key_id or (default_kms_key_id if chosen_encryption == "aws:kms" else None),
        storage_class=storage_class,
    )
