from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.orc as orc
import pytest

from lakebox.engine.duckdb.formats.base import reader_for
from lakebox.engine.duckdb.formats.orc import OrcReader, arrow_filesystem, orc_schema
from lakebox.errors import DataError, InvalidRequestError
from lakebox.formats.plugins import ORC_INPUT, ORC_SERDE
from lakebox.storage import Storage

try:
    from .binary_helpers import LOCATION, local_path, make_table, scan
except ImportError:
    from binary_helpers import LOCATION, local_path, make_table, scan  # type: ignore[no-redef]


BY_NAME = {"orc.column.index.access": "false"}


def write(storage: Storage, name: str, table: pa.Table, compression: str = "zlib") -> None:
    orc.write_table(table, str(local_path(storage, LOCATION + name)), compression=compression)


@pytest.mark.parametrize("compression", ["uncompressed", "zlib", "snappy", "zstd", "lz4"])
def test_reads_every_internal_codec(storage: Storage, tmp_path: Path, compression: str) -> None:
    write(
        storage,
        "part-0.orc",
        pa.table(
            {
                "id": pa.array([1, 2], pa.int32()),
                "name": ["a", None],
                "price": pa.array([Decimal("9.99"), None], pa.decimal128(10, 2)),
                "ts": [dt.datetime(2024, 5, 1, 8, 30), None],
            }
        ),
        compression,
    )
    result = scan(
        storage,
        tmp_path,
        make_table(
            [("id", "bigint"), ("name", "string"), ("price", "decimal(10,2)"), ("ts", "timestamp")],
            ORC_SERDE,
        ),
    )
    assert result.rows() == [
        {"id": 1, "name": "a", "price": Decimal("9.99"), "ts": dt.datetime(2024, 5, 1, 8, 30)},
        {"id": 2, "name": None, "price": None, "ts": None},
    ]


def test_columns_by_name_case_insensitive_and_missing_read_null(
    storage: Storage, tmp_path: Path
) -> None:
    write(storage, "a.orc", pa.table({"UserID": [1], "Country": ["SE"]}))
    result = scan(
        storage,
        tmp_path,
        make_table(
            [("country", "string"), ("userid", "int"), ("absent", "double")],
            ORC_SERDE,
            serde_params=BY_NAME,
        ),
    )
    assert result.rows() == [{"country": "SE", "userid": 1, "absent": None}]


def test_files_with_different_schemas(storage: Storage, tmp_path: Path) -> None:
    write(storage, "a.orc", pa.table({"id": pa.array([1], pa.int32()), "v1": ["old"]}))
    write(storage, "b.orc", pa.table({"ID": pa.array([2], pa.int64()), "v2": [True]}))
    write(storage, "c.orc", pa.table({"id": pa.array([3], pa.int32()), "v1": ["again"]}))
    result = scan(
        storage,
        tmp_path,
        make_table(
            [("id", "bigint"), ("v1", "string"), ("v2", "boolean")], ORC_SERDE, params=BY_NAME
        ),
    )
    assert sorted(result.rows(), key=lambda r: r["id"]) == [
        {"id": 1, "v1": "old", "v2": None},
        {"id": 2, "v1": None, "v2": True},
        {"id": 3, "v1": "again", "v2": None},
    ]
    assert result.sql.count("UNION ALL") == 1


def test_columns_are_read_by_position_by_default(storage: Storage, tmp_path: Path) -> None:
    write(storage, "a.orc", pa.table({"_col0": [10], "_col1": ["x"], "_col2": [1.5]}))
    columns = [("id", "bigint"), ("name", "string"), ("score", "double"), ("added", "int")]
    by_position = make_table(columns, ORC_SERDE)
    assert scan(storage, tmp_path, by_position, columns=["name", "score", "added"]).rows() == [
        {"name": "x", "score": 1.5, "added": None}
    ]
    explicit = make_table(columns, ORC_SERDE, serde_params={"orc.column.index.access": "TRUE"})
    assert scan(storage, tmp_path, explicit).column("id") == [10]
    by_name = make_table(columns, ORC_SERDE, serde_params=BY_NAME)
    assert scan(storage, tmp_path, by_name).rows() == [
        {"id": None, "name": None, "score": None, "added": None}
    ]


