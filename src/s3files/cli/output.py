"""Output that fits the terminal (80 columns when it is not one): names shortened in the
middle, aligned columns, JSON for scripts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from s3files.cli._common import console, human_size

__all__ = ["file_json", "fit", "long_line", "shorten", "width"]


def width() -> int:
    return max(40, console.width)


def shorten(text: str, room: int) -> str:
    """``text`` in at most ``room`` characters: the middle replaced by ``…``."""
    if len(text) <= room:
        return text
    if room <= 1:
        return "…"[:room]
    head = (room - 1) // 2
    tail = room - 1 - head
    return f"{text[:head]}…{text[len(text) - tail :]}" if tail else f"{text[:head]}…"


def fit(text: str) -> str:
    return shorten(text, width())


def long_line(size: int | None, modified: datetime | None, ident: str, name: str) -> str:
    """``     SIZE  YYYY-MM-DD HH:MM  ID8       NAME`` shortened to the width."""
    size_text = human_size(size) if size is not None else ""
    when = modified.astimezone().strftime("%Y-%m-%d %H:%M") if modified else ""
    prefix = f"{size_text:>10}  {when:16}  {ident[:8]:8}  "
    return prefix + shorten(name, width() - len(prefix))


def file_json(record: Any) -> dict[str, Any]:
    data: dict[str, Any] = {**record.raw, "path": record.path}
    return data
