"""What every command shares: settings, the store, output as tables or JSON, clean errors."""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar, cast

import typer
from rich.console import Console

from s3files._errors import S3FilesError

if TYPE_CHECKING:
    from s3files.cli.profiles import Mode

console = Console()
err_console = Console(stderr=True)
_P = ParamSpec("_P")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class CliOptions:
    """Options given before the command (``s3files --verbose ls``). The root callback puts
    them on the invocation's ``typer.Context`` (``ctx.obj``); ``command`` reads them there,
    so nothing of one invocation outlives it in module state."""

    verbose: bool = False
    mode: Mode | None = None  # remote or local: chosen by the root callback

    @classmethod
    def of(cls, context: typer.Context) -> CliOptions:
        """The options of the invocation that ``context`` belongs to."""
        options = context.find_root().obj
        return options if isinstance(options, cls) else cls()

    @classmethod
    def current(cls) -> CliOptions:
        """The options of the command running now (set by ``command`` for its duration)."""
        return _RUNNING.get(cls())


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def friendly_errors(*, verbose: bool = False) -> Iterator[None]:
    """One line per error and a non-zero exit; the traceback only with ``--verbose``."""
    try:
        yield
    except typer.Exit:
        raise
    except S3FilesError as exc:
        if verbose:
            err_console.print_exception()
        fail(error_text(exc))
    except (OSError, ValueError) as exc:
        if verbose:
            err_console.print_exception()
        fail(f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        error, detail = getattr(exc, "error", None), getattr(exc, "detail", None)
        if verbose:
            err_console.print_exception()
        if isinstance(error, str) and isinstance(detail, str):  # an ApiError's shape
            fail(f"{detail} ({error})")
        fail(f"unexpected {type(exc).__name__}: {exc} (run with --verbose for details)")
    except KeyboardInterrupt:
        fail("interrupted", 130)


def error_text(exc: S3FilesError) -> str:
    """The message of ``exc``; a bad key or a service that does not answer is about the
    service, not a path: name its URL and where the key came from."""
    mode = CliOptions.current().mode
    code, detail = getattr(exc, "code", None), getattr(exc, "detail", None)
    limit = getattr(exc, "limit", 0)
    if code == "file_too_large" and limit and f"{limit} bytes" in str(exc):
        return str(exc).replace(f"{limit} bytes", f"{human_size(limit)} ({limit} bytes)")
    if mode is None or not mode.remote or code not in ("unauthorized", "unreachable"):
        return str(exc)
    if code == "unauthorized":
        return f"{mode.url}: {detail} (key from {mode.key_source or 'nowhere'})"
    where = (getattr(exc, "subject", None) or "").strip("/")
    return f"{mode.url}: {detail} ({code}" + (f", {where})" if where else ")")


def require_configured_data_dir(settings: Any) -> None:
    """Local mode never creates ``./s3files-data`` silently in whatever folder it runs
    from: the default data folder must exist already (where the service runs), or be
    named (``S3FILES_DATA_DIR``, a .env file), or the database be named."""
    data_dir = Path(settings.data_dir)
    if data_dir != Path("s3files-data") or data_dir.exists() or settings.database_url:
        return
    fail(
        f"local mode: no service data here ({data_dir.absolute()} does not exist). "
        "On the server's machine, run from the service's folder or set S3FILES_DATA_DIR; "
        "to use a running service, `s3files login URL`",
        2,
    )


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


_CONTEXT_PARAMETER = "s3files_context"
_RUNNING: contextvars.ContextVar[CliOptions] = contextvars.ContextVar("s3files_cli_options")


def command(func: Callable[_P, _T]) -> Callable[_P, _T]:
    """Wrap a command so that errors print one line (a traceback with ``--verbose``).

    The wrapper asks Typer for the invocation's context (an extra parameter, annotated
    ``typer.Context``, that Typer fills in and the command never sees) to read the options.
    """
    signature = inspect.signature(func, eval_str=True)
    context_parameter = inspect.Parameter(
        _CONTEXT_PARAMETER, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
    )

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> _T:
        context: typer.Context = kwargs.pop(_CONTEXT_PARAMETER)
        options = CliOptions.of(context)
        token = _RUNNING.set(options)
        try:
            with friendly_errors(verbose=options.verbose):
                return func(*args, **kwargs)
        finally:
            _RUNNING.reset(token)

    parameters = [*signature.parameters.values()]
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*parameters, context_parameter]
    )
    wrapper.__annotations__ = {**func.__annotations__, _CONTEXT_PARAMETER: typer.Context}
    return cast("Callable[_P, _T]", wrapper)
