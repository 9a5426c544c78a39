"""``ApiError``: an error the service answers on purpose (status, stable code, detail).

Kept apart from ``errors.py`` (which installs the handlers and needs the web framework) so
that the service's layers, which the CLI also uses, load without it.
"""

from __future__ import annotations

__all__ = ["ApiError"]


class ApiError(Exception):
    """An error the service raises on purpose."""

    def __init__(
        self, status: int, error: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers
