"""Planning over real files: partition pruning (proven by files opened), projection,
views, symlink manifests and Athena's errors for unknown tables."""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakebox
from lakebox.errors import DataError, InvalidRequestError, SemanticError
from lakebox.session import Session


def _write(home: Path, uri: str, data: bytes) -> None:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    path = home / bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _parquet(rows: dict[str, list[object]]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(rows), buf)
    return buf.getvalue()


@pytest.fixture
def lake(lake_home: Path) -> Session:
    return lakebox.connect(lake_home)


@pytest.fixture
def partitioned(lake: Session, lake_home: Path) -> Session:
    """Three daily Parquet partitions; the 03 partition holds a corrupt file, so reading it
    fails loudly: a query that prunes it away proves the file was never opened."""
    for day in ("01", "02"):
        _write(
            lake_home,
            f"s3://lake/events/dt=2024-01-{day}/part-0.parquet",
            _parquet({"id": [int(day) * 10 + i for i in range(3)], "kind": ["a", "b", "a"]}),
        )
    _write(lake_home, "s3://lake/events/dt=2024-01-03/part-0.parquet", b"not parquet at all")
    lake.sql("""CREATE EXTERNAL TABLE events (id bigint, kind string)
                PARTITIONED BY (dt string) STORED AS PARQUET
                LOCATION 's3://lake/events/'""")
    lake.sql("MSCK REPAIR TABLE events")
    return lake


def test_msck_registers_every_folder(partitioned: Session) -> None:
    rows = partitioned.sql("SHOW PARTITIONS events").fetchall()
    assert rows == [("dt=2024-01-01",), ("dt=2024-01-02",), ("dt=2024-01-03",)]


@pytest.mark.parametrize(
    ("where", "expected_ids", "files"),
    [
        ("dt = '2024-01-01'", [10, 11, 12], 1),
        ("dt IN ('2024-01-01', '2024-01-02') AND kind = 'a'", [10, 12, 20, 22], 2),
        ("dt < '2024-01-03'", [10, 11, 12, 20, 21, 22], 2),
        ("e.dt BETWEEN '2024-01-02' AND '2024-01-02'", [20, 21, 22], 1),
        ("substr(dt, 9, 2) = '02'", [20, 21, 22], 1),
        ("dt = '2024-01-01' OR dt = '2024-01-02' AND id > 20", [10, 11, 12, 21, 22], 2),
    ],
)
def test_predicates_on_partition_keys_keep_other_files_unopened(
    partitioned: Session, where: str, expected_ids: list[int], files: int
) -> None:
    result = partitioned.sql(f"SELECT id FROM events e WHERE {where} ORDER BY id")
    assert [r[0] for r in result] == expected_ids
    assert result.stats.files == files
    assert all("2024-01-03" not in uri for uri in result.stats.file_uris)


def test_without_a_partition_filter_the_corrupt_file_is_read_and_named(
    partitioned: Session,
) -> None:
    with pytest.raises(DataError, match=r"dt=2024-01-03/part-0\.parquet"):
        partitioned.sql("SELECT count(*) FROM events")


def test_added_partition_with_its_own_location(partitioned: Session, lake_home: Path) -> None:
    _write(lake_home, "s3://elsewhere/jan9/data.parquet", _parquet({"id": [99], "kind": ["z"]}))
    partitioned.sql(
        "ALTER TABLE events ADD PARTITION (dt='2024-01-09') LOCATION 's3://elsewhere/jan9/'"
    )
    result = partitioned.sql("SELECT id, kind, dt FROM events WHERE dt = '2024-01-09'")
    assert result.fetchall() == [(99, "z", "2024-01-09")]


