"""Tables of the service. Every query on them lives in a repository module."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Dialect, Index, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from s3files.direct import UploadStatus

__all__ = [
    "ApiKey",
    "Base",
    "DirectUpload",
    "FileRecord",
    "FileStatus",
    "FolderRecord",
    "Quota",
    "TusUpload",
    "UploadStatus",
    "UploadToken",
    "utcnow",
]

# PostgreSQL serves ``LIKE 'prefix/%'`` from a b-tree only with the pattern operator class
# (the database's collation is not byte order); SQLite's LIKE ignores the option.
_PREFIX_OPS = "varchar_pattern_ops"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class FileStatus:
    """``pending``: bytes on their way to the store; ``active``: a file; ``deleted``: in
    the trash (soft-deleted, object kept)."""

    PENDING = "pending"
    ACTIVE = "active"
    DELETED = "deleted"


class FileRecord(Base):
    __tablename__ = "files"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner: Mapped[str] = mapped_column(String(255))
    bucket: Mapped[str | None] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(1024), unique=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(String(128))
    folder: Mapped[str] = mapped_column(String(1024), default="")
    description: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    user_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=FileStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column()
    # the upload's Idempotency-Key: a retry with it finds this record instead of storing
    # again; while ``pending``, ``updated_at`` is the in-flight upload's lease on the key
    idempotency_key: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        Index("ix_files_owner_status_created", "owner", "status", "created_at"),
        Index("ix_files_status_updated", "status", "updated_at"),
        Index("ux_files_owner_idempotency_key", "owner", "idempotency_key", unique=True),
        # folder listings, recursive listings and folder moves: owner, then the folder path
        # matched exactly or by prefix (one UPDATE moves a subtree)
        Index("ix_files_owner_folder", "owner", "folder", postgresql_ops={"folder": _PREFIX_OPS}),
    )


class FolderRecord(Base):
    """A folder created on its own (``POST /api/v1/folders``), so that it shows while empty.

    Folders that hold files need no row: they are the files' ``folder`` paths and their
    parents. ``deleted_at`` is set while the folder is in the trash with its files.
    """

    __tablename__ = "folders"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        Index(
            "ix_folders_owner_path",
            "owner",
            "path",
            unique=True,
            postgresql_ops={"path": _PREFIX_OPS},
        ),
    )


class ApiKey(Base):
    """An API key; only the SHA-256 of the secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class DirectUpload(Base):
    """A browser-to-store upload, recorded before anything is signed (what the core's
    ``DirectUploadPlan`` decided, and then what its verification found).

    ``staging_key`` is where the signed form writes (None for multipart uploads and for
    rows from before staging); ``completing_until`` is the lease of the one completion in
    flight, so that two at once cannot both copy the staged object.
    """

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(1024), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "post" or "multipart"
    multipart_id: Mapped[str | None] = mapped_column(String(1024))
    staging_key: Mapped[str | None] = mapped_column(String(1024))
    original_filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    max_size: Mapped[int] = mapped_column(BigInteger)
    expected_size: Mapped[int | None] = mapped_column(BigInteger)
    expected_sha256: Mapped[str | None] = mapped_column(String(64))
    folder: Mapped[str] = mapped_column(String(1024), default="")
    description: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    user_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=UploadStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    expires_at: Mapped[datetime] = mapped_column()
    completing_until: Mapped[datetime | None] = mapped_column()
    # the upload token a Companion-route upload was created with (None: an API upload)
    token_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_uploads_status_expires", "status", "expires_at"),
        Index("ix_uploads_token_status", "token_id", "status"),
        Index("ix_uploads_owner", "owner"),
    )


class Quota(Base):
    """An owner's quota, set by an admin; a limit left None falls back to the default
    (``S3FILES_DEFAULT_QUOTA_BYTES`` / ``S3FILES_DEFAULT_QUOTA_FILES``). The row is also
    what concurrent activations of one owner lock, so that their checks run one at a time.
    """

    __tablename__ = "quotas"

    owner: Mapped[str] = mapped_column(String(255), primary_key=True)
    max_bytes: Mapped[int | None] = mapped_column(BigInteger)
    max_files: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UploadToken(Base):
    """A short-lived upload token for the Companion routes (``/api/v1/companion/<token>``):
    one owner's authority, optionally narrowed to a folder, a size, types and a number of
    files. Only the SHA-256 of the secret is stored."""

    __tablename__ = "upload_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner: Mapped[str] = mapped_column(String(255))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    folder: Mapped[str | None] = mapped_column(String(1024))
    max_file_size: Mapped[int | None] = mapped_column(BigInteger)
    allowed_types: Mapped[list[str] | None] = mapped_column(JSON)
    max_files: Mapped[int | None] = mapped_column(BigInteger)
    files_used: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_upload_tokens_owner", "owner"),)


class TusUpload(Base):
    """The protocol state of a tus upload; the upload itself is its ``uploads`` row (same
    id, kind ``tus``), so completion, quotas, expiry and cleanup are the direct uploads'.

    ``offset`` counts the bytes received. On S3, ``parts`` lists the multipart parts
    uploaded ([number, etag, size]) and the bytes after them, fewer than a part, wait in
    the pending-chunk object (the upload's ``staging_key``, ``pending_size`` bytes); on the
    local disk the bytes are an append-only partial file at ``staging_key``.
    ``locked_until`` is the lease of the one PATCH in flight.
    """

    __tablename__ = "tus_uploads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    upload_length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    part_size: Mapped[int] = mapped_column(BigInteger)
    parts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    pending_size: Mapped[int] = mapped_column(BigInteger, default=0)
    raw_metadata: Mapped[str | None] = mapped_column(Text)
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
