"""How a partitioned scan's SQL shape costs in DuckDB, on the scale suite's table (built by
``benchmarks.suite_scale``): the same queries over

- ``join``: every file with DuckDB's ``filename`` column, joined to a registered table of
  each file's partition values (``TRY_CAST`` per row): lakebox's scan before issue 14;
- ``folders``: the files read with ``hive_partitioning`` and ``hive_types`` VARCHAR, the
  values typed with ``TRY_CAST``: lakebox's scan of partitions in their Hive folders;
- ``constants``: one ``read_parquet`` per partition with its values as typed constants,
  ``UNION ALL``-ed: lakebox's last resort (readers that cannot name a row's file);
- ``bare``: ``read_parquet('.../*/*/*.parquet', hive_partitioning = true)``, what a DuckDB
  user writes.

One process, one connection, the shapes interleaved run after run (a busy machine slows
them alike); each query warmed once per shape, then timed ``--runs`` times. Reported: the
median CPU seconds of the process (every DuckDB thread, less sensitive to other processes
than the wall clock) and the fastest wall time.

    python -m benchmarks.scan_shapes [--quick] [--runs 7]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from benchmarks.suite_scale import QUICK_ROWS, ROWS, build

QUERIES = {
    "suite join": (
        "SELECT p.category, f.region, count(*) AS n, sum(f.amount) AS total "
        "FROM ({sales}) f JOIN {products} p ON f.product_id = p.product_id "
        "WHERE f.qty > 0 GROUP BY p.category, f.region ORDER BY p.category, f.region"
    ),
    "suite top-N": "SELECT id, dt, region, amount FROM ({sales}) ORDER BY amount DESC, id LIMIT 10",
    "top-N by id": "SELECT id, dt, region, amount FROM ({sales}) ORDER BY id DESC LIMIT 10",
    "top-N by key": (
        "SELECT id, dt, region, amount FROM ({sales}) ORDER BY dt DESC, amount DESC, id LIMIT 10"
    ),
    "group by keys": "SELECT dt, region, count(*), max(amount) FROM ({sales}) GROUP BY ALL ORDER BY ALL",
    "filter on data": (
        "SELECT count(*), sum(amount) FROM ({sales}) WHERE id BETWEEN 5000000 AND 5000100"
    ),
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def shapes(home: Path) -> dict[str, str]:
    root = home / "bench" / "sales"
    files = sorted(str(p) for p in root.glob("*/*/*.parquet"))
    paths = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    cols = '"id", "product_id", "amount", "qty"'
    return {
        "join": (
            f'SELECT s.{cols.replace(", ", ", s.")}, TRY_CAST(p.k0 AS DATE) AS "dt", '
            'TRY_CAST(p.k1 AS VARCHAR) AS "region" '
            f"FROM (SELECT {cols}, __file FROM read_parquet({paths}, "
            "hive_partitioning = false, filename = '__file')) AS s "
            "JOIN files AS p ON s.__file = p.__file"
        ),
        "folders": (
            f'SELECT {cols}, TRY_CAST("dt" AS DATE) AS "dt", '
            f'TRY_CAST("region" AS VARCHAR) AS "region" FROM (SELECT {cols}, "dt", "region" '
            f"FROM read_parquet({paths}, hive_partitioning = true, "
            "hive_types = {'dt': 'VARCHAR', 'region': 'VARCHAR'}))"
        ),
        "constants": "\nUNION ALL\n".join(
            f"SELECT {cols}, TRY_CAST('{dt.split('=')[1]}' AS DATE) AS \"dt\", "
            f"TRY_CAST('{region.split('=')[1]}' AS VARCHAR) AS \"region\" "
            f"FROM read_parquet(['{f}'], hive_partitioning = false)"
            for f, (dt, region) in zip(files, _folders(files), strict=True)
        ),
        "bare": f"SELECT * FROM read_parquet('{root}/*/*/*.parquet', hive_partitioning = true)",
    }


def _folders(files: list[str]) -> list[tuple[str, str]]:
    """Each file's two ``key=value`` folders."""
    return [(f.split("/")[-3], f.split("/")[-2]) for f in files]


def main() -> None:
    import duckdb
    import pyarrow as pa

    p = argparse.ArgumentParser(prog="python -m benchmarks.scan_shapes")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--work", type=Path, default=Path(__file__).parent / "data" / "suite")
    args = p.parse_args()
    rows = QUICK_ROWS if args.quick else ROWS
    home = build(args.work / f"scale-{rows}", rows)
    con = duckdb.connect()
    files = sorted(str(f) for f in (home / "bench" / "sales").glob("*/*/*.parquet"))
    folders = _folders(files)
    con.register(
        "files",
        pa.table(
            {
                "__file": files,
                "k0": [d.split("=", 1)[1] for d, _ in folders],
                "k1": [r.split("=", 1)[1] for _, r in folders],
            }
        ),
    )
    products = f"read_parquet('{home / 'bench' / 'products' / '*.parquet'}')"
    scans = shapes(home)
    print(f"{rows:,} rows, {len(files)} files; median CPU s (fastest wall s) of {args.runs} runs")
    for name, query in QUERIES.items():
        sqls = {s: query.format(sales=sql, products=products) for s, sql in scans.items()}
        answers = {s: con.sql(sql).fetchall() for s, sql in sqls.items()}
        if len({repr(a) for a in answers.values()}) != 1:
            raise RuntimeError(f"{name}: the shapes' answers differ")
        cpu: dict[str, list[float]] = {s: [] for s in sqls}
        wall: dict[str, list[float]] = {s: [] for s in sqls}
        for _ in range(args.runs):
            for s, sql in sqls.items():
                c, t = _cpu(), time.perf_counter()
                con.sql(sql).fetchall()
                wall[s].append(time.perf_counter() - t)
                cpu[s].append(_cpu() - c)
        cells = "  ".join(f"{s} {statistics.median(cpu[s]):.3f} ({min(wall[s]):.3f})" for s in sqls)
        print(f"{name:15} {cells}")


if __name__ == "__main__":
    main()
