"""Delivery streams: configuration rules, delivery layout, transforms, conversion, errors."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import gzip
import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pyarrow.orc as orc
import pyarrow.parquet as pq
import pytest

from lakebox.errors import EntityNotFoundError, LakeboxError
from lakebox.ingest import FLATTEN_JSON, DeliveryStreams, DeliveryTicker, register_transform
from lakebox.ingest.errors import (
    InvalidArgumentError,
    ResourceInUseError,
    ResourceNotFoundError,
    ValidationError,
)
from lakebox.ingest.streams import StreamPage
from lakebox.ingest.transforms import unregister_transform
from lakebox.session import Lake, Session

from .conftest import ORC, PARQUET, TableMaker

NAME_RE = r"{stream}-1-\d{{4}}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f-]{{36}}"
DELIM = {"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord", "Parameters": []}]}


def dest(**extra: Any) -> dict[str, Any]:
    return {"BucketARN": "arn:aws:s3:::lake", **extra}


def lines(lake: Lake, uri: str) -> list[Any]:
    data = lake.storage.read_bytes(uri)
    if uri.endswith(".gz"):
        data = gzip.decompress(data)
    return [json.loads(x) for x in data.decode().splitlines() if x]


# -- configuration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hints", "member", "bound"),
    [
        ({"SizeInMBs": 0}, "bufferingHints.sizeInMBs", "greater than or equal to 1"),
        ({"SizeInMBs": 129}, "bufferingHints.sizeInMBs", "less than or equal to 128"),
        (
            {"IntervalInSeconds": -1},
            "bufferingHints.intervalInSeconds",
            "greater than or equal to 0",
        ),
        (
            {"IntervalInSeconds": 901},
            "bufferingHints.intervalInSeconds",
            "less than or equal to 900",
        ),
    ],
)
def test_buffering_hints_out_of_range_fail_with_firehose_validation_error(
    streams: DeliveryStreams, hints: dict[str, int], member: str, bound: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(member)) as info:
        streams.create_delivery_stream("s", dest(BufferingHints=hints))
    assert bound in str(info.value)
    assert info.value.code == "ValidationException"
    assert str(info.value).startswith("1 validation error detected: Value '")


def test_buffering_hints_default_to_5_mb_and_300_seconds(streams: DeliveryStreams) -> None:
    streams.create_delivery_stream("s", dest())
    desc = streams.describe_delivery_stream("s")
    hints = desc.destination["BufferingHints"]
    assert hints == {"SizeInMBs": 5, "IntervalInSeconds": 300}
    assert desc.status == "ACTIVE"
    assert desc.arn.endswith(":deliverystream/s")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (dest(Prefix="x/!{timestamp:yyyy}/"), "ErrorOutputPrefix cannot be null"),
        (dest(Prefix="x/!{foo:bar}/", ErrorOutputPrefix="e/"), "unknown namespace 'foo'"),
        (
            dest(Prefix="x/!{firehose:error-output-type}/", ErrorOutputPrefix="e/"),
            "only in ErrorOutputPrefix",
        ),
        (
            dest(Prefix="x/!{partitionKeyFromQuery:k}/", ErrorOutputPrefix="e/"),
            "dynamic partitioning is not enabled",
        ),
        (
            dest(
                Prefix="x/",
                DynamicPartitioningConfiguration={"Enabled": True},
                BufferingHints={"SizeInMBs": 64},
                ErrorOutputPrefix="e/",
            ),
            "at least one",
        ),
        (
            dest(
                DataFormatConversionConfiguration={
                    "Enabled": True,
                    "SchemaConfiguration": {"DatabaseName": "default", "TableName": "t"},
                },
                BufferingHints={"SizeInMBs": 5},
            ),
            "at least 64",
        ),
        (dest(CompressionFormat="ZIP"), "not supported by lakebox"),
    ],
)
def test_invalid_configurations_are_rejected(
    streams: DeliveryStreams, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        streams.create_delivery_stream("s", config)
    assert streams.list_delivery_streams().names == []


def test_create_describe_list_delete(streams: DeliveryStreams) -> None:
    for name in ("b", "a", "c"):
        streams.create_delivery_stream(name, dest())
    with pytest.raises(ResourceInUseError, match="already exists"):
        streams.create_delivery_stream("a", dest())
    page = streams.list_delivery_streams(limit=2)
    assert page == StreamPage(["a", "b"], has_more=True)
    assert streams.list_delivery_streams(exclusive_start_name="b").names == ["c"]
    streams.delete_delivery_stream("b")
    assert streams.list_delivery_streams().names == ["a", "c"]
    with pytest.raises(ResourceNotFoundError):
        streams.describe_delivery_stream("b")
    with pytest.raises(ResourceNotFoundError):
        streams.put_record("b", b"x")


def test_delete_delivers_buffered_records_first(streams: DeliveryStreams, lake: Lake) -> None:
    streams.create_delivery_stream("s", dest(Prefix="d/", ProcessingConfiguration=DELIM))
    streams.put("s", {"n": 1})
    streams.delete_delivery_stream("s")
    files = lake.storage.list_files("s3://lake/d/")
    assert [r for f in files for r in lines(lake, f.uri)] == [{"n": 1}]


def test_batch_limits(streams: DeliveryStreams) -> None:
    streams.create_delivery_stream("s", dest())
    with pytest.raises(ValidationError, match="less than or equal to 500"):
        streams.put_record_batch("s", [b"x"] * 501)
    with pytest.raises(ValidationError, match="1024000"):
        streams.put_record("s", b"x" * 1_024_001)
    resp = streams.put_record_batch("s", [b"a", b"b"])
    assert resp.failed_put_count == 0
    ids = [r.record_id for r in resp.records]
    assert len(set(ids)) == 2


def test_catalog_table_must_exist(streams: DeliveryStreams) -> None:
    with pytest.raises(EntityNotFoundError):
        streams.create_delivery_stream(
            "s",
            dest(CatalogTable={"DatabaseName": "default", "TableName": "missing"}),
        )


# -- delivery layout ----------------------------------------------------------------------


def test_default_prefix_layout_and_object_name(streams: DeliveryStreams, lake: Lake) -> None:
    streams.create_delivery_stream("clicks", dest(Prefix="raw/"))
    streams.put_record("clicks", b'{"a":1}')
    streams.put_record("clicks", b'{"a":2}')
    report = streams.flush("clicks")
    assert report.records == report.delivered == 2
    [uri] = report.objects
    assert re.fullmatch(
        r"s3://lake/raw/\d{4}/\d\d/\d\d/\d\d/" + NAME_RE.format(stream="clicks"), uri
    ), uri
    assert lake.storage.read_bytes(uri) == b'{"a":1}{"a":2}'  # Firehose adds no delimiter


def test_timestamp_and_random_string_expressions(streams: DeliveryStreams) -> None:
    streams.create_delivery_stream(
        "s",
        dest(
            Prefix="t/year=!{timestamp:yyyy}/month=!{timestamp:MM}/!{firehose:random-string}/",
            ErrorOutputPrefix="err/!{firehose:error-output-type}/",
        ),
    )
    streams.put("s", "x")
    [uri] = streams.flush("s").objects
    assert re.fullmatch(
        r"s3://lake/t/year=\d{4}/month=\d\d/[a-z0-9]{11}/" + NAME_RE.format(stream="s"), uri
    ), uri


def test_gzip_objects_get_gz_extension(streams: DeliveryStreams, lake: Lake) -> None:
    streams.create_delivery_stream(
        "s",
        dest(Prefix="g/", CompressionFormat="GZIP", ProcessingConfiguration=DELIM),
    )
    streams.put("s", {"k": "v"}, {"k": "w"})
    [uri] = streams.flush("s").objects
    assert uri.endswith(".gz")
    assert lines(lake, uri) == [{"k": "v"}, {"k": "w"}]


def test_interval_zero_delivers_on_every_put(streams: DeliveryStreams, lake: Lake) -> None:
    streams.create_delivery_stream(
        "s",
        dest(Prefix="i/", BufferingHints={"IntervalInSeconds": 0}),
    )
    streams.put("s", "a")
    streams.put("s", "b")
    assert len(lake.storage.list_files("s3://lake/i/")) == 2
    assert streams.flush("s").records == 0


def test_size_hint_triggers_delivery(streams: DeliveryStreams, lake: Lake) -> None:
    streams.create_delivery_stream("s", dest(Prefix="z/", BufferingHints={"SizeInMBs": 1}))
    streams.put("s", b"x" * 600_000)
    assert lake.storage.list_files("s3://lake/z/") == []
    streams.put("s", b"y" * 600_000)
    [f] = lake.storage.list_files("s3://lake/z/")
    assert f.size == 1_200_000


def test_size_hint_counts_record_bytes_not_log_overhead(
    streams: DeliveryStreams, lake: Lake
) -> None:
    streams.create_delivery_stream("s", dest(Prefix="z/", BufferingHints={"SizeInMBs": 1}))
    small = [b"%019d\n" % i for i in range(40_000)]  # 800,000 bytes, twice that in the log
    streams.put("s", *small)
    assert lake.storage.list_files("s3://lake/z/") == []
    streams.put("s", *small[:15_000])  # 1,100,000 bytes in all: over 1 MiB
    [f] = lake.storage.list_files("s3://lake/z/")
    assert 1024 * 1024 <= f.size < 1024 * 1024 + 500 * 20  # by the batch that crossed it
    assert streams.buffer_status("s").bytes == 55_000 * 20 - f.size


def test_source_record_backup(streams: DeliveryStreams, lake: Lake) -> None:
    register_transform("upper", _upper)
    try:
        streams.create_delivery_stream(
            "s",
            dest(
                Prefix="out/",
                S3BackupMode="Enabled",
                S3BackupConfiguration={"BucketARN": "arn:aws:s3:::backup", "Prefix": "src/"},
                ProcessingConfiguration=_lambda("upper"),
            ),
        )
        streams.put("s", "abc")
        streams.flush("s")
    finally:
        unregister_transform("upper")
    [b] = lake.storage.list_files("s3://backup/src/")
    [o] = lake.storage.list_files("s3://lake/out/")
    assert lake.storage.read_bytes(b.uri) == b"abc"
    assert lake.storage.read_bytes(o.uri) == b"ABC"


# -- transforms ---------------------------------------------------------------------------


def _lambda(name: str, retries: int | None = None) -> dict[str, Any]:
    params = [
        {
            "ParameterName": "LambdaArn",
            "ParameterValue": f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        }
    ]
    if retries is not None:
        params.append({"ParameterName": "NumberOfRetries", "ParameterValue": str(retries)})
    return {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": params}]}


def _upper(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "records": [
            {
                "recordId": r["recordId"],
                "result": "Ok",
                "data": base64.b64encode(base64.b64decode(r["data"]).upper()).decode(),
            }
            for r in event["records"]
        ]
    }


def _judge(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Ok for 'keep', Dropped for 'drop', ProcessingFailed for anything else."""
    out = []
    for r in event["records"]:
        text = base64.b64decode(r["data"]).decode()
        result = {"keep": "Ok", "drop": "Dropped"}.get(text, "ProcessingFailed")
        out.append(
            {
                "recordId": r["recordId"],
                "result": result,
                "data": base64.b64encode(f"{text}\n".encode()).decode(),
            }
        )
    return {"records": out}


