# mypy: disable-error-code="import-untyped", allow-subclassing-any, no-warn-return-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""``DirectUploadFormField``: a form field whose file the browser sent straight to the bucket.

The submitted value is an upload id (``DirectUploadWidget`` puts it there). Cleaning
completes that upload with the core (size, sniffed type, checksum: ``complete_upload``), so
a file that fails verification makes the form invalid with the reason; a verified one
becomes the storage name of its object, which the model's ``FileField`` keeps as its
``FieldFile`` (nothing is uploaded again). The model fields of ``fields.py`` use it, in
forms and in the admin.

The upload id is the capability (random, known to the browser that uploaded); set
``field.owner = request.user`` to also require that this user signed the upload.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.core.exceptions import SuspiciousFileOperation, ValidationError

from s3files.contrib.django._accept import accepts
from s3files.contrib.django.shortcuts import complete_upload
from s3files.contrib.django.storage import S3FilesStorage
from s3files.contrib.django.widgets import DirectUploadWidget
from s3files.naming import sanitize_folder

__all__ = ["DirectUploadFormField"]


class DirectUploadFormField(forms.FileField):
    """A verified direct upload into ``storage`` under ``upload_to`` (strftime allowed)."""

    widget = DirectUploadWidget

    def __init__(
        self,
        *,
        storage: S3FilesStorage,
        upload_to: str = "",
        max_upload_size: int | None = None,
        accept: str = "",
        owner: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("allow_empty_file", None)
        super().__init__(**kwargs)
        if not isinstance(storage, S3FilesStorage):
            raise TypeError("direct uploads need an S3FilesStorage")
        self.storage = storage
        self.upload_to = str(upload_to)
        self.max_upload_size = max_upload_size
        self.accept = accept
        self.owner = owner
        self.widget.accept = accept

    def __deepcopy__(self, memo: dict[int, Any]) -> DirectUploadFormField:
        field = super().__deepcopy__(memo)
        field.widget.accept = self.accept
        return field

    def _folder(self) -> str:
        """The key prefix of new uploads: the storage's location + ``upload_to`` today."""
        return self.storage.key_for(sanitize_folder(datetime.now().strftime(self.upload_to)))

    def _folder_root(self) -> str:
        """The part of that prefix that does not change with the date."""
        fixed = self.upload_to.split("%", 1)[0]
        fixed = fixed if "%" not in self.upload_to else fixed.rpartition("/")[0]
        return self.storage.key_for(sanitize_folder(fixed)).rstrip("/")

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {}

    def get_bound_field(self, form: forms.BaseForm, field_name: str) -> forms.BoundField:
        # The target is signed when the form is rendered: today's folder, this field's limits.
        self.widget.target = {"p": self._folder(), "m": self.max_upload_size, "a": self.accept}
        self.widget.accept = self.accept
        return super().get_bound_field(form, field_name)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return not self.disabled and bool(data)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if not data:
            if initial:
                return initial
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        try:
            return self._verified_name(str(data))
        except ValidationError:
            cast(DirectUploadWidget, self.widget).refused.add(str(data))  # shown: the reason
            raise

    def _verified_name(self, upload_id: str) -> str:
        """Complete the upload; its storage name, or the reason it is refused."""
        owner = {"owner": self.owner} if self.owner is not None else {}
        result = complete_upload(upload_id, **owner)
        if not result["success"]:
            raise ValidationError(result["error"], code=result["code"])
        key = str(result["key"])
        root = self._folder_root()
        if root and not key.startswith(root + "/"):
            raise ValidationError("this upload was not made for this field", code="wrong_field")
        try:
            name = self.storage.name_for(key)
        except SuspiciousFileOperation:
            raise ValidationError(
                "this upload was not made for this field", code="wrong_field"
            ) from None
        content_type = str(result.get("content_type") or "")
        if not accepts(self.accept, filename=key, content_type=content_type):
            raise ValidationError(f"{content_type} files are not accepted here", code="accept")
        size = result.get("size") or 0
        if self.max_upload_size is not None and size > self.max_upload_size:
            raise ValidationError(
                f"the file is larger than {self.max_upload_size} bytes", code="file_too_large"
            )
        if self.max_length is not None and len(name) > self.max_length:
            raise ValidationError(
                f"the stored name is longer than {self.max_length} characters", code="max_length"
            )
        return name
