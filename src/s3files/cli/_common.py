"""What every command shares: settings, the store, output as tables or JSON, clean errors."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from s3files._errors import S3FilesError

console = Console()
err_console = Console(stderr=True)
_P = ParamSpec("_P")
_T = TypeVar("_T")


class State:
    """Options given before the command (``s3files --verbose ls``)."""

    verbose = False


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """One line per error and a non-zero exit; the traceback only with ``--verbose``."""
    try:
        yield
    except typer.Exit:
        raise
    except S3FilesError as exc:
        if State.verbose:
            err_console.print_exception()
        fail(str(exc))
    except (OSError, ValueError) as exc:
        if State.verbose:
            err_console.print_exception()
        fail(f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        error, detail = getattr(exc, "error", None), getattr(exc, "detail", None)
        if State.verbose:
            err_console.print_exception()
        if isinstance(error, str) and isinstance(detail, str):  # an ApiError's shape
            fail(f"{detail} ({error})")
        fail(f"unexpected {type(exc).__name__}: {exc} (run with --verbose for details)")
    except KeyboardInterrupt:
        fail("interrupted", 130)


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n")


def human_size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def command(func: Callable[_P, _T]) -> Callable[_P, _T]:
    """Wrap a command so that errors print one line."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        with friendly_errors():
            return func(*args, **kwargs)

    return wrapper
