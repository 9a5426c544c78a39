"""When the browser cannot start, the error names what is missing (not a guess).

A copy of a real program whose ELF header asks for a library that does not exist stands in
for Playwright's driver on a system that lacks one (as a minimal Debian lacks
libatomic.so.1): the dynamic loader really refuses to start it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser.launch import BrowserUnavailable, missing_libraries, start_chromium


def _needs_missing_library(tmp_path: Path) -> Path:
    """/usr/bin/true, patched to need libq.so.6 instead of libc.so.6 (same length)."""
    program = tmp_path / "node"
    data = Path(shutil.which("true") or "/usr/bin/true").read_bytes()
    assert b"libc.so.6\x00" in data
    program.write_bytes(data.replace(b"libc.so.6\x00", b"libq.so.6\x00"))
    program.chmod(0o755)
    return program


def test_missing_libraries_are_read_from_the_loader(tmp_path: Path) -> None:
    assert missing_libraries(_needs_missing_library(tmp_path)) == ["libq.so.6"]
    assert missing_libraries(Path(shutil.which("true") or "/usr/bin/true")) == []


def test_a_driver_that_cannot_start_is_named_with_its_missing_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYWRIGHT_NODEJS_PATH", str(_needs_missing_library(tmp_path)))
    with pytest.raises(BrowserUnavailable) as raised:
        start_chromium()
    message = str(raised.value)
    assert message.startswith("Playwright's driver did not start")
    assert "libq.so.6: cannot open shared object file" in message  # what the loader printed
    assert "this system lacks: libq.so.6" in message
    assert "scripts/test.sh" in message
