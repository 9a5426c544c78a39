# mypy: disable-error-code="import-untyped", no-warn-return-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""Brief 003's shortcuts: sign a direct upload, complete it, get its URL, delete it.

Each returns a dict with ``success``; on failure also ``error`` (a message fit to show) and
``code`` (stable, e.g. ``not_found``, ``unsupported_file_type``). Expected failures never
raise. The flow is the HTTP service's (``s3files.server.uploads.service``): the pending row
is written before anything is signed; completion verifies the object with the core's
``FileStore.verify_object`` and, if it is refused, deletes the object and fails the row.

    result = get_direct_upload_form_data("photo.jpg", "image/jpeg", 5 * 1024 * 1024, "images")
    # the browser POSTs result["form_fields"] + the file to result["form_url"], then:
    complete_upload(result["upload_id"], status=Upload.STATUS_COMPLETE)
    get_upload_file_url(result["upload_id"])["url"]
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from s3files._errors import InvalidInputError, ObjectNotFoundError, S3FilesError
from s3files.contrib.django._results import Result, failure
from s3files.contrib.django.conf import get_file_store, load_config
from s3files.contrib.django.models import Upload
from s3files.contrib.django.signing import check_redirect, sign_upload_form
from s3files.naming import build_key, sanitize_filename, sanitize_folder
from s3files.store import FileStore

__all__ = [
    "complete_upload",
    "delete_upload",
    "get_direct_upload_form_data",
    "get_upload_file_url",
]

logger = logging.getLogger("s3files.contrib.django")
_ANY_OWNER: Any = object()


def _failure(message: str, code: str, upload: Upload | None = None) -> Result:
    """The failure shape; names the upload and its status when there is one."""
    if upload is None:
        return failure(message, code)
    return failure(message, code, upload_id=str(upload.pk), status=upload.status)


def _from_error(exc: S3FilesError, upload: Upload | None = None) -> Result:
    if not isinstance(exc, InvalidInputError):
        logger.warning("s3files: %s", exc)
    return _failure(exc.message, exc.code, upload)


def _owner_filter(owner: Any) -> dict[str, Any]:
    if owner is _ANY_OWNER:
        return {}
    if owner is None or not getattr(owner, "is_authenticated", False):
        return {"owner__isnull": True}  # anonymous callers reach only ownerless uploads
    return {"owner": owner}


def _find(upload_id: Any, owner: Any, *, for_update: bool = False) -> Upload | None:
    try:
        pk = upload_id if isinstance(upload_id, uuid.UUID) else uuid.UUID(str(upload_id))
    except (ValueError, TypeError, AttributeError):
        return None
    uploads = Upload.objects.select_for_update() if for_update else Upload.objects.all()
    return uploads.filter(pk=pk, **_owner_filter(owner)).first()


def _not_found() -> Result:
    return _failure("upload not found", "not_found")


def _claimed_type(content_type: str | None) -> str:
    claimed = (content_type or "").split(";", 1)[0].strip().lower()
    return claimed or "application/octet-stream"


def get_direct_upload_form_data(
    original_filename: str,
    content_type: str,
    max_file_size: int | None = None,
    prefix: str | None = "",
    *,
    owner: Any = None,
    success_action_redirect: str | Callable[[str], str] | None = None,
) -> Result:
    """Record a pending upload and sign the form a browser POSTs straight to the bucket.

    ``max_file_size`` is capped by ``S3FILES_MAX_UPLOAD_SIZE``; the key is
    ``<prefix>/<uuid>.<ext>`` (never the raw filename). ``success_action_redirect`` (a URL
    that may contain ``{upload_id}``, or a function of the upload id that returns one)
    makes the store send the browser back there after the upload. ``owner`` is recorded.
    Returns ``form_url``, ``form_fields``, ``upload_id``, ``key``, ``max_file_size`` and
    ``expires_at``.
    """
    try:
        config = load_config()
        files = get_file_store()
        filename = sanitize_filename(original_filename)
        files.policy.check_extension(filename)
        claimed = _claimed_type(content_type)
        if claimed != "application/octet-stream":  # a browser's "don't know" is no claim
            files.policy.check_mime_type(claimed)
        max_size = files.limit_for(max_file_size)
        key = build_key(filename, policy=files.naming, folder=sanitize_folder(prefix))
        if isinstance(success_action_redirect, str) and success_action_redirect:
            check_redirect(success_action_redirect)
    except S3FilesError as exc:
        return _from_error(exc)
    upload = Upload.objects.create(
        owner=owner if owner is not None and getattr(owner, "is_authenticated", False) else None,
        original_filename=filename,
        bucket=files.store.bucket,
        key=key,
        content_type=claimed,
        max_size=max_size,
        expires_at=timezone.now() + timedelta(seconds=config.upload_expiry),
    )
    redirect = success_action_redirect
    if callable(redirect):
        redirect = redirect(str(upload.pk))
    elif redirect:
        redirect = redirect.replace("{upload_id}", str(upload.pk))
    try:
        post = sign_upload_form(
            files,
            config,
            key,
            content_type=claimed,
            max_size=max_size,
            expires_in=config.upload_expiry,
            success_action_redirect=redirect,
        )
    except S3FilesError as exc:
        _fail(upload, exc.message)
        return _from_error(exc, upload)
    return {
        "success": True,
        "upload_id": str(upload.pk),
        "form_url": post.url,
        "form_fields": dict(post.fields),
        "key": key,
        "max_file_size": max_size,
        "expires_at": post.expires_at.isoformat(),
    }


