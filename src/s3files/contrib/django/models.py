# mypy: disable-error-code="import-untyped", allow-subclassing-any, no-warn-return-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""The ``Upload`` model: one row per direct upload, from the signed form to the verified file.

States::

    pending ──complete_upload()──> complete     the object exists and passed verification
       │
       └──────────────────────────> failed      verification refused it (the object is
                                                deleted), the client reported a failure, or
                                                the form expired before the file arrived
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

__all__ = ["Upload"]


class Upload(models.Model):
    """A file uploaded by a browser straight to the bucket, tracked from signing on."""

    STATUS_PENDING = "pending"
    STATUS_COMPLETE = "complete"
    STATUS_FAILED = "failed"
    STATUS_CHOICES = (
        (STATUS_PENDING, "Pending"),
        (STATUS_COMPLETE, "Complete"),
        (STATUS_FAILED, "Failed"),
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
    content_type = models.CharField(
        max_length=255, help_text="claimed when signed; the sniffed type once complete"
    )
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="bytes, once complete")
    max_size = models.PositiveBigIntegerField(help_text="bytes the signed form allows")
    status = models.CharField(
        max_length=16, choices=STATUS_CHOICES, default=STATUS_PENDING, db_index=True
    )
    error = models.TextField(blank=True, default="", help_text="why the upload failed")
    expires_at = models.DateTimeField(help_text="when the signed form stops being accepted")
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
