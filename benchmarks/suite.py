"""Issue 14's figures in one run: ``./dev bench --suite first-query,write,stream,startup,
scale,service,memory [--quick]``.

Each suite is a module, ``benchmarks/suite_<name>.py`` (``benchmarks/startup.py`` for
start-up), exposing ``cells(work, quick) -> list[Ratio]`` (``benchmarks/ratios.py``): lakebox
and its baseline on the same work, each side in a fresh process, with both peak RSS figures.
The suites run one after the other in this process; a suite whose module is missing, or
that fails, is reported as such in the results and the others still run.

Results go to ``benchmarks/results/suite.{json,md}`` (``suite_quick.*`` for ``--quick``), with
the machine described and the run's duration. The README's benchmark section shows the
ratios next to the warm figures: the block between ``<!-- issue14-ratios:begin -->`` and
``<!-- issue14-ratios:end -->`` is generated from ``suite.json`` (a full run rewrites it;
``./dev bench --readme`` rewrites it from the saved file), and a test fails when it is out
of date.
"""

from __future__ import annotations

import importlib
import json
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.athena_formats import machine
from benchmarks.ratios import Ratio, compile_installed

#: every suite, in the order a full run takes them
SUITES = ("first-query", "write", "stream", "startup", "scale", "service", "memory", "governance")
#: suites whose module does not follow the ``suite_<name>`` naming
MODULES = {"startup": "benchmarks.startup"}
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
README = ROOT / "README.md"
BLOCK = "issue14-ratios"


def module_name(suite: str) -> str:
    return MODULES.get(suite, f"benchmarks.suite_{suite.replace('-', '_')}")


def parse_suites(text: str) -> list[str]:
    """``first-query,write`` -> the suites, checked against the known names."""
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in SUITES]
    if unknown or not names:
        raise ValueError(
            f"unknown suite {', '.join(unknown) or '(none given)'}; the suites are "
            + ",".join(SUITES)
        )
    return list(dict.fromkeys(names))


@dataclass
class SuiteRun:
    """One suite's outcome: its cells, how long it took, and why it has none if so."""

    suite: str
    status: str = "ok"  # ok | missing | failed
    seconds: float = 0.0
    cells: list[Ratio] = field(default_factory=list)
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "status": self.status,
            "seconds": self.seconds,
            "error": self.error,
        }


def run_suite(suite: str, work: Path, quick: bool) -> SuiteRun:
    name = module_name(suite)
    start = time.perf_counter()
    try:
        module = importlib.import_module(name)
        cells: Callable[[Path, bool], list[Ratio]] | None = getattr(module, "cells", None)
        if cells is None:
            return SuiteRun(suite, "missing", error=f"{name} has no cells(work, quick) function")
        folder = work / suite
        folder.mkdir(parents=True, exist_ok=True)
        found = cells(folder, quick)
    except ModuleNotFoundError as err:
        if err.name == name:
            path = name.replace(".", "/") + ".py"
            return SuiteRun(suite, "missing", error=f"{path} is not there")
        return _failed(suite, start, err)
    except Exception as err:  # one broken suite must not lose the others' figures
        return _failed(suite, start, err)
    return SuiteRun(suite, "ok", time.perf_counter() - start, list(found))


def _failed(suite: str, start: float, err: Exception) -> SuiteRun:
    return SuiteRun(
        suite,
        "failed",
        time.perf_counter() - start,
        error=f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=3)}",
    )


def run(
    suites: Sequence[str], work: Path, quick: bool, log: Callable[[str], None] = print
) -> tuple[list[SuiteRun], float]:
    """Run the suites in order; returns their outcomes and the total seconds."""
    start = time.perf_counter()
    compile_installed()
    runs = []
    for suite in suites:
        log(f"== {suite}")
        outcome = run_suite(suite, work, quick)
        for cell in outcome.cells:
            log("   " + _cell_line(cell))
        if outcome.status != "ok":
            log(f"   {outcome.status}: {outcome.error.splitlines()[0]}")
        log(f"   {outcome.seconds:.1f} s")
        runs.append(outcome)
    return runs, time.perf_counter() - start


def _cell_line(r: Ratio) -> str:
    rss = "" if r.rss_ratio is None else f", peak RSS {r.rss_ratio:.2f}x"
    met = "" if r.met is None else (" (meets the goal)" if r.met else " (misses the goal)")
    return f"{r.name}: {r.ratio:.2f}x {r.baseline}{rss}{met}"


def record(runs: list[SuiteRun], seconds: float, quick: bool) -> dict[str, Any]:
    return {
        "quick": quick,
        "seconds": seconds,
        "machine": machine(),
        "suites": [r.to_json() for r in runs],
        "cells": [c.to_json() for r in runs for c in r.cells],
    }


