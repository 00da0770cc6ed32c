"""The published Athena file-format experiment, run side by side on lakebox and bare DuckDB.

A 148,534-row Apache access log stored as JSON lines, CSV and Parquet, split into 1 / 10 /
100 / 1,000 / 10,000 files, plain and gzip, queried with a full scan, a LIKE filter and a
three-column projection. Each figure is the mean of the middle three of five warm runs, as
published; the first run of each cell (empty lakebox caches) is reported as the cold time.

lakebox runs through its public API (``lakebox.connect(home).sql(text).to_arrow()``) on
tables defined with Athena DDL; bare DuckDB runs the same query over ``read_json`` /
``read_csv`` / ``read_parquet`` of the same file list with the same column types, also
materialised to Arrow. Both answers are compared once per cell, so a fast wrong answer
fails the run instead of winning it.
"""

from __future__ import annotations

import csv
import functools
import gc
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

import lakebox
from benchmarks.logdata import COLUMNS, DUCKDB_TYPES, PUBLISHED_ROWS, Layout, ensure_layout

FILE_COUNTS = (1, 10, 100, 1000, 10000)
FORMATS = ("json", "csv", "parquet")

QUERIES: dict[str, str] = {
    "scan": "SELECT * FROM {t}",
    "like": "SELECT * FROM {t} WHERE path LIKE '%.php%'",
    "project": "SELECT host, path, status FROM {t}",
}
QUERY_TITLES = {
    "scan": "full scan (SELECT *)",
    "like": "LIKE '%.php%' on path",
    "project": "projection (host, path, status)",
}

#: published Athena seconds: (query, format, gzip) -> {files: seconds}
ATHENA: dict[tuple[str, str, bool], dict[int, float]] = {
    ("scan", "json", False): {1: 2.17, 10: 2.15, 100: 2.11, 1000: 2.03, 10000: 3.09},
    ("scan", "csv", False): {1: 2.19, 10: 2.10, 100: 2.34, 1000: 2.65, 10000: 3.04},
    ("scan", "parquet", False): {1: 1.90, 10: 1.83, 100: 1.89, 1000: 2.26, 10000: 2.49},
    ("scan", "json", True): {1: 3.03, 100: 2.62, 10000: 3.77},
    ("scan", "csv", True): {1: 2.59, 100: 2.47, 10000: 3.06},
    ("like", "json", False): {1: 1.82, 100: 1.53, 10000: 2.69},
    ("like", "csv", False): {1: 1.94, 100: 1.64, 10000: 2.71},
    ("like", "parquet", False): {1: 2.10, 100: 1.92, 10000: 1.49},
    ("project", "json", False): {1: 1.80, 100: 1.54, 10000: 2.60},
    ("project", "csv", False): {1: 1.46, 100: 1.35, 10000: 2.59},
    ("project", "parquet", False): {1: 1.45, 100: 1.50, 10000: 1.63},
}

#: the goals of issue 7: speed-up over Athena, lakebox/DuckDB ratio on few-file cells
ATHENA_SPEEDUP_GOAL = 20.0
RATIO_GOAL = 1.15
MANY_FILES = 1000
#: answers up to this size are compared row by row
EXACT_CHECK_ROWS = 2_000_000
#: cells whose bare-DuckDB query takes less than this get ``Options.fast_runs`` runs: on two
#: cores a few milliseconds of noise in one of five runs would otherwise decide their ratio
FAST_CELL_SECONDS = 0.2

SERDES = {
    "json": "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'",
    "csv": (
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' "
        "WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '\"', "
        "'escapeChar' = '\\\\') STORED AS TEXTFILE"
    ),
    "parquet": "STORED AS PARQUET",
}


@dataclass(frozen=True)
class Cell:
    layout: Layout
    query: str

    @property
    def athena(self) -> float | None:
        return ATHENA.get((self.query, self.layout.fmt, self.layout.gzip), {}).get(
            self.layout.files
        )


