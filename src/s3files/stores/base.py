"""The store protocol: what FileStore needs from a place that keeps bytes under keys.

Keys given to a store are relative to its root (bucket prefix or directory) and already
validated by ``naming.validate_key``. Every store raises only errors from ``s3files._errors``.
Two implementations, ``S3Store`` and ``LocalStore``, pass one contract suite
(``tests/contract``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

from s3files._errors import InvalidInputError
from s3files._models import ListPage, ObjectInfo, PresignedURL, PutOptions

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_DELETE_BATCH",
    "ObjectWriter",
    "Store",
    "check_delete_batch",
    "decode_token",
    "encode_token",
]

DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_DELETE_BATCH = 1000  # S3 DeleteObjects takes at most this many keys a call


def check_delete_batch(keys: Sequence[str]) -> list[str]:
    """The keys of one ``delete_many`` call, each once; refuses more than a batch holds."""
    unique = list(dict.fromkeys(keys))
    if len(unique) > MAX_DELETE_BATCH:
        raise InvalidInputError(
            f"at most {MAX_DELETE_BATCH} keys per batch delete", reason="batch_too_large"
        )
    return unique


def encode_token(marker: str) -> str:
    """An opaque continuation token for a store's own marker."""
    return base64.urlsafe_b64encode(marker.encode()).decode()


def decode_token(token: str) -> str:
    """The marker inside a continuation token; ``InvalidInputError`` if it is not one of ours."""
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeError) as exc:
        raise InvalidInputError("malformed continuation token", reason="invalid_token") from exc


class ObjectWriter(Protocol):
    """Receives an object's bytes in order; nothing is visible under the key before
    ``commit`` and nothing is left behind after ``abort``."""

    def write(self, data: bytes) -> None: ...

    def commit(self) -> str | None:
        """Make the object visible; return its ETag."""
        ...

    def abort(self) -> None:
        """Discard everything written so far. Safe to call more than once. Called while
        another error is on its way up, so it never raises over it: a failure to discard
        is logged (``logging.getLogger("s3files")``) with what is left behind."""
        ...


@runtime_checkable
class Store(Protocol):
    """Blocking operations on one bucket (or directory). Thread-safe."""

    @property
    def bucket(self) -> str | None: ...

    def open_writer(self, key: str, options: PutOptions) -> ObjectWriter: ...

    def head(self, key: str) -> ObjectInfo: ...

    def iter_bytes(
        self,
        key: str,
        *,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Iterator[bytes]:
        """The object's bytes (or the range ``offset`` .. ``offset+length``) in chunks."""
        ...

    def get_tags(self, key: str) -> dict[str, str]: ...

    def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error (as on S3)."""
        ...

    def delete_many(self, keys: Sequence[str]) -> dict[str, str]:
        """Remove up to ``MAX_DELETE_BATCH`` objects in one call (S3 DeleteObjects).

        Returns ``{key: reason}`` for the keys that could not be removed (missing objects
        are not failures); every key not in it is gone. Errors of the whole call (store
        unreachable, no permission) are raised as for ``delete``.
        """
        ...

    def copy(
        self, source_key: str, dest_key: str, *, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        """Copy an object; ``metadata`` (encoded) replaces the source's user metadata."""
        ...

    def list_page(
        self, prefix: str = "", *, page_size: int = 1000, token: str | None = None
    ) -> ListPage: ...

    def presign(
        self,
        method: str,
        key: str,
        *,
        expires_in: int,
        content_type: str | None = None,
        response_headers: Mapping[str, str] | None = None,
    ) -> PresignedURL:
        """A URL for GET or PUT; ``response_headers`` are response-content-* overrides."""
        ...

    def public_url(self, key: str) -> str: ...

    def close(self) -> None: ...
