"""The Typer application and its entry point ``main``."""

from __future__ import annotations

from typing import Annotated

import typer

from s3files import __version__
from s3files.cli import admin, buckets, files, server
from s3files.cli._common import CliOptions

app = typer.Typer(
    name="s3files",
    help=(
        "Manage files on S3-compatible stores and the local disk.\n\n"
        "Where files go comes from the environment (S3FILES_STORAGE_URL, S3_BUCKET_NAME, "
        "S3_ENDPOINT_URL, AWS_* ...) or a .env file; without any, the local folder "
        "./s3files-data/files."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

for command in (
    files.upload,
    files.download,
    files.ls,
    files.info,
    files.presign,
    files.cp,
    files.rm,
    files.restore,
    buckets.buckets,
    buckets.bucket_info,
    buckets.objects,
    buckets.search,
):
    app.command()(command)
app.command()(server.serve)
app.command()(admin.cleanup)
app.command()(admin.doctor)
app.add_typer(admin.bucket_app, name="bucket")
app.add_typer(server.keys_app, name="keys")
app.add_typer(server.db_app, name="db")


def _version(value: bool) -> None:
    if value:
        print(f"s3files {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """s3files command line."""
    ctx.obj = CliOptions(verbose=verbose)


def main() -> None:
    app()
