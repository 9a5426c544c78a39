# mypy: disable-error-code="import-untyped", allow-untyped-decorators, no-warn-return-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""The view ``DirectUploadWidget`` asks for a signed form (``s3files:direct-upload-sign``).

It signs only what the rendered field allows (its folder, size limit and ``accept``, signed
into the page) and records the signed-in user as the upload's owner. CSRF-protected like
any POST view.
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from s3files.contrib.django._accept import accepts
from s3files.contrib.django.shortcuts import get_direct_upload_form_data
from s3files.contrib.django.widgets import TARGET_SALT

__all__ = ["TARGET_MAX_AGE", "sign_direct_upload"]

TARGET_MAX_AGE = 12 * 3600  # a form page left open this long is reloaded before it uploads


def _refused(error: str, code: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"success": False, "error": error, "code": code}, status=status)


@require_POST
def sign_direct_upload(request: HttpRequest) -> JsonResponse:
    """``target``, ``filename``, ``content_type``, ``size`` → the shortcut's signed form."""
    try:
        target = signing.loads(
            request.POST.get("target", ""), salt=TARGET_SALT, max_age=TARGET_MAX_AGE
        )
    except signing.BadSignature:
        return _refused("this upload form is no longer valid: reload the page", "invalid_target")
    filename = request.POST.get("filename", "")
    content_type = request.POST.get("content_type", "")
    accept = str(target.get("a") or "")
    if not accepts(accept, filename=filename, content_type=content_type):
        return _refused(f"only {accept} files are accepted here", "not_accepted", 415)
    limit = target.get("m")
    size = request.POST.get("size", "")
    if limit is not None and size.isdigit() and int(size) > limit:
        return _refused(f"the file is larger than {limit} bytes", "file_too_large", 413)
    result = get_direct_upload_form_data(
        filename, content_type, max_file_size=limit, prefix=target.get("p"), owner=request.user
    )
    return JsonResponse(result, status=200 if result["success"] else 400)
