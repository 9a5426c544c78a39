"""Where the CLI works: **remote** (a service URL and an API key, from a profile that
``s3files login`` saved, or from ``S3FILES_URL``/``S3FILES_API_KEY``) or **local** (the
service's own store and database, on the server's machine).

The mode is chosen once per invocation, in this order: ``--local`` → local; ``--profile
NAME`` → that profile; ``S3FILES_URL`` → remote; a saved default profile → remote;
otherwise local. Profiles live in ``$XDG_CONFIG_HOME/s3files/profiles.json`` (by default
``~/.config/s3files/``), readable by the user only (0600, folder 0700).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Mode", "ModeError", "Profile", "ProfileStore", "config_dir", "resolve_mode"]


class ModeError(Exception):
    """The options or the environment name no usable mode (a usage error, exit 2)."""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    url: str
    api_key: str


@dataclass(frozen=True, slots=True)
class Mode:
    """Remote (``url``, ``api_key``) or local; ``source`` says what chose it."""

    remote: bool
    source: str
    url: str | None = None
    api_key: str | None = None
    profile: str | None = None
    key_source: str | None = None  # "S3FILES_API_KEY" or "profile 'NAME'"

    def describe(self) -> str:
        if self.remote:
            where = f"profile {self.profile!r}" if self.profile else self.source
            if self.key_source and self.key_source != where:
                where = f"{where}, key from {self.key_source}"
            return f"remote {self.url} ({where})"
        return f"local ({self.source})"


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "s3files"


class ProfileStore:
    """The saved profiles (one JSON file, 0600) and which one is the default."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "profiles.json"

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"default": None, "profiles": {}}
        except (OSError, ValueError) as exc:
            raise ModeError(f"{self.path} is unreadable ({exc}); fix or delete it") from exc
        if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
            raise ModeError(f"{self.path} is not a profiles file; fix or delete it")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(data, handle, indent=2)
        os.chmod(temporary, 0o600)
        temporary.replace(self.path)

    def get(self, name: str | None = None) -> Profile | None:
        """The named profile, or the default one; None if there is none."""
        data = self._read()
        name = name or data.get("default")
        entry = data["profiles"].get(name) if name else None
        if not isinstance(entry, dict) or name is None:
            return None
        return Profile(name, str(entry["url"]), str(entry["api_key"]))

    def names(self) -> tuple[list[str], str | None]:
        data = self._read()
        return sorted(data["profiles"]), data.get("default")

    def save(self, profile: Profile, *, make_default: bool) -> None:
        data = self._read()
        data["profiles"][profile.name] = {"url": profile.url, "api_key": profile.api_key}
        if make_default or not data.get("default"):
            data["default"] = profile.name
        self._write(data)

    def remove(self, name: str) -> bool:
        data = self._read()
        if data["profiles"].pop(name, None) is None:
            return False
        if data.get("default") == name:
            data["default"] = next(iter(sorted(data["profiles"])), None)
        self._write(data)
        return True


def resolve_mode(
    *, local: bool, profile: str | None, environ: Mapping[str, str] | None = None
) -> Mode:
    """The mode of this invocation (see the module's docstring for the order)."""
    env = os.environ if environ is None else environ
    if local and profile:
        raise ModeError("--local and --profile contradict each other: choose one")
    if local:
        return Mode(remote=False, source="--local")
    store = ProfileStore(config_dir(env))
    key_override = env.get("S3FILES_API_KEY") or None

    def key_of(saved: Profile | None) -> tuple[str | None, str | None]:
        if key_override:
            return key_override, "S3FILES_API_KEY"
        return (saved.api_key, f"profile {saved.name!r}") if saved else (None, None)

    if profile:
        saved = store.get(profile)
        if saved is None:
            raise ModeError(
                f"no profile {profile!r}: create it with `s3files login URL --profile {profile}`"
            )
        key, key_source = key_of(saved)
        return Mode(True, f"profile {profile!r}", saved.url, key, profile, key_source)
    if env.get("S3FILES_URL"):
        url = env["S3FILES_URL"].rstrip("/")
        saved = store.get()
        key, key_source = key_of(saved if saved and saved.url == url else None)
        return Mode(True, "S3FILES_URL", url, key, key_source=key_source)
    saved = store.get()
    if saved is not None:
        key, key_source = key_of(saved)
        return Mode(True, f"profile {saved.name!r}", saved.url, key, saved.name, key_source)
    return Mode(remote=False, source="no profile saved")


def mode_options(argv: list[str]) -> tuple[bool, str | None]:
    """``--local`` and ``--profile NAME`` among the options before the command."""
    local, profile = False, None
    index = 0
    while index < len(argv):
        arg = argv[index]
        if not arg.startswith("-"):
            break
        if arg == "--local":
            local = True
        elif arg == "--profile" and index + 1 < len(argv):
            profile = argv[index + 1]
            index += 1
        elif arg.startswith("--profile="):
            profile = arg.split("=", 1)[1]
        index += 1
    return local, profile
