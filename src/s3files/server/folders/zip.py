"""ZIP downloads of a folder or of chosen files, streamed while they are built.

zipstream-ng writes the archive as its members' bytes arrive: no temporary file, no
member held in memory (the service holds one chunk of the store's stream at a time), and
Zip64 records wherever a member or an offset passes 4 GiB. Members are stored, not
deflated (most files people zip are compressed already, and the archive's exact size is
then known before the first byte: the response has a ``Content-Length``).

Names inside are the display names under their folder paths, each segment cleaned so that
no name is absolute or climbs out with ``..``; names that would collide (also by case, as
Windows and macOS compare them) get `` (2)``, `` (3)`` before the extension.

The records are read in one short transaction before the first byte is sent; the stream
holds no database session (``server/db/session.py``) and a transfer slot while it runs.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import anyio
import zipstream  # type: ignore[import-untyped]

from s3files.naming import file_extension
from s3files.server.db.models import FileRecord

__all__ = ["ZipMember", "ZipPlan", "arcname_segment", "plan_zip"]


@dataclass(frozen=True, slots=True)
class ZipMember:
    name: str  # the path inside the archive
    key: str
    size: int
    modified: datetime


def arcname_segment(text: str) -> str:
    """One safe path segment of a name inside the archive."""
    kept = "".join(
        "_" if char in "/\\" else char
        for char in text
        if unicodedata.category(char) not in {"Cc", "Cf", "Cs"}
    ).strip()
    return "_" if kept in {"", ".", ".."} else kept


def _unique(path: str, taken: set[str]) -> str:
    if path.casefold() not in taken:
        taken.add(path.casefold())
        return path
    folder, slash, name = path.rpartition("/")
    ext = file_extension(name)
    stem = name[: -len(ext) - 1] if ext else name
    suffix = f".{name[-len(ext) :]}" if ext else ""
    number = 2
    while True:
        candidate = f"{folder}{slash}{stem} ({number}){suffix}"
        if candidate.casefold() not in taken:
            taken.add(candidate.casefold())
            return candidate
        number += 1


def plan_zip(records: Sequence[FileRecord], *, relative_to: str | None) -> list[ZipMember]:
    """Members for ``records``: under their folder relative to ``relative_to``'s parent
    (a folder's zip starts with the folder's own name), or under their full folder path."""
    base = ""
    if relative_to:
        base = relative_to.rpartition("/")[0]
    taken: set[str] = set()
    members = []
    for record in sorted(records, key=lambda r: (r.folder, r.original_filename, str(r.id))):
        folder = record.folder
        if base and (folder == base or folder.startswith(base + "/")):
            folder = folder[len(base) :].lstrip("/")
        segments = [arcname_segment(s) for s in folder.split("/") if s]
        segments.append(arcname_segment(record.original_filename))
        members.append(
            ZipMember(
                name=_unique("/".join(segments), taken),
                key=record.key,
                size=record.size,
                modified=record.updated_at,
            )
        )
    return members


class ZipPlan:
    """An archive of ``members``: its exact size, and its bytes as an async stream."""

    def __init__(
        self, members: Sequence[ZipMember], read: Callable[[str], Iterator[bytes]]
    ) -> None:
        self.archive = zipstream.ZipStream(compress_type=zipstream.ZIP_STORED, sized=True)
        for member in members:
            self.archive.add(_lazy(read, member.key), member.name, size=member.size)
        self.size = len(self.archive)

    async def stream(self) -> AsyncIterator[bytes]:
        """The archive, a chunk at a time, each built on a worker thread (the store is
        read there); the members' streams are closed however the stream ends."""
        chunks = iter(self.archive)
        try:
            while True:
                chunk = await anyio.to_thread.run_sync(next, chunks, None)
                if chunk is None:
                    return
                yield bytes(chunk)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(chunks.close)


def _lazy(read: Callable[[str], Iterator[bytes]], key: str) -> Iterator[bytes]:
    """The object's bytes, opened only when the archive reaches this member."""
    yield from read(key)
