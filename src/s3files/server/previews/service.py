"""Thumbnails as a cache in the store: ``.thumbnails/<file key>/<size>.webp``, made on the
first request (once per process however many ask at the same time), served from the store
afterwards, and removed when their file is deleted for good (``remove_thumbnails``).

A file's key and bytes never change once stored, so a cached thumbnail never goes stale.
Rendering is CPU work on a worker thread: at most ``MAX_RENDERS`` at once per process
(a thread abandoned by a timed-out request still holds its place until it ends), each
request within the transfer limits, and a request waits at most ``RENDER_TIMEOUT``."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

import anyio

from s3files._errors import InvalidKeyError, ObjectNotFoundError, S3FilesError
from s3files._models import PutOptions
from s3files.naming import validate_key
from s3files.server.api_error import ApiError
from s3files.server.limits import busy
from s3files.server.previews.render import MAX_SOURCE_BYTES, can_preview, render_thumbnail
from s3files.server.state import AppState
from s3files.stores.base import MAX_DELETE_BATCH, Store

__all__ = [
    "MAX_RENDERS",
    "PREFIX",
    "SIZES",
    "Thumbnails",
    "remove_thumbnails",
    "snap_size",
    "thumbnail_key",
]

logger = logging.getLogger("s3files.server")

PREFIX = ".thumbnails/"
SIZES = (128, 256, 512)  # sizes asked for are rounded up to one of these (the cache's keys)
MAX_RENDERS = 2
RENDER_TIMEOUT = 15.0
_SPOOL_BYTES = 8 * 1024 * 1024  # sources up to this stay in memory, larger ones spill to disk


def snap_size(requested: int) -> int:
    return next((size for size in SIZES if size >= requested), SIZES[-1])


def thumbnail_key(key: str, size: int) -> str | None:
    """The derived object's key; None when it would not be a valid key (too long)."""
    try:
        return validate_key(f"{PREFIX}{key}/{size}.webp")
    except InvalidKeyError:
        return None


def _fetch(store: Store, key: str, size_hint: int, spool: IO[bytes]) -> None:
    """The file's bytes into ``spool`` (at most ``MAX_SOURCE_BYTES``), rewound."""
    if size_hint > MAX_SOURCE_BYTES:
        raise ApiError(
            422, "image_too_large", f"previews are made of files up to {MAX_SOURCE_BYTES} bytes"
        )
    received = 0
    for chunk in store.iter_bytes(key):
        received += len(chunk)
        if received > MAX_SOURCE_BYTES:
            raise ApiError(422, "image_too_large", "the file is too large for a preview")
        spool.write(chunk)
    spool.seek(0)


@dataclass
class _Flight:
    done: anyio.Event = field(default_factory=anyio.Event)
    body: bytes | None = None
    error: BaseException | None = None


class Thumbnails:
    """One per app: the renders in flight (single-flight) and the render slots."""

    def __init__(self) -> None:
        self._flights: dict[tuple[uuid.UUID, int], _Flight] = {}
        self._slots = threading.BoundedSemaphore(MAX_RENDERS)
        self.renders = 0  # thumbnails made by this process (tests and metrics)

    async def cached(self, state: AppState, key: str) -> bool:
        try:
            await state.files.head(key)
        except ObjectNotFoundError:
            return False
        return True

    async def make(
        self,
        state: AppState,
        *,
        file_id: uuid.UUID,
        key: str,
        content_type: str,
        size: int,
        file_size: int,
    ) -> tuple[bytes, bool]:
        """The thumbnail's bytes, rendered and stored by the first caller; the others wait
        for it and get the same answer (or the same error): (bytes, made by another)."""
        if not can_preview(content_type):
            raise no_preview(content_type)
        flight_key = (file_id, size)
        while (flight := self._flights.get(flight_key)) is not None:
            await flight.done.wait()  # another request is making it: its answer is ours
            if flight.body is not None:
                return flight.body, True
            if isinstance(flight.error, ApiError | S3FilesError):
                raise flight.error
            # that request was cancelled or failed oddly: make it ourselves
        flight = self._flights[flight_key] = _Flight()
        try:
            flight.body = await self._render(state, key, content_type, size, file_size)
            return flight.body, False
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            del self._flights[flight_key]
            flight.done.set()

    async def _render(
        self, state: AppState, key: str, content_type: str, size: int, file_size: int
    ) -> bytes:
        deadline = time.monotonic() + 5.0
        while not self._slots.acquire(blocking=False):
            if time.monotonic() > deadline:
                raise busy("too many previews are being made", state.limits.retry_after)
            await anyio.sleep(0.05)
        store = state.files.store
        target = thumbnail_key(key, size)

        claim = threading.Lock()
        owner: list[str] = []  # "thread" once the work runs, "caller" if it never will

        def claimed_by(who: str) -> bool:
            with claim:
                if not owner:
                    owner.append(who)
                return owner[0] == who

        def work() -> bytes:
            if not claimed_by("thread"):  # abandoned before it started: the slot is freed
                raise RuntimeError("abandoned")
            try:
                with tempfile.SpooledTemporaryFile(_SPOOL_BYTES) as source:
                    _fetch(store, key, file_size, source)
                    body = render_thumbnail(source, content_type, size)
                if target is not None:
                    writer = store.open_writer(target, PutOptions(content_type="image/webp"))
                    try:
                        writer.write(body)
                        writer.commit()
                    except BaseException:
                        writer.abort()
                        raise
                return body
            finally:
                self._slots.release()  # by the thread, however long it ran

        try:
            with anyio.fail_after(RENDER_TIMEOUT):
                body = await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError:
            if claimed_by("caller"):
                self._slots.release()  # the thread never started
            raise ApiError(
                503,
                "preview_timeout",
                f"the preview took longer than {RENDER_TIMEOUT:.0f} s to make",
                {"Retry-After": str(state.limits.retry_after)},
            ) from None
        except BaseException:
            if claimed_by("caller"):
                self._slots.release()
            raise
        self.renders += 1
        return body


def no_preview(content_type: str) -> ApiError:
    return ApiError(404, "no_preview", f"no preview is made of {content_type or 'this'} files")


async def remove_thumbnails(state: AppState, keys: Iterable[str]) -> None:
    """Remove the cached thumbnails of these files' keys (their objects are gone). Best
    effort: a failure is logged and left to ``cleanup`` (orphan objects)."""
    derived = [t for key in keys for size in SIZES if (t := thumbnail_key(key, size))]
    store = state.files.store
    for start in range(0, len(derived), MAX_DELETE_BATCH):
        batch = derived[start : start + MAX_DELETE_BATCH]
        try:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(store.delete_many, batch)
        except S3FilesError as exc:
            logger.warning("thumbnails_kept", extra={"fields": {"detail": str(exc)}})
