"""File commands: the same files as the service (store + database named by the settings).

Files are owned by ``--owner`` (default ``$S3FILES_OWNER`` or ``admin``, the owner of the
first-start key), so what the CLI uploads shows up in the web file manager and the API.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from s3files.cli._common import (
    command,
    console,
    fail,
    human_size,
    print_json,
    require_configured_data_dir,
)
from s3files.cli.output import long_line
from s3files.server.settings import ServiceSettings, load_service_settings

_T = TypeVar("_T")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
OwnerOption = Annotated[
    str | None, typer.Option(help="Whose files (default $S3FILES_OWNER or 'admin').")
]
FileRef = Annotated[str, typer.Argument(help="The file's id.")]
CHUNK = 1024 * 1024


@dataclass
class Session:
    """What a command needs: the service's state and a caller."""

    state: Any
    principal: Any

    @asynccontextmanager
    async def service(self) -> AsyncIterator[Any]:
        """A FileService (it opens its own short units of work)."""
        from s3files.server.files.service import FileService

        yield FileService(self.state, self.principal)


@asynccontextmanager
async def open_session(
    settings: ServiceSettings, owner: str | None, *, every_owner: bool = False
) -> AsyncIterator[Session]:
    try:
        from s3files.server.auth import Authenticator, Principal
        from s3files.server.db.bootstrap import open_database
        from s3files.server.db.session import session_factory
        from s3files.server.metrics import Metrics
        from s3files.server.state import AppState
    except ImportError:
        fail('file commands need the database: pip install "s3files[server]"')
    from s3files.store import AsyncFileStore, FileStore

    require_configured_data_dir(settings)
    engine = await open_database(settings)
    files = AsyncFileStore(FileStore.from_settings(settings))
    try:
        state = AppState(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            files=files,
            authenticator=Authenticator(settings),
            metrics=Metrics(),
        )
        name = owner or os.environ.get("S3FILES_OWNER") or "admin"
        yield Session(state, Principal(owner=name, is_admin=every_owner))
    finally:
        await files.aclose()
        await engine.dispose()


def run(
    owner: str | None, work: Callable[[Session], Awaitable[_T]], *, every_owner: bool = False
) -> _T:
    async def main() -> _T:
        async with open_session(load_service_settings(), owner, every_owner=every_owner) as session:
            return await work(session)

    return asyncio.run(main())


def transfer_progress(*, disable: bool = False) -> Progress:
    """Bars with bytes, speed and time left; gone from the terminal when done."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=disable,
    )


def file_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        fail(f"{text!r} is not a file id (see `s3files ls`)")


def record_json(record: Any) -> dict[str, Any]:
    from s3files.server.files.schemas import FileOut

    out: dict[str, Any] = FileOut.of(record).model_dump(mode="json")
    return out


# upload -------------------------------------------------------------------------------


def _collect(paths: list[Path], folder: str | None) -> list[tuple[Path, str | None]]:
    """Files to upload with their folder; a folder's subfolders are kept below ``folder``."""
    found: list[tuple[Path, str | None]] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = child.parent.relative_to(path.parent).as_posix()
                found.append((child, "/".join(p for p in (folder, relative) if p) or None))
        elif path.is_file():
            found.append((path, folder))
        else:
            fail(f"{path}: no such file or folder")
    return found


def _chunks(path: Path, progress: Progress, overall: TaskID) -> Iterator[bytes]:
    """The file's bytes, read on the upload's worker thread (Rich's progress is
    thread-safe)."""
    task = progress.add_task(path.name[:40], total=path.stat().st_size)
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                progress.update(task, advance=len(chunk))
                progress.update(overall, advance=len(chunk))
                yield chunk
    finally:
        progress.remove_task(task)


