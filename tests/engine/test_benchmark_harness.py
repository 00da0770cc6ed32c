"""Smoke test of ``python -m benchmarks`` on a tiny dataset: the harness writes every
layout, defines the tables, checks lakebox's answers against bare DuckDB's (it raises when
they differ) and writes its results. Timings are never asserted."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def importable(monkeypatch: pytest.MonkeyPatch) -> None:
    if str(ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(ROOT))


def test_harness_runs_every_cell_and_writes_results(tmp_path: Path) -> None:
    from benchmarks.__main__ import main

    code = main(
        [
            "--rows",
            "1000",
            "--files",
            "1",
            "10",
            "--runs",
            "1",
            "--no-spark",
            "--data-dir",
            str(tmp_path / "data"),
            "--results-dir",
            str(tmp_path / "results"),
            "--label",
            "smoke",
            "--overhead-repeats",
            "3",
        ]
    )
    assert code == 0
    with (tmp_path / "results" / "smoke.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    cells = {(r["query"], r["format"], r["gzip"], r["files"]) for r in rows}
    # 3 formats x 2 file counts x 3 queries plain, and gzip JSON / CSV
    assert len(cells) == len(rows) == 18 + 12
    scans = {r["format"] + r["gzip"]: int(r["result_rows"]) for r in rows if r["query"] == "scan"}
    assert set(scans.values()) == {1000}
    likes = {int(r["result_rows"]) for r in rows if r["query"] == "like"}
    assert len(likes) == 1 and 0 < likes.pop() < 1000
    assert all(float(r["lakebox_planned_s"]) > 0 for r in rows)  # plan reuse off, timed too
    plain_json = [r for r in rows if r["format"] == "json" and r["gzip"] == "False"]
    assert all(int(r["bytes_scanned"]) > 0 for r in plain_json)
    assert (tmp_path / "results" / "smoke.png").stat().st_size > 0
    md = (tmp_path / "results" / "smoke.md").read_text()
    assert "| full scan | json | 10 |" in md
    assert "SELECT 1" in md


def test_dataset_is_deterministic_and_split_without_loss(tmp_path: Path) -> None:
    import duckdb
    from benchmarks.logdata import Layout, ensure_layout, generate

    con = duckdb.connect()
    assert generate(500, con).equals(generate(500, con))
    one = ensure_layout(tmp_path, 500, Layout("csv", 1), {})
    many = ensure_layout(tmp_path, 500, Layout("csv", 7), {})
    joined = b"".join(p.read_bytes() for p in sorted(many.glob("part-*")))
    assert joined == next(one.glob("part-*")).read_bytes()
    assert len(list(many.glob("part-*"))) == 7


def test_published_method_drops_fastest_and_slowest() -> None:
    from benchmarks.athena_formats import published_mean

    assert published_mean([5.0, 1.0, 2.0, 3.0, 100.0]) == pytest.approx((2.0 + 3.0 + 5.0) / 3)
    assert published_mean([4.0]) == 4.0
    fifteen = [float(x) for x in range(15)]  # a fifth dropped at each end: 3 and 3
    assert published_mean(fifteen) == pytest.approx(sum(range(3, 12)) / 9)


def test_service_path_piece_reports_both_paths(tmp_path: Path) -> None:
    import json

    from benchmarks.__main__ import main

    code = main(["--service-path", "--overhead-repeats", "3", "--results-dir", str(tmp_path)])
    assert code == 0
    found = json.loads((tmp_path / "service_path.json").read_text())
    assert found["repeats"] == 3
    assert found["session_ms"] > 0 and found["service_ms"] > 0
    assert found["difference_ms"] == found["service_ms"] - found["session_ms"]
    assert "cpu" in found["machine"]
