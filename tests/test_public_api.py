"""The public names: everything in __all__ exists, and nothing heavy is imported."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest

import s3files


def test_exported_names_exist() -> None:
    for name in s3files.__all__:
        assert hasattr(s3files, name), name
    assert {
        "FileStore",
        "AsyncFileStore",
        "S3Service",
        "FileUploadRequest",
        "Settings",
        "ObjectNotFoundError",
    } <= set(s3files.__all__)


def test_twins_share_method_names() -> None:
    sync = {n for n in dir(s3files.FileStore) if not n.startswith("_")}
    async_ = {n for n in dir(s3files.AsyncFileStore) if not n.startswith("_")}
    assert sync - {"close", "from_settings", "from_url", "store"} <= async_


def test_import_does_not_load_integrations() -> None:
    code = (
        "import sys, s3files; bad = [m for m in ('fastapi', 'django', 'sqlalchemy', 'magic')"
        " if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_error_tree() -> None:
    assert issubclass(s3files.ObjectNotFoundError, FileNotFoundError)
    assert issubclass(s3files.ObjectNotFoundError, s3files.StoreError)
    assert issubclass(s3files.FileTooLargeError, ValueError)
    assert issubclass(s3files.StoreUnavailableError, ConnectionError)
    assert issubclass(s3files.InvalidCredentialsError, PermissionError)
    codes = {
        cls.code
        for cls in vars(s3files).values()
        if isinstance(cls, type) and issubclass(cls, s3files.S3FilesError)
    }
    assert len(codes) == len(
        [
            c
            for c in vars(s3files).values()
            if isinstance(c, type) and issubclass(c, s3files.S3FilesError)
        ]
    )


# Exported names, lazily loaded ---------------------------------------------------------

HEAVY = [
    "boto3",
    "botocore",
    "anyio",
    "pydantic",
    "pydantic_settings",
    "magic",
    "s3files.connector",
    "s3files.store",
    "s3files._config",
]
PUBLIC_CLASSES = [
    "FileStore",
    "AsyncFileStore",
    "S3Store",
    "LocalStore",
    "S3Connector",
    "S3Service",
]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_import_loads_only_the_errors() -> None:
    code = f"import sys, s3files; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_exported_name_imports_from_a_fresh_interpreter() -> None:
    code = (
        "import s3files\n"
        "names = [n for n in s3files.__all__ if n != '__version__']\n"
        "for name in names:\n"
        "    namespace = {}\n"
        "    exec(f'from s3files import {name}', namespace)\n"
        "    assert namespace[name] is getattr(s3files, name), name\n"
        "print(len(names))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(s3files.__all__) - 1


def test_all_lists_exactly_the_names_the_package_offers() -> None:
    assert len(s3files.__all__) == len(set(s3files.__all__))
    assert s3files.__all__ == sorted(s3files.__all__)
    lazy = set(s3files._LAZY)
    eager = {n for n, v in vars(s3files).items() if isinstance(v, type) and n not in lazy}
    assert set(s3files.__all__) == lazy | eager | {"__version__"}
    with pytest.raises(AttributeError):
        _ = s3files.NoSuchName  # type: ignore[attr-defined]
    assert set(s3files.__all__) <= set(dir(s3files))


def test_type_checkers_see_every_lazy_name() -> None:
    """The TYPE_CHECKING imports in __init__.py name the same modules as _LAZY."""
    tree = ast.parse(Path(s3files.__file__).read_text())
    guarded = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    seen = {
        alias.name: node.module
        for node in guarded.body
        if isinstance(node, ast.ImportFrom) and node.module != "typing"
        for alias in node.names
    }
    assert seen == s3files._LAZY
    for name, module in s3files._LAZY.items():
        assert getattr(importlib.import_module(module), name) is getattr(s3files, name)


def types_in(annotation: Any) -> set[type]:
    found: set[type] = set()
    if isinstance(annotation, type):
        found.add(annotation)
    origin = typing.get_origin(annotation)
    if isinstance(origin, type):
        found.add(origin)
    for argument in typing.get_args(annotation):
        for item in argument if isinstance(argument, list) else [argument]:
            found |= types_in(item)
    return found


def fields_of(cls: type) -> set[type]:
    """Types of the attributes of a returned value (dataclass fields, annotations)."""
    try:
        annotations = typing.get_type_hints(cls, localns=exported())
    except TypeError:
        return set()
    return {t for a in annotations.values() for t in types_in(a)}


def exported() -> dict[str, Any]:
    return {name: getattr(s3files, name) for name in s3files.__all__}


def test_every_type_a_public_method_returns_is_exported() -> None:
    public = exported()
    missing: set[str] = set()
    checked: set[type] = set()
    pending: list[type] = []
    for class_name in PUBLIC_CLASSES:
        cls = public[class_name]
        for name in dir(cls):
            if name.startswith("_") and name != "__init__":
                continue
            member = inspect.getattr_static(cls, name)
            func = member.fget if isinstance(member, property) else getattr(cls, name)
            if not callable(func):
                continue
            annotations = typing.get_type_hints(func, localns=public)
            annotations.pop("self", None)
            pending += [t for a in annotations.values() for t in types_in(a)]
    while pending:
        found = pending.pop()
        if found in checked or not found.__module__.startswith("s3files"):
            continue
        checked.add(found)
        if found.__name__.startswith("_"):
            continue  # a private implementation (a store's writer) of an exported protocol
        if public.get(found.__name__) is not found:
            missing.add(f"{found.__module__}.{found.__name__}")
        pending += fields_of(found)
    assert not missing, f"returned but not importable from s3files: {sorted(missing)}"
    assert {"PresignedPost", "VerifiedObject", "UploadPart", "MultipartUploadInfo"} <= {
        t.__name__ for t in checked
    }
    assert typing.get_type_hints(s3files.Store.open_writer)["return"] is s3files.ObjectWriter
