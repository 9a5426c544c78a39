"""Fault injection for crash tests: ``S3FILES_FAILPOINTS=upload.after_store_write`` makes the
process die at that point, as a power cut would. Off unless the variable names the point."""

from __future__ import annotations

import os

__all__ = ["failpoint"]


def failpoint(name: str) -> None:
    """Exit at once (no cleanup, no flush) if ``name`` is armed."""
    armed = os.environ.get("S3FILES_FAILPOINTS", "")
    if armed and name in {point.strip() for point in armed.split(",")}:
        os._exit(86)
