"""``AsyncClient``: ``Client``'s twin over ``httpx.AsyncClient``: the same methods, awaited
(``aclose`` for ``close``; listings and ``iter_bytes`` are async iterators). File reads and
writes run on worker threads, never on the event loop.

    from s3files.client import AsyncClient

    async with AsyncClient("https://files.example.com", "s3f_...") as files:
        stored = await files.upload("report.pdf", folder="docs")
        async for item in files.list_files("docs"):
            print(item.path, item.size)
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

import anyio
import anyio.to_thread
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

__all__ = ["AsyncClient"]

T = TypeVar("T")
Source = str | os.PathLike[str] | bytes | IO[bytes]
Destination = str | os.PathLike[str] | IO[bytes]


class AsyncClient(BaseClient):
    """The s3files service at ``url``, with an API key; ``aclose`` it (or use
    ``async with``) to release its connections."""

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
        self._http = httpx.AsyncClient(
            base_url=self.url, headers=self._headers(), timeout=timeout, limits=limits
        )
        # part uploads go to presigned URLs: no API key may go with them
        self._store_http = httpx.AsyncClient(timeout=timeout, limits=limits)

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._store_http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # sending ------------------------------------------------------------------------

    async def _send(self, call: Call[T], content: Any = None) -> T:
        attempts = 0
        while True:
            attempts += 1
            try:
                try:
                    response = await self._http.request(
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
                await anyio.sleep(wait)

    async def _ref_id(self, ref: FileRef, *, deleted: bool = False) -> tuple[uuid.UUID, str | None]:
        """The id of ``ref`` (looked up by folder and name if it is a path)."""
        file_id = as_file_id(ref)
        if file_id is not None:
            return file_id, None
        return (await self.find_file(str(ref), deleted=deleted)).id, str(ref)

    # service ------------------------------------------------------------------------

    async def config(self) -> ServiceConfig:
        """The service's limits and the key's owner."""
        return await self._send(self._call_config())

    async def usage(self) -> Usage:
        """The caller's files, bytes, trash and quota."""
        return await self._send(self._call_usage())

    async def get_quota(self, owner: str) -> Usage:
        """An owner's usage and quota (admin key)."""
        return await self._send(self._call_get_quota(owner))

    async def set_quota(
        self, owner: str, *, max_bytes: int | None = None, max_files: int | None = None
    ) -> Usage:
        """Set an owner's quota (admin key); None falls back to the service's default."""
        return await self._send(self._call_set_quota(owner, max_bytes, max_files))

    async def empty_trash(self) -> int:
        """Delete every file in the caller's trash for good; returns how many."""
        return await self._send(self._call_empty_trash())

    # files --------------------------------------------------------------------------

    async def list_files_page(
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
        return await self._send(
            self._call_files_page(
                folder=folder, recursive=recursive, search=search, name=name,
                content_type=content_type, deleted=deleted, sort=sort, descending=descending,
                cursor=cursor, limit=limit,
            )
        )  # fmt: skip

    async def list_files(
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
    ) -> AsyncIterator[RemoteFile]:
        """Every file that matches, page after page (``folder=None``: every folder)."""
        cursor: str | None = None
        while True:
            page = await self.list_files_page(
                folder, recursive=recursive, search=search, name=name,
                content_type=content_type, deleted=deleted, sort=sort, descending=descending,
                cursor=cursor, limit=page_size,
            )  # fmt: skip
            for item in page.items:
                yield item
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def find_file(self, path: str, *, deleted: bool = False) -> RemoteFile:
        """The file at ``folder/name`` (``deleted``: in the trash); ``NotFoundError`` if none."""
        return await self._send(self._call_find(path, deleted=deleted))

    async def get_file(self, ref: FileRef) -> RemoteFile:
        """A file by id or by path."""
        file_id = as_file_id(ref)
        if file_id is None:
            return await self.find_file(str(ref))
        return await self._send(self._call_get_file(file_id))

    async def update_file(
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
        file_id, subject = await self._ref_id(ref)
        fields = {
            k: v
            for k, v in {
                "name": name, "folder": folder, "description": description,
                "metadata": dict(metadata) if metadata is not None else None,
                "is_public": is_public,
            }.items()
            if v is not None
        }  # fmt: skip
        return await self._send(self._call_update(file_id, fields, subject))

    async def copy_file(
        self,
        ref: FileRef,
        *,
        folder: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> RemoteFile:
        """A copy (a new file with its own id) in ``folder``."""
        file_id, subject = await self._ref_id(ref)
        return await self._send(self._call_copy(file_id, folder, metadata, subject))

    async def delete_file(self, ref: FileRef, *, hard: bool = False) -> None:
        """To the trash, or with ``hard`` for good (object and record)."""
        file_id, subject = await self._ref_id(ref)
        await self._send(self._call_delete(file_id, hard, subject))

    async def restore_file(self, ref: FileRef) -> RemoteFile:
        """Out of the trash (a path is looked up in the trash)."""
        file_id, subject = await self._ref_id(ref, deleted=True)
        return await self._send(self._call_restore(file_id, subject))

    async def presign(
        self, ref: FileRef, *, expiry: int | None = None, force_download: bool = False
    ) -> PresignedLink:
        """A short-lived download URL (the bytes never cross the service)."""
        file_id, subject = await self._ref_id(ref)
        return await self._send(self._call_presign(file_id, expiry, force_download, subject))

    async def batch(
        self, action: BatchAction, refs: Iterable[FileRef], *, folder: str | None = None
    ) -> BatchOutcome:
        """One action on many files (1,000 per request), with an outcome for each."""
        ids = [(await self._ref_id(ref, deleted=action == "restore"))[0] for ref in refs]
        outcomes = [
            await self._send(self._call_batch(action, ids[start : start + 1000], folder))
            for start in range(0, len(ids), 1000)
        ]
        results = [result for outcome in outcomes for result in outcome.results]
        succeeded = sum(1 for result in results if result.ok)
        return BatchOutcome(action, succeeded, len(results) - succeeded, results)

    # uploads --------------------------------------------------------------------------

    async def upload(
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
                return await self.upload_multipart(
                    path, filename=name, folder=folder, description=description,
                    metadata=metadata, is_public=is_public, content_type=content_type,
                    progress=progress,
                )  # fmt: skip
            if size <= CHUNK:  # small: one read, no stream to set up
                source = await anyio.to_thread.run_sync(path.read_bytes)
                filename = name
            else:
                return await self._stream_upload(
                    lambda: _file_chunks(path, progress), size, name, folder, description,
                    metadata, is_public, content_type, idempotency_key,
                )  # fmt: skip
        if isinstance(source, bytes):
            data = source
            return await self._stream_upload(
                lambda: _whole(data, progress) if len(data) <= CHUNK
                else _bytes_chunks(data, progress),
                len(data), filename or "upload",
                folder, description, metadata, is_public, content_type, idempotency_key,
            )  # fmt: skip
        handle = source
        start = handle.tell() if handle.seekable() else None

        async def from_handle() -> AsyncIterator[bytes]:
            if start is not None:
                handle.seek(start)
            while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK):
                if progress:
                    progress(len(chunk))
                yield chunk

        name = filename or Path(str(getattr(handle, "name", "upload"))).name
        return await self._stream_upload(
            from_handle, None, name, folder, description, metadata, is_public, content_type,
            idempotency_key, retryable=start is not None,
        )  # fmt: skip

    async def _stream_upload(
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
        return await self._send(call, content=chunks)

    async def upload_multipart(
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
        upload, done = await self._resumable(resume, path, size, name, folder, description,
                                       metadata, is_public, content_type)  # fmt: skip
        if upload is None:
            resume.forget()
            assert done is not None and done.file_id is not None
            return await self.get_file(done.file_id)
        todo = self._parts_to_send(upload, size, await self.uploaded_parts(upload.upload_id))
        if progress:
            progress(size - sum(length for _, _, length in todo))
        sha256: str | None = None

        async def hash_file() -> None:
            nonlocal sha256
            sha256 = await anyio.to_thread.run_sync(_sha256_of, path)

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(hash_file)
                await self._send_parts(upload, path, todo, progress)
        except BaseExceptionGroup as group_error:
            raise _first_error(group_error) from None
        stored = await self.complete_upload(upload.upload_id, sha256=sha256)
        resume.forget()
        return stored

    async def _resumable(
        self, resume: _Resume, path: Path, size: int, name: str, folder: str | None,
        description: str | None, metadata: Mapping[str, Any] | None, is_public: bool,
        content_type: str | None,
    ) -> tuple[MultipartUpload | None, DirectUploadStatus | None]:  # fmt: skip
        """The upload to continue (the kept one if still pending), or (None, status) if the
        kept one completed already."""
        if resume.upload is not None:
            try:
                status = await self.get_upload(resume.upload.upload_id)
            except ServiceError:
                status = None
            if status is not None and status.status == "complete":
                return None, status
            if status is not None and status.status == "pending":
                return resume.upload, None
            resume.forget()
        upload = await self.create_multipart_upload(
            name, size, folder=folder, description=description, metadata=metadata,
            is_public=is_public, content_type=content_type,
        )  # fmt: skip
        resume.save(upload)
        return upload, None

    async def _send_parts(
        self,
        upload: MultipartUpload,
        path: Path,
        todo: list[tuple[int, int, int]],
        progress: Progress | None,
    ) -> None:
        limiter = anyio.Semaphore(self.part_concurrency)

        async def send(number: int, offset: int, length: int, url: str) -> None:
            async with limiter:
                body = await anyio.to_thread.run_sync(_read_part, path, offset, length)
                subject = f"{path.name} part {number}"
                attempts = 0
                while True:
                    attempts += 1
                    try:
                        try:
                            response = await self._store_http.put(
                                url, content=body, headers={"Content-Length": str(length)}
                            )
                        except httpx.TransportError as exc:
                            raise self._unreachable(exc, subject) from exc
                        self._raise_for(response, subject)
                        break
                    except ServiceError as error:
                        wait = self._wait_before_retry(error, attempts, True)
                        if wait is None:
                            raise
                        await anyio.sleep(wait)
            if progress:
                progress(length)

        async with anyio.create_task_group() as group:  # the first failure cancels the rest
            for start in range(0, len(todo), SIGN_BATCH):
                batch = todo[start : start + SIGN_BATCH]
                signed = await self.sign_parts(upload.upload_id, [n for n, _, _ in batch])
                urls = {part.number: part.url for part in signed}
                for number, offset, length in batch:
                    group.start_soon(send, number, offset, length, urls[number])

    async def create_upload(
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
        return await self._send(self._call_create_upload(body, max_file_size, prefix))

    async def create_multipart_upload(
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
        return await self._send(self._call_create_multipart(body, size))

    async def sign_parts(self, upload_id: uuid.UUID, part_numbers: list[int]) -> list[PartURL]:
        """Presigned PUT URLs for these parts (100 at most per call)."""
        return await self._send(self._call_sign_parts(upload_id, part_numbers))

    async def uploaded_parts(self, upload_id: uuid.UUID) -> list[UploadedPart]:
        """The parts the store already has."""
        return await self._send(self._call_uploaded_parts(upload_id))

    async def complete_upload(
        self, upload_id: uuid.UUID, *, sha256: str | None = None
    ) -> RemoteFile:
        """Check the uploaded object and make it a file (idempotent)."""
        return await self._send(self._call_complete(upload_id, sha256))

    async def get_upload(self, upload_id: uuid.UUID) -> DirectUploadStatus:
        return await self._send(self._call_get_upload(upload_id))

    async def abort_upload(self, upload_id: uuid.UUID) -> DirectUploadStatus:
        return await self._send(self._call_abort_upload(upload_id))

    # downloads ------------------------------------------------------------------------

    async def iter_bytes(self, ref: FileRef, *, offset: int = 0) -> AsyncIterator[bytes]:
        """The file's bytes from ``offset``; a broken connection resumes with a Range."""
        file_id, subject = await self._ref_id(ref)
        async for chunk in self._ranged(
            f"/api/v1/files/{file_id}/download", offset, subject or str(file_id)
        ):
            yield chunk

    async def _ranged(
        self, path: str, offset: int, subject: str, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """The bytes from ``offset`` of ``path`` (an API path, or a presigned URL of the
        store: then without the API key), resumed with a Range after a broken connection."""
        http = self._store_http if path.startswith(("http://", "https://")) else self._http
        attempts = 0
        while True:
            attempts += 1
            try:
                try:
                    async with http.stream(
                        "GET", path, headers=self._download_headers(offset, end)
                    ) as response:
                        if response.status_code == 416 or (end is not None and offset >= end):
                            return
                        if response.status_code >= 400:
                            await response.aread()
                        self._raise_for(response, subject)
                        if (offset or end is not None) and response.status_code == 200:
                            raise ServiceError("the service ignored the Range", code="no_range",
                                               subject=subject)  # fmt: skip
                        async for chunk in response.aiter_bytes(CHUNK):
                            offset += len(chunk)
                            yield chunk
                        return
                except httpx.TransportError as exc:
                    raise self._unreachable(exc, subject) from exc
            except ServiceError as error:
                wait = self._wait_before_retry(error, attempts, True)
                if wait is None:
                    raise
                await anyio.sleep(wait)

    async def download(
        self,
        ref: FileRef | RemoteFile,
        destination: Destination,
        *,
        progress: Progress | None = None,
    ) -> RemoteFile:
        """Download to a path (through ``.NAME.part``, which a later call resumes; parent
        folders created) or to a binary file object. ``ref``: an id, a path, or a file
        already listed (no lookup then)."""
        record = ref if isinstance(ref, RemoteFile) else await self.get_file(ref)
        if not isinstance(destination, str | os.PathLike):
            async for chunk in self._ranged(f"/api/v1/files/{record.id}/download", 0, record.path):
                await anyio.to_thread.run_sync(destination.write, chunk)
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
            link = await self._send(self._call_presign(record.id, None, False, record.path))
            await self._download_segments(link.url, record, partial, progress)
            partial.replace(target)
            return record
        if progress and offset:
            progress(offset)
        source = f"/api/v1/files/{record.id}/download"
        with partial.open("ab") as handle:
            if offset < record.size or record.size == 0:
                async for chunk in self._ranged(source, offset, record.path):
                    await anyio.to_thread.run_sync(handle.write, chunk)
                    if progress:
                        progress(len(chunk))
        partial.replace(target)
        return record

    async def _download_segments(
        self, url: str, record: RemoteFile, partial: Path, progress: Progress | None
    ) -> None:
        segments = _Segments(partial, record.size)
        await anyio.to_thread.run_sync(segments.open)
        if progress:
            progress(record.size - sum(end - start for _, start, end in segments.todo()))
        limiter = anyio.Semaphore(self.part_concurrency)

        async def fetch(index: int, start: int, end: int) -> None:
            async with limiter:
                handle = await anyio.to_thread.run_sync(partial.open, "r+b")
                try:
                    await anyio.to_thread.run_sync(handle.seek, start)
                    async for chunk in self._ranged(url, start, record.path, end):
                        await anyio.to_thread.run_sync(handle.write, chunk)
                        if progress:
                            progress(len(chunk))
                finally:
                    handle.close()
                await anyio.to_thread.run_sync(segments.finish, index)

        try:
            async with anyio.create_task_group() as group:  # the first failure cancels the rest
                for segment in segments.todo():
                    group.start_soon(fetch, *segment)
        except BaseExceptionGroup as group_error:
            raise _first_error(group_error) from None
        segments.close()

    # folders ---------------------------------------------------------------------------

    async def list_folders(
        self, path: str = "", *, page_size: int = FOLDER_PAGE_SIZE
    ) -> AsyncIterator[Folder]:
        """Every direct subfolder of ``path`` ('' the top level), by name."""
        cursor: str | None = None
        while True:
            page = await self._send(self._call_folders_page(path, cursor, page_size))
            for item in page.items:
                yield item
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def create_folder(self, path: str) -> Folder:
        """An empty folder (kept until deleted)."""
        return await self._send(self._call_create_folder(path))

    async def move_folder(self, source: str, target: str) -> FolderSummary:
        """Move or rename a whole subtree in one transaction."""
        return await self._send(self._call_move_folder(source, target))

    async def delete_folder(self, path: str, *, hard: bool = False) -> FolderSummary:
        """Every file under ``path`` to the trash, or with ``hard`` for good."""
        return await self._send(self._call_delete_folder(path, hard))

    async def restore_folder(self, path: str) -> FolderSummary:
        return await self._send(self._call_restore_folder(path))

    async def zip_folder(self, path: str, destination: Destination) -> int:
        """Every file under ``path`` as one ZIP, streamed; returns its size."""
        return await self._zip("GET", "/api/v1/folders/zip", destination, params={"path": path},
                         subject=path or "/")  # fmt: skip

    async def zip_files(self, refs: Iterable[FileRef], destination: Destination) -> int:
        """Chosen files as one ZIP, streamed; returns its size."""
        ids = [str((await self._ref_id(ref))[0]) for ref in refs]
        return await self._zip("POST", "/api/v1/files/zip", destination, json={"ids": ids},
                         subject=f"{len(ids)} file(s)")  # fmt: skip

    async def _zip(self, method: str, path: str, destination: Destination, *, subject: str,
             **request: Any) -> int:  # fmt: skip
        attempts = 0
        while True:
            attempts += 1
            written = 0
            try:
                try:
                    async with self._http.stream(method, path, **request) as response:
                        if response.status_code >= 400:
                            await response.aread()
                        self._raise_for(response, subject)
                        with _opened(destination) as handle:
                            async for chunk in response.aiter_bytes(CHUNK):
                                await anyio.to_thread.run_sync(handle.write, chunk)
                                written += len(chunk)
                        return written
                except httpx.TransportError as exc:
                    raise self._unreachable(exc, subject) from exc
            except ServiceError as error:
                wait = self._wait_before_retry(error, attempts, written == 0)
                if wait is None:
                    raise
                await anyio.sleep(wait)


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


async def _file_chunks(path: Path, progress: Progress | None) -> AsyncIterator[bytes]:
    handle = await anyio.to_thread.run_sync(path.open, "rb")
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK):
            if progress:
                progress(len(chunk))
            yield chunk
    finally:
        handle.close()


async def _bytes_chunks(data: bytes, progress: Progress | None) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        chunk = data[start : start + CHUNK]
        if progress:
            progress(len(chunk))
        yield chunk


def _first_error(group: BaseExceptionGroup) -> BaseException:
    """The first error in a (nested) task group's failure: what the caller would have seen
    from one part alone."""
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def _whole(data: bytes, progress: Progress | None) -> bytes:
    if progress:
        progress(len(data))
    return data


def _read_part(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(length)


def _sha256_of(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(4 * CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()
