"""File commands in remote mode: every one goes through ``s3files.client`` and so obeys
the service's limits, owners and URLs. Files are named by id or by path
(``docs/report.pdf``: folder and name)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from s3files.cli._common import (
    CliOptions,
    command,
    console,
    err_console,
    fail,
    human_size,
    print_json,
)
from s3files.cli.output import file_json, fit, long_line, shorten, width
from s3files.cli.profiles import Mode
from s3files.cli.remote_transfer import (
    Outcome,
    UploadItem,
    download_many,
    report_failures,
    run_async_client,
    upload_many,
)
from s3files.client import AmbiguousPathError, Client, NotFoundError, RemoteFile
from s3files.client._base import as_file_id, split_path

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Refs = Annotated[list[str], typer.Argument(help="Ids or paths (folder/name).", show_default=False)]
Jobs = Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, help="Transfers in flight.")]


def current_mode() -> Mode:
    options = CliOptions.current()
    if options.mode is None or not options.mode.remote:
        fail("this command needs remote mode", 2)
    return options.mode


def open_client(*, quiet: bool = False) -> Client:
    """The client of this invocation's service; says where it goes (on standard error)."""
    mode = current_mode()
    if not mode.api_key:
        fail("no API key: set S3FILES_API_KEY or run `s3files login URL`", 2)
    if not quiet:
        err_console.print(f"[dim]{mode.describe()}[/]", highlight=False)
    assert mode.url is not None
    return Client(mode.url, mode.api_key)


def _folder_arg(text: str | None) -> str:
    return (text or "").strip("/")


def _exit_for(failed: int) -> None:
    if failed:
        raise typer.Exit(1)


# reading -------------------------------------------------------------------------------


