"""The service's answers as the library's typed errors, built from the stable ``error`` code.

Every error the client raises is a ``ServiceError`` (with the HTTP ``status``, the API's
``code`` and its ``detail``) and also the library error of the same meaning, so code written
against ``s3files`` catches it as it catches a store's::

    ServiceError (S3FilesError)
    ├── NotFoundError (ObjectNotFoundError, FileNotFoundError)     404
    ├── UnauthorizedError (InvalidCredentialsError, PermissionError) 401
    ├── ForbiddenError (PermissionDeniedError, PermissionError)    403
    │   └── QuotaExceededError                                       403 quota_exceeded
    ├── SignatureError (InvalidSignatureError)                     403 invalid/expired_signature
    ├── InvalidRequestError (InvalidInputError, ValueError)        400, 405, 414, 422, 431
    │   ├── RemoteFileTooLargeError (FileTooLargeError)            413
    │   ├── RemoteUnsupportedTypeError (UnsupportedFileTypeError)  415
    │   ├── RemoteChecksumMismatchError (ChecksumMismatchError)    checksum_mismatch
    │   ├── RemoteEmptyFileError (EmptyFileError)                  empty_file
    │   ├── RemoteInvalidFilenameError (InvalidFilenameError)      invalid_filename
    │   └── RangeNotSatisfiableError                               416
    ├── ConflictError (ObjectExistsError, FileExistsError)         409
    ├── UploadRejectedError (InvalidInputError)                    422 upload_rejected
    └── ServiceUnavailableError (StoreUnavailableError, ConnectionError)  408, 5xx, no answer
        └── BusyError (ThrottledError)                             503 busy (Retry-After)

``StoreUnavailableError`` is what ``s3files._retry.RetryPolicy`` retries.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from s3files._errors import (
    ChecksumMismatchError,
    EmptyFileError,
    FileTooLargeError,
    InvalidCredentialsError,
    InvalidFilenameError,
    InvalidInputError,
    InvalidSignatureError,
    ObjectExistsError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3FilesError,
    StoreUnavailableError,
    ThrottledError,
    UnsupportedFileTypeError,
)

__all__ = [
    "AmbiguousPathError",
    "BusyError",
    "ConflictError",
    "ForbiddenError",
    "InvalidRequestError",
    "NotFoundError",
    "QuotaExceededError",
    "RangeNotSatisfiableError",
    "RemoteChecksumMismatchError",
    "RemoteEmptyFileError",
    "RemoteFileTooLargeError",
    "RemoteInvalidFilenameError",
    "RemoteUnsupportedTypeError",
    "ServiceError",
    "ServiceUnavailableError",
    "SignatureError",
    "UnauthorizedError",
    "UploadRejectedError",
    "error_for",
]


class ServiceError(S3FilesError):
    """The service answered an error (or none): ``status`` (None if it never answered),
    the API's stable ``code`` and the ``detail`` it gave; ``subject`` names the object."""

    code = "service_error"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        subject: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        S3FilesError.__init__(self, detail, key=subject)
        self.detail = detail
        self.status = status
        if code is not None:
            self.code = code
        self.subject = subject
        self.retry_after = retry_after
        self.reason = self.code  # InvalidInputError's field, for the subclasses that are one
        self.limit = _limit_in(detail)  # FileTooLargeError's field

    def __str__(self) -> str:
        where = f"{self.subject}: " if self.subject else ""
        return f"{where}{self.detail} ({self.code})"


def _limit_in(detail: str) -> int:
    found = re.search(r"limit of (\d+)", detail)
    return int(found.group(1)) if found else 0


class NotFoundError(ServiceError, ObjectNotFoundError):
    """No such file, folder or upload for this key's owner (404)."""


class UnauthorizedError(ServiceError, InvalidCredentialsError):
    """The API key is missing, unknown or revoked (401)."""


class ForbiddenError(ServiceError, PermissionDeniedError):
    """The key may not do this (403), e.g. an admin route with a user's key."""


class QuotaExceededError(ForbiddenError):
    """The owner's quota of bytes or files would be exceeded; nothing was stored (403)."""


class SignatureError(ServiceError, InvalidSignatureError):
    """A signed URL is forged or expired (403)."""


class InvalidRequestError(ServiceError, InvalidInputError):
    """The service refused the request's input (400, 422 and the like)."""


