"""Athena's pseudo-columns ("$path", "$file_size", "$file_modified_time", "$partition") on
every format lakebox reads, in the embedded mode and against a real S3 API, read from the
files, from compacted copies and through a reused plan.

Expected values come from what the test wrote: each object's URI and byte count, and its
modification time as the store reports it (the local file's stat, or S3's LastModified
read with boto3), truncated to milliseconds.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.orc as orc
import pyarrow.parquet as pq
import pytest

from lakebox.config import LakeConfig
from lakebox.session import Lake, Session
from lakebox.storage import Storage

Row = tuple[int, str]


def _parquet(rows: list[Row]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": [r[0] for r in rows], "name": [r[1] for r in rows]}), buf)
    return buf.getvalue()


def _orc(rows: list[Row]) -> bytes:
    buf = io.BytesIO()
    table = pa.table(
        {"id": pa.array([r[0] for r in rows], pa.int32()), "name": [r[1] for r in rows]}
    )
    orc.write_table(table, buf)
    return buf.getvalue()


def _avro(rows: list[Row]) -> bytes:
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "id", "type": "int"}, {"name": "name", "type": "string"}],
    }
    buf = io.BytesIO()
    fastavro.writer(buf, fastavro.parse_schema(schema), [{"id": i, "name": n} for i, n in rows])
    return buf.getvalue()


def _lines(template: Callable[[int, str], str]) -> Callable[[list[Row]], bytes]:
    return lambda rows: "".join(template(i, n) + "\n" for i, n in rows).encode()


TEXT_IO = (
    "STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat' "
    "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'"
)

#: format -> (the table's storage clauses, file extension, encoder of rows)
FORMATS: dict[str, tuple[str, str, Callable[[list[Row]], bytes]]] = {
    "csv": (
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' STORED AS TEXTFILE",
        ".csv",
        _lines(lambda i, n: f'"{i}","{n}"'),
    ),
    "tsv": ("ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t'", ".tsv", _lines("{}\t{}".format)),
    "multidelimit": (
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.MultiDelimitSerDe' "
        "WITH SERDEPROPERTIES ('field.delim'='|~|') STORED AS TEXTFILE",
        ".txt",
        _lines("{}|~|{}".format),
    ),
    "openx_json": (
        "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'",
        ".json",
        _lines(lambda i, n: json.dumps({"id": i, "name": n})),
    ),
    "hive_json": (
        "ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'",
        ".json",
        _lines(lambda i, n: json.dumps({"id": i, "name": n})),
    ),
    "parquet": ("STORED AS PARQUET", ".parquet", _parquet),
    "orc": ("STORED AS ORC", ".orc", _orc),
    "avro": ("STORED AS AVRO", ".avro", _avro),
    "ion": (
        "ROW FORMAT SERDE 'com.amazon.ionhiveserde.IonHiveSerDe' STORED AS ION",
        ".ion",
        _lines(lambda i, n: f'{{id: {i}, name: "{n}"}}'),
    ),
    "regex": (
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe' "
        "WITH SERDEPROPERTIES ('input.regex'='([0-9]+) (\\\\S+)') " + TEXT_IO,
        ".log",
        _lines("{} {}".format),
    ),
    "grok": (
        "ROW FORMAT SERDE 'com.amazonaws.glue.serde.GrokSerDe' "
        "WITH SERDEPROPERTIES ('input.format'='%{INT:id} %{WORD:name}') " + TEXT_IO,
        ".log",
        _lines("{} {}".format),
    ),
    "cloudtrail": (
        "ROW FORMAT SERDE 'com.amazon.emr.hive.serde.CloudTrailSerde' "
        "STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat' "
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'",
        ".json",
        lambda rows: json.dumps({"Records": [{"id": i, "name": n} for i, n in rows]}).encode(),
    ),
}

#: partition -> files -> rows; partition a has two files, so "$path" differs within it
LAYOUT: dict[str, dict[str, list[Row]]] = {
    "a": {"f0": [(1, "one"), (2, "two")], "f1": [(3, "three")]},
    "b": {"f0": [(4, "four"), (5, "five"), (6, "six")]},
}


class Written:
    """What the test wrote: per file its URI, bytes and rows."""

    def __init__(self) -> None:
        self.files: list[tuple[str, str, int, list[Row]]] = []  # (partition, uri, size, rows)

    def rows(
        self, storage: Storage, config: LakeConfig, partitioned: bool
    ) -> list[tuple[object, ...]]:
        out: list[tuple[object, ...]] = []
        for part, uri, size, rows in self.files:
            modified = _modified(storage, config, uri)
            for i, n in rows:
                extra: tuple[object, ...] = (part, f"p={part}") if partitioned else ()
                out.append((i, n, uri, size, modified, *extra))
        return sorted(out, key=lambda r: int(str(r[0])))


def _modified(storage: Storage, config: LakeConfig, uri: str) -> dt.datetime:
    """The object's modification time as its store reports it, to the millisecond."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if config.storage == "local":
        seconds = os.stat(config.home / bucket / key).st_mtime
    else:
        import boto3

        assert config.s3 is not None
        client = boto3.client(
            "s3",
            endpoint_url=config.s3.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        seconds = client.head_object(Bucket=bucket, Key=key)["LastModified"].timestamp()
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        milliseconds=math.floor(seconds * 1000)
    )


