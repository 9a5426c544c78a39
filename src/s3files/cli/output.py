"""Output that fits the terminal (80 columns when it is not one): names shortened in the
middle, aligned columns, JSON for scripts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.cells import cell_len

from s3files.cli._common import console, human_size

__all__ = ["file_json", "fit", "long_line", "shorten", "width"]


def width() -> int:
    return max(40, console.width)


def shorten(text: str, room: int) -> str:
    """``text`` in at most ``room`` terminal cells (an emoji takes two): the middle
    replaced by ``…``."""
    if cell_len(text) <= room:
        return text
    if room <= 1:
        return "…"[:room]
    head_room = (room - 1) // 2
    tail_room = room - 1 - head_room
    return _head(text, head_room) + "…" + _head(text[::-1], tail_room)[::-1]


def _head(text: str, room: int) -> str:
    """The longest start of ``text`` that takes at most ``room`` cells."""
    used = 0
    for index, character in enumerate(text):
        used += cell_len(character)
        if used > room:
            return text[:index]
    return text


def fit(text: str) -> str:
    return shorten(text, width())


def long_line(size: int | None, modified: datetime | None, ident: str, name: str) -> str:
    """``     SIZE  YYYY-MM-DD HH:MM  ID  NAME`` shortened to the width; the whole id, so
    that it can be given to any command."""
    size_text = human_size(size) if size is not None else ""
    when = modified.astimezone().strftime("%Y-%m-%d %H:%M") if modified else ""
    prefix = f"{size_text:>10}  {when:16}  {ident:36}  "
    return prefix + shorten(name, width() - len(prefix))


def file_json(record: Any) -> dict[str, Any]:
    data: dict[str, Any] = {**record.raw, "path": record.path}
    return data
