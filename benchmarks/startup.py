"""Start-up of the ``lakebox`` command (issue 14 item 5): ``lakebox --help`` and
``lakebox sql "SELECT 1"`` against ``python -c "import duckdb"``, each a fresh process,
median of N runs, plus the biggest ``-X importtime`` entries of each command.

    python -m benchmarks.startup [--runs 7] [--top 12]

Goals: ``--help`` under 0.35 s, ``sql "SELECT 1"`` under 0.6 s on the reference machine.
Results go to benchmarks/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS = {"help": 0.35, "sql": 0.6}


def _commands(home: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "lakebox.cli"]
    return {
        "help": [*cli, "--help"],
        "sql": [*cli, "sql", "--home", str(home), "SELECT 1"],
        "duckdb": [sys.executable, "-c", "import duckdb"],
    }


def _env() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "80"}


def median_seconds(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=_env())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def top_imports(argv: list[str], top: int) -> list[tuple[str, float]]:
    """The ``top`` modules with the largest cumulative import time (seconds)."""
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True, env=_env()
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((parts[2].strip(), int(parts[1]) / 1e6))
    return sorted(rows, key=lambda r: -r[1])[:top]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.startup")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--results-dir", type=Path, default=Path(__file__).parent / "results")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "lake"
        subprocess.run(
            [sys.executable, "-m", "lakebox.cli", "init", str(home)],
            check=True,
            capture_output=True,
        )
        commands = _commands(home)
        medians = {name: median_seconds(cmd, args.runs) for name, cmd in commands.items()}
        imports = {name: top_imports(commands[name], args.top) for name in GOALS}
    report = {
        "runs": args.runs,
        "median_s": medians,
        "ratio_to_import_duckdb": {n: medians[n] / medians["duckdb"] for n in GOALS},
        "goals_s": GOALS,
        "top_imports_s": imports,
    }
    for name, goal in GOALS.items():
        ok = "meets" if medians[name] <= goal else "misses"
        print(
            f"{name:6} {medians[name]:.3f} s  {medians[name] / medians['duckdb']:.1f}x import "
            f"duckdb ({medians['duckdb']:.3f} s); {ok} the {goal} s goal"
        )
        for module, seconds in imports[name][:5]:
            print(f"    {seconds:.3f} s  {module}")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "startup.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
