"""The shared shape of issue 14's side-by-side figures: one work item run by lakebox and by
bare DuckDB (or another baseline), each in a fresh Python process, so that "first" really is
first (no plan cache, no imported modules, no open connection) and the peak memory of each
side is its own.

A suite module (``benchmarks/suite_*.py``) exposes ``cells(work: Path, quick: bool) ->
list[Ratio]``; ``python -m benchmarks.suite`` runs the suites and writes the results.

``child(code)`` runs ``code`` in ``python -c``: everything before the line ``# --- timed``
is set-up, everything after it is timed; the child reports the seconds, its peak RSS and
whatever the timed part assigned to ``answer`` (compared between the two sides, so a fast
wrong answer is caught).
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import textwrap
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MARK = "# --- timed"

_RUNNER = """
import json as _json, resource as _resource, sys as _sys, time as _time
_code = _sys.stdin.read()
_setup, _sep, _timed = _code.partition({mark!r})
_ns = {{"__name__": "__bench__"}}
exec(compile(_setup, "<setup>", "exec"), _ns)
_start = _time.perf_counter()
exec(compile(_timed, "<timed>", "exec"), _ns)
_seconds = _time.perf_counter() - _start
try:  # this process's own peak: ru_maxrss carries over the parent's peak across fork + exec
    with open("/proc/self/status") as _f:
        _rss = next(int(l.split()[1]) for l in _f if l.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    _rss = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024
print("\\n" + _json.dumps({{"seconds": _seconds, "rss_mb": _rss, "answer": repr(_ns.get("answer"))}}))
"""


def installed_env() -> dict[str, str]:
    """This environment as an installed lakebox runs in: byte code is written and read
    (pip compiles it at install; a ``PYTHONDONTWRITEBYTECODE`` development shell would make
    every child compile lakebox, sqlglot and the rest from source, 0.2-0.45 s per process)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_installed() -> None:
    """Write the byte code of lakebox and of the installed packages, as an install does, so
    that no measured child pays for compiling them."""
    import site
    import sysconfig

    import lakebox

    folders = [str(Path(lakebox.__file__).parent), sysconfig.get_paths()["purelib"]]
    folders += [p for p in site.getsitepackages() if p not in folders]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *folders],
        check=False,
        capture_output=True,
        env=installed_env(),
    )


@dataclass(frozen=True)
class Measurement:
    seconds: float
    rss_mb: float
    answer: str


def child(code: str, env: dict[str, str] | None = None, timeout: float = 1800) -> Measurement:
    """Run ``code`` (set-up, ``# --- timed``, timed part) in a fresh interpreter."""
    code = textwrap.dedent(code)
    if MARK not in code:
        raise ValueError(f"benchmark code has no {MARK!r} line")
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER.format(mark=MARK)],
        input=code,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**installed_env(), **(env or {})},
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    last = done.stdout.strip().splitlines()[-1]
    data = json.loads(last)
    return Measurement(float(data["seconds"]), float(data["rss_mb"]), str(data["answer"]))


@dataclass(frozen=True)
class Ratio:
    """One row of the results: lakebox and its baseline on the same work, in one run."""

    suite: str  # first-query | write | stream | startup | scale | service | memory
    name: str  # what was measured, as the README's table says it
    lakebox_s: float
    baseline_s: float
    baseline: str = "DuckDB"  # what lakebox is compared with
    lakebox_rss_mb: float | None = None
    baseline_rss_mb: float | None = None
    goal: float | None = None  # the largest acceptable lakebox / baseline time ratio
    rss_goal: float | None = None  # the largest acceptable lakebox / baseline peak RSS
    unit: str = "s"  # "s"; or "records/s" for throughput cells (ratio = baseline / lakebox)
    note: str = ""

    @property
    def ratio(self) -> float:
        if self.unit == "s":
            return self.lakebox_s / self.baseline_s if self.baseline_s else float("inf")
        return self.baseline_s / self.lakebox_s if self.lakebox_s else float("inf")

    @property
    def rss_ratio(self) -> float | None:
        if self.lakebox_rss_mb is None or not self.baseline_rss_mb:
            return None
        return self.lakebox_rss_mb / self.baseline_rss_mb

    @property
    def met(self) -> bool | None:
        """Whether the cell meets its goals (time, and peak RSS if it has an RSS goal);
        None when it has none."""
        if self.goal is None and self.rss_goal is None:
            return None
        time_ok = self.goal is None or self.ratio <= self.goal
        rss = self.rss_ratio
        rss_ok = self.rss_goal is None or (rss is not None and rss <= self.rss_goal)
        return time_ok and rss_ok

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "rss_ratio": self.rss_ratio, "met": self.met}


def pair(
    suite: str,
    name: str,
    lakebox_code: str,
    baseline_code: str,
    *,
    goal: float | None = None,
    rss_goal: float | None = None,
    baseline: str = "DuckDB",
    env: dict[str, str] | None = None,
    check_answer: bool = True,
    note: str = "",
) -> Ratio:
    """Measure both sides in fresh processes (baseline first) and, unless told otherwise,
    refuse a pair whose answers differ."""
    base = child(baseline_code, env)
    lake = child(lakebox_code, env)
    if check_answer and base.answer != lake.answer:
        raise RuntimeError(
            f"{suite}/{name}: lakebox answered {lake.answer}, {baseline} {base.answer}"
        )
    return Ratio(
        suite,
        name,
        lake.seconds,
        base.seconds,
        baseline=baseline,
        lakebox_rss_mb=lake.rss_mb,
        baseline_rss_mb=base.rss_mb,
        goal=goal,
        rss_goal=rss_goal,
        note=note,
    )


def median_of(pairs: list[Ratio]) -> Ratio:
    """One cell from several pairs of the same measurement: the median of each side's
    seconds and peak RSS (on a shared 2-core machine one pair of fresh processes moves by
    up to 2x from run to run; a cell of a few milliseconds most of all)."""
    first = pairs[0]
    if len(pairs) == 1:
        return first
    note = f"median of {len(pairs)} pairs" + (f"; {first.note}" if first.note else "")
    return dataclasses.replace(
        first,
        lakebox_s=statistics.median(p.lakebox_s for p in pairs),
        baseline_s=statistics.median(p.baseline_s for p in pairs),
        lakebox_rss_mb=statistics.median(p.lakebox_rss_mb or 0.0 for p in pairs),
        baseline_rss_mb=statistics.median(p.baseline_rss_mb or 0.0 for p in pairs),
        note=note,
    )
