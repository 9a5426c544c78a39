# mypy: disable-error-code="import-untyped", no-warn-return-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""Verifying an upload again, after the fact (the admin's "Re-verify" action).

A pending upload is completed (verified, or rejected with its object deleted), exactly as
``complete_upload`` does. A complete one is read again: it must still exist with the size
and SHA-256 recorded at completion and a type the app's policy allows; if not, it is
``rejected`` with the reason and its object deleted, as a completion that fails. Other
states have nothing left to check.
"""

from __future__ import annotations

from django.utils import timezone

from s3files._errors import InvalidInputError, ObjectNotFoundError
from s3files.contrib.django._results import Result, failure
from s3files.contrib.django.conf import get_file_store
from s3files.contrib.django.models import Upload
from s3files.contrib.django.shortcuts import complete_upload

__all__ = ["reverify_upload"]


def _reject(upload: Upload, reason: str) -> Result:
    files = get_file_store()
    files.discard_direct_upload(upload.key, staging_key=upload.staging_key or None)
    Upload.objects.filter(pk=upload.pk).update(
        status=Upload.STATUS_REJECTED, error=reason[:2000], updated_at=timezone.now()
    )
    return failure(reason, "upload_rejected", upload_id=str(upload.pk))


def reverify_upload(upload: Upload) -> Result:
    """Check ``upload`` again; the shortcuts' result shape (``success``, ``error``)."""
    if upload.status == Upload.STATUS_PENDING:
        return complete_upload(upload.pk)
    if upload.status != Upload.STATUS_COMPLETE:
        return failure(f"this upload is {upload.status}: nothing to verify", "upload_closed")
    files = get_file_store()
    try:
        verified = files.verify_object(
            upload.key,
            filename=upload.original_filename,
            claimed_type=upload.content_type,
            max_size=max(upload.max_size, upload.size or 0),
            expected_size=upload.size,
            expected_sha256=upload.sha256 or None,
            checksum=True,
        )
    except ObjectNotFoundError:
        return _reject(upload, "the file is missing from the store")
    except InvalidInputError as exc:
        return _reject(upload, exc.message)
    return {
        "success": True,
        "upload_id": str(upload.pk),
        "size": verified.size,
        "content_type": verified.content_type,
    }
