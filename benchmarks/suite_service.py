"""The query service path as a suite cell (issue 14, item 6): ``SELECT 1`` through the
query service against the Python API on the same lake, measured by
``benchmarks/service_path.py`` (both paths warmed up, then timed in alternation; medians).

The goal is a difference under 3 ms, not a ratio; the cell's ratio goal is the ratio at
which the difference would be exactly 3 ms, so the cell meets its goal when the difference
is under 3 ms, and its note gives the difference in milliseconds. Both paths run in one
process, so the cell has no per-side peak RSS.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.ratios import Ratio
from benchmarks.service_path import GOAL_MS, measure

SUITE = "service"
REPEATS = 300
QUICK_REPEATS = 20


def cells(work: Path, quick: bool) -> list[Ratio]:
    repeats = QUICK_REPEATS if quick else REPEATS
    home = work / "lake"
    shutil.rmtree(home, ignore_errors=True)  # a new lake: no executions of earlier runs
    figures = measure(home, repeats)
    session_ms, difference = figures["session_ms"], figures["difference_ms"]
    return [
        Ratio(
            SUITE,
            f"SELECT 1 through the query service, median of {repeats}",
            figures["service_ms"] / 1000,
            session_ms / 1000,
            baseline="Python API",
            goal=1 + GOAL_MS / session_ms,
            note=f"difference {difference:.2f} ms (goal < {GOAL_MS:g} ms)",
        )
    ]