@dataclass
class CellResult:
    """One cell's figures, seconds unless named otherwise."""

    query: str
    fmt: str
    gzip: bool
    files: int
    rows: int
    result_rows: int
    lakebox: float
    duckdb: float
    lakebox_cold: float | None
    duckdb_cold: float | None
    athena: float | None
    bytes_scanned: int
    spark: float | None = None
    runs: list[dict[str, list[float]]] = field(default_factory=list)
    #: lakebox with plan reuse off (LAKEBOX_PLAN_CACHE=off): every run plans the query
    #: again, as a query never run before would (listings and copies still cached)
    lakebox_planned: float | None = None

    @property
    def ratio(self) -> float:
        return self.lakebox / self.duckdb if self.duckdb else float("nan")

    @property
    def vs_athena(self) -> float | None:
        return self.athena / self.lakebox if self.athena and self.lakebox else None

    def goals(self) -> list[str]:
        """The issue's goals this cell misses (empty when it meets them)."""
        missed = []
        if self.athena and self.athena / self.lakebox < ATHENA_SPEEDUP_GOAL:
            missed.append(f"<{ATHENA_SPEEDUP_GOAL:.0f}x Athena")
        if self.files < MANY_FILES and self.ratio > RATIO_GOAL:
            missed.append(f"ratio>{RATIO_GOAL}")
        if self.files >= MANY_FILES and self.ratio >= 1.0:
            missed.append("not faster than DuckDB")
        return missed


def published_mean(times: list[float]) -> float:
    """The published method, the mean of the middle three of five runs, generalised as the
    mean of the middle 60%: a fifth of the runs (at least one when there are three or more)
    is dropped at each end."""
    ordered = sorted(times)
    cut = max(1, round(len(ordered) * 0.2)) if len(ordered) >= 3 else 0
    if cut:
        ordered = ordered[cut:-cut]
    return statistics.fmean(ordered)


def table_name(layout: Layout, rows: int = PUBLISHED_ROWS) -> str:
    """One table per layout and row count, so a scale run leaves the main tables alone."""
    return f"logs_{layout.name}" + ("" if rows == PUBLISHED_ROWS else f"_r{rows}")


def ddl(layout: Layout, rows: int) -> str:
    cols = ",\n  ".join(f"`{c}` {t}" for c, t in COLUMNS)
    return (
        f"CREATE EXTERNAL TABLE {table_name(layout, rows)} (\n  {cols}\n)\n{SERDES[layout.fmt]}\n"
        f"LOCATION 's3://b/rows{rows}/{layout.name}/'"
    )


def duckdb_source(layout: Layout, files: list[str]) -> str:
    """The bare-DuckDB reader of the same files with the same column names and types."""
    paths = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    spec = "{" + ", ".join(f"'{c}': '{DUCKDB_TYPES[t]}'" for c, t in COLUMNS) + "}"
    if layout.fmt == "json":
        return (
            f"read_json({paths}, format = 'newline_delimited', columns = {spec}, "
            "compression = 'auto')"
        )
    if layout.fmt == "csv":
        return (
            f"read_csv({paths}, columns = {spec}, delim = ',', quote = '\"', escape = '\\', "
            "header = false, auto_detect = false, compression = 'auto')"
        )
    return f"read_parquet({paths})"


def data_files(folder: Path) -> list[str]:
    """The cell's data files as DuckDB opens them (hidden ``_`` markers left out, as the
    lake's listing does)."""
    return sorted(str(p) for p in folder.iterdir() if not p.name.startswith(("_", ".")))


# -- engines -------------------------------------------------------------------------------


class LakeboxRunner:
    """Queries through the public API; ``reset_cache`` empties the lake's caches (the JSON
    key index, decompressed copies, compacted copies) so the next query is cold."""

    name = "lakebox"

    def __init__(self, home: Path) -> None:
        self.home = home
        self.session = lakebox.connect(home)
        self.rows = PUBLISHED_ROWS

    def define(self, layout: Layout, rows: int) -> None:
        self.session.sql(f"DROP TABLE IF EXISTS {table_name(layout, rows)}")
        self.rows = rows
        self.session.sql(ddl(layout, rows))

    def reset_cache(self) -> None:
        cache = self.session.lake.config.cache_dir
        if cache.exists():
            shutil.rmtree(cache)

    def settle(self, cell: Cell) -> None:
        """Read the cell's table once more (a second read queues its compacted copies) and
        wait for the lake's background builder, so the warm runs read the copies a
        long-lived session would (and no build runs during the timed runs)."""
        self.run(cell)
        self.session.lake.engine.copies.wait_idle()

    def run(self, cell: Cell, planned: bool = False) -> tuple[pa.Table, int]:
        """One query; ``planned`` turns plan reuse off for it (it is planned from scratch)."""
        sql = QUERIES[cell.query].format(t=table_name(cell.layout, self.rows))
        if not planned:
            result = self.session.sql(sql)
            return result.to_arrow(), result.stats.bytes
        saved = os.environ.get("LAKEBOX_PLAN_CACHE")
        os.environ["LAKEBOX_PLAN_CACHE"] = "off"
        try:
            result = self.session.sql(sql)
        finally:
            if saved is None:
                del os.environ["LAKEBOX_PLAN_CACHE"]
            else:
                os.environ["LAKEBOX_PLAN_CACHE"] = saved
        return result.to_arrow(), result.stats.bytes


