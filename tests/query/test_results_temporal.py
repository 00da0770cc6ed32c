"""Result files print temporal values as Athena does: precision from the column's type,
timestamps with time zone in their own zone, intervals as ``D HH:MM:SS.mmm`` / ``Y-M``."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest

from lakebox.catalog.types import ATHENA_TYPE_KEY, hive_type_from_arrow
from lakebox.engine.duckdb.rules.temporal import result_table
from lakebox.engine.duckdb.translate import configure_connection, to_duckdb
from lakebox.errors import SemanticError
from lakebox.query.results import athena_columns, athena_text, column_info
from lakebox.sql.dialect import parse_query


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    configure_connection(connection)
    return connection


def _printed(con: duckdb.DuckDBPyConnection, athena_sql: str) -> tuple[list[str], list[str]]:
    """(column types, first row) of a query as the result file holds them."""
    table = result_table(con.sql(to_duckdb(parse_query(athena_sql))).to_arrow_table())
    types = [c["Type"] for c in column_info(table)]
    return types, [str(v) for v in athena_columns(table).to_pylist()[0].values()]


def test_zoned_values_print_in_their_zone(con: duckdb.DuckDBPyConnection) -> None:
    types, row = _printed(
        con,
        "SELECT TIMESTAMP '2001-08-22 03:04:05.321 America/New_York', "
        "from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00'), "
        "TIMESTAMP '2001-08-22 03:04:05.321 UTC', now() > TIMESTAMP '2020-01-01 00:00:00 UTC'",
    )
    assert row[:3] == [
        "2001-08-22 03:04:05.321 America/New_York",
        "2020-05-11 11:15:05.055 +01:00",
        "2001-08-22 03:04:05.321 UTC",
    ]
    assert types[:3] == ["timestamp with time zone"] * 3


def test_a_column_of_several_zones_keeps_each_zone(con: duckdb.DuckDBPyConnection) -> None:
    sql = (
        "SELECT from_iso8601_timestamp(x) FROM (VALUES '2020-05-11T11:15:05.055+01:00', "
        "'2020-05-11T11:15:05Z') t(x)"
    )
    table = result_table(con.sql(to_duckdb(parse_query(sql))).to_arrow_table())
    printed = athena_columns(table).column(0).to_pylist()
    assert printed == ["2020-05-11 11:15:05.055 +01:00", "2020-05-11 11:15:05.000 UTC"]
    assert column_info(table)[0]["Type"] == "timestamp with time zone"


def test_precision_comes_from_the_type(con: duckdb.DuckDBPyConnection) -> None:
    types, row = _printed(
        con,
        "SELECT TIMESTAMP '2020-06-10 15:55:23', TIMESTAMP '2020-06-10 15:55:23.383345', "
        "TIMESTAMP '2020-06-10 15:55:23.123456789', TIME '01:02:03', "
        "from_unixtime_nanos(-1234)",
    )
    assert row == [
        "2020-06-10 15:55:23",
        "2020-06-10 15:55:23.383345",
        "2020-06-10 15:55:23.123456789",
        "01:02:03",
        "1969-12-31 23:59:59.999998766 UTC",
    ]
    assert types == ["timestamp", "timestamp", "timestamp", "time", "timestamp with time zone"]


def test_plain_results_stay_plain_arrow(con: duckdb.DuckDBPyConnection) -> None:
    """The Python API sees datetimes, with the zone as tzinfo when a column has one."""
    sql = "SELECT TIMESTAMP '2020-06-10 15:55:23', TIMESTAMP '2001-08-22 03:04:05 -08:30'"
    table = result_table(con.sql(to_duckdb(parse_query(sql))).to_arrow_table())
    assert table.schema.field(0).type == pa.timestamp("us")
    assert table.schema.field(0).metadata == {ATHENA_TYPE_KEY: b"timestamp(0)"}
    value = table.column(1).to_pylist()[0]
    assert value.utcoffset() == -dt.timedelta(hours=8, minutes=30)
    assert value.replace(tzinfo=None) == dt.datetime(2001, 8, 22, 3, 4, 5)


def test_intervals_print_as_athena() -> None:
    assert athena_text(pa.scalar(pa.MonthDayNano([41, 0, 0])).as_py()) == "3-5"
    day_second = pa.MonthDayNano([0, 2, 3 * 3600 * 10**9 + 43 * 10**6])
    assert athena_text(day_second) == "2 03:00:00.043"


def test_a_zone_cannot_be_stored_in_a_hive_table() -> None:
    zoned = pa.struct([pa.field("$instant", pa.timestamp("us", "UTC")), ("$zone", pa.string())])
    with pytest.raises(SemanticError, match=r"timestamp\(3\) with time zone"):
        hive_type_from_arrow(zoned, "ts")
