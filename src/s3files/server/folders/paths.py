"""SQL for folder paths, shared by the files and folders repositories.

A folder is a ``/``-separated path ('' is the top level). A file is *in* ``P`` when its
``folder`` equals ``P`` and *under* ``P`` when it equals ``P`` or starts with ``P/``;
both are served by the ``(owner, folder)`` index (``LIKE 'P/%'`` with the pattern
operator class on PostgreSQL). Names are ordered byte-wise (``C`` on PostgreSQL, SQLite's
own ``BINARY``), so cursors and Python's ``str`` ordering agree on every database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, or_, true

from s3files.server.db.session import AsyncSession

__all__ = [
    "below",
    "binary",
    "child_segment",
    "dialect_of",
    "like_escape",
    "moved_path",
    "under",
]


def dialect_of(session: AsyncSession) -> str:
    """``postgresql`` or ``sqlite``: the database behind ``session``."""
    return session.get_bind().dialect.name


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def under(column: Any, path: str) -> ColumnElement[bool]:
    """``column`` is ``path`` or inside it (everything for the top level)."""
    if not path:
        return true()
    return or_(column == path, column.like(f"{like_escape(path)}/%", escape="\\"))


def below(column: Any, path: str) -> ColumnElement[bool]:
    """``column`` is strictly inside ``path`` (in a subfolder of it)."""
    if not path:
        return column != ""  # type: ignore[no-any-return]
    return column.like(f"{like_escape(path)}/%", escape="\\")  # type: ignore[no-any-return]


def binary(expression: Any, dialect: str) -> Any:
    """``expression`` compared byte-wise (code point order) on every database."""
    return expression.collate("C") if dialect == "postgresql" else expression


def child_segment(column: Any, path: str, dialect: str) -> Any:
    """The first segment of ``column`` after ``path/``: the subfolder of ``path`` that a
    deeper path lies in (``photos/2026/x`` under ``photos`` → ``2026``)."""
    rest = func.substr(column, len(path) + 2) if path else column
    if dialect == "postgresql":
        return func.split_part(rest, "/", 1)
    slash = func.instr(rest, "/")
    return case((slash > 0, func.substr(rest, 1, slash - 1)), else_=rest)


def moved_path(column: Any, source: str, target: str) -> Any:
    """``column`` (under ``source``) rewritten to lie under ``target`` instead."""
    return literal(target) + func.substr(column, len(source) + 1)
