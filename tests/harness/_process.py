"""What the harnesses share for the daemons they start: free ports, log tails for error
messages, and a child that dies with its parent."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
from pathlib import Path

__all__ = ["free_ports", "set_pdeathsig", "tail"]

TAIL_LINES = 40
TAIL_BYTES = 16384


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Distinct free TCP ports on ``host``, chosen by the kernel (ephemeral range)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            socks.append(sock)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """Last lines of a log file, or a note that it cannot be read."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - TAIL_BYTES))
            data = fh.read()
    except OSError as exc:
        return f"--- {path}: {exc.strerror or exc}"
    text = data.decode("utf-8", errors="replace").splitlines()[-lines:]
    return f"--- last {len(text)} lines of {path}:\n" + "\n".join(text)


def set_pdeathsig() -> None:
    """In the child before exec: get SIGKILL when the parent (thread) goes away (Linux).

    Popen runs this after switching to ``user=``, so a credential change does not clear it.
    """
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