@command
def ls(
    folder: Annotated[str | None, typer.Argument(help="The folder ('' or none: the top).")] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-R", help="Every file below.")] = False,
    long: Annotated[bool, typer.Option("--long", "-l", help="Size, date and id too.")] = False,
    trash: Annotated[bool, typer.Option("--trash", help="List the trash.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List a folder: its subfolders first, then its files, every page.

    Example: s3files ls docs -l
    """
    path = _folder_arg(folder)
    with open_client(quiet=as_json) as client:
        folders = [] if (recursive or trash) else list(client.list_folders(path))
        files = list(
            client.list_files(
                path if (path or not trash) else None,
                recursive=recursive or (trash and not path),
                deleted=trash,
            )
        )
        if not files and not folders and path and not trash:
            try:
                record = client.find_file(path)
            except AmbiguousPathError:  # ls of a repeated name lists every file of it
                folder_of, name = split_path(path)
                files = list(client.list_files(folder_of, name=name))
            except NotFoundError:
                if not any(f.path == path for f in client.list_folders(split_path(path)[0])):
                    fail(f"{path}: no such folder or file")
            else:
                files = [record]
    if as_json:
        print_json(
            {"folders": [vars_of(f) for f in folders], "files": [file_json(f) for f in files]}
        )
        return
    base = f"{path}/" if path else ""
    for item in folders:
        name = item.name + "/"
        console.print(
            long_line(item.bytes, None, "", name) if long else fit(name),
            highlight=False,
            markup=False,
        )
    for record in files:
        name = record.path[len(base) :] if record.path.startswith(base) else record.path
        line = (
            long_line(record.size, record.updated_at, str(record.id), name) if long else fit(name)
        )
        console.print(line, highlight=False, markup=False)
    if long:
        console.print(
            f"{len(folders)} folder(s), {len(files)} file(s)", style="dim", highlight=False
        )


def vars_of(item: Any) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__slots__}


@command
def tree(
    folder: Annotated[str | None, typer.Argument(help="Where to start ('' the top).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show folders and files as a tree.

    Example: s3files tree photos
    """
    path = _folder_arg(folder)
    with open_client(quiet=as_json) as client:
        files = list(client.list_files(path if path else None, recursive=True))
        folders: list[str] = []
        pending = [path]
        while pending:
            current = pending.pop()
            for child in client.list_folders(current):
                folders.append(child.path)
                pending.append(child.path)
    if as_json:
        print_json({"folders": sorted(folders), "files": [file_json(f) for f in files]})
        return
    children: dict[str, tuple[list[str], list[RemoteFile]]] = {}
    for name in [path, *folders]:
        children.setdefault(name, ([], []))
    for name in folders:
        parent = name.rpartition("/")[0]
        children.setdefault(parent, ([], []))[0].append(name)
    for record in files:
        children.setdefault(record.folder, ([], []))[1].append(record)
        parent, current = record.folder.rpartition("/")[0], record.folder
        while current and current != path and current not in children[parent][0]:
            children.setdefault(parent, ([], []))[0].append(current)
            children.setdefault(current, ([], []))
            parent, current = parent.rpartition("/")[0], parent
    console.print(fit((path or ".") + ("/" if path else "")), highlight=False, markup=False)

    def show(node: str, indent: str) -> None:
        subfolders, own = children.get(node, ([], []))
        entries: list[tuple[str, str]] = [
            (f.rpartition("/")[2] + "/", f) for f in sorted(set(subfolders))
        ]
        entries += [(r.name, "") for r in sorted(own, key=lambda r: r.name)]
        for index, (label, child) in enumerate(entries):
            last = index == len(entries) - 1
            branch = "└── " if last else "├── "
            console.print(shorten(indent + branch + label, width()), highlight=False, markup=False)
            if child:
                show(child, indent + ("    " if last else "│   "))

    show(path, "")
    console.print(f"{len(folders)} folder(s), {len(files)} file(s)", style="dim", highlight=False)


@command
def info(
    ref: Annotated[str, typer.Argument(help="Id or path.")], as_json: JsonOption = False
) -> None:
    """Show a file's record: size, type, checksum, folder, metadata.

    Example: s3files info docs/report.pdf
    """
    with open_client(quiet=as_json) as client:
        record = client.get_file(ref)
    if as_json:
        print_json(file_json(record))
        return
    for name, value in file_json(record).items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)
        console.print(f"{name:18} " + shorten(shown, width() - 19), highlight=False, markup=False)


@command
def presign(
    ref: Annotated[str, typer.Argument(help="Id or path.")],
    expiry: Annotated[int | None, typer.Option(min=1, help="Seconds the URL stays valid.")] = None,
    download: Annotated[bool, typer.Option("--download", help="Make browsers save it.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Print a short-lived download URL (the service's own URL or its store's).

    Example: s3files presign docs/report.pdf --expiry 600
    """
    with open_client(quiet=True) as client:
        link = client.presign(ref, expiry=expiry, force_download=download)
    if as_json:
        print_json({"url": link.url, "expires_at": link.expires_at, "expires_in": link.expires_in})
    else:
        print(link.url)


@command
def usage(as_json: JsonOption = False) -> None:
    """Your files, bytes, trash and quota on the service.

    Example: s3files usage
    """
    with open_client(quiet=as_json) as client:
        found = client.usage()
    if as_json:
        print_json({**vars_of(found), "quota": vars_of(found.quota)})
        return
    console.print(f"owner   {found.owner}", highlight=False, markup=False)
    console.print(
        f"files   {found.files} ({human_size(found.bytes)})", highlight=False, markup=False
    )
    console.print(f"quota   {quota_text(found)}", highlight=False, markup=False)
    console.print(
        f"trash   {found.trash_files} ({human_size(found.trash_bytes)})",
        highlight=False,
        markup=False,
    )


def quota_text(found: Any) -> str:
    """``at most 100 files and 10.0 GiB``, ``no limit``, or one of the two limits."""
    limits = []
    if found.quota.max_files is not None:
        limits.append(f"{found.quota.max_files} files")
    if found.quota.max_bytes is not None:
        limits.append(human_size(found.quota.max_bytes))
    return "at most " + " and ".join(limits) if limits else "no limit"


# changing ------------------------------------------------------------------------------


@command
def mkdir(
    paths: Annotated[list[str], typer.Argument(help="Folders to create.")],
    as_json: JsonOption = False,
) -> None:
    """Create folders (kept even while empty).

    Example: s3files mkdir photos/2027
    """
    made: list[tuple[Any, bool]] = []
    with open_client(quiet=as_json) as client:
        for path in paths:
            existed = _is_folder(client, _folder_arg(path))
            made.append((client.create_folder(_folder_arg(path)), existed))
    if as_json:
        print_json([{**vars_of(f), "existed": existed} for f, existed in made])
    else:
        for folder, existed in made:
            said = "exists already:" if existed else "created"
            console.print(fit(f"{said} {folder.path}/"), highlight=False, markup=False)


def _resolve_all(
    client: Client, refs: list[str], *, deleted: bool = False
) -> tuple[list[RemoteFile], list[Outcome]]:
    found, failed = [], []
    for ref in refs:
        try:
            found.append(
                client.find_file(ref.strip("/"), deleted=deleted)
                if as_file_id(ref) is None
                else client.get_file(ref)
            )
        except (NotFoundError, AmbiguousPathError) as exc:
            failed.append(Outcome(ref, error=str(exc)))
    return found, failed


@command
def rm(
    refs: Refs,
    recursive: Annotated[
        bool,
        typer.Option("--recursive", "-r", help="Arguments are folders: everything under them."),
    ] = False,
    hard: Annotated[
        bool, typer.Option("--hard", help="Delete for good, objects too (no trash).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Move files (or with -r whole folders) to the trash; --hard deletes them for good.

    Example: s3files rm docs/old.pdf 5b0c2f1e-8a4b-4d0e-9a51-2f8f2f7c1a10 ; s3files rm -r tmp --hard
    """
    done: list[dict[str, Any]] = []
    with open_client(quiet=as_json) as client:
        failed: list[Outcome] = []
        if recursive:
            for ref in refs:
                try:
                    summary = client.delete_folder(_folder_arg(ref), hard=hard)
                    done.append({"folder": summary.path, "files": summary.files})
                except NotFoundError as exc:
                    failed.append(Outcome(ref, error=str(exc)))
        else:
            records, failed = _resolve_all(client, refs)
            for outcome in failed:
                folder = (outcome.subject or "").strip("/")
                if any(f.path == folder for f in client.list_folders(split_path(folder)[0])):
                    outcome.error = f"{folder}: is a folder (use rm -r)"
            if records:
                result = client.batch("delete" if hard else "trash", [r.id for r in records])
                by_id = {r.id: r for r in records}
                for item in result.results:
                    path = by_id[item.id].path
                    if item.ok:
                        done.append({"path": path, "id": str(item.id)})
                    else:
                        failed.append(Outcome(path, error=f"{path}: {item.detail} ({item.error})"))
    verb = "deleted" if hard else "moved to the trash"
    if as_json:
        print_json({"done": done, "failed": [{"ref": o.subject, "error": o.error} for o in failed]})
    else:
        for entry in done:
            what = entry.get("path") or f"{entry['folder']}/ ({entry['files']} file(s))"
            console.print(fit(f"{verb} {what}"), highlight=False, markup=False)
        report_failures(failed, lambda text: err_console.print(text, highlight=False, markup=False))
    _exit_for(len(failed))


@command
def restore(
    refs: Refs,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Arguments are folders.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Take files (or with -r folders) out of the trash.

    Example: s3files restore docs/old.pdf
    """
    done: list[str] = []
    failed: list[Outcome] = []
    with open_client(quiet=as_json) as client:
        for ref in refs:
            try:
                if recursive:
                    summary = client.restore_folder(_folder_arg(ref))
                    done.append(f"{summary.path}/ ({summary.files} file(s))")
                else:
                    done.append(
                        client.restore_file(ref.strip("/") if as_file_id(ref) is None else ref).path
                    )
            except (NotFoundError, AmbiguousPathError) as exc:
                failed.append(Outcome(ref, error=str(exc)))
    if as_json:
        print_json(
            {"restored": done, "failed": [{"ref": o.subject, "error": o.error} for o in failed]}
        )
    else:
        for item in done:
            console.print(fit(f"restored {item}"), highlight=False, markup=False)
        report_failures(failed, lambda text: err_console.print(text, highlight=False, markup=False))
    _exit_for(len(failed))


def _is_folder(client: Client, path: str) -> bool:
    parent = split_path(path)[0]
    return any(f.path == path for f in client.list_folders(parent))


@command
def mv(
    sources: Annotated[
        list[str], typer.Argument(help="Files (id or path) or folders, then the destination.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Move or rename files and folders; only records change, objects stay where they are.

    DEST ending in '/' (or an existing folder) receives the sources under their names;
    otherwise a single source is renamed to DEST.

    Example: s3files mv docs/a.pdf archive/ ; s3files mv photos/2025 archive/photos-2025
    """
    if len(sources) < 2:
        fail("mv needs a source and a destination", 2)
    *refs, dest = sources
    moved: list[dict[str, Any]] = []
    failed: list[Outcome] = []
    with open_client(quiet=as_json) as client:
        into = dest.endswith("/") or _is_folder(client, dest.strip("/"))
        target = dest.strip("/")
        if len(refs) > 1 and not into:
            fail(f"{dest}: several sources need a folder as destination (end it with '/')", 2)
        for ref in refs:
            try:
                if as_file_id(ref) is None and _is_folder(client, ref.strip("/")):
                    name = ref.strip("/").rpartition("/")[2]
                    new = f"{target}/{name}" if into and target else (name if into else target)
                    summary = client.move_folder(ref.strip("/"), new)
                    moved.append(
                        {"from": ref.strip("/"), "to": summary.path, "files": summary.files}
                    )
                    continue
                record = client.get_file(ref.strip("/") if as_file_id(ref) is None else ref)
                if into:
                    updated = client.update_file(record.id, folder=target)
                else:
                    folder, name = split_path(target)
                    updated = client.update_file(record.id, folder=folder, name=name)
                moved.append({"from": record.path, "to": updated.path, "id": str(updated.id)})
            except (NotFoundError, AmbiguousPathError) as exc:
                failed.append(Outcome(ref, error=str(exc)))
    if as_json:
        print_json(
            {"moved": moved, "failed": [{"ref": o.subject, "error": o.error} for o in failed]}
        )
    else:
        for item in moved:
            console.print(fit(f"{item['from']} -> {item['to']}"), highlight=False, markup=False)
        report_failures(failed, lambda text: err_console.print(text, highlight=False, markup=False))
    _exit_for(len(failed))


@command
def cp(
    sources: Annotated[list[str], typer.Argument(help="Files (id or path), then the destination.")],
    as_json: JsonOption = False,
) -> None:
    """Copy files (new files with their own ids).

    DEST ending in '/' (or an existing folder) receives them under their names;
    otherwise a single file is copied to the path DEST.

    Example: s3files cp docs/a.pdf archive/ ; s3files cp docs/a.pdf docs/a-copy.pdf
    """
    if len(sources) < 2:
        fail("cp needs a source and a destination", 2)
    *refs, dest = sources
    copied: list[RemoteFile] = []
    failed: list[Outcome] = []
    with open_client(quiet=as_json) as client:
        into = dest.endswith("/") or _is_folder(client, dest.strip("/"))
        target = dest.strip("/")
        if len(refs) > 1 and not into:
            fail(f"{dest}: several sources need a folder as destination (end it with '/')", 2)
        records, failed = _resolve_all(client, refs)
        for outcome in failed:
            folder = (outcome.subject or "").strip("/")
            if as_file_id(folder) is None and folder and _is_folder(client, folder):
                outcome.error = f"{folder} is a folder: cp copies files (mv moves folders)"
        for record in records:
            if into:
                copied.append(client.copy_file(record.id, folder=target))
            else:
                folder, name = split_path(target)
                copy = client.copy_file(record.id, folder=folder)
                copied.append(
                    client.update_file(copy.id, name=name) if name != record.name else copy
                )
    if as_json:
        print_json(
            {
                "copied": [file_json(f) for f in copied],
                "failed": [{"ref": o.subject, "error": o.error} for o in failed],
            }
        )
    else:
        for record in copied:
            console.print(
                fit(f"copied to {record.path} ({record.id})"), highlight=False, markup=False
            )
        report_failures(failed, lambda text: err_console.print(text, highlight=False, markup=False))
    _exit_for(len(failed))


@command
def zip(
    folder: Annotated[str, typer.Argument(help="The folder ('' for every file).")],
    output: Annotated[
        str, typer.Option("-o", "--output", help="The ZIP file, or - for standard output.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Download a whole folder as one ZIP, streamed while the service builds it.

    Example: s3files zip photos -o photos.zip
    """
    path = _folder_arg(folder)
    with open_client(quiet=as_json or output == "-") as client:
        if output == "-":
            size = client.zip_folder(path, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return
        size = client.zip_folder(path, Path(output))
    if as_json:
        print_json({"folder": path, "output": output, "bytes": size})
    else:
        console.print(fit(f"wrote {output} ({human_size(size)})"), highlight=False, markup=False)


@command
def quota(
    owner: Annotated[str, typer.Argument(help="Whose quota.")],
    max_bytes: Annotated[
        int | None, typer.Option("--bytes", min=0, help="Largest total size.")
    ] = None,
    max_files: Annotated[int | None, typer.Option("--files", min=0, help="Most files.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show or set an owner's quota (needs an admin key).

    Example: s3files quota alice --bytes 10737418240 --files 100000
    """
    with open_client(quiet=as_json) as client:
        found = (
            client.set_quota(owner, max_bytes=max_bytes, max_files=max_files)
            if (max_bytes is not None or max_files is not None)
            else client.get_quota(owner)
        )
    if as_json:
        print_json({**vars_of(found), "quota": vars_of(found.quota)})
    else:
        console.print(
            f"{found.owner}: {found.files} file(s), {human_size(found.bytes)}; "
            f"quota: {quota_text(found)}",
            highlight=False,
            markup=False,
        )


# transfers -----------------------------------------------------------------------------


def collect_uploads(paths: list[str], folder: str) -> list[UploadItem]:
    """Files to upload and where; a folder named with a trailing '/' sends its contents,
    without one the folder itself (as rsync does)."""
    items: list[UploadItem] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            base = path if text.endswith("/") else path.parent
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = child.parent.relative_to(base).as_posix()
                relative = "" if relative == "." else relative
                target = "/".join(p for p in (folder, relative) if p)
                items.append(UploadItem(child, target, child.name))
        elif path.is_file():
            items.append(UploadItem(path, folder, path.name))
        else:
            fail(f"{text}: no such file or folder", 1)
    return items


@command
def upload(
    paths: Annotated[list[str], typer.Argument(help="Files or folders.", show_default=False)],
    to: Annotated[
        str | None,
        typer.Option("--to", "--folder", help="The folder to put them in (default: the top)."),
    ] = None,
    jobs: Jobs = 8,
    as_json: JsonOption = False,
) -> None:
    """Upload files and folders (large ones in parallel parts, resumable).

    `dir` goes to FOLDER/dir/..., `dir/` puts dir's contents in FOLDER (the trailing-slash
    rule of rsync). Large files go straight to the store in
    parallel parts; an interrupted upload resumes when run again.

    Example: s3files upload report.pdf photos/ --to docs
    """
    mode = current_mode()
    items = collect_uploads(paths, _folder_arg(to))
    if not items:
        fail("nothing to upload", 1)
    if not as_json:
        err_console.print(f"[dim]{mode.describe()}[/]", highlight=False)
    outcomes = run_async_client(
        mode, lambda client: upload_many(client, items, jobs=jobs, quiet=as_json)
    )
    _print_transfers(outcomes, "uploaded", as_json)


def _print_transfers(outcomes: list[Outcome], verb: str, as_json: bool) -> None:
    outcomes = sorted(outcomes, key=lambda o: o.subject)
    failed = [o for o in outcomes if o.error]
    if as_json:
        print_json(
            [
                {"path": o.subject, "local": str(o.local) if o.local else None, "error": o.error}
                if o.error
                else {**file_json(o.file), "local": str(o.local) if o.local else None}
                for o in outcomes
            ]
        )
    else:
        report_failures(failed, lambda text: err_console.print(text, highlight=False, markup=False))
        total = sum(o.file.size for o in outcomes if o.file and not o.error)
        console.print(
            f"{verb} {len(outcomes) - len(failed)} file(s), {human_size(total)}"
            + (f"; {len(failed)} failed" if failed else ""),
            highlight=False,
            markup=False,
        )
    _exit_for(len(failed))


@command
def download(
    refs: Refs,
    recursive: Annotated[
        bool,
        typer.Option("--recursive", "-r", help="Arguments are folders: everything under them."),
    ] = False,
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            help="A folder (created), a file name (one file), or - for standard output.",
        ),
    ] = None,
    jobs: Jobs = 8,
    as_json: JsonOption = False,
) -> None:
    """Download files by id or path, or with -r whole folders.

    Folders are kept as subfolders of -o. An interrupted download resumes from its
    .NAME.part file.

    Example: s3files download docs/report.pdf -o out/ ; s3files download -r photos -o backup
    """
    mode = current_mode()
    to_stdout = output == "-"
    with open_client(quiet=as_json or to_stdout) as client:
        failed: list[Outcome] = []
        plan: list[tuple[RemoteFile, Path]] = []
        if recursive:
            if to_stdout:
                fail("-o - takes one file, not folders", 2)
            base = Path(output or ".")
            for ref in refs:
                folder = _folder_arg(ref)
                top = folder.rpartition("/")[0]
                records = list(client.list_files(folder or None, recursive=True))
                if not records and folder and not _is_folder(client, folder):
                    failed.append(Outcome(ref, error=f"{folder}: no such folder"))
                for record in records:
                    relative = record.path[len(top) + 1 :] if top else record.path
                    plan.append((record, base / relative))
        else:
            records, failed = _resolve_all(client, refs)
            if to_stdout:
                if len(refs) != 1:
                    fail("-o - takes exactly one file", 2)
                for record in records:
                    client.download(record, sys.stdout.buffer)
                    sys.stdout.buffer.flush()
                _exit_for(
                    report_failures(
                        failed, lambda t: err_console.print(t, highlight=False, markup=False)
                    )
                )
                return
            into_dir = (
                output is None or output.endswith("/") or Path(output).is_dir() or len(refs) > 1
            )
            for record in records:
                target = (
                    (Path(output or ".") / record.name) if into_dir else Path(output or record.name)
                )
                plan.append((record, target))
    outcomes = run_async_client(mode, lambda c: download_many(c, plan, jobs=jobs, quiet=as_json))
    _print_transfers([*outcomes, *failed], "downloaded", as_json)