def test_renamed_table_column_keeps_reading_by_position(storage: Storage, tmp_path: Path) -> None:
    write(storage, "a.orc", pa.table({"customer": ["ann"], "total": [5]}))
    table = make_table([("client", "string"), ("total", "bigint")], ORC_SERDE)
    assert scan(storage, tmp_path, table).rows() == [{"client": "ann", "total": 5}]


def test_nested_types(storage: Storage, tmp_path: Path) -> None:
    write(
        storage,
        "a.orc",
        pa.table(
            {
                "s": [{"A": 1, "b": ["x"]}, None],
                "m": pa.array([[("k", 2)], []], pa.map_(pa.string(), pa.int64())),
            }
        ),
    )
    result = scan(
        storage,
        tmp_path,
        make_table(
            [("s", "struct<a:bigint,b:array<string>>"), ("m", "map<string,int>")], ORC_SERDE
        ),
    )
    assert result.column("s") == [{"a": 1, "b": ["x"]}, None]
    assert result.column("m") == [[("k", 2)], []]


def test_filters_are_pushed_into_the_arrow_scan(storage: Storage, tmp_path: Path) -> None:
    write(storage, "a.orc", pa.table({"id": list(range(1000)), "v": [str(i) for i in range(1000)]}))
    table = make_table([("id", "bigint"), ("v", "string")], ORC_SERDE)
    result = scan(storage, tmp_path, table, where="id = 999")
    assert result.rows() == [{"id": 999, "v": "999"}]
    scan_node = result.plan[result.plan.index("ARROW_SCAN") :]
    assert "Filters:" in scan_node


def test_fsspec_filesystems_are_wrapped_for_arrow() -> None:
    """S3 mode hands an fsspec filesystem; the reader must go through it, not local paths."""
    mem = fsspec.filesystem("memory")
    sink = pa.BufferOutputStream()
    orc.write_table(pa.table({"Id": [5, 6]}), sink)
    mem.pipe("/bucket/t/a.orc", sink.getvalue().to_pybytes())
    filesystem = arrow_filesystem(mem)
    assert orc_schema(filesystem, "/bucket/t/a.orc", "s3://bucket/t/a.orc").names == ["Id"]
    con = duckdb.connect()
    con.register("d", ds.dataset(["/bucket/t/a.orc"], format="orc", filesystem=filesystem))
    assert con.sql('SELECT sum("Id") FROM d').fetchall() == [(11,)]


def test_corrupt_file_raises_data_error_naming_it(storage: Storage, tmp_path: Path) -> None:
    local_path(storage, LOCATION + "broken.orc").write_bytes(b"ORC but not really")
    with pytest.raises(DataError, match=r"broken\.orc"):
        scan(storage, tmp_path, make_table([("a", "int")], ORC_SERDE))


def test_registration_and_validation() -> None:
    assert isinstance(reader_for(make_table([("a", "int")], ORC_SERDE)), OrcReader)
    assert isinstance(reader_for(make_table([("a", "int")], None, ORC_INPUT)), OrcReader)
    bad = make_table([("a", "int")], ORC_SERDE, serde_params={"orc.column.index.access": "1"})
    with pytest.raises(InvalidRequestError, match=r"orc\.column\.index\.access"):
        OrcReader().validate(bad)


@pytest.mark.parametrize("with_data", [True, False])
def test_zero_byte_files_hold_no_rows(storage: Storage, tmp_path: Path, with_data: bool) -> None:
    local_path(storage, LOCATION + "empty.orc").write_bytes(b"")
    if with_data:
        write(storage, "a.orc", pa.table({"id": [1]}))
    result = scan(storage, tmp_path, make_table([("id", "bigint"), ("s", "string")], ORC_SERDE))
    assert result.rows() == ([{"id": 1, "s": None}] if with_data else [])
