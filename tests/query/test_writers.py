"""CTAS, INSERT INTO and UNLOAD: every format written and read back by lakebox's own
readers, Glue names in the catalog, and Athena's rules and errors."""

from __future__ import annotations

import datetime
import gzip
import json
from typing import Any

import pytest

from lakebox.catalog.model import Column, Table
from lakebox.config import LakeConfig
from lakebox.errors import (
    AlreadyExistsError,
    InvalidRequestError,
    SemanticError,
    UnsupportedError,
)
from lakebox.query.writers import FORMATS, hive_type_from_arrow, split_unload
from lakebox.session import Lake, Session, StatementContext

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
FORMAT_NAMES = ["PARQUET", "ORC", "AVRO", "JSON", "TEXTFILE", "ION"]

#: one row of every type family, one row of NULLs; p is the partition column
SOURCE = """
SELECT * FROM (VALUES
  (1, 'a b', CAST(12345678901234.56 AS DECIMAL(20,2)), TIMESTAMP '2024-01-02 03:04:05.123',
   DATE '2024-02-29', ARRAY[1, 2, 3], MAP(ARRAY['k1', 'k2'], ARRAY[1.5E0, 2.5E0]),
   CAST(ROW(7, 'x') AS ROW(a INTEGER, b VARCHAR)), true, CAST(2.5 AS DOUBLE), 'x'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'y'),
  (3, 'c', CAST(-0.01 AS DECIMAL(20,2)), TIMESTAMP '1999-12-31 23:59:59', DATE '1970-01-01',
   ARRAY[], MAP(ARRAY['z'], ARRAY[CAST(NULL AS DOUBLE)]),
   CAST(ROW(NULL, 'q') AS ROW(a INTEGER, b VARCHAR)), false, CAST(-1E10 AS DOUBLE), 'x')
) AS v(id, s, d, ts, dt, arr, m, st, flag, dbl, p)
"""


@pytest.fixture
def lake(config: LakeConfig) -> Lake:
    return Lake(config)


@pytest.fixture
def session(lake: Lake) -> Session:
    return lake.session()


def _rows(session: Session, sql: str) -> list[dict[str, Any]]:
    return session.sql(sql).to_pylist()