class DuckDBRunner:
    name = "duckdb"

    def __init__(self) -> None:
        self.con = duckdb.connect()

    def run(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()


class SparkRunner:
    """Spark local mode over the same files, used only when pyspark is importable."""

    name = "spark"

    def __init__(self) -> None:
        from pyspark.sql import SparkSession

        # local mode talks to itself: keep it on loopback whatever the host name resolves to
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        self.spark = (
            SparkSession.builder.master(f"local[{os.cpu_count() or 1}]")
            .appName("lakebox-bench")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", "4g")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")

    def run(self, layout: Layout, files: list[str], query: str) -> Any:
        schema = ", ".join(f"`{c}` {'STRING' if t == 'string' else t.upper()}" for c, t in COLUMNS)
        reader = self.spark.read.schema(schema)
        if layout.fmt == "json":
            frame = reader.json(files)
        elif layout.fmt == "csv":
            frame = reader.option("quote", '"').option("escape", "\\").csv(files)
        else:
            frame = self.spark.read.parquet(*files)
        frame.createOrReplaceTempView("t")
        return self.spark.sql(query.format(t="t")).toArrow()


def spark_available() -> bool:
    return importlib.util.find_spec("pyspark") is not None


# -- the run -------------------------------------------------------------------------------


@dataclass
class Options:
    rows: int = PUBLISHED_ROWS
    formats: tuple[str, ...] = FORMATS
    files: tuple[int, ...] = FILE_COUNTS
    queries: tuple[str, ...] = tuple(QUERIES)
    compression: tuple[bool, ...] = (False, True)
    runs: int = 5
    fast_runs: int = 15
    data_dir: Path = Path(__file__).parent / "data"
    results_dir: Path = Path(__file__).parent / "results"
    published_only: bool = False
    spark: bool = False
    spark_max_files: int = 10_000
    chart: bool = True
    verify: bool = True
    label: str = "athena_formats"


def cells_for(opts: Options) -> list[Cell]:
    """The cells to run: every format x file count x query x compression asked for, without
    gzip Parquet (Parquet compresses inside the file). With ``published_only``, only the
    cells the experiment published."""
    out = []
    for fmt in opts.formats:
        for gz in opts.compression:
            if gz and fmt == "parquet":
                continue
            for files in opts.files:
                for query in opts.queries:
                    cell = Cell(Layout(fmt, files, gz), query)
                    if opts.published_only and cell.athena is None:
                        continue
                    out.append(cell)
    return out


def _same_answer(cell: Cell, lake: pa.Table, bare: pa.Table) -> None:
    if lake.num_rows != bare.num_rows or lake.column_names != bare.column_names:
        raise AssertionError(
            f"{cell}: lakebox returned {lake.num_rows} rows {lake.column_names}, "
            f"DuckDB {bare.num_rows} rows {bare.column_names}"
        )
    if lake.num_rows > EXACT_CHECK_ROWS:
        # large answers: compare per-column aggregates instead of sorting both answers
        agg = ", ".join(f'count(DISTINCT "{c}"), min("{c}"), max("{c}")' for c in lake.column_names)
        con = duckdb.connect()
        con.register("a", lake)
        con.register("b", bare)
        if con.sql(f"SELECT {agg} FROM a").fetchall() != con.sql(f"SELECT {agg} FROM b").fetchall():
            raise AssertionError(f"{cell}: lakebox and DuckDB answers differ")
        return
    keys = [(c, "ascending") for c in lake.column_names]
    a = lake.cast(bare.schema).sort_by(keys)
    b = bare.sort_by(keys)
    if not a.equals(b):
        raise AssertionError(f"{cell}: lakebox and DuckDB answers differ")


def run_cells(
    opts: Options, log: Callable[..., None] = print
) -> tuple[list[CellResult], list[str]]:
    """Write the data, define the tables, time every cell. Returns results and notes."""
    notes: list[str] = []
    home = opts.data_dir / "lake"
    home.mkdir(parents=True, exist_ok=True)
    bucket = home / "b"
    cells = cells_for(opts)
    layouts = list(dict.fromkeys(c.layout for c in cells))
    gen_cache: dict[str, object] = {}
    start = time.perf_counter()
    folders = {}
    for layout in layouts:
        folders[layout] = ensure_layout(bucket, opts.rows, layout, gen_cache)
    gen_cache.clear()
    log(f"data ready in {time.perf_counter() - start:.1f}s under {bucket}")

    lake = LakeboxRunner(home)
    bare = DuckDBRunner()
    spark: SparkRunner | None = None
    if opts.spark:
        if spark_available():
            try:
                spark = SparkRunner()
            except Exception as err:  # a broken local Spark must not stop the comparison
                notes.append(f"spark skipped: {err}")
        else:
            notes.append("spark column skipped: pyspark is not installed (./dev bench --spark)")

    results: list[CellResult] = []
    for layout in layouts:
        lake.define(layout, opts.rows)
        files = data_files(folders[layout])
        source = duckdb_source(layout, files)
        for i, cell in enumerate(c for c in cells if c.layout == layout):
            bare_sql = QUERIES[cell.query].format(t=f"(SELECT * FROM {source})")
            if i == 0:
                # cold: the layout's first query with empty lakebox caches (JSON key index,
                # compacted copies) — the copy is built here and serves the later queries
                lake.reset_cache()
            t0 = time.perf_counter()
            lake_table, scanned = lake.run(cell)
            lake_first = time.perf_counter() - t0
            t0 = time.perf_counter()
            bare_table = bare.run(bare_sql)
            bare_first = time.perf_counter() - t0
            if opts.verify:
                _same_answer(cell, lake_table, bare_table)
            if i == 0:
                lake.settle(cell)
            result_rows = lake_table.num_rows
            del lake_table, bare_table
            lake_times, bare_times, spark_times, planned_times = [], [], [], []
            timed: list[tuple[list[float], Callable[[], object]]] = [
                (lake_times, lambda c=cell: lake.run(c)),
                (bare_times, lambda q=bare_sql: bare.run(q)),
                (planned_times, lambda c=cell: lake.run(c, planned=True)),
            ]
            if spark is not None and layout.files <= opts.spark_max_files:
                query = QUERIES[cell.query]
                answer = spark.run(layout, files, query)  # first run: JVM warm-up, checked
                if opts.verify and answer.num_rows != result_rows:
                    raise AssertionError(
                        f"{cell}: Spark returned {answer.num_rows} rows, DuckDB {result_rows}"
                    )
                timed.append((spark_times, functools.partial(spark.run, layout, files, query)))
            runs = opts.runs
            if bare_first < FAST_CELL_SECONDS:
                runs = max(runs, opts.fast_runs)
            for n in range(runs):
                # rotate which engine goes first, so none always runs on a warmer machine
                k = n % len(timed)
                for times, fn in timed[k:] + timed[:k]:
                    times.append(_timed(fn))

            res = CellResult(
                query=cell.query,
                fmt=layout.fmt,
                gzip=layout.gzip,
                files=layout.files,
                rows=opts.rows,
                result_rows=result_rows,
                lakebox=published_mean(lake_times),
                duckdb=published_mean(bare_times),
                lakebox_cold=lake_first if i == 0 else None,
                duckdb_cold=bare_first if i == 0 else None,
                athena=cell.athena if opts.rows == PUBLISHED_ROWS else None,
                bytes_scanned=scanned,
                spark=published_mean(spark_times) if spark_times else None,
                runs=[
                    {
                        "lakebox": lake_times,
                        "duckdb": bare_times,
                        "spark": spark_times,
                        "lakebox_planned": planned_times,
                    }
                ],
                lakebox_planned=published_mean(planned_times),
            )
            results.append(res)
            athena = f"athena {res.athena:.2f}s " if res.athena else ""
            log(
                f"{layout.name:>16} {cell.query:<8} lakebox {res.lakebox * 1000:8.1f} ms "
                f"{_cold(res.lakebox_cold)}  duckdb {res.duckdb * 1000:8.1f} ms "
                f"{_cold(res.duckdb_cold)}  ratio {res.ratio:5.2f}  "
                f"planned {_ms(res.lakebox_planned)} ms  {athena}"
                f"{' '.join(res.goals())}",
                flush=True,
            )
    lake.session.lake.close()
    return results, notes


def _timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn`` takes to return its materialised answer. Freeing the answer (tens of
    MB of Arrow buffers for a full scan) and collecting garbage happen outside the clock,
    so neither engine is charged for the other's leftovers."""
    gc.collect()
    t0 = time.perf_counter()
    answer = fn()
    elapsed = time.perf_counter() - t0
    del answer
    return elapsed


def _ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1000:.1f}"


