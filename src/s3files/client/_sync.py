"""``Client``: the service's API over a blocking ``httpx.Client`` (``AsyncClient`` is its
twin). Every call retries transient failures with the library's ``RetryPolicy``.

    from s3files.client import Client

    with Client("https://files.example.com", "s3f_...") as files:
        stored = files.upload("report.pdf", folder="docs")
        for item in files.list_files("docs"):
            print(item.path, item.size)
        files.download("docs/report.pdf", "copy.pdf")
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

import httpx

from s3files._retry import DEFAULT_RETRY, RetryPolicy
from s3files.client._base import (
    CHUNK,
    FOLDER_PAGE_SIZE,
    PAGE_SIZE,
    SIGN_BATCH,
    BaseClient,
    BatchAction,
    Call,
    FileRef,
    Page,
    Progress,
    SortField,
    _Resume,
    _Segments,
    as_file_id,
)
from s3files.client._errors import ServiceError
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

__all__ = ["Client"]

T = TypeVar("T")
Source = str | os.PathLike[str] | bytes | IO[bytes]
Destination = str | os.PathLike[str] | IO[bytes]


class Client(BaseClient):
    """The s3files service at ``url``, with an API key. Thread-safe; close it (or use
    ``with``) to release its connections."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        multipart_threshold: int = 8 * 1024 * 1024,
        part_concurrency: int = 8,
        resume_dir: Path | None = None,
        max_connections: int = 32,
    ) -> None:
        super().__init__(
            url, api_key, timeout=timeout, retry=retry, multipart_threshold=multipart_threshold,
            part_concurrency=part_concurrency, resume_dir=resume_dir,
        )  # fmt: skip
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._http = httpx.Client(
            base_url=self.url, headers=self._headers(), timeout=timeout, limits=limits
        )
        # part uploads go to presigned URLs: no API key may go with them
        self._store_http = httpx.Client(timeout=timeout, limits=limits)

    def close(self) -> None:
        self._http.close()
        self._store_http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # sending ------------------------------------------------------------------------

    def _send(self, call: Call[T], content: Any = None, rewind: Any = None) -> T:
        attempts = 0
        while True:
            attempts += 1
            try:
                try:
                    response = self._http.request(
                        call.method, call.path, params=call.params, json=call.json,
                        headers=call.headers, content=content() if content else None,
                    )  # fmt: skip
                except httpx.TransportError as exc:
                    raise self._unreachable(exc, call.subject) from exc
                self._raise_for(response, call.subject)
                return call.parse(response)
            except ServiceError as error:
                wait = self._wait_before_retry(error, attempts, call.idempotent)
                if wait is None:
                    raise
                time.sleep(wait)

    def _ref_id(self, ref: FileRef, *, deleted: bool = False) -> tuple[uuid.UUID, str | None]:
        """The id of ``ref`` (looked up by folder and name if it is a path)."""
        file_id = as_file_id(ref)
        if file_id is not None:
            return file_id, None
        return self.find_file(str(ref), deleted=deleted).id, str(ref)

    # service ------------------------------------------------------------------------

    def config(self) -> ServiceConfig:
        """The service's limits and the key's owner."""
        return self._send(self._call_config())

    def usage(self) -> Usage:
        """The caller's files, bytes, trash and quota."""
        return self._send(self._call_usage())

    def get_quota(self, owner: str) -> Usage:
        """An owner's usage and quota (admin key)."""
        return self._send(self._call_get_quota(owner))

    def set_quota(
        self, owner: str, *, max_bytes: int | None = None, max_files: int | None = None
    ) -> Usage:
        """Set an owner's quota (admin key); None falls back to the service's default."""
        return self._send(self._call_set_quota(owner, max_bytes, max_files))

    def empty_trash(self) -> int:
        """Delete every file in the caller's trash for good; returns how many."""
        return self._send(self._call_empty_trash())

    # files --------------------------------------------------------------------------

    def list_files_page(
        self,
        folder: str | None = None,
        *,
        recursive: bool = False,
        search: str | None = None,
        name: str | None = None,
        content_type: str | None = None,
        deleted: bool = False,
        sort: SortField = "name",
        descending: bool | None = None,
        cursor: str | None = None,
        limit: int = PAGE_SIZE,
    ) -> Page[RemoteFile]:
        """One page of files; pass its ``next_cursor`` for the next."""
        return self._send(
            self._call_files_page(
                folder=folder, recursive=recursive, search=search, name=name,
                content_type=content_type, deleted=deleted, sort=sort, descending=descending,
                cursor=cursor, limit=limit,
            )
        )  # fmt: skip

    def list_files(
        self,
        folder: str | None = None,
        *,
        recursive: bool = False,
        search: str | None = None,
        name: str | None = None,
        content_type: str | None = None,
        deleted: bool = False,
        sort: SortField = "name",
        descending: bool | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Iterator[RemoteFile]:
        """Every file that matches, page after page (``folder=None``: every folder)."""
        cursor: str | None = None
        while True:
            page = self.list_files_page(
                folder, recursive=recursive, search=search, name=name,
                content_type=content_type, deleted=deleted, sort=sort, descending=descending,
                cursor=cursor, limit=page_size,
            )  # fmt: skip
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def find_file(self, path: str, *, deleted: bool = False) -> RemoteFile:
        """The file at ``folder/name`` (``deleted``: in the trash); ``NotFoundError`` if none."""
        return self._send(self._call_find(path, deleted=deleted))

    def get_file(self, ref: FileRef) -> RemoteFile:
        """A file by id or by path."""
        file_id = as_file_id(ref)
        if file_id is None:
            return self.find_file(str(ref))
        return self._send(self._call_get_file(file_id))

    def update_file(
        self,
        ref: FileRef,
        *,
        name: str | None = None,
        folder: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        is_public: bool | None = None,
    ) -> RemoteFile:
        """Rename, move or edit a file (only the record changes; the object stays)."""
        file_id, subject = self._ref_id(ref)
        fields = {
            k: v
            for k, v in {
                "name": name, "folder": folder, "description": description,
                "metadata": dict(metadata) if metadata is not None else None,
                "is_public": is_public,
            }.items()
            if v is not None
        }  # fmt: skip
        return self._send(self._call_update(file_id, fields, subject))

    def copy_file(
        self,
        ref: FileRef,
        *,
        folder: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> RemoteFile:
        """A copy (a new file with its own id) in ``folder``."""
        file_id, subject = self._ref_id(ref)
        return self._send(self._call_copy(file_id, folder, metadata, subject))

    def delete_file(self, ref: FileRef, *, hard: bool = False) -> None:
        """To the trash, or with ``hard`` for good (object and record)."""
        file_id, subject = self._ref_id(ref)
        self._send(self._call_delete(file_id, hard, subject))

    def restore_file(self, ref: FileRef) -> RemoteFile:
        """Out of the trash (a path is looked up in the trash)."""
        file_id, subject = self._ref_id(ref, deleted=True)
        return self._send(self._call_restore(file_id, subject))

    def presign(
        self, ref: FileRef, *, expiry: int | None = None, force_download: bool = False
    ) -> PresignedLink:
        """A short-lived download URL (the bytes never cross the service)."""
        file_id, subject = self._ref_id(ref)
        return self._send(self._call_presign(file_id, expiry, force_download, subject))

    def batch(
        self, action: BatchAction, refs: Iterable[FileRef], *, folder: str | None = None
    ) -> BatchOutcome:
        """One action on many files (1,000 per request), with an outcome for each."""
        ids = [self._ref_id(ref, deleted=action == "restore")[0] for ref in refs]
        outcomes = [
            self._send(self._call_batch(action, ids[start : start + 1000], folder))
            for start in range(0, len(ids), 1000)
        ]
        results = [result for outcome in outcomes for result in outcome.results]
        succeeded = sum(1 for result in results if result.ok)
        return BatchOutcome(action, succeeded, len(results) - succeeded, results)

    # uploads --------------------------------------------------------------------------

    def upload(
        self,
        source: Source,
        *,
        filename: str | None = None,
        folder: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        is_public: bool = False,
        content_type: str | None = None,
        idempotency_key: str | None = None,
        progress: Progress | None = None,
    ) -> RemoteFile:
        """Upload a file (a path, bytes or a binary file object). A file larger than
        ``multipart_threshold`` goes straight to the store in parallel parts (resumable:
        run the same upload again after an interruption); a smaller one streams through
        the API with an ``Idempotency-Key``, so a retry stores it once."""
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            size = path.stat().st_size
            name = filename or path.name
            if size > self.multipart_threshold:
                return self.upload_multipart(
                    path, filename=name, folder=folder, description=description,
                    metadata=metadata, is_public=is_public, content_type=content_type,
                    progress=progress,
                )  # fmt: skip
            if size <= CHUNK:  # small: one read, no stream to set up
                source = path.read_bytes()
                filename = name
            else:
                return self._stream_upload(
                    lambda: _file_chunks(path, progress), size, name, folder, description,
                    metadata, is_public, content_type, idempotency_key,
                )  # fmt: skip
        if isinstance(source, bytes):
            data = source
            return self._stream_upload(
                lambda: _whole(data, progress) if len(data) <= CHUNK
                else _bytes_chunks(data, progress),
                len(data), filename or "upload",
                folder, description, metadata, is_public, content_type, idempotency_key,
            )  # fmt: skip
        handle = source
        start = handle.tell() if handle.seekable() else None

        def from_handle() -> Iterator[bytes]:
            if start is not None:
                handle.seek(start)
            while chunk := handle.read(CHUNK):
                if progress:
                    progress(len(chunk))
                yield chunk

        name = filename or Path(str(getattr(handle, "name", "upload"))).name
        return self._stream_upload(
            from_handle, None, name, folder, description, metadata, is_public, content_type,
            idempotency_key, retryable=start is not None,
        )  # fmt: skip

    def _stream_upload(
        self,
        chunks: Any,
        size: int | None,
        filename: str,
        folder: str | None,
        description: str | None,
        metadata: Mapping[str, Any] | None,
        is_public: bool,
        content_type: str | None,
        idempotency_key: str | None,
        *,
        retryable: bool = True,
    ) -> RemoteFile:
        call = self._call_stream_upload(
            filename=filename, folder=folder, description=description, metadata=metadata,
            is_public=is_public, content_type=content_type, size=size,
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )  # fmt: skip
        if not retryable:
            call = Call(call.method, call.path, call.parse, call.params, None, call.headers,
                        idempotent=False, subject=call.subject)  # fmt: skip
        return self._send(call, content=chunks)

    def upload_multipart(
        self,
        path: str | os.PathLike[str],
        *,
        filename: str | None = None,
        folder: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        is_public: bool = False,
        content_type: str | None = None,
        progress: Progress | None = None,
    ) -> RemoteFile:
        """A direct multipart upload of a local file: parts go in parallel to presigned
        URLs, the service checks the result. Interrupted, the next call with the same file,
        folder and name resumes where it stopped (the upload's id is kept in
        ``resume_dir``)."""
        path = Path(path)
        size = path.stat().st_size
        name = filename or path.name
        resume = self._resume_for(path, folder, name)
        upload, done = self._resumable(resume, path, size, name, folder, description,
                                       metadata, is_public, content_type)  # fmt: skip
        if upload is None:
            resume.forget()
            assert done is not None and done.file_id is not None
            return self.get_file(done.file_id)
        todo = self._parts_to_send(upload, size, self.uploaded_parts(upload.upload_id))
        if progress:
            progress(size - sum(length for _, _, length in todo))
        digest = _Sha256Thread(path)
        digest.start()
        try:
            self._send_parts(upload, path, todo, progress)
        except BaseException:
            digest.stop.set()
            raise
        sha256 = digest.result()
        stored = self.complete_upload(upload.upload_id, sha256=sha256)
        resume.forget()
        return stored

    def _resumable(
        self, resume: _Resume, path: Path, size: int, name: str, folder: str | None,
        description: str | None, metadata: Mapping[str, Any] | None, is_public: bool,
        content_type: str | None,
    ) -> tuple[MultipartUpload | None, DirectUploadStatus | None]:  # fmt: skip
        """The upload to continue (the kept one if still pending), or (None, status) if the
        kept one completed already."""
        if resume.upload is not None:
            try:
                status = self.get_upload(resume.upload.upload_id)
            except ServiceError:
                status = None
            if status is not None and status.status == "complete":
                return None, status
            if status is not None and status.status == "pending":
                return resume.upload, None
            resume.forget()
        upload = self.create_multipart_upload(
            name, size, folder=folder, description=description, metadata=metadata,
            is_public=is_public, content_type=content_type,
        )  # fmt: skip
        resume.save(upload)
        return upload, None

    def _send_parts(
        self,
        upload: MultipartUpload,
        path: Path,
        todo: list[tuple[int, int, int]],
        progress: Progress | None,
    ) -> None:
        failed: list[BaseException] = []

        def send(number: int, offset: int, length: int, url: str) -> None:
            if failed:
                return
            with path.open("rb") as handle:
                handle.seek(offset)
                body = handle.read(length)
            call = Call("PUT", url, lambda r: None, subject=f"{path.name} part {number}")
            attempts = 0
            while True:
                attempts += 1
                try:
                    try:
                        response = self._store_http.put(
                            url, content=body, headers={"Content-Length": str(length)}
                        )
                    except httpx.TransportError as exc:
                        raise self._unreachable(exc, call.subject) from exc
                    self._raise_for(response, call.subject)
                    break
                except ServiceError as error:
                    wait = self._wait_before_retry(error, attempts, True)
                    if wait is None:
                        failed.append(error)
                        raise
                    time.sleep(wait)
            if progress:
                progress(length)

        with ThreadPoolExecutor(self.part_concurrency) as pool:
            futures = []
            for start in range(0, len(todo), SIGN_BATCH):
                batch = todo[start : start + SIGN_BATCH]
                urls = {
                    p.number: p.url
                    for p in self.sign_parts(upload.upload_id, [n for n, _, _ in batch])
                }
                futures += [pool.submit(send, n, o, ln, urls[n]) for n, o, ln in batch]
            for future in futures:
                future.result()

    def create_upload(
        self,
        filename: str,
        *,
        content_type: str | None = None,
        max_file_size: int | None = None,
        prefix: str | None = None,
        folder: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        is_public: bool = False,
        sha256: str | None = None,
    ) -> UploadForm:
        """A presigned POST form for one upload straight to the store (then
        ``complete_upload``)."""
        body = self._upload_request(
            filename=filename, folder=folder, description=description, metadata=metadata,
            is_public=is_public, content_type=content_type, sha256=sha256,
        )  # fmt: skip
        return self._send(self._call_create_upload(body, max_file_size, prefix))

    def create_multipart_upload(
        self,
        filename: str,
        size: int,
        *,
        content_type: str | None = None,
        folder: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        is_public: bool = False,
        sha256: str | None = None,
    ) -> MultipartUpload:
        """Start a direct multipart upload of ``size`` bytes; the service picks the parts."""
        body = self._upload_request(
            filename=filename, folder=folder, description=description, metadata=metadata,
            is_public=is_public, content_type=content_type, sha256=sha256,
        )  # fmt: skip
        return self._send(self._call_create_multipart(body, size))

    def sign_parts(self, upload_id: uuid.UUID, part_numbers: list[int]) -> list[PartURL]:
        """Presigned PUT URLs for these parts (100 at most per call)."""
        return self._send(self._call_sign_parts(upload_id, part_numbers))

    def uploaded_parts(self, upload_id: uuid.UUID) -> list[UploadedPart]:
        """The parts the store already has."""
        return self._send(self._call_uploaded_parts(upload_id))

    def complete_upload(self, upload_id: uuid.UUID, *, sha256: str | None = None) -> RemoteFile:
        """Check the uploaded object and make it a file (idempotent)."""
        return self._send(self._call_complete(upload_id, sha256))

    def get_upload(self, upload_id: uuid.UUID) -> DirectUploadStatus:
        return self._send(self._call_get_upload(upload_id))

    def abort_upload(self, upload_id: uuid.UUID) -> DirectUploadStatus:
        return self._send(self._call_abort_upload(upload_id))

    # downloads ------------------------------------------------------------------------

    def iter_bytes(self, ref: FileRef, *, offset: int = 0) -> Iterator[bytes]:
        """The file's bytes from ``offset``; a broken connection resumes with a Range."""
        file_id, subject = self._ref_id(ref)
        yield from self._ranged(
            f"/api/v1/files/{file_id}/download", offset, subject or str(file_id)
        )

    def _ranged(
        self, path: str, offset: int, subject: str, end: int | None = None
    ) -> Iterator[bytes]:
        """The bytes from ``offset`` of ``path`` (an API path, or a presigned URL of the
        store: then without the API key), resumed with a Range after a broken connection."""
        http = self._store_http if path.startswith(("http://", "https://")) else self._http
        attempts = 0
        while True:
            attempts += 1
            try:
                try:
                    with http.stream(
                        "GET", path, headers=self._download_headers(offset, end)
                    ) as response:
                        if response.status_code == 416 or (end is not None and offset >= end):
                            return
                        if response.status_code >= 400:
                            response.read()
                        self._raise_for(response, subject)
                        if (offset or end is not None) and response.status_code == 200:
                            raise ServiceError("the service ignored the Range", code="no_range",
                                               subject=subject)  # fmt: skip
                        for chunk in response.iter_bytes(CHUNK):
                            offset += len(chunk)
                            yield chunk
                        return
                except httpx.TransportError as exc:
                    raise self._unreachable(exc, subject) from exc
            except ServiceError as error:
                wait = self._wait_before_retry(error, attempts, True)
                if wait is None:
                    raise
                time.sleep(wait)

    def download(
        self,
        ref: FileRef | RemoteFile,
        destination: Destination,
        *,
        progress: Progress | None = None,
    ) -> RemoteFile:
        """Download to a path (through ``.NAME.part``, which a later call resumes; parent
        folders created) or to a binary file object. ``ref``: an id, a path, or a file
        already listed (no lookup then)."""
        record = ref if isinstance(ref, RemoteFile) else self.get_file(ref)
        if not isinstance(destination, str | os.PathLike):
            for chunk in self._ranged(f"/api/v1/files/{record.id}/download", 0, record.path):
                destination.write(chunk)
                if progress:
                    progress(len(chunk))
            return record
        target = Path(destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = self._partial_of(target)
        offset = partial.stat().st_size if partial.exists() else 0
        if offset > record.size:
            partial.unlink()
            offset = 0
        if record.size > self.multipart_threshold:  # large: from the store, ranges side by side
            link = self._send(self._call_presign(record.id, None, False, record.path))
            self._download_segments(link.url, record, partial, progress)
            partial.replace(target)
            return record
        if progress and offset:
            progress(offset)
        source = f"/api/v1/files/{record.id}/download"
        with partial.open("ab") as handle:
            if offset < record.size or record.size == 0:
                for chunk in self._ranged(source, offset, record.path):
                    handle.write(chunk)
                    if progress:
                        progress(len(chunk))
        partial.replace(target)
        return record

    def _download_segments(
        self, url: str, record: RemoteFile, partial: Path, progress: Progress | None
    ) -> None:
        segments = _Segments(partial, record.size)
        segments.open()
        if progress:
            progress(record.size - sum(end - start for _, start, end in segments.todo()))

        def fetch(index: int, start: int, end: int) -> None:
            with partial.open("r+b") as handle:
                handle.seek(start)
                for chunk in self._ranged(url, start, record.path, end):
                    handle.write(chunk)
                    if progress:
                        progress(len(chunk))
            segments.finish(index)

        with ThreadPoolExecutor(self.part_concurrency) as pool:
            for future in [pool.submit(fetch, *segment) for segment in segments.todo()]:
                future.result()
        segments.close()

    # folders ---------------------------------------------------------------------------

    def list_folders(
        self, path: str = "", *, page_size: int = FOLDER_PAGE_SIZE
    ) -> Iterator[Folder]:
        """Every direct subfolder of ``path`` ('' the top level), by name."""
        cursor: str | None = None
        while True:
            page = self._send(self._call_folders_page(path, cursor, page_size))
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def create_folder(self, path: str) -> Folder:
        """An empty folder (kept until deleted)."""
        return self._send(self._call_create_folder(path))

    def move_folder(self, source: str, target: str) -> FolderSummary:
        """Move or rename a whole subtree in one transaction."""
        return self._send(self._call_move_folder(source, target))

    def delete_folder(self, path: str, *, hard: bool = False) -> FolderSummary:
        """Every file under ``path`` to the trash, or with ``hard`` for good."""
        return self._send(self._call_delete_folder(path, hard))

    def restore_folder(self, path: str) -> FolderSummary:
        return self._send(self._call_restore_folder(path))

    def zip_folder(self, path: str, destination: Destination) -> int:
        """Every file under ``path`` as one ZIP, streamed; returns its size."""
        return self._zip("GET", "/api/v1/folders/zip", destination, params={"path": path},
                         subject=path or "/")  # fmt: skip

    def zip_files(self, refs: Iterable[FileRef], destination: Destination) -> int:
        """Chosen files as one ZIP, streamed; returns its size."""
        ids = [str(self._ref_id(ref)[0]) for ref in refs]
        return self._zip("POST", "/api/v1/files/zip", destination, json={"ids": ids},
                         subject=f"{len(ids)} file(s)")  # fmt: skip

    def _zip(self, method: str, path: str, destination: Destination, *, subject: str,
             **request: Any) -> int:  # fmt: skip
        attempts = 0
        while True:
            attempts += 1
            written = 0
            try:
                try:
                    with self._http.stream(method, path, **request) as response:
                        if response.status_code >= 400:
                            response.read()
                        self._raise_for(response, subject)
                        with _opened(destination) as handle:
                            for chunk in response.iter_bytes(CHUNK):
                                handle.write(chunk)
                                written += len(chunk)
                        return written
                except httpx.TransportError as exc:
                    raise self._unreachable(exc, subject) from exc
            except ServiceError as error:
                wait = self._wait_before_retry(error, attempts, written == 0)
                if wait is None:
                    raise
                time.sleep(wait)


class _opened:
    """A path opened for writing (parents created), or a file object as it is."""

    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        self.handle: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if isinstance(self.destination, str | os.PathLike):
            target = Path(self.destination)
            target.parent.mkdir(parents=True, exist_ok=True)
            self.handle = target.open("wb")
            return self.handle
        return self.destination

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


def _file_chunks(path: Path, progress: Progress | None) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if progress:
                progress(len(chunk))
            yield chunk


def _bytes_chunks(data: bytes, progress: Progress | None) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        chunk = data[start : start + CHUNK]
        if progress:
            progress(len(chunk))
        yield chunk


def _whole(data: bytes, progress: Progress | None) -> bytes:
    if progress:
        progress(len(data))
    return data


class _Sha256Thread(threading.Thread):
    """The file's SHA-256, read beside the part uploads (sent at completion, so the
    service refuses an object that differs from the file)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.digest: str | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        hasher = hashlib.sha256()
        with self.path.open("rb") as handle:
            while chunk := handle.read(4 * CHUNK):
                if self.stop.is_set():
                    return
                hasher.update(chunk)
        self.digest = hasher.hexdigest()

    def result(self) -> str | None:
        self.join()
        return self.digest