def _normal(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Maps come back as key/value pairs; compare them as dicts."""
    out = []
    for row in rows:
        out.append(
            {
                k: dict(v) if isinstance(v, list) and v and isinstance(v[0], tuple) else v
                for k, v in row.items()
            }
        )
    return out


def _visible_files(lake: Lake, uri: str) -> list[str]:
    return [f.uri for f in lake.storage.list_files(uri)]


def _all_files(lake: Lake, uri: str) -> list[str]:
    return [f.uri for f in lake.storage.list_files(uri, include_hidden=True)]


# -- CTAS ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_ctas_round_trips_every_type_in_every_format(session: Session, fmt: str) -> None:
    result = session.sql(
        f"CREATE TABLE t WITH (format = '{fmt}', partitioned_by = ARRAY['p']) AS {SOURCE}"
    )
    assert result.kind == "DML"
    assert result.to_pylist() == [{"rows": 3}]
    expected = _normal(_rows(session, f"SELECT * FROM ({SOURCE}) ORDER BY id"))
    assert _normal(_rows(session, "SELECT * FROM t ORDER BY id")) == expected


@pytest.mark.parametrize(
    ("fmt", "serde", "input_format"),
    [
        (
            "PARQUET",
            "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        ),
        (
            "ORC",
            "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
            "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
        ),
        (
            "AVRO",
            "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
            "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
        ),
        (
            "JSON",
            "org.apache.hive.hcatalog.data.JsonSerDe",
            "org.apache.hadoop.mapred.TextInputFormat",
        ),
        (
            "TEXTFILE",
            "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
            "org.apache.hadoop.mapred.TextInputFormat",
        ),
        (
            "ION",
            "com.amazon.ionhiveserde.IonHiveSerDe",
            "com.amazon.ionhiveserde.formats.IonInputFormat",
        ),
    ],
)
def test_ctas_registers_glue_serde_names_and_hive_types(
    session: Session, lake: Lake, fmt: str, serde: str, input_format: str
) -> None:
    session.sql(
        f"CREATE TABLE t WITH (format = '{fmt}') AS SELECT sum(x) AS total, "
        "CAST(1.5 AS DECIMAL(7,3)) AS d, CAST(1 AS SMALLINT) AS small, 'a' AS s, "
        "ARRAY['x'] AS arr FROM UNNEST(ARRAY[1, 2]) AS u(x)"
    )
    table = lake.catalog.get_table("default", "t")
    assert table.serde_library == serde
    assert table.input_format == input_format
    assert table.output_format == FORMATS[fmt].output_format
    assert [(c.name, c.type) for c in table.columns] == [
        ("total", "bigint"),
        ("d", "decimal(7,3)"),
        ("small", "smallint"),
        ("s", "string"),
        ("arr", "array<string>"),
    ]
    if fmt == "AVRO":
        schema = json.loads(table.serde_parameters["avro.schema.literal"])
        assert [f["name"] for f in schema["fields"]] == ["total", "d", "small", "s", "arr"]


def test_ctas_default_location_is_under_the_results_with_the_query_id(
    session: Session, lake: Lake
) -> None:
    context = StatementContext(output_location="s3://results/athena/")
    session.sql("CREATE TABLE t AS SELECT 1 AS a", context)
    location = f"s3://results/athena/tables/{context.query_id}/"
    assert lake.catalog.get_table("default", "t").location == location
    files = _all_files(lake, location)
    assert len(files) == 1 and context.query_id in files[0]
    assert files[0].endswith(".parquet")


def test_ctas_partitions_are_hive_folders_registered_in_the_catalog(
    session: Session, lake: Lake
) -> None:
    session.sql(
        "CREATE TABLE t WITH (external_location = 's3://lake/t/', partitioned_by = "
        "ARRAY['y', 'm']) AS SELECT x AS v, x % 2 AS y, CASE WHEN x < 3 THEN 'a/b' ELSE 'c' END "
        "AS m FROM UNNEST(sequence(1, 4)) AS u(x)"
    )
    table = lake.catalog.get_table("default", "t")
    assert [k.name for k in table.partition_keys] == ["y", "m"]
    parts = {tuple(p.values): p.location for p in lake.catalog.get_partitions("default", "t")}
    assert parts == {
        ("0", "a/b"): "s3://lake/t/y=0/m=a%2Fb/",
        ("0", "c"): "s3://lake/t/y=0/m=c/",
        ("1", "a/b"): "s3://lake/t/y=1/m=a%2Fb/",
        ("1", "c"): "s3://lake/t/y=1/m=c/",
    }
    for location in parts.values():
        assert len(_visible_files(lake, location or "")) == 1
    assert _rows(session, "SELECT v, y, m FROM t WHERE m = 'a/b' ORDER BY v") == [
        {"v": 1, "y": 1, "m": "a/b"},
        {"v": 2, "y": 0, "m": "a/b"},
    ]


def test_ctas_bucketing_writes_bucket_count_files_per_partition(
    session: Session, lake: Lake
) -> None:
    session.sql(
        "CREATE TABLE t WITH (external_location = 's3://lake/b/', bucketed_by = ARRAY['id'], "
        "bucket_count = 3, partitioned_by = ARRAY['p']) AS SELECT x AS id, x % 2 AS p "
        "FROM UNNEST(sequence(1, 300)) AS u(x)"
    )
    table = lake.catalog.get_table("default", "t")
    assert table.bucket_columns == ["id"] and table.num_buckets == 3
    for p in ("0", "1"):
        names = [u.rsplit("/", 1)[1] for u in _visible_files(lake, f"s3://lake/b/p={p}/")]
        assert [n.split("_", 1)[0] for n in names] == ["0000000", "0000001", "0000002"]
    assert _rows(session, "SELECT count(*) AS n, count(DISTINCT id) AS d FROM t") == [
        {"n": 300, "d": 300}
    ]


@pytest.mark.parametrize(
    ("select", "count", "expected"),
    [
        # Hive hashes an int to itself: bucket = value mod count (sign bit cleared)
        ("SELECT CAST(x AS INTEGER) AS k FROM UNNEST(sequence(-2, 9)) AS u(x)", 4, None),
        # Text.hashCode: 'a' = 31 + 97, 'b' = 31 + 98, 'ab' = 31 * 128 + 98
        ("SELECT k FROM UNNEST(ARRAY['a', 'b', 'ab']) AS u(k)", 3, {2: ["a"], 0: ["b"], 1: ["ab"]}),
        # Long.hashCode(2^32 + 5) = 1 ^ 5
        ("SELECT CAST(4294967301 AS BIGINT) AS k", 3, {1: [4294967301]}),
        # Long.hashCode(-2) = 0xFFFFFFFE ^ 0xFFFFFFFF = 1
        ("SELECT CAST(-2 AS BIGINT) AS k", 2, {1: [-2]}),
    ],
)
def test_bucket_files_follow_hives_hash(
    session: Session, lake: Lake, select: str, count: int, expected: dict[int, list[Any]] | None
) -> None:
    import pyarrow.parquet as pq

    session.sql(
        f"CREATE TABLE t WITH (external_location = 's3://lake/h/', bucketed_by = ARRAY['k'], "
        f"bucket_count = {count}) AS {select}"
    )
    placed: dict[int, list[Any]] = {}
    for uri in _visible_files(lake, "s3://lake/h/"):
        bucket = int(uri.rsplit("/", 1)[1].split("_", 1)[0])
        path = lake.storage.local_path(uri)
        assert path is not None
        placed[bucket] = sorted(pq.read_table(path).column("k").to_pylist())
    assert sorted(placed) == list(range(count))
    placed = {bucket: values for bucket, values in placed.items() if values}
    if expected is None:
        values = [r["k"] for r in _rows(session, f"SELECT k FROM ({select})")]
        expected = {}
        for v in sorted(values):
            expected.setdefault((v & 0x7FFFFFFF) % count, []).append(v)
    assert placed == expected


@pytest.mark.parametrize(
    ("props", "codec_check"),
    [
        ("format = 'JSON'", lambda data: data[:2] == b"\x1f\x8b"),
        ("format = 'JSON', write_compression = 'NONE'", lambda data: data.startswith(b"{")),
        (
            "format = 'TEXTFILE', field_delimiter = ','",
            lambda data: b"1,a\n" in gzip.decompress(data),
        ),
        ("format = 'PARQUET', write_compression = 'SNAPPY'", lambda data: data[:4] == b"PAR1"),
        ("format = 'PARQUET', parquet_compression = 'ZSTD'", lambda data: data[:4] == b"PAR1"),
        ("format = 'ORC', write_compression = 'SNAPPY'", lambda data: data[:3] == b"ORC"),
        ("format = 'ION', write_compression = 'ZSTD'", lambda data: data[:4] == ZSTD_MAGIC),
        ("format = 'JSON', write_compression = 'ZSTD'", lambda data: data[:4] == ZSTD_MAGIC),
        ("format = 'ION'", lambda data: data[:2] == b"\x1f\x8b"),
        ("format = 'AVRO', write_compression = 'DEFLATE'", lambda data: data[:3] == b"Obj"),
        (
            "format = 'ION', ion_encoding = 'TEXT', write_compression = 'NONE'",
            lambda data: b"a" in data,
        ),
    ],
)
def test_ctas_compression_and_delimiter_properties(
    session: Session, lake: Lake, props: str, codec_check: Any
) -> None:
    session.sql(
        f"CREATE TABLE t WITH ({props}, external_location = 's3://lake/c/') AS "
        "SELECT 1 AS id, 'a' AS s"
    )
    (uri,) = _visible_files(lake, "s3://lake/c/")
    assert codec_check(lake.storage.read_bytes(uri))
    assert _rows(session, "SELECT * FROM t") == [{"id": 1, "s": "a"}]


def test_ctas_with_no_data_creates_an_empty_table(session: Session, lake: Lake) -> None:
    result = session.sql(
        "CREATE TABLE t WITH (external_location = 's3://lake/n/') AS SELECT 1 AS a, 'x' AS b "
        "WITH NO DATA"
    )
    assert result.to_pylist() == [{"rows": 0}]
    assert [c.type for c in lake.catalog.get_table("default", "t").columns] == ["int", "string"]
    assert _all_files(lake, "s3://lake/n/") == []
    assert _rows(session, "SELECT * FROM t") == []


def test_ctas_into_an_existing_table_fails_and_writes_nothing(session: Session, lake: Lake) -> None:
    session.sql("CREATE TABLE t AS SELECT 1 AS a")
    with pytest.raises(AlreadyExistsError, match=r"default\.t' already exists"):
        session.sql("CREATE TABLE t WITH (external_location = 's3://lake/x/') AS SELECT 2 AS a")
    assert _all_files(lake, "s3://lake/x/") == []
    assert session.sql("CREATE TABLE IF NOT EXISTS t AS SELECT 2 AS a").to_pylist() == [{"rows": 0}]
    assert _rows(session, "SELECT a FROM t") == [{"a": 1}]


def test_ctas_external_location_must_be_empty(session: Session, lake: Lake) -> None:
    lake.storage.write_bytes("s3://lake/full/old.csv", b"1\n")
    with pytest.raises(AlreadyExistsError, match="HIVE_PATH_ALREADY_EXISTS"):
        session.sql("CREATE TABLE t WITH (external_location = 's3://lake/full/') AS SELECT 1 AS a")
    assert not lake.catalog.table_exists("default", "t")
    assert _all_files(lake, "s3://lake/full/") == ["s3://lake/full/old.csv"]


@pytest.mark.parametrize(
    ("sql", "error", "match"),
    [
        ("CREATE TABLE t WITH (colour = 'red') AS SELECT 1 AS a", InvalidRequestError, "colour"),
        ("CREATE TABLE t WITH (format = 'XML') AS SELECT 1 AS a", InvalidRequestError, "XML"),
        (
            "CREATE TABLE t WITH (partitioned_by = ARRAY['a']) AS SELECT 1 AS a, 2 AS b",
            SemanticError,
            "last columns",
        ),
        (
            "CREATE TABLE t WITH (partitioned_by = ARRAY['a']) AS SELECT 1 AS a",
            SemanticError,
            "only partition columns",
        ),
        (
            "CREATE TABLE t WITH (partitioned_by = ARRAY['zz']) AS SELECT 1 AS a",
            SemanticError,
            "zz",
        ),
        (
            "CREATE TABLE t WITH (format = 'ORC', write_compression = 'BROTLI') AS SELECT 1 AS a",
            InvalidRequestError,
            "BROTLI",
        ),
        ("CREATE TABLE t WITH (bucket_count = 2) AS SELECT 1 AS a", InvalidRequestError, "bucket"),
        ("CREATE TABLE t AS SELECT 1 AS a, 1 + 1", SemanticError, "position 2"),
        ("CREATE TABLE t AS SELECT 1 AS a, 2 AS A", SemanticError, "more than once"),
        (
            "CREATE TABLE t AS SELECT CAST(NULL AS TIME) AS t0",
            SemanticError,
            "Unsupported Hive type: time",
        ),
        (
            "CREATE TABLE t WITH (field_delimiter = ',') AS SELECT 1 AS a",
            InvalidRequestError,
            "TEXTFILE",
        ),
    ],
)
def test_ctas_rejects_what_athena_rejects_and_leaves_nothing(
    session: Session, lake: Lake, sql: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        session.sql(sql)
    assert not lake.catalog.table_exists("default", "t")
    assert _all_files(lake, "s3://lakebox-query-results/") == []
    assert not list((lake.config.metadata_dir / "writes").glob("*.json"))


def test_ctas_over_100_partitions_fails_before_writing(session: Session, lake: Lake) -> None:
    with pytest.raises(InvalidRequestError, match="HIVE_TOO_MANY_OPEN_PARTITIONS"):
        session.sql(
            "CREATE TABLE t WITH (external_location = 's3://lake/many/', partitioned_by = "
            "ARRAY['p']) AS SELECT x AS v, x AS p FROM UNNEST(sequence(1, 101)) AS u(x)"
        )
    assert _all_files(lake, "s3://lake/many/") == []
    session.sql(
        "CREATE TABLE t WITH (external_location = 's3://lake/many/', partitioned_by = "
        "ARRAY['p']) AS SELECT x AS v, x AS p FROM UNNEST(sequence(1, 100)) AS u(x)"
    )
    assert len(lake.catalog.get_partitions("default", "t")) == 100


def test_hive_types_for_ctas_columns() -> None:
    import pyarrow as pa

    assert hive_type_from_arrow(pa.decimal128(38, 4), "c") == "decimal(38,4)"
    assert hive_type_from_arrow(pa.map_(pa.string(), pa.list_(pa.int32())), "c") == (
        "map<string,array<int>>"
    )
    assert hive_type_from_arrow(pa.struct([("A", pa.float32())]), "c") == "struct<a:float>"
    with pytest.raises(SemanticError, match="Unsupported Hive type"):
        hive_type_from_arrow(pa.timestamp("us", tz="UTC"), "c")
    with pytest.raises(SemanticError, match="unknown"):
        hive_type_from_arrow(pa.null(), "c")


def test_transformed_zone_raw_json_to_partitioned_compressed_parquet(
    session: Session, lake: Lake
) -> None:
    lines = [
        {
            "id": i,
            "kind": ["click", "view", "buy"][i % 3],
            "amount": f"{i * 1.25:.2f}",
            "at": f"2024-03-{1 + i % 5:02d} 10:00:00",
        }
        for i in range(60)
    ]
    lake.storage.write_bytes(
        "s3://raw/events/part-0.json", "\n".join(json.dumps(r) for r in lines).encode()
    )
    session.sql(
        "CREATE EXTERNAL TABLE raw_events (id int, kind string, amount decimal(10,2), "
        "at timestamp) ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe' "
        "LOCATION 's3://raw/events/'"
    )
    result = session.sql(
        "CREATE TABLE events WITH (format = 'PARQUET', write_compression = 'SNAPPY', "
        "external_location = 's3://curated/events/', partitioned_by = ARRAY['day']) AS "
        "SELECT id, kind, amount, at, CAST(date(at) AS varchar) AS day FROM raw_events"
    )
    assert result.to_pylist() == [{"rows": 60}]
    assert len(lake.catalog.get_partitions("default", "events")) == 5
    raw = _rows(session, "SELECT id, kind, amount, at FROM raw_events ORDER BY id")
    curated = _rows(session, "SELECT id, kind, amount, at FROM events ORDER BY id")
    assert curated == raw
    assert _rows(session, "SELECT count(*) AS n FROM events WHERE day = '2024-03-02'") == [
        {"n": 12}
    ]


# -- INSERT INTO -----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_insert_into_partitioned_table_reuses_and_adds_partitions(
    session: Session, lake: Lake, fmt: str
) -> None:
    session.sql(
        f"CREATE TABLE t WITH (format = '{fmt}', external_location = 's3://lake/ins/', "
        f"partitioned_by = ARRAY['p']) AS {SOURCE}"
    )
    before = {tuple(p.values): p.location for p in lake.catalog.get_partitions("default", "t")}
    context = StatementContext()
    result = session.sql(
        f"INSERT INTO t SELECT id + 10, s, d, ts, dt, arr, m, st, flag, dbl, "
        f"CASE WHEN id = 2 THEN 'z' ELSE p END FROM ({SOURCE})",
        context,
    )
    assert result.to_pylist() == [{"rows": 3}]
    after = {tuple(p.values): p.location for p in lake.catalog.get_partitions("default", "t")}
    assert after == {**before, ("z",): "s3://lake/ins/p=z/"}
    new_files = [u for u in _visible_files(lake, "s3://lake/ins/") if context.query_id in u]
    assert len(new_files) == 2
    expected = _normal(_rows(session, f"SELECT * FROM ({SOURCE}) ORDER BY id"))
    got = _normal(_rows(session, "SELECT * FROM t ORDER BY id"))
    assert got[:3] == expected
    assert [r["id"] for r in got[3:]] == [11, 12, 13]
    assert [r["p"] for r in got[3:]] == ["x", "z", "x"]
    assert {k: v for k, v in got[3].items() if k not in ("id",)} == {
        k: v for k, v in expected[0].items() if k not in ("id",)
    }


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_insert_values_casts_to_column_types_and_fills_unlisted_columns_with_null(
    session: Session, lake: Lake, fmt: str
) -> None:
    session.sql(
        f"CREATE TABLE t WITH (format = '{fmt}') AS SELECT CAST(1 AS BIGINT) AS id, "
        "CAST(1.5 AS DECIMAL(10,3)) AS price, 'a' AS name, DATE '2024-01-01' AS day"
    )
    session.sql("INSERT INTO t (name, id, price) VALUES ('b', 2, 2.25), ('c', 3, 7)")
    assert _rows(session, "SELECT * FROM t ORDER BY id") == [
        {"id": 1, "price": pytest.approx(1.5), "name": "a", "day": datetime.date(2024, 1, 1)},
        {"id": 2, "price": pytest.approx(2.25), "name": "b", "day": None},
        {"id": 3, "price": pytest.approx(7), "name": "c", "day": None},
    ]
    assert session.sql("SELECT price FROM t").types == ["decimal(10,3)"]


def test_insert_into_a_ddl_created_table(session: Session, lake: Lake) -> None:
    session.sql(
        "CREATE EXTERNAL TABLE logs (msg string, n int) PARTITIONED BY (dt string) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' LOCATION 's3://lake/logs/'"
    )
    session.sql("INSERT INTO logs VALUES ('hello', 1, '2024-01-01'), ('bye', NULL, '2024-01-02')")
    (part,) = [
        p for p in lake.catalog.get_partitions("default", "logs") if p.values == ["2024-01-01"]
    ]
    (uri,) = _visible_files(lake, part.location or "")
    assert gzip.decompress(lake.storage.read_bytes(uri)) == b"hello\t1\n"
    assert _rows(session, "SELECT * FROM logs ORDER BY dt") == [
        {"msg": "hello", "n": 1, "dt": "2024-01-01"},
        {"msg": "bye", "n": None, "dt": "2024-01-02"},
    ]


@pytest.mark.parametrize(
    ("sql", "error", "match"),
    [
        ("INSERT INTO t VALUES (1)", SemanticError, "mismatched column types"),
        ("INSERT INTO t VALUES ('x', 'y')", SemanticError, "mismatched column types"),
        (
            "INSERT INTO t SELECT 'x', sum(1)",
            SemanticError,
            r"Table: \[integer, varchar\], Query: \[varchar, bigint\]",
        ),
        ("INSERT INTO t (a, zz) VALUES (1, 'x')", SemanticError, "does not exist"),
        ("INSERT INTO t (a, a) VALUES (1, 2)", SemanticError, "more than once"),
        ("INSERT INTO v VALUES (1, 'x')", SemanticError, "views"),
        ("INSERT INTO bucketed VALUES (1, 'x')", UnsupportedError, "bucketed"),
    ],
)
def test_insert_rejects_what_athena_rejects(
    session: Session, lake: Lake, sql: str, error: type[Exception], match: str
) -> None:
    session.sql(
        "CREATE TABLE t WITH (external_location = 's3://lake/t/') AS SELECT 1 AS a, 'x' AS b"
    )
    session.sql("CREATE VIEW v AS SELECT * FROM t")
    session.sql(
        "CREATE TABLE bucketed WITH (bucketed_by = ARRAY['a'], bucket_count = 2) AS "
        "SELECT 1 AS a, 'x' AS b"
    )
    before = _all_files(lake, "s3://lake/t/")
    with pytest.raises(error, match=match):
        session.sql(sql)
    assert _all_files(lake, "s3://lake/t/") == before
    assert _rows(session, "SELECT count(*) AS n FROM t") == [{"n": 1}]


def test_insert_over_100_new_partitions_fails_and_keeps_the_table(
    session: Session, lake: Lake
) -> None:
    session.sql(
        "CREATE TABLE t WITH (external_location = 's3://lake/t/', partitioned_by = ARRAY['p']) "
        "AS SELECT 1 AS v, 0 AS p"
    )
    with pytest.raises(InvalidRequestError, match="HIVE_TOO_MANY_OPEN_PARTITIONS"):
        session.sql("INSERT INTO t SELECT x, x FROM UNNEST(sequence(1, 101)) AS u(x)")
    assert len(lake.catalog.get_partitions("default", "t")) == 1
    assert len(_all_files(lake, "s3://lake/t/")) == 1


def test_insert_into_projected_table_writes_to_projected_locations_without_partitions(
    session: Session, lake: Lake
) -> None:
    session.sql(
        "CREATE EXTERNAL TABLE proj (v int) PARTITIONED BY (region string) STORED AS PARQUET "
        "LOCATION 's3://lake/proj/' TBLPROPERTIES ('projection.enabled'='true', "
        "'projection.region.type'='enum', 'projection.region.values'='eu,us', "
        "'storage.location.template'='s3://lake/proj/data/${region}/')"
    )
    session.sql("INSERT INTO proj VALUES (1, 'eu'), (2, 'us'), (3, 'eu')")
    assert lake.catalog.get_partitions("default", "proj") == []
    assert len(_visible_files(lake, "s3://lake/proj/data/eu/")) == 1
    assert _rows(session, "SELECT v FROM proj WHERE region = 'eu' ORDER BY v") == [
        {"v": 1},
        {"v": 3},
    ]


# -- UNLOAD ----------------------------------------------------------------------------------
def test_split_unload_finds_the_query_among_quotes_and_parentheses() -> None:
    query, target, props = split_unload(
        "(SELECT ')' AS x, f(1) FROM t -- )\n) TO 's3://b/it''s/' WITH (format = 'JSON')"
    )
    assert query == "SELECT ')' AS x, f(1) FROM t -- )\n"
    assert target == "s3://b/it's/"
    assert props == "format = 'JSON'"


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_unload_writes_data_files_only_and_a_manifest(
    session: Session, lake: Lake, fmt: str
) -> None:
    context = StatementContext(output_location="s3://results/")
    result = session.sql(
        f"UNLOAD ({SOURCE}) TO 's3://exports/u/' WITH (format = '{fmt}', "
        "partitioned_by = ARRAY['p'])",
        context,
    )
    assert result.kind == "DML"
    files = _visible_files(lake, "s3://exports/u/")
    assert sorted(u.split("/")[4] for u in files) == ["p=x", "p=y"]
    manifest = lake.storage.read_bytes(f"s3://results/{context.query_id}-manifest.csv")
    assert sorted(manifest.decode().split()) == files
    assert lake.catalog.list_tables("default") == []
    # read the files back through a table declared over them
    session.sql(
        f"CREATE TABLE back WITH (format = '{fmt}', external_location = 's3://scratch/e/', "
        f"partitioned_by = ARRAY['p']) AS {SOURCE} WITH NO DATA"
    )
    table = lake.catalog.get_table("default", "back")
    table.location = "s3://exports/u/"
    # Avro resolves records by name: read with the files' own schema
    table.serde_parameters.pop("avro.schema.literal", None)
    lake.catalog.update_table(table)
    session.sql("MSCK REPAIR TABLE back")
    expected = _normal(_rows(session, f"SELECT * FROM ({SOURCE}) ORDER BY id"))
    assert _normal(_rows(session, "SELECT * FROM back ORDER BY id")) == expected


def test_unload_target_must_be_empty_unless_partitioned(session: Session, lake: Lake) -> None:
    session.sql("UNLOAD (SELECT 1 AS a) TO 's3://exports/once/' WITH (format = 'JSON')")
    with pytest.raises(AlreadyExistsError, match="HIVE_PATH_ALREADY_EXISTS"):
        session.sql("UNLOAD (SELECT 2 AS a) TO 's3://exports/once/' WITH (format = 'JSON')")
    assert len(_all_files(lake, "s3://exports/once/")) == 1
    for _ in range(2):
        session.sql(
            "UNLOAD (SELECT 1 AS a, 'k' AS p) TO 's3://exports/parts/' WITH (format = 'PARQUET', "
            "partitioned_by = ARRAY['p'])"
        )
    assert len(_visible_files(lake, "s3://exports/parts/p=k/")) == 2


@pytest.mark.parametrize(
    ("with_clause", "match"),
    [
        ("", "format"),
        ("WITH (compression = 'gzip')", "format"),
        ("WITH (format = 'JSON', external_location = 's3://x/')", "external_location"),
        ("WITH (format = 'PARQUET', compression = 'brotli')", "BROTLI"),
    ],
)
def test_unload_property_errors(session: Session, lake: Lake, with_clause: str, match: str) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        session.sql(f"UNLOAD (SELECT 1 AS a) TO 's3://exports/e/' {with_clause}")
    assert _all_files(lake, "s3://exports/e/") == []


def test_unload_textfile_delimiter_and_compression(session: Session, lake: Lake) -> None:
    session.sql(
        "UNLOAD (SELECT 1 AS a, 'x' AS b, CAST(NULL AS VARCHAR) AS c) TO 's3://exports/t/' "
        "WITH (format = 'TEXTFILE', field_delimiter = '|', compression = 'NONE')"
    )
    (uri,) = _visible_files(lake, "s3://exports/t/")
    assert lake.storage.read_bytes(uri) == b"1|x|\\N\n"


# -- S3 mode ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_writes_in_s3_mode(s3_config: LakeConfig, bucket: str, fmt: str) -> None:
    lake = Lake(s3_config)
    lake.storage.ensure_bucket(bucket)
    session = lake.session()
    session.sql(
        f"CREATE TABLE t WITH (format = '{fmt}', external_location = 's3://{bucket}/t/', "
        "partitioned_by = ARRAY['p']) AS SELECT 1 AS v, 'a' AS p"
    )
    session.sql("INSERT INTO t VALUES (2, 'a'), (3, 'b')")
    assert _rows(session, "SELECT v, p FROM t ORDER BY v") == [
        {"v": 1, "p": "a"},
        {"v": 2, "p": "a"},
        {"v": 3, "p": "b"},
    ]
    assert all(".lakebox-staging" not in u for u in _all_files(lake, f"s3://{bucket}/t/"))
    context = StatementContext(output_location=f"s3://{bucket}/results/")
    session.sql(
        f"UNLOAD (SELECT v FROM t WHERE p = 'a') TO 's3://{bucket}/u/' WITH (format = '{fmt}')",
        context,
    )
    assert len(_all_files(lake, f"s3://{bucket}/u/")) == 1
    assert lake.storage.exists(f"s3://{bucket}/results/{context.query_id}-manifest.csv")


def test_catalog_table_model_is_unchanged_by_failed_insert(session: Session, lake: Lake) -> None:
    lake.catalog.create_table(
        Table(
            "default",
            "csvish",
            columns=[Column("a", "int")],
            location="s3://lake/csv/",
            serde_library="org.apache.hadoop.hive.serde2.OpenCSVSerde",
            input_format="org.apache.hadoop.mapred.TextInputFormat",
        )
    )
    with pytest.raises(UnsupportedError, match="OpenCSVSerde"):
        session.sql("INSERT INTO csvish VALUES (1)")
    assert _all_files(lake, "s3://lake/csv/") == []


def test_insert_into_avro_table_writes_with_the_tables_schema_literal(
    session: Session, lake: Lake
) -> None:
    import io

    import fastavro

    literal = {
        "type": "record",
        "name": "Event",
        "fields": [
            {"name": "UserId", "type": ["null", "long"], "default": None},
            {"name": "Name", "type": ["null", "string"], "default": None},
        ],
    }
    session.sql(
        "CREATE EXTERNAL TABLE ev (userid bigint, name string) STORED AS AVRO "
        f"LOCATION 's3://lake/ev/' TBLPROPERTIES ('avro.schema.literal'='{json.dumps(literal)}')"
    )
    session.sql("INSERT INTO ev VALUES (5, 'e'), (NULL, 'f')")
    assert _rows(session, "SELECT * FROM ev ORDER BY name") == [
        {"userid": 5, "name": "e"},
        {"userid": None, "name": "f"},
    ]
    (uri,) = _visible_files(lake, "s3://lake/ev/")
    reader = fastavro.reader(io.BytesIO(lake.storage.read_bytes(uri)))
    assert isinstance(reader.writer_schema, dict) and reader.writer_schema["name"] == "Event"


def test_insert_into_text_table_honours_its_delimiters_null_text_and_escape(
    session: Session, lake: Lake
) -> None:
    session.sql(
        "CREATE EXTERNAL TABLE t (s string, arr array<string>, m map<string,int>) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' ESCAPED BY '\\\\' "
        "COLLECTION ITEMS TERMINATED BY '|' MAP KEYS TERMINATED BY ':' NULL DEFINED AS 'nil' "
        "LOCATION 's3://lake/txt/'"
    )
    session.sql(
        "INSERT INTO t VALUES ('a,b\\c', ARRAY['x|y', NULL], MAP(ARRAY['k:1'], ARRAY[1])), "
        "(NULL, ARRAY[], NULL)"
    )
    (uri,) = _visible_files(lake, "s3://lake/txt/")
    text = gzip.decompress(lake.storage.read_bytes(uri)).decode()
    assert text.splitlines() == ["a\\,b\\\\c,x\\|y|nil,k\\:1:1", "nil,,nil"]
    assert _rows(session, "SELECT * FROM t ORDER BY s NULLS LAST") == [
        {"s": "a,b\\c", "arr": ["x|y", None], "m": [("k:1", 1)]},
        {"s": None, "arr": [], "m": None},
    ]


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_empty_buckets_are_written_as_empty_files_readers_accept(
    session: Session, lake: Lake, fmt: str
) -> None:
    session.sql(
        f"CREATE TABLE t WITH (format = '{fmt}', external_location = 's3://lake/e/', "
        "bucketed_by = ARRAY['k'], bucket_count = 4, partitioned_by = ARRAY['p']) AS "
        "SELECT CAST(1 AS INTEGER) AS k, 'v' AS s, 'a' AS p"
    )
    names = [u.rsplit("/", 1)[1][:7] for u in _visible_files(lake, "s3://lake/e/p=a/")]
    assert names == ["0000000", "0000001", "0000002", "0000003"]
    assert _rows(session, "SELECT k, s, p FROM t") == [{"k": 1, "s": "v", "p": "a"}]


def test_insert_into_open_csv_table_of_strings_quotes_every_value(
    session: Session, lake: Lake
) -> None:
    session.sql(
        "CREATE EXTERNAL TABLE people (name string, note string) PARTITIONED BY (team string) "
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' "
        "WITH SERDEPROPERTIES ('separatorChar' = ';') LOCATION 's3://lake/csv/'"
    )
    session.sql(
        "INSERT INTO people VALUES ('Ann; Jr', 'said \"hi\"', 'a'), ('Bob', NULL, 'a'), "
        "('Cy', '', 'b')"
    )
    (part,) = [p for p in lake.catalog.get_partitions("default", "people") if p.values == ["a"]]
    (uri,) = _visible_files(lake, part.location or "")
    assert uri.endswith(".csv.gz")
    assert gzip.decompress(lake.storage.read_bytes(uri)).decode().splitlines()[0] == (
        '"Ann; Jr";"said \\"hi\\""'
    )
    assert _rows(session, "SELECT * FROM people ORDER BY name") == [
        {"name": "Ann; Jr", "note": 'said "hi"', "team": "a"},
        {"name": "Bob", "note": "", "team": "a"},
        {"name": "Cy", "note": "", "team": "b"},
    ]


@pytest.mark.parametrize(
    "row_format",
    [
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
        "WITH SERDEPROPERTIES ('serialization.encoding'='windows-1252')",
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' "
        "WITH SERDEPROPERTIES ('serialization.encoding'='MS932')",
    ],
)
def test_insert_into_a_table_of_another_charset_is_refused_and_writes_nothing(
    session: Session, lake: Lake, row_format: str
) -> None:
    session.sql(f"CREATE EXTERNAL TABLE w (s string) {row_format} LOCATION 's3://lake/w/'")
    with pytest.raises(UnsupportedError, match=r"serialization\.encoding"):
        session.sql("INSERT INTO w VALUES ('café')")
    assert _all_files(lake, "s3://lake/w/") == []


def test_insert_writes_the_null_format_of_the_table_properties(
    session: Session, lake: Lake
) -> None:
    session.sql(
        "CREATE EXTERNAL TABLE n (a string, b string) ROW FORMAT DELIMITED "
        "FIELDS TERMINATED BY ',' LOCATION 's3://lake/n/' "
        "TBLPROPERTIES ('serialization.null.format'='', 'write.compression'='NONE')"
    )
    session.sql("INSERT INTO n VALUES ('x', NULL)")
    (uri,) = _visible_files(lake, "s3://lake/n/")
    assert lake.storage.read_bytes(uri) == b"x,\n"
    assert _rows(session, "SELECT a, b FROM n") == [{"a": "x", "b": None}]


@pytest.mark.parametrize(
    ("sql", "error", "match"),
    [
        # Athena's Iceberg CTAS (the user guide's example): the table type is what is missing
        (
            "CREATE TABLE ice WITH (table_type = 'ICEBERG', location = 's3://lake/ice/', "
            "is_external = false) AS SELECT 1 AS a",
            UnsupportedError,
            "table_type 'ICEBERG'",
        ),
        # `location` is an Iceberg property; a Hive CTAS names it as unknown
        (
            "CREATE TABLE hive WITH (location = 's3://lake/hive/') AS SELECT 1 AS a",
            InvalidRequestError,
            "table property 'location' does not exist",
        ),
    ],
)
def test_ctas_names_the_property_it_cannot_honour(
    session: Session, sql: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        session.sql(sql)