def test_transform_results_ok_dropped_failed(streams: DeliveryStreams, lake: Lake) -> None:
    register_transform("judge", _judge)
    try:
        streams.create_delivery_stream(
            "s",
            dest(Prefix="ok/", ProcessingConfiguration=_lambda("judge")),
        )
        streams.put("s", "keep", "drop", "bad", "keep")
        report = streams.flush("s")
    finally:
        unregister_transform("judge")
    assert (report.delivered, report.dropped, report.failed) == (2, 1, 1)
    [uri] = report.objects
    assert lake.storage.read_bytes(uri) == b"keep\nkeep\n"
    [err] = report.error_objects
    assert err.startswith("s3://lake/processing-failed/")
    [rec] = lines(lake, err)
    assert base64.b64decode(rec["rawData"]) == b"bad"
    assert rec["errorCode"] == "Lambda.ProcessingFailed"
    assert rec["lambdaArn"].endswith(":function:judge")
    assert {"attemptsMade", "arrivalTimestamp", "errorMessage", "attemptEndingTimestamp"} <= set(
        rec
    )


def _broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("boom")


def test_failing_transform_sends_every_record_to_error_prefix_after_retries(
    streams: DeliveryStreams, lake: Lake
) -> None:
    register_transform("broken", _broken)
    try:
        streams.create_delivery_stream(
            "s",
            dest(
                Prefix="p/",
                ErrorOutputPrefix="errors/!{firehose:error-output-type}/",
                ProcessingConfiguration=_lambda("broken", retries=2),
            ),
        )
        streams.put("s", "a", "b")
        report = streams.flush("s")
    finally:
        unregister_transform("broken")
    assert report.objects == []
    [err] = report.error_objects
    assert err.startswith("s3://lake/errors/processing-failed/")
    recs = lines(lake, err)
    assert [base64.b64decode(r["rawData"]) for r in recs] == [b"a", b"b"]
    assert {r["attemptsMade"] for r in recs} == {3}
    assert all("boom" in r["errorMessage"] for r in recs)
    assert streams.flush("s").records == 0  # the stream goes on


