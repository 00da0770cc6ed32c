"""The engine contract: the same cases for every engine (the ``engine`` fixture,
``tests/engine/conftest.py``). A plan made by the planner is compiled and run through the
``Engine`` interface only: scans of each format family over real files, partition
pruning, inline scans, result types, cancellation, progress and bytes read, errors and the
write entry points."""

from __future__ import annotations

import gzip
import io
import json
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.orc as orc
import pyarrow.parquet as pq
import pytest

from lakebox.catalog.model import Column
from lakebox.config import LakeConfig
from lakebox.engine.base import Engine, EngineStatement, ExecutionWatch
from lakebox.errors import DataError, LakeboxError, SemanticError
from lakebox.formats.plugins import ctas_format
from lakebox.formats.writing import WriteTarget
from lakebox.lakehouse import Lakehouse
from lakebox.query.session import ExecutionControl, QueryStoppedError
from lakebox.sql.dialect import parse_query
from lakebox.sql.plan import Plan, ScanStats
from lakebox.sql.planner import Planner


@pytest.fixture
def lake(lake_home: Path) -> Lakehouse:
    return Lakehouse.open(LakeConfig.from_env(home=lake_home))


def _write(lake: Lakehouse, uri: str, data: bytes) -> None:
    lake.storage.write_bytes(uri, data)


def _parquet(rows: dict[str, list[object]]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(rows), buf)
    return buf.getvalue()


def _orc(rows: dict[str, list[object]]) -> bytes:
    buf = io.BytesIO()
    orc.write_table(pa.table(rows), buf)
    return buf.getvalue()


def _plan(lake: Lakehouse, statement: EngineStatement, sql: str) -> Plan:
    planner = Planner(lake.catalog, lake.storage, statement, parse_query)
    return planner.plan(parse_query(sql), "default", sql)


def run(engine: Engine, lake: Lakehouse, sql: str, watch: ExecutionWatch | None = None) -> pa.Table:
    """Plan, compile and run ``sql`` through the engine interface, as a session does."""
    with engine.statement(watch) as statement:
        plan = _plan(lake, statement, sql)
        query = statement.compile(plan)
        try:
            return statement.run(query)
        except statement.errors as err:
            if watch is not None and watch.stop_reason:
                raise watch.stop_error() from err
            assert isinstance(err, Exception)
            raise statement.error(err, plan) from err


def _avro(rows: dict[str, list[object]]) -> bytes:
    import fastavro

    buf = io.BytesIO()
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "id", "type": "int"}, {"name": "v", "type": "string"}],
    }
    fastavro.writer(
        buf, schema, [dict(zip(rows, r, strict=True)) for r in zip(*rows.values(), strict=True)]
    )
    return buf.getvalue()


ROWS: dict[str, list[object]] = {"id": [1, 2, 3], "v": ["x", "y", "z"]}
TEXT = b"1,x\n2,y\n3,z\n"
JSON_LINES = b"".join(
    json.dumps({"id": i, "v": v}).encode() + b"\n"
    for i, v in zip(ROWS["id"], ROWS["v"], strict=True)
)