@pytest.fixture
def projected(lake: Session, lake_home: Path) -> Session:
    for day in ("2024/01/01", "2024/01/02", "2024/01/05"):
        _write(
            lake_home,
            f"s3://logs/app/{day}/part.json",
            b'{"msg": "hello ' + day.encode() + b'"}\n{"msg": "bye"}\n',
        )
    _write(lake_home, "s3://logs/app/2024/01/03/part.json", b'{"msg": broken\n')
    lake.sql("""
        CREATE EXTERNAL TABLE app_logs (msg string)
        PARTITIONED BY (day string)
        ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
        LOCATION 's3://logs/app/'
        TBLPROPERTIES (
          'projection.enabled' = 'true',
          'projection.day.type' = 'date',
          'projection.day.range' = '2024/01/01,2024/01/31',
          'projection.day.format' = 'yyyy/MM/dd',
          'storage.location.template' = 's3://logs/app/${day}/')""")
    return lake


def test_projection_reads_only_the_days_asked_for(projected: Session) -> None:
    result = projected.sql(
        "SELECT day, count(*) FROM app_logs "
        "WHERE day BETWEEN '2024/01/01' AND '2024/01/02' GROUP BY day ORDER BY day"
    )
    assert result.fetchall() == [("2024/01/01", 2), ("2024/01/02", 2)]
    assert result.stats.files == 2


@pytest.mark.parametrize(
    "where", ["day = '2023/12/31'", "day = '2024/02/01'", "day = '2024/01/04'"]
)
def test_projected_partitions_out_of_range_or_empty_return_zero_rows(
    projected: Session, where: str
) -> None:
    assert projected.sql(f"SELECT * FROM app_logs WHERE {where}").fetchall() == []


def test_injected_projection_requires_equality_filter(lake: Session, lake_home: Path) -> None:
    _write(lake_home, "s3://dev/readings/sensor-7/r.csv", b"1.5\n2.5\n")
    lake.sql("""CREATE EXTERNAL TABLE readings (value double) PARTITIONED BY (device string)
                ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
                LOCATION 's3://dev/readings/'
                TBLPROPERTIES ('projection.enabled'='true',
                  'projection.device.type'='injected',
                  'storage.location.template'='s3://dev/readings/${device}/')""")
    ok = lake.sql("SELECT sum(value) FROM readings WHERE device = 'sensor-7'")
    assert ok.fetchall() == [(4.0,)]
    with pytest.raises(InvalidRequestError, match="CONSTRAINT_VIOLATION"):
        lake.sql("SELECT * FROM readings")
    with pytest.raises(InvalidRequestError, match="CONSTRAINT_VIOLATION"):
        lake.sql("SELECT * FROM readings WHERE device LIKE 'sensor%'")


def test_views_expand_in_their_own_database(partitioned: Session) -> None:
    partitioned.sql("CREATE DATABASE other")
    partitioned.sql(
        "CREATE VIEW a_events AS SELECT id, dt FROM events WHERE kind = 'a' AND dt <= '2024-01-02'"
    )
    partitioned.sql("USE other")
    result = partitioned.sql('SELECT count(*) AS n FROM "default"."a_events"')
    assert result.fetchall() == [(4,)]
    partitioned.sql("CREATE OR REPLACE VIEW v2 AS SELECT max(id) AS top FROM default.a_events")
    assert partitioned.sql("SELECT top FROM v2").fetchall() == [(22,)]


def test_symlink_manifest_lists_files_and_folders(lake: Session, lake_home: Path) -> None:
    _write(lake_home, "s3://raw/a/1.csv", b"1,x\n")
    _write(lake_home, "s3://raw/b/2.csv.gz", gzip.compress(b"2,y\n3,z\n"))
    _write(lake_home, "s3://raw/c/ignored.csv", b"9,no\n")
    _write(lake_home, "s3://manifests/t/manifest", b"s3://raw/a/1.csv\ns3://raw/b/\n")
    lake.sql("""CREATE EXTERNAL TABLE linked (id int, name string)
                ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
                STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'
                OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
                LOCATION 's3://manifests/t/'""")
    assert lake.sql("SELECT id, name FROM linked ORDER BY id").fetchall() == [
        (1, "x"),
        (2, "y"),
        (3, "z"),
    ]