def test_builtin_flatten_transform(streams: DeliveryStreams, lake: Lake) -> None:
    streams.create_delivery_stream(
        "s",
        dest(Prefix="f/", ProcessingConfiguration=_lambda(FLATTEN_JSON)),
    )
    streams.put("s", {"a": {"b": 1, "c": {"d": "x"}}, "e": [1, {"f": 2}], "g": {}}, "[1]")
    report = streams.flush("s")
    [uri] = report.objects
    assert lines(lake, uri) == [{"a_b": 1, "a_c_d": "x", "e": [1, {"f": 2}], "g": {}}]
    assert report.failed == 1


def test_transform_by_import_path(streams: DeliveryStreams, lake: Lake) -> None:
    streams.create_delivery_stream(
        "s",
        dest(
            Prefix="m/",
            ProcessingConfiguration={
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "Lambda",
                        "Parameters": [
                            {"ParameterName": "LambdaArn", "ParameterValue": f"{__name__}:_upper"}
                        ],
                    }
                ],
            },
        ),
    )
    streams.put("s", "hi")
    [uri] = streams.flush("s").objects
    assert lake.storage.read_bytes(uri) == b"HI"


# -- dynamic partitioning and conversion ------------------------------------------------------


def _dynamic(query: str, prefix: str, **extra: Any) -> dict[str, Any]:
    return dest(
        Prefix=prefix,
        ErrorOutputPrefix="err/!{firehose:error-output-type}/",
        DynamicPartitioningConfiguration={"Enabled": True},
        ProcessingConfiguration={
            "Enabled": True,
            "Processors": [
                {
                    "Type": "MetadataExtraction",
                    "Parameters": [
                        {"ParameterName": "MetadataExtractionQuery", "ParameterValue": query},
                        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                    ],
                },
                {"Type": "AppendDelimiterToRecord", "Parameters": []},
            ],
        },
        **extra,
    )


