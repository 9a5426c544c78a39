"""The ``s3files`` command line: one Typer app per mode (local, remote), one module per
command group. ``app`` (the local mode's) is imported on first use."""

from typing import Any

from s3files.cli.entry import main, select_app

__all__ = ["app", "main", "select_app"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from s3files.cli.local_app import app

        return app
    raise AttributeError(name)