def test_symlink_manifest_naming_a_missing_file_names_manifest_and_line(
    lake: Session, lake_home: Path
) -> None:
    _write(lake_home, "s3://manifests/bad/m.txt", b"\ns3://raw/nope.csv\n")
    lake.sql("""CREATE EXTERNAL TABLE broken (id int)
                STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'
                OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
                LOCATION 's3://manifests/bad/'""")
    with pytest.raises(DataError, match=r"m\.txt, line 2"):
        lake.sql("SELECT * FROM broken")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM nope", "Table 'default.nope' does not exist"),
        ("SELECT * FROM ghost.t", "Schema 'ghost' does not exist"),
        ('SELECT * FROM "default"."nope"', "Table 'default.nope' does not exist"),
    ],
)
def test_unknown_tables_are_named(lake: Session, sql: str, message: str) -> None:
    with pytest.raises(SemanticError, match=message):
        lake.sql(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT nosuch FROM events WHERE dt = '2024-01-01'",
        # a select alias named like the missing column confuses DuckDB's own message
        "SELECT nosuch, count(*) FROM events WHERE dt = '2024-01-01' GROUP BY 1 ORDER BY 1",
        "SELECT e.nosuch FROM events e JOIN events f ON e.id = f.id "
        "WHERE e.dt = '2024-01-01' AND f.dt = '2024-01-01'",
    ],
)
def test_unknown_column_is_named_like_athena(partitioned: Session, sql: str) -> None:
    with pytest.raises(SemanticError, match="Column 'nosuch' cannot be resolved"):
        partitioned.sql(sql)


def test_empty_table_location_returns_typed_empty_result(lake: Session) -> None:
    lake.sql(
        "CREATE EXTERNAL TABLE empty_t (a int, b string) STORED AS PARQUET "
        "LOCATION 's3://nothing/here/'"
    )
    result = lake.sql("SELECT * FROM empty_t")
    assert result.fetchall() == []
    assert result.types == ["integer", "varchar"]


def test_ctes_shadow_catalog_tables(partitioned: Session) -> None:
    result = partitioned.sql("WITH events AS (SELECT 1 AS id) SELECT id FROM events")
    assert result.fetchall() == [(1,)]


def test_columns_may_name_their_tables_database(partitioned: Session) -> None:
    """``db.table.column``, as SQLAlchemy's Athena dialect (Superset, Redash) writes every
    column; a column of a struct read through an alias keeps its meaning."""
    rows = partitioned.sql(
        'SELECT "default".events.id, awsdatacatalog.default.events.kind FROM "default".events '
        "WHERE default.events.dt = '2024-01-01' ORDER BY default.events.id"
    ).fetchall()
    assert rows == [(10, "a"), (11, "b"), (12, "a")]
    nested = partitioned.sql(
        "SELECT t.s.f FROM (SELECT CAST(ROW(7) AS ROW(f integer)) AS s) AS t"
    ).fetchall()
    assert nested == [(7,)]


@pytest.mark.parametrize("stored", ["PARQUET", "TEXTFILE"])
def test_many_partitions_keep_each_rows_partition_values(
    lake: Session, lake_home: Path, stored: str
) -> None:
    """Parquet reads every partition in one scan, joined to partition values by file; text
    formats read partition by partition. Both must attach the right values to each row."""
    for region in ("eu", "us"):
        for day in range(1, 13):
            base = f"s3://multi/t/region={region}/day={day}/"
            if stored == "PARQUET":
                _write(lake_home, base + "a.parquet", _parquet({"v": [day * 10, day * 10 + 1]}))
            else:
                _write(lake_home, base + "a.txt", f"{day * 10}\n{day * 10 + 1}\n".encode())
    lake.sql(
        f"CREATE EXTERNAL TABLE multi (v int) PARTITIONED BY (region string, day int) "
        f"STORED AS {stored} LOCATION 's3://multi/t/'"
    )
    lake.sql("MSCK REPAIR TABLE multi")
    rows = lake.sql("SELECT region, day, v FROM multi ORDER BY region, day, v").fetchall()
    expected = [(r, d, d * 10 + k) for r in ("eu", "us") for d in range(1, 13) for k in (0, 1)]
    assert rows == expected
    typed = lake.sql("SELECT sum(day) FROM multi WHERE region = 'us' AND day > 10")
    assert typed.fetchall() == [(2 * (11 + 12),)]
    assert typed.stats.files == 2