def test_dynamic_partitioning_with_jq_registers_partitions(
    streams: DeliveryStreams, lake: Lake, make_table: TableMaker
) -> None:
    from .conftest import JSON

    make_table(
        "events",
        [("n", "int")],
        "s3://lake/events/",
        JSON,
        partition_keys=[("customer", "string"), ("year", "string")],
    )
    streams.create_delivery_stream(
        "s",
        _dynamic(
            "{customer: .c.id, year: .ts[0:4]}",
            "events/customer=!{partitionKeyFromQuery:customer}/year=!{partitionKeyFromQuery:year}/",
            CatalogTable={"DatabaseName": "default", "TableName": "events"},
        ),
    )
    streams.put(
        "s",
        {"n": 1, "c": {"id": "acme"}, "ts": "2024-05-01"},
        {"n": 2, "c": {"id": "zen"}, "ts": "2023-01-01"},
        {"n": 3, "c": {"id": "acme"}, "ts": "2024-06-01"},
        {"n": 4, "ts": "2024"},
        "{broken",
    )
    report = streams.flush("s")
    assert report.delivered == 3 and report.failed == 2
    parts = {tuple(p.values): p.location for p in lake.catalog.get_partitions("default", "events")}
    assert parts == {
        ("acme", "2024"): "s3://lake/events/customer=acme/year=2024/",
        ("zen", "2023"): "s3://lake/events/customer=zen/year=2023/",
    }
    acme = lake.storage.list_files("s3://lake/events/customer=acme/")
    assert [r["n"] for f in acme for r in lines(lake, f.uri)] == [1, 3]
    [err] = report.error_objects
    assert err.startswith("s3://lake/err/partitioning-failed/")
    assert len(lines(lake, err)) == 2


def test_default_time_layout_maps_to_partition_keys_by_position(
    streams: DeliveryStreams, lake: Lake, make_table: TableMaker
) -> None:
    from .conftest import JSON

    make_table(
        "logs",
        [("m", "string")],
        "s3://lake/logs/",
        JSON,
        partition_keys=[
            ("year", "string"),
            ("month", "string"),
            ("day", "string"),
            ("hour", "string"),
        ],
    )
    streams.create_delivery_stream(
        "s",
        dest(Prefix="logs/", CatalogTable={"DatabaseName": "default", "TableName": "logs"}),
    )
    streams.put("s", {"m": "x"})
    [uri] = streams.flush("s").objects
    [part] = lake.catalog.get_partitions("default", "logs")
    assert uri.startswith(part.location)
    assert part.location == "s3://lake/logs/" + "/".join(part.values) + "/"
    assert len(part.values[0]) == 4


@pytest.mark.parametrize("fmt", ["PARQUET", "ORC"])
def test_record_format_conversion_keeps_values_and_types(
    streams: DeliveryStreams, lake: Lake, make_table: TableMaker, fmt: str
) -> None:
    make_table(
        "typed",
        [
            ("id", "bigint"),
            ("amount", "decimal(38,0)"),
            ("price", "decimal(10,2)"),
            ("name", "string"),
            ("ok", "boolean"),
            ("ts", "timestamp"),
            ("tags", "array<string>"),
            ("attrs", "struct<color:string,size:int>"),
        ],
        "s3://lake/typed/",
        PARQUET if fmt == "PARQUET" else ORC,
    )
    serializer = {"ParquetSerDe": {}} if fmt == "PARQUET" else {"OrcSerDe": {}}
    streams.create_delivery_stream(
        "s",
        dest(
            Prefix="typed/",
            ErrorOutputPrefix="bad/!{firehose:error-output-type}/",
            DataFormatConversionConfiguration={
                "Enabled": True,
                "SchemaConfiguration": {"DatabaseName": "default", "TableName": "typed"},
                "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
                "OutputFormatConfiguration": {"Serializer": serializer},
            },
        ),
    )
    big = "12345678901234567890123456789012345678"
    streams.put(
        "s",
        f'{{"ID": 1, "amount": {big}, "price": 12.30, "name": "a", "ok": true, '
        f'"ts": "2024-01-02T03:04:05Z", "tags": ["x", "y"], '
        f'"attrs": {{"Color": "red", "size": 3}}}}',
        '{"id": 2}',
        '{"id": "not a number"}',
        "not json",
    )
    report = streams.flush("s")
    [uri] = report.objects
    data = lake.storage.read_bytes(uri)
    table = (
        pq.read_table(io.BytesIO(data)) if fmt == "PARQUET" else orc.read_table(io.BytesIO(data))
    )
    rows = table.to_pylist()
    assert rows[0]["id"] == 1 and rows[0]["amount"] == decimal.Decimal(big)
    assert rows[0]["price"] == decimal.Decimal("12.30")
    assert rows[0]["tags"] == ["x", "y"] and rows[0]["attrs"] == {"color": "red", "size": 3}
    assert str(rows[0]["ts"])[:19] == "2024-01-02 03:04:05"
    assert rows[1] == {
        "id": 2,
        "amount": None,
        "price": None,
        "name": None,
        "ok": None,
        "ts": None,
        "tags": None,
        "attrs": None,
    }
    [err] = report.error_objects
    assert err.startswith("s3://lake/bad/format-conversion-failed/")
    recs = lines(lake, err)
    assert [base64.b64decode(r["rawData"]) for r in recs] == [
        b'{"id": "not a number"}',
        b"not json",
    ]
    assert recs[0]["errorCode"].startswith("DataFormatConversion.")
    assert "'id'" in recs[0]["errorMessage"]
    assert recs[0]["dataCatalogTableArn"].endswith("table/default/typed")


