"""Writes (issue 14, item 3): CTAS, INSERT INTO and UNLOAD against bare DuckDB's ``COPY`` of
the same SELECT over the same Parquet files, each side in a fresh process
(``benchmarks/ratios.py``), with the peak RSS of each side. Goal: at most 1.3x DuckDB.

The source is ``ROWS`` rows (quick: ``QUICK_ROWS``) in four Parquet files written once by
DuckDB under ``work``: an id, a string, a double, a date and ``p``, a string of 84 values.
lakebox reads them as an external table (a ``file://`` folder allowed by
``LAKEBOX_ALLOWED_PATHS``); DuckDB reads them with ``read_parquet``. Both sides write
Parquet with the same codec, DuckDB's default (SNAPPY; lakebox is told
``write_compression = 'SNAPPY'``), so the codec is not what is measured: with GZIP, lakebox's
(Athena's) default, compression takes most of either side's time.

Cells:
- CTAS partitioned by ``p`` (84 partitions) against ``COPY (...) TO dir (FORMAT parquet,
  PARTITION_BY (p))``;
- INSERT INTO an existing table partitioned by ``p`` of ``INSERT_ROWS`` rows (quick:
  ``QUICK_INSERT_ROWS``) against ``COPY ... (PARTITION_BY (p), APPEND)`` into a folder
  holding the same earlier files;
- UNLOAD of every row to Parquet against ``COPY (...) TO file (FORMAT parquet)``.

Each side's answer is the number of rows it wrote (the statement's count, or the written
files' Parquet footers for UNLOAD), so a fast wrong write is caught.

    python -c "from pathlib import Path; from benchmarks.suite_write import cells; \\
        [print(r.to_json()) for r in cells(Path('benchmarks/data'), quick=True)]"
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from benchmarks.ratios import Ratio, pair

SUITE = "write"
ROWS = 10_000_000
QUICK_ROWS = 200_000
INSERT_ROWS = 2_800_000
QUICK_INSERT_ROWS = 100_000
PARTITIONS = 84
FILES = 4
GOAL = 1.3
CODEC = "snappy"  # both sides' Parquet codec (DuckDB's default)

SELECT = "SELECT id, s, v, d, p FROM {t}"
COLUMNS = "id bigint, s string, v double, d date, p string"


def data(work: Path, rows: int) -> Path:
    """The folder of the source Parquet files, written if missing."""
    folder = work / "write" / f"rows{rows}" / "source"
    marker = folder.parent / "_source.done"
    if marker.exists():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    per_file = rows // FILES
    con = duckdb.connect()
    try:
        for f in range(FILES):
            target = str(folder / f"part-{f}.parquet").replace("'", "''")
            con.execute(
                f"COPY (SELECT i AS id, 'text of row ' || i AS s, i / 7.0 AS v, "
                f"DATE '2024-01-01' + CAST(i % 365 AS INTEGER) AS d, "
                f"'k' || CAST(i % {PARTITIONS} AS VARCHAR) AS p "
                f"FROM range({f * per_file}, {(f + 1) * per_file}) AS r(i)) "
                f"TO '{target}' (FORMAT parquet)"
            )
    finally:
        con.close()
    marker.write_text(json.dumps({"rows": rows, "files": FILES}))
    return folder


def _parquet_rows(var: str) -> str:
    """Code setting ``answer`` to the rows of the Parquet files under the folder ``var``."""
    return (
        f"answer = sum(_pq.read_metadata(str(_f)).num_rows for _f in Path({var}).rglob('*') "
        "if _f.is_file() and not any(_part.startswith('.') for _part in _f.parts))\n"
    )


def _lakebox(home: Path, folder: Path, setup: str, timed: str) -> str:
    location = folder.as_uri().replace("'", "''") + "/"
    ddl = f"CREATE EXTERNAL TABLE src ({COLUMNS}) STORED AS PARQUET LOCATION '{location}'"
    return f"""
import shutil
from pathlib import Path
import lakebox
import pyarrow.parquet as _pq
home = Path({str(home)!r})
shutil.rmtree(home, ignore_errors=True)
session = lakebox.connect(home)
session.sql({ddl!r})
{setup}
# --- timed
{timed}
"""


def _duckdb(out: Path, setup: str, timed: str) -> str:
    return f"""
