"""Signing the direct-upload form, optionally with a ``success_action_redirect``.

A plain HTML form POST navigates to the store's answer; with ``success_action_redirect`` in
the policy the store answers 303 and the browser comes back to the application, which then
completes the upload. The core signs it all (``FileStore.sign_direct_upload(fields=...)``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from s3files._errors import InvalidInputError
from s3files._models import PresignedPost
from s3files.direct import DirectUploadPlan
from s3files.store import FileStore

__all__ = ["check_redirect", "sign_upload_form"]


def check_redirect(url: str) -> str:
    """An absolute http(s) URL without control characters, or ``InvalidInputError``."""
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or any(ord(char) < 32 or ord(char) == 127 for char in url)
        or len(url) > 2048
    ):
        raise InvalidInputError(
            "success_action_redirect must be an absolute http(s) URL", reason="invalid_redirect"
        )
    return url


def sign_upload_form(
    files: FileStore, plan: DirectUploadPlan, *, success_action_redirect: str | None = None
) -> PresignedPost:
    """The POST form of ``plan``: its staging key, claimed type, 1..``max_size`` bytes, until
    it expires; with the redirect signed as an exact field."""
    extra = {}
    if success_action_redirect:
        extra["success_action_redirect"] = check_redirect(success_action_redirect)
    return files.sign_direct_upload(plan, fields=extra)