#: (family, file name, bytes, the table's storage clause)
FORMATS: list[tuple[str, str, bytes, str]] = [
    ("parquet", "part-0.parquet", _parquet(ROWS), "STORED AS PARQUET"),
    ("orc", "part-0.orc", _orc(ROWS), "STORED AS ORC"),
    ("delimited", "part-0.csv", TEXT, "ROW FORMAT DELIMITED FIELDS TERMINATED BY ','"),
    ("delimited-gzip", "part-0.csv.gz", gzip.compress(TEXT), "ROW FORMAT DELIMITED FIELDS TERMINATED BY ','"),
    (
        "opencsv",
        "part-0.csv",
        b'"1","x"\n"2","y"\n"3","z"\n',
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'",
    ),
    ("json", "part-0.json", JSON_LINES, "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'"),
    # read by the DuckDB engine's readers, on Spark in its executors
    ("avro-gzip", "part-0.avro.gz", gzip.compress(_avro(ROWS)), "STORED AS AVRO"),
    ("ion", "part-0.ion", b'{id: 1, v: "x"} {id: 2, v: "y"}\n{ID: 3, v: "z"}', "STORED AS ION"),
    (
        "regex",
        "part-0.log",
        TEXT,
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe' "
        "WITH SERDEPROPERTIES ('input.regex' = '(\\\\d+),(.*)')",
    ),
    (
        "grok",
        "part-0.log",
        TEXT,
        "ROW FORMAT SERDE 'com.amazonaws.glue.serde.GrokSerDe' "
        "WITH SERDEPROPERTIES ('input.format' = '%{INT:id},%{GREEDYDATA:v}')",
    ),
    (
        "multidelimit",
        "part-0.txt",
        b"1|~|x\n2|~|y\n3|~|z\n",
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.MultiDelimitSerDe' "
        "WITH SERDEPROPERTIES ('field.delim' = '|~|')",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("family", "name", "data", "clause"), FORMATS, ids=[f[0] for f in FORMATS])
def test_scans_each_format_family(
    engine: Engine, lake: Lakehouse, family: str, name: str, data: bytes, clause: str
) -> None:
    _write(lake, f"s3://lake/{family}/{name}", data)
    lake.session().sql(
        f"CREATE EXTERNAL TABLE t (id int, v string) {clause} LOCATION 's3://lake/{family}/'"
    )
    table = run(engine, lake, "SELECT id, v FROM t ORDER BY id")
    assert table.to_pydict() == {"id": [1, 2, 3], "v": ["x", "y", "z"]}


@pytest.fixture
def partitioned(lake: Lakehouse) -> Lakehouse:
    """Two readable daily partitions and a third whose file is corrupt: a query that
    prunes it away proves the engine never opened it."""
    for day in ("01", "02"):
        _write(
            lake,
            f"s3://lake/events/dt=2024-01-{day}/part-0.parquet",
            _parquet({"id": [int(day) * 10, int(day) * 10 + 1]}),
        )
    _write(lake, "s3://lake/events/dt=2024-01-03/part-0.parquet", b"not parquet at all")
    s = lake.session()
    s.sql(
        "CREATE EXTERNAL TABLE events (id bigint) PARTITIONED BY (dt string) "
        "STORED AS PARQUET LOCATION 's3://lake/events/'"
    )
    s.sql("MSCK REPAIR TABLE events")
    return lake


def test_partition_pruning(engine: Engine, partitioned: Lakehouse) -> None:
    sql = "SELECT dt, id FROM events WHERE dt <= '2024-01-02' ORDER BY id"
    with engine.statement() as statement:
        plan = _plan(partitioned, statement, sql)
        [scan] = plan.scans
        assert [p.values for p in scan.partitions] == [["2024-01-01"], ["2024-01-02"]]
        assert scan.predicate is not None and plan.stats.partitions == 2
        assert all(p.location and p.location.startswith("s3://lake/") for p in scan.partitions)
        table = statement.run(statement.compile(plan))
    assert table.to_pydict() == {
        "dt": ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02"],
        "id": [10, 11, 20, 21],
    }


def test_partition_filter_decides_typed_values(engine: Engine, partitioned: Lakehouse) -> None:
    table = partitioned.catalog.get_table("default", "events")
    predicate = parse_query("SELECT 1 WHERE dt > '2024-01-01' OR dt IS NULL").args["where"].this
    values = [["2024-01-01"], ["2024-01-02"], ["__HIVE_DEFAULT_PARTITION__"]]
    with engine.statement() as statement:
        assert statement.matching(table, predicate, values) == {1, 2}


def test_pseudo_columns_are_supplied_by_the_engine(engine: Engine, partitioned: Lakehouse) -> None:
    """The plan names the pseudo-columns a scan needs and prunes files on them; the engine
    supplies each file's values (``lakebox.sql.plan.pseudo_values``)."""
    day1 = "s3://lake/events/dt=2024-01-01/part-0.parquet"
    sql = (
        'SELECT id, "$path", "$file_size", "$partition", "$file_modified_time" FROM events '
        "WHERE \"$path\" LIKE '%dt=2024-01-01/%' ORDER BY id"
    )
    with engine.statement() as statement:
        plan = _plan(partitioned, statement, sql)
        [scan] = plan.scans
        assert scan.pseudo == ("$path", "$file_size", "$file_modified_time", "$partition")
        assert [f.uri for f in scan.files] == [day1]  # the other days' files are pruned
        table = statement.run(statement.compile(plan))
    [data] = scan.files
    assert table.column("$path").to_pylist() == [day1, day1]
    assert table.column("$file_size").to_pylist() == [data.size] * 2
    assert table.column("$partition").to_pylist() == ["dt=2024-01-01"] * 2
    modified = table.column("$file_modified_time").to_pylist()
    assert [round(t.timestamp(), 3) for t in modified] == [int(data.mtime * 1000) / 1000] * 2
    star = run(
        engine, partitioned, "SELECT * FROM events WHERE dt = '2024-01-01' AND \"$file_size\" > 0"
    )
    assert star.column_names == ["id", "dt"]


def test_inline_scans(engine: Engine, partitioned: Lakehouse) -> None:
    sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'default'"
    with engine.statement() as statement:
        plan = _plan(partitioned, statement, sql)
        assert [s.kind for s in plan.scans] == ["inline"]
        table = statement.run(statement.compile(plan))
    assert table.column("table_name").to_pylist() == ["events"]


def test_result_types(engine: Engine, partitioned: Lakehouse) -> None:
    table = run(
        engine,
        partitioned,
        "SELECT sum(id) AS s, count(*) AS c, CAST(1.5 AS decimal(10, 2)) AS d, "
        "DATE '2024-01-02' AS day, 'x' AS t, 1.5e0 AS f "
        "FROM events WHERE dt = '2024-01-01'",
    )
    assert table.schema.types == [
        pa.int64(),
        pa.int64(),
        pa.decimal128(10, 2),
        pa.date32(),
        pa.string(),
        pa.float64(),
    ]
    assert table.column("s").to_pylist() == [21]


SLOW = (
    "SELECT count(*) FROM UNNEST(sequence(1, 3000)) AS a(x) "
    "CROSS JOIN UNNEST(sequence(1, 3000)) AS b(y) CROSS JOIN UNNEST(sequence(1, 3000)) AS c(z) "
    "WHERE x + y + z < 0"
)


def test_cancellation_stops_a_running_query(engine: Engine, lake: Lakehouse) -> None:
    control = ExecutionControl()
    done = threading.Event()

    def cancel() -> None:
        time.sleep(0.3)
        control.stop("Query was cancelled")
        while not done.wait(0.05):
            control.interrupt_again()

    canceller = threading.Thread(target=cancel)
    canceller.start()
    started = time.perf_counter()
    try:
        with pytest.raises(QueryStoppedError, match="cancelled"):
            run(engine, lake, SLOW, control)
    finally:
        done.set()
        canceller.join()
    assert time.perf_counter() - started < 60


def test_progress_and_bytes_read_are_reported(engine: Engine, partitioned: Lakehouse) -> None:
    seen: list[float | None] = []

    class Watch(ExecutionControl):
        def planned(self, stats: ScanStats) -> None:
            super().planned(stats)
            seen.append(self.check_progress())

    watch = Watch(measure=True, progress=True)
    table = run(engine, partitioned, "SELECT id FROM events WHERE dt = '2024-01-02'", watch)
    assert table.num_rows == 2
    assert seen and seen[0] is not None  # attached while compiling: progress is asked
    assert watch.planned_bytes > 0
    assert watch.bytes_read > 0  # measured by the engine
    assert watch.scanned() >= watch.bytes_read


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT nope FROM events WHERE dt = '2024-01-01'", SemanticError),
        ("SELECT 1 / 0", SemanticError),
        ("SELECT id FROM events WHERE dt = '2024-01-03'", DataError),
        ("SELECT CAST('x' AS integer)", DataError),
    ],
)
def test_errors_are_lakebox_errors(
    engine: Engine, partitioned: Lakehouse, sql: str, error: type[LakeboxError]
) -> None:
    with pytest.raises(error):
        run(engine, partitioned, sql)


