"""``s3files sync SRC DST``: make DST like SRC, one side a local folder and the other a
remote folder written with a leading colon (``:photos``; ``:`` alone is the top).

Files are compared by size, then by SHA-256 (the service stores each file's); only what
differs is sent. The plan is printed before anything runs; ``--dry-run`` stops there.
Changed remote files are uploaded anew and their old version goes to the trash;
``--delete`` removes what DST has and SRC lacks (remote: to the trash)."""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from s3files._errors import S3FilesError
from s3files.cli._common import (
    command,
    console,
    err_console,
    error_text,
    fail,
    human_size,
    print_json,
)
from s3files.cli.output import fit
from s3files.cli.remote_files import current_mode
from s3files.cli.remote_transfer import (
    Outcome,
    UploadItem,
    download_many,
    report_failures,
    run_async_client,
    upload_many,
)
from s3files.client import AsyncClient, RemoteFile

__all__ = ["sync"]


class FolderMissing(Exception):
    """The remote folder to sync from does not exist (no files, no created folder)."""


@dataclass
class Plan:
    """What a sync will do, by relative path."""

    send: list[tuple[str, str]] = field(default_factory=list)  # (path, "new" | "changed")
    delete: list[str] = field(default_factory=list)
    unchanged: int = 0
    duplicates: dict[str, list[str]] = field(default_factory=dict)  # path -> remote ids

    def lines(self, upward: bool) -> list[str]:
        verb = "upload" if upward else "download"
        return (
            [f"{verb} {path} ({why})" for path, why in self.send]
            + [f"delete {path}" for path in self.delete]
            + [
                f"skip {path} ({len(ids)} files on the service have this path: {', '.join(ids)})"
                for path, ids in self.duplicates.items()
            ]
        )


def _selected(relative: str, includes: list[str], excludes: list[str]) -> bool:
    """Excluded if it matches an --exclude glob, unless it matches an --include glob."""
    if any(fnmatch.fnmatch(relative, glob) for glob in includes):
        return True
    return not any(
        fnmatch.fnmatch(relative, glob) or fnmatch.fnmatch(relative.rpartition("/")[2], glob)
        for glob in excludes
    )


def _local_files(root: Path, includes: list[str], excludes: list[str]) -> dict[str, Path]:
    found = {}
    if root.exists():
        for path in root.rglob("*"):
            if path.is_file() and not (path.name.startswith(".") and path.name.endswith(".part")):
                relative = path.relative_to(root).as_posix()
                if _selected(relative, includes, excludes):
                    found[relative] = path
    return found


def _sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            hasher.update(chunk)
    return hasher.hexdigest()


def _same(local: Path, remote: RemoteFile) -> bool:
    return local.stat().st_size == remote.size and (
        remote.sha256 is None or _sha256(local) == remote.sha256
    )


async def _remote_files(
    client: AsyncClient, folder: str, includes: list[str], excludes: list[str]
) -> dict[str, list[RemoteFile]]:
    found: dict[str, list[RemoteFile]] = {}
    base = f"{folder}/" if folder else ""
    async for record in client.list_files(folder or None, recursive=True):
        relative = record.path[len(base) :]
        if _selected(relative, includes, excludes):
            found.setdefault(relative, []).append(record)
    return found


def _plan(
    local: dict[str, Path], remote: dict[str, list[RemoteFile]], *, upward: bool, delete: bool
) -> Plan:
    plan = Plan()
    plan.duplicates = {
        relative: [str(r.id) for r in records]
        for relative, records in sorted(remote.items())
        if len(records) > 1  # a name can repeat in a folder: which one is meant is unknown
    }
    source, target = (local, remote) if upward else (remote, local)
    for relative in sorted(source):
        if relative in plan.duplicates:
            continue
        if relative not in target:
            plan.send.append((relative, "new"))
        elif _same(local[relative], remote[relative][0]):
            plan.unchanged += 1
        else:
            plan.send.append((relative, "changed"))
    if delete:
        plan.delete = sorted(
            relative
            for relative in target
            if relative not in source and relative not in plan.duplicates
        )
    return plan


