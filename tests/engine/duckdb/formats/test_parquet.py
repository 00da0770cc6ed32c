from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakebox.engine.duckdb.formats.base import reader_for
from lakebox.engine.duckdb.formats.parquet import ParquetReader
from lakebox.errors import DataError, InvalidRequestError
from lakebox.formats.base import DataFile
from lakebox.formats.plugins import PARQUET_INPUT, PARQUET_SERDE
from lakebox.storage import Storage

try:
    from .binary_helpers import LOCATION, local_path, make_table, scan
except ImportError:
    from binary_helpers import LOCATION, local_path, make_table, scan  # type: ignore[no-redef]


def write(storage: Storage, name: str, table: pa.Table, compression: str = "snappy") -> None:
    pq.write_table(table, local_path(storage, LOCATION + name), compression=compression)


@pytest.mark.parametrize("compression", ["snappy", "gzip", "zstd", "none", "lz4", "brotli"])
def test_reads_every_codec_with_declared_types(
    storage: Storage, tmp_path: Path, compression: str
) -> None:
    write(
        storage,
        "a.parquet",
        pa.table(
            {
                "id": pa.array([1, 2], pa.int64()),
                "name": ["x", None],
                "amount": pa.array([Decimal("1.50"), Decimal("2.25")], pa.decimal128(10, 2)),
            }
        ),
        compression,
    )
    result = scan(
        storage,
        tmp_path,
        make_table(
            [("id", "bigint"), ("name", "string"), ("amount", "decimal(10,2)")], PARQUET_SERDE
        ),
    )
    assert result.rows() == [
        {"id": 1, "name": "x", "amount": Decimal("1.50")},
        {"id": 2, "name": None, "amount": Decimal("2.25")},
    ]


def test_columns_match_by_name_case_insensitively(storage: Storage, tmp_path: Path) -> None:
    write(storage, "a.parquet", pa.table({"UserId": [7], "EventName": ["click"]}))
    result = scan(
        storage,
        tmp_path,
        make_table([("eventname", "string"), ("userid", "bigint")], PARQUET_SERDE),
    )
    assert result.rows() == [{"eventname": "click", "userid": 7}]


def test_files_with_different_schemas_union_by_name(storage: Storage, tmp_path: Path) -> None:
    write(storage, "a.parquet", pa.table({"id": pa.array([1], pa.int32()), "old": ["o"]}))
    write(storage, "b.parquet", pa.table({"ID": pa.array([2], pa.int64()), "new": [2.5]}))
    result = scan(
        storage,
        tmp_path,
        make_table([("id", "bigint"), ("old", "string"), ("new", "double")], PARQUET_SERDE),
    )
    assert sorted(result.rows(), key=lambda r: r["id"]) == [
        {"id": 1, "old": "o", "new": None},
        {"id": 2, "old": None, "new": 2.5},
    ]


def test_column_missing_from_all_files_reads_null(storage: Storage, tmp_path: Path) -> None:
    write(storage, "a.parquet", pa.table({"id": [1, 2]}))
    result = scan(
        storage,
        tmp_path,
        make_table(
            [("id", "bigint"), ("added_later", "array<struct<a:int>>"), ("d", "date")],
            PARQUET_SERDE,
        ),
    )
    assert result.column("added_later") == [None, None]
    assert result.column("d") == [None, None]


@pytest.mark.parametrize(
    ("file_type", "value", "declared", "expected"),
    [
        (pa.int32(), 5, "bigint", 5),
        (pa.int8(), -3, "int", -3),
        (pa.float32(), 1.5, "double", 1.5),
        (pa.int64(), 5, "string", "5"),
        (pa.string(), "12", "int", 12),
        (pa.string(), "not a number", "int", None),
        (pa.int64(), 2**40, "int", None),
        (pa.date32(), dt.date(2024, 2, 29), "timestamp", dt.datetime(2024, 2, 29)),
        (pa.timestamp("ns"), dt.datetime(2024, 1, 1, 3), "timestamp", dt.datetime(2024, 1, 1, 3)),
        (
            pa.timestamp("ms", tz="UTC"),
            dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC),
            "timestamp",
            dt.datetime(2024, 1, 1, 12),
        ),
        (pa.decimal128(5, 2), Decimal("1.25"), "decimal(10,3)", Decimal("1.250")),
        (pa.decimal128(38, 0), Decimal("9" * 38), "decimal", Decimal("9" * 38)),
        (pa.int64(), 1234567890123456, "decimal", Decimal(1234567890123456)),
        (pa.string(), "1234567890123456", "decimal", Decimal(1234567890123456)),
        (pa.binary(), "héllo".encode(), "string", "héllo"),
        (pa.binary(), b"\xff\xfe", "string", None),
        (pa.string(), "héllo", "binary", "héllo".encode()),
    ],
)
def test_type_mismatches_cast_like_athena(
    storage: Storage,
    tmp_path: Path,
    file_type: pa.DataType,
    value: object,
    declared: str,
    expected: object,
) -> None:
    write(storage, "a.parquet", pa.table({"c": pa.array([value], file_type)}))
    result = scan(storage, tmp_path, make_table([("c", declared)], PARQUET_SERDE))
    assert result.column("c") == [expected]


