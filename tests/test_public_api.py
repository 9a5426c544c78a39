"""The public names: everything in __all__ exists, and nothing heavy is imported."""

from __future__ import annotations

import subprocess
import sys

import s3files


def test_exported_names_exist() -> None:
    for name in s3files.__all__:
        assert hasattr(s3files, name), name
    assert {
        "FileStore",
        "AsyncFileStore",
        "S3Service",
        "FileUploadRequest",
        "Settings",
        "ObjectNotFoundError",
    } <= set(s3files.__all__)


def test_twins_share_method_names() -> None:
    sync = {n for n in dir(s3files.FileStore) if not n.startswith("_")}
    async_ = {n for n in dir(s3files.AsyncFileStore) if not n.startswith("_")}
    assert sync - {"close", "from_settings", "from_url", "store"} <= async_


def test_import_does_not_load_integrations() -> None:
    code = (
        "import sys, s3files; bad = [m for m in ('fastapi', 'django', 'sqlalchemy', 'magic')"
        " if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_error_tree() -> None:
    assert issubclass(s3files.ObjectNotFoundError, FileNotFoundError)
    assert issubclass(s3files.ObjectNotFoundError, s3files.StoreError)
    assert issubclass(s3files.FileTooLargeError, ValueError)
    assert issubclass(s3files.StoreUnavailableError, ConnectionError)
    assert issubclass(s3files.InvalidCredentialsError, PermissionError)
    codes = {
        cls.code
        for cls in vars(s3files).values()
        if isinstance(cls, type) and issubclass(cls, s3files.S3FilesError)
    }
    assert len(codes) == len(
        [
            c
            for c in vars(s3files).values()
            if isinstance(c, type) and issubclass(c, s3files.S3FilesError)
        ]
    )