@command
def upload(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to upload.")],
    folder: Annotated[str | None, typer.Option(help="Folder to put them in.")] = None,
    public: Annotated[bool, typer.Option("--public", help="Anyone may download them.")] = False,
    metadata: Annotated[str | None, typer.Option(help="User metadata, a JSON object.")] = None,
    jobs: Annotated[int, typer.Option(min=1, max=64, help="Transfers in flight.")] = 8,
    owner: OwnerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upload files and whole folders (validated while they stream; several at once).

    Example: s3files upload report.pdf photos/ --folder documents --metadata '{"team": "blue"}'
    """
    from s3files.server.files.bulk import BulkItem, BulkOutcome, upload_many

    if metadata:
        try:
            json.loads(metadata)
        except ValueError:
            fail("--metadata must be a JSON object")
    items = _collect(paths, folder)
    if not items:
        fail("nothing to upload")
    total = sum(path.stat().st_size for path, _ in items)
    started = time.perf_counter()
    results: list[tuple[Path, Any, str | None]] = []

    async def work(session: Session) -> None:
        progress = transfer_progress(disable=as_json)
        fields = {"is_public": "true" if public else "false", "metadata": metadata}
        with progress:
            overall = progress.add_task(f"{len(items)} file(s)", total=total)
            paths_of: dict[int, Path] = {}
            bulk: list[BulkItem] = []
            for path, target in items:
                item = BulkItem(
                    filename=path.name,
                    chunks=functools.partial(_chunks, path, progress, overall),
                    fields={**fields, "folder": target},
                )
                paths_of[id(item)] = path
                bulk.append(item)

            def done(outcome: BulkOutcome) -> None:
                error = _message(outcome.error) if outcome.error else None
                results.append((paths_of[id(outcome.item)], outcome.record, error))

            await upload_many(session.state, session.principal, bulk, jobs=jobs, on_done=done)

    run(owner, work)
    elapsed = time.perf_counter() - started
    failed = [(path, error) for path, _, error in results if error]
    if as_json:
        print_json(
            [
                {"path": str(path), "error": error}
                if error
                else {"path": str(path), **record_json(record)}
                for path, record, error in results
            ]
        )
    else:
        for path, error in failed:
            console.print(f"[red]failed[/] {path}: {error}", highlight=False)
        done = len(results) - len(failed)
        console.print(
            f"[green]uploaded {done} file(s)[/], {human_size(total)} in "
            f"{elapsed:.1f} s ({done / elapsed:.0f} files/s)"
            + (f", [red]{len(failed)} failed[/]" if failed else ""),
            highlight=False,
        )
    if failed:
        raise typer.Exit(1)


def _message(exc: Exception) -> str:
    from s3files.server.api_error import ApiError

    if isinstance(exc, ApiError):
        return f"{exc.error}: {exc.detail}"
    return str(exc)


# read ---------------------------------------------------------------------------------


@command
def ls(
    folder: Annotated[str | None, typer.Option(help="Only this folder.")] = None,
    search: Annotated[str | None, typer.Option(help="Part of the name.")] = None,
    trash: Annotated[bool, typer.Option("--trash", help="List the trash.")] = False,
    every_owner: Annotated[bool, typer.Option("--all", help="Every owner's files.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    owner: OwnerOption = None,
    as_json: JsonOption = False,
) -> None:
    """List files, newest first.

    Example: s3files ls --folder documents --search report
    """

    async def work(session: Session) -> list[Any]:
        async with session.service() as service:
            rows, _ = await service.list(
                folder=folder,
                search=search,
                content_type=None,
                deleted=trash,
                limit=limit,
                cursor=None,
            )
            return list(rows)

    rows = run(owner, work, every_owner=every_owner)
    if as_json:
        print_json([record_json(r) for r in rows])
        return
    for r in rows:  # the remote ls -l's columns, shortened to the terminal's width
        path = f"{r.folder}/{r.original_filename}" if r.folder else r.original_filename
        line = long_line(
            r.size, r.updated_at, str(r.id), path + (" (public)" if r.is_public else "")
        )
        console.print(line, highlight=False, markup=False)
    console.print(f"{len(rows)} file(s)", style="dim")


@command
def info(ref: FileRef, owner: OwnerOption = None, as_json: JsonOption = False) -> None:
    """Show a file's record: size, type, checksum, folder, metadata.

    Example: s3files info 5b0c2f1e-8a4b-4d0e-9a51-2f8f2f7c1a10
    """
    ident = file_id(ref)

    async def work(session: Session) -> Any:
        async with session.service() as service:
            return await service.get(ident)

    details = record_json(run(owner, work, every_owner=owner is None))
    if as_json:
        print_json(details)
        return
    table = Table(box=None, show_header=False)
    for name, value in details.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value
        table.add_row(name, str(shown))
    console.print(table)


@command
def download(
    ref: Annotated[str, typer.Argument(help="The file's id, or an object key.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Where to write.")] = None,
    owner: OwnerOption = None,
) -> None:
    """Download a file (resumes an interrupted download of the same file).

    Example: s3files download 5b0c2f1e-8a4b-4d0e-9a51-2f8f2f7c1a10 -o report.pdf
    """

    async def work(session: Session) -> tuple[str, int, str]:
        try:
            ident = uuid.UUID(ref)
        except ValueError:
            info = await session.state.files.head(ref)
            return ref, info.size, ref.rsplit("/", 1)[-1]
        async with session.service() as service:
            record = await service.get(ident)
        return record.key, record.size, record.original_filename

    key, size, name = run(owner, work, every_owner=owner is None)
    target = output or Path(name)
    if target.is_dir():
        target = target / name
    partial = target.with_name(f".{target.name}.part")
    offset = partial.stat().st_size if partial.exists() else 0
    if offset > size:
        partial.unlink()
        offset = 0

    async def fetch(session: Session) -> None:
        progress = transfer_progress()
        with progress, partial.open("ab") as handle:
            task = progress.add_task(target.name, total=size, completed=offset)
            if offset < size:
                async for chunk in session.state.files.iter_bytes(key, offset=offset):
                    await asyncio.to_thread(handle.write, chunk)
                    progress.update(task, advance=len(chunk))

    run(owner, fetch, every_owner=owner is None)
    partial.replace(target)
    resumed = f", resumed at {human_size(offset)}" if offset else ""
    console.print(f"[green]downloaded[/] {target} ({human_size(size)}{resumed})", highlight=False)


@command
def presign(
    ref: FileRef,
    expiry: Annotated[int | None, typer.Option(min=1, help="Seconds the URL stays valid.")] = None,
    download: Annotated[bool, typer.Option("--download", help="Make browsers save it.")] = False,
    owner: OwnerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a short-lived download URL.

    Example: s3files presign 5b0c2f1e-8a4b-4d0e-9a51-2f8f2f7c1a10 --expiry 600 --download
    """
    ident = file_id(ref)

    async def work(session: Session) -> tuple[str, Any, int]:
        async with session.service() as service:
            result: tuple[str, Any, int] = await service.presign(
                ident, expiry=expiry, force_download=download
            )
            return result

    url, expires_at, seconds = run(owner, work, every_owner=owner is None)
    if as_json:
        print_json({"url": url, "expires_at": expires_at, "expires_in": seconds})
    else:
        print(url)


# change -------------------------------------------------------------------------------


def _change(owner: str | None, action: Callable[[Any], Awaitable[Any]]) -> Any:
    async def work(session: Session) -> Any:
        async with session.service() as service:
            return await action(service)

    return run(owner, work, every_owner=owner is None)


@command
def cp(
    ref: FileRef,
    folder: Annotated[str, typer.Option(help="Folder to copy into.")],
    owner: OwnerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Copy a file into a folder (a new file with its own id).

    Example: s3files cp 5b0c2f1e-8a4b-4d0e-9a51-2f8f2f7c1a10 --folder archives
    """
    ident = file_id(ref)
    record = _change(owner, lambda s: s.copy(ident, new_folder=folder, new_metadata=None))
    if as_json:
        print_json(record_json(record))
    else:
        console.print(f"[green]copied[/] to {record.folder or '/'} as {record.id}", highlight=False)


@command
def rm(
    ref: FileRef,
    hard: Annotated[bool, typer.Option("--hard", help="Delete for good, object too.")] = False,
    owner: OwnerOption = None,
) -> None:
    """Move a file to the trash, or with --hard delete it for good.

    Example: s3files rm 5b0c2f1e-8a4b-4d0e-9a51-2f8f2f7c1a10 --hard
    """
    ident = file_id(ref)
    _change(owner, lambda s: s.delete(ident, hard=hard))
    console.print(
        f"[green]{'deleted' if hard else 'moved to the trash'}[/] {ident}", highlight=False
    )


@command
def restore(ref: FileRef, owner: OwnerOption = None) -> None:
    """Take a file out of the trash.

    Example: s3files restore 5b0c2f1e-8a4b-4d0e-9a51-2f8f2f7c1a10
    """
    ident = file_id(ref)
    _change(owner, lambda s: s.restore(ident))
    console.print(f"[green]restored[/] {ident}", highlight=False)
