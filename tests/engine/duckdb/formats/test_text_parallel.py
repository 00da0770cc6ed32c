"""OpenCSVSerde scans run on DuckDB's parallel CSV reader, which lets go of each buffer once
read (its single-threaded reader keeps every buffer of the file: a 1.8 GB decompressed gzip
CSV held 1.9 GB). Only the parallel reader's one refusal, padding a short row of a file
whose quoted field holds a line break, sends a statement back to the single-threaded
reader; writes read single-threaded from the start. Answers are the same either way."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

import lakebox
from lakebox.engine.duckdb.formats.text import (
    RESET_SINGLE_THREADED_CSV,
    SET_SINGLE_THREADED_CSV,
    needs_single_threaded_csv,
)
from lakebox.formats.plugins import OPEN_CSV_SERDE

from .conftest import Lake

#: a quoted line break, and a short row DuckDB pads with NULL
BROKEN_LINE = '1,"two\nlines",x\n2,short\n3,"plain",z\n'
EXPECTED = [(1, "two\nlines", "x"), (2, "short", None), (3, "plain", "z")]
COLUMNS = [("id", "int"), ("s", "string"), ("c", "string")]


def test_the_scan_is_parallel_unless_the_connection_says_otherwise(lake: Lake) -> None:
    t = lake.table(COLUMNS, serde=OPEN_CSV_SERDE)
    lake.write(t, "a.csv", BROKEN_LINE, codec="gzip")
    with pytest.raises(duckdb.Error) as refused:
        lake.read(t)
    assert needs_single_threaded_csv(refused.value)
    lake.con.execute(SET_SINGLE_THREADED_CSV)
    assert lake.read(t) == EXPECTED
    lake.con.execute(RESET_SINGLE_THREADED_CSV)
    plain = lake.table(COLUMNS, serde=OPEN_CSV_SERDE)
    lake.write(plain, "a.csv", '1,"one line",x\n2,short\n', codec="gzip")
    assert lake.read(plain) == [(1, "one line", "x"), (2, "short", None)]


@pytest.mark.parametrize("compaction", ["off", "auto"])
def test_a_quoted_line_break_is_read_and_written_through_a_session(
    lake_home: Path, monkeypatch: pytest.MonkeyPatch, compaction: str
) -> None:
    monkeypatch.setenv("LAKEBOX_COMPACTION", compaction)
    folder = lake_home / "b" / "t"
    folder.mkdir(parents=True)
    (folder / "a.csv.gz").write_bytes(gzip.compress(BROKEN_LINE.encode()))
    session = lakebox.connect(lake_home)
    try:
        session.sql(
            "CREATE EXTERNAL TABLE t (id int, s string, c string) ROW FORMAT SERDE "
            f"'{OPEN_CSV_SERDE}' STORED AS TEXTFILE LOCATION 's3://b/t/'"
        )
        sql = "SELECT id, s, c FROM t ORDER BY id"
        assert session.sql(sql).fetchall() == EXPECTED
        assert session.sql(sql).fetchall() == EXPECTED  # again, from the plan cache
        session.sql("CREATE TABLE copied WITH (format = 'PARQUET') AS SELECT * FROM t")
        assert session.sql("SELECT * FROM copied ORDER BY id").fetchall() == EXPECTED
    finally:
        session.lake.close()