def _write_table(lake: Lake, session: Session, fmt: str, bucket: str, partitioned: bool) -> Written:
    ddl, ext, encode = FORMATS[fmt]
    written = Written()
    lake.storage.ensure_bucket(bucket)
    layout = LAYOUT if partitioned else {"": {**LAYOUT["a"], "f2": LAYOUT["b"]["f0"]}}
    for part, files in layout.items():
        for name, rows in files.items():
            folder = f"p={part}/" if partitioned else ""
            uri = f"s3://{bucket}/t/{folder}{name}{ext}"
            data = encode(rows)
            lake.storage.write_bytes(uri, data)
            written.files.append((part, uri, len(data), rows))
    keys = "PARTITIONED BY (p string) " if partitioned else ""
    session.sql(
        f"CREATE EXTERNAL TABLE t (id int, name string) {keys}{ddl} LOCATION 's3://{bucket}/t/'"
    )
    if partitioned:
        session.sql("MSCK REPAIR TABLE t")
    return written


PSEUDO = '"$path", "$file_size", "$file_modified_time"'


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_partitioned(
    fmt: str, any_config: LakeConfig, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEBOX_COMPACTION", "off")
    lake = Lake(any_config)
    try:
        session = lake.session()
        written = _write_table(lake, session, fmt, bucket, partitioned=True)
        expected = written.rows(lake.storage, any_config, partitioned=True)
        query = f'SELECT id, name, {PSEUDO}, p, "$partition" FROM t ORDER BY id'
        assert session.sql(query).fetchall() == expected
        # the same answer from compacted copies (a copy keeps no file per row: partitions
        # of several files are read from their files, single-file ones from copies)
        monkeypatch.setenv("LAKEBOX_COMPACTION", "always")
        assert session.sql(query).fetchall() == expected
        assert session.sql(query).fetchall() == expected  # the copies exist now
        # hidden from SELECT *, but not from a SELECT that names them as well
        star = session.sql('SELECT *, "$partition" FROM t ORDER BY id')
        assert star.columns == ["id", "name", "p", "$partition"]
        assert star.fetchall() == [(r[0], r[1], r[5], r[6]) for r in expected]
        # GROUP BY a pseudo-column
        grouped = session.sql('SELECT "$path", count(*) FROM t GROUP BY "$path" ORDER BY 1')
        assert grouped.fetchall() == sorted((uri, len(rows)) for _, uri, _, rows in written.files)
        # a filter on "$path" reads only that file
        _, uri, size, rows = written.files[1]
        found = session.sql(f"SELECT id FROM t WHERE \"$path\" = '{uri}'")
        assert found.fetchall() == [(i,) for i, _ in rows]
        assert (found.stats.files, found.stats.bytes) == (1, size)
    finally:
        lake.close()


@pytest.mark.parametrize("fmt", ["tsv", "openx_json", "parquet", "avro", "grok"])
def test_every_format_unpartitioned(
    fmt: str, any_config: LakeConfig, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEBOX_COMPACTION", "always")
    lake = Lake(any_config)
    try:
        session = lake.session()
        written = _write_table(lake, session, fmt, bucket, partitioned=False)
        expected = written.rows(lake.storage, any_config, partitioned=False)
        assert session.sql(f"SELECT id, name, {PSEUDO} FROM t ORDER BY id").fetchall() == expected
        assert session.sql("SELECT * FROM t").columns == ["id", "name"]
    finally:
        lake.close()


def test_reused_plan_sees_a_rewritten_file(
    lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repeated statement (plan and translation reused while the listing is unchanged)
    gives the new size and time once a file is rewritten."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", "always")
    config = LakeConfig.from_env(home=lake_home, storage="local")
    lake = Lake(config)
    try:
        session = lake.session()
        written = _write_table(lake, session, "tsv", "lb-reuse", partitioned=True)
        query = f'SELECT id, name, {PSEUDO}, p, "$partition" FROM t ORDER BY id'
        for _ in range(2):
            assert session.sql(query).fetchall() == written.rows(lake.storage, config, True)
        part, uri, _size, _rows = written.files[0]
        data = b"7\tseven\n8\teight\n9\tnine\n"
        lake.storage.write_bytes(uri, data)
        path = lake_home / "lb-reuse" / uri.removeprefix("s3://lb-reuse/")
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
        written.files[0] = (part, uri, len(data), [(7, "seven"), (8, "eight"), (9, "nine")])
        assert session.sql(query).fetchall() == written.rows(lake.storage, config, True)
    finally:
        lake.close()