def test_utc_timestamps_ignore_session_time_zone(storage: Storage, tmp_path: Path) -> None:
    write(
        storage,
        "a.parquet",
        pa.table(
            {
                "t": pa.array(
                    [dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)], pa.timestamp("us", tz="UTC")
                )
            }
        ),
    )
    table = make_table([("t", "timestamp")], PARQUET_SERDE)
    for zone in ("America/New_York", "Asia/Tokyo"):
        result = scan(storage, tmp_path, table, setup=f"SET TimeZone = '{zone}'")
        assert result.column("t") == [dt.datetime(2024, 1, 1, 12)]


def test_nested_struct_fields_match_by_name(storage: Storage, tmp_path: Path) -> None:
    write(
        storage,
        "a.parquet",
        pa.table(
            {
                "Item": [{"Id": 1, "Tags": ["a", "b"]}, None],
                "m": pa.array([[("k", 1)], None], pa.map_(pa.string(), pa.int64())),
            }
        ),
    )
    result = scan(
        storage,
        tmp_path,
        make_table(
            [
                ("item", "struct<tags:array<string>,id:bigint,missing:string>"),
                ("m", "map<string,bigint>"),
            ],
            PARQUET_SERDE,
        ),
    )
    assert result.column("item") == [{"tags": ["a", "b"], "id": 1, "missing": None}, None]
    assert result.column("m") == [[("k", 1)], None]


def test_matching_types_keep_filter_pushdown(storage: Storage, tmp_path: Path) -> None:
    write(storage, "a.parquet", pa.table({"id": list(range(100)), "v": ["x"] * 100}))
    table = make_table([("id", "bigint"), ("v", "string")], PARQUET_SERDE)
    result = scan(storage, tmp_path, table, where="id = 42")
    assert result.rows() == [{"id": 42, "v": "x"}]
    scan_node = result.plan[result.plan.index("READ_PARQUET") :]
    assert "Filters:" in scan_node
    assert "id=42" in scan_node.replace(" ", "")


def test_projection_returns_only_requested_columns(storage: Storage, tmp_path: Path) -> None:
    write(storage, "a.parquet", pa.table({"a": [1], "b": ["two"], "c": [3.0]}))
    table = make_table([("a", "bigint"), ("b", "string"), ("c", "double")], PARQUET_SERDE)
    assert scan(storage, tmp_path, table, columns=["b"]).rows() == [{"b": "two"}]


def test_index_access_maps_columns_by_position(storage: Storage, tmp_path: Path) -> None:
    write(storage, "a.parquet", pa.table({"_col0": [1], "_col1": ["x"]}))
    table = make_table(
        [("id", "bigint"), ("name", "string")],
        PARQUET_SERDE,
        serde_params={"parquet.column.index.access": "true"},
    )
    assert scan(storage, tmp_path, table).rows() == [{"id": 1, "name": "x"}]


@pytest.mark.parametrize("how", ["serde", "input_format"])
def test_registered_by_serde_and_input_format(how: str) -> None:
    table = make_table(
        [("a", "int")],
        PARQUET_SERDE if how == "serde" else None,
        PARQUET_INPUT if how == "input_format" else None,
    )
    assert isinstance(reader_for(table), ParquetReader)


def test_bad_index_access_value_is_rejected() -> None:
    table = make_table(
        [("a", "int")], PARQUET_SERDE, serde_params={"parquet.column.index.access": "yes"}
    )
    with pytest.raises(InvalidRequestError, match=r"parquet\.column\.index\.access"):
        ParquetReader().validate(table)


