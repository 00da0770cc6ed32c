"""examples/lake-formation-personas runs as its README says: against a fresh
``lakebox serve``, with the keys file the first serve wrote, and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.conftest import serving

pytestmark = pytest.mark.xdist_group("server")

SCRIPT = Path(__file__).parents[2] / "examples" / "lake-formation-personas" / "personas.py"


def test_the_personas_example_runs(tmp_path: Path) -> None:
    with serving(tmp_path / "serve") as (served, _):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAKEBOX_"))}
        env.update(AWS_SHARED_CREDENTIALS_FILE=str(served.keys_file), AWS_CONFIG_FILE=os.devnull)
        proc = subprocess.run(
            [sys.executable, str(SCRIPT), "--endpoint", served.url],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "WRONG" not in proc.stdout
    assert proc.stdout.rstrip().endswith("done: every persona saw what Lake Formation's rules say")
    assert proc.stdout.count("  ok    ") >= 15, proc.stdout
