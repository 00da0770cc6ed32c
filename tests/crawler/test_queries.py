"""Tables the crawler makes answer the same queries as hand-written Athena DDL for the
same files (through the session layer, so every reader is exercised end to end)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.orc as orc
import pyarrow.parquet as pq
import pytest

import lakebox
from lakebox.config import LakeConfig
from lakebox.crawler import Crawler, CrawlerService, Target
from lakebox.session import Session

from .conftest import write

#: Athena's documented regex for Apache logs, as a user would write it (Hive doubles "\\")
HAND_REGEX = (
    r'([^ ]*) ([^ ]*) ([^ ]*) \\[([^\\]]*)\\] "(?:([^ ]*) ([^ ]*)(?: HTTP/([0-9.]*))?'
    r'|([^"]*))" ([0-9]*|-) ([0-9]*|-)'
)
APACHE = '10.0.0.{i} - u{i} [10/Oct/2000:13:55:3{i} -0700] "GET /p{i} HTTP/1.1" 200 {i}00'


def _csv(root: Path) -> None:
    for year in ("2023", "2024"):
        write(
            root / f"year={year}" / "a.csv",
            f"id,name,price\n1,apple,1.5\n2,pear,{year[-1]}\n",
            "gzip",
        )


def _quoted(root: Path) -> None:
    write(root / "a.csv", 'id,note\n1,"hello, world"\n2,"plain"\n')


def _json(root: Path) -> None:
    rows = [
        {"id": 1, "user": {"name": "a", "tags": ["x", "y"]}},
        {"id": 2, "user": {"name": "b", "tags": []}},
    ]
    write(root / "dt=1" / "a.json", "".join(json.dumps(r) + "\n" for r in rows), "bzip2")


def _parquet(root: Path) -> None:
    root.mkdir(parents=True)
    pq.write_table(pa.table({"id": [1, 2], "name": ["a", "b"]}), root / "a.parquet")


def _orc(root: Path) -> None:
    root.mkdir(parents=True)
    orc.write_table(pa.table({"id": [1, 2], "name": ["a", "b"]}), str(root / "a.orc"))


def _avro(root: Path) -> None:
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}],
    }
    buf = io.BytesIO()
    fastavro.writer(buf, schema, [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    write(root / "a.avro", buf.getvalue())


def _ion(root: Path) -> None:
    write(root / "a.ion", '{id: 1, name: "a"}\n{id: 2, name: "b"}\n', "gzip")


def _logs(root: Path) -> None:
    write(root / "access.log", "".join(APACHE.format(i=i) + "\n" for i in range(1, 4)))


def _ddb_json(root: Path) -> None:
    items = [
        {"Item": {"id": {"N": "1"}, "name": {"S": "a"}}},
        {"Item": {"id": {"N": "2"}, "name": {"S": "b"}}},
    ]
    write(
        root / "AWSDynamoDB" / "01-x" / "data" / "p.json",
        "".join(json.dumps(i) + "\n" for i in items),
        "gzip",
    )


def _ddb_ion(root: Path) -> None:
    write(
        root / "AWSDynamoDB" / "02-y" / "data" / "p.ion",
        '$ion_1_0 {Item:{id:1.,name:"a"}}\n$ion_1_0 {Item:{id:2.,name:"b"}}\n',
        "gzip",
    )


CASES = {
    "csv": (
        _csv,
        "s3://data/csv/",
        "csv",
        "CREATE EXTERNAL TABLE hand (id bigint, name string, price double) "
        "PARTITIONED BY (year string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
        "LOCATION 's3://data/csv/' TBLPROPERTIES ('skip.header.line.count'='1')",
        "SELECT id, name, price, year FROM {t} ORDER BY year, id",
    ),
    "quoted": (
        _quoted,
        "s3://data/quoted/",
        "quoted",
        "CREATE EXTERNAL TABLE hand (id bigint, note string) ROW FORMAT SERDE "
        "'org.apache.hadoop.hive.serde2.OpenCSVSerde' LOCATION 's3://data/quoted/' "
        "TBLPROPERTIES ('skip.header.line.count'='1')",
        "SELECT id, note FROM {t} ORDER BY id",
    ),
    "json": (
        _json,
        "s3://data/json/",
        "json",
        "CREATE EXTERNAL TABLE hand (id int, `user` struct<name:string,tags:array<string>>)"
        " PARTITIONED BY (dt string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'"
        " LOCATION 's3://data/json/'",
        'SELECT id, "user".name, cardinality("user".tags), dt FROM {t} ORDER BY id',
    ),
    "parquet": (
        _parquet,
        "s3://data/parquet/",
        "parquet",
        "CREATE EXTERNAL TABLE hand (id bigint, name string) STORED AS PARQUET "
        "LOCATION 's3://data/parquet/'",
        "SELECT * FROM {t} ORDER BY id",
    ),
    "orc": (
        _orc,
        "s3://data/orc/",
        "orc",
        "CREATE EXTERNAL TABLE hand (id bigint, name string) STORED AS ORC "
        "LOCATION 's3://data/orc/'",
        "SELECT * FROM {t} ORDER BY id",
    ),
    "avro": (
        _avro,
        "s3://data/avro/",
        "avro",
        "CREATE EXTERNAL TABLE hand (id bigint, name string) STORED AS AVRO "
        "LOCATION 's3://data/avro/'",
        "SELECT * FROM {t} ORDER BY id",
    ),
    "ion": (
        _ion,
        "s3://data/ion/",
        "ion",
        "CREATE EXTERNAL TABLE hand (id bigint, name string) STORED AS ION "
        "LOCATION 's3://data/ion/'",
        "SELECT * FROM {t} ORDER BY id",
    ),
    "logs": (
        _logs,
        "s3://data/logs/",
        "logs",
        "CREATE EXTERNAL TABLE hand (clientip string, ident string, auth string, "
        "`timestamp` string, verb string, request string, httpversion string, "
        "rawrequest string, response string, bytes string) ROW FORMAT SERDE "
        "'org.apache.hadoop.hive.serde2.RegexSerDe' WITH SERDEPROPERTIES ('input.regex'="
        f"'{HAND_REGEX}') LOCATION 's3://data/logs/'",
        "SELECT clientip, auth, request, response, bytes FROM {t} ORDER BY clientip",
    ),
    "ddb_json": (
        _ddb_json,
        "s3://data/orders/",
        "orders",
        "CREATE EXTERNAL TABLE hand (item struct<id:struct<n:string>,"
        "name:struct<s:string>>) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'"
        " LOCATION 's3://data/orders/AWSDynamoDB/01-x/data/'",
        "SELECT item.id.n, item.name.s FROM {t} ORDER BY 1",
    ),
    "ddb_ion": (
        _ddb_ion,
        "s3://data/people/",
        "people",
        "CREATE EXTERNAL TABLE hand (id decimal(1,0), name string) STORED AS ION "
        "LOCATION 's3://data/people/AWSDynamoDB/02-y/data/' TBLPROPERTIES ("
        "'ion.id.path_extractor'='(Item id)', 'ion.name.path_extractor'='(Item name)')",
        "SELECT id, name FROM {t} ORDER BY id",
    ),
}


@pytest.fixture
def session(config: LakeConfig) -> Session:
    s = lakebox.connect(config.home)
    s.sql("CREATE DATABASE IF NOT EXISTS db")
    s.sql("USE db")
    return s


@pytest.mark.parametrize("case", sorted(CASES))
def test_crawled_table_answers_like_hand_written_ddl(
    session: Session, config: LakeConfig, case: str
) -> None:
    make, path, name, ddl, query = CASES[case]
    make(config.home / "data" / path.split("/")[3])
    service = CrawlerService(config)
    service.create_crawler(Crawler("c", "db", [Target(path)]))
    run = service.start_crawler("c")
    assert run.state == "SUCCEEDED" and run.skipped == [], (run.error, run.skipped)
    assert run.tables_created == [name]
    session.sql(ddl)
    if "PARTITIONED BY" in ddl:
        session.sql("MSCK REPAIR TABLE hand")
    crawled = session.sql(query.format(t=name)).fetchall()
    hand = session.sql(query.format(t="hand")).fetchall()
    assert crawled == hand
    assert len(crawled) >= 2


@pytest.mark.parametrize(
    ("line", "column", "expected"),
    [
        ("I, [2024-01-02T10:00:00.123456 #4242]  INFO -- app: started", "message", "started"),
        (
            "1286536309.450     94 10.0.0.1 TCP_MISS/200 507 GET http://x/ - DIRECT/1.2.3.4 "
            "text/html",
            "url",
            "http://x/",
        ),
        (
            "1234:M 02 Jan 2024 10:00:00.123 * Ready to accept connections",
            "message",
            "Ready to accept connections",
        ),
    ],
)
def test_crawled_log_tables_read_their_fields(
    session: Session, config: LakeConfig, line: str, column: str, expected: str
) -> None:
    write(config.home / "data" / "logs" / "x.log", f"{line}\n{line}\n")
    service = CrawlerService(config)
    service.create_crawler(Crawler("c", "db", [Target("s3://data/logs/")]))
    assert service.start_crawler("c").tables_created == ["logs"]
    rows = session.sql(f"SELECT {column} FROM logs").fetchall()
    assert rows == [(expected,), (expected,)]


@pytest.mark.parametrize("codec", ["none", "gzip"])
def test_crawled_mixed_line_end_csv_counts_its_rows(
    session: Session, config: LakeConfig, codec: str
) -> None:
    """The issue's file (LF, then CRLF line ends, a header): 4 rows, not 6."""
    write(config.home / "data" / "mixed" / "a.csv", b"id,s\n1,a\n2,b\r\n3,c\r\n4,d\n", codec)
    service = CrawlerService(config)
    service.create_crawler(Crawler("c", "db", [Target("s3://data/mixed/")]))
    assert service.start_crawler("c").tables_created == ["mixed"]
    table = service.catalog.get_table("db", "mixed")
    assert [c.name for c in table.columns] == ["id", "s"]
    assert table.parameters["skip.header.line.count"] == "1"
    assert session.sql("SELECT count(*), sum(id), max(length(s)) FROM mixed").fetchall() == [
        (4, 10, 1)
    ]


