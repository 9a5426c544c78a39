"""What both modes' apps share: the root options (``--local``, ``--profile``, ``--verbose``),
the help text with the exit codes, and the commands that work in either mode."""

from __future__ import annotations

from typing import Annotated

import typer

from s3files import __version__
from s3files.cli import help_text, server, session
from s3files.cli._common import CliOptions, fail
from s3files.cli.profiles import Mode, ModeError, resolve_mode

__all__ = ["ANY_ARGUMENTS", "new_app"]

_HELP = (
    "Manage files on an s3files service (remote mode) or, on the server's machine, in its own "
    "store and database (local mode).\n\n"
    "Remote: `s3files login URL` saves a profile; S3FILES_URL / S3FILES_API_KEY and --profile "
    "override it. Local: --local, or no profile saved; the store and database come from the "
    "environment (S3FILES_DATA_DIR, S3FILES_STORAGE_URL, S3_BUCKET_NAME ...) or a .env file.\n\n"
    "Exit codes: 0 done, 1 some of it failed, 2 usage error (or the other mode's command)."
)
_SETTINGS = {"help_option_names": ["-h", "--help"]}
ANY_ARGUMENTS = {"allow_extra_args": True, "ignore_unknown_options": True, **_SETTINGS}
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


def new_app(mode_help: str) -> typer.Typer:
    help_text.install()
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
