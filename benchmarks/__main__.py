"""``python -m benchmarks`` (``./dev bench``): the Athena file-format experiment on lakebox
and bare DuckDB, results under benchmarks/results/.

    python -m benchmarks                              # every cell, 148,534 rows, 5 runs
    python -m benchmarks --formats json --files 1 10000 --queries scan
    python -m benchmarks --published-only --runs 3
    python -m benchmarks --scale 10000000             # rows/s and bytes/s on 10M rows
    python -m benchmarks --overhead-only              # SELECT 1 round trip
    python -m benchmarks --service-path               # SELECT 1: query service vs Session
    python -m benchmarks --suite first-query,write,stream,startup,scale,service,memory
    python -m benchmarks --suite service,memory --quick   # small sizes: a smoke run
    python -m benchmarks --readme                     # README's ratio block from suite.json
    python -m benchmarks --suite server-load          # 50 clients on lakebox serve, 60 s
    python -m benchmarks --suite spark --rows 100000000   # DuckDB vs Spark (issue 17)
    python -m benchmarks --suite spark --rows 2000000 --engines duckdb,spark-local
    python -m benchmarks --suite spark --spark-queries q1,join --no-spill

``--suite`` runs issue 14's side-by-side suites (benchmarks/suite.py) and writes
benchmarks/results/suite.{json,md}. ``--suite spark`` runs alone: DuckDB, Spark local[2] and
a two-worker standalone cluster on one TPC-H-like dataset (benchmarks/suite_spark.py),
results in benchmarks/results/spark.{json,md}.

The other benchmarks run as scripts: benchmarks/crawler_bench.py, stream_bench.py,
workflow_transitions.py; ``python -m benchmarks.startup`` times the command's start-up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import athena_formats as af
from benchmarks import suite
from benchmarks.logdata import PUBLISHED_ROWS


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").splitlines()[0]
    )
    p.add_argument("--formats", nargs="+", choices=af.FORMATS, default=list(af.FORMATS))
    p.add_argument("--files", nargs="+", type=int, default=None, help="file counts per cell")
    p.add_argument("--queries", nargs="+", choices=list(af.QUERIES), default=list(af.QUERIES))
    p.add_argument(
        "--compression",
        nargs="+",
        choices=["none", "gzip"],
        default=None,
        help="text compression of the cells (default both; plain only for --scale); "
        "Parquet cells are never gzipped",
    )
    p.add_argument("--runs", type=int, default=5, help="warm runs per cell (default 5)")
    p.add_argument(
        "--fast-runs",
        type=int,
        default=15,
        help="warm runs of cells whose bare-DuckDB query takes under 200 ms (default 15)",
    )
    p.add_argument(
        "--rows",
        type=int,
        default=None,
        help="rows of the dataset (default 148,534; with --suite spark: lineitem rows, "
        "default 100,000,000)",
    )
    p.add_argument(
        "--engines",
        default=None,
        help="with --suite spark: which engines, comma-separated (default all: "
        "duckdb,lakebox-duckdb,spark-local,spark-cluster; bare DuckDB always runs)",
    )
    p.add_argument(
        "--spark-queries",
        default=None,
        metavar="NAMES",
        help="with --suite spark: which queries, comma-separated (default all: "
        "q1,q6,join,topn,ctas)",
    )
    p.add_argument("--no-spill", action="store_true", help="with --suite spark: no spill case")
    p.add_argument(
        "--scale",
        type=int,
        default=None,
        metavar="ROWS",
        help="scale run: this many rows (10000000 or more), 100 files by default, 3 runs, "
        "rows/s and bytes/s reported",
    )
    p.add_argument("--published-only", action="store_true", help="only the published cells")
    p.add_argument("--data-dir", type=Path, default=Path(__file__).parent / "data")
    p.add_argument("--results-dir", type=Path, default=Path(__file__).parent / "results")
    p.add_argument(
        "--spark",
        action="store_true",
        help="add Spark local mode as a third column (needs pyspark and Java 17+; "
        "'./dev bench --spark' installs the pinned pyspark)",
    )
    p.add_argument("--no-spark", action="store_true", help="no Spark column (the default)")
    p.add_argument(
        "--spark-max-files",
        type=int,
        default=10_000,
        help="run Spark only on cells of at most this many files",
    )
    p.add_argument("--no-chart", action="store_true")
    p.add_argument("--no-verify", action="store_true", help="skip comparing the two answers")
    p.add_argument("--no-overhead", action="store_true", help="skip the SELECT 1 round trip")
    p.add_argument("--overhead-only", action="store_true")
    p.add_argument("--overhead-repeats", type=int, default=300)
    p.add_argument(
        "--service-path",
        action="store_true",
        help="only SELECT 1 through the query service vs the Python API, --overhead-repeats "
        "rounds (benchmarks/service_path.py)",
    )
    p.add_argument(
        "--replot", action="store_true", help="rewrite the table and chart from the saved JSON"
    )
    p.add_argument("--label", default=None, help="results file name (default by mode)")
    p.add_argument(
        "--suite",
        default=None,
        metavar="NAMES",
        help="run issue 14's suites, comma-separated, all in one run: "
        + ",".join(suite.SUITES)
        + "; or server-load alone (benchmarks/server_load.py); or spark alone "
        "(benchmarks/suite_spark.py)",
    )
    p.add_argument("--quick", action="store_true", help="with --suite: small sizes, a smoke run")
    p.add_argument(
        "--work",
        type=Path,
        default=None,
        help="with --suite: scratch folder for the suites' data (default DATA_DIR/suite)",
    )
    p.add_argument(
        "--readme",
        action="store_true",
        help="rewrite the README's ratio block from benchmarks/results/suite.json",
    )
    return p.parse_args(argv)


def options(args: argparse.Namespace) -> af.Options:
    rows = args.scale or args.rows or PUBLISHED_ROWS
    files = tuple(args.files) if args.files else ((100,) if args.scale else af.FILE_COUNTS)
    runs = args.runs if not args.scale or args.runs != 5 else 3
    label = args.label or (f"scale_{rows}" if args.scale else "athena_formats")
    if not args.label and rows != PUBLISHED_ROWS and not args.scale:
        label = f"athena_formats_{rows}"
    if not args.label and args.overhead_only:
        label = "overhead"
    return af.Options(
        rows=rows,
        formats=tuple(args.formats),
        files=files,
        queries=tuple(args.queries),
        compression=tuple(
            c == "gzip"
            for c in (args.compression or (["none"] if args.scale else ["none", "gzip"]))
        ),
        runs=runs,
        # a smoke run asking for fewer than five runs gets that many everywhere
        fast_runs=max(runs, args.fast_runs) if runs >= 5 else runs,
        data_dir=args.data_dir,
        results_dir=args.results_dir,
        published_only=args.published_only,
        spark=args.spark and not args.no_spark,
        spark_max_files=args.spark_max_files,
        chart=not args.no_chart,
        verify=not args.no_verify,
        label=label,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.readme:
        print(f"rewrote {suite.write_readme(args.results_dir / 'suite.json')}")
        return 0
    if args.suite is not None and args.suite.strip() == "server-load":
        # not a side-by-side suite: its own results file (benchmarks/server_load.py)
        from benchmarks import server_load

        quick = ["--quick"] if args.quick else []
        return server_load.main([*quick, "--results-dir", str(args.results_dir)])
    if args.suite is not None and args.suite.strip() == "spark":
        # DuckDB against Spark on one large dataset: its own results file
        from benchmarks import suite_spark

        forwarded = ["--results-dir", str(args.results_dir), "--data-dir", str(args.data_dir)]
        forwarded += ["--rows", str(args.rows)] if args.rows else []
        forwarded += ["--engines", args.engines] if args.engines else []
        forwarded += ["--queries", args.spark_queries] if args.spark_queries else []
        forwarded += ["--no-spill"] if args.no_spill else []
        forwarded += ["--label", args.label] if args.label else []
        return suite_spark.main(forwarded)
    if args.suite is not None:
        try:
            names = suite.parse_suites(args.suite)
        except ValueError as err:
            print(f"python -m benchmarks: {err}", file=sys.stderr)
            return 2
        return suite.main(
            names,
            quick=args.quick,
            work=args.work or args.data_dir / "suite",
            results_dir=args.results_dir,
            label=args.label,
        )
    if args.service_path:
        from benchmarks import service_path

        repeats = ["--repeats", str(args.overhead_repeats)]
        return service_path.main([*repeats, "--results-dir", str(args.results_dir)])
    opts = options(args)
    if args.replot:
        results, notes, saved, info = af.load(opts.results_dir / f"{opts.label}.json")
        paths = af.save(results, opts, notes, saved, info)
        print("results: " + ", ".join(str(p) for p in paths.values()))
        return 0
    overhead = None
    if not args.no_overhead:
        overhead = af.trivial_overhead(opts.data_dir / "overhead-lake", args.overhead_repeats)
        print("SELECT 1 round trip (µs): " + ", ".join(f"{k} {v:.0f}" for k, v in overhead.items()))
    if args.overhead_only:
        if overhead:
            af.save([], opts, [], overhead)
        return 0
    results, notes = af.run_cells(opts)
    for note in notes:
        print(note)
    paths = af.save(results, opts, notes, overhead)
    print("results: " + ", ".join(str(p) for p in paths.values()))
    missed = [r for r in results if r.goals()]
    print(f"{len(results) - len(missed)} of {len(results)} cells meet the goals")
    return 0


if __name__ == "__main__":
    sys.exit(main())
