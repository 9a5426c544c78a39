"""Bodies of the direct-upload API (``upload_id``, ``form_url``, ``form_fields``: the names
the Django app's shortcuts use too)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from s3files.server.db.models import DirectUpload
from s3files.server.files.schemas import Metadata

__all__ = [
    "CompleteRequest",
    "MultipartOut",
    "MultipartRequest",
    "PartURL",
    "PartsOut",
    "PartsRequest",
    "UploadForm",
    "UploadOut",
    "UploadRequest",
    "UploadedPart",
]

_SHA256 = r"^[0-9a-fA-F]{64}$"


class UploadRequest(BaseModel):
    """What the client wants to upload; the server chooses the key and the limits."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "original_filename": "example.jpg",
                    "content_type": "image/jpeg",
                    "max_file_size": 5242880,
                    "prefix": "uploads/images",
                }
            ]
        },
    )

    original_filename: str = Field(min_length=1, max_length=1024)
    content_type: str = Field(min_length=1, max_length=255)
    max_file_size: int | None = Field(None, ge=1, description="capped by S3_MAX_FILE_SIZE_MB")
    prefix: str | None = Field(
        None, max_length=512, description="older name of folder (the key lives in the folder)"
    )
    folder: str | None = Field(
        None,
        max_length=1024,
        description="the file's folder; its key is [key prefix/]folder/date/name",
    )
    description: str | None = Field(None, max_length=10_000)
    is_public: StrictBool = False
    metadata: Metadata | None = None
    sha256: str | None = Field(None, pattern=_SHA256, description="checked at completion")


class MultipartRequest(UploadRequest):
    """A large upload in parts; ``size`` is the file's size in bytes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "original_filename": "video.zip",
                    "content_type": "application/zip",
                    "size": 73400320,
                }
            ]
        },
    )

    size: int = Field(ge=1)


class UploadForm(BaseModel):
    """POST ``form_fields`` and then the ``file`` field to ``form_url``."""

    upload_id: uuid.UUID
    key: str
    form_url: str
    form_fields: dict[str, str]
    max_file_size: int
    expires_at: datetime


class MultipartOut(BaseModel):
    upload_id: uuid.UUID
    key: str
    part_size: int
    part_count: int
    expires_at: datetime


class PartsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part_numbers: list[int] = Field(min_length=1, max_length=100)


class PartURL(BaseModel):
    number: int
    url: str


class PartsOut(BaseModel):
    parts: list[PartURL]
    expires_at: datetime


class UploadedPart(BaseModel):
    number: int
    etag: str
    size: int


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: str | None = Field(None, pattern=_SHA256)


class UploadOut(BaseModel):
    """The state of a direct upload."""

    upload_id: uuid.UUID
    key: str
    kind: str
    status: str
    reason: str | None
    file_id: uuid.UUID | None
    original_filename: str
    content_type: str
    max_file_size: int
    expires_at: datetime

    @classmethod
    def of(cls, upload: DirectUpload) -> UploadOut:
        return cls(
            upload_id=upload.id,
            key=upload.key,
            kind=upload.kind,
            status=upload.status,
            reason=upload.reason,
            file_id=upload.file_id,
            original_filename=upload.original_filename,
            content_type=upload.content_type,
            max_file_size=upload.max_size,
            expires_at=upload.expires_at,
        )
