"""The Typer applications and the entry point ``main``.

Two modes, chosen once per invocation (``cli/profiles.py``): **remote** (the file commands go
through ``s3files.client`` to a service) and **local** (the service's own store and
database, on the server's machine). Each mode has its app; a command of the other mode is
there too, as a clear refusal (exit 2), so the two are never confused.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from s3files import __version__
from s3files.cli import admin, buckets, files, remote_files, remote_sync, server, session
from s3files.cli._common import CliOptions, fail
from s3files.cli.profiles import Mode, ModeError, mode_options, resolve_mode

__all__ = ["app", "main", "remote_app", "select_app"]

_HELP = (
    "Manage files on an s3files service (remote mode) or, on the server's machine, in its own "
    "store and database (local mode).\n\n"
    "Remote: `s3files login URL` saves a profile; S3FILES_URL / S3FILES_API_KEY and --profile "
    "override it. Local: --local, or no profile saved; the store and database come from the "
    "environment (S3FILES_DATA_DIR, S3FILES_STORAGE_URL, S3_BUCKET_NAME ...) or a .env file.\n\n"
    "Exit codes: 0 done, 1 some of it failed, 2 usage error (or the other mode's command)."
)
_SETTINGS = {"help_option_names": ["-h", "--help"]}
_ANY_ARGUMENTS = {"allow_extra_args": True, "ignore_unknown_options": True, **_SETTINGS}
_MODE_FREE = {"login", "logout", "profiles", "serve"}


def _version(value: bool) -> None:
    if value:
        print(f"s3files {__version__}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    local: Annotated[
        bool, typer.Option("--local", help="Local mode: this machine's store and database.")
    ] = False,
    profile: Annotated[
        str | None, typer.Option("--profile", help="Remote mode with this saved profile.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """s3files command line."""
    mode: Mode | None
    try:
        mode = resolve_mode(local=local, profile=profile)
    except ModeError as exc:
        if ctx.invoked_subcommand not in _MODE_FREE:
            fail(str(exc), 2)
        mode = None
    ctx.obj = CliOptions(verbose=verbose, mode=mode)


def _new_app(mode_help: str) -> typer.Typer:
    made = typer.Typer(
        name="s3files",
        help=f"{_HELP}\n\n{mode_help}",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings=_SETTINGS,
    )
    made.callback()(root)
    for command in (session.login, session.logout, session.profiles, session.status):
        made.command()(command)
    made.command()(server.serve)
    return made


# local mode ----------------------------------------------------------------------------

app = _new_app(
    "This is the local mode's command list (`s3files --help` in remote mode shows its own)."
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
app.command()(admin.cleanup)
app.command()(admin.doctor)
app.command()(admin.quota)
app.add_typer(admin.bucket_app, name="bucket")
app.add_typer(server.keys_app, name="keys")
app.add_typer(server.db_app, name="db")
for name in ("tree", "sync", "mv", "mkdir", "zip", "usage"):
    app.command(name, context_settings=_ANY_ARGUMENTS, hidden=True)(session.remote_only(name))

# remote mode ---------------------------------------------------------------------------

remote_app = _new_app(
    "This is the remote mode's command list: every file command goes to the service."
)
for remote_command in (
    remote_files.ls,
    remote_files.tree,
    remote_files.info,
    remote_files.upload,
    remote_files.download,
    remote_sync.sync,
    remote_files.mv,
    remote_files.cp,
    remote_files.rm,
    remote_files.restore,
    remote_files.mkdir,
    remote_files.presign,
    remote_files.zip,
    remote_files.usage,
    remote_files.quota,
):
    remote_app.command()(remote_command)
for name in (
    "keys",
    "db",
    "cleanup",
    "doctor",
    "bucket",
    "buckets",
    "bucket-info",
    "objects",
    "search",
):
    remote_app.command(name, context_settings=_ANY_ARGUMENTS)(session.local_only(name))


def select_app(argv: list[str]) -> typer.Typer:
    """The app of the mode that ``argv`` and the environment choose (local if they name
    none that works: the root callback then reports the error)."""
    local, profile = mode_options(argv)
    try:
        mode = resolve_mode(local=local, profile=profile)
    except ModeError:
        return app
    return remote_app if mode.remote else app


def main() -> None:
    select_app(sys.argv[1:])()
