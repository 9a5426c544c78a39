"""Signing brief 003's upload form, optionally with a ``success_action_redirect``.

A plain HTML form POST navigates to the store's answer; with ``success_action_redirect`` in
the policy the store answers 303 and the browser comes back to the application, which then
completes the upload. ``FileStore.presign_post`` signs only the key, the content type and
the size range, so a form with a redirect is re-signed here with the same conditions plus
the redirect, through the core's ``presign_post_policy`` (no second signer).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import boto3

from s3files._errors import ConfigurationError, InvalidCredentialsError, InvalidInputError
from s3files._models import PresignedPost
from s3files.contrib.django.conf import DjangoFilesConfig
from s3files.signing import Credentials, presign_post_policy
from s3files.store import FileStore
from s3files.stores.s3 import S3Store

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


def _credentials(config: DjangoFilesConfig, region: str) -> Credentials:
    static = config.credentials()
    if static is not None:
        return static
    resolved = boto3.session.Session(region_name=region).get_credentials()
    if resolved is None:
        raise InvalidCredentialsError("no S3 credentials found for signing the upload form")
    frozen = resolved.get_frozen_credentials()
    return Credentials(frozen.access_key or "", frozen.secret_key or "", frozen.token)


def sign_upload_form(
    files: FileStore,
    config: DjangoFilesConfig,
    key: str,
    *,
    content_type: str,
    max_size: int,
    expires_in: int,
    success_action_redirect: str | None = None,
) -> PresignedPost:
    """The POST form for exactly ``key``, ``content_type`` and 1..``max_size`` bytes."""
    post = files.presign_post(
        key, content_type=content_type, max_size=max_size, expires_in=expires_in
    )
    if not success_action_redirect:
        return post
    store = files.store
    if not isinstance(store, S3Store):
        raise ConfigurationError("success_action_redirect needs an S3 store")
    now = datetime.now(UTC).replace(microsecond=0)
    fields = presign_post_policy(
        bucket=store.bucket,
        key=post.fields["key"],  # the store's full key, prefix included
        credentials=_credentials(config, store.region),
        region=store.region,
        expires_in=expires_in,
        conditions=[["content-length-range", 1, max_size]],
        fields={
            "Content-Type": content_type,
            "success_action_redirect": check_redirect(success_action_redirect),
        },
        now=now,
    )
    return PresignedPost(
        url=post.url,
        fields=fields,
        expires_at=now + timedelta(seconds=expires_in),
        max_size=max_size,
    )
