"""The `lakebox` command as a user runs it: a real subprocess, no tracebacks on user errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


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
    assert proc.returncode == 2 and "cannot read" in proc.stderr
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
