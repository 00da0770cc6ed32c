"""The query service path (issue 14, item 6): ``SELECT 1`` through the query service
(``QueryService.run``: an execution in queries.sqlite, its result file and ``.metadata``
written and fsynced) against the Python API (``lakebox.connect(home).sql``), and the
difference, whose goal is under 3 ms.

    python -m benchmarks --service-path              # 300 rounds (--overhead-repeats)
    python -m benchmarks.service_path --repeats 500  # 200 rounds by default
    python -m benchmarks.service_path --profile 3000 # where a service SELECT 1 goes

Both paths run on one lake in a temporary folder, warmed up first, and are timed in
alternation (one of each per round), so load from elsewhere on the machine weighs on both
alike; the figures are medians. Results go to benchmarks/results/service_path.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lakebox
from benchmarks.athena_formats import machine
from lakebox.query.service import QueryService

#: the issue's goal: the service path costs less than this much more than the Python API
GOAL_MS = 3.0
WARM_UP = 20


def measure(home: Path, repeats: int = 200) -> dict[str, float]:
    """Median milliseconds of ``SELECT 1`` through the Session and through the service,
    and their difference."""
    session = lakebox.connect(home)
    service = QueryService(session.lake)
    paths: dict[str, Callable[[], object]] = {
        "session_ms": lambda: session.sql("SELECT 1").to_arrow(),
        "service_ms": lambda: service.run("SELECT 1"),
    }
    times: dict[str, list[float]] = {name: [] for name in paths}
    try:
        for _ in range(WARM_UP):
            for fn in paths.values():
                fn()
        for _ in range(repeats):
            for name, fn in paths.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    finally:
        service.close()
        session.lake.close()
    out = {name: statistics.median(ts) * 1000 for name, ts in times.items()}
    out["difference_ms"] = out["service_ms"] - out["session_ms"]
    return out


def profile(home: Path, runs: int, top: int = 30) -> None:
    """cProfile over ``runs`` service ``SELECT 1``s, printed per thread: the caller's
    (start, hand-off, wait) and the worker's (``QueryService._run``: the statement, the
    result files, the final commit). Diagnostics only; nothing is measured against a goal.
    cProfile follows one thread, so the worker's profile is switched on around each run."""
    import cProfile
    import pstats

    session = lakebox.connect(home)
    service = QueryService(session.lake)
    worker = cProfile.Profile()
    real_run = QueryService._run

    def run(self: QueryService, *args: Any) -> None:
        worker.enable()
        try:
            real_run(self, *args)
        finally:
            worker.disable()

    try:
        for _ in range(WARM_UP):
            service.run("SELECT 1")
        QueryService._run = run  # type: ignore[method-assign]
        caller = cProfile.Profile()
        caller.enable()
        for _ in range(runs):
            service.run("SELECT 1")
        caller.disable()
    finally:
        QueryService._run = real_run  # type: ignore[method-assign]
        service.close()
        session.lake.close()
    for name, prof in (("caller thread", caller), ("worker thread", worker)):
        print(f"== {name}, {runs} runs")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.service_path", description=(__doc__ or "").splitlines()[0]
    )
    p.add_argument("--repeats", type=int, default=200, help="timed rounds (default 200)")
    p.add_argument("--results-dir", type=Path, default=Path(__file__).parent / "results")
    p.add_argument("--profile", type=int, metavar="RUNS", help="cProfile RUNS service runs instead")
    args = p.parse_args(argv)
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="lakebox-service-path-") as home:
            profile(Path(home), args.profile)
        return 0
    with tempfile.TemporaryDirectory(prefix="lakebox-service-path-") as home:
        figures = measure(Path(home), args.repeats)
    verdict = "meets" if figures["difference_ms"] < GOAL_MS else "misses"
    print(
        f"SELECT 1, median of {args.repeats}: Python API {figures['session_ms']:.2f} ms, "
        f"query service {figures['service_ms']:.2f} ms, difference "
        f"{figures['difference_ms']:.2f} ms ({verdict} the goal of < {GOAL_MS:g} ms)"
    )
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / "service_path.json"
    record = {"repeats": args.repeats, "goal_ms": GOAL_MS, **figures, "machine": machine()}
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
