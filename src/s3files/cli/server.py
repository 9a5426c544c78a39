"""Service commands: ``serve``, ``keys create|list|revoke``, ``db upgrade``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

from s3files.cli._common import command, console, fail, print_json, require_configured_data_dir

if TYPE_CHECKING:
    from s3files.server.settings import ServiceSettings

_T = TypeVar("_T")


def load_service_settings(**overrides: Any) -> ServiceSettings:
    """The service's settings (imported on use: remote mode never loads them)."""
    from s3files.server import settings

    return settings.load_service_settings(**overrides)


keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
db_app = typer.Typer(help="The metadata database.", no_args_is_help=True)


def _server_modules() -> Any:
    try:
        from s3files.server import db as _db  # noqa: F401
    except ImportError:
        fail('the service needs its extra: pip install "s3files[server]"')
    from s3files.server.db import bootstrap, session

    return bootstrap, session


def run_with_session(
    settings: ServiceSettings, work: Callable[[Any], Awaitable[_T]], *, serving: bool = False
) -> _T:
    """Open the database (folder, engine, migrations), run ``work(session)`` in one unit
    of work, and close it. Only ``serve`` may create the default data folder."""
    bootstrap, session_module = _server_modules()
    if not serving:
        require_configured_data_dir(settings)

    async def main() -> _T:
        engine = await bootstrap.open_database(settings)
        try:
            sessions = session_module.session_factory(engine)
            async with session_module.unit_of_work(sessions) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@dataclass(frozen=True)
class AppFactory:
    """Builds the app from settings given explicitly; picklable, so that each worker
    process receives the same settings (nothing passes through the environment)."""

    settings: ServiceSettings

    def __call__(self) -> Any:
        from s3files.server import create_app

        return create_app(self.settings)


def uvicorn_config(settings: ServiceSettings, *, host: str, port: int, workers: int = 1) -> Any:
    """How ``serve`` runs uvicorn: httptools, with a bound on what it buffers for a
    request's headers (``s3files.server.http_protocol``, where the choice is measured)."""
    import uvicorn

    from s3files.server.http_protocol import BoundedHttpToolsProtocol
    from s3files.server.limits import ServiceLimits

    return uvicorn.Config(
        AppFactory(settings),
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=BoundedHttpToolsProtocol,
        # beyond this many open connections uvicorn answers 503: with the admission
        # read-ahead, it bounds what slow clients can make the service hold
        limit_concurrency=ServiceLimits.from_environment().max_connections,
        log_level="warning",
    )


@command
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Run the HTTP service (API at /api/v1, docs at /docs).

    With no configuration it keeps files in ./s3files-data/files and metadata in
    ./s3files-data/s3files.db, and prints an admin key on first start.

    Example: s3files serve --host 0.0.0.0 --port 8080
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from s3files.server.keys.service import create_key, list_keys

    public = os.environ.get("S3FILES_PUBLIC_URL") or f"http://{host}:{port}"
    settings = load_service_settings(public_base_url=public)

    async def first_start(session: Any) -> str | None:
        from s3files.server.db.locks import serialize_transaction

        await serialize_transaction(session, "first start")  # replicas starting together
        if await list_keys(session, include_revoked=True):
            return None
        return (await create_key(session, owner="admin", is_admin=True, name="first start")).secret

    secret = run_with_session(settings, first_start, serving=True)
    location = settings.storage_location()
    where = (
        location.path if location.scheme == "file" else f"s3://{location.bucket}/{location.prefix}"
    )
    console.print(
        f"[bold]s3files[/] serving {where}: web page [link]{public}/[/], API docs {public}/docs",
        highlight=False,
        soft_wrap=True,
    )
    if secret:
        console.print(
            f"first start: admin API key (shown once): [bold yellow]{secret}[/]",
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            f"try: curl -H 'Authorization: Bearer {secret}' {public}/api/v1/files",
            highlight=False,
            soft_wrap=True,
        )
    config = uvicorn_config(settings, host=host, port=port, workers=workers)
    server = uvicorn.Server(config)
    if workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()
    if workers == 1 and not server.started:
        fail("the service did not start")


@keys_app.command("create")
@command
def keys_create(
    owner: Annotated[str, typer.Option(help="Whose files the key reaches.")],
    admin: Annotated[bool, typer.Option("--admin", help="Reach every owner's files.")] = False,
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an API key; the key is printed once and only its hash is stored.

    Example: s3files keys create --owner alice
    """
    from s3files.server.keys.service import create_key

    async def work(session: Any) -> Any:
        return await create_key(session, owner=owner, is_admin=admin, name=name)

    try:
        created = run_with_session(load_service_settings(), work)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print_json(
            {"id": str(created.record.id), "owner": owner, "admin": admin, "key": created.secret}
        )
    else:
        console.print(created.secret, highlight=False, soft_wrap=True)


@keys_app.command("list")
@command
def keys_list(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List API keys (never their secrets).

    Example: s3files keys list --all
    """
    from s3files.server.keys.service import list_keys

    async def work(session: Any) -> list[dict[str, Any]]:
        return [
            {
                "id": str(k.id),
                "prefix": k.prefix,
                "owner": k.owner,
                "admin": k.is_admin,
                "name": k.name,
                "created_at": k.created_at.isoformat(),
                "revoked": k.revoked_at is not None,
            }
            for k in await list_keys(session, include_revoked=all_keys)
        ]

    rows = run_with_session(load_service_settings(), work)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "prefix", "owner", "admin", "name", "revoked", box=None)
    for row in rows:
        table.add_row(
            row["id"],
            row["prefix"],
            row["owner"],
            str(row["admin"]),
            row["name"] or "",
            str(row["revoked"]),
        )
    console.print(table)


@keys_app.command("revoke")
@command
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id or prefix.")]) -> None:
    """Revoke an API key at once.

    Example: s3files keys revoke s3f_AbCdEfGh
    """
    from s3files.server.keys.service import revoke_key

    found = run_with_session(load_service_settings(), lambda session: revoke_key(session, key_id))
    if found is None:
        fail(f"no API key {key_id!r}")
    console.print(f"revoked {found.prefix}… of {found.owner}", highlight=False, soft_wrap=True)


@db_app.command("upgrade")
@command
def db_upgrade() -> None:
    """Apply the database migrations (also done by serve at start).

    Example: S3FILES_DATABASE_URL=postgresql://user@db/s3files s3files db upgrade
    """

    async def nothing(_: Any) -> None:
        return None

    settings = load_service_settings()
    run_with_session(settings, nothing)
    console.print("database is up to date", highlight=False, soft_wrap=True)