def test_information_schema_describes_the_catalog(partitioned: Session) -> None:
    partitioned.sql("CREATE VIEW a_view AS SELECT id FROM events WHERE dt = '2024-01-01'")
    schemata = partitioned.sql("SELECT schema_name FROM information_schema.schemata")
    assert {"default", "information_schema"} <= {r[0] for r in schemata}
    tables = partitioned.sql(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = 'default' ORDER BY table_name"
    )
    assert tables.fetchall() == [("a_view", "VIEW"), ("events", "BASE TABLE")]
    columns = partitioned.sql(
        "SELECT column_name, ordinal_position, data_type, extra_info "
        "FROM information_schema.columns WHERE table_name = 'events' ORDER BY 2"
    )
    assert columns.fetchall() == [
        ("id", 1, "bigint", None),
        ("kind", 2, "varchar", None),
        ("dt", 3, "varchar", "partition key"),
    ]
    views = partitioned.sql("SELECT table_name, view_definition FROM information_schema.views")
    assert views.fetchall()[0][0] == "a_view"
    with pytest.raises(SemanticError, match=r"information_schema\.nope"):
        partitioned.sql("SELECT * FROM information_schema.nope")


def test_hive_default_partition_reads_as_null(lake: Session, lake_home: Path) -> None:
    for value in ("a", "__HIVE_DEFAULT_PARTITION__"):
        _write(lake_home, f"s3://np/t/k={value}/f.parquet", _parquet({"v": [1]}))
    lake.sql(
        "CREATE EXTERNAL TABLE np (v int) PARTITIONED BY (k string) STORED AS PARQUET "
        "LOCATION 's3://np/t/'"
    )
    lake.sql("MSCK REPAIR TABLE np")
    assert lake.sql("SELECT k FROM np ORDER BY k").fetchall() == [("a",), (None,)]
    assert lake.sql("SELECT count(*) FROM np WHERE k IS NULL").fetchall() == [(1,)]


def test_a_repeated_statement_sees_catalog_changes(partitioned: Session) -> None:
    """Repeated statements reuse their translation; a catalog change must invalidate it."""
    partitioned.sql("CREATE VIEW v AS SELECT id FROM events WHERE dt = '2024-01-01'")
    q = "SELECT count(*) FROM v"
    assert partitioned.sql(q).fetchall() == [(3,)]
    assert partitioned.sql(q).fetchall() == [(3,)]
    partitioned.sql("CREATE OR REPLACE VIEW v AS SELECT id FROM events WHERE dt <= '2024-01-02'")
    assert partitioned.sql(q).fetchall() == [(6,)]
    partitioned.sql("ALTER TABLE events REPLACE COLUMNS (id string, kind string)")
    result = partitioned.sql("SELECT max(id) FROM events WHERE dt = '2024-01-02'")
    assert result.types == ["varchar"] and result.fetchall() == [("22",)]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"a": [1], "b": ["x"]}, {"b": ["y"], "a": [2]}),  # same columns, other order
        ({"a": [1]}, {"a": [2], "b": ["y"]}),  # the first file lacks a column
        ({"a": [1], "b": ["x"]}, {"a": [2]}),  # a later file lacks one
    ],
)
def test_parquet_files_with_other_column_orders_or_sets_read_by_name(
    lake: Session,
    lake_home: Path,
    first: dict[str, list[object]],
    second: dict[str, list[object]],
) -> None:
    _write(lake_home, "s3://mixed/t/1.parquet", _parquet(first))
    _write(lake_home, "s3://mixed/t/2.parquet", _parquet(second))
    lake.sql(
        "CREATE EXTERNAL TABLE mixed (a int, b string) STORED AS PARQUET LOCATION 's3://mixed/t/'"
    )
    rows = lake.sql("SELECT a, b FROM mixed ORDER BY a").fetchall()
    assert rows == [(1, first.get("b", [None])[0]), (2, second.get("b", [None])[0])]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("WITH x AS (SELECT id FROM events WHERE dt = '2024-01-01') SELECT count(*) FROM x", 3),
        (
            "WITH a AS (SELECT id FROM events WHERE dt = '2024-01-01'), "
            "b AS (SELECT id FROM events WHERE dt = '2024-01-02') "
            "SELECT count(*) FROM a JOIN b ON b.id = a.id + 10",
            3,
        ),
        (
            "SELECT count(*) FROM events e JOIN events f ON e.id = f.id "
            "WHERE e.dt = '2024-01-01' AND f.dt = '2024-01-01'",
            3,
        ),
    ],
)
def test_scan_views_merge_with_the_querys_own_ctes(
    partitioned: Session, sql: str, expected: int
) -> None:
    assert partitioned.sql(sql).fetchall() == [(expected,)]


