"""The DuckDB-against-Spark suite (``./dev bench --suite spark``, benchmarks/suite_spark.py)
at a tiny scale: the data is generated and registered in a lake, bare DuckDB and lakebox on
Spark local[2] run the same queries and CTAS in fresh processes, their answers agree, and
the results are written with the machine, the times and the peak memory of each engine's
process tree (the JVM's included). Timings are never asserted.

Slow (a JVM starts): about two minutes on a shared two-core machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def importable(monkeypatch: pytest.MonkeyPatch) -> None:
    if str(ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(ROOT))


def test_duckdb_and_spark_local_answer_alike_and_the_results_say_so(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    from benchmarks.__main__ import main

    results = tmp_path / "results"
    code = main(
        [
            "--suite", "spark",
            "--rows", "50000",
            "--engines", "duckdb,spark-local",
            "--no-spill",
            "--data-dir", str(tmp_path / "data"),
            "--results-dir", str(results),
        ]
    )  # fmt: skip
    assert code == 0
    data = json.loads((results / "spark.json").read_text())
    assert data["rows"] == 50_000 and data["machine"]["cores"] and data["machine"]["pyspark"]
    assert data["data"]["lineitem_rows"] == 50_000 and data["data"]["orders_rows"] == 12_500
    assert data["data"]["partitions"] == 7  # one per ship year, 1992-1998
    assert set(data["load_average"]) == {"start", "end"}
    assert [r["engine"] for r in data["runs"]] == ["duckdb", "spark-local"]
    names = ["first scan", "Q1 aggregation", "Q6 filter-sum", "join + group by", "top-N", "CTAS"]
    assert data["queries"] == names
    duckdb, spark = data["runs"]
    for run in (duckdb, spark):
        assert run["exit"] == 0 and run["startup_s"] > 0
        assert list(run["steps"]) == names
        for step in run["steps"].values():
            assert "error" not in step, step
            assert step["seconds"] > 0 and step["peak_rss_mb"] > 0
    for name, step in spark["steps"].items():
        assert step["agrees"] is True, name
        assert step["answer"], name
        assert step["ratio"] == pytest.approx(step["seconds"] / duckdb["steps"][name]["seconds"])
    # the CTAS wrote one ship year in seven ship modes, and every answer has real rows
    (ctas,) = spark["steps"]["CTAS"]["answer"]
    assert ctas[0] > 0 and ctas[2] == 7
    (q1_first, *_) = spark["steps"]["Q1 aggregation"]["answer"]
    assert q1_first[:2] == ["A", "F"] and q1_first[-1] > 0
    # the tree's memory holds the JVM: far more than bare DuckDB's one process
    assert spark["peak_rss_mb"] > duckdb["peak_rss_mb"] + 200
    # the CTAS tables were dropped and their files removed; no process left behind
    lake = tmp_path / "data" / "spark" / "rows50000" / "lake" / "tpch"
    assert sorted(p.name for p in lake.iterdir()) == ["lineitem", "orders"]
    md = (results / "spark.md").read_text()
    assert "lakebox on Spark local[2]" in md and "Problems: none" in md
    for name in names:
        assert f"| {name} |" in md
    # docs/scale-out.md's figures come from the same file
    from benchmarks.suite_spark import DOC, render_docs

    doc = render_docs(DOC.read_text(encoding="utf-8"), data)
    block = doc.split("<!-- spark-bench:begin -->")[1].split("<!-- spark-bench:end -->")[0]
    assert "50,000 lineitem rows" in block and "| Q1 aggregation |" in block
    assert doc.count("<!-- spark-bench:begin -->") == 1


def test_answers_compare_integers_exactly_and_decimals_to_their_sixth_place() -> None:
    from benchmarks.suite_spark import same_answer

    assert same_answer([["A", 3, 25.993424]], [["A", 3, 25.99342447982649]])
    assert same_answer([["A", 3, 0.049958]], [["A", 3, 0.04995800099321975]])
    assert not same_answer([["A", 3, 1.0]], [["A", 4, 1.0]])
    assert not same_answer([["A", 3, 25.99]], [["A", 3, 25.993424]])
    assert not same_answer([["A", 3]], [["A", 3], ["B", 1]])
    assert not same_answer([["A", 3]], [["B", 3]])


def test_the_memory_sampler_counts_a_process_tree(tmp_path: Path) -> None:
    """A child that holds 200 MB under a parent shell: the tree's RSS counts it."""
    from benchmarks.suite_spark import Sampler, tree_rss_mb

    hold = "b = bytearray(200 * 2**20); import time; time.sleep(30)"
    proc = subprocess.Popen(
        ["/bin/sh", "-c", f'"{sys.executable}" -c "{hold}"; true'], start_new_session=True
    )
    try:
        with Sampler([proc.pid]) as sampler:
            deadline = time.monotonic() + 20
            while tree_rss_mb([proc.pid]) < 200 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)
        assert tree_rss_mb([proc.pid]) >= 200
        assert (sampler.peak() or 0) >= 200
        assert tree_rss_mb([os.getpid()]) > 0
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()
