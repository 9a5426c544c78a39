"""Response bodies of the bucket administration endpoints: the fields of the async connector's
``S3Bucket``, ``S3Object`` and ``BucketMetadata`` (their ``as_dict()``), so both read alike."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from s3files.connector import BucketMetadata, S3Bucket, S3Object

__all__ = ["BucketDetail", "BucketList", "BucketOut", "ObjectOut", "ObjectPage", "SearchResults"]


class BucketOut(BaseModel):
    """A bucket: ``region`` as the store reports it (Ceph RGW: its zonegroup)."""

    name: str
    creation_date: str = Field(examples=["2025-01-15T10:04:05.123000+00:00"])
    region: str | None = Field(examples=["eu-west-1"])

    @classmethod
    def of(cls, bucket: S3Bucket) -> BucketOut:
        return cls(**bucket.as_dict())


class BucketList(BaseModel):
    items: list[BucketOut]


class BucketDetail(BaseModel):
    """A bucket's settings; ``None`` where the bucket has none or the store has no such
    feature; ``unreadable`` names settings the service's credentials may not read."""

    name: str
    region: str | None
    versioning: str | None = Field(examples=["Enabled"])
    encryption: dict[str, Any] | None
    policy: dict[str, Any] | None
    cors: list[dict[str, Any]] | None
    lifecycle: list[dict[str, Any]] | None
    tags: dict[str, str] | None
    unreadable: dict[str, str]

    @classmethod
    def of(cls, metadata: BucketMetadata) -> BucketDetail:
        return cls(**metadata.as_dict())


class ObjectOut(BaseModel):
    key: str
    size: int
    last_modified: str
    etag: str
    storage_class: str = Field(examples=["STANDARD"])
    bucket_name: str

    @classmethod
    def of(cls, obj: S3Object) -> ObjectOut:
        return cls(**obj.as_dict())


class ObjectPage(BaseModel):
    """One page; pass ``next_continuation_token`` as ``continuation_token`` for the next."""

    bucket: str
    prefix: str
    items: list[ObjectOut]
    next_continuation_token: str | None


class SearchResults(BaseModel):
    """Objects whose key starts with ``query``; ``truncated`` if there were more than
    ``limit``."""

    query: str
    bucket: str | None
    items: list[ObjectOut]
    truncated: bool
