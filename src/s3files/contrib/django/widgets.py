# mypy: disable-error-code="import-untyped", allow-subclassing-any, no-warn-return-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""``DirectUploadWidget``: a file picker whose file goes straight to the bucket.

It renders a hidden input (the form's value: the verified upload's id), a picker without a
``name`` (so the browser never posts the bytes to Django) and a status line.
``s3files/direct_upload.js`` (the widget's media) asks the sign view for a form, posts the
file to the store with it and puts the upload id in the hidden input; the form field
verifies the upload when the form is submitted.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import signing
from django.urls import reverse

__all__ = ["TARGET_SALT", "DirectUploadWidget"]

TARGET_SALT = "s3files.direct-upload-target"


class DirectUploadWidget(forms.Widget):
    """The picker, the hidden upload id and the status of one direct-upload field."""

    template_name = "s3files/widgets/direct_upload.html"
    needs_multipart_form = False  # the bytes never reach Django

    class Media:
        js = ("s3files/direct_upload.js",)

    def __init__(self, attrs: dict[str, Any] | None = None, *, sign_url: str | None = None):
        super().__init__(attrs)
        self.sign_url = sign_url
        self.target: dict[str, Any] = {}  # prefix, max size, accept: set by the form field
        self.accept = ""
        self.refused: set[str] = set()  # upload ids the field refused: not offered again

    def __deepcopy__(self, memo: dict[int, Any]) -> DirectUploadWidget:
        widget: DirectUploadWidget = super().__deepcopy__(memo)
        widget.target, widget.refused = dict(self.target), set()  # per form, never shared
        return widget

    def signed_target(self) -> str:
        """What the sign view may sign for this field, signed (the browser cannot change it)."""
        return signing.dumps(self.target, salt=TARGET_SALT, compress=True)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        upload_id = value if isinstance(value, str) and value not in self.refused else ""
        current: Any = None if isinstance(value, str) or not value else value
        if isinstance(value, str) and value in self.refused:
            current = None
        current_url = ""
        if current is not None and getattr(current, "name", None):
            try:
                current_url = current.url
            except Exception:  # a link is a courtesy; the form must render anyway
                current_url = ""
        context["widget"].update(
            {
                "upload_id": upload_id,
                "sign_url": self.sign_url or reverse("s3files:direct-upload-sign"),
                "target": self.signed_target(),
                "accept": self.accept,
                "current_name": getattr(current, "name", "") if current is not None else "",
                "current_url": current_url,
                "status": "uploaded, saved with the form" if upload_id else "",
            }
        )
        return context

    def use_required_attribute(self, initial: Any) -> bool:
        return False  # the picker stays empty when the file is already there

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name) or None

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data
