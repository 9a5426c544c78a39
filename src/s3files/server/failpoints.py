"""Fault injection for crash tests: the process dies at a named point, as a power cut would.

Off in production: only a process started with ``S3FILES_FAILPOINTS_ENABLED=1`` *and*
``S3FILES_FAILPOINTS=upload.after_store_write[,...]`` arms any point. The variables are
read once, when the app is built; nothing a request sends can arm one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Failpoints"]


@dataclass(frozen=True, slots=True)
class Failpoints:
    """The armed points (none by default)."""

    armed: frozenset[str] = frozenset()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Failpoints:
        source = os.environ if environ is None else environ
        if source.get("S3FILES_FAILPOINTS_ENABLED") != "1":
            return cls()
        names = source.get("S3FILES_FAILPOINTS", "")
        return cls(frozenset(name.strip() for name in names.split(",") if name.strip()))

    def hit(self, name: str) -> None:
        """Exit at once (no cleanup, no flush) if ``name`` is armed."""
        if name in self.armed:
            os._exit(86)
