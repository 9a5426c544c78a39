# mypy: disable-error-code="import-untyped", no-warn-return-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""The shortcuts: sign a direct upload, complete it, get its URL, delete it.

Each returns a dict with ``success``; on failure also ``error`` (a message fit to show) and
``code`` (stable, e.g. ``not_found``, ``unsupported_file_type``). Expected failures never
raise. The core decides and this module only persists, as the HTTP service does: the core
plans the upload (``FileStore.plan_direct_upload``), the pending row is written before
anything is signed, the form targets a staging key, and completion hands the object to
``FileStore.verify_or_reject``, which copies it to its key and verifies it, or deletes it.
No database transaction is held while the store is called: a short lease on the row
(``completing_until``) keeps two completions of one upload from running at once.

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

from django.db.models import Q
from django.utils import timezone

from s3files._errors import InvalidInputError, ObjectNotFoundError, S3FilesError
from s3files.contrib.django._results import Result, failure
from s3files.contrib.django.conf import get_file_store, load_config
from s3files.contrib.django.models import Upload
from s3files.contrib.django.signing import check_redirect, sign_upload_form
from s3files.direct import Rejection
from s3files.store import FileStore

__all__ = [
    "complete_upload",
    "delete_upload",
    "get_direct_upload_form_data",
    "get_upload_file_url",
]

logger = logging.getLogger("s3files.contrib.django")
_ANY_OWNER: Any = object()
COMPLETION_LEASE = timedelta(hours=1)  # as the service's: a crashed completion's runs out


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


def _find(upload_id: Any, owner: Any) -> Upload | None:
    try:
        pk = upload_id if isinstance(upload_id, uuid.UUID) else uuid.UUID(str(upload_id))
    except (ValueError, TypeError, AttributeError):
        return None
    return Upload.objects.filter(pk=pk, **_owner_filter(owner)).first()


def _not_found() -> Result:
    return _failure("upload not found", "not_found")


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

    ``max_file_size`` is capped by ``S3FILES_MAX_UPLOAD_SIZE``; the file's key is
    ``<prefix>/<uuid>.<ext>`` (never the raw filename); the form itself writes to a staging
    key that only completion turns into the file. ``success_action_redirect`` (a URL that
    may contain ``{upload_id}``, or a function of the upload id that returns one) makes the
    store send the browser back there after the upload. ``owner`` is recorded. Returns
    ``form_url``, ``form_fields``, ``upload_id``, ``key``, ``max_file_size`` and
    ``expires_at``.
    """
    try:
        config = load_config()
        files = get_file_store()
        plan = files.plan_direct_upload(
            original_filename,
            content_type,
            max_size=max_file_size,
            prefix=prefix,
            expires_in=config.upload_expiry,
        )
        if isinstance(success_action_redirect, str) and success_action_redirect:
            check_redirect(success_action_redirect)
    except S3FilesError as exc:
        return _from_error(exc)
    upload = Upload.objects.create(
        id=plan.upload_id,
        owner=owner if owner is not None and getattr(owner, "is_authenticated", False) else None,
        original_filename=plan.filename,
        bucket=files.store.bucket,
        key=plan.key,
        staging_key=plan.staging_key or "",
        content_type=plan.content_type,
        max_size=plan.max_size,
        expires_at=plan.expires_at,
    )
    redirect = success_action_redirect
    if callable(redirect):
        redirect = redirect(str(upload.pk))
    elif redirect:
        redirect = redirect.replace("{upload_id}", str(upload.pk))
    try:
        post = sign_upload_form(files, plan, success_action_redirect=redirect)
    except S3FilesError as exc:
        _close(upload, Upload.STATUS_ABORTED, f"not signed: {exc.message}")
        return _from_error(exc, upload)
    return {
        "success": True,
        "upload_id": str(upload.pk),
        "form_url": post.url,
        "form_fields": dict(post.fields),
        "key": plan.key,
        "max_file_size": plan.max_size,
        "expires_at": post.expires_at.isoformat(),
    }


def _close(upload: Upload, status: str, reason: str) -> None:
    """Record a pending upload's end (only if it is still pending)."""
    Upload.objects.filter(pk=upload.pk, status=Upload.STATUS_PENDING).update(
        status=status, error=reason[:2000], completing_until=None, updated_at=timezone.now()
    )
    upload.refresh_from_db()


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


