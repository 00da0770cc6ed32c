"""The last line of defence every ``lakebox`` command group shares, driven through a real
Typer app built on it (in process and as a real subprocess)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.models import CommandInfo, TyperInfo
from typer.testing import CliRunner

from lakebox.cli.support import (
    EXIT_INTERNAL,
    GuardedGroup,
    RootGroup,
    _root,
    lakehouse,
    read_json_object,
    read_text_file,
)
from lakebox.errors import InvalidRequestError, SemanticError
from lakebox.lakehouse import Lakehouse

app = typer.Typer(cls=GuardedGroup, pretty_exceptions_enable=False)


@app.command()
def lakebox_error() -> None:
    raise SemanticError("Table 'x' has [brackets]")


@app.command()
def os_error(path: Path) -> None:
    path.write_text("x")


@app.command()
def bug() -> None:
    raise KeyError("oops")


@app.command()
def fine() -> None:
    typer.echo("ok")


#: the lakes the ``lakes`` command got, for the test to look at after it ended
_SEEN: list[Lakehouse] = []


@app.command()
def lakes(home: Path) -> None:
    first, second = lakehouse(home), lakehouse(home)
    _SEEN.extend([first, second])
    typer.echo(f"{first.queries is second.queries}")


runner = CliRunner()


def test_lakebox_error_is_one_line_exit_1_printed_as_is() -> None:
    result = runner.invoke(app, ["lakebox-error"])
    assert result.exit_code == 1
    assert result.output == "error: Table 'x' has [brackets]\n"


def test_os_error_names_the_path(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "f.txt"
    result = runner.invoke(app, ["os-error", str(target)])
    assert result.exit_code == 1
    assert result.output == f"error: cannot access {target}: No such file or directory\n"


def test_unexpected_exception_is_an_internal_error_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAKEBOX_DEBUG", raising=False)
    result = runner.invoke(app, ["bug"])
    assert result.exit_code == EXIT_INTERNAL
    assert result.output == (
        "error: internal error: KeyError: 'oops' (please report it; set LAKEBOX_DEBUG=1 for "
        "the traceback)\n"
    )


def test_debug_variable_lets_the_traceback_through() -> None:
    """A real process: with LAKEBOX_DEBUG=1 the exception escapes with its traceback."""
    code = "import sys; sys.argv = ['t', 'bug']; from test_support import app; app()"
    runs = {}
    for debug in ("", "1"):
        runs[debug] = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            env={"LAKEBOX_DEBUG": debug, "PATH": "/usr/bin:/bin"},
            timeout=120,
            check=False,
        )
    assert runs[""].returncode == EXIT_INTERNAL and "Traceback" not in runs[""].stderr
    assert "internal error: KeyError" in runs[""].stderr
    assert runs["1"].returncode == 1 and "Traceback" in runs["1"].stderr
    assert "KeyError: 'oops'" in runs["1"].stderr


def test_usage_errors_stay_clicks() -> None:
    result = runner.invoke(app, ["fine", "--nope"])
    assert result.exit_code == 2 and "No such option" in result.output


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b'{"a": "\xc3\xa9"}', '{"a": "é"}'),
        (b'\xef\xbb\xbf{"a": 1}', '{"a": 1}'),
        ('{"a": "é"}'.encode("utf-16"), '{"a": "é"}'),
        ('{"a": "é"}'.encode("utf-32"), '{"a": "é"}'),
    ],
)
def test_text_files_in_the_encodings_aws_accepts(tmp_path: Path, data: bytes, text: str) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(data)
    assert read_text_file(path, "file") == text


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match=f"file {tmp_path} is a folder, not a file"):
        read_text_file(tmp_path, "file")
    odd = tmp_path / "odd.json"
    odd.write_bytes(b"\xff\xfe\x00\xd8")  # a UTF-16 BOM, then half a surrogate pair
    with pytest.raises(InvalidRequestError, match="is not UTF-16 text"):
        read_text_file(odd, "file")
    odd.write_text('"just a string"')
    with pytest.raises(InvalidRequestError, match="must hold a JSON object, not a string"):
        read_json_object(odd, "config")


def test_a_command_gets_one_lake_closed_when_it_ends(lake_home: Path) -> None:
    _SEEN.clear()
    result = runner.invoke(app, ["lakes", str(lake_home)])
    assert result.exit_code == 0 and result.output == "True\n"
    first, second = _SEEN
    assert first is second and first.started
    assert first._services == {}  # its services were closed with the command


def test_a_command_does_not_create_a_missing_lake(tmp_path: Path) -> None:
    result = runner.invoke(app, ["lakes", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "no lake at" in result.output
    assert not (tmp_path / "nowhere").exists()


def _pages(root: typer.Typer, groups: dict[str, typer.Typer]) -> list[str]:
    """The help of the root and of every command, of every group in ``groups`` and its
    commands, the groups run without a command, and misspelt commands' suggestions."""
    lines = [["--help"], ["crawlr"], ["sqll"], ["docter"], ["catalg"]]
    lines += [[name, "--help"] for name in RootGroup.lazy if name not in groups]
    for name, sub_app in groups.items():
        lines += [[name], [name, "--help"], [name, "nope"]]
        lines += [
            [name, c.name or c.callback.__name__, "--help"] for c in sub_app.registered_commands
        ]  # type: ignore[union-attr]
    env = {"COLUMNS": "100"}
    return [runner.invoke(root, args, prog_name="lakebox", env=env).output for args in lines]


def test_lazy_commands_and_groups_behave_as_an_eagerly_built_app() -> None:
    """``lakebox``'s commands and groups are built on first use, and its workflow,
    schedule, crawler and stream groups imported then: the help, the listing order and the
    suggestions are those of the same commands and groups added to an app as usual."""
    from lakebox.cli import app as lakebox_app

    deferred = dict(RootGroup.deferred)
    assert list(deferred) == [
        "workflow",
        "schedule",
        "crawler",
        "stream",
        "iam",
        "functions",
        "lf",
        "serve",
    ]
    assert {"sql", "init", "doctor", "catalog", "workgroup", "query"} <= set(RootGroup.lazy)
    # `lakebox serve` without a subcommand runs the server: its pages are not opened here
    groups = {
        name: getattr(importlib.import_module(module), attr)
        for name, (module, attr) in deferred.items()
        if name != "serve"
    }
    for name, info in RootGroup.lazy.items():
        if isinstance(info, TyperInfo) and info.typer_instance is not None:
            groups[name] = info.typer_instance
    lazy = _pages(lakebox_app, groups)

    eager = typer.Typer(
        help=lakebox_app.info.help,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        cls=GuardedGroup,
    )
    eager.callback()(_root)  # the global options (--profile)
    for info in RootGroup.lazy.values():
        if isinstance(info, CommandInfo):
            eager.registered_commands.append(info)
        else:
            eager.registered_groups.append(info)
    for name, (module, attr) in deferred.items():
        eager.add_typer(getattr(importlib.import_module(module), attr), name=name)
    expected = _pages(eager, groups)
    assert "workflow" in lazy[0] and "Did you mean 'crawler'" in lazy[1]
    assert "Did you mean 'sql'" in lazy[2] and "Usage: lakebox sql" in lazy[5]
    assert lazy == expected