# -- queried through Athena SQL right after delivery --------------------------------------------


@pytest.mark.parametrize("stored", ["PARQUET", "ORC"])
def test_converted_stream_is_queryable_with_exact_values(
    streams: DeliveryStreams, session: Session, stored: str
) -> None:
    session.sql(f"""CREATE EXTERNAL TABLE orders (id bigint, amount decimal(38,0),
        price decimal(10,2), name string, placed timestamp)
        PARTITIONED BY (region string) STORED AS {stored} LOCATION 's3://lake/orders/'""")
    serializer = {"ParquetSerDe": {}} if stored == "PARQUET" else {"OrcSerDe": {}}
    streams.create_delivery_stream(
        "orders",
        _dynamic(
            "{region: .region}",
            "orders/region=!{partitionKeyFromQuery:region}/",
            DataFormatConversionConfiguration={
                "Enabled": True,
                "SchemaConfiguration": {"DatabaseName": "default", "TableName": "orders"},
                "OutputFormatConfiguration": {"Serializer": serializer},
            },
        ),
    )
    big = "98765432109876543210987654321098765432"
    streams.put(
        "orders",
        f'{{"id": 1, "amount": {big}, "price": 1.50, "name": "a", '
        f'"placed": "2024-03-04 05:06:07", "region": "eu"}}',
        '{"id": 2, "amount": -7, "name": "b", "region": "us"}',
        "garbage",
    )
    report = streams.flush("orders")
    assert report.failed == 1
    result = session.sql("SELECT id, amount, price, name, placed, region FROM orders ORDER BY id")
    assert result.fetchall() == [
        (
            1,
            decimal.Decimal(big),
            decimal.Decimal("1.50"),
            "a",
            dt.datetime(2024, 3, 4, 5, 6, 7),
            "eu",
        ),
        (2, decimal.Decimal(-7), None, "b", None, "us"),
    ]
    assert result.types == [
        "bigint",
        "decimal(38,0)",
        "decimal(10,2)",
        "varchar",
        "timestamp",
        "varchar",
    ]
    assert session.sql("SELECT count(*) FROM orders WHERE region = 'us'").fetchall() == [(1,)]


def test_json_stream_is_queryable_with_openx_serde(
    streams: DeliveryStreams, session: Session
) -> None:
    session.sql("""CREATE EXTERNAL TABLE clicks (page string, n int)
        ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
        LOCATION 's3://lake/clicks/'""")
    streams.create_delivery_stream(
        "clicks",
        dest(Prefix="clicks/", CompressionFormat="GZIP", ProcessingConfiguration=DELIM),
    )
    streams.put("clicks", {"page": "/", "n": 1}, {"page": "/a", "n": 2})
    streams.flush("clicks")
    assert session.sql("SELECT page, n FROM clicks ORDER BY n").fetchall() == [("/", 1), ("/a", 2)]