def _fail(upload: Upload, reason: str) -> None:
    upload.status = Upload.STATUS_FAILED
    upload.error = reason[:2000]
    upload.save(update_fields=["status", "error", "updated_at"])


def _described(upload: Upload) -> Result:
    return {
        "success": True,
        "upload_id": str(upload.pk),
        "status": upload.status,
        "key": upload.key,
        "name": upload.original_filename,
        "content_type": upload.content_type,
        "size": upload.size,
    }


def _verify(files: FileStore, upload: Upload, grace: int) -> Result:
    """Check the uploaded object; a refused one is deleted and fails the upload."""
    try:
        verified = files.verify_object(
            upload.key,
            filename=upload.original_filename,
            claimed_type=upload.content_type,
            max_size=upload.max_size,
        )
    except ObjectNotFoundError:
        if timezone.now() > upload.expires_at + timedelta(seconds=grace):
            files.delete(upload.key)  # nothing there; removes a straggler if one arrives late
            _fail(upload, "the upload form expired before the file arrived")
            return _failure(upload.error, "expired", upload)
        return _failure("the file has not reached the store yet", "not_uploaded", upload)
    except InvalidInputError as exc:
        files.delete(upload.key)
        _fail(upload, exc.message)
        return _failure(exc.message, exc.code, upload)
    upload.size = verified.size
    upload.content_type = verified.content_type
    upload.status = Upload.STATUS_COMPLETE
    upload.error = ""
    upload.completed_at = timezone.now()
    upload.save()
    return _described(upload)


def complete_upload(
    upload_id: Any, status: str = Upload.STATUS_COMPLETE, *, owner: Any = _ANY_OWNER
) -> Result:
    """Finish an upload after the browser's POST.

    With ``STATUS_COMPLETE`` the object is verified (size within the form's limit, sniffed
    type allowed and agreeing with the name and the claim); a refused object is deleted and
    the upload fails with the reason. With ``STATUS_FAILED`` (the client gave up) the object,
    if any, is deleted and the upload fails. Completing a complete upload again succeeds.
    ``owner`` restricts the lookup to that user's uploads.
    """
    if status not in (Upload.STATUS_COMPLETE, Upload.STATUS_FAILED):
        return _failure(
            f"status must be {Upload.STATUS_COMPLETE!r} or {Upload.STATUS_FAILED!r}",
            "invalid_status",
        )
    try:
        files = get_file_store()
        grace = load_config().expiry_grace
        with transaction.atomic():
            upload = _find(upload_id, owner, for_update=True)
            if upload is None:
                return _not_found()
            if upload.status == Upload.STATUS_COMPLETE:
                if status == Upload.STATUS_COMPLETE:
                    return _described(upload)
                return _failure("this upload is already complete", "upload_closed", upload)
            if upload.status == Upload.STATUS_FAILED:
                return _failure(f"this upload failed: {upload.error}", "upload_failed", upload)
            if status == Upload.STATUS_FAILED:
                files.delete(upload.key)
                _fail(upload, "the client reported that the upload failed")
                return _described(upload)
            return _verify(files, upload, grace)
    except S3FilesError as exc:
        return _from_error(exc)


def get_upload_file_url(
    upload_id: Any, presigned: bool = True, expiration: int = 3600, *, owner: Any = _ANY_OWNER
) -> Result:
    """A URL of a complete upload: presigned for ``expiration`` seconds, or the public URL
    (readable only where a bucket policy allows). Returns ``url``, ``content_type``, ``name``,
    ``size`` and ``expires_at`` (None for a public URL)."""
    upload = _find(upload_id, owner)
    if upload is None:
        return _not_found()
    if upload.status != Upload.STATUS_COMPLETE:
        return _failure(f"this upload is {upload.status}, not complete", "not_complete", upload)
    try:
        files = get_file_store()
        if presigned:
            signed = files.presign_download(
                upload.key,
                expires_in=expiration,
                filename=upload.original_filename,
                content_type=upload.content_type,  # serve the verified type, not the claim
            )
            url, expires_at = signed.url, signed.expires_at.isoformat()
        else:
            url, expires_at = files.public_url(upload.key), None
    except S3FilesError as exc:
        return _from_error(exc, upload)
    return {
        "success": True,
        "url": url,
        "content_type": upload.content_type,
        "name": upload.original_filename,
        "size": upload.size,
        "expires_at": expires_at,
    }


def delete_upload(upload_id: Any, *, owner: Any = _ANY_OWNER) -> Result:
    """Delete the object (if it exists), then the row; a store failure keeps both."""
    try:
        files = get_file_store()
        with transaction.atomic():
            upload = _find(upload_id, owner, for_update=True)
            if upload is None:
                return _not_found()
            deleted = str(upload.pk)
            files.delete(upload.key)
            upload.delete()
    except S3FilesError as exc:
        return _from_error(exc)
    return {"success": True, "upload_id": deleted}
