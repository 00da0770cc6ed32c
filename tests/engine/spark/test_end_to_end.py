"""Queries through ``lakebox.connect`` on a lake whose engine is Spark
(``LAKEBOX_ENGINE=spark``) give DuckDB's answers: the same lake, the same statements,
both engines, compared row by row, with the same column names and types."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakebox
from lakebox.config import LakeConfig
from lakebox.engine.duckdb import DuckDBEngine
from lakebox.engine.spark import SparkEngine
from lakebox.errors import DataError, InvalidRequestError, UnsupportedError
from lakebox.formats.plugins import ctas_format
from lakebox.formats.writing import WriteTarget
from lakebox.lakehouse import Lakehouse
from lakebox.storage import Storage

pytestmark = pytest.mark.spark


QUERIES = [
    "SELECT region, sum(amount) AS total, count(*) FROM sales GROUP BY region ORDER BY region",
    # NULLs last in both directions; the text table's \\N and 'x' are NULLs
    "SELECT * FROM people ORDER BY age DESC, id",
    # integer division truncates (Trino types integer / integer as integer, DuckDB's
    # engine as bigint: bigint operands keep the types equal)
    "SELECT CAST(id AS bigint) / 2 AS half, id % 2 AS odd, CAST(id AS double) / 2 AS exact "
    "FROM people ORDER BY id",
    "SELECT p.name, s.amount, s.dt FROM people p JOIN sales s ON p.id = s.id ORDER BY 1, 2",
    "SELECT kind, count(*) AS n, sum(ms) AS ms FROM events GROUP BY kind ORDER BY kind",
    'SELECT count(*), min("$partition") FROM sales WHERE "$path" LIKE \'%/dt=2024-01-01/%\' '
    "AND dt = '2024-01-01'",
    "SELECT substr(name, 1, 2) AS s, length(name) AS l, upper(name) AS u, "
    "e.id IN (SELECT id FROM sales WHERE region = 'eu') AS eu "
    "FROM people p JOIN events e ON p.id = e.id WHERE name IS NOT NULL ORDER BY p.id",
    "SELECT c.id, c.page, c.ms, p.name FROM clicks c LEFT JOIN people p ON c.id = p.id "
    "ORDER BY c.id",
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'default' "
    "ORDER BY table_name",
]


def _answers(home: Path, engine: str, monkeypatch: pytest.MonkeyPatch) -> list[pa.Table]:
    monkeypatch.setenv("LAKEBOX_ENGINE", engine)
    session = lakebox.connect(home)
    try:
        assert session.lake.engine.name == engine
        return [session.sql(q).to_arrow() for q in QUERIES]
    finally:
        session.lake.close()


def _shape(table: pa.Table) -> tuple[list[str], list[pa.DataType], list[dict[str, object]]]:
    return table.column_names, table.schema.types, table.to_pylist()


def test_spark_gives_duckdbs_answers(
    home: Path, spark_held: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEBOX_SPARK_MASTER", spark_held)
    duck = _answers(home, "duckdb", monkeypatch)
    spark = _answers(home, "spark", monkeypatch)
    for sql, d, s in zip(QUERIES, duck, spark, strict=True):
        assert _shape(s) == _shape(d), sql
    # the answers are not trivially equal: each query returned rows
    assert all(t.num_rows for t in duck)


@pytest.fixture
def spark_session(
    home: Path, spark_held: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[lakebox.Session]:
    monkeypatch.setenv("LAKEBOX_ENGINE", "spark")
    monkeypatch.setenv("LAKEBOX_SPARK_MASTER", spark_held)
    session = lakebox.connect(home)
    try:
        yield session
    finally:
        session.lake.close()


WRITES = [
    "CREATE TABLE {t} WITH (format = 'PARQUET', partitioned_by = ARRAY['region']) AS "
    "SELECT id, amount, dt, region FROM sales",
    "INSERT INTO {t} SELECT id * 10, amount, 'x', region FROM sales WHERE dt = '2024-01-02'",
    "CREATE TABLE {t}_orc WITH (format = 'ORC') AS SELECT * FROM people WHERE id > 2",
]
READ_BACK = [
    "SELECT id, amount, dt, region FROM {t} ORDER BY id, dt",
    "SELECT region, count(*) AS n FROM {t} GROUP BY region ORDER BY region",
    "SELECT * FROM {t}_orc ORDER BY id",
]


def _write_then_read(home: Path, engine: str, table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEBOX_ENGINE", engine)
    session = lakebox.connect(home)
    try:
        for sql in WRITES:
            session.sql(sql.format(t=table))
    finally:
        session.lake.close()


def test_spark_writes_what_duckdb_writes(
    home: Path, spark_held: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CTAS (partitioned Parquet, ORC) and INSERT INTO on Spark; the tables read back (on
    DuckDB) as DuckDB's own writes of the same statements, partitions included."""
    monkeypatch.setenv("LAKEBOX_SPARK_MASTER", spark_held)
    _write_then_read(home, "duckdb", "by_duck", monkeypatch)
    _write_then_read(home, "spark", "by_spark", monkeypatch)
    monkeypatch.setenv("LAKEBOX_ENGINE", "duckdb")
    session = lakebox.connect(home)
    try:
        for sql in READ_BACK:
            duck = session.sql(sql.format(t="by_duck")).to_arrow()
            spark = session.sql(sql.format(t="by_spark")).to_arrow()
            assert _shape(spark) == _shape(duck), sql
            assert duck.num_rows
        parts = session.sql("SHOW PARTITIONS by_spark").fetchall()
        assert parts == session.sql("SHOW PARTITIONS by_duck").fetchall()
        assert ("region=__HIVE_DEFAULT_PARTITION__",) in parts
    finally:
        session.lake.close()


