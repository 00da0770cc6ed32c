"""Planning cost of a scan over many partitions: a Parquet table of ``--partitions`` Hive
partitions (``k=0/`` ... one small file each), queried through the Python API in this
process: the first query (listing, footers, planning, engine start) and the same query
again (a reused plan), then a new text of the same query (planned again over the watched
listing). Wall seconds, median of ``--runs``.

    python -m benchmarks.many_partitions [--partitions 2000] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path


def build(work: Path, partitions: int) -> Path:
    import duckdb

    import lakebox

    home = work / f"many-{partitions}"
    marker = home / "built"
    if marker.exists():
        return home
    if home.exists():
        shutil.rmtree(home)
    folder = home / "bench" / "t"
    folder.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT i AS id, i % {partitions} AS k FROM range({partitions * 10}) t(i)) "
        f"TO '{folder}' (FORMAT parquet, PARTITION_BY (k))"
    )
    con.close()
    lake = lakebox.connect(str(home))
    lake.sql(
        "CREATE EXTERNAL TABLE t (id bigint) PARTITIONED BY (k int) STORED AS PARQUET "
        "LOCATION 's3://bench/t/'"
    )
    lake.sql("MSCK REPAIR TABLE t")
    lake.lake.close()
    marker.touch()
    return home


def main() -> None:
    import lakebox

    p = argparse.ArgumentParser(prog="python -m benchmarks.many_partitions")
    p.add_argument("--partitions", type=int, default=2000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--work", type=Path, default=Path(__file__).parent / "data" / "suite")
    args = p.parse_args()
    home = build(args.work, args.partitions)
    query = "SELECT count(*), max(id), max(k) FROM t"
    lake = lakebox.connect(str(home))
    timings: dict[str, list[float]] = {"first": [], "again": [], "new text": []}
    try:
        start = time.perf_counter()
        answer = lake.sql(query).fetchall()
        timings["first"].append(time.perf_counter() - start)
        for n in range(args.runs):
            start = time.perf_counter()
            lake.sql(query).fetchall()
            timings["again"].append(time.perf_counter() - start)
            start = time.perf_counter()
            lake.sql(f"{query} WHERE id >= -{n + 1}").fetchall()
            timings["new text"].append(time.perf_counter() - start)
    finally:
        lake.lake.close()
    print(
        f"{args.partitions} partitions {answer}: "
        + ", ".join(f"{k} {statistics.median(v):.3f} s" for k, v in timings.items())
    )


if __name__ == "__main__":
    main()