# -- pseudo-columns ---------------------------------------------------------------------------
DAY1 = "s3://lake/events/dt=2024-01-01/part-0.parquet"
DAY2 = "s3://lake/events/dt=2024-01-02/part-0.parquet"


@pytest.mark.parametrize(
    ("where", "expected_ids"),
    [
        (f"\"$path\" = '{DAY1}'", [10, 11, 12]),
        ("\"$path\" LIKE '%dt=2024-01-02%'", [20, 21, 22]),
        (f"e.\"$path\" IN ('{DAY1}', '{DAY2}') AND kind = 'b'", [11, 21]),
        ("\"$partition\" = 'dt=2024-01-01'", [10, 11, 12]),
        (f"dt = '2024-01-03' OR \"$path\" = '{DAY2}'", None),  # the corrupt file is read
        (
            f"(dt = '2024-01-01' AND \"$file_size\" > 0) OR \"$path\" = '{DAY2}'",
            [10, 11, 12, 20, 21, 22],
        ),
        (
            "\"$file_modified_time\" > TIMESTAMP '2000-01-01 00:00:00 UTC' AND dt < '2024-01-03'",
            [10, 11, 12, 20, 21, 22],
        ),
    ],
)
def test_filters_on_pseudo_columns_keep_other_files_unopened(
    partitioned: Session, where: str, expected_ids: list[int] | None
) -> None:
    """The corrupt file of 2024-01-03 fails any query that opens it."""
    sql = f"SELECT id FROM events e WHERE {where} ORDER BY id"
    if expected_ids is None:
        with pytest.raises(DataError, match="dt=2024-01-03"):
            partitioned.sql(sql)
        return
    result = partitioned.sql(sql)
    assert [r[0] for r in result] == expected_ids
    assert all("2024-01-03" not in uri for uri in result.stats.file_uris)


def test_pseudo_columns_are_hidden_from_stars_describe_and_information_schema(
    partitioned: Session,
) -> None:
    day1 = "dt = '2024-01-01'"
    assert partitioned.sql(f"SELECT * FROM events WHERE {day1}").columns == ["id", "kind", "dt"]
    both = partitioned.sql(f'SELECT e.*, "$path" FROM events e WHERE {day1} ORDER BY id')
    assert both.columns == ["id", "kind", "dt", "$path"]
    assert both.fetchall()[0] == (10, "a", "2024-01-01", DAY1)
    # a subquery that names one makes it a real column of its result
    inner = partitioned.sql(f'SELECT * FROM (SELECT *, "$path" FROM events WHERE {day1}) LIMIT 1')
    assert inner.columns == ["id", "kind", "dt", "$path"]
    described = partitioned.sql("DESCRIBE events").fetchall()
    assert not any("$" in str(row) for row in described)
    columns = partitioned.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'events'"
    ).fetchall()
    assert sorted(c for (c,) in columns) == ["dt", "id", "kind"]


