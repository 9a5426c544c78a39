"""Direct-to-store uploads: the store signs, the client sends the bytes, the server checks.

``DirectUploadStore`` is what a store offers for it: a POST policy for browser forms and
multipart uploads whose parts are PUT to presigned URLs. ``S3Store`` signs for the S3
server; ``LocalStore`` signs tokens that the s3files service verifies and serves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from s3files._models import MultipartUploadInfo, PresignedPost, PresignedURL, PutOptions, UploadPart
from s3files.stores._s3_errors import MAX_PARTS, MIN_PART_SIZE

__all__ = ["MAX_PARTS", "MIN_PART_SIZE", "DirectUploadStore"]


@runtime_checkable
class DirectUploadStore(Protocol):
    def presign_post(
        self,
        key: str,
        *,
        content_type: str,
        max_size: int,
        expires_in: int,
        fields: Mapping[str, str] | None = None,
    ) -> PresignedPost:
        """A form upload bound to ``key``, ``content_type`` and 1..``max_size`` bytes;
        ``fields`` are extra form fields signed as exact matches (S3 only)."""
        ...

    def create_multipart(self, key: str, options: PutOptions) -> str:
        """Start a multipart upload; returns its upload id."""
        ...

    def presign_part(
        self, key: str, upload_id: str, number: int, *, expires_in: int
    ) -> PresignedURL: ...

    def list_parts(self, key: str, upload_id: str) -> list[UploadPart]: ...

    def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> str | None:
        """Assemble the parts (number, etag) in order; returns the object's ETag."""
        ...

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Discard the upload and its parts. An unknown upload (never started, completed,
        or aborted already, by a lifecycle rule for one) is already gone: this returns.
        Any other failure raises the typed ``StoreError`` (the parts would stay stored)."""
        ...

    def list_multipart_uploads(self, prefix: str = "") -> Iterable[MultipartUploadInfo]: ...
