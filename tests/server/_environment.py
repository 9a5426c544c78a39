"""The environment of a child process (``s3files serve``, a replica, a CLI run) that must use
a test's store and database, and this checkout's code (PYTHONPATH is passed on)."""

from __future__ import annotations

import os

from s3files.server.settings import ServiceSettings


def process_environment(settings: ServiceSettings, **extra: str) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(settings.data_dir),
        "S3FILES_DATA_DIR": str(settings.data_dir),
        "S3FILES_DATABASE_URL": settings.database(),
        "S3FILES_STORAGE_URL": settings.storage_url or "",
        "S3FILES_SIGNING_KEY": settings.signing_key.get_secret_value()
        if settings.signing_key
        else "",
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    if settings.s3_endpoint_url:
        env |= {
            "S3_ENDPOINT_URL": settings.s3_endpoint_url,
            "AWS_ACCESS_KEY_ID": settings.aws_access_key_id or "",
            "AWS_SECRET_ACCESS_KEY": settings.aws_secret_access_key.get_secret_value()
            if settings.aws_secret_access_key
            else "",
            "AWS_REGION": settings.aws_region,
        }
    return env | extra
