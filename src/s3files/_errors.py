"""The one error hierarchy of s3files.

Every error carries a stable ``code`` (used as the JSON error code by the service) and,
where it concerns an object, the ``bucket`` and ``key``::

    S3FilesError
    ├── ConfigurationError            a setting is missing or malformed (names the variable)
    ├── InvalidInputError (ValueError)
    │   ├── InvalidFilenameError       nothing usable left after sanitising
    │   ├── InvalidKeyError            a key or prefix that would escape the store's root
    │   ├── FileTooLargeError          more bytes than the limit (counted, not trusted)
    │   ├── EmptyFileError             zero bytes
    │   ├── UnsupportedFileTypeError   extension or sniffed MIME type not allowed
    │   └── ChecksumMismatchError      content does not match the expected SHA-256
    ├── InvalidSignatureError          a local-store URL token that is forged or expired
    │   └── ExpiredSignatureError
    └── StoreError                     anything the store said no to
        ├── ObjectNotFoundError (FileNotFoundError)
        ├── BucketNotFoundError
        ├── ObjectExistsError (FileExistsError)
        ├── PermissionDeniedError (PermissionError)
        │   └── InvalidCredentialsError
        └── StoreUnavailableError (ConnectionError)   network failure, timeouts, 5xx
            └── ThrottledError                        the store asked us to slow down

Backend exceptions (botocore, OSError) are translated in one place per store
(``stores/_s3_errors.py: translate_s3_errors`` and ``stores/local.py: translate_os_errors``) and
re-raised with ``raise ... from exc`` so the cause stays visible.
"""

from __future__ import annotations

__all__ = [
    "BucketNotFoundError",
    "ChecksumMismatchError",
    "ConfigurationError",
    "EmptyFileError",
    "ExpiredSignatureError",
    "FileTooLargeError",
    "InvalidCredentialsError",
    "InvalidFilenameError",
    "InvalidInputError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "ObjectExistsError",
    "ObjectNotFoundError",
    "PermissionDeniedError",
    "S3FilesError",
    "StoreError",
    "StoreUnavailableError",
    "ThrottledError",
    "UnsupportedFileTypeError",
]


class S3FilesError(Exception):
    """Base class of every error s3files raises on purpose."""

    code: str = "s3files_error"

    def __init__(self, message: str, *, bucket: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.bucket = bucket
        self.key = key

    def __str__(self) -> str:
        where = ""
        if self.key is not None:
            where = f" [{self.bucket}/{self.key}]" if self.bucket else f" [{self.key}]"
        elif self.bucket is not None:
            where = f" [{self.bucket}]"
        return f"{self.message}{where}"


class ConfigurationError(S3FilesError):
    """A setting is missing or malformed; the message names the environment variable."""

    code = "configuration_error"


class InvalidInputError(S3FilesError, ValueError):
    """The caller's input cannot be accepted; ``reason`` says why in a few words."""

    code = "invalid_input"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        bucket: str | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message, bucket=bucket, key=key)
        self.reason = reason or self.code


class InvalidFilenameError(InvalidInputError):
    """The filename has nothing usable left after sanitising."""

    code = "invalid_filename"


class InvalidKeyError(InvalidInputError):
    """A key, folder or prefix is malformed or would escape the store's root."""

    code = "invalid_key"


class FileTooLargeError(InvalidInputError):
    """The content is larger than the limit; counted on the bytes, not taken from a header."""

    code = "file_too_large"

    def __init__(self, message: str, *, limit: int, **kwargs: str | None) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit


class EmptyFileError(InvalidInputError):
    """The content has zero bytes."""

    code = "empty_file"


class UnsupportedFileTypeError(InvalidInputError):
    """The extension, or the MIME type sniffed from the content, is not allowed."""

    code = "unsupported_file_type"


class ChecksumMismatchError(InvalidInputError):
    """The content's SHA-256 differs from the one the caller expected."""

    code = "checksum_mismatch"


class InvalidSignatureError(S3FilesError):
    """A signed local-store URL is malformed, forged or for another operation."""

    code = "invalid_signature"


class ExpiredSignatureError(InvalidSignatureError):
    """A signed local-store URL is past its expiry."""

    code = "expired_signature"


class StoreError(S3FilesError):
    """The store refused or failed an operation."""

    code = "store_error"


class ObjectNotFoundError(StoreError, FileNotFoundError):
    """No object under that key (also a ``FileNotFoundError``)."""

    code = "not_found"


class BucketNotFoundError(StoreError):
    """The bucket does not exist."""

    code = "bucket_not_found"


class ObjectExistsError(StoreError, FileExistsError):
    """An object already exists where the operation required none."""

    code = "already_exists"


class PermissionDeniedError(StoreError, PermissionError):
    """The credentials are valid but not allowed to do this."""

    code = "permission_denied"


class InvalidCredentialsError(PermissionDeniedError):
    """The store does not accept the credentials (unknown key, bad secret, bad signature)."""

    code = "invalid_credentials"


class StoreUnavailableError(StoreError, ConnectionError):
    """The store could not be reached or failed (network error, timeout, 5xx)."""

    code = "store_unavailable"


class ThrottledError(StoreUnavailableError):
    """The store asked us to slow down (SlowDown, 503) and retries did not help."""

    code = "throttled"
