"""Start-up: ``lakebox --help`` lists every command without importing the lake's engine,
and ``lakebox sql`` imports only what running SQL needs.

The help is built from the CLI modules alone; DuckDB, sqlglot, pyarrow and the
``Lakehouse`` load only when a command opens a lake (issue 14: about 2 s of imports
otherwise). A query needs the engine, but not pydantic (Typer's coercion, ``coercion``),
pyarrow's compute functions (only writes use them), fsspec (local files are reached
without it), or the workflow, crawler and stream
services. Subprocesses, because this test process has imported all of them already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("duckdb", "sqlglot", "pyarrow", "lakebox.lakehouse", "lakebox.workflows", "boto3")

#: what ``lakebox sql "SELECT 1"`` must not import
NOT_FOR_SQL = (
    "pydantic",
    "pyarrow.compute",
    "pyarrow.parquet",
    "lakebox.formats.writing",
    "lakebox.workflows",
    "lakebox.crawler.service",
    "lakebox.ingest.streams",
    "boto3",
    "lakebox.cli.workflows",  # the command groups a query does not run are built lazily
    "lakebox.cli.crawler",
    "lakebox.cli.ingest",
    "lakebox.crawler.model",
    "fsspec",  # local files are reached without it (asyncio and ssl with it, ~60 ms)
    "lakebox.sql.ddl_statements",  # ~25 frozen dataclasses a query does not use (~5 %)
    "lakebox.sql.dialects.athena_ddl",
    "pandas",  # pyarrow imports it on its first conversion of Python objects (0.3-0.5 s)
)

PROBE = """
import json, sys
from lakebox.cli import app
try:
    app(sys.argv[1:], prog_name="lakebox")
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _run(*args: str) -> tuple[int, str, list[str]]:
    """``lakebox <args>`` in a fresh interpreter: exit code, output, modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], done.stdout, report["modules"]


def _loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


def test_help_imports_no_engine() -> None:
    code, output, modules = _run("--help")
    assert code == 0
    assert "Commands" in output and "crawler" in output
    loaded = _loaded(modules, HEAVY)
    assert not loaded, f"lakebox --help imported {loaded}"


def test_sql_imports_only_what_a_query_needs(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    assert _run("init", str(home))[0] == 0
    code, output, modules = _run("sql", "--home", str(home), "--format", "csv", "SELECT 1 AS one")
    assert (code, output) == (0, "one\n1\n")
    assert "duckdb" in modules and "sqlglot" in modules  # it did run the query
    loaded = _loaded(modules, NOT_FOR_SQL)
    assert not loaded, f"lakebox sql imported {loaded}"


def test_startup_benchmark_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's start-up cells: both commands against ``import duckdb``, each goal
    ratio the goal's seconds over the baseline measured in the same run (timings are
    never asserted, only how the cells are made of them)."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    from benchmarks.startup import GOALS, cells

    found = cells(tmp_path, quick=True)
    assert [c.name for c in found] == ["lakebox --help", 'lakebox sql "SELECT 1"']
    for cell, goal in zip(found, GOALS.values(), strict=True):
        assert cell.suite == "startup" and cell.baseline == 'python -c "import duckdb"'
        assert cell.goal == pytest.approx(goal / cell.baseline_s)
        assert cell.met == (cell.lakebox_s <= goal * (1 + 1e-9))
        assert cell.lakebox_rss_mb and cell.baseline_rss_mb


def test_sql_table_output_to_a_pipe_imports_no_rich(tmp_path: Path) -> None:
    """A small result printed as a table to a pipe or file is drawn without rich (~5 % of
    the command's start-up), exactly as rich draws it (``test_plain.py``); the bytes are
    the ones rich printed before."""
    home = tmp_path / "lake"
    assert _run("init", str(home))[0] == 0
    code, output, modules = _run("sql", "--home", str(home), "SELECT 1 AS one, 'x' AS two")
    assert code == 0
    table, line = output.split("\n", 6)[:6], output.split("\n", 6)[6]
    assert table == [
        "┏━━━━━━━━━┳━━━━━━━━━┓",
        "┃ one     ┃ two     ┃",
        "┃ integer ┃ varchar ┃",
        "┡━━━━━━━━━╇━━━━━━━━━┩",
        "│ 1       │ x       │",
        "└─────────┴─────────┘",
    ]
    assert " · SUCCEEDED · 1 rows, " in line and line.endswith("$0.000048\n")
    assert all(len(row) <= 80 for row in line.splitlines())  # wrapped as rich wraps it
    loaded = _loaded(modules, ("rich",))
    assert not loaded, f"lakebox sql imported {loaded}"


def test_sql_table_output_loads_no_emoji_table(tmp_path: Path) -> None:
    """The execution line under a table holds no emoji code, so it is printed without
    rich's emoji replacement, whose table of codes takes ~10 ms to import."""
    home = tmp_path / "lake"
    assert _run("init", str(home))[0] == 0
    code, output, modules = _run("sql", "--home", str(home), "SELECT 1 AS one")
    assert code == 0 and "SUCCEEDED" in output and "one" in output
    assert "rich._emoji_codes" not in modules


#: PROBE, also reporting the commands Typer built (their signatures read, their
#: annotations evaluated: ~30 ms for all of ``lakebox``'s)
BUILD_PROBE = """
import json, sys
import typer.main

built = []
build = typer.main.get_command_from_info

def counting(*args, **kwargs):
    info = args[0] if args else kwargs["command_info"]
    built.append(info.name or info.callback.__name__)
    return build(*args, **kwargs)

typer.main.get_command_from_info = counting  # before lakebox.cli takes it
from lakebox.cli import app
try:
    app(sys.argv[1:], prog_name="lakebox")
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "built": built}), file=sys.stderr)
"""


def _built(*args: str) -> tuple[int, str, list[str]]:
    """``lakebox <args>`` in a fresh interpreter: exit code, output, commands built."""
    done = subprocess.run(
        [sys.executable, "-c", BUILD_PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], done.stdout, report["built"]


def test_sql_builds_only_the_command_it_runs(tmp_path: Path) -> None:
    """The root group builds a command when the command line asks for it: ``lakebox sql``
    builds ``sql`` alone, ``lakebox --help`` every command and group it lists."""
    home = tmp_path / "lake"
    assert _run("init", str(home))[0] == 0
    code, output, built = _built("sql", "--home", str(home), "SELECT 1 AS one")
    assert code == 0 and "SUCCEEDED" in output
    assert built == ["sql"]
    code, output, built = _built("--help")
    assert code == 0 and "history" in output and "workgroup" in output
    assert {"sql", "shell", "history", "demo", "init", "doctor", "backup"} <= set(built)
    assert {"databases", "tables", "list", "get", "create", "validate"} <= set(built)


#: runs ``lakebox`` through its console-script body (``run_main``, without the end of the
#: process that ``main`` adds) and reports the garbage collector's state before and after
GC_PROBE = """
import gc, json, sys
sys.argv = ["lakebox", *sys.argv[1:]]
from lakebox.cli import app
from lakebox.cli.support import run_main
before = gc.isenabled()
try:
    run_main(app)
except SystemExit as exit:
    code = exit.code
after = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
print(json.dumps({"code": code, "before": before, "after": after}), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [("sql", "SELECT 1 AS one"), ("--help",), ("nope",)])
def test_the_collector_is_back_as_it_was_when_a_command_ends(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """``main`` runs a command's start-up without garbage collection and freezes what it
    loaded (``support.starting``, ``started``); when the command ends, with or without a
    lake, successfully or not, the collector is on and nothing is frozen, and the process
    exits as before: nothing on standard error beyond the command's own words (DuckDB's
    bindings report objects still alive at exit as leaks)."""
    home = tmp_path / "lake"
    assert _run("init", str(home))[0] == 0
    done = subprocess.run(
        [sys.executable, "-c", GC_PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin", "LAKEBOX_HOME": str(home)},
    )
    *messages, last = done.stderr.strip().splitlines()
    report = json.loads(last)
    assert report["before"] is True
    assert report["after"] == {"enabled": True, "frozen": 0}
    if args[0] == "sql":
        assert report["code"] == 0 and "SUCCEEDED" in done.stdout and messages == []
    assert not [m for m in messages if "leak" in m]


def test_a_query_from_the_command_line_prints_nothing_on_stderr(tmp_path: Path) -> None:
    """The whole process, exit included, as a user runs it."""
    home = tmp_path / "lake"
    assert _run("init", str(home))[0] == 0
    done = subprocess.run(
        [sys.executable, "-m", "lakebox.cli", "sql", "--home", str(home), "SELECT 1 AS one"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0 and "SUCCEEDED" in done.stdout
    assert done.stderr == ""


#: ``main`` as the console script runs it, with an exit handler and, when asked, a thread
#: still working when the command ends
EXIT_PROBE = """
import atexit, sys, threading, time
from pathlib import Path
marks = Path(sys.argv[1])
atexit.register(lambda: marks.open("a").write("exit handler\\n"))
if sys.argv[2] == "thread":
    def work():
        time.sleep(0.5)
        marks.open("a").write("thread done\\n")
    threading.Thread(target=work).start()
sys.argv = ["lakebox", *sys.argv[3:]]
from lakebox.cli import main
main()
"""


@pytest.mark.parametrize("thread", ["none", "thread"])
@pytest.mark.parametrize(
    ("args", "code"),
    [(("sql", "SELECT 1 AS one"), 0), (("sql", "SELECT nope"), 1), (("nope",), 2)],
)
def test_the_process_ends_as_the_interpreter_would_end_it(
    tmp_path: Path, args: tuple[str, ...], code: int, thread: str
) -> None:
    """``main`` ends the process without tearing its modules down (``exit_process``),
    but with what an exit does that matters: the command's exit status, all of its
    output, the exit handlers run, and other threads waited for."""
    home = tmp_path / "lake"
    assert _run("init", str(home))[0] == 0
    marks = tmp_path / "marks"
    with (tmp_path / "out").open("w") as out:
        done = subprocess.run(
            [sys.executable, "-c", EXIT_PROBE, str(marks), thread, *args],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={"COLUMNS": "80", "PATH": "/usr/bin:/bin", "LAKEBOX_HOME": str(home)},
        )
    assert done.returncode == code, done.stderr
    output = (tmp_path / "out").read_text()
    if code == 0:
        assert output.startswith("┏━━━━━━━━━┓\n┃ one     ┃\n") and "SUCCEEDED" in output
        assert done.stderr == ""
    else:
        assert output == "" and ("error" in done.stderr.lower())
    expected = ["thread done", "exit handler"] if thread == "thread" else ["exit handler"]
    assert marks.read_text().splitlines() == expected


def test_a_command_run_in_process_leaves_the_interpreter_running(tmp_path: Path) -> None:
    """``run_main`` (what ``main`` runs before ending the process) returns by SystemExit,
    so a program running a command in its own process goes on."""
    home = tmp_path / "lake"
    assert _run("init", str(home))[0] == 0
    code, output, _ = _run("sql", "--home", str(home), "--format", "csv", "SELECT 2 AS two")
    assert (code, output) == (0, "two\n2\n")
