"""Start-up: ``lakebox --help`` lists every command without importing the lake's engine.

The help is built from the CLI modules alone; DuckDB, sqlglot, pyarrow and the
``Lakehouse`` load only when a command opens a lake (issue 14: about 2 s of imports
otherwise). A subprocess, because this test process has imported them already."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("duckdb", "sqlglot", "pyarrow", "lakebox.lakehouse", "lakebox.workflows", "boto3")

PROBE = """
import json, sys
from lakebox.cli import app
try:
    app(["--help"], prog_name="lakebox")
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def test_help_imports_no_engine() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0
    assert "Commands" in done.stdout and "crawler" in done.stdout
    loaded = [m for m in report["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert not loaded, f"lakebox --help imported {loaded}"
