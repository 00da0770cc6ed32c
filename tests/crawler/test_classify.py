from __future__ import annotations

import io
import json
import re
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.orc as orc
import pyarrow.parquet as pq
import pytest
from amazon.ion import simpleion

from lakebox.config import LakeConfig
from lakebox.crawler.classify import (
    LAZY_SIMPLE_SERDE,
    OPEN_CSV_SERDE,
    FileClassifier,
    FileSchema,
    Unrecognized,
)
from lakebox.crawler.model import Classifier
from lakebox.errors import DataError
from lakebox.storage import Storage

from .conftest import COMPRESSORS, write


@pytest.fixture
def storage(lake_home: Path, tmp_path: Path) -> Storage:
    """The classifier reads files written straight into tmp_path: a folder the lake allows
    (LAKEBOX_ALLOWED_PATHS) for file:// locations."""
    return Storage(LakeConfig.from_env(home=lake_home, storage="local", allowed_paths=(tmp_path,)))


def classify(
    storage: Storage, path: Path, custom: list[Classifier] | None = None, dynamodb: bool = False
) -> FileSchema:
    info = storage.info(str(path))
    return FileClassifier(storage, custom).classify(info, dynamodb=dynamodb)


def cols(schema: FileSchema) -> list[tuple[str, str]]:
    return [(n, t.hive()) for n, t in schema.columns]


CSV_ROWS = [
    ["id", "name", "price", "ok"],
    ["1", "apple", "1.5", "true"],
    ["2", "pear", "2", "false"],
    ["3000000000", "fig", "", "true"],
]


@pytest.mark.parametrize("delim", [",", "|", "\t", ";", "\u0001"])
@pytest.mark.parametrize("codec", sorted(COMPRESSORS))
def test_csv_delimiter_header_and_compression(
    storage: Storage, tmp_path: Path, delim: str, codec: str
) -> None:
    text = "".join(delim.join(r) + "\n" for r in CSV_ROWS)
    path = write(tmp_path / "f.csv", text, codec)
    s = classify(storage, path)
    assert s.format.classification == "csv"
    assert s.format.compression == (None if codec == "none" else codec)
    assert s.format.serde_library == LAZY_SIMPLE_SERDE
    assert dict(s.format.serde_parameters) == {"field.delim": delim}
    params = dict(s.format.table_parameters)
    assert params["skip.header.line.count"] == "1"
    assert params["delimiter"] == delim
    assert cols(s) == [("id", "bigint"), ("name", "string"), ("price", "double"), ("ok", "boolean")]
    assert s.records == 3