def _cold(seconds: float | None) -> str:
    return f"(cold {seconds * 1000:8.1f})" if seconds is not None else " " * 15


# -- overhead ------------------------------------------------------------------------------


def trivial_overhead(home: Path, repeats: int = 300) -> dict[str, float]:
    """Round trip of ``SELECT 1``, microseconds (median of ``repeats``): through
    Session.sql, through the query service (an execution with its result file) when this
    lakebox has one, and through bare DuckDB."""
    session = lakebox.connect(home)
    con = duckdb.connect()
    probes: list[tuple[str, Callable[[], object], int]] = [
        ("lakebox_session_sql_us", lambda: session.sql("SELECT 1").to_arrow(), repeats),
        ("duckdb_sql_us", lambda: con.sql("SELECT 1").to_arrow_table(), repeats),
    ]
    service = None
    if importlib.util.find_spec("lakebox.query.service") is not None:
        from lakebox.query.service import QueryService

        service = QueryService(session.lake)
        probes.append(
            ("lakebox_query_service_us", lambda: service.run("SELECT 1"), max(20, repeats // 10))
        )
    out: dict[str, float] = {}
    for name, fn, count in probes:
        fn()
        times = []
        for _ in range(count):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times) * 1e6
    if service is not None:
        service.close()
    session.lake.close()
    return out


# -- machine and output --------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass

    def version(pkg: str) -> str:
        try:
            return importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1) if memory else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "lakebox": version("lakebox"),
        "duckdb": duckdb.__version__,
        "pyarrow": pa.__version__,
        "pyspark": version("pyspark"),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


