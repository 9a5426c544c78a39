"""A one-call upload service: ``S3Service(settings).upload(FileUploadRequest(...))`` → public URL.

    >>> service = S3Service(settings)
    >>> url = service.upload(FileUploadRequest(filename="me.jpg", content_type="image/jpeg",
    ...                                        content=jpeg_bytes))
    'https://my-bucket.s3.us-east-1.amazonaws.com/uploads/1f0c...e2.jpg'

``settings`` may be an s3files ``Settings`` or any settings object with the attributes
``aws_access_key_id``, ``aws_secret_access_key``, ``aws_region``, ``s3_bucket``, and
optionally ``s3_endpoint_url``. The object is private unless the bucket's policy makes
``uploads/`` public; ``presigned_url`` gives a link that works either way.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from s3files._config import S3Config, Settings
from s3files._errors import ConfigurationError
from s3files._models import StoredFile
from s3files.naming import NamingPolicy
from s3files.store import FileStore
from s3files.stores.s3 import S3Store

__all__ = ["FileUploadRequest", "S3Service"]

UPLOADS_NAMING = NamingPolicy(strategy="uuid", preserve_filename=False, folder_structure="uploads")


class FileUploadRequest(BaseModel):
    """A file to upload: its original name, claimed MIME type and content."""

    model_config = ConfigDict(frozen=True)

    filename: str = Field(min_length=1, max_length=1024)
    content_type: str = Field(min_length=1, max_length=255)
    content: bytes


def _plain(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class S3Service:
    """Stores uploads under ``uploads/<uuid4><ext>`` and returns their public URL."""

    def __init__(self, settings: Any) -> None:
        # s3files' Settings has the same attribute names: one S3Config reads both
        config = S3Config.read(
            lambda name: _plain(getattr(settings, name, None)), "attribute", report="env"
        )
        if not config.bucket:
            raise ConfigurationError("S3_BUCKET_NAME: no bucket configured for S3Service")
        store = S3Store.from_config(config)
        policy = settings.upload_policy() if isinstance(settings, Settings) else None
        self.files = FileStore(store, policy=policy, naming=UPLOADS_NAMING)

    def upload_file(self, request: FileUploadRequest) -> StoredFile:
        """Like ``upload`` but returns the whole ``StoredFile`` (key, size, SHA-256 ...)."""
        return self.files.upload(
            request.content, filename=request.filename, content_type=request.content_type
        )

    def upload(self, request: FileUploadRequest) -> str:
        """Store the file and return its public URL."""
        return self.files.public_url(self.upload_file(request).key)

    def presigned_url(self, key: str, expires_in: int = 3600) -> str:
        """A short-lived download URL for a stored key."""
        return self.files.presign_download(key, expires_in=expires_in).url