def test_corrupt_file_raises_data_error(storage: Storage, tmp_path: Path) -> None:
    local_path(storage, LOCATION + "bad.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataError, match="Parquet"):
        scan(storage, tmp_path, make_table([("a", "int")], PARQUET_SERDE))


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        (
            {"Id": 1, "Inner": {"Q": 2}},
            "struct<id:bigint,inner:struct<q:bigint>>",
            {"id": 1, "inner": {"q": 2}},
        ),
        ([{"Z": 1}], "array<struct<z:bigint>>", [{"z": 1}]),
        (
            {"Id": 1, "Inner": {"Q": 2}},
            "struct<id:int,inner:struct<q:bigint>>",
            {"id": 1, "inner": {"q": 2}},
        ),
    ],
)
def test_struct_fields_take_declared_spelling(
    storage: Storage, tmp_path: Path, data: object, declared: str, expected: object
) -> None:
    write(storage, "a.parquet", pa.table({"c": [data]}))
    result = scan(storage, tmp_path, make_table([("c", declared)], PARQUET_SERDE))
    assert result.column("c") == [expected]


def test_key_value_folders_do_not_become_columns(storage: Storage, tmp_path: Path) -> None:
    write(storage, "year=2024/a.parquet", pa.table({"id": [1]}))
    table = make_table([("id", "bigint"), ("year", "int")], PARQUET_SERDE)
    assert scan(storage, tmp_path, table).rows() == [{"id": 1, "year": None}]


@pytest.mark.parametrize("with_data", [True, False])
def test_zero_byte_files_hold_no_rows(storage: Storage, tmp_path: Path, with_data: bool) -> None:
    local_path(storage, LOCATION + "empty.parquet").write_bytes(b"")
    if with_data:
        write(storage, "a.parquet", pa.table({"id": [1]}))
    result = scan(storage, tmp_path, make_table([("id", "bigint"), ("s", "string")], PARQUET_SERDE))
    assert result.rows() == ([{"id": 1, "s": None}] if with_data else [])


def test_rewritten_file_shows_its_new_columns(storage: Storage, tmp_path: Path) -> None:
    table = make_table([("a", "bigint"), ("b", "string")], PARQUET_SERDE)
    write(storage, "a.parquet", pa.table({"a": [1]}))
    assert scan(storage, tmp_path, table).rows() == [{"a": 1, "b": None}]
    write(storage, "a.parquet", pa.table({"a": [2], "b": ["new"]}))
    assert scan(storage, tmp_path, table).rows() == [{"a": 2, "b": "new"}]


def test_index_access_over_files_with_different_names(storage: Storage, tmp_path: Path) -> None:
    write(storage, "a.parquet", pa.table({"_col0": [1], "_col1": [{"x": 1}], "_col2": ["a"]}))
    write(storage, "b.parquet", pa.table({"id": [2], "s": [{"x": 2}], "name": ["b"]}))
    write(storage, "c.parquet", pa.table({"_col0": [3], "_col1": [{"x": 3}]}))
    table = make_table(
        [("id", "bigint"), ("s", "struct<x:bigint>"), ("name", "string")],
        PARQUET_SERDE,
        serde_params={"parquet.column.index.access": "true"},
    )
    result = scan(storage, tmp_path, table)
    assert sorted(result.rows(), key=lambda r: r["id"]) == [
        {"id": 1, "s": {"x": 1}, "name": "a"},
        {"id": 2, "s": {"x": 2}, "name": "b"},
        {"id": 3, "s": {"x": 3}, "name": None},
    ]


