"""Issue 14's first-query cells: the first query a new user runs on a table, through the
Python API, against bare DuckDB reading the same files.

Each side is a fresh process (``benchmarks.ratios``). lakebox's set-up opens a new lake
(empty lake cache: no compacted copy, no key index, no plan) and defines the table with
Athena DDL; the timed part is ``lakebox.connect(home).sql(query).fetchall()`` of the
already-open session. DuckDB's set-up connects; the timed part runs the same query over
``read_json`` / ``read_parquet`` / ``read_csv`` of the same files as a DuckDB user writes
it, a glob with DuckDB's own type detection (faster than naming every file with the
table's types: for 10,000 JSON files ``count(*)`` takes DuckDB 2 s that way, 13-20 s the
other). Answers are compared: the count, or the number of rows a ``LIMIT`` returned (the
two sides type the columns differently).

Cells (full size; ``quick`` shrinks every one):

- ``SELECT * ... LIMIT 10`` and ``count(*)`` on 10,000 small JSON files (148,534 log rows);
- ``count(*)`` on 100 Parquet files holding 5,000,000 rows;
- ``count(*)`` on one CSV file of about 74 MB.

    python -m benchmarks.suite_first_query [--quick] [--work DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import duckdb

from benchmarks.athena_formats import SERDES, data_files
from benchmarks.logdata import COLUMNS, PUBLISHED_ROWS, Layout, ensure_layout
from benchmarks.ratios import Ratio, median_of, pair

SUITE = "first-query"
GOAL = 1.2
TABLE = "logs"
#: rows of the CSV cell: one file of about 74 MB
CSV_ROWS = 400_000
PARQUET_ROWS = 5_000_000
PARQUET_FILES = 100


def _lakebox_code(home: Path, ddl: str, query: str, limit: bool) -> str:
    """A fresh lake on ``home``'s data (its catalog and cache removed), the table defined in
    the set-up, the query timed."""
    return f"""
import shutil
import lakebox
shutil.rmtree({str(home / "_lakebox")!r}, ignore_errors=True)
session = lakebox.connect({str(home)!r})
session.sql({ddl!r})
# --- timed
answer = session.sql({query!r}).fetchall()
answer = len(answer) if {limit!r} else answer
"""


def _duckdb_code(query: str, limit: bool) -> str:
    return f"""
import duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
# --- timed
answer = con.sql({query!r}).fetchall()
answer = len(answer) if {limit!r} else answer
"""


def _ddl(fmt: str, location: str) -> str:
    cols = ", ".join(f"`{c}` {t}" for c, t in COLUMNS)
    return f"CREATE EXTERNAL TABLE {TABLE} ({cols}) {SERDES[fmt]} LOCATION '{location}'"


def _write_parquet(folder: Path, rows: int, files: int) -> None:
    """``rows`` rows of four columns in ``files`` Parquet files, written once."""
    done = folder / "_done"
    if done.exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    con = duckdb.connect()
    per = rows // files
    for n in range(files):
        con.execute(
            f"COPY (SELECT i AS id, 'name-' || (i % 1000) AS name, i * 0.5 AS score, "
            f"DATE '2024-01-01' + CAST(i % 365 AS INTEGER) AS day "
            f"FROM range({n * per}, {(n + 1) * per}) t(i)) "
            f"TO '{folder / f'part-{n:03d}.parquet'}' (FORMAT parquet)"
        )
    done.write_text(str(rows))


def cells(work: Path, quick: bool, repeats: int | None = None) -> list[Ratio]:
    """The four first-query cells (``quick``: small sizes, for a smoke test), each the
    median of ``repeats`` pairs (default 5, quick 1): the Parquet cell takes about 10 ms
    a side, where one pair of fresh processes can be off by 1.8x."""
    runs = repeats or (1 if quick else 5)
    home = work / "first-query" / ("quick" if quick else "full")
    bucket = home / "b"
    json_rows, json_files = (3_000, 300) if quick else (PUBLISHED_ROWS, 10_000)
    csv_rows = 20_000 if quick else CSV_ROWS
    pq_rows, pq_files = (200_000, 20) if quick else (PARQUET_ROWS, PARQUET_FILES)
    cache: dict[str, object] = {}
    json_dir = ensure_layout(bucket, json_rows, Layout("json", json_files), cache)
    csv_dir = ensure_layout(bucket, csv_rows, Layout("csv", 1), cache)
    cache.clear()
    pq_dir = bucket / f"parquet_{pq_files}_{pq_rows}"
    _write_parquet(pq_dir, pq_rows, pq_files)

    def location(folder: Path) -> str:
        return "s3://b/" + folder.relative_to(bucket).as_posix() + "/"

    json_src = f"read_json('{json_dir}/*.json')"
    (csv_file,) = data_files(csv_dir)
    csv_src = f"read_csv('{csv_file}')"
    json_ddl = _ddl("json", location(json_dir))
    csv_ddl = _ddl("csv", location(csv_dir))
    pq_ddl = (
        f"CREATE EXTERNAL TABLE {TABLE} (id bigint, name string, score double, day date) "
        f"STORED AS PARQUET LOCATION '{location(pq_dir)}'"
    )
    pq_src = f"read_parquet('{pq_dir}/*.parquet')"
    mb = sum(p.stat().st_size for p in csv_dir.iterdir() if not p.name.startswith("_")) / 1e6
    specs = [
        (
            f"SELECT * LIMIT 10, {json_files:,} JSON files",
            json_ddl,
            json_src,
            "SELECT * FROM {t} LIMIT 10",
        ),
        (f"count(*), {json_files:,} JSON files", json_ddl, json_src, "SELECT count(*) FROM {t}"),
        (
            f"count(*), {pq_files} Parquet files ({pq_rows:,} rows)",
            pq_ddl,
            pq_src,
            "SELECT count(*) FROM {t}",
        ),
        (f"count(*), one {mb:.0f} MB CSV", csv_ddl, csv_src, "SELECT count(*) FROM {t}"),
    ]
    results = []
    for name, ddl, source, query in specs:
        pairs = [
            pair(
                SUITE,
                name,
                _lakebox_code(home, ddl, query.format(t=TABLE), "LIMIT" in query),
                _duckdb_code(query.format(t=source), "LIMIT" in query),
                goal=GOAL,
            )
            for _ in range(runs)
        ]
        results.append(median_of(pairs))
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    p.add_argument("--work", type=Path, default=Path(__file__).parent / "data")
    p.add_argument("--repeat", type=int, default=1, help="measure every cell this many times")
    args = p.parse_args(argv)
    for _ in range(args.repeat):
        for r in cells(args.work, args.quick):
            print(
                f"{r.name:45s} lakebox {r.lakebox_s:7.3f} s ({r.lakebox_rss_mb:5.0f} MB)  "
                f"duckdb {r.baseline_s:7.3f} s ({r.baseline_rss_mb:5.0f} MB)  "
                f"ratio {r.ratio:5.2f}  goal {r.goal}  {'met' if r.met else 'NOT met'}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
