"""The ``s3files`` command line: one Typer app, one module per command group."""

from s3files.cli.app import app, main

__all__ = ["app", "main"]
