"""File commands over the library: upload, download, ls, info, presign, cp, rm."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from s3files.cli._common import command, console, fail, human_size, open_files, print_json

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def _counting(path: Path, progress: Progress, task: Any, chunk_size: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            progress.update(task, advance=len(chunk))
            yield chunk


def _collect(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            fail(f"{path}: no such file or directory")
    return found


@command
def upload(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to upload.")],
    folder: Annotated[str | None, typer.Option(help="Folder to put the files in.")] = None,
    metadata: Annotated[str | None, typer.Option(help="User metadata as a JSON object.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Upload files (validated, named by the naming policy).

    Example: s3files upload report.pdf photos/ --folder documents
    """
    meta = None
    if metadata:
        try:
            meta = json.loads(metadata)
        except ValueError:
            fail("--metadata must be a JSON object")
    files = open_files()
    results = []
    with _progress() as progress:
        for path in _collect(paths):
            task = progress.add_task(path.name, total=path.stat().st_size)
            stored = files.upload(
                _counting(path, progress, task, files.chunk_size),
                filename=path.name,
                folder=folder,
                metadata=meta,
            )
            results.append(stored)
            progress.remove_task(task)
    if as_json:
        print_json(results)
        return
    for stored in results:
        console.print(
            f"[green]uploaded[/] {stored.original_filename} → {stored.key} "
            f"({human_size(stored.size)}, {stored.content_type})",
            highlight=False,
        )


@command
def download(
    key: Annotated[str, typer.Argument(help="The object key.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Where to write.")] = None,
) -> None:
    """Download an object to a file (default: its name in the current folder).

    Example: s3files download 2025/01/15/1f0c..._report.pdf -o report.pdf
    """
    files = open_files()
    info = files.head(key)
    target = output or Path(key.rsplit("/", 1)[-1])
    if target.is_dir():
        target = target / key.rsplit("/", 1)[-1]
    partial = target.with_name(f".{target.name}.part")
    with _progress() as progress, partial.open("wb") as handle:
        task = progress.add_task(target.name, total=info.size)
        for chunk in files.iter_bytes(key):
            handle.write(chunk)
            progress.update(task, advance=len(chunk))
    partial.replace(target)
    console.print(
        f"[green]downloaded[/] {key} → {target} ({human_size(info.size)})", highlight=False
    )


@command
def ls(
    prefix: Annotated[str, typer.Argument(help="Only keys starting with this.")] = "",
    limit: Annotated[int, typer.Option(min=1, help="At most this many objects.")] = 1000,
    as_json: JsonOption = False,
) -> None:
    """List objects.

    Example: s3files ls documents/ --limit 20
    """
    items = open_files().search(prefix, limit=limit)
    if as_json:
        print_json(items)
        return
    table = Table(box=None)
    table.add_column("key", overflow="fold")
    table.add_column("size", justify="right")
    table.add_column("last modified")
    for info in items:
        modified = info.last_modified.strftime("%Y-%m-%d %H:%M") if info.last_modified else ""
        table.add_row(info.key, human_size(info.size), modified)
    console.print(table)
    console.print(f"{len(items)} object(s)", style="dim")


@command
def info(
    key: Annotated[str, typer.Argument(help="The object key.")], as_json: JsonOption = False
) -> None:
    """Show an object's size, type, metadata and storage class.

    Example: s3files info documents/report.pdf
    """
    details = open_files().head(key)
    if as_json:
        print_json(details)
        return
    table = Table(box=None, show_header=False)
    for name in (
        "key",
        "size",
        "content_type",
        "last_modified",
        "etag",
        "storage_class",
        "encryption",
        "content_disposition",
    ):
        table.add_row(name, str(getattr(details, name)))
    table.add_row("metadata", json.dumps(dict(details.metadata), ensure_ascii=False))
    console.print(table)


@command
def presign(
    key: Annotated[str, typer.Argument(help="The object key.")],
    expiry: Annotated[int | None, typer.Option(help="Seconds the URL stays valid.")] = None,
    download: Annotated[bool, typer.Option("--download", help="Make browsers save it.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Print a short-lived download URL.

    Example: s3files presign documents/report.pdf --expiry 600 --download
    """
    presigned = open_files().presign_download(key, expires_in=expiry, force_download=download)
    if as_json:
        print_json(presigned)
    else:
        print(presigned.url)


@command
def cp(
    key: Annotated[str, typer.Argument(help="The object key.")],
    folder: Annotated[str, typer.Option(help="Folder to copy into.")],
    as_json: JsonOption = False,
) -> None:
    """Copy an object into another folder.

    Example: s3files cp documents/report.pdf --folder archives
    """
    copied = open_files().copy(key, folder=folder)
    if as_json:
        print_json(copied)
    else:
        console.print(f"[green]copied[/] {key} → {copied.key}", highlight=False)


@command
def rm(key: Annotated[str, typer.Argument(help="The object key.")]) -> None:
    """Delete an object.

    Example: s3files rm documents/report.pdf
    """
    open_files().delete(key)
    console.print(f"[green]deleted[/] {key}", highlight=False)
