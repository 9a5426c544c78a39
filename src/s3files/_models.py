"""Value objects returned by the stores and FileStore: immutable, typed, no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from s3files._errors import InvalidInputError

__all__ = [
    "STORAGE_CLASSES",
    "Encryption",
    "ListPage",
    "MultipartUploadInfo",
    "ObjectInfo",
    "PresignedPost",
    "PresignedURL",
    "PutOptions",
    "StoredFile",
    "UploadPart",
    "decode_metadata",
    "encode_metadata",
]

Encryption = Literal["AES256", "aws:kms"]

STORAGE_CLASSES = frozenset(
    {
        "STANDARD",
        "REDUCED_REDUNDANCY",
        "STANDARD_IA",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER",
        "GLACIER_IR",
        "DEEP_ARCHIVE",
    }
)
MAX_METADATA_BYTES = 2048  # AWS's limit for all user metadata of one object
_METADATA_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def encode_metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """User metadata (JSON-compatible values) as S3 header values: each value JSON-encoded.

    Keys are lower-cased and limited to letters, digits, '-' and '_' so that they survive
    HTTP header handling; the total is limited to 2 KiB as on AWS.
    """
    if not metadata:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidInputError("metadata must be a JSON object", reason="invalid_metadata")
    encoded: dict[str, str] = {}
    for raw_key, value in metadata.items():
        key = str(raw_key).lower()
        if not key or len(key) > 128 or not set(key) <= _METADATA_KEY_CHARS:
            raise InvalidInputError(
                f"metadata key {str(raw_key)[:64]!r} may contain only letters, digits, '-' and '_'",
                reason="invalid_metadata",
            )
        try:
            json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
            encoded[key] = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError, UnicodeEncodeError) as exc:
            raise InvalidInputError(
                f"metadata value of {key!r} is not JSON-compatible", reason="invalid_metadata"
            ) from exc
    size = sum(len(k) + len(v) for k, v in encoded.items())
    if size > MAX_METADATA_BYTES:
        raise InvalidInputError(
            f"metadata is {size} bytes encoded; the limit is {MAX_METADATA_BYTES}",
            reason="metadata_too_large",
        )
    return encoded


def decode_metadata(headers: Mapping[str, str]) -> dict[str, Any]:
    """The inverse of ``encode_metadata``; values that are not JSON stay plain strings."""
    decoded: dict[str, Any] = {}
    for key, value in headers.items():
        try:
            decoded[key] = json.loads(value)
        except ValueError:
            decoded[key] = value
    return decoded


@dataclass(frozen=True, slots=True)
class PutOptions:
    """How an object is written: headers, metadata and placement. Built by FileStore."""

    content_type: str = "application/octet-stream"
    content_disposition: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)  # already encoded
    tags: Mapping[str, str] = field(default_factory=dict)
    encryption: Encryption | None = None
    kms_key_id: str | None = None
    storage_class: str | None = None
    sha256: str | None = None  # hex; sent as a checksum where the store supports it


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a store knows about one object."""

    key: str
    size: int
    etag: str | None = None
    last_modified: datetime | None = None
    content_type: str | None = None
    content_disposition: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    storage_class: str | None = None
    encryption: str | None = None
    kms_key_id: str | None = None
    bucket: str | None = None


@dataclass(frozen=True, slots=True)
class StoredFile:
    """The result of an upload."""

    key: str
    size: int
    sha256: str
    content_type: str
    etag: str | None
    original_filename: str
    bucket: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    storage_class: str | None = None
    encryption: str | None = None


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a listing; pass ``next_token`` back to get the next one."""

    items: list[ObjectInfo]
    next_token: str | None
    prefix: str = ""


@dataclass(frozen=True, slots=True)
class PresignedURL:
    """A URL that grants one operation on one key until ``expires_at``.

    ``headers`` are the request headers the client must send with exactly these values.
    """

    url: str
    method: str
    expires_at: datetime
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PresignedPost:
    """A browser form upload: POST ``fields`` plus the ``file`` field last to ``url``.

    The policy binds the exact key, the content type and a size range; the store refuses
    anything else.
    """

    url: str
    fields: Mapping[str, str]
    expires_at: datetime
    max_size: int


@dataclass(frozen=True, slots=True)
class UploadPart:
    """One uploaded part of a multipart upload."""

    number: int
    etag: str
    size: int


@dataclass(frozen=True, slots=True)
class MultipartUploadInfo:
    """An unfinished multipart upload found in a store (for housekeeping)."""

    key: str
    upload_id: str
    initiated: datetime | None