def _settled(upload: Upload, status: str) -> Result | None:
    """The answer for an upload that is no longer pending; None while it is."""
    if upload.status == Upload.STATUS_COMPLETE:
        if status == Upload.STATUS_COMPLETE:
            return _described(upload)
        return _failure("this upload is already complete", "upload_closed", upload)
    if upload.status == Upload.STATUS_REJECTED:
        return _failure(f"this upload was rejected: {upload.error}", "upload_rejected", upload)
    if upload.status != Upload.STATUS_PENDING:
        return _failure(f"this upload is {upload.status}", "upload_closed", upload)
    return None


def _claim(upload: Upload) -> bool:
    now = timezone.now()
    free = Q(completing_until__isnull=True) | Q(completing_until__lt=now)
    claimed = (
        Upload.objects.filter(free, pk=upload.pk, status=Upload.STATUS_PENDING).update(
            completing_until=now + COMPLETION_LEASE
        )
        == 1
    )
    return claimed


def _release(upload: Upload) -> None:
    Upload.objects.filter(pk=upload.pk).update(completing_until=None)


def _verify(files: FileStore, upload: Upload, grace: int) -> Result:
    """Hand the uploaded object to the core; persist what it decides."""
    try:
        outcome = files.verify_or_reject(
            upload.key,
            filename=upload.original_filename,
            claimed_type=upload.content_type,
            max_size=upload.max_size,
            staging_key=upload.staging_key or None,
        )
    except ObjectNotFoundError:
        _release(upload)
        if timezone.now() > upload.expires_at + timedelta(seconds=grace):
            # nothing there; removes a straggler should one arrive late
            files.discard_direct_upload(upload.key, staging_key=upload.staging_key or None)
            _close(upload, Upload.STATUS_EXPIRED, "the upload form expired before the file arrived")
            return _failure(upload.error, "expired", upload)
        return _failure("the file has not reached the store yet", "not_uploaded", upload)
    except BaseException:
        _release(upload)
        raise
    if isinstance(outcome, Rejection):
        _close(upload, Upload.STATUS_REJECTED, outcome.message)
        return _failure(outcome.message, outcome.error.code, upload)
    Upload.objects.filter(pk=upload.pk, status=Upload.STATUS_PENDING).update(
        size=outcome.size,
        content_type=outcome.content_type,
        sha256=outcome.sha256 or "",
        etag=outcome.etag or "",
        status=Upload.STATUS_COMPLETE,
        error="",
        completed_at=timezone.now(),
        completing_until=None,
        updated_at=timezone.now(),
    )
    upload.refresh_from_db()
    return _settled(upload, Upload.STATUS_COMPLETE) or _described(upload)


def complete_upload(
    upload_id: Any, status: str = Upload.STATUS_COMPLETE, *, owner: Any = _ANY_OWNER
) -> Result:
    """Finish an upload after the browser's POST.

    With ``STATUS_COMPLETE`` the object is verified (size within the form's limit, sniffed
    type allowed and agreeing with the name and the claim, SHA-256 recorded) and moved from
    its staging key to its key; a refused object is deleted and the upload ``rejected`` with
    the reason. With ``STATUS_ABORTED`` (the client gave up) the object, if any, is deleted
    and the upload ``aborted``. Completing a complete upload again succeeds. ``owner``
    restricts the lookup to that user's uploads.
    """
    if status not in (Upload.STATUS_COMPLETE, Upload.STATUS_ABORTED):
        return _failure(
            f"status must be {Upload.STATUS_COMPLETE!r} or {Upload.STATUS_ABORTED!r}",
            "invalid_status",
        )
    try:
        files = get_file_store()
        grace = load_config().expiry_grace
        upload = _find(upload_id, owner)
        if upload is None:
            return _not_found()
        settled = _settled(upload, status)
        if settled is not None:
            return settled
        if not _claim(upload):
            upload.refresh_from_db()
            return _settled(upload, status) or _failure(
                "this upload is being completed", "completion_in_progress", upload
            )
        if status == Upload.STATUS_ABORTED:
            try:
                files.discard_direct_upload(upload.key, staging_key=upload.staging_key or None)
            except BaseException:
                _release(upload)
                raise
            _close(upload, Upload.STATUS_ABORTED, "the client reported that the upload failed")
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
    """Delete the objects (if they exist), then the row; a store failure keeps both."""
    try:
        files = get_file_store()
        upload = _find(upload_id, owner)
        if upload is None:
            return _not_found()
        deleted = str(upload.pk)
        files.discard_direct_upload(upload.key, staging_key=upload.staging_key or None)
        upload.delete()
    except S3FilesError as exc:
        return _from_error(exc)
    return {"success": True, "upload_id": deleted}
