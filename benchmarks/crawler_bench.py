"""Crawler benchmark: time to crawl many small files and a large volume of data.

Generates data under a temporary folder (removed afterwards unless ``--keep``), crawls it
with a fresh lake, and prints one line per scenario. Sizes are arguments so a quick run is
cheap; CI never runs this file.

    python benchmarks/crawler_bench.py                        # 10,000 files and 1 GB
    python benchmarks/crawler_bench.py --small-files 500 --big-mb 64
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import tempfile
import time
from pathlib import Path

from lakebox.catalog.model import Database
from lakebox.config import LakeConfig
from lakebox.crawler import Crawler, CrawlerService, Target


def make_small_files(root: Path, count: int) -> int:
    """``count`` small JSON / CSV files spread over Hive partitions; returns bytes written."""
    total = 0
    per_folder = 100
    for i in range(count):
        day = f"day={i // per_folder:04d}"
        if i % 2:
            folder = root / "events" / day
            body = "".join(
                json.dumps(
                    {
                        "id": i * 10 + j,
                        "kind": "click",
                        "value": j * 0.5,
                        "user": {"name": f"u{j}", "tags": ["a", "b"]},
                    }
                )
                + "\n"
                for j in range(10)
            )
            name = f"part-{i:06d}.json"
        else:
            folder = root / "orders" / day
            body = "id,amount,customer\n" + "".join(
                f"{i * 10 + j},{j * 1.25},c{j}\n" for j in range(10)
            )
            name = f"part-{i:06d}.csv"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(body)
        total += len(body)
    return total


def make_big_files(root: Path, megabytes: int, file_mb: int = 128) -> int:
    """About ``megabytes`` MB of CSV (plain and gzip) in files of ``file_mb`` MB."""
    line = "1234567,2024-01-01T00:00:00,some text value here,42.5,true\n"
    block = ("id,ts,note,amount,flag\n" + line * ((1 << 20) // len(line))).encode()
    rows_only = (line * ((1 << 20) // len(line))).encode()
    written = 0
    index = 0
    while written < megabytes << 20:
        size_mb = min(file_mb, megabytes - (written >> 20))
        folder = root / "big" / f"part={index % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"chunk-{index:04d}.csv"
        with open(path, "wb") as fh:
            fh.write(block)
            for _ in range(size_mb - 1):
                fh.write(rows_only)
        written += path.stat().st_size
        index += 1
    gz = root / "bigz" / "file.csv.gz"
    gz.parent.mkdir(parents=True)
    with gzip.open(gz, "wb", compresslevel=1) as fh:
        fh.write(block)
        for _ in range(min(63, megabytes)):
            fh.write(rows_only)
    return written


def crawl(home: Path, path: str, name: str) -> tuple[float, str]:
    config = LakeConfig(home=home)
    service = CrawlerService(config)
    if not service.catalog.database_exists("bench"):
        service.catalog.create_database(Database("bench"))
    service.create_crawler(Crawler(name, "bench", [Target(path)]))
    start = time.perf_counter()
    run = service.start_crawler(name)
    elapsed = time.perf_counter() - start
    summary = (
        f"{run.state}: {len(run.tables_created)} tables, {run.partitions_added} "
        f"partitions, {run.files_read} files read, {len(run.skipped)} skipped"
    )
    return elapsed, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-files", type=int, default=10_000)
    parser.add_argument("--big-mb", type=int, default=1024)
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lakebox-crawler-bench-"))
    try:
        home = tmp / "lake"
        bucket = home / "bench"
        if args.small_files:
            t0 = time.perf_counter()
            size = make_small_files(bucket / "small", args.small_files)
            gen = time.perf_counter() - t0
            elapsed, summary = crawl(home, "s3://bench/small/", "small")
            print(
                f"{args.small_files} small files ({size / 1e6:.1f} MB, generated in "
                f"{gen:.1f}s): crawled in {elapsed:.2f}s "
                f"({args.small_files / elapsed:,.0f} files/s) — {summary}"
            )
        if args.big_mb:
            t0 = time.perf_counter()
            size = make_big_files(bucket / "large", args.big_mb)
            gen = time.perf_counter() - t0
            elapsed, summary = crawl(home, "s3://bench/large/", "large")
            print(
                f"{size / (1 << 20):,.0f} MB in large files (generated in {gen:.1f}s): "
                f"crawled in {elapsed:.2f}s — {summary}"
            )
    finally:
        if args.keep:
            print(f"data kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
