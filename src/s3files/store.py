"""FileStore and AsyncFileStore: validated, streaming file management over any store.

The twins have the same methods with the same typed parameters (a test compares them):
``FileStore`` (``s3files._store_sync``) does the work; ``AsyncFileStore``
(``s3files._store_async``) runs each blocking step on a worker thread, so the event loop
is never blocked. What both share without I/O is in ``s3files._store_core``. Import them
from here (or from ``s3files``).

    >>> files = FileStore.from_url("file:///tmp/s3files-demo")
    >>> stored = files.upload(b"hello", filename="hello.txt")
    >>> files.download(stored.key)
    b'hello'
"""

from __future__ import annotations

from s3files._store_async import AsyncFileStore
from s3files._store_core import UploadSource, content_disposition
from s3files._store_sync import FileStore, open_store

__all__ = ["AsyncFileStore", "FileStore", "UploadSource", "content_disposition", "open_store"]
