"""Typer's coercion of command-line values, without pydantic where the outcome is plain.

Typer (0.2x) turns every non-flag value into its parameter's type through a pydantic
``TypeAdapter`` it builds the first time the parameter is used, also for a default or a
missing value: importing pydantic and building the adapters costs about 0.15 s on every
``lakebox`` command (issue 14). Here a value whose outcome is certain without pydantic gets
it directly, from the very functions Typer's adapters call:

- a text for a ``str`` parameter is itself (Typer's adapter returns ``str(value)``);
- a text for a plain ``Path`` parameter is ``Path(text)`` (what pydantic's path validator
  builds), then Typer's own path checks (``coerce_cli_path``);
- a value for an ``Enum`` parameter goes through Typer's ``coerce_cli_choice``;
- an ``int`` or ``float`` default of a parameter of that type is itself when it is within
  the parameter's bounds (so a clamp leaves it as it is).

Anything else - a value one of those rejects, numbers the user typed, lists, parsers,
bounds, files - goes through Typer's own coercion, so every result and every error message
is Typer's. ``plain_coercion`` installs this on a command's parameters (its ``--help`` too) before
they are parsed; ``GuardedGroup`` does it for itself and for each command it runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Any

from typer._click import Context, Parameter
from typer._click.exceptions import ClickException
from typer._coercion import RuntimeParam, build_runtime_param, resolve_type_descriptor
from typer._param_types import coerce_cli_choice, coerce_cli_path
from typer.core import _TyperParameter
from typer.models import ParameterInfo


class _NotPlain(Exception):
    """The value is not one of the plain cases: Typer's own coercion decides."""


class PlainCoercion(RuntimeParam):
    """A parameter's coercion: the plain cases here, everything else Typer's."""

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
        try:
            return _plain(self.parameter_info, self.annotation, value, param, ctx)
        except (_NotPlain, ClickException, ValueError):
            descriptor = resolve_type_descriptor(self.annotation, self.parameter_info)
            typer_own = build_runtime_param(descriptor)
            return typer_own._coerce_value(value, param=param, ctx=ctx)


def _plain(
    info: ParameterInfo, annotation: Any, value: Any, param: _TyperParameter, ctx: Context
) -> Any:
    if info.parser is not None:
        raise _NotPlain
    if annotation is str and type(value) is str:
        return value
    if annotation is Path and info.path_type is None and type(value) is str:
        return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = tuple(annotation)
        return coerce_cli_choice(
            value, choices=choices, case_sensitive=info.case_sensitive, ctx=ctx
        )
    if annotation in (int, float) and type(value) is annotation:
        above_min = info.min is None or value >= info.min
        if above_min and (info.max is None or value <= info.max):
            return value
    raise _NotPlain


def plain_coercion(params: Iterable[Parameter]) -> None:
    """Give these Typer parameters this coercion (those not coerced yet)."""
    for param in params:
        if isinstance(param, _TyperParameter) and param._runtime_param is None:
            desc = param.type_descriptor
            param._runtime_param = PlainCoercion(desc.parameter_info, desc.annotation)