@command
def sync(
    source: Annotated[str, typer.Argument(help="A local folder, or :FOLDER on the service.")],
    destination: Annotated[str, typer.Argument(help="A local folder, or :FOLDER.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Print the plan only.")] = False,
    delete: Annotated[bool, typer.Option("--delete", help="Remove what SRC lacks.")] = False,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Skip paths matching this glob (repeatable)."),
    ] = None,
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help="Keep paths matching this glob even if excluded."),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, max=64, help="Transfers in flight.")
    ] = 8,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Make DST like SRC, in either direction; compares size and SHA-256.

    Example: s3files sync ./photos :photos --delete --exclude '*.tmp'
    """
    mode = current_mode()
    upward = destination.startswith(":")
    if upward == source.startswith(":"):
        fail("one side must be a local folder and the other :FOLDER (the service)", 2)
    remote_folder = (destination if upward else source)[1:].strip("/")
    local_root = Path(source if upward else destination)
    if upward and not local_root.is_dir():
        fail(f"{local_root}: no such folder", 1)
    includes, excludes = include or [], exclude or []
    if not as_json:
        err_console.print(f"[dim]{mode.describe()}[/]", highlight=False)

    async def work(client: AsyncClient) -> tuple[Plan, list[Outcome]]:
        local = _local_files(local_root, includes, excludes)
        remote = await _remote_files(client, remote_folder, includes, excludes)
        if not upward and not remote and remote_folder:
            parent = remote_folder.rpartition("/")[0]
            if not [f async for f in client.list_folders(parent) if f.path == remote_folder]:
                raise FolderMissing(f":{remote_folder}: no such folder on the service")
        plan = await asyncio.to_thread(_plan, local, remote, upward=upward, delete=delete)
        if not as_json:
            for line in plan.lines(upward):
                console.print(fit(line), highlight=False, markup=False)
            console.print(
                f"{len(plan.send)} to {'upload' if upward else 'download'}, "
                f"{len(plan.delete)} to delete, {plan.unchanged} unchanged"
                + (f", {len(plan.duplicates)} skipped (several files)" if plan.duplicates else "")
                + (" (dry run)" if dry_run else ""),
                highlight=False, markup=False,
            )  # fmt: skip
        if dry_run:
            return plan, []
        if upward:
            items = []
            for relative, _ in plan.send:
                folder, _, name = f"{remote_folder}/{relative}".strip("/").rpartition("/")
                items.append(UploadItem(local[relative], folder, name))
            outcomes = await upload_many(client, items, jobs=jobs, quiet=as_json)
            replaced = [remote[r] for r, why in plan.send if why == "changed"]
            stale = [old.id for olds in replaced for old in olds]
            stale += [old.id for r in plan.delete for old in remote[r]]
            if stale:
                outcome = await client.batch("trash", stale)
                outcomes += [
                    Outcome(str(item.id), error=f"{item.id}: {item.detail} ({item.error})")
                    for item in outcome.results
                    if not item.ok
                ]
        else:
            targets = [(remote[r][0], local_root / r) for r, _ in plan.send]
            outcomes = await download_many(client, targets, jobs=jobs, quiet=as_json)
            for relative in plan.delete:
                try:
                    local[relative].unlink()
                except OSError as exc:
                    outcomes.append(Outcome(relative, error=f"{relative}: {exc}"))
        return plan, outcomes

    try:
        plan, outcomes = run_async_client(mode, work)
    except S3FilesError as exc:
        fail(error_text(exc))
    except FolderMissing as exc:
        fail(str(exc))
    failed = [o for o in outcomes if o.error]
    if as_json:
        result: dict[str, Any] = {
            "direction": "upload" if upward else "download",
            "dry_run": dry_run,
            "send": [{"path": p, "why": why} for p, why in plan.send],
            "delete": plan.delete,
            "unchanged": plan.unchanged,
            "skipped": [{"path": p, "ids": ids} for p, ids in plan.duplicates.items()],
            "failed": [{"path": o.subject, "error": o.error} for o in failed],
        }
        print_json(result)
    elif not dry_run:
        report_failures(failed, lambda text: err_console.print(text, highlight=False, markup=False))
        sent = sum(o.file.size for o in outcomes if o.file and not o.error)
        console.print(
            f"done: {len(plan.send) - len([o for o in failed if o.file or o.local])} "
            f"{'sent' if upward else 'received'} "
            f"({human_size(sent)}), {len(plan.delete)} deleted"
            + (f", {len(failed)} failed" if failed else ""),
            highlight=False, markup=False,
        )  # fmt: skip
    if failed:
        raise typer.Exit(1)
