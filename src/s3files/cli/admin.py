"""Housekeeping commands: ``cleanup``, ``doctor``, ``quota`` and ``bucket setup-cors``."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from s3files._errors import S3FilesError
from s3files.cli._common import command, console, fail, print_json, require_configured_data_dir

if TYPE_CHECKING:  # settings and stores load when a command runs, not at start
    from s3files.server.settings import ServiceSettings
    from s3files.stores.s3 import S3Store

bucket_app = typer.Typer(help="Set up the bucket for browser uploads.", no_args_is_help=True)


async def _run_cleanup(
    settings: ServiceSettings, *, fix: bool, grace: timedelta, retention: timedelta
) -> Any:
    from s3files.server.db.bootstrap import open_database
    from s3files.server.db.locks import exclusive
    from s3files.server.db.session import session_factory
    from s3files.server.housekeeping import cleanup as run
    from s3files.store import AsyncFileStore, FileStore

    require_configured_data_dir(settings)
    engine = await open_database(settings)
    files = AsyncFileStore(FileStore.from_settings(settings))
    try:
        # one repairing cleanup at a time across machines: the next one waits, then finds
        # what the first left (nothing, usually) instead of deleting the same objects again
        async with exclusive(engine, "cleanup") if fix else contextlib.nullcontext():
            return await run(
                engine, session_factory(engine), files, fix=fix, grace=grace, retention=retention
            )
    finally:
        await files.aclose()
        await engine.dispose()


@command
def cleanup(
    fix: Annotated[
        bool, typer.Option("--fix", help="Repair what is found (default: report).")
    ] = False,
    grace_minutes: Annotated[float, typer.Option(min=0, help="Leave younger things alone.")] = 60,
    retention_days: Annotated[float, typer.Option(min=0, help="Keep the trash this long.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Reconcile the database and the store: expired uploads, stale multipart uploads, the
    trash past retention, unfinished files, orphan objects, records without objects.

    Safe beside live traffic (only what is older than the grace period) and to repeat.

    Example: s3files cleanup --fix --grace-minutes 30
    """
    from s3files.server.settings import load_service_settings

    report = asyncio.run(
        _run_cleanup(
            load_service_settings(),
            fix=fix,
            grace=timedelta(minutes=grace_minutes),
            retention=timedelta(days=retention_days),
        )
    )
    if as_json:
        print_json(
            {
                "fixed": fix,
                **report.counts(),
                "orphan_objects": report.orphan_objects,
                "missing_objects": report.missing_objects,
                "refused_aborts": report.refused_aborts,
            }
        )
        return
    table = Table("finding", "count", box=None)
    for name, count in report.counts().items():
        table.add_row(name.replace("_", " "), str(count))
    console.print(table)
    for refused in report.refused_aborts:
        console.print(f"abort refused (left pending): {refused}", highlight=False)
    verb = "repaired" if fix else "found (run with --fix to repair)"
    console.print("all clean" if report.clean else f"problems {verb}", highlight=False)


def _s3_store(settings: ServiceSettings) -> S3Store:
    from s3files.store import FileStore
    from s3files.stores.s3 import S3Store

    store = FileStore.from_settings(settings).store
    if not isinstance(store, S3Store):
        fail("the configured store is the local disk; this command is for S3 buckets")
    return store


@bucket_app.command("setup-cors")
@command
def setup_cors(
    origin: Annotated[list[str], typer.Option(help="A page origin allowed to upload (repeat).")],
    abort_incomplete_days: Annotated[
        int | None,
        typer.Option(min=1, help="Also abort unfinished multipart uploads after N days."),
    ] = None,
) -> None:
    """Allow browsers on ORIGIN to upload straight to the bucket (CORS, ETag exposed).

    Example: s3files bucket setup-cors --origin https://app.example.com
    """
    from s3files.server.settings import load_service_settings

    for value in origin:
        if not value.startswith(("http://", "https://")) or value.count("/") > 2:
            fail(f"--origin {value!r} must look like https://host[:port]")
    store = _s3_store(load_service_settings())
    store.configure_cors([value.rstrip("/") for value in origin])
    if abort_incomplete_days:
        store.configure_abort_incomplete(abort_incomplete_days)
    console.print(f"CORS set on {store.bucket} for {', '.join(origin)}", highlight=False)


