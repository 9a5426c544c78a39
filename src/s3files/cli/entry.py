"""The entry point: choose the mode (``cli/profiles.py``), then load only that mode's app
(remote mode never imports the service's modules)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from s3files.cli.profiles import ModeError, mode_options, resolve_mode

if TYPE_CHECKING:
    import typer

__all__ = ["main", "select_app"]


def select_app(argv: list[str]) -> typer.Typer:
    """The app of the mode that ``argv`` and the environment choose (local if they name
    none that works: its root callback then reports the error)."""
    local, profile = mode_options(argv)
    try:
        remote = resolve_mode(local=local, profile=profile).remote
    except ModeError:
        remote = False
    if remote:
        from s3files.cli.remote_app import remote_app

        return remote_app
    from s3files.cli.local_app import app

    return app


def main() -> None:
    select_app(sys.argv[1:])()
