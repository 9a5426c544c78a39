"""Many uploads or downloads at once through ``AsyncClient``, with one progress bar, and
what each of them did (a failure is reported, never stops the others)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from s3files._errors import S3FilesError
from s3files.cli._common import error_text
from s3files.cli.profiles import Mode
from s3files.client import AsyncClient, RemoteFile, UnauthorizedError

__all__ = ["Outcome", "UploadItem", "download_many", "run_async_client", "upload_many"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class UploadItem:
    path: Path
    folder: str
    name: str

    @property
    def remote_path(self) -> str:
        return f"{self.folder}/{self.name}" if self.folder else self.name


@dataclass(slots=True)
class Outcome:
    """One transfer: what it was about, the file (if it worked) or the error."""

    subject: str
    file: RemoteFile | None = None
    error: str | None = None
    local: Path | None = None


def bar(*, total: int, quiet: bool) -> Progress:
    """Bytes, speed and time left, on standard error; gone when done."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=quiet or not sys.stderr.isatty(),
    )
    return progress


def run_async_client(mode: Mode, work: Callable[[AsyncClient], Awaitable[_T]]) -> _T:
    async def main() -> _T:
        assert mode.url is not None
        async with AsyncClient(mode.url, mode.api_key) as client:
            return await work(client)

    return asyncio.run(main())


async def upload_many(
    client: AsyncClient, items: Iterable[UploadItem], *, jobs: int, quiet: bool
) -> list[Outcome]:
    items = list(items)
    total = sum(item.path.stat().st_size for item in items)
    outcomes: list[Outcome] = []
    limiter = asyncio.Semaphore(jobs)
    with bar(total=total, quiet=quiet) as progress:
        task = progress.add_task(f"upload {len(items)} file(s)", total=total)

        def advance(size: int) -> None:
            progress.update(task, advance=size)

        async def one(item: UploadItem) -> None:
            async with limiter:
                outcome = Outcome(item.remote_path, local=item.path)
                try:
                    outcome.file = await client.upload(
                        item.path, filename=item.name, folder=item.folder or None, progress=advance
                    )
                except UnauthorizedError:
                    raise  # the key is refused: every other transfer would be too
                except (S3FilesError, OSError) as exc:
                    outcome.error = error_text(exc) if isinstance(exc, S3FilesError) else str(exc)
                outcomes.append(outcome)

        await asyncio.gather(*(one(item) for item in items))
    return outcomes


async def download_many(
    client: AsyncClient,
    items: Iterable[tuple[RemoteFile, Path]],
    *,
    jobs: int,
    quiet: bool,
) -> list[Outcome]:
    items = list(items)
    total = sum(record.size for record, _ in items)
    outcomes: list[Outcome] = []
    limiter = asyncio.Semaphore(jobs)
    with bar(total=total, quiet=quiet) as progress:
        task = progress.add_task(f"download {len(items)} file(s)", total=total)

        def advance(size: int) -> None:
            progress.update(task, advance=size)

        async def one(record: RemoteFile, target: Path) -> None:
            async with limiter:
                outcome = Outcome(record.path, file=record, local=target)
                try:
                    await client.download(record.id, target, progress=advance)
                except UnauthorizedError:
                    raise  # the key is refused: every other transfer would be too
                except (S3FilesError, OSError) as exc:
                    outcome.error = error_text(exc) if isinstance(exc, S3FilesError) else str(exc)
                outcomes.append(outcome)

        await asyncio.gather(*(one(record, target) for record, target in items))
    return outcomes


def report_failures(outcomes: Iterable[Outcome], echo: Callable[[str], Any]) -> int:
    failed = [outcome for outcome in outcomes if outcome.error]
    for outcome in failed:
        echo(f"error: {outcome.error}")
    return len(failed)
