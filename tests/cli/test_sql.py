"""The `lakebox` command as a user runs it: a real subprocess, no tracebacks on user errors."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from lakebox.cli import app


def run(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAKEBOX_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "lakebox.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
        check=False,
    )


@pytest.fixture
def home(lake_home: Path) -> Path:
    data = lake_home / "b" / "t" / "x.csv"
    data.parent.mkdir(parents=True)
    data.write_text('1,a\n2,b\n3,"c,d"\n')
    proc = run(
        lake_home,
        "sql",
        "CREATE EXTERNAL TABLE t (id int, v string) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://b/t/'",
    )
    assert proc.returncode == 0, proc.stderr
    return lake_home


def test_csv_output_for_pipes(home: Path) -> None:
    proc = run(home, "sql", "SELECT id, v FROM t ORDER BY id", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows == [["id", "v"], ["1", "a"], ["2", "b"], ["3", '"c']]


def test_json_output_is_one_object_per_line(home: Path) -> None:
    proc = run(home, "sql", "SELECT id, v FROM t WHERE id < 3 ORDER BY id", "--format", "json")
    assert [json.loads(line) for line in proc.stdout.splitlines()] == [
        {"id": 1, "v": "a"},
        {"id": 2, "v": "b"},
    ]


def test_table_output_shows_types_and_summary(home: Path) -> None:
    proc = run(home, "sql", "SELECT count(*) AS n FROM t")
    assert proc.returncode == 0
    assert "bigint" in proc.stdout and "1 rows" in proc.stdout


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELECT * FROM nope", "Table 'default.nope' does not exist"),
        ("SELECT id FROM t WHERE", "line 1:"),
        ("CREATE EXTERNAL TABLE z (a foo) LOCATION 's3://b/z/'", "foo"),
        ("DROP TABLE ghost", "ghost"),
    ],
)
def test_user_errors_print_one_line_without_traceback(
    home: Path, statement: str, message: str
) -> None:
    proc = run(home, "sql", statement)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_script_file_is_split_correctly_and_errors_name_the_line(
    home: Path, tmp_path: Path
) -> None:
    script = tmp_path / "s.sql"
    script.write_text("SELECT ';' AS semi;\n/* ; */\nSELECT 2 AS two;\n\nSELECT * FROM nope;\n")
    proc = run(home, "sql", "-f", str(script), "--format", "csv")
    assert proc.stdout.splitlines() == ["semi", ";", "two", "2"]
    assert proc.returncode == 1
    assert f"{script}: line 5:18: Table 'default.nope' does not exist (statement 3" in proc.stderr


def test_catalog_commands(home: Path) -> None:
    assert "default" in run(home, "catalog", "databases").stdout
    tables = run(home, "catalog", "tables", "default").stdout
    assert "t" in tables and "s3://b/t/" in tables
    ddl = run(home, "catalog", "show", "t").stdout
    assert "CREATE EXTERNAL TABLE" in ddl and "s3://b/t/" in ddl


def test_missing_script_file_is_reported(home: Path, tmp_path: Path) -> None:
    proc = run(home, "sql", "-f", str(tmp_path / "absent.sql"))
    assert proc.returncode == 1
    assert f"SQL script {tmp_path / 'absent.sql'} does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_shell_on_a_terminal_keeps_history(home: Path) -> None:
    """A real pseudo-terminal: statements typed at the prompt run, errors do not end the
    shell, and the history file remembers what was typed."""
    import pty
    import select

    env = {**os.environ, "LAKEBOX_HOME": str(home), "TERM": "xterm", "COLUMNS": "120"}
    pid, fd = pty.fork()
    if pid == 0:  # child: becomes the shell
        os.execve(sys.executable, [sys.executable, "-m", "lakebox.cli", "shell"], env)
    output = b""

    def read_until(marker: bytes, timeout: float = 60) -> None:
        nonlocal output
        import time

        deadline = time.monotonic() + timeout
        while marker not in output:
            assert time.monotonic() < deadline, output.decode(errors="replace")[-2000:]
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    output += os.read(fd, 65536)
                except OSError:
                    break

    read_until(b"default>")
    os.write(fd, b"SELECT count(*) AS n\r")
    os.write(fd, b"FROM t;\r")
    read_until(b"3")
    os.write(fd, b"SELECT * FROM ghost;\r")
    read_until(b"does not exist")
    os.write(fd, b"quit\r")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    history = (home / "_lakebox" / "shell_history").read_text()
    assert "SELECT * FROM ghost;" in history


def test_shell_reads_a_pipe_like_a_script(home: Path) -> None:
    proc = run(home, "shell", stdin="SELECT 40 + 2 AS answer;\nSELECT * FROM ghost;\n")
    assert proc.returncode == 0
    assert "42" in proc.stdout and "line 2" in proc.stderr


# -- bad input: one line naming what is wrong, never a traceback ----------------------------

runner = CliRunner()


def invoke(home: Path, *args: str) -> Result:
    return runner.invoke(app, list(args), env={"LAKEBOX_HOME": str(home), "COLUMNS": "300"})


def one_error_line(result: Result) -> str:
    """The ``error: ...`` line a failed command printed (there must be exactly one)."""
    assert result.exit_code not in (0, None), result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_division_by_zero_is_athenas_error_without_engine_advice(lake_home: Path) -> None:
    line = one_error_line(invoke(lake_home, "sql", "SELECT 1 / 0"))
    assert line == "error: DIVISION_BY_ZERO: Division by zero"


def test_insert_type_mismatch_lists_both_sides(lake_home: Path) -> None:
    location = f"s3://b/{uuid.uuid4().hex}/"
    create = f"CREATE EXTERNAL TABLE m (a string, b int) STORED AS PARQUET LOCATION '{location}'"
    assert invoke(lake_home, "sql", create).exit_code == 0
    line = one_error_line(invoke(lake_home, "sql", "INSERT INTO m SELECT 1, 'x'"))
    assert "Table: [varchar, integer], Query: [integer, varchar]" in line


def test_corrupt_gzip_file_is_named_by_its_lake_uri(lake_home: Path) -> None:
    data = lake_home / "b" / "g" / "part-0.csv.gz"
    data.parent.mkdir(parents=True)
    whole = gzip.compress(b"".join(b"%d,x\n" % i for i in range(2000)))
    data.write_bytes(whole[: len(whole) // 2])
    ddl = "CREATE EXTERNAL TABLE g (a int, b string) ROW FORMAT DELIMITED "
    ddl += "FIELDS TERMINATED BY ',' LOCATION 's3://b/g/'"
    assert invoke(lake_home, "sql", ddl).exit_code == 0
    line = one_error_line(invoke(lake_home, "sql", "SELECT count(*) FROM g"))
    assert "s3://b/g/part-0.csv.gz" in line and "GZIP" in line
    assert str(lake_home) not in line  # the lake URI, not the engine's local path


@pytest.mark.parametrize("text", ["", "   \n", "/* only a comment */\n-- and another"])
def test_empty_sql_is_an_error(lake_home: Path, text: str) -> None:
    line = one_error_line(invoke(lake_home, "sql", text))
    assert "no statement to run" in line


def test_script_error_names_the_script_line_and_statement(lake_home: Path, tmp_path: Path) -> None:
    script = tmp_path / "job.sql"
    script.write_text("SELECT 1;\n-- the next one is wrong\nSELECT 1,\n  nope FROM ghost;\n")
    line = one_error_line(invoke(lake_home, "sql", "-f", str(script)))
    assert line.startswith(f"error: {script}: line 4:")
    assert "(statement 2, from line 2)" in line


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)), "looks like a binary file (a NUL byte at offset 0)"),
        ("SELECT 'é'".encode("latin-1"), "is not UTF-8 text: byte 0xe9 at offset 8"),
    ],
)
def test_undecodable_script_is_named(
    lake_home: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    script = tmp_path / "bad.sql"
    script.write_bytes(content)
    line = one_error_line(invoke(lake_home, "sql", "-f", str(script)))
    assert f"SQL script {script} {message}" in line


def test_utf16_script_with_bom_runs(lake_home: Path, tmp_path: Path) -> None:
    script = tmp_path / "u16.sql"
    script.write_bytes("SELECT 'ü' AS u".encode("utf-16"))
    result = invoke(lake_home, "sql", "-f", str(script), "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == ["u", "ü"]


# -- the lake: resolved where the command was typed, created only by commands that create --


def test_read_only_commands_do_not_create_a_lake(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    for args in (
        ["sql", "SELECT 1"],
        ["catalog", "databases"],
        ["history"],
        ["workgroup", "list"],
        ["query", "get", "x"],
        ["workflow", "list"],
        ["schedule", "list"],
        ["crawler", "list"],
        ["stream", "list"],
    ):
        line = one_error_line(invoke(missing, *args))
        assert f"no lake at {missing}: create one with `lakebox init {missing}`" in line, args
    assert not missing.exists()


def test_init_creates_a_lake_once(tmp_path: Path) -> None:
    home = tmp_path / "new"
    first = runner.invoke(app, ["init", str(home)])
    assert first.exit_code == 0 and f"created lake at {home}" in first.output
    assert (home / "_lakebox").is_dir()
    again = runner.invoke(app, ["init", "--home", str(home)])
    assert again.exit_code == 0 and "lake already exists" in again.output
    assert invoke(home, "catalog", "databases").output.split() == ["default"]


def test_a_create_statement_creates_the_lake(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    result = invoke(home, "sql", "/* set up */\nCREATE DATABASE sales")
    assert result.exit_code == 0, result.output
    assert "sales" in invoke(home, "catalog", "databases").output.split()


def test_home_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    line = one_error_line(invoke(afile, "sql", "CREATE DATABASE x"))
    assert f"lake home {afile} is a file, not a folder" in line
    line = one_error_line(invoke(afile / "sub", "sql", "CREATE DATABASE x"))
    assert f"cannot create a lake at {afile / 'sub'}: Not a directory" in line


def test_subprocess_resolves_home_against_its_cwd_and_never_prints_a_traceback(
    tmp_path: Path,
) -> None:
    """The real console entry point, run from another folder: a relative --home (and
    LAKEBOX_HOME) is that folder's, a missing one is reported, bad input is one line."""
    env = {k: v for k, v in os.environ.items() if k != "LAKEBOX_HOME"}

    def lakebox(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lakebox.cli", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**env, "COLUMNS": "300", **extra},
            timeout=120,
            check=False,
        )

    missing = lakebox("sql", "SELECT 1", "--home", "typo")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert f"no lake at {tmp_path / 'typo'}" in missing.stderr
    assert not (tmp_path / "typo").exists()
    made = lakebox("init", "--home", "rel")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "rel" / "_lakebox").is_dir()
    script = tmp_path / "bad.sql"
    script.write_bytes(b"\x00\x01binary")
    bad = lakebox("sql", "-f", "bad.sql", LAKEBOX_HOME="rel")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "SQL script bad.sql looks like a binary file" in bad.stderr
    afile = lakebox("workflow", "list", "--home", "bad.sql")
    assert afile.returncode == 1 and "Traceback" not in afile.stderr
    assert f"lake home {script} is a file, not a folder" in afile.stderr


