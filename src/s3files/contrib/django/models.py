# mypy: disable-error-code="import-untyped", allow-subclassing-any, no-warn-return-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""The ``Upload`` model: one row per direct upload, from the signed form to the verified file.

States (the core's ``s3files.direct.UploadStatus``, the same words as the service)::

    pending ──complete_upload()──> complete     the object passed verification
       ├──────────────────────────> rejected    verification refused it (object deleted)
       ├──────────────────────────> aborted     the client reported a failure
       └──────────────────────────> expired     the form expired before the file arrived

The signed form writes to ``staging_key``; completion copies the verified object to
``key``, so replaying the form afterwards cannot change the file.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from s3files.direct import UploadStatus

__all__ = ["Upload"]


class Upload(models.Model):
    """A file uploaded by a browser straight to the bucket, tracked from signing on."""

    STATUS_PENDING = UploadStatus.PENDING
    STATUS_COMPLETE = UploadStatus.COMPLETE
    STATUS_REJECTED = UploadStatus.REJECTED
    STATUS_ABORTED = UploadStatus.ABORTED
    STATUS_EXPIRED = UploadStatus.EXPIRED
    STATUS_CHOICES = (
        (STATUS_PENDING, "Pending"),
        (STATUS_COMPLETE, "Complete"),
        (STATUS_REJECTED, "Rejected"),
        (STATUS_ABORTED, "Aborted"),
        (STATUS_EXPIRED, "Expired"),
    )

    # A random id: it travels through the browser, so it must not be guessable.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # the file outlives its account until someone deletes it
        related_name="s3files_uploads",
    )
    original_filename = models.CharField(max_length=255, help_text="sanitised")
    bucket = models.CharField(max_length=255)
    key = models.CharField(max_length=1024, unique=True)
    staging_key = models.CharField(
        max_length=1024,
        blank=True,
        default="",
        help_text="where the signed form writes; empty for rows from before staging",
    )
    content_type = models.CharField(
        max_length=255, help_text="claimed when signed; the sniffed type once complete"
    )
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="bytes, once complete")
    max_size = models.PositiveBigIntegerField(help_text="bytes the signed form allows")
    sha256 = models.CharField(max_length=64, blank=True, default="", help_text="once complete")
    etag = models.CharField(max_length=128, blank=True, default="", help_text="once complete")
    status = models.CharField(
        max_length=16, choices=STATUS_CHOICES, default=STATUS_PENDING, db_index=True
    )
    error = models.TextField(blank=True, default="", help_text="why the upload did not complete")
    expires_at = models.DateTimeField(help_text="when the signed form stops being accepted")
    completing_until = models.DateTimeField(
        null=True, blank=True, help_text="lease of the completion in flight"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        # finds pending uploads whose form expired (housekeeping)
        indexes = (models.Index(fields=["status", "expires_at"], name="s3files_upload_stale"),)

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.status})"

    @property
    def is_complete(self) -> bool:
        return self.status == self.STATUS_COMPLETE
