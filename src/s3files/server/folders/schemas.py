"""Request and response bodies of the folders API."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from s3files.server.files.schemas import FileOut

__all__ = [
    "MAX_BATCH",
    "BatchRequest",
    "BatchResult",
    "BatchResults",
    "FolderCreate",
    "FolderList",
    "FolderMove",
    "FolderOut",
    "FolderPath",
    "FolderSummary",
]

MAX_BATCH = 1000  # ids in one batch request


class FolderOut(BaseModel):
    """A folder and what its whole subtree holds."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"path": "photos/2026", "name": "2026", "files": 412, "bytes": 981233}]
        }
    )

    path: str
    name: str
    files: int = Field(description="active files in the folder and all its subfolders")
    bytes: int = Field(description="their total size")


class FolderList(BaseModel):
    """One page of ``path``'s direct subfolders, by name; ``next_cursor`` for the next."""

    path: str
    items: list[FolderOut]
    next_cursor: str | None


class FolderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"path": "a/b"}]})

    path: str = Field(min_length=1, max_length=1024)


class FolderPath(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"path": "a/b"}]})

    path: str = Field(min_length=1, max_length=1024)


class FolderMove(BaseModel):
    """Rename or move the subtree at ``from`` so that it is at ``to``."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [{"from": "photos/2025", "to": "archive/photos-2025"}]},
    )

    source: str = Field(alias="from", min_length=1, max_length=1024)
    target: str = Field(alias="to", min_length=1, max_length=1024)


class FolderSummary(BaseModel):
    """What a folder operation did."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"path": "archive/photos-2025", "files": 10000}]}
    )

    path: str
    files: int = Field(description="files the operation changed")


class BatchRequest(BaseModel):
    """One action on up to 1,000 files; ``folder`` is the target of ``move`` and ``copy``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"action": "move", "ids": ["5b0c2f1e-8a4b-4d0e-9a51-2f8f2f7c1a10"],
                          "folder": "archive"}]
        },
    )  # fmt: skip

    action: Literal["trash", "restore", "delete", "move", "copy"]
    ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BATCH)
    folder: str | None = Field(None, max_length=1024)


class BatchResult(BaseModel):
    """The outcome for one id: ``ok``, or the error it would have had alone."""

    id: uuid.UUID
    ok: bool
    error: str | None = None
    detail: str | None = None
    file: FileOut | None = None  # the file after the action (for a copy: the copy)


class BatchResults(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"action": "trash", "succeeded": 1, "failed": 1, "results": [
                {"id": "5b0c2f1e-8a4b-4d0e-9a51-2f8f2f7c1a10", "ok": True},
                {"id": "00000000-0000-4000-8000-000000000000", "ok": False,
                 "error": "not_found", "detail": "file not found"}]}]
        }
    )  # fmt: skip

    action: str
    succeeded: int
    failed: int
    results: list[BatchResult]

    @classmethod
    def of(cls, action: str, results: list[BatchResult]) -> BatchResults:
        ok = sum(1 for result in results if result.ok)
        return cls(action=action, succeeded=ok, failed=len(results) - ok, results=results)
