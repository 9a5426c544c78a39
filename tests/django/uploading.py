"""What a browser does with brief 003's form, done with httpx."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx


def post_form(
    result: dict[str, Any],
    body: bytes,
    *,
    filename: str = "upload.bin",
    content_type: str = "application/octet-stream",
) -> httpx.Response:
    """POST the signed fields and then the file (S3 wants it last) to the form's URL."""
    return httpx.post(
        result["form_url"],
        data=result["form_fields"],
        files={"file": (filename, body, content_type)},
        timeout=60,
        follow_redirects=False,
    )


def policy_of(result: dict[str, Any]) -> dict[str, Any]:
    """The decoded POST policy of a signed form."""
    decoded: dict[str, Any] = json.loads(base64.b64decode(result["form_fields"]["policy"]))
    return decoded
