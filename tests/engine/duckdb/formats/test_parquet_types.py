"""The DuckDB types lakebox reads from a Parquet footer (``parquet_types``) against DuckDB's
own ``DESCRIBE`` of the same file, for files from pyarrow (several format versions) and
DuckDB: the same types, or None (DuckDB is asked). The plain types must be answered."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakebox.engine.duckdb.formats.parquet import _footer_schema
from lakebox.engine.duckdb.formats.parquet_types import duckdb_columns

#: pyarrow columns: (name, array, answered here)
PYARROW = [
    ("i8", pa.array([1, None], pa.int8()), True),
    ("i16", pa.array([1, None], pa.int16()), True),
    ("i32", pa.array([1, None], pa.int32()), True),
    ("i64", pa.array([1, None], pa.int64()), True),
    ("u8", pa.array([1, None], pa.uint8()), True),
    ("u16", pa.array([1, None], pa.uint16()), True),
    ("u32", pa.array([1, None], pa.uint32()), True),
    ("u64", pa.array([1, None], pa.uint64()), True),
    ("f32", pa.array([1.5, None], pa.float32()), True),
    ("f64", pa.array([1.5, None], pa.float64()), True),
    ("b", pa.array([True, None]), True),
    ("s", pa.array(["x", None]), True),
    ("ls", pa.array(["x", None], pa.large_string()), True),
    ("bin", pa.array([b"x", None]), True),
    ("d", pa.array([19000, None], pa.date32()), True),
    ("dec", pa.array([Decimal("1.25"), None], pa.decimal128(10, 2)), True),
    ("dec18", pa.array([Decimal("1.250"), None], pa.decimal128(18, 3)), True),
    ("dec38", pa.array([Decimal("1.5"), None], pa.decimal128(38, 10)), True),
    ("ts_ms", pa.array([1, None], pa.timestamp("ms")), False),
    ("ts_us_utc", pa.array([1, None], pa.timestamp("us", tz="UTC")), False),
    ("ts_ns", pa.array([1000, None], pa.timestamp("ns")), False),
    ("t", pa.array([1, None], pa.time64("us")), False),
    ("fixed", pa.array([b"ab", None], pa.binary(2)), False),
    ("lst", pa.array([[1], None], pa.list_(pa.int32())), False),
    ("rec", pa.array([{"a": 1}, None], pa.struct([("a", pa.int32())])), False),
    ("dict", pa.array(["x", None]).dictionary_encode(), True),
    ("nul", pa.array([None, None], pa.null()), False),
]

#: DuckDB columns: (name, SQL, answered here)
DUCKDB = [
    ("ti", "1::TINYINT", True),
    ("si", "1::SMALLINT", True),
    ("i", "1::INTEGER", True),
    ("bi", "1::BIGINT", True),
    ("uti", "1::UTINYINT", True),
    ("usi", "1::USMALLINT", True),
    ("ui", "1::UINTEGER", True),
    ("ubi", "1::UBIGINT", True),
    ("hi", "1::HUGEINT", False),
    ("fl", "1::FLOAT", True),
    ("db", "1::DOUBLE", True),
    ("bo", "true", True),
    ("vc", "'x'", True),
    ("bl", "'x'::BLOB", True),
    ("dt", "DATE '2024-01-01'", True),
    ("d4", "1.5::DECIMAL(4,1)", True),
    ("d18", "1.5::DECIMAL(18,3)", True),
    ("d30", "1.5::DECIMAL(30,5)", True),
    ("ts", "TIMESTAMP '2024-01-01 10:00:00'", False),
    ("tstz", "TIMESTAMPTZ '2024-01-01 10:00:00+00'", False),
    ("tm", "TIME '10:00:00'", False),
    ("uu", "uuid()", False),
    ("iv", "INTERVAL 1 DAY", False),
    ("li", "[1, 2]", False),
    ("st", "{'a': 1}", False),
    ("mp", "MAP {'a': 1}", False),
]


def _described(path: Path) -> list[tuple[str, str]]:
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{path}', hive_partitioning = false)"
        ).fetchall()
    finally:
        con.close()
    return [(str(r[0]), str(r[1])) for r in rows]


def _mapped(path: Path) -> list[tuple[str, str]] | None:
    schema = _footer_schema(str(path))
    assert schema is not None
    return duckdb_columns(schema)


@pytest.mark.parametrize("version", ["1.0", "2.4", "2.6"])
@pytest.mark.parametrize(("name", "array", "answered"), PYARROW, ids=[c[0] for c in PYARROW])
def test_pyarrow_files(
    tmp_path: Path, version: str, name: str, array: pa.Array, answered: bool
) -> None:
    path = tmp_path / "f.parquet"
    pq.write_table(
        pa.table({name: array, "id": pa.array([1, 2], pa.int64())}), path, version=version
    )
    mapped = _mapped(path)
    if mapped is not None or (answered and version != "1.0"):
        assert mapped == _described(path)


@pytest.mark.parametrize(("name", "sql", "answered"), DUCKDB, ids=[c[0] for c in DUCKDB])
def test_duckdb_files(tmp_path: Path, name: str, sql: str, answered: bool) -> None:
    path = tmp_path / "f.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT {sql} AS {name}, 7::BIGINT AS id) TO '{path}' (FORMAT parquet)")
    con.close()
    mapped = _mapped(path)
    if answered:
        assert mapped is not None
    if mapped is not None:
        assert mapped == _described(path)


def test_a_wide_plain_file_is_answered_whole(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({name: array for name, array, answered in PYARROW if answered}), path)
    mapped = _mapped(path)
    assert mapped is not None and len(mapped) == sum(1 for *_, a in PYARROW if a)
    assert mapped == _described(path)


def test_names_alike_but_for_case_are_left_to_duckdb(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"Id": [1], "id": [2]}), path)
    assert _mapped(path) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_map_or_give_none(data: bytes) -> None:
    found = duckdb_columns(data)
    assert found is None or all(isinstance(n, str) and isinstance(t, str) for n, t in found)
