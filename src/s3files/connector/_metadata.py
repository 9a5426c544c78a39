"""Bucket settings: which S3 calls read them, which answers mean "none", and how the
answers become a :class:`BucketMetadata`. No I/O here; the connector makes the calls."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

import botocore.exceptions

from s3files._errors import PermissionDeniedError, StoreError
from s3files.connector._models import BucketMetadata, jsonable
from s3files.connector._session import Clients

__all__ = ["SETTING_READERS", "build_metadata", "client_error", "region_of", "why_missing"]

#: Setting name → the call that reads it.
SETTING_READERS: dict[str, Callable[[Clients, str], Any]] = {
    "versioning": lambda c, bucket: c.s3.get_bucket_versioning(Bucket=bucket),
    "encryption": lambda c, bucket: c.s3.get_bucket_encryption(Bucket=bucket),
    "policy": lambda c, bucket: c.s3.get_bucket_policy(Bucket=bucket),
    "cors": lambda c, bucket: c.s3.get_bucket_cors(Bucket=bucket),
    "lifecycle": lambda c, bucket: c.s3.get_bucket_lifecycle_configuration(Bucket=bucket),
    "tags": lambda c, bucket: c.s3.get_bucket_tagging(Bucket=bucket),
}

# Error codes meaning "this bucket has no such setting" or "this store has no such API".
_ABSENT = frozenset(
    {
        "NoSuchBucketPolicy",
        "NoSuchCORSConfiguration",
        "NoSuchLifecycleConfiguration",
        "NoSuchTagSet",
        "NoSuchTagSetError",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchEncryptionConfiguration",
    }
)
_UNSUPPORTED = frozenset(
    {"NotImplemented", "MethodNotAllowed", "UnsupportedOperation", "XNotImplemented"}
)


def client_error(error: BaseException) -> tuple[str, int]:
    """(S3 error code, HTTP status) of the botocore error behind a translated error."""
    cause = error.__cause__
    if isinstance(cause, botocore.exceptions.ClientError):
        code = str(cause.response.get("Error", {}).get("Code") or "")
        status = int(cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return code, status
    return "", 0


def why_missing(error: StoreError) -> Literal["absent", "denied"] | None:
    """Why reading a setting failed: ``absent`` (none set, or no such feature on this
    store), ``denied`` (the credentials may not read it), or ``None``: a real failure."""
    code, status = client_error(error)
    if code in _ABSENT or code in _UNSUPPORTED or status == 501:
        return "absent"
    if isinstance(error, PermissionDeniedError):
        return "denied"
    return None


def region_of(location: str | None) -> str:
    """GetBucketLocation's answer as a region: empty means us-east-1, ``EU`` eu-west-1."""
    if not location:
        return "us-east-1"
    return "eu-west-1" if location == "EU" else location


def _policy(answer: Mapping[str, Any]) -> dict[str, Any] | None:
    text = answer.get("Policy")
    if not text:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"raw": text}
    return parsed if isinstance(parsed, dict) else {"raw": text}


def build_metadata(
    name: str,
    region: str | None,
    answers: Mapping[str, Mapping[str, Any] | None],
    unreadable: dict[str, str],
) -> BucketMetadata:
    """The answers of :data:`SETTING_READERS` (``None`` where missing) as metadata."""

    def answer(setting: str) -> Mapping[str, Any]:
        return answers.get(setting) or {}

    tags = {tag["Key"]: tag["Value"] for tag in answer("tags").get("TagSet", [])}
    return BucketMetadata(
        name=name,
        region=region,
        versioning=answer("versioning").get("Status") or None,
        encryption=jsonable(answer("encryption").get("ServerSideEncryptionConfiguration") or None),
        policy=_policy(answer("policy")),
        cors=jsonable(answer("cors").get("CORSRules") or None),
        lifecycle=jsonable(answer("lifecycle").get("Rules") or None),
        tags=tags or None,
        unreadable=unreadable,
    )
