"""``lakebox functions``: create, list, invoke, delete, as a user types them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def lakebox(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAKEBOX_"))}
    return subprocess.run(
        [sys.executable, "-m", "lakebox.cli", *args, "--home", str(home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_functions_commands(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    code = tmp_path / "hello.py"
    code.write_text(
        "def lambda_handler(event, context):\n"
        "    return {'hello': event['name']}\n"
        "def broken(event, context):\n"
        "    raise ValueError('no luck')\n"
    )
    made = lakebox(
        home, "functions", "create", "hello", "--code", str(code),
        "--handler", "hello.lambda_handler", "--env", "A=b", "--timeout", "5",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    config = json.loads(made.stdout)
    assert config["FunctionName"] == "hello"
    assert config["Environment"] == {"Variables": {"A": "b"}}
    done = lakebox(home, "functions", "invoke", "hello", "--payload", '{"name": "lake"}')
    assert (done.returncode, json.loads(done.stdout)) == (0, {"hello": "lake"}), done.stderr
    lakebox(home, "functions", "create", "broken", "--code", str(code), "--handler", "hello.broken")
    failed = lakebox(home, "functions", "invoke", "broken")
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errorType"] == "ValueError"
    assert "function broken failed (Unhandled): ValueError: no luck" in failed.stderr
    assert "Traceback" not in failed.stderr
    listed = lakebox(home, "functions", "list", "--json")
    assert [f["FunctionName"] for f in json.loads(listed.stdout)["Functions"]] == [
        "broken",
        "hello",
    ]
    bad = lakebox(home, "functions", "invoke", "hello", "--payload", "{nope")
    assert bad.returncode != 0 and "the payload is not JSON" in bad.stderr
    bad = lakebox(home, "functions", "create", "x", "--code", str(code), "--handler", "nodot")
    assert bad.returncode != 0 and "Bad handler" in bad.stderr and "Traceback" not in bad.stderr
    assert lakebox(home, "functions", "delete", "hello").returncode == 0
    gone = lakebox(home, "functions", "invoke", "hello")
    assert gone.returncode != 0 and "Function not found" in gone.stderr