def test_file_schema_cache_is_keyed_by_principal_and_policy_version(
    storage: Storage, tmp_path: Path
) -> None:
    """A schema derived for one principal (or policy version) is never served to another."""
    import duckdb

    from lakebox.engine.duckdb.formats import parquet as parquet_module
    from lakebox.engine.duckdb.formats.base import ReadContext
    from lakebox.formats.base import DataFile, ReadRequest
    from lakebox.principal import LOCAL_ADMIN

    write(storage, "a.parquet", pa.table({"id": pa.array([1], pa.int64())}))
    table = make_table([("id", "bigint")], serde=PARQUET_SERDE)
    files = [
        DataFile(f.uri, storage.engine_path(f.uri), f.size, f.mtime)
        for f in storage.list_files(LOCATION)
    ]
    source = f"read_parquet(['{files[0].engine_path}'])"
    request = ReadRequest(table, files, table.columns)
    with duckdb.connect() as con:
        ctx = ReadContext(storage, con, tmp_path / "cache")
        assert ctx.principal_key == LOCAL_ADMIN.key and ctx.policy_version == 0
        for principal, version in ((LOCAL_ADMIN.key, 0), ("arn:aws:iam::1:user/x", 0)):
            parquet_module._file_schema(ctx, request, files, source, principal, version)
        parquet_module._file_schema(ctx, request, files, source, LOCAL_ADMIN.key, 1)
    keys = {k[:2] for k in parquet_module._SCHEMAS if k[2] == source}
    assert keys == {(LOCAL_ADMIN.key, 0), ("arn:aws:iam::1:user/x", 0), (LOCAL_ADMIN.key, 1)}


def test_files_alike_only_in_physical_types_are_not_one_schema(
    storage: Storage, tmp_path: Path
) -> None:
    """Uniform files are described by their first footer alone: files whose INT64 column is
    a millisecond timestamp in one and a plain integer in the other are not uniform, and
    files differing only in a decimal's scale are not either."""
    import duckdb

    from lakebox.engine.duckdb.formats import parquet as parquet_module
    from lakebox.engine.duckdb.formats.base import ReadContext
    from lakebox.formats.base import DataFile

    def files_of(tables: dict[str, pa.Table]) -> list[DataFile]:
        for name, t in tables.items():
            write(storage, name, t)
        return [
            DataFile(f.uri, storage.engine_path(f.uri), f.size, f.mtime)
            for f in storage.list_files(LOCATION)
            if f.uri.rsplit("/", 1)[-1] in tables
        ]

    ts = pa.table({"t": pa.array([dt.datetime(2024, 1, 1)], pa.timestamp("ms"))})
    plain = pa.table({"t": pa.array([1], pa.int64())})
    d1 = pa.table({"d": pa.array([Decimal("1.5")], pa.decimal128(10, 1))})
    d2 = pa.table({"d": pa.array([Decimal("1.50")], pa.decimal128(10, 2))})
    with duckdb.connect() as con:
        ctx = ReadContext(storage, con, tmp_path / "cache")
        same = files_of({"s1.parquet": plain, "s2.parquet": plain})
        assert parquet_module._same_columns(ctx, same)
        assert not parquet_module._same_columns(
            ctx, files_of({"a.parquet": ts, "b.parquet": plain})
        )
        assert not parquet_module._same_columns(ctx, files_of({"c.parquet": d1, "e.parquet": d2}))


def _data_files(storage: Storage, names: list[str]) -> list[DataFile]:
    found = {f.uri.rsplit("/", 1)[-1]: f for f in storage.list_files(LOCATION)}
    return [
        DataFile(found[n].uri, storage.engine_path(found[n].uri), found[n].size, found[n].mtime)
        for n in names
    ]


def test_uniform_files_are_told_from_their_footers_and_the_rest_by_duckdb(
    storage: Storage, tmp_path: Path
) -> None:
    """Files whose footers hold the same schema bytes are uniform without a DuckDB pass;
    columns in another order are not the same bytes, and DuckDB still finds them uniform."""
    import duckdb

    from lakebox.engine.duckdb.formats import parquet as parquet_module
    from lakebox.engine.duckdb.formats.base import ReadContext

    write(storage, "a.parquet", pa.table({"id": [1], "name": ["x"]}))
    write(storage, "b.parquet", pa.table({"id": [2, 3], "name": ["y", None]}))
    write(storage, "c.parquet", pa.table({"name": ["z"], "id": [4]}))
    same = _data_files(storage, ["a.parquet", "b.parquet"])
    swapped = _data_files(storage, ["a.parquet", "c.parquet"])
    assert parquet_module._same_footer_schemas(same)
    assert not parquet_module._same_footer_schemas(swapped)
    with duckdb.connect() as con:
        ctx = ReadContext(storage, con, tmp_path / "cache")
        assert parquet_module._same_columns(ctx, same)
        assert parquet_module._same_columns(ctx, swapped)