def test_csv_without_header_when_every_column_is_a_string(storage: Storage, tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", "name,city\nann,rome\nbob,oslo\n")
    s = classify(storage, path)
    assert cols(s) == [("col0", "string"), ("col1", "string")]
    assert "skip.header.line.count" not in dict(s.format.table_parameters)
    assert s.records == 3


def test_csv_without_header_when_first_row_has_numbers(storage: Storage, tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", "1,a\n2,b\n")
    s = classify(storage, path)
    assert cols(s) == [("col0", "bigint"), ("col1", "string")]
    assert s.records == 2


def test_quoted_csv_uses_open_csv_serde(storage: Storage, tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", 'id,text\n1,"a, b"\n2,"c"\n')
    s = classify(storage, path)
    assert s.format.serde_library == OPEN_CSV_SERDE
    assert dict(s.format.serde_parameters) == {"separatorChar": ",", "quoteChar": '"'}
    assert dict(s.format.table_parameters)["areColumnsQuoted"] == "true"
    assert cols(s) == [("id", "bigint"), ("text", "string")]


def test_header_names_are_made_hive_safe(storage: Storage, tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", "User Id,Total-Amount,x,x\n1,2.5,3,4\n")
    assert [n for n, _ in classify(storage, path).columns] == [
        "user_id",
        "total_amount",
        "x",
        "x_1",
    ]


def test_widening_across_rows(storage: Storage, tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", "a,b,c\n1,1,1\n2.5,x,99999999999\n")
    assert cols(classify(storage, path)) == [("a", "double"), ("b", "string"), ("c", "bigint")]


@pytest.mark.parametrize("codec", sorted(COMPRESSORS))
def test_nested_json_lines(storage: Storage, tmp_path: Path, codec: str) -> None:
    rows = [
        {"Id": 1, "user": {"name": "a", "Age": 3}, "tags": ["x"], "score": 1},
        {
            "Id": 2,
            "user": {"name": "b", "email": "e"},
            "tags": [],
            "score": 2.5,
            "big": 2**40,
            "items": [{"sku": "s", "qty": 1}],
        },
        {"Id": 3, "user": None, "tags": ["y", "z"], "score": None, "flag": True},
    ]
    path = write(tmp_path / "f.json", "".join(json.dumps(r) + "\n" for r in rows), codec)
    s = classify(storage, path)
    assert s.format.classification == "json"
    assert s.format.serde_library == "org.openx.data.jsonserde.JsonSerDe"
    assert s.format.input_format == "org.apache.hadoop.mapred.TextInputFormat"
    assert s.format.compression == (None if codec == "none" else codec)
    assert cols(s) == [
        ("id", "int"),
        ("user", "struct<name:string,age:int,email:string>"),
        ("tags", "array<string>"),
        ("score", "double"),
        ("big", "bigint"),
        ("items", "array<struct<sku:string,qty:int>>"),
        ("flag", "boolean"),
    ]
    assert s.records == 3


def test_json_array_document_is_one_array_column(storage: Storage, tmp_path: Path) -> None:
    path = write(tmp_path / "f.json", json.dumps([{"a": 1}, {"a": 2}], indent=2))
    assert cols(classify(storage, path)) == [("array", "array<struct<a:int>>")]


def test_custom_json_path_classifier_reads_array_elements(storage: Storage, tmp_path: Path) -> None:
    path = write(tmp_path / "f.json", json.dumps({"data": [{"a": 1}, {"a": 2, "b": "x"}]}))
    custom = [Classifier("records", "json", json_path="$.data[*]")]
    s = classify(storage, path, custom)
    assert cols(s) == [("a", "int"), ("b", "string")]


def test_corrupt_json_lines_are_a_data_error(storage: Storage, tmp_path: Path) -> None:
    path = write(tmp_path / "f.json", '{"a": 1}\n{"a": 2\n{"a": 3}\n')
    with pytest.raises(DataError, match="not valid JSON"):
        classify(storage, path)


def _parquet(path: Path) -> Path:
    table = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "n": pa.array([1, 2], pa.int32()),
            "name": ["a", "b"],
            "amount": pa.array([1, 2], pa.decimal128(10, 2)),
            "tags": [["x"], []],
            "s": [{"k": 1}, {"k": 2}],
            "day": pa.array([0, 1], pa.date32()),
            "ts": pa.array([0, 1], pa.timestamp("us")),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


BINARY_COLUMNS = [
    ("id", "bigint"),
    ("n", "int"),
    ("name", "string"),
    ("amount", "decimal(10,2)"),
    ("tags", "array<string>"),
    ("s", "struct<k:bigint>"),
    ("day", "date"),
    ("ts", "timestamp"),
]


def test_parquet_schema_from_footer(storage: Storage, tmp_path: Path) -> None:
    s = classify(storage, _parquet(tmp_path / "f.parquet"))
    assert s.format.classification == "parquet"
    assert s.format.serde_library == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert s.format.input_format == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert cols(s) == BINARY_COLUMNS
    assert s.records == 2


def test_orc_schema_from_footer(storage: Storage, tmp_path: Path) -> None:
    table = pq.read_table(_parquet(tmp_path / "x.parquet"))
    orc.write_table(table, str(tmp_path / "f.orc"))
    s = classify(storage, tmp_path / "f.orc")
    assert s.format.classification == "orc"
    assert s.format.serde_library == "org.apache.hadoop.hive.ql.io.orc.OrcSerde"
    assert s.format.input_format == "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat"
    assert [n for n, _ in s.columns] == [n for n, _ in BINARY_COLUMNS]
    assert s.records == 2


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy"])
def test_avro_schema_from_header(storage: Storage, tmp_path: Path, codec: str) -> None:
    schema = {
        "type": "record",
        "name": "r",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": ["null", "string"]},
            {"name": "kind", "type": {"type": "enum", "name": "k", "symbols": ["A", "B"]}},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "attrs", "type": {"type": "map", "values": "int"}},
        ],
    }
    buf = io.BytesIO()
    recs = [
        {"id": i, "name": None, "kind": "A", "day": 1, "tags": [], "attrs": {}} for i in range(5)
    ]
    fastavro.writer(buf, schema, recs, codec=codec, sync_interval=10)
    path = write(tmp_path / "f.avro", buf.getvalue())
    s = classify(storage, path)
    assert s.format.classification == "avro"
    assert s.format.serde_library == "org.apache.hadoop.hive.serde2.avro.AvroSerDe"
    assert cols(s) == [
        ("id", "bigint"),
        ("name", "string"),
        ("kind", "string"),
        ("day", "date"),
        ("tags", "array<string>"),
        ("attrs", "map<string,int>"),
    ]
    assert s.records == 5
    assert json.loads(s.avro_schema or "")["name"] == "r"


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("codec", ["none", "gzip"])
def test_ion_text_and_binary(storage: Storage, tmp_path: Path, binary: bool, codec: str) -> None:
    values = [
        simpleion.loads('{id: 1, price: 2.50, name: "a", tags: [x, y]}'),
        simpleion.loads("{id: 2, price: 3., when: 2024-01-01T00:00Z}"),
    ]
    data = simpleion.dumps(values, binary=binary, sequence_as_stream=True)
    raw = data if isinstance(data, bytes) else data.encode()
    s = classify(storage, write(tmp_path / "f.ion", raw, codec))
    assert s.format.classification == "ion"
    assert s.format.serde_library == "com.amazon.ionhiveserde.IonHiveSerDe"
    assert s.format.input_format == "com.amazon.ionhiveserde.formats.IonInputFormat"
    assert cols(s) == [
        ("id", "bigint"),
        ("price", "decimal(3,2)"),
        ("name", "string"),
        ("tags", "array<string>"),
        ("when", "timestamp"),
    ]
    assert s.records == 2


APACHE = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326'
COMBINED = APACHE + ' "http://x/" "Mozilla/4.08"'


@pytest.mark.parametrize(
    ("line", "classification", "width"), [(APACHE, "apache", 10), (COMBINED, "combined_apache", 12)]
)
def test_access_logs_become_regex_serde_tables(
    storage: Storage, tmp_path: Path, line: str, classification: str, width: int
) -> None:
    s = classify(storage, write(tmp_path / "access.log", f"{line}\n{line}\n"))
    assert s.format.classification == classification
    assert s.format.serde_library == "org.apache.hadoop.hive.serde2.RegexSerDe"
    regex = dict(s.format.serde_parameters)["input.regex"]
    m = re.fullmatch(regex, line)
    assert m is not None and len(m.groups()) == width == len(s.columns)
    names = [n for n, _ in s.columns]
    assert m.group(names.index("response") + 1) == "200"
    assert m.group(names.index("clientip") + 1) == "127.0.0.1"


def test_custom_grok_classifier_comes_first(storage: Storage, tmp_path: Path) -> None:
    path = write(
        tmp_path / "app.log",
        "2024-01-02 10:00:00 INFO 42 started\n2024-01-02 10:00:01 WARN 7 slow disk\n",
    )
    custom = [
        Classifier(
            "applog",
            "grok",
            classification="applog",
            pattern="%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:level} %{INT:code:int} %{GREEDYDATA:msg}",
        )
    ]
    s = classify(storage, path, custom)
    assert s.format.classification == "applog"
    assert cols(s) == [("ts", "string"), ("level", "string"), ("code", "int"), ("msg", "string")]
    m = re.fullmatch(
        dict(s.format.serde_parameters)["input.regex"], "2024-01-02 10:00:01 WARN 7 slow disk"
    )
    assert m is not None and m.groups() == ("2024-01-02 10:00:01", "WARN", "7", "slow disk")


def test_custom_regex_classifier(storage: Storage, tmp_path: Path) -> None:
    path = write(tmp_path / "kv.txt", "a=1;b=x\na=2;b=y\n")
    custom = [Classifier("kv", "regex", pattern=r"a=(?P<a>\d+);b=(?P<b>\w+)")]
    s = classify(storage, path, custom)
    assert s.format.classification == "kv"
    assert cols(s) == [("a", "string"), ("b", "string")]
    assert dict(s.format.serde_parameters)["input.regex"] == r"a=(\d+);b=(\w+)"


def test_custom_csv_classifier_with_given_header(storage: Storage, tmp_path: Path) -> None:
    path = write(tmp_path / "f.txt", "a#b\nc#d\n")
    custom = [
        Classifier(
            "hashes", "csv", delimiter="#", header=["left", "right"], contains_header="ABSENT"
        )
    ]
    s = classify(storage, path, custom)
    assert cols(s) == [("left", "string"), ("right", "string")]
    assert dict(s.format.serde_parameters) == {"field.delim": "#"}
    assert "skip.header.line.count" not in dict(s.format.table_parameters)


def test_non_matching_custom_classifier_falls_back_to_builtins(
    storage: Storage, tmp_path: Path
) -> None:
    path = write(tmp_path / "f.csv", "a,b\n1,2\n")
    custom = [Classifier("nope", "grok", pattern="%{IP:ip} %{WORD:w}")]
    assert classify(storage, path, custom).format.classification == "csv"


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("bad.parquet", b"PAR1garbage-not-a-footer", DataError),
        ("bad.orc", b"ORC" + b"\x00" * 40, DataError),
        ("bad.avro", b"Obj\x01\x00broken", DataError),
        ("bad.csv.gz", b"\x1f\x8b\x08\x00garbage", DataError),
        ("blob.bin", bytes(range(256)) * 8, Unrecognized),
        ("one.txt", b"just one line\n", Unrecognized),
        ("empty.csv", b"", Unrecognized),
    ],
)
def test_unreadable_files_raise(
    storage: Storage, tmp_path: Path, name: str, data: bytes, error: type[Exception]
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(error):
        classify(storage, path)


def test_large_text_file_is_sampled_and_its_count_estimated(
    storage: Storage, tmp_path: Path
) -> None:
    line = "12345,abcdefghij,1.5\n"
    count = 200_000  # ~4.2 MB, more than the 1 MB sample
    path = write(tmp_path / "big.csv.gz", "a,b,c\n" + line * count)
    path = path.rename(tmp_path / "big.csv")
    s = classify(storage, path)
    assert s.format.compression is None
    assert 0.9 * count <= s.records <= 1.1 * count
    gz = write(tmp_path / "big2.csv", "a,b,c\n" + line * count, "gzip")
    s2 = classify(storage, gz)
    assert s2.format.compression == "gzip"
    assert 0.8 * count <= s2.records <= 1.2 * count


def test_dynamodb_ion_items_map_to_path_extractors(storage: Storage, tmp_path: Path) -> None:
    text = '$ion_1_0 {Item:{Id:123.,Name:"a",Amount:1.5}}\n$ion_1_0 {Item:{Id:456.,Tags:["x"]}}\n'
    s = classify(storage, write(tmp_path / "x.ion", text, "gzip"), dynamodb=True)
    assert s.format.variant == "dynamodb"
    assert cols(s) == [
        ("id", "decimal(3,0)"),
        ("name", "string"),
        ("amount", "decimal(2,1)"),
        ("tags", "array<string>"),
    ]
    assert s.extractors == {
        "id": "(Item Id)",
        "name": "(Item Name)",
        "amount": "(Item Amount)",
        "tags": "(Item Tags)",
    }


def test_long_header_cells_mean_no_header(storage: Storage, tmp_path: Path) -> None:
    long_name = "x" * 150
    path = write(tmp_path / "f.csv", f"{long_name},b\n1,2\n")
    assert [n for n, _ in classify(storage, path).columns] == ["col0", "col1"]


@pytest.mark.parametrize(
    ("classification", "lines", "column", "value"),
    [
        (
            "linux_kernel",
            [
                "Jan  2 10:00:00 host kernel: [ 12.345] usb 1-1: new device",
                "Jan  2 10:00:01 host kernel: eth0 up",
            ],
            "logsource",
            "host",
        ),
        (
            "ruby_logger",
            [
                "I, [2024-01-02T10:00:00.123456 #4242]  INFO -- app: started",
                "W, [2024-01-02T10:00:01.000001 #4242]  WARN -- app: slow",
            ],
            "pid",
            "4242",
        ),
        (
            "squid",
            [
                "1286536309.450     94 10.0.0.1 TCP_MISS/200 507 GET http://x/ - "
                "DIRECT/1.2.3.4 text/html"
            ]
            * 2,
            "status_code",
            "200",
        ),
        (
            "redismonlog",
            ['1339518083.107412 [0 127.0.0.1:60866] "keys" "*"'] * 2,
            "client",
            "127.0.0.1:60866",
        ),
        (
            "redislog",
            ["1234:M 02 Jan 2024 10:00:00.123 * Ready to accept connections"] * 2,
            "role",
            "M",
        ),
    ],
)
def test_builtin_log_formats(
    storage: Storage, tmp_path: Path, classification: str, lines: list[str], column: str, value: str
) -> None:
    s = classify(storage, write(tmp_path / "x.log", "".join(ln + "\n" for ln in lines)))
    assert s.format.classification == classification
    m = re.fullmatch(dict(s.format.serde_parameters)["input.regex"], lines[0])
    assert m is not None and len(m.groups()) == len(s.columns)
    assert m.group([n for n, _ in s.columns].index(column) + 1) == value
