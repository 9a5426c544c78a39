"""The shortcuts' result style: dicts with ``success`` and, on failure, ``error`` and ``code``."""

from __future__ import annotations

from typing import Any

__all__ = ["Result", "failure"]

Result = dict[str, Any]


def failure(message: str, code: str, **details: Any) -> Result:
    """``{"success": False, "error": message, "code": code, **details}``."""
    return {"success": False, "error": message, "code": code, **details}