def test_footer_schemas_never_call_files_alike_that_duckdb_tells_apart(
    storage: Storage, tmp_path: Path
) -> None:
    """Over files of many column types, nullability and writers, two files whose footers
    hold the same schema bytes are always uniform by DuckDB's own reading of the schema."""
    import duckdb

    from lakebox.engine.duckdb.formats import parquet as parquet_module
    from lakebox.engine.duckdb.formats.base import ReadContext

    arrays = {
        "i32": pa.array([1], pa.int32()),
        "i64": pa.array([1], pa.int64()),
        "ts_ms": pa.array([dt.datetime(2024, 1, 1)], pa.timestamp("ms")),
        "ts_us": pa.array([dt.datetime(2024, 1, 1)], pa.timestamp("us")),
        "ts_utc": pa.array([dt.datetime(2024, 1, 1)], pa.timestamp("us", "UTC")),
        "dec1": pa.array([Decimal("1.5")], pa.decimal128(10, 1)),
        "dec2": pa.array([Decimal("1.50")], pa.decimal128(10, 2)),
        "str": pa.array(["a"]),
        "bin": pa.array([b"a"]),
        "list": pa.array([[1, 2]]),
        "struct": pa.array([{"x": 1}]),
        "map": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64())),
    }
    names = []
    for kind, array in arrays.items():
        for nullable in (True, False):
            schema = pa.schema([pa.field("c", array.type, nullable=nullable)])
            for copy in range(2):
                name = f"{kind}_{nullable}_{copy}.parquet"
                write(storage, name, pa.table({"c": array}, schema=schema))
                names.append(name)
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 1::BIGINT AS c) TO '{local_path(storage, LOCATION)}/d.parquet'")
        names.append("d.parquet")
        files = _data_files(storage, names)
        ctx = ReadContext(storage, con, tmp_path / "cache")
        alike = 0
        for i, a in enumerate(files):
            for b in files[i + 1 :]:
                if parquet_module._same_footer_schemas([a, b]):
                    alike += 1
                    paths = f"['{a.engine_path}', '{b.engine_path}']"
                    described = con.sql(
                        f"SELECT DISTINCT file_name, name, type, "
                        f"logical_type FROM parquet_schema({paths})"
                    ).fetchall()
                    assert parquet_module._same_columns(ctx, [a, b]), described
        assert alike == len(arrays) * 2  # each file and its copy, nothing else


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"PAR1",
        b"PAR1 this is not parquet",
        b"PAR1" + b"\x00" * 8 + (4).to_bytes(4, "little") + b"PAR1",
        b"PAR1" + b"\xff" * 64 + (64).to_bytes(4, "little") + b"PAR1",
        b"PAR1" + b"\x19\xfc" + b"\x7f" * 30 + (32).to_bytes(4, "little") + b"PAR1",
        b"PAR1" + b"\x15\x02" + (2**31).to_bytes(4, "little") + b"PAR1",
        b"PAR1" + b"\x1c" * 40 + (40).to_bytes(4, "little") + b"PAR1",
    ],
)
def test_a_footer_read_here_that_is_not_parquet_is_left_to_duckdb(
    storage: Storage, tmp_path: Path, content: bytes
) -> None:
    """A file with no plain Parquet footer is not read as one here (nothing raised), and
    the scan fails as DuckDB's reading of every footer finds it."""
    from lakebox.engine.duckdb.formats import parquet as parquet_module

    write(storage, "a.parquet", pa.table({"a": pa.array([1], pa.int32())}))
    write(storage, "b.parquet", pa.table({"a": pa.array([2], pa.int32())}))
    bad = local_path(storage, LOCATION + "bad.parquet")
    bad.write_bytes(content)
    assert parquet_module._footer_schema(str(bad)) is None
    if not content:
        return  # a zero-byte file holds no rows and is never read
    with pytest.raises(DataError, match=r"cannot read Parquet file of table db\.tbl"):
        scan(storage, tmp_path, make_table([("a", "int")], PARQUET_SERDE))


