"""``S3Client``: server-side upload, listing and deletion, each returning a result dict.

    from s3files.contrib.django.s3 import S3Client

    client = S3Client()
    client.upload_file("/tmp/report.pdf", "reports/2025/report.pdf", public=False)
    client.list_objects(prefix="reports/", max_keys=100)
    client.delete_object("reports/2025/report.pdf")

Every method returns a dict with ``success`` (and ``error``/``code`` on failure). Uploads go
through ``FileStore.upload``: the same streaming validation as every other upload.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from s3files._errors import S3FilesError
from s3files._models import ObjectInfo
from s3files.contrib.django._results import Result, failure
from s3files.contrib.django.conf import get_file_store
from s3files.store import FileStore

__all__ = ["S3Client"]


def _object(info: ObjectInfo) -> dict[str, Any]:
    return {
        "key": info.key,
        "size": info.size,
        "etag": info.etag,
        "last_modified": info.last_modified.isoformat() if info.last_modified else None,
    }


class S3Client:
    """Object operations on the configured bucket; pass ``files`` to use another store."""

    def __init__(self, files: FileStore | None = None) -> None:
        self._files = files

    @property
    def files(self) -> FileStore:
        # Resolved per call, so a settings change (override_settings) is seen at once.
        return self._files if self._files is not None else get_file_store()

    def upload_file(
        self,
        file_path: str | os.PathLike[str],
        object_key: str,
        public: bool = False,
        *,
        content_type: str | None = None,
        expiration: int = 3600,
    ) -> Result:
        """Validate and store a local file under ``object_key``.

        ``url`` is the public URL when ``public`` (readable once the bucket's policy allows
        public reads; s3files sets no per-object ACLs, which AWS disables by default), else
        a presigned GET URL valid for ``expiration`` seconds.
        """
        try:
            files = self.files
            stored = files.upload(
                file_path,
                key=object_key,
                filename=Path(file_path).name,
                content_type=content_type,
            )
            if public:
                url = files.public_url(stored.key)
            else:
                url = files.presign_download(stored.key, expires_in=expiration).url
        except S3FilesError as exc:
            return failure(exc.message, exc.code)
        except OSError as exc:
            return failure(f"cannot read {Path(file_path).name}: {exc.strerror}", "unreadable")
        return {
            "success": True,
            "key": stored.key,
            "url": url,
            "size": stored.size,
            "content_type": stored.content_type,
            "etag": stored.etag,
            "sha256": stored.sha256,
        }

    def list_objects(self, prefix: str = "", max_keys: int = 1000) -> Result:
        """Up to ``max_keys`` (1..1000) objects whose keys start with ``prefix``."""
        if not 1 <= max_keys <= 1000:
            return failure("max_keys must be between 1 and 1000", "invalid_input")
        try:
            page = self.files.list(prefix, page_size=max_keys)
        except S3FilesError as exc:
            return failure(exc.message, exc.code)
        objects = [_object(info) for info in page.items]
        return {
            "success": True,
            "objects": objects,
            "count": len(objects),
            "is_truncated": page.next_token is not None,
        }

    def delete_object(self, object_key: str) -> Result:
        """Remove one object; a missing object counts as removed."""
        try:
            self.files.delete(object_key)
        except S3FilesError as exc:
            return failure(exc.message, exc.code)
        return {"success": True, "key": object_key}
