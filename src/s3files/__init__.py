"""s3files: file management on S3-compatible object stores and the local disk.

from s3files import FileStore
files = FileStore.from_url("s3://my-bucket/app")      # or "file:///srv/files"
stored = files.upload("report.pdf", folder="documents")
url = files.presign_download(stored.key, force_download=True).url

``import s3files`` loads only the error types: every other name is imported on first use
(PEP 562 ``__getattr__``), so a program pays for boto3, pydantic-settings, anyio or the
connector only when it uses them. Type checkers see every name through the
``TYPE_CHECKING`` imports below, which list the same names as ``_LAZY``.
"""

from __future__ import annotations

import importlib

from s3files._errors import (
    BucketNotFoundError,
    ChecksumMismatchError,
    ConfigurationError,
    EmptyFileError,
    ExpiredSignatureError,
    FileTooLargeError,
    InvalidCredentialsError,
    InvalidFilenameError,
    InvalidInputError,
    InvalidKeyError,
    InvalidSignatureError,
    ObjectExistsError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3FilesError,
    StoreError,
    StoreUnavailableError,
    ThrottledError,
    UnsupportedFileTypeError,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (about 10 ms)
if TYPE_CHECKING:
    from typing import Any

    from s3files._config import S3Config, Settings, StorageLocation, load_settings
    from s3files._models import (
        ListPage,
        MultipartUploadInfo,
        ObjectInfo,
        PresignedPost,
        PresignedURL,
        PutOptions,
        StoredFile,
        UploadPart,
    )
    from s3files._simple import FileUploadRequest, S3Service
    from s3files.connector import (
        BucketMetadata,
        RateLimiter,
        RetryPolicy,
        S3Bucket,
        S3Connector,
        S3Object,
        S3ObjectPage,
        StorageClass,
    )
    from s3files.direct import DirectUploadPlan, PartPlan, Rejection, UploadStatus, VerifiedObject
    from s3files.naming import NamingPolicy, build_key, sanitize_filename
    from s3files.signing import Credentials, LocalURLSigner
    from s3files.store import AsyncFileStore, FileStore, UploadSource, open_store
    from s3files.stores import LocalStore, ObjectWriter, S3Store, Store
    from s3files.validation import UploadPolicy

__version__ = "0.1.0"

# name -> the module that defines it (imported on first access)
_LAZY: dict[str, str] = {
    "S3Config": "s3files._config",
    "Settings": "s3files._config",
    "StorageLocation": "s3files._config",
    "load_settings": "s3files._config",
    "ListPage": "s3files._models",
    "MultipartUploadInfo": "s3files._models",
    "ObjectInfo": "s3files._models",
    "PresignedPost": "s3files._models",
    "PresignedURL": "s3files._models",
    "PutOptions": "s3files._models",
    "StoredFile": "s3files._models",
    "UploadPart": "s3files._models",
    "FileUploadRequest": "s3files._simple",
    "S3Service": "s3files._simple",
    "BucketMetadata": "s3files.connector",
    "RateLimiter": "s3files.connector",
    "RetryPolicy": "s3files.connector",
    "S3Bucket": "s3files.connector",
    "S3Connector": "s3files.connector",
    "S3Object": "s3files.connector",
    "S3ObjectPage": "s3files.connector",
    "StorageClass": "s3files.connector",
    "DirectUploadPlan": "s3files.direct",
    "PartPlan": "s3files.direct",
    "Rejection": "s3files.direct",
    "UploadStatus": "s3files.direct",
    "VerifiedObject": "s3files.direct",
    "NamingPolicy": "s3files.naming",
    "build_key": "s3files.naming",
    "sanitize_filename": "s3files.naming",
    "Credentials": "s3files.signing",
    "LocalURLSigner": "s3files.signing",
    "AsyncFileStore": "s3files.store",
    "FileStore": "s3files.store",
    "UploadSource": "s3files.store",
    "open_store": "s3files.store",
    "LocalStore": "s3files.stores",
    "ObjectWriter": "s3files.stores",
    "S3Store": "s3files.stores",
    "Store": "s3files.stores",
    "UploadPolicy": "s3files.validation",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access, then keep the name here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 's3files' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "AsyncFileStore",
    "BucketMetadata",
    "BucketNotFoundError",
    "ChecksumMismatchError",
    "ConfigurationError",
    "Credentials",
    "DirectUploadPlan",
    "EmptyFileError",
    "ExpiredSignatureError",
    "FileStore",
    "FileTooLargeError",
    "FileUploadRequest",
    "InvalidCredentialsError",
    "InvalidFilenameError",
    "InvalidInputError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "ListPage",
    "LocalStore",
    "LocalURLSigner",
    "MultipartUploadInfo",
    "NamingPolicy",
    "ObjectExistsError",
    "ObjectInfo",
    "ObjectNotFoundError",
    "ObjectWriter",
    "PartPlan",
    "PermissionDeniedError",
    "PresignedPost",
    "PresignedURL",
    "PutOptions",
    "RateLimiter",
    "Rejection",
    "RetryPolicy",
    "S3Bucket",
    "S3Config",
    "S3Connector",
    "S3FilesError",
    "S3Object",
    "S3ObjectPage",
    "S3Service",
    "S3Store",
    "Settings",
    "StorageClass",
    "StorageLocation",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "StoredFile",
    "ThrottledError",
    "UnsupportedFileTypeError",
    "UploadPart",
    "UploadPolicy",
    "UploadSource",
    "UploadStatus",
    "VerifiedObject",
    "__version__",
    "build_key",
    "load_settings",
    "open_store",
    "sanitize_filename",
]