CSV_FIELDS = [
    "query",
    "format",
    "gzip",
    "files",
    "rows",
    "result_rows",
    "athena_s",
    "lakebox_s",
    "duckdb_s",
    "ratio",
    "athena_over_lakebox",
    "lakebox_cold_s",
    "duckdb_cold_s",
    "spark_s",
    "lakebox_planned_s",
    "planned_ratio",
    "bytes_scanned",
    "lakebox_rows_per_s",
    "duckdb_rows_per_s",
    "lakebox_bytes_per_s",
    "duckdb_bytes_per_s",
    "goals_missed",
]


def write_csv(results: list[CellResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_FIELDS)
        for r in results:
            w.writerow(
                [
                    r.query,
                    r.fmt,
                    r.gzip,
                    r.files,
                    r.rows,
                    r.result_rows,
                    "" if r.athena is None else r.athena,
                    f"{r.lakebox:.6f}",
                    f"{r.duckdb:.6f}",
                    f"{r.ratio:.3f}",
                    "" if r.vs_athena is None else f"{r.vs_athena:.1f}",
                    "" if r.lakebox_cold is None else f"{r.lakebox_cold:.6f}",
                    "" if r.duckdb_cold is None else f"{r.duckdb_cold:.6f}",
                    "" if r.spark is None else f"{r.spark:.6f}",
                    "" if r.lakebox_planned is None else f"{r.lakebox_planned:.6f}",
                    "" if r.lakebox_planned is None else f"{r.lakebox_planned / r.duckdb:.3f}",
                    r.bytes_scanned,
                    f"{r.rows / r.lakebox:.0f}",
                    f"{r.rows / r.duckdb:.0f}",
                    f"{r.bytes_scanned / r.lakebox:.0f}",
                    f"{r.bytes_scanned / r.duckdb:.0f}",
                    ";".join(r.goals()),
                ]
            )


def scale_markdown(results: list[CellResult], info: dict[str, Any]) -> str:
    """Throughput table of a scale run: rows and bytes of the table read per second."""
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; DuckDB "
        f"{info['duckdb']} ({info['date']}). {results[0].rows:,} rows; mean of the middle runs.",
        "",
        "| query | format | files | data | lakebox s | DuckDB s | lakebox/DuckDB | "
        "lakebox Mrows/s | DuckDB Mrows/s | lakebox MB/s | DuckDB MB/s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {QUERY_TITLES[r.query].split(' (')[0]} | {r.fmt}{' gz' if r.gzip else ''} | "
            f"{r.files:,} | {_size(r.bytes_scanned)} | {r.lakebox:.2f} | {r.duckdb:.2f} | "
            f"{r.ratio:.2f} | {r.rows / r.lakebox / 1e6:.2f} | {r.rows / r.duckdb / 1e6:.2f} | "
            f"{r.bytes_scanned / r.lakebox / 2**20:.0f} | {r.bytes_scanned / r.duckdb / 2**20:.0f} |"
        )
    return "\n".join(lines) + "\n"


