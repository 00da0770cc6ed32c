"""The shape of a side-by-side figure (``benchmarks/ratios.py``): its ratio, and whether it
meets its goals, time and peak memory alike."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def importable(monkeypatch: pytest.MonkeyPatch) -> None:
    if str(ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(ROOT))


def test_a_cell_meets_its_goal_only_when_time_and_memory_both_do() -> None:
    from benchmarks.ratios import Ratio

    def cell(seconds: float, rss_mb: float) -> Ratio:
        return Ratio(
            "memory",
            "q",
            seconds,
            1.0,
            lakebox_rss_mb=rss_mb,
            baseline_rss_mb=100,
            goal=1.2,
            rss_goal=1.5,
        )

    assert cell(1.1, 140).met is True
    assert cell(1.1, 160).met is False  # fast enough, too much memory
    assert cell(1.3, 140).met is False
    assert Ratio("memory", "q", 1.0, 1.0, rss_goal=1.5).met is False  # no RSS measured
    assert Ratio("memory", "q", 9.0, 1.0).met is None  # no goal at all


def test_throughput_cells_invert_the_ratio() -> None:
    from benchmarks.ratios import Ratio

    stream = Ratio("stream", "put", 150_000, 300_000, unit="records/s", goal=2.0)
    assert stream.ratio == 2.0 and stream.met is True


def test_a_child_reports_its_own_peak_memory_not_its_parents() -> None:
    from benchmarks.ratios import child

    ballast = bytearray(400 * 2**20)  # the parent's peak RSS passes 400 MB
    ballast[:: 2**12] = b"\1" * len(ballast[:: 2**12])
    small = child("x = 1\n# --- timed\nanswer = x + 1\n")
    big = child(
        "# --- timed\nblock = bytearray(200 * 2**20)\nblock[::4096] = b'\\1' * len(block[::4096])\nanswer = len(block)\n"
    )
    del ballast
    assert small.answer == "2" and small.rss_mb < 200
    assert big.answer == str(200 * 2**20) and big.rss_mb > small.rss_mb + 150
