"""Help screens that speak the user's language: placeholders such as ``FOLDER`` or ``N``
where Typer would print Python types (``<bool>`` on flags, ``<list[str]>``, ``{paths}...``).

Typer builds every parameter itself, so its two parameter classes get these display
methods once, when the CLI's apps are made (``install``)."""

from __future__ import annotations

from typing import Any

from typer._click import Context
from typer.core import TyperArgument, TyperOption

__all__ = ["install"]


def _option_placeholder(option: TyperOption, ctx: Context) -> str | None:
    """Nothing for a flag; its metavar, ``N`` for a number, else its name in capitals."""
    if option.is_flag or option.count:
        return None
    if option.metavar is not None:
        return option.metavar
    if option.type_descriptor.is_ranged or option.bare_type() in ("int", "float"):
        placeholder = "N"
    else:
        placeholder = (option.name or "value").upper()
    return placeholder + ("..." if option.nargs != 1 else "")


def _argument_type(argument: TyperArgument, ctx: Context) -> str | None:
    """No type column for arguments: their name says what they are."""
    return None


def _argument_usage(argument: TyperArgument) -> str:
    """``PATHS...`` or ``[FOLDER]`` on the usage line."""
    name = (argument.metavar or argument.name or "arg").upper()
    shown = name if argument.required else f"[{name}]"
    return shown + ("..." if argument.nargs != 1 else "")


def install() -> None:
    """Use these placeholders in every help screen of this process."""
    options: Any = TyperOption
    arguments: Any = TyperArgument
    options.display_type_rich = _option_placeholder
    arguments.display_type_rich = _argument_type
    arguments._usage_display_name = _argument_usage