def markdown(
    results: list[CellResult], info: dict[str, Any], overhead: dict[str, float] | None
) -> str:
    """The results table for the README / docs."""
    if results and results[0].rows != PUBLISHED_ROWS and results[0].rows > 1_000_000:
        return scale_markdown(results, info)
    spark = any(r.spark is not None for r in results)
    head = (
        "| query | format | files | Athena s | lakebox ms | DuckDB ms | lakebox/DuckDB | "
        "x faster than Athena | lakebox planned ms (/DuckDB) | lakebox cold ms | data scanned |"
    )
    sep = "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    if spark:
        head += " Spark ms |"
        sep += "---:|"
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; "
        f"Python {info['python']}, DuckDB {info['duckdb']}, pyarrow {info['pyarrow']}, "
        f"lakebox {info['lakebox']} ({info['date']}). {results[0].rows if results else 0:,} "
        "rows; mean of the middle 60% of the warm runs (the middle 3 of 5; 15 runs where bare "
        "DuckDB takes under 200 ms); cold = first run with empty lakebox caches; "
        "planned = warm runs with plan reuse off (LAKEBOX_PLAN_CACHE=off).",
        "",
        head,
        sep,
    ]
    for r in results:
        fmt = r.fmt + (" gz" if r.gzip else "")
        row = (
            f"| {QUERY_TITLES[r.query].split(' (')[0]} | {fmt} | {r.files:,} | "
            f"{'' if r.athena is None else f'{r.athena:.2f}'} | {r.lakebox * 1000:.0f} | "
            f"{r.duckdb * 1000:.0f} | {r.ratio:.2f} | "
            f"{'' if r.vs_athena is None else f'{r.vs_athena:.0f}x'} | "
            f"{_planned(r)} | "
            f"{'' if r.lakebox_cold is None else f'{r.lakebox_cold * 1000:.0f}'} | "
            f"{_size(r.bytes_scanned)} |"
        )
        if spark:
            row += f" {'' if r.spark is None else f'{r.spark * 1000:.0f}'} |"
        lines.append(row)
    if overhead:
        lines += [
            "",
            f"`SELECT 1` round trip: lakebox Session.sql "
            f"{overhead['lakebox_session_sql_us']:.0f} µs, bare DuckDB "
            f"{overhead['duckdb_sql_us']:.0f} µs"
            + (
                f", query service (execution + result file) "
                f"{overhead['lakebox_query_service_us']:.0f} µs"
                if "lakebox_query_service_us" in overhead
                else ""
            )
            + " (medians).",
        ]
    return "\n".join(lines) + "\n"


