"""ZIP downloads of a folder or of chosen files, streamed while they are built.

zipstream-ng writes the archive as its members' bytes arrive: no temporary file, no
member held in memory (the service holds one chunk of the store's stream at a time), and
Zip64 records wherever a member or an offset passes 4 GiB. Members are stored, not
deflated (most files people zip are compressed already). Each object is opened right
before its entry: a file deleted for good meanwhile is left out and named in a last
``MISSING.txt`` entry, so the archive's size is known only at its end (no
``Content-Length``).

zipstream-ng pulls each member's bytes from a blocking iterator inside its own generator,
so the archive is built on a worker thread, as the store's reads are (the async twin
would only add a second thread hop per chunk: ``AsyncFileStore.iter_bytes`` runs each
read on a worker thread too).

Names inside are the display names under their folder paths, each segment cleaned so that
no name is absolute or climbs out with ``..``; names that would collide (also by case, as
Windows and macOS compare them) get `` (2)``, `` (3)`` before the extension.

The records are read in one short transaction before the first byte is sent; the stream
holds no database session (``server/db/session.py``) and a transfer slot while it runs.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import anyio
import zipstream  # type: ignore[import-untyped]

from s3files._errors import ObjectNotFoundError
from s3files.naming import file_extension
from s3files.server.db.models import FileRecord
from s3files.server.logs import log_event

__all__ = ["MISSING_NAME", "ZipMember", "ZipPlan", "arcname_segment", "plan_zip"]


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


MISSING_NAME = "MISSING.txt"
_COALESCE = 64 * 1024  # headers and small members go out together, not one hop each


class ZipPlan:
    """An archive of ``members`` as an async stream of bytes.

    Each member's object is opened right before its entry is written, so a file deleted
    for good while the archive streams has no entry at all (never a truncated one): it is
    skipped and named in a last entry, ``MISSING.txt``. The archive's size is therefore
    only known at its end: the response is chunked, with no ``Content-Length``.
    """

    def __init__(
        self, members: Sequence[ZipMember], read: Callable[[str], Iterator[bytes]]
    ) -> None:
        self.members = list(members)
        self._read = read
        self.missing: list[ZipMember] = []

    async def stream(self) -> AsyncIterator[bytes]:
        """The archive, a chunk at a time, each built on a worker thread (zipstream-ng and
        the store's reads are blocking); the member being read is closed however the
        stream ends."""
        chunks = _coalesced(self._build())
        try:
            while True:
                chunk = await anyio.to_thread.run_sync(next, chunks, None)
                if chunk is None:
                    return
                yield chunk
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(chunks.close)

    def _build(self) -> Iterator[bytes]:
        archive = zipstream.ZipStream(compress_type=zipstream.ZIP_STORED)
        for member in self.members:
            opened = self._open(member)
            if opened is None:
                self.missing.append(member)
                continue
            archive.add(opened, member.name, size=member.size)
            yield from archive.all_files()
        if self.missing:
            taken = {member.name.casefold() for member in self.members}
            archive.add(self._notice(), _unique(MISSING_NAME, taken))
            yield from archive.all_files()
        yield from archive.footer()

    def _open(self, member: ZipMember) -> Iterator[bytes] | None:
        """The member's bytes with the first chunk already read (so the object is known to
        be there before its entry starts); None if the object is gone."""
        try:
            chunks = self._read(member.key)
            first = next(chunks, b"")
        except ObjectNotFoundError:
            log_event("zip_member_missing", key=member.key, name=member.name)
            return None
        return _rest(first, chunks)

    def _notice(self) -> bytes:
        lines = [
            "These files were deleted while this archive was being made:",
            *(f"  {member.name}" for member in self.missing),
        ]
        return ("\n".join(lines) + "\n").encode()


def _rest(first: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``first`` then the rest of ``chunks``; the store's stream is closed at the end."""
    try:
        if first:
            yield first
        yield from chunks
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _coalesced(pieces: Iterator[bytes]) -> Generator[bytes, None, None]:
    """``pieces`` joined until at least 64 KiB (a big piece goes out as it is)."""
    pending: list[bytes] = []
    size = 0
    try:
        for piece in pieces:
            if not pending and len(piece) >= _COALESCE:
                yield bytes(piece)  # a store's chunk, passed on without a copy
                continue
            pending.append(bytes(piece))
            size += len(piece)
            if size >= _COALESCE:
                yield b"".join(pending)
                pending, size = [], 0
        if pending:
            yield b"".join(pending)
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()
