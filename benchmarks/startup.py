"""Start-up of the ``lakebox`` command (issue 14 item 5): ``lakebox --help`` and
``lakebox sql "SELECT 1"`` against ``python -c "import duckdb"``, each a fresh process
(wall time from spawn to exit, peak RSS of the child), median of N runs, plus the biggest
``-X importtime`` entries of each command.

    python -m benchmarks.startup [--runs 7] [--top 12] [--instructions]

Goals: ``--help`` under 0.35 s, ``sql "SELECT 1"`` under 0.6 s on the reference machine;
a cell's goal ratio is that goal over the baseline measured in the same run, so the ratio
meets it exactly when the command takes at most the goal's seconds. The runs are
interleaved (baseline, help, sql, baseline, ...) so that load on a shared machine falls on
all three alike. Byte-code is cached as after an install: the children run without
``PYTHONDONTWRITEBYTECODE`` and a warm-up run writes the ``.pyc`` files first.

``cells(work, quick)`` is the suite's entry; ``main`` also writes
benchmarks/results/startup.json with the import-time tops. ``--instructions`` adds each
command's count of executed instructions (all threads, under valgrind's callgrind, one run
with a fixed hash seed): a diagnostic that other load on the machine does not move, for
comparing two versions on a busy machine; it takes a minute or two.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from benchmarks.ratios import Ratio

GOALS = {"help": 0.35, "sql": 0.6}
NAMES = {"help": "lakebox --help", "sql": 'lakebox sql "SELECT 1"'}
BASELINE = 'python -c "import duckdb"'


def _commands(home: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "lakebox.cli"]
    return {
        "duckdb": [sys.executable, "-c", "import duckdb"],
        "help": [*cli, "--help"],
        "sql": [*cli, "sql", "--home", str(home), "SELECT 1"],
    }


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "COLUMNS": "80"}


class Sample(NamedTuple):
    seconds: float  # wall, spawn to exit
    rss_mb: float  # the child's peak RSS
    cpu_s: float  # the child's user + system CPU: less moved by other processes' load


#: starts the measured command and reports its wall time and rusage: the command is the
#: launcher's child, not the benchmark's, because Linux carries a parent's peak RSS into a
#: child it forks (a suite that built 10M rows made every command "use" 630 MB); the
#: launcher itself is small
_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as fh:
    json.dump([seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime,
               os.waitstatus_to_exitcode(status)], fh)
"""


def run_once(argv: list[str]) -> tuple[Sample, str]:
    """One run of ``argv``: its figures and its standard output."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(suffix=".json") as report,
    ):
        launcher = [sys.executable, "-c", _LAUNCHER, report.name, *argv]
        subprocess.run(launcher, stdout=out, stderr=err, env=_env(), check=False)
        out.seek(0)
        err.seek(0)
        try:
            seconds, rss_mb, cpu, code = json.loads(Path(report.name).read_text())
        except ValueError:
            code = None
        if code != 0:
            raise RuntimeError(f"{' '.join(argv[1:])} failed:\n{err.read().decode()[-2000:]}")
        return Sample(seconds, rss_mb, cpu), out.read().decode()


def _init(work: Path) -> Path:
    home = work / "startup-lake"
    if not home.exists():
        subprocess.run(
            [sys.executable, "-m", "lakebox.cli", "init", str(home)],
            check=True,
            capture_output=True,
            env=_env(),
        )
    return home


def measure(work: Path, runs: int) -> dict[str, list[Sample]]:
    """``runs`` interleaved samples of each command, after one warm-up each; the ``sql``
    output is checked (a fast wrong answer is no answer)."""
    commands = _commands(_init(work))
    for argv in commands.values():
        run_once(argv)
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            sample, out = run_once(argv)
            if name == "sql" and "SUCCEEDED" not in out:
                raise RuntimeError(f"lakebox sql printed no successful execution:\n{out}")
            samples[name].append(sample)
    return samples


def medians(samples: dict[str, list[Sample]]) -> dict[str, Sample]:
    return {
        name: Sample(*(statistics.median(column) for column in zip(*rows, strict=True)))
        for name, rows in samples.items()
    }


def cells(work: Path, quick: bool) -> list[Ratio]:
    med = medians(measure(work, 3 if quick else 7))
    base = med["duckdb"]
    return [
        Ratio(
            "startup",
            NAMES[name],
            med[name].seconds,
            base.seconds,
            baseline=BASELINE,
            lakebox_rss_mb=med[name].rss_mb,
            baseline_rss_mb=base.rss_mb,
            goal=goal / base.seconds,
            note=(
                f"goal {goal} s absolute (ratio goal = {goal} s / baseline); CPU "
                f"{med[name].cpu_s:.3f} s vs {base.cpu_s:.3f} s"
            ),
        )
        for name, goal in GOALS.items()
    ]


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


def instructions(argv: list[str]) -> int | None:
    """Instructions ``argv`` executes (all its threads), counted by valgrind's callgrind;
    None without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [valgrind, "--tool=callgrind", f"--callgrind-out-file={tmp}/out", *argv],
            capture_output=True,
            text=True,
            env={**_env(), "PYTHONHASHSEED": "0"},
        )
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr) or re.search(
        r"I\s+refs:\s*([\d,]+)", done.stderr
    )
    return int(found.group(1).replace(",", "")) if found else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.startup")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--top", type=int, default=12)
    p.add_argument(
        "--instructions",
        action="store_true",
        help="also count each command's instructions under valgrind (load-independent)",
    )
    p.add_argument("--work", type=Path, default=Path(__file__).parent / "data" / "startup")
    p.add_argument("--results-dir", type=Path, default=Path(__file__).parent / "results")
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    med = medians(measure(args.work, args.runs))
    load = (load_before, os.getloadavg()[0])
    commands = _commands(_init(args.work))
    imports = {name: top_imports(commands[name], args.top) for name in GOALS}
    counts = (
        {name: instructions(argv) for name, argv in commands.items()} if args.instructions else {}
    )
    base = med["duckdb"]
    report = {
        "runs": args.runs,
        "load_average_1min": load,  # before and after: other work on the machine
        "median_s": {n: m.seconds for n, m in med.items()},
        "median_cpu_s": {n: m.cpu_s for n, m in med.items()},
        "peak_rss_mb": {n: m.rss_mb for n, m in med.items()},
        "ratio_to_import_duckdb": {n: med[n].seconds / base.seconds for n in GOALS},
        "goals_s": GOALS,
        "top_imports_s": imports,
        "instructions": counts,
    }
    print(f"load average {load[0]:.1f} -> {load[1]:.1f} on {os.cpu_count()} CPUs")
    for name, goal in GOALS.items():
        m = med[name]
        ok = "meets" if m.seconds <= goal else "misses"
        print(
            f"{name:6} {m.seconds:.3f} s  {m.seconds / base.seconds:.1f}x import duckdb "
            f"({base.seconds:.3f} s); {ok} the {goal} s goal; CPU {m.cpu_s:.3f} s vs "
            f"{base.cpu_s:.3f} s; peak RSS {m.rss_mb:.0f} MB vs {base.rss_mb:.0f} MB"
        )
        for module, seconds in imports[name][:5]:
            print(f"    {seconds:.3f} s  {module}")
    for name, count in counts.items():
        print(f"instructions {name:6} {count / 1e9:.3f} G" if count else f"{name}: no count")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "startup.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