def test_writes_go_through_the_statement(engine: Engine, partitioned: Lakehouse) -> None:
    """What CTAS, INSERT INTO and UNLOAD write through: the statement's ``open_write`` of a
    compiled query into a target, written into staging in one pass, a file per partition."""
    plugin = ctas_format("PARQUET")
    assert plugin is not None
    target = WriteTarget(plugin, codec="snappy", compression="SNAPPY", query_id="q1")
    sql = "SELECT id, dt FROM events WHERE dt IN ('2024-01-01', '2024-01-02')"
    with engine.statement() as statement:
        query = statement.compile(_plan(partitioned, statement, sql))
        write = statement.open_write(query, partitioned.storage, target)
        source = write.source()
        assert source.names == ["id", "dt"]
        assert source.athena_types == ["bigint", "varchar"]
        schema = write.select_as(source, ["id", "dt"])
        assert schema.names == ["id", "dt"]
        staged = write.write("s3://lake/out/.staging/", [Column("id", "bigint")], ["dt"])
    assert staged.rows == 4
    by_partition = {}
    for f in staged.files:
        assert f.uri.startswith("s3://lake/out/.staging/") and f.bucket is None
        table = pq.read_table(io.BytesIO(partitioned.storage.read_bytes(f.uri)))
        assert table.column_names == ["id"]
        by_partition[f.values] = sorted(table.column("id").to_pylist())
    assert by_partition == {("2024-01-01",): [10, 11], ("2024-01-02",): [20, 21]}