def test_footers_longer_than_one_read_are_compared_whole(storage: Storage) -> None:
    """A footer longer than the first read (here ~40 KB: 300 columns) is read on its own;
    a difference in its last column still tells the files apart."""
    from lakebox.engine.duckdb.formats import parquet as parquet_module

    wide = {f"c{i:03d}": pa.array([i], pa.int64()) for i in range(300)}
    other = dict(wide, c299=pa.array([1.5], pa.float64()))
    write(storage, "a.parquet", pa.table(wide))
    write(storage, "b.parquet", pa.table(wide))
    write(storage, "c.parquet", pa.table(other))
    a, b, c = _data_files(storage, ["a.parquet", "b.parquet", "c.parquet"])
    footer = parquet_module._footer(a.engine_path)
    assert footer is not None and len(footer) > parquet_module._FOOTER_TAIL
    assert parquet_module._same_footer_schemas([a, b])
    assert not parquet_module._same_footer_schemas([a, c])
    assert not parquet_module._same_footer_schemas([c, a])


def test_a_fifo_or_folder_named_like_parquet_is_not_read_here(tmp_path: Path) -> None:
    """Reading footers never blocks on a FIFO nor fails on a folder: neither is Parquet."""
    import os

    from lakebox.engine.duckdb.formats import parquet as parquet_module

    fifo = tmp_path / "pipe.parquet"
    os.mkfifo(fifo)
    folder = tmp_path / "dir.parquet"
    folder.mkdir()
    assert parquet_module._footer(str(fifo)) is None
    assert parquet_module._footer(str(folder)) is None
    assert parquet_module._footer(str(tmp_path / "missing.parquet")) is None


def test_a_footer_damaged_after_its_schema_fails_the_query_as_duckdb_reads_it(
    tmp_path: Path,
) -> None:
    """Two files whose footers begin with the same schema are uniform from their bytes, but
    the second one's footer is garbage after the schema: DuckDB's reading of every footer
    fails on it, and every query of the table fails with that error, as it did when that
    reading came before the query (not with the query's own error)."""
    import lakebox
    from lakebox.engine.duckdb.formats import parquet as parquet_module

    folder = tmp_path / "b" / "t"
    folder.mkdir(parents=True)
    good, bad = folder / "1-good.parquet", folder / "2-bad.parquet"
    pq.write_table(pa.table({"a": pa.array([1, 2], pa.int32())}), good)
    pq.write_table(pa.table({"a": pa.array([3], pa.int32())}), bad)
    data = bytearray(bad.read_bytes())
    footer = parquet_module._footer(str(bad))
    span = parquet_module._schema_span(footer) if footer is not None else None
    assert footer is not None and span is not None
    start = len(data) - 8 - len(footer)
    data[start + span[1] : len(data) - 8] = b"\xff" * (len(footer) - span[1])
    bad.write_bytes(bytes(data))
    paths = [DataFile(str(p), str(p), p.stat().st_size, p.stat().st_mtime) for p in (good, bad)]
    assert parquet_module._same_footer_schemas(paths)

    session = lakebox.connect(tmp_path)
    session.sql("CREATE EXTERNAL TABLE t (a int) STORED AS PARQUET LOCATION 's3://b/t/'")
    for query in ("SELECT count(*) FROM t", "SELECT a FROM t LIMIT 1", "SELECT a / 0 FROM t"):
        with pytest.raises(DataError, match=r"^cannot read Parquet file of table default\.t: "):
            session.sql(query)


@pytest.mark.parametrize("uniform", [True, False], ids=["same columns", "different columns"])
def test_many_files_are_named_in_a_variable_and_read_alike(
    storage: Storage, tmp_path: Path, uniform: bool
) -> None:
    """Past ``LITERAL_PATHS`` files the scan names them in a DuckDB variable (a long list
    literal costs DuckDB more to parse than the files' footers to read), with the same
    rows as a literal list; files whose columns differ still union by name."""
    from lakebox.engine.duckdb.formats.base import LITERAL_PATHS

    count = LITERAL_PATHS + 3
    for n in range(count):
        extra = {"note": [f"n{n}"]} if not uniform and n % 2 else {}
        write(storage, f"p{n:03d}.parquet", pa.table({"id": pa.array([n], pa.int64()), **extra}))
    table = make_table([("id", "bigint"), ("note", "string")], serde=PARQUET_SERDE)
    result = scan(storage, tmp_path, table)
    assert "getvariable(" in result.sql and "p000.parquet" not in result.sql
    rows = sorted(result.rows(), key=lambda r: r["id"])
    notes = [f"n{n}" if not uniform and n % 2 else None for n in range(count)]
    assert rows == [{"id": n, "note": notes[n]} for n in range(count)]
