"""``s3files quota``: an operator shows and sets an owner's quota on the server's machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "S3FILES_DATA_DIR": str(tmp_path / "data"),
        "S3FILES_DEFAULT_QUOTA_FILES": "500",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    done = subprocess.run(
        [sys.executable, "-m", "s3files.cli", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_quota_shows_sets_and_falls_back_to_the_default(tmp_path: Path) -> None:
    shown = run(tmp_path, "quota", "alice", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["quota"] == {"max_bytes": None, "max_files": 500}
    done = run(tmp_path, "quota", "alice", "--bytes", "1048576", "--files", "10", "--json")
    assert json.loads(done.stdout)["quota"] == {"max_bytes": 1048576, "max_files": 10}
    text = run(tmp_path, "quota", "alice")
    assert "quota 1048576 bytes, 10 files" in text.stdout
    back = run(tmp_path, "quota", "alice", "--default", "--json")
    assert json.loads(back.stdout)["quota"] == {"max_bytes": None, "max_files": 500}
    bad = run(tmp_path, "quota", "alice", "--bytes", "-1")
    assert bad.returncode == 2
