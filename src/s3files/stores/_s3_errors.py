"""What every S3 module shares: how S3's errors become s3files errors, and S3's small rules.

The bottom of the S3 modules (``s3.py``, ``s3_direct.py``, ``s3_http.py``, ``s3_writer.py``,
the client factory ``_s3_client.py`` and the connector all import it; it imports nothing
else from ``stores/``). As httpx keeps ``_exceptions.py`` and one mapping context manager,
``translate_s3_errors`` is the one place where botocore errors become s3files errors;
``error_for_response`` maps an S3 error answer (code, status) for callers that read the
answer themselves (the fast PUT, the retry hook) and gives the same error with the same
cause.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import botocore.exceptions

from s3files._errors import (
    BucketNotFoundError,
    InvalidCredentialsError,
    InvalidInputError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3FilesError,
    StoreError,
    StoreUnavailableError,
    ThrottledError,
)
from s3files._models import PutOptions

__all__ = [
    "MAX_PARTS",
    "MIN_PART_SIZE",
    "answer_error",
    "error_code",
    "error_for_client_error",
    "error_for_exception",
    "error_for_response",
    "put_args",
    "strip_etag",
    "translate_s3_errors",
]

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part of a multipart upload but the last
MAX_PARTS = 10_000  # S3's maximum number of parts in one multipart upload

_NOT_FOUND = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}
_BAD_CREDENTIALS = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "InvalidClientTokenId",
    "AuthorizationHeaderMalformed",
}
_THROTTLED = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequests",
    "503",
}
# Answers with a 4xx status that say "try again", not "your request is wrong"
_TRANSIENT = {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}
_INVALID = {
    "InvalidArgument",
    "InvalidRequest",
    "InvalidStorageClass",
    "EntityTooLarge",
    "EntityTooSmall",
    "KeyTooLongError",
    "MetadataTooLarge",
    "InvalidRange",
    "InvalidEncryptionAlgorithmError",
    "InvalidTag",
    "InvalidPart",
    "InvalidPartOrder",
    "NoSuchUpload",
    "400",
    "416",
    "MalformedXML",
}


def error_for_response(
    code: str, status: int, message: str, bucket: str | None, key: str | None
) -> S3FilesError:
    """The s3files error for an S3 error answer (code from its XML body, HTTP status)."""
    if code == "NoSuchBucket":
        return BucketNotFoundError(f"bucket does not exist ({code})", bucket=bucket)
    if code in _NOT_FOUND:
        return ObjectNotFoundError("no such object", bucket=bucket, key=key)
    if code in _BAD_CREDENTIALS:
        return InvalidCredentialsError(
            f"the store refused the credentials ({code})", bucket=bucket, key=key
        )
    if code in ("AccessDenied", "403", "AllAccessDisabled") or status == 403:
        return PermissionDeniedError(f"access denied ({code})", bucket=bucket, key=key)
    if code in _THROTTLED or status == 429:
        return ThrottledError(f"the store is throttling ({code})", bucket=bucket, key=key)
    if code in _TRANSIENT:
        return StoreUnavailableError(
            f"the store timed out: {message} ({code})", bucket=bucket, key=key
        )
    if code in _INVALID or status in (400, 411, 416):
        reason = "invalid_range" if code in ("InvalidRange", "416") else code or "invalid"
        return InvalidInputError(
            f"the store refused the request: {message} ({code})",
            reason=reason,
            bucket=bucket,
            key=key,
        )
    if status >= 500:
        return StoreUnavailableError(
            f"the store failed: {message} ({code or status})", bucket=bucket, key=key
        )
    return StoreError(f"S3 error: {message} ({code})", bucket=bucket, key=key)


def error_code(error: BaseException) -> str:
    """The S3 error code behind a translated error ('' if it was not an S3 answer)."""
    cause = error.__cause__
    if isinstance(cause, botocore.exceptions.ClientError):
        return str(cause.response.get("Error", {}).get("Code") or "")
    return ""


def error_for_client_error(
    exc: botocore.exceptions.ClientError, bucket: str | None, key: str | None
) -> S3FilesError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    message = str(error.get("Message") or code or "S3 error")
    translated = error_for_response(code, status, message, bucket, key)
    translated.__cause__ = exc
    return translated


def answer_error(
    code: str, status: int, message: str, operation: str, bucket: str | None, key: str | None
) -> S3FilesError:
    """The error for an answer read without botocore, caused by the ``ClientError``
    botocore would have raised for it (so every check of the cause sees the same)."""
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return error_for_client_error(botocore.exceptions.ClientError(response, operation), bucket, key)


def error_for_exception(
    exc: BaseException, bucket: str | None, key: str | None
) -> S3FilesError | None:
    """The s3files error for a botocore exception, or None if it is not one we know."""
    if isinstance(exc, botocore.exceptions.ClientError):
        return error_for_client_error(exc, bucket, key)
    translated: S3FilesError
    if isinstance(
        exc,
        botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError,
    ):
        translated = InvalidCredentialsError(
            "no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE, or run where an IAM role is available",
            bucket=bucket,
            key=key,
        )
    elif isinstance(exc, botocore.exceptions.ParamValidationError):
        translated = InvalidInputError(f"invalid request: {exc}", bucket=bucket, key=key)
    elif isinstance(
        exc,
        botocore.exceptions.ConnectionError
        | botocore.exceptions.HTTPClientError
        # the connection closed (FIN) in the middle of a body
        | botocore.exceptions.IncompleteReadError,
    ):
        translated = StoreUnavailableError(f"cannot reach the store: {exc}", bucket=bucket, key=key)
    else:
        return None
    translated.__cause__ = exc
    return translated


@contextlib.contextmanager
def translate_s3_errors(bucket: str | None, key: str | None = None) -> Iterator[None]:
    """The one place where botocore errors become s3files errors (``raise ... from``)."""
    try:
        yield
    except botocore.exceptions.BotoCoreError as exc:
        translated = error_for_exception(exc, bucket, key)
        if translated is None:
            raise
        raise translated from exc
    except botocore.exceptions.ClientError as exc:
        raise error_for_client_error(exc, bucket, key) from exc


def strip_etag(value: str | None) -> str | None:
    """An ETag without the quotes S3 puts around it."""
    return value.strip('"') if value else value


def put_args(options: PutOptions) -> dict[str, Any]:
    """PutObject's (and CreateMultipartUpload's) parameters for ``options``."""
    args: dict[str, Any] = {"ContentType": options.content_type}
    if options.content_disposition:
        args["ContentDisposition"] = options.content_disposition
    if options.metadata:
        args["Metadata"] = dict(options.metadata)
    if options.tags:
        args["Tagging"] = urlencode(options.tags)
    if options.encryption:
        args["ServerSideEncryption"] = options.encryption
        if options.encryption == "aws:kms" and options.kms_key_id:
            args["SSEKMSKeyId"] = options.kms_key_id
    if options.storage_class:
        args["StorageClass"] = options.storage_class
    return args