#: (Python codec the file is written in, the Java name the crawler records or None)
_CRAWLED_CHARSETS = [
    ("utf-8", None),
    ("cp932", "windows-31j"),
    ("euc_jp", "EUC-JP"),
    ("cp1252", "windows-1252"),
    ("latin-1", "windows-1252"),
    ("utf-16", "UTF-16"),
    ("utf-16-le", "UTF-16LE"),
    ("utf-16-be", "UTF-16BE"),
]
_JAPANESE = ["東京都", "大阪府", "北海道"]
_WESTERN = ["Zürich", "Málaga", "Ærøskøbing"]


@pytest.mark.parametrize("codec", ["none", "gzip"])
@pytest.mark.parametrize(("python", "java"), _CRAWLED_CHARSETS)
def test_crawler_records_the_charset_of_a_non_utf8_csv_and_the_table_reads_right(
    session: Session, config: LakeConfig, python: str, java: str | None, codec: str
) -> None:
    names = _JAPANESE if python in ("cp932", "euc_jp", "utf-16", "utf-8") else _WESTERN
    if python.startswith("utf-16"):
        names = _JAPANESE + _WESTERN
    text = "id,city,pop\r\n" + "".join(f"{i},{n},{i * 1000}\r\n" for i, n in enumerate(names))
    write(config.home / "data" / "cities" / "a.csv", text.encode(python), codec)
    service = CrawlerService(config)
    service.create_crawler(Crawler("c", "db", [Target("s3://data/cities/")]))
    run = service.start_crawler("c")
    assert run.tables_created == ["cities"], (run.error, run.skipped)
    table = service.catalog.get_table("db", "cities")
    assert table.serde_parameters.get("serialization.encoding") == java
    assert [c.name for c in table.columns] == ["id", "city", "pop"]
    rows = session.sql("SELECT id, city, pop FROM cities ORDER BY id").fetchall()
    assert rows == [(i, n, i * 1000) for i, n in enumerate(names)]


def test_crawled_csv_keeps_a_nul_inside_a_field(session: Session, config: LakeConfig) -> None:
    write(config.home / "data" / "nul" / "a.csv", b"id,s\n1,a\x00c\n2,b\n")
    service = CrawlerService(config)
    service.create_crawler(Crawler("c", "db", [Target("s3://data/nul/")]))
    assert service.start_crawler("c").tables_created == ["nul"]
    assert session.sql("SELECT id, length(s) FROM nul ORDER BY id").fetchall() == [(1, 3), (2, 1)]
