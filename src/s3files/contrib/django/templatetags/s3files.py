# mypy: disable-error-code="import-untyped", allow-untyped-decorators
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""``{% direct_upload_form result %}``: the direct-upload form that POSTs straight to the bucket.

    {% load s3files %}
    {% direct_upload_form upload_form button_label="Send" accept="image/*" %}

``result`` is what ``get_direct_upload_form_data`` returned; a failed one renders its error.
The form has no CSRF token on purpose: the store accepts only the fields the policy signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("s3files/direct_upload_form.html")
def direct_upload_form(
    result: Mapping[str, Any], *, button_label: str = "Upload", accept: str = ""
) -> dict[str, Any]:
    """The context of ``s3files/direct_upload_form.html`` (override it to restyle)."""
    if not isinstance(result, Mapping) or not result.get("success"):
        error = result.get("error") if isinstance(result, Mapping) else None
        return {"error": error or "the upload form is not available"}
    return {
        "form_url": result["form_url"],
        "fields": list(result["form_fields"].items()),  # pairs: no "items" key lookup trap
        "upload_id": result.get("upload_id", ""),
        "button_label": button_label,
        "accept": accept,
    }
