"""Request and response bodies of the files API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from s3files.server.db.models import FileRecord

__all__ = [
    "DOWNLOAD_RESPONSES",
    "CopyRequest",
    "FileList",
    "FileOut",
    "FilePatch",
    "Metadata",
    "PresignedOut",
]

# What the service accepts as user metadata (``s3files._models.encode_metadata``): keys of
# letters, digits, '-' and '_'; the 2 KiB total is checked on the encoded form (400).
Metadata = Annotated[
    dict[str, Any],
    Field(json_schema_extra={"propertyNames": {"pattern": "^[A-Za-z0-9_-]{1,128}$"}}),
]

_EXAMPLE: dict[str, Any] = {
    "id": "5b0c2f1e-8a4b-4d0e-9a51-2f8f2f7c1a10",
    "s3_key": "2026/11/21/9de3ea86-2aea-4774-927c-60f09e5a5b67_document.pdf",
    "original_filename": "document.pdf",
    "content_type": "application/pdf",
    "file_size": 48213,
    "sha256": "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
    "folder": "documents",
    "description": "Important document",
    "is_public": False,
    "metadata": {"category": "contract"},
    "status": "active",
    "last_modified": "2026-11-21T10:15:00Z",
}


class FileOut(BaseModel):
    """A file record."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: uuid.UUID
    s3_key: str
    bucket: str | None
    owner: str
    original_filename: str
    content_type: str
    file_size: int
    sha256: str | None
    etag: str | None
    folder: str
    description: str | None
    is_public: bool
    metadata: dict[str, Any]
    status: str
    created_at: datetime
    updated_at: datetime
    last_modified: datetime
    deleted_at: datetime | None

    @classmethod
    def of(cls, record: FileRecord) -> FileOut:
        """The record as the API shows it. Not validated again (``model_construct``): every
        value already has its field's type (the columns' types, timestamps made aware by
        ``UTCDateTime``), and validating 18 fields cost more than the rest of a ``GET``'s
        serialization (about 50 of 60 microseconds)."""
        return cls.model_construct(
            id=record.id,
            s3_key=record.key,
            bucket=record.bucket,
            owner=record.owner,
            original_filename=record.original_filename,
            content_type=record.content_type,
            file_size=record.size,
            sha256=record.sha256,
            etag=record.etag,
            folder=record.folder,
            description=record.description,
            is_public=record.is_public,
            metadata=record.user_metadata or {},
            status=record.status,
            created_at=record.created_at,
            updated_at=record.updated_at,
            last_modified=record.updated_at,
            deleted_at=record.deleted_at,
        )


class FileList(BaseModel):
    """One page of files; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[FileOut]
    next_cursor: str | None


class FilePatch(BaseModel):
    """Fields that can be edited; omitted fields stay as they are. ``name`` renames and
    ``folder`` moves: only the record changes, the object's key stays."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"description": "Signed copy", "metadata": {"signed": True}, "is_public": False},
                {"name": "2026 report — final.pdf", "folder": "documents/reports"},
            ]
        },
    )

    description: str | None = Field(None, max_length=10_000)
    metadata: Metadata | None = None
    is_public: StrictBool | None = None
    folder: str | None = Field(None, max_length=1024)
    name: str | None = Field(None, min_length=1, max_length=1024)


class CopyRequest(BaseModel):
    """What a copy changes: its folder and, optionally, its metadata."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"new_folder": "archives", "new_metadata": {"archived": True, "date": "2025-01-15"}}
            ]
        },
    )

    new_folder: str | None = Field(None, max_length=1024)
    new_metadata: Metadata | None = None


class PresignedOut(BaseModel):
    """A short-lived URL; the bytes never cross the service."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://bucket.s3.us-east-1.amazonaws.com/…?X-Amz-Signature=…",
                    "expires_at": "2026-11-21T11:15:00Z",
                    "expires_in": 3600,
                }
            ]
        }
    )

    url: str
    expires_at: datetime
    expires_in: int


def _header(description: str, *, required: bool = False) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


_ETAG = _header("the file's SHA-256 (or the store's ETag), quoted")
_BYTES: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}

# The success responses of a download (``stream_object``): the bytes in the file's own
# content type, whole (200), a Range of them (206), or nothing if unchanged (304).
DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The bytes, as the file's content type",
        "content": {"*/*": _BYTES},
        "headers": {
            "ETag": _ETAG,
            "Content-Disposition": _header(
                "attachment or inline, with the filename", required=True
            ),
            "Accept-Ranges": _header("`bytes`", required=True),
        },
    },
    206: {
        "description": "Partial content (a single `Range`)",
        "content": {"*/*": _BYTES},
        "headers": {
            "ETag": _ETAG,
            "Content-Range": _header("`bytes FIRST-LAST/SIZE`", required=True),
            "Content-Disposition": _header(
                "attachment or inline, with the filename", required=True
            ),
        },
    },
    304: {
        "description": "Not modified (`If-None-Match` matches the ETag)",
        "headers": {"ETag": _ETAG},
    },
}
