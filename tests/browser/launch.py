"""Starting Debian's Chromium under Playwright, and saying exactly why when it cannot start.

Two programs must run: Playwright's driver (the Node.js binary bundled in the playwright
wheel) and /usr/bin/chromium. On a minimal system either can fail for a shared library
that is not installed (the driver needs libatomic.so.1, Debian package libatomic1); the
error then names the program, what it printed and the libraries the dynamic loader cannot
find, rather than guessing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# Debian's /usr/bin/chromium is a shell script that starts this binary.
CHROMIUM_BINARY = "/usr/lib/chromium/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FIX = "bash scripts/test.sh installs what the tests need (as root)"


class BrowserUnavailable(RuntimeError):
    """The browser tests cannot run here; the message says which program failed and why."""


def start_chromium() -> tuple[Any, Any]:
    """(playwright, browser): Playwright's sync API started, Debian's Chromium launched."""
    if not Path(CHROMIUM).exists():
        raise BrowserUnavailable(f"{CHROMIUM} does not exist (Debian package chromium); {FIX}")
    from playwright.sync_api import Error, sync_playwright

    try:
        playwright = sync_playwright().start()
    except Exception as error:  # the driver died: Playwright only says the pipe closed
        raise BrowserUnavailable(
            f"Playwright's driver did not start ({error}).\n{driver_report()}\n{FIX}"
        ) from error
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    except Error as error:
        playwright.stop()
        raise BrowserUnavailable(
            f"{CHROMIUM} did not start.\n{chromium_report(error)}\n{FIX}"
        ) from error
    return playwright, browser


def driver_report() -> str:
    """What Playwright's Node.js driver prints when run on its own, and its missing libraries."""
    from playwright._impl._driver import compute_driver_executable

    node, cli = compute_driver_executable()
    return _report(node, [node, cli, "--version"])


def chromium_report(error: Exception) -> str:
    """What Chromium printed to Playwright, what it prints on its own, its missing libraries."""
    logs = "\n".join(str(error).strip().splitlines()[:20])
    binary = CHROMIUM_BINARY if Path(CHROMIUM_BINARY).exists() else CHROMIUM
    return f"Playwright says:\n{logs}\n{_report(binary, [CHROMIUM, '--headless', '--version'])}"


def _report(binary: str, argv: list[str]) -> str:
    lines = []
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        lines.append(f"{' '.join(argv)}: {error}")
    else:
        output = (result.stderr or result.stdout).strip()
        lines.append(f"{' '.join(argv)} exited {result.returncode}: {output[:2000]}")
    missing = missing_libraries(binary)
    if missing:
        lines.append(f"shared libraries {binary} needs and this system lacks: {', '.join(missing)}")
    return "\n".join(lines)


def missing_libraries(binary: str | Path) -> list[str]:
    """The libraries `ldd` reports as "not found" for `binary` (empty when ldd is absent)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        result = subprocess.run(
            [ldd, binary], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted(
        {line.split("=>")[0].strip() for line in result.stdout.splitlines() if "not found" in line}
    )