import shutil
from pathlib import Path
import duckdb
import pyarrow.parquet as _pq
out = Path({str(out)!r})
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
con = duckdb.connect()
{setup}
# --- timed
{timed}
"""


def cells(work: Path, quick: bool) -> list[Ratio]:
    rows = QUICK_ROWS if quick else ROWS
    inserted = QUICK_INSERT_ROWS if quick else INSERT_ROWS
    work = work.resolve()
    folder = data(work, rows)
    files = sorted(str(p) for p in folder.iterdir())
    source = f"read_parquet({files!r})"
    home = work / "write" / "lake"
    out = work / "write" / "duckdb"
    env = {"LAKEBOX_ALLOWED_PATHS": str(folder)}
    label = f"{rows:,} rows"
    ratios = []

    # CTAS into 84 partitions
    ctas = (
        f"CREATE TABLE t WITH (format = 'PARQUET', write_compression = '{CODEC}', "
        "partitioned_by = ARRAY['p'], external_location = 's3://bench/ctas/') AS "
        + SELECT.format(t="src")
    )
    copy_dir = (
        f"COPY ({SELECT.format(t=source)}) TO '{{target}}' "
        f"(FORMAT parquet, COMPRESSION {CODEC}, PARTITION_BY (p){{extra}})"
    )
    ratios.append(
        pair(
            SUITE,
            f"CTAS of {label} into {PARTITIONS} partitions (Parquet)",
            _lakebox(home, folder, "", f"answer = session.sql({ctas!r}).to_pylist()[0]['rows']"),
            _duckdb(
                out,
                "",
                f"answer = con.execute({copy_dir!r}.format(target=str(out / 'ctas'), "
                "extra='')).fetchone()[0]",
            ),
            goal=GOAL,
            baseline="DuckDB COPY PARTITION_BY",
            env=env,
        )
    )

    # INSERT INTO an existing partitioned table
    first = f"{SELECT.format(t='{t}')} WHERE id >= {rows - 1000}"
    more = f"{SELECT.format(t='{t}')} WHERE id < {inserted}"
    create = (
        f"CREATE TABLE t WITH (format = 'PARQUET', write_compression = '{CODEC}', "
        "partitioned_by = ARRAY['p'], external_location = 's3://bench/insert/') AS "
        + first.format(t="src")
    )
    insert = f"INSERT INTO t {more.format(t='src')}"
    copy_more = copy_dir.replace(SELECT.format(t=source), more.format(t=source))
    copy_first = copy_dir.replace(SELECT.format(t=source), first.format(t=source))
    ratios.append(
        pair(
            SUITE,
            f"INSERT INTO of {inserted:,} rows into a table of {PARTITIONS} partitions (Parquet)",
            _lakebox(
                home,
                folder,
                f"session.sql({create!r})",
                f"answer = session.sql({insert!r}).to_pylist()[0]['rows']",
            ),
            _duckdb(
                out,
                f"con.execute({copy_first!r}.format(target=str(out / 'insert'), extra=''))",
                f"answer = con.execute({copy_more!r}.format(target=str(out / 'insert'), "
                "extra=', APPEND')).fetchone()[0]",
            ),
            goal=GOAL,
            baseline="DuckDB COPY PARTITION_BY, APPEND",
            env=env,
        )
    )

    # UNLOAD of every row to one Parquet result
    unload = (
        f"UNLOAD ({SELECT.format(t='src')}) TO 's3://bench/unload/' "
        f"WITH (format = 'PARQUET', compression = '{CODEC}')"
    )
    copy_file = (
        f"COPY ({SELECT.format(t=source)}) TO '{{target}}' (FORMAT parquet, COMPRESSION {CODEC})"
    )
    ratios.append(
        pair(
            SUITE,
            f"UNLOAD of {label} (Parquet)",
            _lakebox(
                home,
                folder,
                "",
                f"session.sql({unload!r})\n" + _parquet_rows("home / 'bench' / 'unload'"),
            ),
            _duckdb(
                out,
                "(out / 'unload').mkdir()",
                f"con.execute({copy_file!r}.format(target=str(out / 'unload' / 'data.parquet')))\n"
                + _parquet_rows("out / 'unload'"),
            ),
            goal=GOAL,
            baseline="DuckDB COPY",
            env=env,
        )
    )
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    return ratios