def _route(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Routes each record by its 'team' field through Lambda partition keys."""
    out = []
    for r in event["records"]:
        doc = json.loads(base64.b64decode(r["data"]))
        out.append(
            {
                "recordId": r["recordId"],
                "result": "Ok",
                "data": base64.b64encode(json.dumps(doc).encode() + b"\n").decode(),
                "metadata": {"partitionKeys": {"team": doc["team"]}},
            }
        )
    return {"records": out}


def test_partition_keys_from_lambda(streams: DeliveryStreams, lake: Lake) -> None:
    register_transform("route", _route)
    try:
        streams.create_delivery_stream(
            "s",
            dest(
                Prefix="t/team=!{partitionKeyFromLambda:team}/",
                ErrorOutputPrefix="e/",
                DynamicPartitioningConfiguration={"Enabled": True},
                ProcessingConfiguration=_lambda("route"),
            ),
        )
        streams.put("s", {"team": "red", "n": 1}, {"team": "blue", "n": 2}, {"team": "red", "n": 3})
        report = streams.flush("s")
    finally:
        unregister_transform("route")
    assert sorted(u.split("/")[4] for u in report.objects) == ["team=blue", "team=red"]
    red = lake.storage.list_files("s3://lake/t/team=red/")
    assert [r["n"] for f in red for r in lines(lake, f.uri)] == [1, 3]


def test_stream_on_s3_storage(s3_config: Any, bucket: str) -> None:
    from lakebox.session import Lake as LakeCls

    lake = LakeCls(s3_config)
    try:
        streams = DeliveryStreams(lake)
        streams.create_delivery_stream(
            "s",
            {
                "BucketARN": f"arn:aws:s3:::{bucket}",
                "Prefix": "p/",
                "ProcessingConfiguration": DELIM,
            },
        )
        lake.storage.ensure_bucket(bucket)
        streams.put("s", {"a": 1})
        [uri] = streams.flush("s").objects
        assert uri.startswith(f"s3://{bucket}/p/")
        assert lines(lake, uri) == [{"a": 1}]
    finally:
        lake.close()


def test_recreated_stream_starts_fresh(streams: DeliveryStreams, lake: Lake) -> None:
    streams.create_delivery_stream("s", dest(Prefix="one/"))
    streams.put("s", "a", "b")
    streams.delete_delivery_stream("s")
    streams.create_delivery_stream("s", dest(Prefix="two/"))
    streams.put("s", "c")
    report = streams.flush("s")
    assert report.records == 1
    [uri] = report.objects
    assert uri.startswith("s3://lake/two/") and lake.storage.read_bytes(uri) == b"c"


def test_update_destination_bumps_version_and_checks_it(
    streams: DeliveryStreams, lake: Lake
) -> None:
    from lakebox.errors import ConcurrentModificationError

    streams.create_delivery_stream("s", dest(Prefix="v1/"))
    streams.put("s", "old")
    streams.update_destination("s", "1", {"Prefix": "v2/"})
    [old] = lake.storage.list_files("s3://lake/v1/")
    assert re.search(r"/s-1-\d{4}-", old.uri) and lake.storage.read_bytes(old.uri) == b"old"
    streams.put("s", "new")
    [uri] = streams.flush("s").objects
    assert re.search(r"^s3://lake/v2/.*/s-2-\d{4}-", uri)
    assert streams.describe_delivery_stream("s").version_id == "2"
    with pytest.raises(ConcurrentModificationError, match="do not match"):
        streams.update_destination("s", "1", {"Prefix": "v3/"})
    with pytest.raises(ValidationError):
        streams.update_destination("s", "2", {"BufferingHints": {"SizeInMBs": 500}})


def test_dropped_schema_table_sends_records_to_error_prefix(
    streams: DeliveryStreams, lake: Lake, make_table: TableMaker
) -> None:
    make_table("gone", [("id", "int")], "s3://lake/gone/")
    streams.create_delivery_stream(
        "s",
        dest(
            Prefix="gone/",
            DataFormatConversionConfiguration={
                "Enabled": True,
                "SchemaConfiguration": {"DatabaseName": "default", "TableName": "gone"},
            },
        ),
    )
    lake.catalog.drop_table("default", "gone")
    streams.put("s", {"id": 1})
    report = streams.flush("s")
    assert report.objects == [] and report.failed == 1
    [err] = report.error_objects
    assert err.startswith("s3://lake/format-conversion-failed/")
    assert lines(lake, err)[0]["errorCode"] == "DataFormatConversion.InvalidSchema"
    assert streams.flush("s").records == 0


def test_failed_delivery_does_not_fail_the_put_and_is_retried(
    streams: DeliveryStreams, lake: Lake, lake_home: Path
) -> None:
    streams.create_delivery_stream(
        "s",
        dest(Prefix="r/", BufferingHints={"IntervalInSeconds": 0}),
    )
    (lake_home / "lake").write_text("a file where the bucket folder should be")
    assert streams.put_record("s", b"kept")
    assert streams.last_delivery_error is not None
    (lake_home / "lake").unlink()
    report = streams.flush("s")
    assert report.records == 1
    [uri] = report.objects
    assert lake.storage.read_bytes(uri) == b"kept"


# -- what a put reports and when its records land ---------------------------------------


def test_batch_with_an_oversized_record_fails_whole_and_stores_nothing(
    streams: DeliveryStreams,
) -> None:
    streams.create_delivery_stream("s", dest())
    records = [b"ok", b"x" * 1_024_001, b"ok"]
    with pytest.raises(ValidationError, match=r"'records\.2\.member\.data'.*1024000"):
        streams.put_record_batch("s", records)
    with pytest.raises(ValidationError, match="1024000"):
        streams.put("s", *[b"ok"] * 600, b"x" * 1_024_001)  # checked before any chunk
    assert streams.buffer_status("s").records == 0


def test_unwritable_log_fails_each_record_and_keeps_nothing(
    streams: DeliveryStreams, lake: Lake, lake_home: Path
) -> None:
    streams.create_delivery_stream("s", dest(Prefix="u/"))
    streams.put("s", b"a")
    assert streams.flush("s").records == 1
    log_dir = lake_home / "_lakebox" / "streams" / "s" / "wal"
    log_dir.rmdir()
    log_dir.write_text("a file where the log folder should be")
    resp = streams.put_record_batch("s", [b"b", b"c"])
    assert resp.failed_put_count == 2
    assert [r.error_code for r in resp.records] == ["ServiceUnavailableException"] * 2
    assert all(r.record_id is None for r in resp.records)
    with pytest.raises(LakeboxError, match="safe to send it again") as err:
        streams.put_record("s", b"d")
    assert err.value.code == "ServiceUnavailableException"
    log_dir.unlink()
    log_dir.mkdir()
    streams.put("s", b"e")
    assert streams.flush("s").records == 1
    got = sorted(lake.storage.read_bytes(f.uri) for f in lake.storage.list_files("s3://lake/u/"))
    assert got == [b"a", b"e"]


def test_buffer_status_says_when_the_interval_makes_it_due(streams: DeliveryStreams) -> None:
    streams.create_delivery_stream("s", dest(BufferingHints={"IntervalInSeconds": 120}))
    assert streams.buffer_status("s").due_at is None
    before = dt.datetime.now(dt.UTC)
    streams.put("s", b"abc", b"de")
    status = streams.buffer_status("s")
    after = dt.datetime.now(dt.UTC)
    assert (status.records, status.bytes, status.interval_s, status.size_mb) == (2, 5, 120, 5)
    assert status.due_at is not None
    assert before + dt.timedelta(seconds=119) <= status.due_at <= after + dt.timedelta(seconds=121)
    assert streams.describe_delivery_stream("s").delivery_due_at == status.due_at


def test_wait_delivered_honours_the_interval(streams: DeliveryStreams, lake: Lake) -> None:
    streams.create_delivery_stream(
        "s",
        dest(Prefix="w/", BufferingHints={"IntervalInSeconds": 1}),
    )
    ids = streams.put("s", b"a", b"b")
    assert lake.storage.list_files("s3://lake/w/") == []
    oldest = streams.buffer_status("s").oldest_arrival_ms
    assert oldest is not None
    assert streams.wait_delivered("s", ids, timeout=30)
    assert time.time() * 1000 >= oldest + 1000  # not before it was due
    [f] = lake.storage.list_files("s3://lake/w/")
    assert lake.storage.read_bytes(f.uri) == b"ab"


def test_wait_delivered_gives_up_at_the_timeout_and_keeps_the_records(
    streams: DeliveryStreams,
) -> None:
    streams.create_delivery_stream("s", dest(BufferingHints={"IntervalInSeconds": 900}))
    ids = streams.put("s", b"a")
    started = time.monotonic()
    assert not streams.wait_delivered("s", ids, timeout=0.3, poll=0.05)
    assert time.monotonic() - started < 5
    assert streams.buffer_status("s").records == 1


def test_ticker_delivers_due_buffers_of_puts_made_elsewhere(
    streams: DeliveryStreams, lake: Lake
) -> None:
    streams.create_delivery_stream(
        "t",
        dest(Prefix="t/", BufferingHints={"IntervalInSeconds": 1}),
    )
    streams.create_delivery_stream("slow", dest(Prefix="slow/"))
    DeliveryStreams(lake).put("t", b"x")  # another instance, as another process would
    streams.put("slow", b"y")
    delivered: list[tuple[str, int]] = []
    with DeliveryTicker(
        streams, poll=0.05, on_delivery=lambda n, r: delivered.append((n, r.records))
    ):
        deadline = time.monotonic() + 30
        while not delivered and time.monotonic() < deadline:
            time.sleep(0.05)
    assert delivered == [("t", 1)]
    assert len(lake.storage.list_files("s3://lake/t/")) == 1
    assert streams.buffer_status("slow").records == 1  # its 300 s are not over


def test_ticker_reports_a_failing_stream_once_and_delivers_the_others(
    streams: DeliveryStreams, lake: Lake, lake_home: Path
) -> None:
    streams.create_delivery_stream(
        "bad",
        {
            "BucketARN": "arn:aws:s3:::blocked",
            "BufferingHints": {"IntervalInSeconds": 0},
        },
    )
    streams.create_delivery_stream(
        "good",
        dest(Prefix="g/", BufferingHints={"IntervalInSeconds": 1}),
    )
    (lake_home / "blocked").write_text("a file where the bucket folder should be")
    streams.put("bad", b"kept")  # its delivery at put time fails; the put does not
    streams.put("good", b"z")
    time.sleep(1.1)
    errors: list[str] = []
    ticker = DeliveryTicker(streams, poll=0, on_error=lambda n, e: errors.append(n))
    assert list(ticker.tick()) == ["good"]
    assert ticker.tick() == {}
    assert errors == ["bad"]
    assert len(lake.storage.list_files("s3://lake/g/")) == 1
    (lake_home / "blocked").unlink()
    assert ticker.tick()["bad"].records == 1


# -- the vectorised delivery agrees with the record-by-record one ------------------------------


def _keyed(record: bytes, key: bytes) -> bytes:
    """``record`` with the partition key ``"k": key`` in front, when it is an object."""
    if not record.startswith(b"{"):
        return record
    rest = record[1:]
    return b'{"k": ' + key + (b"" if rest.lstrip().startswith(b"}") else b", ") + rest


def _corpus() -> list[bytes]:
    from .test_convert import PROVABLE, TRICKY

    keys = [b'"a"', b'"b"', b'"a"', b"5", b"null", b'".."', b'"b"']
    out = [_keyed(r, keys[n % len(keys)]) for n, r in enumerate(PROVABLE + TRICKY)]
    good = [_keyed(r, b'"a"' if n % 2 else b'"b"') for n, r in enumerate(PROVABLE)]
    return good * 40 + out + good * 40 + [b'{"i": 3}']  # the last one has no key


def _outcome(lake: Lake, report: Any, root: str, parquet: bool) -> tuple[Any, Any]:
    """(delivered content by prefix below ``root``, error records without ids and times)."""
    delivered: dict[str, list[Any]] = {}
    for uri in report.objects:
        prefix = uri.rsplit("/", 1)[0].removeprefix(f"s3://lake/{root}/")
        data = lake.storage.read_bytes(uri)
        rows = pq.read_table(io.BytesIO(data)).to_pylist() if parquet else data.splitlines()
        delivered.setdefault(prefix, []).extend(rows)
    errors = sorted(
        (r["errorCode"], r["errorMessage"], r["rawData"])
        for uri in report.error_objects
        for r in lines(lake, uri)
    )
    return repr(delivered), errors


@pytest.mark.parametrize("parquet", [True, False])
def test_vectorised_delivery_equals_record_by_record_delivery(
    streams: DeliveryStreams,
    lake: Lake,
    make_table: TableMaker,
    monkeypatch: pytest.MonkeyPatch,
    parquet: bool,
) -> None:
    from lakebox.ingest import streams as module

    from .test_convert import VECTOR_COLUMNS

    make_table("wide", [(c.name, c.type) for c in VECTOR_COLUMNS], "s3://lake/wide/")
    conversion = {
        "Enabled": True,
        "SchemaConfiguration": {"DatabaseName": "default", "TableName": "wide"},
        "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}},
    }
    monkeypatch.setattr(module._Delivery, "SPLIT_MIN", 16)  # split small batches too
    one_by_one: list[int] = []
    original = module._Delivery._one_by_one

    def counting(self: Any, items: list[Any], groups: Any) -> None:
        one_by_one.append(len(items))
        original(self, items, groups)

    monkeypatch.setattr(module._Delivery, "_one_by_one", counting)
    records = _corpus()
    outcomes = []
    for root, vectorised in (("vec", True), ("rec", False)):
        extra = {"DataFormatConversionConfiguration": conversion} if parquet else {}
        streams.create_delivery_stream(
            root, _dynamic("{k: .k}", f"{root}/k=!{{partitionKeyFromQuery:k}}/", **extra)
        )
        if not vectorised:
            monkeypatch.setattr(module, "read_records", lambda *args: None)
        one_by_one.clear()
        streams.put(root, *records)
        report = streams.flush(root)
        assert report.records == len(records)
        outcomes.append(_outcome(lake, report, root, parquet))
        if vectorised:  # the good records (most of them) went through Arrow
            assert sum(one_by_one) < len(records) // 4
        else:
            assert sum(one_by_one) == len(records)
    assert outcomes[0] == outcomes[1]
    assert "k=a" in outcomes[0][0] and outcomes[0][1]  # delivered and failed records


def test_simple_jq_queries_are_read_as_paths() -> None:
    from lakebox.ingest.streams import simple_query_paths

    assert simple_query_paths('{k: .k, "y m": .a.b_2}') == {"k": ("k",), "y m": ("a", "b_2")}
    assert simple_query_paths("{k: .a, k: .b}") == {"k": ("b",)}  # the last one, as in jq
    for other in ["{k: .a[0]}", "{k: .a | ascii}", ".a", "{k: .if}", "{if: .a}", "{}", "{k}"]:
        assert simple_query_paths(other) is None


def test_empty_records_are_delivered_as_an_empty_object(
    streams: DeliveryStreams, lake: Lake
) -> None:
    streams.create_delivery_stream("s", dest(Prefix="e/"))
    streams.put("s", b"", b"")
    report = streams.flush("s")
    assert report.delivered == 2
    [uri] = report.objects
    assert lake.storage.read_bytes(uri) == b""


def test_records_are_grouped_by_every_key_without_mixing_their_values() -> None:
    # five keys of 7,000 values each: 7000**5 is past a 64-bit integer, so a grouping
    # that folds the keys' value numbers into one number would put records under
    # another partition's prefix
    import pyarrow as pa

    from lakebox.ingest.streams import _group_rows

    count = 7_000
    names = ["a", "b", "c", "d", "e"]
    values = [
        pa.array([f"{n}{(i * (k + 1)) % count}" for i in range(count)]) for k, n in enumerate(names)
    ]
    values.append(values[0])  # a sixth key repeating the first adds no group
    order, groups = _group_rows([*names, "f"], values, count)
    assert len(groups) == count
    rows = {int(i): g for g, (_pairs, start, end) in enumerate(groups) for i in order[start:end]}
    for i in range(0, count, 97):
        pairs = dict(groups[rows[i]][0])
        assert pairs == {
            **{n: f"{n}{(i * (k + 1)) % count}" for k, n in enumerate(names)},
            "f": f"a{i % count}",
        }