#: writes of the formats Spark writes with the DuckDB engine's writers in its executors
TEXT_WRITES = [
    "CREATE TABLE {t}_txt WITH (format = 'TEXTFILE', field_delimiter = '|', "
    "partitioned_by = ARRAY['region']) AS SELECT id, amount, dt, region FROM sales",
    "INSERT INTO {t}_txt SELECT id + 100, NULL, 'y', region FROM sales WHERE dt = '2024-01-01'",
    "CREATE TABLE {t}_json WITH (format = 'JSON', write_compression = 'GZIP') AS "
    "SELECT id, name, age, CAST('2024-01-02 03:04:05.250' AS timestamp) AS at, "
    "CAST(id AS decimal(5, 2)) AS d, ARRAY[id, 2] AS xs FROM people",
    "CREATE TABLE {t}_avro WITH (format = 'AVRO') AS SELECT * FROM people",
    "CREATE TABLE {t}_avro_empty WITH (format = 'AVRO') AS SELECT * FROM people WHERE id < 0",
    "CREATE TABLE {t}_ion WITH (format = 'ION', partitioned_by = ARRAY['dt']) AS "
    "SELECT id, amount, dt FROM sales",
    "CREATE EXTERNAL TABLE {t}_csv (id string, name string) ROW FORMAT SERDE "
    "'org.apache.hadoop.hive.serde2.OpenCSVSerde' LOCATION 's3://lake/{t}_csv/'",
    "INSERT INTO {t}_csv SELECT CAST(id AS varchar), name FROM people",
    "UNLOAD (SELECT id, name, age FROM people) TO 's3://lake/unload_{t}/' "
    "WITH (format = 'TEXTFILE', field_delimiter = ',')",
]
TEXT_READ_BACK = [
    "SELECT * FROM {t}_txt ORDER BY id, dt",
    "SELECT * FROM {t}_json ORDER BY id",
    "SELECT * FROM {t}_avro ORDER BY id",
    "SELECT count(*) AS n FROM {t}_avro_empty",
    'SELECT *, "$partition" FROM {t}_ion ORDER BY dt, id',
    "SELECT * FROM {t}_csv ORDER BY id",
]


def _text_of(lake: Lakehouse, prefix: str) -> list[str]:
    """The lines of the (decompressed) files under ``prefix``, sorted: what the files say,
    whichever engine's tasks wrote which file."""
    lines: list[str] = []
    for f in lake.storage.list_files(prefix):
        data = lake.storage.read_bytes(f.uri)
        if f.uri.endswith(".gz"):
            data = gzip.decompress(data)
        lines += data.decode().splitlines()
    return sorted(lines)


