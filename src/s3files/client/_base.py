"""What ``Client`` and ``AsyncClient`` share, none of it I/O: each API call described as a
``Call`` (method, path, parameters, how to read the answer, whether it may be retried),
error answers turned into typed errors, the retry decision, and the bookkeeping of uploads
and downloads that resume (``_Resume``). The twins only send and wait."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import httpx

from s3files._retry import DEFAULT_RETRY, RetryPolicy
from s3files.client._errors import (
    AmbiguousPathError,
    ConflictError,
    NotFoundError,
    ServiceError,
    ServiceUnavailableError,
    error_for,
)
from s3files.client._models import (
    BatchOutcome,
    DirectUploadStatus,
    Folder,
    FolderSummary,
    MultipartUpload,
    PartURL,
    PresignedLink,
    RemoteFile,
    ServiceConfig,
    UploadedPart,
    UploadForm,
    Usage,
)

__all__ = [
    "SEGMENT",
    "BaseClient",
    "Call",
    "FileRef",
    "Page",
    "Progress",
    "SortField",
    "split_path",
]

T = TypeVar("T")
FileRef = uuid.UUID | str  # an id, or a path: folder and display name ("docs/report.pdf")
SortField = Literal["name", "size", "type", "modified", "created"]
BatchAction = Literal["trash", "restore", "delete", "move", "copy"]
Progress = Callable[[int], None]  # called with the bytes just transferred
CHUNK = 1024 * 1024
MULTIPART_THRESHOLD = 8 * 1024 * 1024
PAGE_SIZE = 200
AMBIGUOUS_LISTED = 20  # a path naming several files: the ids its error lists, at most
FOLDER_PAGE_SIZE = 1000
SIGN_BATCH = 100  # part URLs the service signs in one request


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One API request and how to read its answer; ``idempotent`` calls are retried."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    idempotent: bool = True
    subject: str | None = None  # what the error message names


def split_path(path: str) -> tuple[str, str]:
    """``docs/a/report.pdf`` → (``docs/a``, ``report.pdf``); leading/trailing ``/`` ignored."""
    folder, _, name = path.strip("/").rpartition("/")
    return folder, name


def as_file_id(ref: FileRef) -> uuid.UUID | None:
    """The id in ``ref``, or None if it is a path."""
    if isinstance(ref, uuid.UUID):
        return ref
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


def guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _none_dropped(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _file(response: httpx.Response) -> RemoteFile:
    return RemoteFile.from_json(response.json())


def _nothing(_: httpx.Response) -> None:
    return None


def _file_page(response: httpx.Response) -> Page[RemoteFile]:
    data = response.json()
    return Page([RemoteFile.from_json(item) for item in data["items"]], data.get("next_cursor"))


def _folder_page(response: httpx.Response) -> Page[Folder]:
    data = response.json()
    return Page([Folder.from_json(item) for item in data["items"]], data.get("next_cursor"))


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass(slots=True)
class _Resume:
    """The state of a resumable multipart upload, kept in a small JSON file named after the
    source file (path, size, modification time), the service and the destination."""

    state_file: Path
    upload: MultipartUpload | None = None

    def load(self) -> None:
        try:
            data = json.loads(self.state_file.read_text())
            self.upload = MultipartUpload.from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            self.upload = None

    def save(self, upload: MultipartUpload) -> None:
        self.upload = upload
        self.state_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(
            json.dumps(
                {
                    "upload_id": str(upload.upload_id),
                    "key": upload.key,
                    "part_size": upload.part_size,
                    "part_count": upload.part_count,
                    "expires_at": upload.expires_at.isoformat(),
                }
            )
        )
        temporary.replace(self.state_file)

    def forget(self) -> None:
        self.upload = None
        self.state_file.unlink(missing_ok=True)


def default_resume_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "s3files" / "uploads"


class BaseClient:
    """Configuration and request building shared by ``Client`` and ``AsyncClient``."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        part_concurrency: int = 8,
        resume_dir: Path | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retry = retry
        self.multipart_threshold = multipart_threshold
        self.part_concurrency = max(1, part_concurrency)
        self.resume_dir = resume_dir or default_resume_dir()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": "s3files-client"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    # answers and retries ---------------------------------------------------------

    @staticmethod
    def _raise_for(response: httpx.Response, subject: str | None) -> None:
        if response.status_code < 400:
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        raise error_for(
            response.status_code, body, subject=subject, retry_after=retry_after(response)
        )

    @staticmethod
    def _unreachable(exc: httpx.TransportError, subject: str | None) -> ServiceError:
        return ServiceUnavailableError(
            f"no answer from the service ({type(exc).__name__}: {exc})",
            code="unreachable",
            subject=subject,
        )

    def _wait_before_retry(
        self, error: ServiceError, attempts: int, idempotent: bool
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up. Transient errors
        (``RetryPolicy``) of idempotent calls are retried, and 409 ``idempotency_in_progress``
        / ``completion_in_progress`` (another attempt of the same call holds the lease)."""
        in_progress = isinstance(error, ConflictError) and error.code in (
            "idempotency_in_progress",
            "completion_in_progress",
        )
        if not idempotent or not (in_progress or self.retry.should_retry(error, attempts)):
            return None
        if in_progress and attempts >= self.retry.max_attempts * 4:
            return None
        wait = self.retry.delay(attempts - 1)
        if error.retry_after is not None:  # the service said when: not sooner
            wait = max(wait, min(error.retry_after, 30.0))
        return wait

    # calls --------------------------------------------------------------------------

    def _call_config(self) -> Call[ServiceConfig]:
        return Call("GET", "/api/v1/config", lambda r: ServiceConfig.from_json(r.json()))

    def _call_usage(self) -> Call[Usage]:
        return Call("GET", "/api/v1/usage", lambda r: Usage.from_json(r.json()))

    def _call_files_page(
        self,
        *,
        folder: str | None,
        recursive: bool,
        search: str | None,
        name: str | None,
        content_type: str | None,
        deleted: bool,
        sort: SortField,
        descending: bool | None,
        cursor: str | None,
        limit: int,
    ) -> Call[Page[RemoteFile]]:
        params = _none_dropped(
            {
                "folder": folder,
                "recursive": "true" if recursive else None,
                "search": search,
                "name": name,
                "content_type": content_type,
                "deleted": "true" if deleted else None,
                "sort": sort,
                "order": None if descending is None else ("desc" if descending else "asc"),
                "cursor": cursor,
                "limit": limit,
            }
        )
        return Call("GET", "/api/v1/files", _file_page, params=params, subject=folder)

    def _call_find(self, path: str, *, deleted: bool) -> Call[RemoteFile]:
        folder, name = split_path(path)

        def first(response: httpx.Response) -> RemoteFile:
            page = _file_page(response)
            if not page.items:
                raise NotFoundError(
                    "no such file" if not deleted else "no such file in the trash",
                    status=404,
                    code="not_found",
                    subject=path,
                )
            if len(page.items) > 1:  # a name can repeat in a folder: never guess which
                raise AmbiguousPathError(path, [f.id for f in page.items], deleted=deleted)
            return page.items[0]

        params = _none_dropped(
            {
                "folder": folder,
                "name": name,
                "limit": AMBIGUOUS_LISTED,
                "deleted": "true" if deleted else None,
            }
        )
        return Call("GET", "/api/v1/files", first, params=params, subject=path)

    def _call_get_file(self, file_id: uuid.UUID, subject: str | None = None) -> Call[RemoteFile]:
        return Call("GET", f"/api/v1/files/{file_id}", _file, subject=subject or str(file_id))

    def _call_update(
        self, file_id: uuid.UUID, fields: Mapping[str, Any], subject: str | None
    ) -> Call[RemoteFile]:
        return Call(
            "PATCH", f"/api/v1/files/{file_id}", _file, json=dict(fields),
            subject=subject or str(file_id),
        )  # fmt: skip

    def _call_copy(
        self, file_id: uuid.UUID, folder: str | None, metadata: Mapping[str, Any] | None,
        subject: str | None,
    ) -> Call[RemoteFile]:  # fmt: skip
        body = _none_dropped({"new_folder": folder, "new_metadata": metadata})
        return Call(
            "POST", f"/api/v1/files/{file_id}/copy", _file, json=body, idempotent=False,
            subject=subject or str(file_id),
        )  # fmt: skip

    def _call_delete(self, file_id: uuid.UUID, hard: bool, subject: str | None) -> Call[None]:
        params = {"hard_delete": "true"} if hard else None
        return Call(
            "DELETE", f"/api/v1/files/{file_id}", _nothing, params=params,
            subject=subject or str(file_id),
        )  # fmt: skip

    def _call_restore(self, file_id: uuid.UUID, subject: str | None) -> Call[RemoteFile]:
        return Call(
            "POST", f"/api/v1/files/{file_id}/restore", _file, subject=subject or str(file_id)
        )

    def _call_presign(
        self, file_id: uuid.UUID, expiry: int | None, force_download: bool, subject: str | None
    ) -> Call[PresignedLink]:
        params = _none_dropped(
            {"expiry": expiry, "force_download": "true" if force_download else None}
        )
        return Call(
            "GET", f"/api/v1/files/{file_id}/presigned-url",
            lambda r: PresignedLink.from_json(r.json()), params=params,
            subject=subject or str(file_id),
        )  # fmt: skip

    def _call_stream_upload(
        self,
        *,
        filename: str,
        folder: str | None,
        description: str | None,
        metadata: Mapping[str, Any] | None,
        is_public: bool,
        content_type: str | None,
        size: int | None,
        idempotency_key: str,
    ) -> Call[RemoteFile]:
        params = _none_dropped(
            {
                "filename": filename,
                "folder": folder,
                "description": description,
                "metadata": json.dumps(dict(metadata)) if metadata is not None else None,
                "is_public": "true" if is_public else None,
            }
        )
        headers = {
            "Idempotency-Key": idempotency_key,
            "Content-Type": content_type or guess_type(filename),
        }
        if size is not None:
            headers["Content-Length"] = str(size)
        subject = f"{folder}/{filename}" if folder else filename
        return Call(
            "POST", "/api/v1/files/stream", _file, params=params, headers=headers, subject=subject
        )

    def _upload_request(
        self,
        *,
        filename: str,
        folder: str | None,
        description: str | None,
        metadata: Mapping[str, Any] | None,
        is_public: bool,
        content_type: str | None,
        sha256: str | None,
    ) -> dict[str, Any]:
        return _none_dropped(
            {
                "original_filename": filename,
                "content_type": content_type or guess_type(filename),
                "folder": folder,
                "description": description,
                "metadata": dict(metadata) if metadata is not None else None,
                "is_public": is_public,
                "sha256": sha256,
            }
        )

    def _call_create_upload(
        self, body: Mapping[str, Any], max_file_size: int | None, prefix: str | None
    ) -> Call[UploadForm]:
        payload = {**body, **_none_dropped({"max_file_size": max_file_size, "prefix": prefix})}
        return Call(
            "POST", "/api/v1/uploads", lambda r: UploadForm.from_json(r.json()), json=payload,
            idempotent=False, subject=body.get("original_filename"),
        )  # fmt: skip

    def _call_create_multipart(self, body: Mapping[str, Any], size: int) -> Call[MultipartUpload]:
        return Call(
            "POST", "/api/v1/uploads/multipart", lambda r: MultipartUpload.from_json(r.json()),
            json={**body, "size": size}, idempotent=False, subject=body.get("original_filename"),
        )  # fmt: skip

    def _call_sign_parts(self, upload_id: uuid.UUID, numbers: list[int]) -> Call[list[PartURL]]:
        def parse(response: httpx.Response) -> list[PartURL]:
            return [PartURL(int(p["number"]), p["url"]) for p in response.json()["parts"]]

        return Call(
            "POST", f"/api/v1/uploads/{upload_id}/parts", parse,
            json={"part_numbers": numbers}, subject=f"upload {upload_id}",
        )  # fmt: skip

    def _call_uploaded_parts(self, upload_id: uuid.UUID) -> Call[list[UploadedPart]]:
        def parse(response: httpx.Response) -> list[UploadedPart]:
            return [
                UploadedPart(int(p["number"]), p["etag"], int(p["size"])) for p in response.json()
            ]

        return Call(
            "GET", f"/api/v1/uploads/{upload_id}/parts", parse, subject=f"upload {upload_id}"
        )

    def _call_complete(self, upload_id: uuid.UUID, sha256: str | None) -> Call[RemoteFile]:
        return Call(
            "POST", f"/api/v1/uploads/{upload_id}/complete", _file,
            json=_none_dropped({"sha256": sha256}), subject=f"upload {upload_id}",
        )  # fmt: skip

    def _call_get_upload(self, upload_id: uuid.UUID) -> Call[DirectUploadStatus]:
        return Call(
            "GET", f"/api/v1/uploads/{upload_id}",
            lambda r: DirectUploadStatus.from_json(r.json()), subject=f"upload {upload_id}",
        )  # fmt: skip

    def _call_abort_upload(self, upload_id: uuid.UUID) -> Call[DirectUploadStatus]:
        return Call(
            "DELETE", f"/api/v1/uploads/{upload_id}",
            lambda r: DirectUploadStatus.from_json(r.json()), subject=f"upload {upload_id}",
        )  # fmt: skip

    def _call_folders_page(self, path: str, cursor: str | None, limit: int) -> Call[Page[Folder]]:
        params = _none_dropped({"path": path, "cursor": cursor, "limit": limit})
        return Call("GET", "/api/v1/folders", _folder_page, params=params, subject=path or "/")

    def _call_create_folder(self, path: str) -> Call[Folder]:
        return Call(
            "POST", "/api/v1/folders", lambda r: Folder.from_json(r.json()),
            json={"path": path}, idempotent=False, subject=path,
        )  # fmt: skip

    def _call_move_folder(self, source: str, target: str) -> Call[FolderSummary]:
        return Call(
            "POST", "/api/v1/folders/move", lambda r: FolderSummary.from_json(r.json()),
            json={"from": source, "to": target}, idempotent=False, subject=source,
        )  # fmt: skip

    def _call_delete_folder(self, path: str, hard: bool) -> Call[FolderSummary]:
        params = _none_dropped({"path": path, "hard_delete": "true" if hard else None})
        return Call(
            "DELETE", "/api/v1/folders", lambda r: FolderSummary.from_json(r.json()),
            params=params, subject=path,
        )  # fmt: skip

    def _call_restore_folder(self, path: str) -> Call[FolderSummary]:
        return Call(
            "POST", "/api/v1/folders/restore", lambda r: FolderSummary.from_json(r.json()),
            json={"path": path}, subject=path,
        )  # fmt: skip

    def _call_batch(
        self, action: BatchAction, ids: list[uuid.UUID], folder: str | None
    ) -> Call[BatchOutcome]:
        body = _none_dropped({"action": action, "ids": [str(i) for i in ids], "folder": folder})
        return Call(
            "POST", "/api/v1/files/batch", lambda r: BatchOutcome.from_json(r.json()),
            json=body, idempotent=action != "copy", subject=f"{len(ids)} file(s)",
        )  # fmt: skip

    def _call_empty_trash(self) -> Call[int]:
        return Call("DELETE", "/api/v1/trash", lambda r: int(r.json()["files"]), subject="trash")

    def _call_get_quota(self, owner: str) -> Call[Usage]:
        return Call(
            "GET", f"/api/v1/quotas/{owner}", lambda r: Usage.from_json(r.json()), subject=owner
        )

    def _call_set_quota(
        self, owner: str, max_bytes: int | None, max_files: int | None
    ) -> Call[Usage]:
        return Call(
            "PUT", f"/api/v1/quotas/{owner}", lambda r: Usage.from_json(r.json()),
            json={"max_bytes": max_bytes, "max_files": max_files}, subject=owner,
        )  # fmt: skip

    # uploads and downloads that resume ----------------------------------------------

    def _resume_for(self, path: Path, folder: str | None, filename: str) -> _Resume:
        stat = path.stat()
        identity = json.dumps(
            [self.url, str(path.resolve()), stat.st_size, stat.st_mtime_ns, folder, filename]
        )
        digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
        resume = _Resume(self.resume_dir / f"{digest}.json")
        resume.load()
        return resume

    @staticmethod
    def _parts_to_send(
        upload: MultipartUpload, size: int, done: list[UploadedPart]
    ) -> list[tuple[int, int, int]]:
        """(number, offset, length) of every part not yet in the store with its full size."""
        have = {part.number: part.size for part in done}
        parts = []
        for number in range(1, upload.part_count + 1):
            offset = (number - 1) * upload.part_size
            length = min(upload.part_size, size - offset)
            if have.get(number) != length:
                parts.append((number, offset, length))
        return parts

    @staticmethod
    def _partial_of(destination: Path) -> Path:
        return destination.with_name(f".{destination.name}.part")

    def _download_headers(self, offset: int, end: int | None = None) -> dict[str, str]:
        if end is not None:
            return {"Range": f"bytes={offset}-{end - 1}"}
        return {"Range": f"bytes={offset}-"} if offset else {}


SEGMENT = 16 * 1024 * 1024  # a large download comes in ranges of this size, several at once


@dataclass(slots=True)
class _Segments:
    """A large download in ranges fetched side by side into ``.NAME.part`` (made full size
    first); ``.NAME.part.json`` lists the ranges done, so an interrupted one resumes."""

    partial: Path
    size: int
    done: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)  # ranges finish on threads

    @property
    def state_file(self) -> Path:
        return self.partial.with_name(self.partial.name + ".json")

    def open(self) -> None:
        """Resume what a previous run left, or start: a sequential ``.part`` (without a
        state file) counts for the ranges it holds whole."""
        count = -(-self.size // SEGMENT)
        try:
            kept = json.loads(self.state_file.read_text())
            if kept.get("size") == self.size:
                self.done = {int(n) for n in kept["done"] if 0 <= int(n) < count}
        except (OSError, ValueError, KeyError, TypeError):
            have = self.partial.stat().st_size if self.partial.exists() else 0
            self.done = {n for n in range(count) if (n + 1) * SEGMENT <= min(have, self.size)}
        self._save()
        with self.partial.open("ab") as handle:
            handle.truncate(self.size)

    def todo(self) -> list[tuple[int, int, int]]:
        """(index, start, end) of every range still to fetch."""
        count = -(-self.size // SEGMENT)
        return [
            (n, n * SEGMENT, min(self.size, (n + 1) * SEGMENT))
            for n in range(count)
            if n not in self.done
        ]

    def finish(self, index: int) -> None:
        with self.lock:
            self.done.add(index)
            self._save()

    def _save(self) -> None:
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps({"size": self.size, "done": sorted(self.done)}))
        temporary.replace(self.state_file)

    def close(self) -> None:
        self.state_file.unlink(missing_ok=True)