DEV = Path(__file__).resolve().parents[2] / "dev"


@pytest.mark.skipif(
    not (DEV.parent / ".venv" / "bin" / "lakebox").exists(),
    reason="./dev has not set up .venv in this checkout",
)
def test_dev_script_runs_lakebox_in_the_callers_folder(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LAKEBOX_HOME"}
    proc = subprocess.run(
        [str(DEV), "lakebox", "init", "--home", "from-elsewhere"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "from-elsewhere" / "_lakebox").is_dir()
    assert not (DEV.parent / "from-elsewhere").exists()


def test_os_error_inside_a_query_names_the_path(lake_home: Path) -> None:
    (lake_home / "results").write_text("a file where the results bucket should be")
    result = invoke(lake_home, "sql", "SELECT 1", "--output-location", "s3://results/q/")
    line = one_error_line(result)
    assert line.startswith(f"error: cannot access {lake_home / 'results'}")
    assert "Not a directory" in line and "internal error" not in line


@pytest.mark.parametrize(
    ("statement", "on_engine"),
    [
        ("SELECT 1", True),
        ("  -- a comment\n/* and another */ select 1", True),
        ("(SELECT 1) UNION ALL (SELECT 2)", True),
        ("WITH a AS (SELECT 1) SELECT * FROM a", True),
        ("INSERT INTO t VALUES (1)", True),
        ("UNLOAD (SELECT 1) TO 's3://b/x/' WITH (format = 'PARQUET')", True),
        ("CREATE TABLE t WITH (format = 'PARQUET') AS SELECT 1", True),
        ("CREATE TABLE t (a int)", False),
        ("CREATE DATABASE sales", False),
        ("SHOW TABLES", False),
        ("DROP TABLE t", False),
    ],
)
def test_the_engine_starts_early_for_statements_that_run_on_it(
    statement: str, on_engine: bool
) -> None:
    """``lakebox sql`` starts opening the engine's database while a query is parsed when
    a statement runs on it (a guess: DDL-only scripts do not pay for it)."""
    from lakebox.cli.sql import _queries

    assert _queries(statement) is on_engine
