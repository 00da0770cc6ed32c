"""Peak memory (issue 14, item 7): the first query on a large gzip CSV file, lakebox and
bare DuckDB on the same file, each in a fresh process (``benchmarks/ratios.py``), with the
peak RSS of each side. Goals: RSS at most 1.5x DuckDB's, time at most 1.2x.

The data is the benchmark's Apache log (``benchmarks/logdata.py``): 10,000,000 rows in one
gzip CSV file (quick: 200,000), every string field quoted, written once by DuckDB under
``work`` and reused by later runs.

Cells:
- an aggregate (``GROUP BY status``), the lake's first query: the lake as a new user has it,
  and again with ``LAKEBOX_COMPACTION=off``, which isolates the compacted copy's share;
- a filtered projection whose result (about 6% of the rows) is fetched into Arrow;
- the same query through the query service, whose result is written as Athena's CSV
  result file, against DuckDB writing the same rows with ``COPY ... TO`` a CSV file.

    python -m benchmarks --suite memory [--quick]
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from benchmarks.athena_formats import SERDES, duckdb_source
from benchmarks.logdata import COLUMNS, Layout, rows_sql
from benchmarks.ratios import Ratio, pair

SUITE = "memory"
ROWS = 10_000_000
QUICK_ROWS = 200_000
TIME_GOAL = 1.2
RSS_GOAL = 1.5
LAYOUT = Layout("csv", 1, gzip=True)
TABLE = "logs_csv_gz"

QUERIES = {
    "aggregate": (
        "SELECT status, count(*) AS n, CAST(sum(size) AS BIGINT) AS bytes FROM {t} GROUP BY status ORDER BY status"
    ),
    "filter": "SELECT host, path, size FROM {t} WHERE status = 404",
}

#: what the two sides' answers are compared by (a filter's row order is not fixed, and
#: turning 600,000 rows into Python objects would weigh on both timings)
ANSWERS = {
    "aggregate": "answer.to_pylist()",
    "filter": "(answer.num_rows, pyarrow.compute.sum(answer['size']).as_py())",
}


def data(work: Path, rows: int) -> Path:
    """The folder holding ``rows`` log rows as one gzip CSV file, written if missing."""
    folder = work / "memory" / f"rows{rows}" / LAYOUT.name
    marker = folder.parent / f"_{LAYOUT.name}.done"
    if marker.exists():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    strings = ", ".join(f'"{c}"' for c, t in COLUMNS if t == "string")
    target = str(folder / f"part-0{LAYOUT.extension}").replace("'", "''")
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(
            f"COPY ({rows_sql(rows)}) TO '{target}' "
            f"(FORMAT csv, HEADER false, FORCE_QUOTE ({strings}), COMPRESSION gzip)"
        )
    finally:
        con.close()
    marker.write_text(json.dumps({"rows": rows, "layout": LAYOUT.name}))
    return folder


def _ddl(folder: Path) -> str:
    cols = ", ".join(f"`{c}` {t}" for c, t in COLUMNS)
    location = folder.as_uri().replace("'", "''") + "/"
    return f"CREATE EXTERNAL TABLE {TABLE} ({cols}) {SERDES['csv']} LOCATION '{location}'"


def _lakebox(home: Path, folder: Path, timed: str) -> str:
    """A child that defines the table on a new lake (set-up), then runs ``timed``."""
    return f"""
import shutil
from pathlib import Path
import lakebox
import pyarrow.compute
home = Path({str(home)!r})
shutil.rmtree(home, ignore_errors=True)
session = lakebox.connect(home)
session.sql({_ddl(folder)!r})
# --- timed
{timed}
"""


def _duckdb(timed: str) -> str:
    return f"""
import duckdb
import pyarrow.compute  # lakebox's side has it loaded too: fetching into Arrow needs it
con = duckdb.connect()
# --- timed
{timed}
"""


@dataclass(frozen=True)
class Setup:
    """The data of one run and how each side reaches it."""

    rows: int
    folder: Path  # the gzip CSV file's folder: the table's location
    home: Path  # the lake, made anew by each lakebox child
    source: str  # the bare-DuckDB FROM item over the same file

    @property
    def label(self) -> str:
        return f"{self.rows:,}-row gzip CSV"

    @property
    def env(self) -> dict[str, str]:
        return {"LAKEBOX_ALLOWED_PATHS": str(self.folder)}  # a file:// folder outside the lake


def setup(work: Path, rows: int) -> Setup:
    folder = data(work, rows)
    files = sorted(str(p) for p in folder.iterdir())
    source = f"(SELECT * FROM {duckdb_source(LAYOUT, files)})"
    return Setup(rows, folder, work / "memory" / "lake", source)


def query_cell(s: Setup, query: str, compaction_off: bool = False) -> Ratio:
    """The lake's first query, its result fetched into Arrow, against bare DuckDB's."""
    sql = QUERIES[query]
    check = "\nanswer = " + ANSWERS[query]
    lake = f"answer = session.sql({sql.format(t=TABLE)!r}).to_arrow()" + check
    bare = f"answer = con.sql({sql.format(t=s.source)!r}).to_arrow_table()" + check
    return pair(
        SUITE,
        f"first {query} query, {s.label}" + (" (LAKEBOX_COMPACTION=off)" if compaction_off else ""),
        _lakebox(s.home, s.folder, lake),
        _duckdb(bare),
        goal=TIME_GOAL,
        rss_goal=RSS_GOAL,
        env={**s.env, "LAKEBOX_COMPACTION": "off"} if compaction_off else s.env,
    )


def service_cell(s: Setup, work: Path) -> Ratio:
    """The filter through the query service, which writes Athena's CSV result file,
    against DuckDB writing the same rows to a CSV file."""
    sql = QUERIES["filter"]
    service = f"""
from lakebox.query.service import QueryService
service = QueryService(session.lake)
qe, _result = service.run({sql.format(t=TABLE)!r})
service.close()
answer = qe.rows
"""
    result = work / "memory" / "duckdb-result.csv"
    target = str(result).replace("'", "''")
    copy_sql = f"COPY ({sql.format(t=s.source)}) TO '{target}' (FORMAT csv, HEADER true)"
    try:
        return pair(
            SUITE,
            f"first filter query through the query service (result file), {s.label}",
            _lakebox(s.home, s.folder, service),
            _duckdb(f"answer = con.execute({copy_sql!r}).fetchone()[0]"),
            goal=TIME_GOAL,
            rss_goal=RSS_GOAL,
            baseline="DuckDB COPY TO csv",
            env=s.env,
        )
    finally:
        result.unlink(missing_ok=True)


def cells(work: Path, quick: bool) -> list[Ratio]:
    s = setup(work, QUICK_ROWS if quick else ROWS)
    try:
        return [
            query_cell(s, "aggregate"),
            query_cell(s, "aggregate", compaction_off=True),
            query_cell(s, "filter"),
            service_cell(s, work),
        ]
    finally:
        shutil.rmtree(s.home, ignore_errors=True)