def _planned(r: CellResult) -> str:
    if r.lakebox_planned is None:
        return ""
    return f"{r.lakebox_planned * 1000:.0f} ({r.lakebox_planned / r.duckdb:.2f})"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def chart(results: list[CellResult], path: Path, title: str) -> None:
    """Seconds per file count, one panel per query x format, log scales."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(q, False) for q in QUERIES] + [("scan", True)]
    rows = [rk for rk in rows if any((r.query, r.gzip) == rk for r in results)]
    fmts = [f for f in FORMATS if any(r.fmt == f for r in results)]
    fig, axes = plt.subplots(
        len(rows), len(fmts), figsize=(4.2 * len(fmts), 3.0 * len(rows)), squeeze=False
    )
    for i, (query, gz) in enumerate(rows):
        for j, fmt in enumerate(fmts):
            ax = axes[i][j]
            cell = sorted(
                (r for r in results if (r.query, r.gzip, r.fmt) == (query, gz, fmt)),
                key=lambda r: r.files,
            )
            if not cell:
                ax.axis("off")
                continue
            xs = [r.files for r in cell]
            athena = [(r.files, r.athena) for r in cell if r.athena is not None]
            if athena:
                ax.plot(*zip(*athena, strict=True), "s--", color="gray", label="Athena (published)")
            ax.plot(xs, [r.duckdb for r in cell], "o-", color="tab:blue", label="bare DuckDB")
            ax.plot(xs, [r.lakebox for r in cell], "o-", color="tab:orange", label="lakebox")
            planned = [(r.files, r.lakebox_planned) for r in cell if r.lakebox_planned]
            if planned:
                ax.plot(
                    *zip(*planned, strict=True),
                    ".--",
                    color="tab:red",
                    label="lakebox, planned every run",
                )
            cold = [(r.files, r.lakebox_cold) for r in cell if r.lakebox_cold is not None]
            if cold:
                ax.plot(*zip(*cold, strict=True), "x:", color="tab:orange", label="lakebox cold")
            if any(r.spark for r in cell):
                ax.plot(xs, [r.spark for r in cell], "^-", color="tab:green", label="Spark local")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks(xs, [f"{x:,}" for x in xs])
            ax.minorticks_off()
            ax.set_title(f"{fmt}{' gzip' if gz else ''}: {QUERY_TITLES[query]}", fontsize=9)
            ax.grid(True, which="major", alpha=0.3)
            if j == 0:
                ax.set_ylabel("seconds (log)")
            if i == len(rows) - 1:
                ax.set_xlabel("files")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.suptitle(title, y=0.995, fontsize=10)
    fig.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.975),
        ncol=len(labels),
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def load(
    path: Path,
) -> tuple[list[CellResult], list[str], dict[str, float] | None, dict[str, Any]]:
    """Results saved by ``save`` (for ``--replot``)."""
    data = json.loads(path.read_text())
    names = set(CellResult.__dataclass_fields__)
    results = [CellResult(**{k: v for k, v in r.items() if k in names}) for r in data["results"]]
    for r in results:
        if r.rows != PUBLISHED_ROWS:
            r.athena = None  # the published times are for 148,534 rows only
    return results, list(data.get("notes") or []), data.get("overhead"), data["machine"]


def save(
    results: list[CellResult],
    opts: Options,
    notes: list[str],
    overhead: dict[str, float] | None,
    info: dict[str, Any] | None = None,
) -> dict[str, Path]:
    info = info or machine()
    out = opts.results_dir
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": out / f"{opts.label}.csv",
        "md": out / f"{opts.label}.md",
        "json": out / f"{opts.label}.json",
    }
    write_csv(results, paths["csv"])
    paths["md"].write_text(markdown(results, info, overhead))
    paths["json"].write_text(
        json.dumps(
            {
                "machine": info,
                "notes": notes,
                "overhead": overhead,
                "results": [asdict(r) | {"ratio": r.ratio} for r in results],
            },
            indent=1,
            default=str,
        )
    )
    if opts.chart and results:
        paths["png"] = out / f"{opts.label}.png"
        chart(
            results,
            paths["png"],
            f"{results[0].rows:,}-row access log: lakebox vs bare DuckDB vs published Athena "
            f"({info['cpu']}, {info['cores']} cores)",
        )
    return paths
