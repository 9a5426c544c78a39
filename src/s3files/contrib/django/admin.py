# mypy: disable-error-code="import-untyped"
# mypy: allow-subclassing-any, allow-untyped-decorators, no-warn-return-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""The ``Upload`` model in the Django admin: status, owner, size, type and a link, with
the actions "Re-verify" and "Delete" (which removes the objects from the bucket too)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from s3files._errors import S3FilesError
from s3files.contrib.django.models import Upload
from s3files.contrib.django.reverify import reverify_upload
from s3files.contrib.django.shortcuts import delete_upload, get_upload_file_url

__all__ = ["UploadAdmin"]

LINK_EXPIRY = 900  # seconds a link on the admin page stays valid


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    """Uploads are created by signing, never by hand; the admin reviews and removes them."""

    list_display = ("original_filename", "status", "owner", "size", "content_type", "link")
    list_filter = ("status",)
    search_fields = ("original_filename", "key")
    ordering = ("-created_at",)
    actions = ("reverify",)
    readonly_fields = (
        "id",
        "original_filename",
        "status",
        "error",
        "owner",
        "size",
        "content_type",
        "link",
        "bucket",
        "key",
        "sha256",
        "etag",
        "max_size",
        "expires_at",
        "completed_at",
        "created_at",
    )
    exclude = ("staging_key", "completing_until")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # read-only: the fields record what verification found

    @admin.display(description="link")
    def link(self, upload: Upload) -> str:
        if upload.status != Upload.STATUS_COMPLETE:
            return "—"
        result = get_upload_file_url(upload.pk, presigned=True, expiration=LINK_EXPIRY)
        if not result["success"]:
            return "—"
        return format_html('<a href="{}" class="s3files-link">open</a>', result["url"])

    @admin.action(description="Re-verify the selected uploads (refused files are deleted)")
    def reverify(self, request: HttpRequest, queryset: QuerySet[Upload]) -> None:
        verified, refused = 0, []
        for upload in queryset:
            try:
                result = reverify_upload(upload)
            except S3FilesError as exc:
                refused.append(f"{upload.original_filename}: {exc.message}")
                continue
            if result["success"]:
                verified += 1
            else:
                refused.append(f"{upload.original_filename}: {result['error']}")
        if verified:
            self.message_user(request, f"{verified} verified", messages.SUCCESS)
        for line in refused:
            self.message_user(request, f"not verified: {line}", messages.WARNING)

    def delete_model(self, request: HttpRequest, obj: Upload) -> None:
        self._delete(request, [obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Upload]) -> None:
        self._delete(request, list(queryset))

    def _delete(self, request: HttpRequest, uploads: list[Upload]) -> None:
        """Objects first, then the rows (a store failure keeps both, and says so)."""
        for upload in uploads:
            result = delete_upload(upload.pk)
            if not result["success"]:
                self.message_user(
                    request,
                    f"{upload.original_filename} not deleted: {result['error']}",
                    messages.ERROR,
                )