def test_pseudo_columns_through_joins_views_and_ctes(partitioned: Session) -> None:
    joined = partitioned.sql(
        'SELECT a.id, a."$path", b."$partition" FROM events a JOIN events b ON a.id = b.id '
        "WHERE a.dt = '2024-01-01' AND b.dt = '2024-01-01' AND a.kind = 'b'"
    )
    assert joined.fetchall() == [(11, DAY1, "dt=2024-01-01")]
    partitioned.sql(
        'CREATE VIEW sources AS SELECT "$path" AS src, count(*) AS n FROM events '
        "WHERE dt < '2024-01-03' GROUP BY \"$path\""
    )
    assert partitioned.sql("SELECT * FROM sources ORDER BY src").fetchall() == [
        (DAY1, 3),
        (DAY2, 3),
    ]
    cte = partitioned.sql(
        "WITH x AS (SELECT id, \"$path\" AS p FROM events WHERE dt = '2024-01-02') "
        "SELECT max(p), count(*) FROM x"
    )
    assert cte.fetchall() == [(DAY2, 3)]


@pytest.mark.parametrize(
    ("sql", "column"),
    [
        # Athena offers "$partition" on partitioned tables only
        ('SELECT "$partition" FROM flat', "$partition"),
        # a star never brings them, so an outer query cannot name them
        ('SELECT "$path" FROM (SELECT * FROM flat)', "$path"),
    ],
)
def test_pseudo_columns_a_table_does_not_offer_are_named(
    lake: Session, lake_home: Path, sql: str, column: str
) -> None:
    _write(lake_home, "s3://lake/flat/a.parquet", _parquet({"id": [1]}))
    lake.sql("CREATE EXTERNAL TABLE flat (id bigint) STORED AS PARQUET LOCATION 's3://lake/flat/'")
    with pytest.raises(SemanticError, match=re.escape(f"Column '{column}' cannot be resolved")):
        lake.sql(sql)


def test_a_real_column_named_like_a_pseudo_column_stays_in_stars(partitioned: Session) -> None:
    """A subquery's "$path" column is real: a star over it keeps it, even next to a table
    whose own (hidden) "$path" the query reads."""
    result = partitioned.sql(
        "SELECT * FROM (SELECT \"$path\", id FROM events WHERE dt = '2024-01-01') s "
        "JOIN events e ON s.id = e.id "
        "WHERE e.dt = '2024-01-01' AND e.\"$partition\" = 'dt=2024-01-01' AND s.id = 10"
    )
    assert result.columns == ["$path", "id", "id", "kind", "dt"]
    assert result.fetchall() == [(DAY1, 10, 10, "a", "2024-01-01")]


@pytest.mark.parametrize(
    ("where", "reused"),
    [
        ("\"$path\" LIKE '%dt=2024-01-01%'", True),
        ("\"$file_modified_time\" < current_timestamp AND dt < '2024-01-03'", False),
        ("dt < CAST(current_date AS varchar) AND dt < '2024-01-03'", False),
    ],
)
def test_plans_pruned_by_the_clock_are_not_reused(
    partitioned: Session, where: str, reused: bool
) -> None:
    """A predicate on the clock may keep other files or partitions later: planned again."""
    sql = f"SELECT count(*) FROM events WHERE {where}"
    first = partitioned.sql(sql).fetchall()
    assert partitioned.sql(sql).fetchall() == first
    assert partitioned.lake.plans.hits == (1 if reused else 0)


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"projection.enabled": "true"},
        {"projection.enabled": " TRUE "},
        {"projection.enabled": "false"},
        {"projection.enabled": "yes"},
        {"Projection.Enabled": "true"},
        {"projection.day.enabled": "true"},
    ],
)
def test_the_planner_skips_projection_exactly_when_it_is_off(parameters: dict[str, str]) -> None:
    """The planner's cheap test (no projection module import) agrees with the projection
    module's own reading of whether projection is on."""
    from lakebox.catalog.model import Column, Table
    from lakebox.catalog.projection import ProjectionConfig
    from lakebox.sql.planner import _projection_enabled

    props = {"projection.day.type": "integer", "projection.day.range": "1,2", **parameters}
    table = Table(
        "db",
        "t",
        columns=[Column("payload", "string")],
        partition_keys=[Column("day", "int")],
        location="s3://bucket/t/",
        parameters=props,
    )
    assert _projection_enabled(table) == (ProjectionConfig.from_table(table) is not None)
