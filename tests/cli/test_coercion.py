"""Command-line values coerced without pydantic: the same values and the same error messages
as Typer's own coercion, for every kind of parameter lakebox's commands take, and pydantic
left unimported when the values are plain.

Each case runs one command twice: under ``GuardedGroup`` (which installs the coercion) and
under Typer's plain ``TyperGroup``; the outputs and exit codes must be identical."""

from __future__ import annotations

import json
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner


class Colour(StrEnum):
    red = "red"
    blue = "blue"


def show(
    name: Annotated[str, typer.Argument()],
    where: Annotated[Path | None, typer.Option()] = None,
    colour: Annotated[Colour, typer.Option()] = Colour.red,
    count: Annotated[int, typer.Option()] = 3,
    ratio: Annotated[float, typer.Option()] = 0.5,
    small: Annotated[int, typer.Option(min=0, max=9)] = 1,
    tags: Annotated[list[str] | None, typer.Option()] = None,
    file: Annotated[Path | None, typer.Option(exists=True, dir_okay=False)] = None,
    quiet: Annotated[bool, typer.Option()] = False,
) -> None:
    values = (name, where, colour, count, ratio, small, tags, file, quiet)
    typer.echo(repr(values) + " " + repr(tuple(type(v).__name__ for v in values)))


def other(clamped: Annotated[int, typer.Option(min=0, max=5, clamp=True)] = 7) -> None:
    typer.echo(repr(clamped))


def _app(cls: type[TyperGroup]) -> typer.Typer:
    app = typer.Typer(cls=cls, pretty_exceptions_enable=False)
    app.command()(show)
    app.command()(other)  # two commands, so the app is a group that resolves one
    return app


def _cases(tmp: Path) -> list[list[str]]:
    folder = tmp / "folder"
    folder.mkdir(exist_ok=True)
    (tmp / "data.txt").write_text("x")
    return [
        ["show", "x"],
        ["show", "a b", "--where", "a//b/", "--colour", "blue", "--count", "7", "--quiet"],
        ["show", "", "--where", ""],
        ["show", "x", "--where", "-"],
        ["show", "x", "--colour", "BLUE"],
        ["show", "x", "--colour", "green"],
        ["show", "x", "--count", "seven"],
        ["show", "x", "--count", " 8 "],
        ["show", "x", "--ratio", "1"],
        ["show", "x", "--small", "12"],
        ["other"],
        ["other", "--clamped", "-3"],
        ["show", "x", "--tags", "a", "--tags", "b"],
        ["show", "x", "--file", str(tmp / "data.txt")],
        ["show", "x", "--file", str(folder)],
        ["show", "x", "--file", str(tmp / "missing//x.txt")],
        ["show"],
        ["show", "--help"],
    ]


def test_same_values_and_errors_as_typer(tmp_path: Path) -> None:
    from lakebox.cli.support import GuardedGroup

    runner = CliRunner()
    for args in _cases(tmp_path):
        ours = runner.invoke(_app(GuardedGroup), args)
        typers = runner.invoke(_app(TyperGroup), args)
        assert (ours.exit_code, ours.output) == (typers.exit_code, typers.output), args
    plain = runner.invoke(_app(GuardedGroup), ["show", "x", "--where", "p", "--colour", "blue"])
    assert "PosixPath('p')" in plain.output and "Colour" in plain.output


PROBE = """
import json, sys
sys.path.insert(0, {tests!r})
from cli.test_coercion import _app
from lakebox.cli.support import GuardedGroup
from typer.core import TyperGroup
cls = GuardedGroup if sys.argv[1] == "guarded" else TyperGroup
try:
    _app(cls)(["show", "x", "--where", "p", "--colour", "blue"])
except SystemExit as exit:
    code = exit.code
print(json.dumps({{"code": code, "pydantic": "pydantic" in sys.modules}}), file=sys.stderr)
"""


@pytest.mark.parametrize(("group", "pydantic"), [("guarded", False), ("typer", True)])
def test_plain_values_import_no_pydantic(group: str, pydantic: bool) -> None:
    """Typer alone imports pydantic to coerce these values; lakebox's groups do not."""
    probe = PROBE.format(tests=str(Path(__file__).parents[1]))
    done = subprocess.run(
        [sys.executable, "-c", probe, group], capture_output=True, text=True, timeout=120
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "pydantic": pydantic}, done.stderr
    assert "PosixPath('p')" in done.stdout
