"""The s3files HTTP service (``pip install "s3files[server]"``).

``create_app`` and ``api_router`` are imported on first use, so that the CLI can use the
service's layers (database, files) without loading the web framework's app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from s3files.server.app import api_router, create_app

__all__ = ["api_router", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from s3files.server import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
