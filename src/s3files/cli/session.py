"""``login``, ``logout``, ``profiles`` and ``status``: where the CLI works, and how to change
it (see ``cli/profiles.py`` for how the mode is chosen)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Annotated

import typer

from s3files.cli._common import CliOptions, command, console, fail, print_json
from s3files.cli.profiles import Profile, ProfileStore, config_dir
from s3files.client import Client, ServiceUnavailableError, UnauthorizedError

__all__ = ["local_only", "login", "logout", "profiles", "remote_only", "status"]


@command
def login(
    url: Annotated[str, typer.Argument(help="The service's URL, e.g. https://files.example.com.")],
    profile: Annotated[
        str,
        typer.Option(
            "--profile",
            "-p",
            metavar="NAME",
            show_default=False,
            help="Name of the profile (by default: default).",
        ),
    ] = "default",
    key: Annotated[
        str | None,
        typer.Option("--key", help="The API key (default: $S3FILES_API_KEY, else asked)."),
    ] = None,
    default: Annotated[
        bool,
        typer.Option(
            "--default/--not-default",
            show_default=False,
            help="Make it the default profile (the default), or keep the current default.",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Save a profile for a service (remote mode), after checking the key.

    The URL and the API key go in a file readable by you only; later commands then work
    on that service.

    Example: s3files login https://files.example.com --profile work
    """
    api_key = key or os.environ.get("S3FILES_API_KEY") or typer.prompt("API key", hide_input=True)
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        fail(f"{url}: the URL must start with http:// or https://", 2)
    source = "--key" if key else ("S3FILES_API_KEY" if os.environ.get("S3FILES_API_KEY") else "")
    with Client(url, api_key) as client:
        try:
            found = client.config()
        except UnauthorizedError as exc:
            fail(f"{url}: {exc.detail}" + (f" (key from {source})" if source else ""))
        except ServiceUnavailableError as exc:
            fail(f"{url}: {exc.detail} ({exc.code})")
    store = ProfileStore(config_dir())
    store.save(Profile(profile, url, api_key), make_default=default)
    if as_json:
        print_json({"profile": profile, "url": url, "owner": found.owner, "admin": found.admin,
                    "saved_in": str(store.path)})  # fmt: skip
        return
    console.print(
        f"logged in to {url} as {found.owner}{' (admin)' if found.admin else ''}; "
        f"profile {profile!r} saved in {store.path}",
        highlight=False, markup=False,
    )  # fmt: skip


@command
def logout(
    profile: Annotated[
        str,
        typer.Option(
            "--profile",
            "-p",
            metavar="NAME",
            show_default=False,
            help="The profile to forget (by default: default).",
        ),
    ] = "default",
) -> None:
    """Forget a saved profile (its key is removed from this machine).

    Example: s3files logout --profile work
    """
    if not ProfileStore(config_dir()).remove(profile):
        fail(f"no profile {profile!r}", 1)
    console.print(f"profile {profile!r} removed", highlight=False, markup=False)


@command
def profiles(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the saved profiles (the default one marked *).

    Example: s3files profiles
    """
    store = ProfileStore(config_dir())
    names, default = store.names()
    if as_json:
        entries = [store.get(name) for name in names]
        print_json(
            [{"name": p.name, "url": p.url, "default": p.name == default} for p in entries if p]
        )
        return
    for name in names:
        saved = store.get(name)
        assert saved is not None
        console.print(
            f"{'*' if name == default else ' '} {name:16} {saved.url}",
            highlight=False,
            markup=False,
        )
    if not names:
        console.print("no profiles: s3files login URL", highlight=False, markup=False)


@command
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Which mode this shell is in, and (remote) who the key belongs to.

    Example: s3files status
    """
    mode = CliOptions.current().mode
    if mode is None:
        fail("no mode", 2)
    details: dict[str, object] = {
        "mode": "remote" if mode.remote else "local",
        "source": mode.source,
    }
    if mode.remote and mode.url:
        details |= {"url": mode.url, "profile": mode.profile}
        with Client(mode.url, mode.api_key) as client:
            found = client.config()
        details |= {"owner": found.owner, "admin": found.admin, "store": found.store,
                    "max_file_size": found.max_file_size}  # fmt: skip
    if as_json:
        print_json(details)
        return
    for name, value in details.items():
        console.print(f"{name:14} {value}", highlight=False, markup=False)


def remote_only(name: str) -> Callable[[], None]:
    """A command of remote mode, as local mode shows it: a clear refusal."""

    def refuse() -> None:
        mode = CliOptions.current().mode
        where = mode.describe() if mode else "local"
        fail(
            f"`s3files {name}` works through a service, and this shell is in {where}: "
            "run `s3files login URL` (or set S3FILES_URL and S3FILES_API_KEY)",
            2,
        )

    refuse.__doc__ = f"(remote mode) {name}: needs `s3files login URL` first."
    return command(refuse)


def local_only(name: str) -> Callable[[], None]:
    """A command of local mode, as remote mode shows it: a clear refusal."""

    def refuse() -> None:
        mode = CliOptions.current().mode
        where = mode.describe() if mode else "remote"
        fail(
            f"`s3files {name}` works on the server's machine, on its own database and store "
            f"(local mode), and this shell is in {where}: run `s3files --local {name} ...` there",
            2,
        )

    refuse.__doc__ = f"(local mode) {name}: on the server's machine, with --local."
    return command(refuse)
