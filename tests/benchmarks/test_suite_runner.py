"""The issue-14 suite runner (``python -m benchmarks --suite ...``): a quick run of a small
suite writes its results with the machine described; a missing or failing suite is
reported, not fatal; the README's ratio block is the one the committed results give.
Timings are never asserted."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def importable(monkeypatch: pytest.MonkeyPatch) -> None:
    if str(ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(ROOT))


def test_a_quick_run_writes_the_results_of_its_suites(tmp_path: Path) -> None:
    from benchmarks.__main__ import main

    results = tmp_path / "results"
    code = main(
        ["--suite", "service", "--quick", "--results-dir", str(results), "--work", str(tmp_path)]
    )
    assert code == 0
    data = json.loads((results / "suite_quick.json").read_text())
    assert data["quick"] is True and data["seconds"] > 0
    assert data["machine"]["cores"] and data["machine"]["duckdb"]
    assert [s["suite"] for s in data["suites"]] == ["service"]
    assert data["suites"][0]["status"] == "ok"
    (cell,) = data["cells"]
    assert cell["suite"] == "service" and cell["baseline"] == "Python API"
    assert cell["lakebox_s"] > 0 and cell["baseline_s"] > 0
    assert cell["ratio"] == pytest.approx(cell["lakebox_s"] / cell["baseline_s"])
    assert "difference" in cell["note"] and cell["met"] in (True, False)
    md = (results / "suite_quick.md").read_text()
    assert md.startswith("Machine: ") and "| service | SELECT 1 through the query service" in md
    assert not (results / "suite.json").exists(), "a quick run must not replace the full results"


def test_unknown_suite_names_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.__main__ import main

    assert main(["--suite", "service,nope"]) == 2
    assert "unknown suite nope" in capsys.readouterr().err


def test_a_missing_or_failing_suite_is_reported_and_the_others_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.ratios import Ratio

    from benchmarks import suite

    monkeypatch.setitem(suite.MODULES, "write", "benchmarks.suite_not_written_yet")
    broken = types.ModuleType("benchmarks.suite_broken")

    def fails(work: Path, quick: bool) -> list[Ratio]:
        raise RuntimeError("the data could not be written")

    broken.cells = fails  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "benchmarks.suite_broken", broken)
    monkeypatch.setitem(suite.MODULES, "stream", "benchmarks.suite_broken")
    fine = types.ModuleType("benchmarks.suite_fine")
    fine.cells = lambda work, quick: [Ratio("scale", "x", 2.0, 1.0, goal=1.2)]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "benchmarks.suite_fine", fine)
    monkeypatch.setitem(suite.MODULES, "scale", "benchmarks.suite_fine")

    (tmp_path / "suite_needs_more.py").write_text("import lakebox_bench_absent_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(suite.MODULES, "startup", "suite_needs_more")

    code = suite.main(
        ["write", "stream", "startup", "scale"],
        quick=True,
        work=tmp_path / "work",
        results_dir=tmp_path,
        readme=None,
    )
    assert code == 1
    data = json.loads((tmp_path / "suite_quick.json").read_text())
    status = {s["suite"]: (s["status"], s["error"]) for s in data["suites"]}
    assert status["write"] == ("missing", "benchmarks/suite_not_written_yet.py is not there")
    assert status["stream"][0] == "failed"
    assert "RuntimeError: the data could not be written" in status["stream"][1]
    assert status["startup"][0] == "failed"  # its module is there; what it imports is not
    assert "No module named 'lakebox_bench_absent_dependency'" in status["startup"][1]
    assert status["scale"] == ("ok", "")
    assert [(c["suite"], c["ratio"], c["met"]) for c in data["cells"]] == [("scale", 2.0, False)]
    md = (tmp_path / "suite_quick.md").read_text()
    assert "| write | missing: benchmarks/suite_not_written_yet.py is not there |" in md
    assert "| stream | failed: RuntimeError: the data could not be written |" in md
    assert "1 cell from the suites scale (no figures from write, stream, startup)" in md


def test_the_readme_shows_the_committed_suite_results() -> None:
    from benchmarks import suite

    data = json.loads((suite.RESULTS / "suite.json").read_text())
    text = suite.README.read_text(encoding="utf-8")
    assert suite.render(text, data) == text, "run ./dev bench --readme"


def test_rendering_replaces_only_the_block() -> None:
    from benchmarks.ratios import Ratio

    from benchmarks import suite

    cell = Ratio("memory", "q", 1.0, 2.0, lakebox_rss_mb=300, baseline_rss_mb=200, rss_goal=1.5)
    data = suite.record([suite.SuiteRun("memory", cells=[cell])], 60.0, quick=False)
    text = "intro\n<!-- issue14-ratios:begin -->\nold\n<!-- issue14-ratios:end -->\nafter\n"
    out = suite.render(text, data)
    assert out.startswith("intro\n<!-- issue14-ratios:begin -->\n")
    assert out.endswith("\n<!-- issue14-ratios:end -->\nafter\n") and "old" not in out
    row = (
        "| memory | q | 1.00 s | 2.00 s (DuckDB) | 0.50 | RSS ≤ 1.50 | yes | 300 / 200 MB (1.50) |"
    )
    assert row in out
    assert "1 cell from the suites memory, measured in one run of 1.0 minutes" in out
    with pytest.raises(ValueError, match="no <!-- issue14-ratios:begin -->"):
        suite.render("no block here\n", data)


def test_the_governance_suite_measures_planning_with_and_without_checks(tmp_path: Path) -> None:
    from benchmarks import suite, suite_governance

    assert "governance" in suite.SUITES
    (cell,) = suite_governance.cells(tmp_path, quick=True)
    assert cell.suite == "governance" and cell.baseline.startswith("the local administrator")
    assert cell.lakebox_s > 0 and cell.baseline_s > 0
    assert cell.goal == pytest.approx((cell.baseline_s + 0.001) / cell.baseline_s)
    assert "ms (goal <= 1 ms;" in cell.note
