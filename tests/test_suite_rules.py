"""The test suite's own rules, checked on its source: every test able to fail names the
precise error it expects (no ``pytest.raises(Exception)``)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent
TOO_BROAD = {"Exception", "BaseException"}


def broad_raises(source: str) -> list[int]:
    """Lines of ``pytest.raises(Exception ...)`` / ``raises((Exception, ...))`` calls."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name != "raises":
            continue
        first = node.args[0]
        candidates = first.elts if isinstance(first, ast.Tuple) else [first]
        if any(isinstance(c, ast.Name) and c.id in TOO_BROAD for c in candidates):
            lines.append(node.lineno)
    return lines


def test_the_checker_finds_broad_raises() -> None:
    sample = (
        "import pytest\n"
        "with pytest.raises(Exception, match='x'):\n    pass\n"
        "with pytest.raises((ValueError, BaseException)):\n    pass\n"
        "with pytest.raises(ValueError):\n    pass\n"
    )
    assert broad_raises(sample) == [2, 4]


def test_no_test_expects_any_exception_at_all() -> None:
    found = [
        f"{path.relative_to(TESTS)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in broad_raises(path.read_text())
    ]
    assert len(list(TESTS.rglob("test_*.py"))) > 20
    assert not found, f"pytest.raises(Exception) where a precise type belongs: {found}"
