"""The Python client of the s3files service: ``Client`` and its twin ``AsyncClient``.

    from s3files.client import Client

    with Client("https://files.example.com", "s3f_...") as files:
        stored = files.upload("report.pdf", folder="docs")        # large files: direct, in parts
        files.download("docs/report.pdf", "copy.pdf")             # by path or by id; resumes
        for item in files.list_files("docs", recursive=True):     # every page
            print(item.path, item.size)

Errors are the library's (``s3files._errors``) as well as ``ServiceError``: a missing file
raises ``NotFoundError``, a ``FileNotFoundError``. The client never imports the stores.
"""

from s3files.client._async import AsyncClient
from s3files.client._base import FileRef, Page, split_path
from s3files.client._errors import (
    AmbiguousPathError,
    BusyError,
    ConflictError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    QuotaExceededError,
    RangeNotSatisfiableError,
    RemoteChecksumMismatchError,
    RemoteEmptyFileError,
    RemoteFileTooLargeError,
    RemoteInvalidFilenameError,
    RemoteUnsupportedTypeError,
    ServiceError,
    ServiceUnavailableError,
    SignatureError,
    UnauthorizedError,
    UploadRejectedError,
    error_for,
)
from s3files.client._models import (
    BatchOutcome,
    BatchResult,
    DirectUploadStatus,
    Folder,
    FolderSummary,
    MultipartUpload,
    PartURL,
    PresignedLink,
    Quota,
    RemoteFile,
    ServiceConfig,
    UploadedPart,
    UploadForm,
    Usage,
)
from s3files.client._sync import Client

__all__ = [
    "AmbiguousPathError",
    "AsyncClient",
    "BatchOutcome",
    "BatchResult",
    "BusyError",
    "Client",
    "ConflictError",
    "DirectUploadStatus",
    "FileRef",
    "Folder",
    "FolderSummary",
    "ForbiddenError",
    "InvalidRequestError",
    "MultipartUpload",
    "NotFoundError",
    "Page",
    "PartURL",
    "PresignedLink",
    "Quota",
    "QuotaExceededError",
    "RangeNotSatisfiableError",
    "RemoteChecksumMismatchError",
    "RemoteEmptyFileError",
    "RemoteFile",
    "RemoteFileTooLargeError",
    "RemoteInvalidFilenameError",
    "RemoteUnsupportedTypeError",
    "ServiceConfig",
    "ServiceError",
    "ServiceUnavailableError",
    "SignatureError",
    "UnauthorizedError",
    "UploadForm",
    "UploadRejectedError",
    "UploadedPart",
    "Usage",
    "error_for",
    "split_path",
]