def _location(lake: Lakehouse, table: str) -> str:
    return (lake.catalog.get_table("default", table).location or "").rstrip("/") + "/"


def test_spark_writes_text_json_csv_avro_and_ion_as_duckdb(
    home: Path, spark_held: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CTAS, INSERT INTO and UNLOAD of TEXTFILE (a delimiter, NULL as Hive's \\N), JSON
    (gzip), Avro, Ion (partitioned) and CSV on Spark: the same files (the same lines) as
    DuckDB's writes of the same statements, the same rows read back, partitions included."""
    monkeypatch.setenv("LAKEBOX_SPARK_MASTER", spark_held)
    for engine, table in (("duckdb", "by_duck"), ("spark", "by_spark")):
        monkeypatch.setenv("LAKEBOX_ENGINE", engine)
        session = lakebox.connect(home)
        try:
            for sql in TEXT_WRITES:
                session.sql(sql.format(t=table))
        finally:
            session.lake.close()
    monkeypatch.setenv("LAKEBOX_ENGINE", "duckdb")
    session = lakebox.connect(home)
    lake = session.lake
    try:
        for sql in TEXT_READ_BACK:
            duck = session.sql(sql.format(t="by_duck")).to_arrow()
            spark = session.sql(sql.format(t="by_spark")).to_arrow()
            assert _shape(spark) == _shape(duck), sql
            assert duck.num_rows, sql
        for name in ("txt", "json", "csv"):
            spark_lines = _text_of(lake, _location(lake, f"by_spark_{name}"))
            assert spark_lines == _text_of(lake, _location(lake, f"by_duck_{name}")), name
            assert spark_lines, name
        assert "\\N" in "\n".join(_text_of(lake, "s3://lake/unload_by_spark/"))
        assert _text_of(lake, "s3://lake/unload_by_spark/") == _text_of(
            lake, "s3://lake/unload_by_duck/"
        )
        for name in ("txt", "ion"):
            parts = session.sql(f"SHOW PARTITIONS by_spark_{name}").fetchall()
            assert parts == session.sql(f"SHOW PARTITIONS by_duck_{name}").fetchall()
            assert parts
        json_files = [f.uri for f in lake.storage.list_files(_location(lake, "by_spark_json"))]
        assert json_files and all(f.endswith(".json.gz") for f in json_files)
    finally:
        lake.close()


def test_unload_and_unwritable_formats(spark_session: lakebox.Session) -> None:
    spark_session.sql(
        "UNLOAD (SELECT id, name FROM people WHERE id < 3) TO 's3://lake/out/' "
        "WITH (format = 'PARQUET')"
    )
    lake = spark_session.lake
    files = [f.uri for f in lake.storage.list_files("s3://lake/out/")]
    assert files and all(f.endswith(".parquet") for f in files)
    rows = pa.concat_tables(pq.read_table(io.BytesIO(lake.storage.read_bytes(f))) for f in files)
    assert sorted(rows.to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "name": "ann"},
        {"id": 2, "name": "bob"},
    ]
    with pytest.raises(UnsupportedError, match="does not write bucketed tables"):
        spark_session.sql(
            "CREATE TABLE j WITH (format = 'JSON', bucketed_by = ARRAY['id'], "
            "bucket_count = 2) AS SELECT * FROM people"
        )
    # nothing was registered
    assert [r[0] for r in spark_session.sql("SHOW TABLES").fetchall()] == [
        "clicks",
        "events",
        "people",
        "sales",
    ]


def test_a_bad_serde_property_fails_before_spark_runs(spark_session: lakebox.Session) -> None:
    """The DuckDB reader's checks of a table read in the executors run on the driver: a
    regex whose groups do not match the columns is refused in the reader's words."""
    assert isinstance(spark_session.lake.engine, SparkEngine)
    spark_session.sql(
        "CREATE EXTERNAL TABLE logs (a string, b string) ROW FORMAT SERDE "
        "'org.apache.hadoop.hive.serde2.RegexSerDe' WITH SERDEPROPERTIES "
        "('input.regex' = '(.*)') LOCATION 's3://lake/people/'"
    )
    with pytest.raises(InvalidRequestError, match="1 capturing groups but the table has 2"):
        spark_session.sql("SELECT * FROM logs")


def _formats(home: Path) -> None:
    """Tables Spark reads with lakebox's readers in its executors (Ion, Regex, Grok,
    CloudTrail, MultiDelimit, Avro by ``avro.schema.url`` and gzip'd, a text table with
    collections and two header lines, a JSON table with ``mapping.*``), with partitions,
    compressed files, values that do not convert and lines that do not match."""
    session = lakebox.connect(home)
    lake = session.lake
    try:
        put = lake.storage.write_bytes
        put(
            "s3://lake/ion/dt=1/a.ion",
            b'{id: 1, v: "x", amount: 12.50, at: 2024-01-02T03:04:05Z}\n'
            b'{id: 2, V: "y", amount: 3.}\n{id: "nope", v: null}\n',
        )
        put("s3://lake/ion/dt=2/b.ion.gz", gzip.compress(b'{id: 4, v: "z", amount: 1e0}'))
        put(
            "s3://lake/weblog/dt=2024-01-01/r.log",
            b"1 GET /a 200\n2 POST /b 404\nnot a request\n3 GET /c x\n",
        )
        put("s3://lake/weblog/dt=2024-01-02/r.log.gz", gzip.compress(b"4 PUT /d 201\n"))
        put("s3://lake/grok/g.log", b"7 alpha rest of line\n8 beta more\n?? bad\n")
        for i in range(12):  # more files than the executors get tasks: several a task
            put(f"s3://lake/grok/m{i:02d}.log", f"{100 + i} w{i} r\n".encode())
        trail = {
            "Records": [
                {
                    "eventVersion": "1.08",
                    "eventName": "GetObject",
                    "eventTime": "2024-01-01T00:00:00Z",
                    "userIdentity": {"type": "IAMUser", "arn": "arn:1"},
                    "requestParameters": {"bucketName": "b", "key": "k"},
                },
                {"eventVersion": "1.08", "eventName": "ListBuckets"},
            ]
        }
        put("s3://lake/trail/t.json.gz", gzip.compress(json.dumps(trail).encode()))
        put("s3://lake/multi/dt=a/m.txt", b"1|~|ann|~|2.5\n2|~|\\N|~|x\n3|~|cy\n")
        schema = {
            "type": "record",
            "name": "r",
            "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}],
        }
        put("s3://lake/schemas/r.avsc", json.dumps(schema).encode())
        avro = io.BytesIO()
        fastavro.writer(avro, schema, [{"id": 5, "name": "e"}, {"id": 6, "name": "f"}])
        put("s3://lake/zavro/r.avro.gz", gzip.compress(avro.getvalue()))
        put("s3://lake/nested/n.txt", b"h1\nh2\n1,a:b,k1=1:k2=\\N\n2,,\n3,c,k=x\n")
        put("s3://lake/mapped/m.json", b'{"ts": 1, "Name": "a"}\n{"ts": 2, "name": "b"}\n')
        for ddl in [
            "CREATE EXTERNAL TABLE nested (id int, tags array<string>, m map<string,int>) "
            "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' COLLECTION ITEMS TERMINATED BY ':' "
            "MAP KEYS TERMINATED BY '=' LOCATION 's3://lake/nested/' "
            "TBLPROPERTIES ('skip.header.line.count' = '2')",
            "CREATE EXTERNAL TABLE mapped (at int, name string) ROW FORMAT SERDE "
            "'org.openx.data.jsonserde.JsonSerDe' WITH SERDEPROPERTIES ('mapping.at' = 'ts') "
            "LOCATION 's3://lake/mapped/'",
            "CREATE EXTERNAL TABLE ions (id int, v string, amount decimal(10,2), at timestamp) "
            "PARTITIONED BY (dt int) STORED AS ION LOCATION 's3://lake/ion/'",
            "MSCK REPAIR TABLE ions",
            "CREATE EXTERNAL TABLE weblog (id int, verb string, path string, status int) "
            "PARTITIONED BY (dt string) ROW FORMAT SERDE "
            "'org.apache.hadoop.hive.serde2.RegexSerDe' WITH SERDEPROPERTIES "
            "('input.regex' = '^(\\\\d+) (\\\\S+) (\\\\S+) (\\\\S+)$') "
            "LOCATION 's3://lake/weblog/'",
            "MSCK REPAIR TABLE weblog",
            "CREATE EXTERNAL TABLE grokked (id int, word string, rest string) ROW FORMAT SERDE "
            "'com.amazonaws.glue.serde.GrokSerDe' WITH SERDEPROPERTIES "
            "('input.format' = '%{INT:id} %{WORD:word} %{GREEDYDATA:rest}') "
            "LOCATION 's3://lake/grok/'",
            "CREATE EXTERNAL TABLE trail (eventversion string, eventname string, "
            "useridentity struct<type:string,arn:string>, requestparameters string) "
            "ROW FORMAT SERDE 'com.amazon.emr.hive.serde.CloudTrailSerde' "
            "STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat' "
            "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat' "
            "LOCATION 's3://lake/trail/'",
            "CREATE EXTERNAL TABLE multi (id int, name string, score double) "
            "PARTITIONED BY (dt string) ROW FORMAT SERDE "
            "'org.apache.hadoop.hive.serde2.MultiDelimitSerDe' "
            "WITH SERDEPROPERTIES ('field.delim' = '|~|') LOCATION 's3://lake/multi/'",
            "MSCK REPAIR TABLE multi",
            "CREATE EXTERNAL TABLE zavro (id bigint, name string) STORED AS AVRO "
            "LOCATION 's3://lake/zavro/' TBLPROPERTIES "
            "('avro.schema.url' = 's3://lake/schemas/r.avsc')",
        ]:
            session.sql(ddl)
    finally:
        lake.close()


FORMAT_QUERIES = [
    'SELECT *, "$path", "$partition" FROM ions ORDER BY dt, id',
    "SELECT dt, count(*) AS n, max(amount) AS top FROM ions GROUP BY dt ORDER BY dt",
    'SELECT *, "$file_size" FROM weblog ORDER BY dt, id',
    "SELECT * FROM weblog WHERE dt = '2024-01-02'",
    'SELECT *, "$path" FROM grokked ORDER BY id',
    "SELECT eventname, useridentity.arn AS arn, requestparameters FROM trail ORDER BY 1",
    "SELECT * FROM multi ORDER BY id",
    "SELECT * FROM zavro ORDER BY id",
    "SELECT m.name, i.v FROM multi m JOIN ions i ON m.id = i.id ORDER BY 1",
    "SELECT * FROM nested ORDER BY id",
    "SELECT * FROM mapped ORDER BY at",
]


def test_spark_reads_the_other_formats_as_duckdb(
    home: Path, spark_held: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ion, Regex, Grok, CloudTrail, MultiDelimit and Avro (schema URL, gzip) on Spark,
    read in the executors: DuckDB's answers row by row, names and Arrow types included,
    partition values and pseudo-columns too."""
    _formats(home)
    monkeypatch.setenv("LAKEBOX_SPARK_MASTER", spark_held)
    answers = {}
    for engine in ("duckdb", "spark"):
        monkeypatch.setenv("LAKEBOX_ENGINE", engine)
        session = lakebox.connect(home)
        try:
            assert session.lake.engine.name == engine
            answers[engine] = [session.sql(q).to_arrow() for q in FORMAT_QUERIES]
        finally:
            session.lake.close()
    for sql, d, s in zip(FORMAT_QUERIES, answers["duckdb"], answers["spark"], strict=True):
        assert _shape(s) == _shape(d), sql
        assert d.num_rows, sql
    # the readers' semantics reached Spark: a line the regex does not match is a row of
    # NULLs, a value that does not convert is NULL, the Avro schema came from its URL
    weblog = answers["spark"][2].to_pylist()
    assert [r["id"] for r in weblog] == [1, 2, 3, None, 4]
    assert weblog[2]["status"] is None
    assert answers["spark"][7].to_pylist() == [{"id": 5, "name": "e"}, {"id": 6, "name": "f"}]
    # a text table's collections and two header lines; the JSON SerDe's mapping
    assert answers["spark"][9].column("tags").to_pylist()[0] == ["a", "b"]
    assert answers["spark"][10].column("at").to_pylist() == [1, 2]


def test_the_query_service_runs_on_spark(spark_session: lakebox.Session) -> None:
    """StartQueryExecution's path on a Spark lake: the execution succeeds, its result reads
    back as GetQueryResults returns it, and the bytes scanned are Spark's measure of the
    partition it read (not the whole table, not nothing)."""
    queries = spark_session.lake.queries
    qe, _ = queries.run("SELECT count(*) AS n, sum(id) AS s FROM sales WHERE dt = '2024-01-01'")
    assert qe.state == "SUCCEEDED", qe.state_change_reason
    page = queries.get_query_results(qe.query_execution_id)
    rows = [[c.get("VarCharValue") for c in r["Data"]] for r in page["ResultSet"]["Rows"]]
    assert rows == [["n", "s"], ["3", "6"]]
    storage = spark_session.lake.storage
    day = sum(f.size for f in storage.list_files("s3://lake/sales/dt=2024-01-01/"))
    assert 0 < qe.data_scanned_bytes <= day


def test_bytes_scanned_count_the_files_read_in_the_executors(
    spark_session: lakebox.Session,
) -> None:
    """Spark's input metrics do not see the files lakebox's readers read in the
    executors: the statement counts their sizes, so a Regex table's query reports the
    bytes of the partition it read (not nothing, not the whole table)."""
    lake = spark_session.lake
    lake.storage.write_bytes("s3://lake/logs/dt=1/a.log", b"1 a\n2 b\n")
    lake.storage.write_bytes("s3://lake/logs/dt=2/a.log", b"3 c\n" * 100)
    spark_session.sql(
        "CREATE EXTERNAL TABLE logs (id int, v string) PARTITIONED BY (dt int) ROW FORMAT "
        "SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe' WITH SERDEPROPERTIES "
        "('input.regex' = '(\\\\d+) (.*)') LOCATION 's3://lake/logs/'"
    )
    spark_session.sql("MSCK REPAIR TABLE logs")
    qe, _ = lake.queries.run("SELECT count(*) AS n FROM logs WHERE dt = 1")
    assert qe.state == "SUCCEEDED", qe.state_change_reason
    assert qe.data_scanned_bytes == len(b"1 a\n2 b\n")


def test_a_damaged_avro_file_is_named(spark_session: lakebox.Session) -> None:
    """A file the executors' Avro reader cannot decode fails the query with a DataError
    naming the file by its lake URI, as on DuckDB."""
    lake = spark_session.lake
    lake.storage.write_bytes("s3://lake/bad/c.avro", b"Obj\x01 this is not Avro")
    spark_session.sql(
        "CREATE EXTERNAL TABLE bad (id bigint) STORED AS AVRO LOCATION 's3://lake/bad/'"
    )
    with pytest.raises(DataError, match="cannot decode Avro data") as caught:
        spark_session.sql("SELECT * FROM bad")
    assert caught.value.uri == "s3://lake/bad/c.avro"


def test_duckdb_stays_the_default(lake_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAKEBOX_ENGINE", raising=False)
    session = lakebox.connect(lake_home)
    try:
        assert isinstance(session.lake.engine, DuckDBEngine)
    finally:
        session.lake.close()


def test_executor_writes_take_s3_mode_and_start_nothing_when_made(
    s3_config: LakeConfig,
) -> None:
    """The executors' writers write in S3 mode too (each file uploaded to its staging
    key, ``test_s3_mode``): a JSON write is accepted there, and making it starts no Spark
    work; what the Spark engine does not write (a bucketed table) is still refused
    before anything runs."""
    from lakebox.engine.spark.write import SparkWrite

    plugin = ctas_format("JSON")
    assert plugin is not None
    target = WriteTarget(plugin, codec="gzip", compression="GZIP", query_id="q1")
    started: list[str] = []
    write = SparkWrite(lambda: started.append("frame"), nullcontext, Storage(s3_config), target)
    assert write.storage.mode == "s3"
    bucketed = WriteTarget(plugin, codec="gzip", compression="GZIP", query_id="q2", bucket_count=2)
    with pytest.raises(UnsupportedError, match="does not write bucketed tables"):
        SparkWrite(lambda: started.append("frame"), nullcontext, Storage(s3_config), bucketed)
    assert not started
