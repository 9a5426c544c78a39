"""s3files: file management on S3-compatible object stores and the local disk.

from s3files import FileStore
files = FileStore.from_url("s3://my-bucket/app")      # or "file:///srv/files"
stored = files.upload("report.pdf", folder="documents")
url = files.presign_download(stored.key, force_download=True).url
"""

from s3files._config import Settings, StorageLocation, load_settings
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
from s3files._models import ListPage, ObjectInfo, PresignedURL, PutOptions, StoredFile
from s3files._simple import FileUploadRequest, S3Service
from s3files.connector import S3Bucket, S3Connector, S3Object
from s3files.naming import NamingPolicy, build_key, sanitize_filename
from s3files.signing import Credentials
from s3files.store import AsyncFileStore, FileStore, open_store
from s3files.stores import LocalStore, S3Store, Store
from s3files.validation import UploadPolicy

__version__ = "0.1.0"

__all__ = [
    "AsyncFileStore",
    "BucketNotFoundError",
    "ChecksumMismatchError",
    "ConfigurationError",
    "Credentials",
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
    "NamingPolicy",
    "ObjectExistsError",
    "ObjectInfo",
    "ObjectNotFoundError",
    "PermissionDeniedError",
    "PresignedURL",
    "PutOptions",
    "S3Bucket",
    "S3Connector",
    "S3FilesError",
    "S3Object",
    "S3Service",
    "S3Store",
    "Settings",
    "StorageLocation",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "StoredFile",
    "ThrottledError",
    "UnsupportedFileTypeError",
    "UploadPolicy",
    "__version__",
    "build_key",
    "load_settings",
    "open_store",
    "sanitize_filename",
]
