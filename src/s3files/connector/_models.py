"""What the connector returns: frozen dataclasses that also read like plain dicts.

The connector's methods are documented as returning dicts (``Dict[str, Any]``); these classes
keep typed attributes *and* read like those dicts (``bucket["name"]``, ``dict(bucket)``,
``bucket.as_dict()``), so code written for dict results keeps working.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "BucketMetadata",
    "S3Bucket",
    "S3Object",
    "S3ObjectPage",
    "StorageClass",
    "iso_timestamp",
    "jsonable",
]


class StorageClass(StrEnum):
    """S3 storage classes: the six common ones first, then the others S3 reports today.

    ``S3Object.storage_class`` stays a plain ``str`` so that classes a store defines itself
    (Ceph placement targets, new AWS classes) pass through unchanged.
    """

    STANDARD = "STANDARD"
    STANDARD_IA = "STANDARD_IA"
    ONEZONE_IA = "ONEZONE_IA"
    INTELLIGENT_TIERING = "INTELLIGENT_TIERING"
    GLACIER = "GLACIER"
    DEEP_ARCHIVE = "DEEP_ARCHIVE"
    GLACIER_IR = "GLACIER_IR"
    REDUCED_REDUNDANCY = "REDUCED_REDUNDANCY"
    EXPRESS_ONEZONE = "EXPRESS_ONEZONE"

    @property
    def description(self) -> str:
        """A few words for people (tables, logs)."""
        return _DESCRIPTIONS[self]

    @property
    def needs_restore(self) -> bool:
        """Archived: GetObject fails until a RestoreObject request has completed."""
        return self in (StorageClass.GLACIER, StorageClass.DEEP_ARCHIVE)


_DESCRIPTIONS = {
    StorageClass.STANDARD: "Standard storage",
    StorageClass.STANDARD_IA: "Standard Infrequent Access",
    StorageClass.ONEZONE_IA: "One Zone Infrequent Access",
    StorageClass.INTELLIGENT_TIERING: "Intelligent Tiering",
    StorageClass.GLACIER: "Glacier Flexible Retrieval (archived)",
    StorageClass.DEEP_ARCHIVE: "Glacier Deep Archive (archived)",
    StorageClass.GLACIER_IR: "Glacier Instant Retrieval",
    StorageClass.REDUCED_REDUNDANCY: "Reduced Redundancy (deprecated)",
    StorageClass.EXPRESS_ONEZONE: "S3 Express One Zone",
}


def iso_timestamp(value: datetime | None) -> str:
    """``2025-01-15T10:04:05.123000+00:00``: ISO 8601 in UTC (botocore gives local tz)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO strings and bytes decoded, so that ``json.dumps``
    accepts what botocore returned (lifecycle rules carry dates)."""
    if isinstance(value, datetime):
        return iso_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


class _ReadsLikeADict:
    """``obj["field"]``, ``obj.get("field")``, ``dict(obj)`` and ``obj.as_dict()``."""

    __slots__ = ()

    def as_dict(self) -> dict[str, Any]:
        """The fields as a JSON-compatible dict."""
        return {name: jsonable(getattr(self, name)) for name in self.keys()}

    def keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]  # type: ignore[arg-type]

    def __getitem__(self, name: str) -> Any:
        if name not in self.keys():
            raise KeyError(name)
        return getattr(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name) if name in self.keys() else default

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


@dataclass(frozen=True, slots=True)
class S3Object(_ReadsLikeADict):
    """One object of a listing (``last_modified`` in ISO 8601, UTC)."""

    key: str
    size: int
    last_modified: str
    etag: str
    storage_class: str
    bucket_name: str

    @property
    def needs_restore(self) -> bool:
        """True for GLACIER and DEEP_ARCHIVE objects, which cannot be read before a restore."""
        return self.storage_class in (StorageClass.GLACIER, StorageClass.DEEP_ARCHIVE)


@dataclass(frozen=True, slots=True)
class S3Bucket(_ReadsLikeADict):
    """One bucket. ``region`` is what the store reports (AWS regions;
    Ceph RGW reports its zonegroup, e.g. ``default``), ``None`` if it would not say."""

    name: str
    creation_date: str
    region: str | None


@dataclass(frozen=True, slots=True)
class S3ObjectPage(_ReadsLikeADict):
    """One page of a listing; pass ``next_continuation_token`` back for the next one."""

    bucket_name: str
    prefix: str
    objects: list[S3Object]
    next_continuation_token: str | None

    @property
    def is_truncated(self) -> bool:
        return self.next_continuation_token is not None


@dataclass(frozen=True, slots=True)
class BucketMetadata(_ReadsLikeADict):
    """A bucket's settings. A setting that is absent, or that the store does not support,
    is ``None``; one the credentials may not read is ``None`` too and named in
    ``unreadable`` (setting → error code), so a missing permission is visible, not fatal.

    ``encryption``, ``cors`` and ``lifecycle`` keep S3's own shapes
    (``{"Rules": [...]}``, ``[{"AllowedOrigins": ...}]``, ``[{"ID": ..., "Status": ...}]``).
    """

    name: str
    region: str | None
    versioning: str | None  # "Enabled" or "Suspended"; None if never enabled
    encryption: dict[str, Any] | None
    policy: dict[str, Any] | None
    cors: list[dict[str, Any]] | None
    lifecycle: list[dict[str, Any]] | None
    tags: dict[str, str] | None
    unreadable: dict[str, str] = field(default_factory=dict)