class RemoteFileTooLargeError(InvalidRequestError, FileTooLargeError):
    """The file is larger than the service's limit (413); ``limit`` in bytes when known."""


class RemoteUnsupportedTypeError(InvalidRequestError, UnsupportedFileTypeError):
    """The extension or the sniffed type is not allowed by the service (415)."""


class RemoteChecksumMismatchError(InvalidRequestError, ChecksumMismatchError):
    """The stored bytes do not have the SHA-256 the client sent."""


class RemoteEmptyFileError(InvalidRequestError, EmptyFileError):
    """The file has zero bytes."""


class RemoteInvalidFilenameError(InvalidRequestError, InvalidFilenameError):
    """Nothing usable is left of the filename."""


class AmbiguousPathError(InvalidRequestError):
    """A path names several files (a name can repeat in a folder): name one by id.
    ``ids`` lists the files that match."""

    def __init__(self, path: str, ids: list[uuid.UUID], *, deleted: bool = False) -> None:
        where = " in the trash" if deleted else ""
        super().__init__(
            f"{len(ids)} files{where} have this path; name one by id: "
            + ", ".join(str(i) for i in ids),
            status=None,
            code="ambiguous_path",
            subject=path,
        )
        self.ids = ids


class RangeNotSatisfiableError(InvalidRequestError):
    """The requested byte range is outside the file (416)."""


class ConflictError(ServiceError, ObjectExistsError):
    """The resource's state forbids this (409): a folder exists, an upload is closed..."""


class UploadRejectedError(ServiceError, InvalidInputError):
    """A direct upload failed its checks at completion; the staged bytes were deleted."""


class ServiceUnavailableError(ServiceError, StoreUnavailableError):
    """The service or its store did not answer or failed (5xx, 408, connection errors)."""


class BusyError(ServiceUnavailableError, ThrottledError):
    """The service is saturated (503 ``busy``); ``retry_after`` says when to try again."""


_BY_CODE: dict[str, type[ServiceError]] = {
    "not_found": NotFoundError,
    "not_available": NotFoundError,
    "bucket_not_found": ServiceUnavailableError,
    "unauthorized": UnauthorizedError,
    "forbidden": ForbiddenError,
    "policy_violation": ForbiddenError,
    "permission_denied": ForbiddenError,
    "quota_exceeded": QuotaExceededError,
    "invalid_signature": SignatureError,
    "expired_signature": SignatureError,
    "file_too_large": RemoteFileTooLargeError,
    "body_too_large": RemoteFileTooLargeError,
    "unsupported_file_type": RemoteUnsupportedTypeError,
    "checksum_mismatch": RemoteChecksumMismatchError,
    "empty_file": RemoteEmptyFileError,
    "invalid_filename": RemoteInvalidFilenameError,
    "invalid_range": RangeNotSatisfiableError,
    "upload_rejected": UploadRejectedError,
    "busy": BusyError,
    "throttled": BusyError,
    "store_unavailable": ServiceUnavailableError,
    "database_unavailable": ServiceUnavailableError,
    "store_error": ServiceUnavailableError,
    "internal_error": ServiceUnavailableError,
    "body_timeout": ServiceUnavailableError,
}

_BY_STATUS: dict[int, type[ServiceError]] = {
    400: InvalidRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    405: InvalidRequestError,
    408: ServiceUnavailableError,
    409: ConflictError,
    413: RemoteFileTooLargeError,
    414: InvalidRequestError,
    415: RemoteUnsupportedTypeError,
    416: RangeNotSatisfiableError,
    422: InvalidRequestError,
    431: InvalidRequestError,
}


def error_for(
    status: int,
    body: Any,
    *,
    subject: str | None = None,
    retry_after: float | None = None,
) -> ServiceError:
    """The typed error for an error answer: by its stable code first, then by status."""
    code = body.get("error") if isinstance(body, dict) else None
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(code, str):
        code = f"http_{status}"
    if not isinstance(detail, str):
        detail = f"the service answered {status}"
    kind = _BY_CODE.get(code) or _BY_STATUS.get(status)
    if kind is None:
        kind = ServiceUnavailableError if status >= 500 else InvalidRequestError
    return kind(detail, status=status, code=code, subject=subject, retry_after=retry_after)
