"""OpenCSV scans run on DuckDB's defaults: its parallel reader, which lets go of each
buffer once read (its single-threaded reader keeps every buffer of the file: a 1.8 GB
decompressed gzip CSV held 1.9 GB), and its 2 MB line limit with 32 MB buffers (lakebox's
64 MB lines need 128 MB buffers, about 0.6 GB more on the same scan). The two readings that
fail there, a longer line and a short row in a file whose quoted field holds a line break,
fail loudly, and the statement runs again on the fallback; writes read on the fallback from
the start. Answers are the same either way; LazySimpleSerDe's long lines need no fallback."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

import lakebox
from lakebox.engine.duckdb.formats.text import (
    RESET_CSV_FALLBACK,
    SET_CSV_FALLBACK,
    needs_csv_fallback,
)
from lakebox.formats.plugins import OPEN_CSV_SERDE

from .conftest import Lake

#: a quoted line break, and a short row DuckDB pads with NULL
BROKEN_LINE = '1,"two\nlines",x\n2,short\n3,"plain",z\n'
EXPECTED = [(1, "two\nlines", "x"), (2, "short", None), (3, "plain", "z")]
COLUMNS = [("id", "int"), ("s", "string"), ("c", "string")]
LONG = "y" * (3 * 1024 * 1024)
#: (SerDe clause, file text, rows of ``SELECT id, s, c ... ORDER BY id``)
CASES = {
    "opencsv-quoted-line-break": (f"SERDE '{OPEN_CSV_SERDE}'", BROKEN_LINE, EXPECTED),
    "opencsv-long-line": (
        f"SERDE '{OPEN_CSV_SERDE}'",
        f'1,"{LONG}",x\n2,b,\n',
        [(1, LONG, "x"), (2, "b", "")],
    ),
    "lazysimple-long-line": (
        "DELIMITED FIELDS TERMINATED BY ','",
        f"1,{LONG},x\n2,b,\n",
        [(1, LONG, "x"), (2, "b", "")],
    ),
}


def test_a_scan_runs_on_duckdbs_defaults_unless_the_connection_says_otherwise(
    lake: Lake,
) -> None:
    t = lake.table(COLUMNS, serde=OPEN_CSV_SERDE)
    lake.write(t, "a.csv", BROKEN_LINE, codec="gzip")
    with pytest.raises(duckdb.Error) as refused:
        lake.read(t)
    assert needs_csv_fallback(refused.value)
    long = lake.table(COLUMNS, serde=OPEN_CSV_SERDE)
    lake.write(long, "a.csv", f"1,{LONG},x\n")
    with pytest.raises(duckdb.Error) as too_long:
        lake.read(long)
    assert needs_csv_fallback(too_long.value)
    lake.con.execute(SET_CSV_FALLBACK)
    assert lake.read(t) == EXPECTED
    assert lake.read(long) == [(1, LONG, "x")]
    lake.con.execute(RESET_CSV_FALLBACK)
    plain = lake.table(COLUMNS, serde=OPEN_CSV_SERDE)
    lake.write(plain, "a.csv", '1,"one line",x\n2,short\n', codec="gzip")
    assert lake.read(plain) == [(1, "one line", "x"), (2, "short", None)]


@pytest.mark.parametrize("compaction", ["off", "auto"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_statement_reads_past_the_defaults_on_the_fallback(
    lake_home: Path, monkeypatch: pytest.MonkeyPatch, compaction: str, case: str
) -> None:
    monkeypatch.setenv("LAKEBOX_COMPACTION", compaction)
    serde, data, expected = CASES[case]
    folder = lake_home / "b" / "t"
    folder.mkdir(parents=True)
    (folder / "a.csv.gz").write_bytes(gzip.compress(data.encode()))
    session = lakebox.connect(lake_home)
    try:
        session.sql(
            f"CREATE EXTERNAL TABLE t (id int, s string, c string) ROW FORMAT {serde} "
            "STORED AS TEXTFILE LOCATION 's3://b/t/'"
        )
        sql = "SELECT id, s, c FROM t ORDER BY id"
        assert session.sql(sql).fetchall() == expected
        assert session.sql(sql).fetchall() == expected  # again, from the plan cache
        session.sql("CREATE TABLE copied WITH (format = 'PARQUET') AS SELECT * FROM t")
        assert session.sql("SELECT id, s, c FROM copied ORDER BY id").fetchall() == expected
    finally:
        session.lake.close()