def _check(table: Table, name: str, ok: bool, detail: str) -> bool:
    table.add_row(name, "[green]ok[/]" if ok else "[red]problem[/]", detail)
    return ok


@command
def doctor() -> None:
    """Check the configuration, the database, the store and the bucket's CORS.

    Example: s3files doctor
    """
    from s3files.cli.server import run_with_session
    from s3files.server.settings import load_service_settings
    from s3files.store import FileStore
    from s3files.stores.s3 import S3Store

    table = Table("check", "result", "detail", box=None)
    healthy = True
    try:
        settings = load_service_settings()
    except S3FilesError as exc:
        fail(str(exc))
    location = settings.storage_location()
    where = (
        location.path if location.scheme == "file" else f"s3://{location.bucket}/{location.prefix}"
    )
    _check(table, "configuration", True, f"store {where}")

    async def ping(session: Any) -> None:
        from sqlalchemy import text

        await session.execute(text("SELECT 1"))

    try:
        run_with_session(settings, ping)
        healthy &= _check(table, "database", True, "reachable, migrations applied")
    except Exception as exc:
        healthy &= _check(table, "database", False, f"{type(exc).__name__}: {exc}")
    files = FileStore.from_settings(settings)
    try:
        files.list(page_size=1)
        healthy &= _check(table, "store", True, "reachable")
    except S3FilesError as exc:
        healthy &= _check(table, "store", False, str(exc))
    if isinstance(files.store, S3Store):
        try:
            origins = {o for rule in files.store.get_cors() for o in rule.get("AllowedOrigins", [])}
            wanted = set(settings.cors_origins) or {settings.public_base_url}
            missing = wanted - origins - {"*"} if "*" not in origins else set()
            healthy &= _check(
                table,
                "bucket CORS",
                not missing,
                "browser uploads allowed"
                if not missing
                else f"missing {sorted(missing)}: run s3files bucket setup-cors "
                + " ".join(f"--origin {o}" for o in sorted(missing)),
            )
        except S3FilesError as exc:
            healthy &= _check(table, "bucket CORS", False, str(exc))
    console.print(table)
    if not healthy:
        raise typer.Exit(1)


@command
def quota(
    owner: Annotated[str, typer.Argument(help="The owner whose quota to show or set.")],
    max_bytes: Annotated[
        int | None, typer.Option("--bytes", min=0, help="Most bytes (the trash counts).")
    ] = None,
    max_files: Annotated[int | None, typer.Option("--files", min=0, help="Most files.")] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Drop the owner's own limits: the default applies.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show an owner's usage and quota, or set it (as PUT /api/v1/quotas/OWNER does).

    Example: s3files quota alice --bytes 10737418240 --files 100000
    """
    from s3files.cli.server import run_with_session
    from s3files.server.quotas.service import limits_of, set_quota, usage_of
    from s3files.server.settings import load_service_settings

    settings = load_service_settings()
    change = default or max_bytes is not None or max_files is not None

    async def work(session: Any) -> dict[str, Any]:
        if change:
            await set_quota(session, owner, max_bytes=max_bytes, max_files=max_files)
        usage = await usage_of(session, owner)
        limits = await limits_of(session, owner, settings)
        return {
            "owner": owner,
            "files": usage.files,
            "bytes": usage.bytes,
            "trash_files": usage.trash_files,
            "trash_bytes": usage.trash_bytes,
            "quota": {"max_bytes": limits.max_bytes, "max_files": limits.max_files},
        }

    found = run_with_session(settings, work)
    if as_json:
        print_json(found)
        return
    limits = found["quota"]
    shown = {key: "no limit" if value is None else str(value) for key, value in limits.items()}
    console.print(
        f"{owner}: {found['files']} files, {found['bytes']} bytes "
        f"(trash: {found['trash_files']} files, {found['trash_bytes']} bytes); "
        f"quota {shown['max_bytes']} bytes, {shown['max_files']} files",
        highlight=False,
    )
