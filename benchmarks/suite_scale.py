"""Scale suite: a partitioned Parquet table (10M rows in 84 Hive partitions; quick: 200k),
a join to a small dimension table and a top-N, lakebox's Python API next to bare DuckDB
reading the same files with ``hive_partitioning = true``.

Each query is measured first (a fresh process, the query's first run timed) and warm (the
query run once untimed, then its second run timed). Run on its own:

    python -m benchmarks.suite_scale [--quick] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.ratios import Ratio, median_of, pair

SUITE = "scale"
ROWS = 10_000_000
QUICK_ROWS = 200_000
DAYS = 21
REGIONS = ("eu", "us", "ap", "sa")  # 21 days x 4 regions: 84 partitions
PRODUCTS = 1000
#: today's warm ratios (issue 14): a warm cell must not get worse
WARM_TODAY = {"join": 1.9, "top-N": 1.3}
FIRST_GOAL = 1.2

QUERIES = {
    "join": (
        "SELECT p.category, f.region, count(*) AS n, sum(f.amount) AS total "
        "FROM {sales} f JOIN {products} p ON f.product_id = p.product_id "
        "WHERE f.qty > 0 GROUP BY p.category, f.region ORDER BY p.category, f.region"
    ),
    "top-N": ("SELECT id, dt, region, amount FROM {sales} ORDER BY amount DESC, id LIMIT 10"),
}


def build(work: Path, rows: int) -> Path:
    """The lake (``work/lake``) with bench.sales and bench.products, built once per size,
    in a child process: a child forked from a parent that grew holds the parent's peak RSS
    (Linux keeps it across exec), which would blur the figures measured after it."""
    home = work / "lake"
    marker = work / "built.json"
    if not (marker.exists() and json.loads(marker.read_text()) == {"rows": rows}):
        code = f"from benchmarks.suite_scale import _build; _build({str(work)!r}, {rows})"
        subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)
    return home


def _build(folder: str, rows: int) -> None:
    import duckdb

    import lakebox

    work = Path(folder)
    home = work / "lake"
    marker = work / "built.json"
    if work.exists():
        shutil.rmtree(work)
    sales = home / "bench" / "sales"
    products = home / "bench" / "products"
    sales.mkdir(parents=True)
    products.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    regions = "[" + ", ".join(f"'{r}'" for r in REGIONS) + "]"
    con.execute(
        f"""COPY (
            SELECT i AS id, CAST(i * 7919 % {PRODUCTS} AS INTEGER) AS product_id,
                   CAST(hash(i) % 1000000 AS BIGINT) AS amount,
                   CAST(i % 7 AS INTEGER) AS qty,
                   DATE '2024-01-01' + CAST(i % {DAYS} AS INTEGER) AS dt,
                   {regions}[CAST(i // {DAYS} % {len(REGIONS)} AS INTEGER) + 1] AS region
            FROM range({rows}) t(i)
        ) TO '{sales}' (FORMAT parquet, PARTITION_BY (dt, region))"""
    )
    con.execute(
        f"""COPY (
            SELECT CAST(i AS INTEGER) AS product_id, 'cat' || (i % 10) AS category
            FROM range({PRODUCTS}) t(i)
        ) TO '{products}/products.parquet' (FORMAT parquet)"""
    )
    con.close()
    lake = lakebox.connect(str(home))
    lake.sql("CREATE DATABASE bench")
    lake.sql(
        "CREATE EXTERNAL TABLE bench.sales (id bigint, product_id int, amount bigint, "
        "qty int) PARTITIONED BY (dt date, region string) STORED AS PARQUET "
        "LOCATION 's3://bench/sales/'"
    )
    lake.sql("MSCK REPAIR TABLE bench.sales")
    lake.sql(
        "CREATE EXTERNAL TABLE bench.products (product_id int, category string) "
        "STORED AS PARQUET LOCATION 's3://bench/products/'"
    )
    lake.lake.close()
    marker.write_text(json.dumps({"rows": rows}))


def _lakebox_code(home: Path, query: str, warm: bool) -> str:
    sql = query.format(sales="bench.sales", products="bench.products")
    warmup = f"lake.sql({sql!r}).fetchall()" if warm else ""
    return f"""
import lakebox
lake = lakebox.connect({str(home)!r})
{warmup}
# --- timed
answer = lake.sql({sql!r}).fetchall()
"""


def _duckdb_code(home: Path, query: str, warm: bool) -> str:
    glob = str(home / "bench" / "sales" / "*" / "*" / "*.parquet")
    sql = query.format(
        sales=f"read_parquet('{glob}', hive_partitioning = true)",
        products=f"read_parquet('{home / 'bench' / 'products' / '*.parquet'}')",
    )
    warmup = f"con.sql({sql!r}).fetchall()" if warm else ""
    return f"""
import duckdb
con = duckdb.connect()
{warmup}
# --- timed
answer = con.sql({sql!r}).fetchall()
"""


def cells(work: Path, quick: bool, repeats: int | None = None) -> list[Ratio]:
    """Each cell is the median of ``repeats`` pairs (default 5, quick 1): on a shared
    2-core machine one pair of fresh processes moves by 2x from run to run."""
    rows = QUICK_ROWS if quick else ROWS
    home = build(work / f"scale-{rows}", rows)
    runs = repeats or (1 if quick else 5)
    out = []
    for name, query in QUERIES.items():
        for warm in (False, True):
            pairs = [
                pair(
                    SUITE,
                    f"{'warm' if warm else 'first'} {name}, partitioned Parquet "
                    f"({rows:,} rows, {DAYS * len(REGIONS)} partitions)",
                    _lakebox_code(home, query, warm),
                    _duckdb_code(home, query, warm),
                    goal=WARM_TODAY[name] if warm else FIRST_GOAL,
                    note="warm goal: no worse than before issue 14" if warm else "",
                )
                for _ in range(runs)
            ]
            out.append(median_of(pairs))
    return out


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.suite_scale")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--work", type=Path, default=Path(__file__).parent / "data" / "suite")
    p.add_argument("--repeats", type=int, default=None, help="pairs per cell (default 5)")
    args = p.parse_args()
    for r in cells(args.work, args.quick, args.repeats):
        print(
            f"{r.name}: {r.ratio:.2f}x (lakebox {r.lakebox_s:.3f} s, {r.baseline} "
            f"{r.baseline_s:.3f} s; peak RSS {r.lakebox_rss_mb:.0f} / "
            f"{r.baseline_rss_mb:.0f} MB) {r.note}"
        )


if __name__ == "__main__":
    main()
