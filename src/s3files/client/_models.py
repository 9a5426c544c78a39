"""What the client returns: immutable records parsed from the service's JSON, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "BatchOutcome",
    "BatchResult",
    "DirectUploadStatus",
    "Folder",
    "FolderSummary",
    "MultipartUpload",
    "PartURL",
    "PresignedLink",
    "Quota",
    "RemoteFile",
    "ServiceConfig",
    "UploadForm",
    "UploadedPart",
    "Usage",
]


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _maybe_time(value: Any) -> datetime | None:
    return None if value is None else _time(value)


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """A file the service holds; ``path`` is its folder and name (``docs/report.pdf``)."""

    id: uuid.UUID
    name: str
    folder: str
    size: int
    content_type: str
    sha256: str | None
    key: str
    owner: str
    is_public: bool
    status: str
    description: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def path(self) -> str:
        return f"{self.folder}/{self.name}" if self.folder else self.name

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteFile:
        return cls(
            id=uuid.UUID(data["id"]),
            name=data["original_filename"],
            folder=data.get("folder") or "",
            size=int(data["file_size"]),
            content_type=data["content_type"],
            sha256=data.get("sha256"),
            key=data["s3_key"],
            owner=data["owner"],
            is_public=bool(data["is_public"]),
            status=data["status"],
            description=data.get("description"),
            metadata=dict(data.get("metadata") or {}),
            created_at=_time(data["created_at"]),
            updated_at=_time(data["updated_at"]),
            deleted_at=_maybe_time(data.get("deleted_at")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Folder:
    """A folder and what its whole subtree holds."""

    path: str
    name: str
    files: int
    bytes: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Folder:
        return cls(data["path"], data["name"], int(data["files"]), int(data["bytes"]))


@dataclass(frozen=True, slots=True)
class FolderSummary:
    """What a folder operation did: the folder and how many files it changed."""

    path: str
    files: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FolderSummary:
        return cls(data["path"], int(data["files"]))


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One id's outcome in a batch: ``ok``, or the error it would have had alone."""

    id: uuid.UUID
    ok: bool
    error: str | None
    detail: str | None
    file: RemoteFile | None


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    action: str
    succeeded: int
    failed: int
    results: list[BatchResult]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BatchOutcome:
        results = [
            BatchResult(
                id=uuid.UUID(item["id"]),
                ok=bool(item["ok"]),
                error=item.get("error"),
                detail=item.get("detail"),
                file=RemoteFile.from_json(item["file"]) if item.get("file") else None,
            )
            for item in data["results"]
        ]
        return cls(data["action"], int(data["succeeded"]), int(data["failed"]), results)


@dataclass(frozen=True, slots=True)
class Quota:
    max_bytes: int | None
    max_files: int | None


@dataclass(frozen=True, slots=True)
class Usage:
    """What an owner stores; the trash counts against the quota until emptied."""

    owner: str
    files: int
    bytes: int
    trash_files: int
    trash_bytes: int
    quota: Quota

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Usage:
        quota = data.get("quota") or {}
        return cls(
            data["owner"],
            int(data["files"]),
            int(data["bytes"]),
            int(data["trash_files"]),
            int(data["trash_bytes"]),
            Quota(quota.get("max_bytes"), quota.get("max_files")),
        )


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """The service's limits and who the key belongs to."""

    store: str
    max_file_size: int | None
    allowed_extensions: list[str] | None
    allowed_mime_types: list[str] | None
    presigned_url_max_expiry: int
    owner: str
    admin: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceConfig:
        return cls(
            data["store"],
            data.get("max_file_size"),
            data.get("allowed_extensions"),
            data.get("allowed_mime_types"),
            int(data["presigned_url_max_expiry"]),
            data["owner"],
            bool(data["admin"]),
        )


@dataclass(frozen=True, slots=True)
class PresignedLink:
    url: str
    expires_at: datetime
    expires_in: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PresignedLink:
        return cls(data["url"], _time(data["expires_at"]), int(data["expires_in"]))


@dataclass(frozen=True, slots=True)
class UploadForm:
    """A presigned POST: send ``fields`` and then the ``file`` field to ``url``."""

    upload_id: uuid.UUID
    key: str
    url: str
    fields: dict[str, str]
    max_file_size: int
    expires_at: datetime

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UploadForm:
        return cls(
            uuid.UUID(data["upload_id"]),
            data["key"],
            data["form_url"],
            dict(data["form_fields"]),
            int(data["max_file_size"]),
            _time(data["expires_at"]),
        )


@dataclass(frozen=True, slots=True)
class MultipartUpload:
    """A direct multipart upload: ``part_count`` parts of ``part_size`` (the last shorter)."""

    upload_id: uuid.UUID
    key: str
    part_size: int
    part_count: int
    expires_at: datetime

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MultipartUpload:
        return cls(
            uuid.UUID(data["upload_id"]),
            data["key"],
            int(data["part_size"]),
            int(data["part_count"]),
            _time(data["expires_at"]),
        )


@dataclass(frozen=True, slots=True)
class PartURL:
    number: int
    url: str


@dataclass(frozen=True, slots=True)
class UploadedPart:
    number: int
    etag: str
    size: int


@dataclass(frozen=True, slots=True)
class DirectUploadStatus:
    """``pending``, ``complete`` (``file_id`` set), ``rejected`` (``reason``), ``aborted``,
    ``expired``."""

    upload_id: uuid.UUID
    status: str
    kind: str
    reason: str | None
    file_id: uuid.UUID | None
    original_filename: str
    expires_at: datetime

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DirectUploadStatus:
        file_id = data.get("file_id")
        return cls(
            uuid.UUID(data["upload_id"]),
            data["status"],
            data["kind"],
            data.get("reason"),
            uuid.UUID(file_id) if file_id else None,
            data["original_filename"],
            _time(data["expires_at"]),
        )
