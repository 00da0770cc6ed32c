"""``lakebox doctor / backup / restore`` and damaged stores as a user meets them: a real
``lakebox`` process, one error line naming the file, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from metadata.damage import damage


def run(home: Path | None, *args: str, columns: int = 1000) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    env.pop("LAKEBOX_HOME", None)
    extra = ["--home", str(home)] if home is not None else []
    return subprocess.run(
        [sys.executable, "-m", "lakebox.cli", *args, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake with a table, a workflow and a crawler, built once; tests get a copy."""
    lake_home = tmp_path_factory.mktemp("template") / "lake"
    data = lake_home / "b" / "t" / "x.csv"
    data.parent.mkdir(parents=True)
    data.write_text("1,a\n2,b\n")
    definition = lake_home.parent / "m.json"
    definition.write_text('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}')
    for args in (
        (
            "sql",
            "CREATE EXTERNAL TABLE t (id int, v string) "
            "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://b/t/'",
        ),
        ("workflow", "create", "m", str(definition)),
        ("crawler", "create", "c", "--database", "default", "--target", "s3://b/t/"),
    ):
        proc = run(lake_home, *args)
        assert proc.returncode == 0, proc.stderr
    return lake_home


@pytest.fixture
def home(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "lake"
    shutil.copytree(template, copy)
    return copy


def _one_error_line(proc: subprocess.CompletedProcess[str], path: Path) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and str(path) in lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("store", "kind", "command"),
    [
        ("catalog.sqlite", "junk", ("sql", "SELECT * FROM t")),
        ("catalog.sqlite", "flipped-pages", ("catalog", "databases")),
        ("queries.sqlite", "flipped-schema", ("sql", "SELECT 1")),
        ("queries.sqlite", "cut-mid-page", ("history",)),
        ("workflows.sqlite", "flipped-schema", ("workflow", "list")),
        ("crawlers.sqlite", "junk", ("crawler", "list")),
    ],
)
def test_damaged_store_gives_one_line_naming_the_file(
    home: Path, store: str, kind: str, command: tuple[str, ...]
) -> None:
    path = home / "_lakebox" / store
    damage(path, kind)
    line = _one_error_line(run(home, *command), path)
    assert "lakebox doctor" in line and "lakebox restore" in line


def test_doctor_reports_ok_then_the_damaged_store(home: Path) -> None:
    healthy = run(home, "doctor")
    assert healthy.returncode == 0, healthy.stdout
    assert "no problems found" in healthy.stdout
    for store in ("catalog.sqlite", "workflows.sqlite", "crawlers.sqlite"):
        assert f"ok       {store}: intact" in healthy.stdout

    damage(home / "_lakebox" / "crawlers.sqlite", "flipped-pages")
    sick = run(home, "doctor")

    assert sick.returncode == 1
    [problem] = [line for line in sick.stdout.splitlines() if line.startswith("PROBLEM")]
    assert problem.startswith("PROBLEM  crawlers.sqlite: damaged")
    assert f"lakebox restore BACKUP --home {home}" in problem
    assert sick.stdout.rstrip().endswith("1 problem(s) found")


def test_doctor_on_a_missing_lake_does_not_create_it(tmp_path: Path) -> None:
    proc = run(tmp_path / "typo", "doctor")
    assert proc.returncode == 1 and "no lake at" in proc.stdout
    assert not (tmp_path / "typo").exists()


def test_doctor_fix_undoes_a_dead_write(home: Path) -> None:
    writes = home / "_lakebox" / "writes"
    writes.mkdir(exist_ok=True)
    child = subprocess.Popen(["true"])
    child.wait()
    (writes / "q1.json").write_text(
        '{"query_id": "q1", "kind": "UNLOAD", "target": "s3://b/o/", '
        f'"staging": "s3://b/o/.q1/", "pid": {child.pid}, "host": "{os.uname().nodename}", '
        '"phase": "staging", "moves": [], "partitions_added": [], "extras": []}'
    )
    (home / "b" / "o" / ".q1").mkdir(parents=True)
    assert run(home, "doctor").returncode == 1

    fixed = run(home, "doctor", "--fix")

    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "fixed    finished or undid write q1" in fixed.stdout
    assert not (writes / "q1.json").exists() and not (home / "b" / "o" / ".q1").exists()


@pytest.mark.parametrize("name", ["bk", "bk.tar.gz"])
def test_backup_then_restore_round_trips_through_the_cli(
    home: Path, tmp_path: Path, name: str
) -> None:
    made = run(home, "backup", str(tmp_path / name))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("backed up 4 stores")

    assert run(home, "sql", "DROP TABLE t").returncode == 0
    damage(home / "_lakebox" / "workflows.sqlite", "junk")

    back = run(home, "restore", str(tmp_path / name))

    assert back.returncode == 0, back.stderr
    assert "the metadata it replaced is in" in back.stdout
    rows = run(home, "sql", "SELECT id, v FROM t ORDER BY id", "--format", "csv")
    assert rows.stdout.splitlines() == ["id,v", "1,a", "2,b"]
    assert "m" in run(home, "workflow", "list").stdout.split()
    assert run(home, "doctor").returncode == 0


def test_restore_of_a_damaged_backup_is_refused_with_one_line(home: Path, tmp_path: Path) -> None:
    archive = tmp_path / "bk.tar.gz"
    assert run(home, "backup", str(archive)).returncode == 0
    archive.write_bytes(archive.read_bytes()[:300])
    _one_error_line(run(home, "restore", str(archive)), archive)
    assert [p.name for p in home.iterdir() if p.name.startswith("_")] == ["_lakebox"]


@pytest.mark.parametrize("command", ["doctor", "backup", "restore"])
def test_help_fits_an_80_column_terminal(command: str) -> None:
    proc = run(None, command, "--help", columns=80)
    assert proc.returncode == 0
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    assert "--home" in proc.stdout
