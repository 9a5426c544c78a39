"""The ``accept`` lists of direct-upload fields (``image/*``, ``application/pdf``, ``.csv``),
checked on the server against a file's name and type, as browsers check them in the picker."""

from __future__ import annotations

__all__ = ["accepts", "parse_accept"]


def parse_accept(accept: str) -> tuple[str, ...]:
    """The entries of an ``accept`` attribute, lower case, empty ones dropped."""
    return tuple(item.strip().lower() for item in accept.split(",") if item.strip())


def accepts(accept: str, *, filename: str = "", content_type: str = "") -> bool:
    """True when the list is empty or one entry matches the type (``image/*``, exact) or
    the name's extension (``.pdf``)."""
    entries = parse_accept(accept)
    if not entries:
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    name = filename.lower()
    for entry in entries:
        if entry.startswith("."):
            if name.endswith(entry):
                return True
        elif entry.endswith("/*"):
            if kind.startswith(entry[:-1]):
                return True
        elif kind == entry:
            return True
    return False