def save(data: dict[str, Any], results_dir: Path, label: str) -> dict[str, Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": results_dir / f"{label}.json", "md": results_dir / f"{label}.md"}
    paths["json"].write_text(json.dumps(data, indent=2) + "\n")
    paths["md"].write_text(markdown(data))
    return paths


# -- rendering ----------------------------------------------------------------------------


def _num(value: float, unit: str) -> str:
    if unit != "s":
        return f"{value:,.0f} {unit}"
    return f"{value * 1000:,.0f} ms" if value < 1 else f"{value:,.2f} s"


def _rss(cell: dict[str, Any]) -> str:
    lake, base = cell.get("lakebox_rss_mb"), cell.get("baseline_rss_mb")
    if lake is None or base is None:
        return ""
    return f"{lake:,.0f} / {base:,.0f} MB ({cell['rss_ratio']:.2f})"


def _goal(cell: dict[str, Any]) -> str:
    goals = []
    if cell.get("goal") is not None:
        goals.append(f"≤ {cell['goal']:.2f}")
    if cell.get("rss_goal") is not None:
        goals.append(f"RSS ≤ {cell['rss_goal']:.2f}")
    return ", ".join(goals)


def _met(cell: dict[str, Any]) -> str:
    return {True: "yes", False: "**no**", None: ""}[cell.get("met")]


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; Python "
        f"{info['python']}, DuckDB {info['duckdb']}, pyarrow {info['pyarrow']}, lakebox "
        f"{info['lakebox']}; {info['date']}"
    )


def table(data: dict[str, Any]) -> str:
    """The ratio table: one row per cell, then the suites that gave no figures."""
    lines = [
        "| suite | what | lakebox | baseline | lakebox / baseline | goal | met "
        "| peak RSS lakebox / baseline (ratio) |",
        "|---|---|---:|---:|---:|---|---|---:|",
    ]
    for c in data["cells"]:
        what = c["name"] + (f" — {c['note']}" if c.get("note") else "")
        lines.append(
            f"| {c['suite']} | {what} | {_num(c['lakebox_s'], c['unit'])} | "
            f"{_num(c['baseline_s'], c['unit'])} ({c['baseline']}) | {c['ratio']:.2f} | "
            f"{_goal(c)} | {_met(c)} | {_rss(c)} |"
        )
    for s in data["suites"]:
        if s["status"] != "ok":
            first = s["error"].splitlines()[0] if s["error"] else ""
            lines.append(f"| {s['suite']} | {s['status']}: {first} | | | | | | |")
    return "\n".join(lines)


def summary(data: dict[str, Any]) -> str:
    goals = [c for c in data["cells"] if c.get("met") is not None]
    met = sum(1 for c in goals if c["met"])
    ran = ", ".join(s["suite"] for s in data["suites"] if s["status"] == "ok") or "(none)"
    without = ", ".join(s["suite"] for s in data["suites"] if s["status"] != "ok")
    n = len(data["cells"])
    return (
        f"{n} cell{'' if n == 1 else 's'} from the suites {ran}"
        f"{f' (no figures from {without})' if without else ''}"
        f"{' (quick sizes)' if data['quick'] else ''}, measured in one run of "
        f"{data['seconds'] / 60:.1f} minutes; {met} of {len(goals)} cells with a goal meet it."
    )


def markdown(data: dict[str, Any]) -> str:
    return (
        f"Machine: {machine_line(data['machine'])}. {summary(data)} Each side runs in a fresh "
        "process; a ratio is lakebox / baseline for times (baseline / lakebox for "
        "throughputs), so below 1 is faster.\n\n" + table(data) + "\n"
    )


def readme_block(data: dict[str, Any]) -> str:
    """The README's issue-14 block: the ratio table of the saved full run."""
    return (
        f"First queries, writes, streams, start-up, scale, the query service and memory, "
        f"lakebox against its baseline on the same work ({summary(data)} "
        f"{machine_line(data['machine'])}; `benchmarks/results/suite.md`):\n\n" + table(data)
    )


def render(text: str, data: dict[str, Any]) -> str:
    """``text`` with its ``issue14-ratios`` block replaced by ``readme_block(data)``."""
    begin, end = f"<!-- {BLOCK}:begin -->", f"<!-- {BLOCK}:end -->"
    if begin not in text or end not in text:
        raise ValueError(f"the README has no {begin} ... {end} block")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return (
        f"{head}{begin}\n<!-- generated by ./dev bench --readme from "
        f"benchmarks/results/suite.json; do not edit -->\n\n{readme_block(data)}\n\n{end}{tail}"
    )


def write_readme(results: Path = RESULTS / "suite.json", readme: Path = README) -> Path:
    data = json.loads(results.read_text())
    readme.write_text(render(readme.read_text(encoding="utf-8"), data), encoding="utf-8")
    return readme


def main(
    suites: Sequence[str],
    *,
    quick: bool,
    work: Path,
    results_dir: Path,
    label: str | None = None,
    readme: Path | None = README,
) -> int:
    """Run, save, and after a full run into the committed results, rewrite the README's
    block. Returns 0 when every suite gave its figures, 1 otherwise."""
    runs, seconds = run(suites, work, quick)
    data = record(runs, seconds, quick)
    label = label or ("suite_quick" if quick else "suite")
    paths = save(data, results_dir, label)
    print(f"results: {paths['json']}, {paths['md']} ({seconds / 60:.1f} minutes)")
    committed = results_dir.resolve() == RESULTS.resolve()
    if readme is not None and not quick and label == "suite" and committed:
        print(f"rewrote {write_readme(paths['json'], readme)}")
    return 0 if all(r.status == "ok" for r in runs) else 1
