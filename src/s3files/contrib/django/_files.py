# mypy: disable-error-code="import-untyped", allow-subclassing-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""The File that ``S3FilesStorage.open`` returns: reads stream from the store, never the
whole object.

Sequential reads share one GET from the current position to the end, read chunk by chunk;
a seek drops it and the next read opens a ranged GET at the new position. So ``chunks()``
of a 1 GB file holds one chunk, and reading an image's header reads a few KiB.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from django.core.files.base import File

from s3files.store import FileStore

__all__ = ["StoredObjectFile", "StreamingReader"]

READ_CHUNK = 256 * 1024


class StreamingReader(io.RawIOBase):
    """A seekable, read-only raw file over one stored object (ranged GETs on demand)."""

    def __init__(self, files: FileStore, key: str, size: int) -> None:
        super().__init__()
        self._files = files
        self._key = key
        self.size = size
        self._position = 0
        self._stream: Iterator[bytes] | None = None
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        target = base + offset
        if target < 0:
            raise ValueError("negative seek position")
        if target != self._position:
            self._drop_stream()
            self._position = target
        return self._position

    def readinto(self, buffer: Any) -> int:
        if self.closed:
            raise ValueError("read of a closed file")
        if self._position >= self.size:
            return 0
        while not self._pending:
            if self._stream is None:
                self._stream = self._files.iter_bytes(
                    self._key, offset=self._position, chunk_size=READ_CHUNK
                )
            chunk = next(self._stream, None)
            if chunk is None:  # the object ended early (changed meanwhile)
                self._drop_stream()
                return 0
            self._pending = memoryview(chunk)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self._position += count
        return count

    def _drop_stream(self) -> None:
        stream, self._stream, self._pending = self._stream, None, memoryview(b"")
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # releases the HTTP response (a generator's finally closes the body)

    def close(self) -> None:
        self._drop_stream()
        super().close()


class StoredObjectFile(File):
    """A Django ``File`` whose ``read``, ``chunks`` and iteration stream from the store."""

    def __init__(self, files: FileStore, key: str, name: str, size: int) -> None:
        self._files, self._key = files, key
        self._reader = StreamingReader(files, key, size)
        super().__init__(io.BufferedReader(self._reader, buffer_size=READ_CHUNK), name)
        self.mode = "rb"

    @property
    def size(self) -> int:
        return self._reader.size

    def open(self, mode: str | None = None) -> StoredObjectFile:
        """Rewind, or (once closed) read the object again from its start."""
        if mode not in (None, "rb", "r"):
            raise ValueError("stored files open read-only; save a new file to change one")
        if self.closed:
            self._reader = StreamingReader(self._files, self._key, self._reader.size)
            self.file = io.BufferedReader(self._reader, buffer_size=READ_CHUNK)
        else:
            self.seek(0)
        return self
