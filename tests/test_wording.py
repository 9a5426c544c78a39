"""What users read never names the product brief's files ("brief 001" ... "brief 004"): the
README, the examples and everything under src/ (docstrings, comments, OpenAPI text, the web
UI) say what a thing does instead."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: "brief 004", "Brief 003's", and a reference broken across lines ("brief\n    003").
BRIEF_NUMBER = re.compile(r"\bbrief\s+00\d", re.IGNORECASE)


def brief_mentions(text: str) -> list[int]:
    """Line numbers where a brief's file name begins."""
    return [text.count("\n", 0, match.start()) + 1 for match in BRIEF_NUMBER.finditer(text)]


def user_facing_files() -> list[Path]:
    """README.md and every text file under src/ and examples/ (no caches, no binaries)."""
    files = [ROOT / "README.md"]
    for folder in (ROOT / "src", ROOT / "examples"):
        files += sorted(
            path
            for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        )
    return files


def test_the_checker_finds_brief_names() -> None:
    sample = "ok\nBrief 004's names\nthe policy of brief\n    003 allows\nbriefly 001\nbrief 2\n"
    assert brief_mentions(sample) == [2, 3]


def test_no_user_facing_text_names_the_brief() -> None:
    files = user_facing_files()
    assert len([path for path in files if path.suffix == ".py"]) > 50
    found = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # images, fonts: no words to read
            continue
        found += [f"{path.relative_to(ROOT)}:{line}" for line in brief_mentions(text)]
    assert not found, f"describe what the thing does instead of naming the brief: {found}"
