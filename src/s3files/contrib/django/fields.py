# mypy: disable-error-code="import-untyped", allow-subclassing-any, no-warn-return-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""Model fields whose forms upload straight to the bucket: ``DirectUploadFileField`` and
``DirectUploadImageField``. In the database and in code they are Django's ``FileField`` and
``ImageField`` (a ``FieldFile`` on an ``S3FilesStorage``); their form field, in any
``ModelForm`` and in the admin, is ``DirectUploadFormField``.

    class Document(models.Model):
        scan = DirectUploadFileField(storage=S3FilesStorage(location="media"),
                                     upload_to="scans", max_upload_size=20 * 1024 * 1024)

Include ``path("s3files/", include("s3files.contrib.django.urls"))`` in the URLconf (the
view that signs the uploads) and run ``manage.py bucket_setup`` for the bucket's CORS.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from s3files.contrib.django.forms import DirectUploadFormField
from s3files.contrib.django.storage import S3FilesStorage

__all__ = ["DirectUploadFileField", "DirectUploadImageField"]


class _DirectUploadMixin:
    """What both model fields add to Django's: the limits and the direct-upload form field."""

    default_accept = ""

    def __init__(
        self, *args: Any, max_upload_size: int | None = None, accept: str | None = None, **kw: Any
    ) -> None:
        self.max_upload_size = max_upload_size
        self.accept = self.default_accept if accept is None else accept
        super().__init__(*args, **kw)

    def deconstruct(self) -> tuple[Any, ...]:
        name, path, args, kwargs = super().deconstruct()  # type: ignore[misc]
        if self.max_upload_size is not None:
            kwargs["max_upload_size"] = self.max_upload_size
        if self.accept != self.default_accept:
            kwargs["accept"] = self.accept
        return name, path, args, kwargs

    def formfield(self, **kwargs: Any) -> forms.Field:
        storage = self.storage  # type: ignore[attr-defined]
        if not isinstance(storage, S3FilesStorage):
            raise ImproperlyConfigured(f"{self}: direct uploads need storage=S3FilesStorage(...)")
        upload_to = self.upload_to  # type: ignore[attr-defined]
        if callable(upload_to):
            raise ImproperlyConfigured(f"{self}: direct uploads need upload_to as a string")
        widget = kwargs.get("widget")
        if widget is not None and _is_file_input(widget):
            del kwargs["widget"]  # the admin's file input: the direct-upload widget instead
        return super().formfield(  # type: ignore[misc]
            **{
                "form_class": DirectUploadFormField,
                "storage": storage,
                "upload_to": upload_to,
                "max_upload_size": self.max_upload_size,
                "accept": self.accept,
                **kwargs,
            }
        )


def _is_file_input(widget: Any) -> bool:
    kind = widget if isinstance(widget, type) else type(widget)
    return issubclass(kind, forms.FileInput)


class DirectUploadFileField(_DirectUploadMixin, models.FileField):
    """A ``FileField`` uploaded by the browser straight to the bucket."""


class DirectUploadImageField(_DirectUploadMixin, models.ImageField):
    """An ``ImageField`` uploaded straight to the bucket (``accept`` defaults to images)."""

    default_accept = "image/*"
