"""The s3files HTTP service (``pip install "s3files[server]"``)."""

from s3files.server.app import api_router, create_app

__all__ = ["api_router", "create_app"]