#: (CTAS format, codec, the file's text for ids 10 and 11 with a NULL and a text)
TEXT_TARGETS = [
    ("TEXTFILE", "none", b"10\x01\\N\n11\x01a\n"),
    ("JSON", "gzip", b'{"id":10,"s":null}\n{"id":11,"s":"a"}\n'),
]


@pytest.mark.parametrize(("fmt", "codec", "text"), TEXT_TARGETS, ids=[t[0] for t in TEXT_TARGETS])
def test_text_writes_hold_the_serdes_text(
    engine: Engine, partitioned: Lakehouse, fmt: str, codec: str, text: bytes
) -> None:
    """A text format's file says exactly what the SerDe writes (Hive's \\N NULL and
    \\x01 separator, JSON lines), whichever engine writes it."""
    plugin = ctas_format(fmt)
    assert plugin is not None
    target = WriteTarget(plugin, codec=codec, compression=codec.upper(), query_id="q1")
    sql = "SELECT id, CASE WHEN id = 11 THEN 'a' END AS s FROM events WHERE dt = '2024-01-01'"
    with engine.statement() as statement:
        query = statement.compile(_plan(partitioned, statement, sql))
        write = statement.open_write(query, partitioned.storage, target)
        write.select_as(write.source(), ["id", "s"])
        columns = [Column("id", "bigint"), Column("s", "string")]
        staged = write.write("s3://lake/out/.staging/", columns, [])
    assert staged.rows == 2
    lines = []
    for f in staged.files:
        data = partitioned.storage.read_bytes(f.uri)
        lines += (gzip.decompress(data) if codec == "gzip" else data).splitlines(keepends=True)
    assert b"".join(sorted(lines)) == text


def test_a_compiled_query_runs_again_on_another_statement(
    engine: Engine, partitioned: Lakehouse
) -> None:
    sql = "SELECT count(*) AS n FROM events WHERE dt = '2024-01-01'"
    with engine.statement() as first:
        plan = _plan(partitioned, first, sql)
        query = first.compile(plan)
        assert query.reusable
    with engine.statement() as second:
        second.restore(query, plan.stats)
        assert second.run(query).to_pydict() == {"n": [2]}
