"""Real JavaScript clients from npm, installed at test time into a cache folder outside the
repository (``~/.cache/s3files-tests/npm/<hash of the pinned versions>``, or
``S3FILES_TEST_NPM_CACHE``), so that CI reuses one install for as long as the pins hold.
Nothing is fetched from a CDN and no ``node_modules`` is committed."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["NODE_FIX", "bundle", "install", "node"]

NODE_FIX = "bash scripts/test.sh installs Node.js and npm (Debian packages nodejs npm)"


def _cache_root() -> Path:
    configured = os.environ.get("S3FILES_TEST_NPM_CACHE")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "s3files-tests" / "npm"


def node() -> str:
    found = shutil.which("node") or shutil.which("nodejs")
    if found is None:
        raise RuntimeError(f"node is not on PATH; {NODE_FIX}")
    return found


def install(packages: dict[str, str]) -> Path:
    """A folder whose ``node_modules`` holds exactly ``packages`` (name → pinned version or
    ``npm:`` alias); installed once per set of pins, under a file lock."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is not on PATH; {NODE_FIX}")
    pins = json.dumps(sorted(packages.items()))
    root = _cache_root() / hashlib.sha256(pins.encode()).hexdigest()[:16]
    done = root / ".installed"
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            manifest = {"name": "s3files-test-clients", "private": True, "dependencies": packages}
            (root / "package.json").write_text(json.dumps(manifest, indent=2))
            result = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(f"npm install {pins} failed:\n{result.stderr[-3000:]}")
            done.write_text(pins)
    return root


def bundle(root: Path, entry: Path, name: str) -> Path:
    """``entry`` bundled for the browser with the esbuild installed in ``root`` (an IIFE at
    ``root/<name>``; rebuilt when the entry changes)."""
    source = entry.read_text()
    output = root / name
    stamp = root / f"{name}.sha256"
    digest = hashlib.sha256(source.encode()).hexdigest()
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if output.exists() and stamp.exists() and stamp.read_text() == digest:
            return output
        copied = root / f"entry-{name}"
        copied.write_text(source)
        result = subprocess.run(
            [
                str(root / "node_modules" / ".bin" / "esbuild"),
                str(copied),
                "--bundle",
                "--format=iife",
                "--target=es2020",
                f"--outfile={output}",
                "--log-level=error",
            ],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"esbuild {entry.name} failed:\n{result.stderr[-3000:]}")
        stamp.write_text(digest)
    return output
