"""DynamoDB-style table exports: layout, formats, sources, incremental diffs, failures."""

from __future__ import annotations

import base64
import decimal
import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from amazon.ion import simpleion

from lakebox.api import dynamodb as dynamodb_api
from lakebox.api.context import ServiceContext
from lakebox.ingest.errors import ExportNotFoundError, ValidationError
from lakebox.ingest.exports import ExportDescription, IncrementalExport, TableExports
from lakebox.session import Lake, Session

from .conftest import unique

# The tests below speak DynamoDB's request and response shapes, through the API layer's
# handlers (lakebox errors pass through them unchanged); TableExports' typed methods answer
# dataclasses (see test_typed_methods_answer_dataclasses).


def aws(exports: TableExports) -> ServiceContext:
    return ServiceContext(services={"exports": exports})


def aws_export(exports: TableExports, request: dict[str, Any]) -> dict[str, Any]:
    return dynamodb_api.export_table_to_point_in_time(request, aws(exports))


def describe_export(lake: Lake, request: dict[str, Any]) -> dict[str, Any]:
    return dynamodb_api.describe_export(request, aws(TableExports(lake)))


def list_exports(lake: Lake, request: dict[str, Any]) -> dict[str, Any]:
    return dynamodb_api.list_exports(request, aws(TableExports(lake)))


BIG = "12345678901234567890123456789012345678"
ITEMS = [
    {
        "id": 1,
        "name": "alpha",
        "amount": decimal.Decimal(BIG),
        "price": decimal.Decimal("9.99"),
        "ok": True,
        "tags": ["x", "y"],
        "attrs": {"color": "red"},
    },
    {
        "id": 2,
        "name": "beta",
        "amount": decimal.Decimal("-5"),
        "price": decimal.Decimal("0.5"),
        "ok": False,
        "tags": [],
        "attrs": {"color": "blue"},
    },
    {"id": 3, "name": None},
]


def _dumps(value: Any) -> str:
    """JSON with Decimals written as numbers, digit for digit."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dumps(v) for v in value) + "]"
    return json.dumps(value)


def write_jsonl(path: Path, items: list[dict[str, Any]]) -> str:
    path.write_text("".join(_dumps(i) + "\n" for i in items))
    return str(path)


def _data_lines(lake: Lake, bucket: str, key: str) -> list[Any]:
    body = gzip.decompress(lake.storage.read_bytes(f"s3://{bucket}/{key}"))
    if key.endswith(".ion.gz"):
        return list(simpleion.loads(body, single_value=False))
    return [json.loads(x) for x in body.decode().splitlines()]


def exported(lake: Lake, desc: dict[str, Any]) -> list[Any]:
    bucket = desc["S3Bucket"]
    summary = json.loads(lake.storage.read_bytes(f"s3://{bucket}/{desc['ExportManifest']}"))
    files = lake.storage.read_bytes(f"s3://{bucket}/{summary['manifestFilesS3Key']}")
    out = []
    for line in files.decode().splitlines():
        entry = json.loads(line)
        out.extend(_data_lines(lake, bucket, entry["dataFileS3Key"]))
    return out


@pytest.fixture(autouse=True)
def _sources_in_tmp_path_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests keep their JSON-lines source tables in tmp_path, outside the lake: allow
    that folder (LAKEBOX_ALLOWED_PATHS) before the lake is opened."""
    monkeypatch.setenv("LAKEBOX_ALLOWED_PATHS", str(tmp_path))


@pytest.fixture
def exports(lake: Lake) -> TableExports:
    return TableExports(lake)


def test_full_export_layout_in_dynamodb_json(
    exports: TableExports, lake: Lake, tmp_path: Path
) -> None:
    src = write_jsonl(tmp_path / "items.jsonl", ITEMS)
    desc = aws_export(exports, {"TableArn": src, "S3Bucket": "exp", "S3Prefix": "ddb/orders"})[
        "ExportDescription"
    ]
    assert desc["ExportStatus"] == "COMPLETED"
    assert desc["ItemCount"] == 3 and desc["BilledSizeBytes"] > 0
    assert desc["ExportFormat"] == "DYNAMODB_JSON" and desc["ExportType"] == "FULL_EXPORT"
    export_id = desc["ExportArn"].rsplit("/", 1)[-1]
    assert desc["ExportArn"].startswith("arn:aws:dynamodb:")
    folder = f"s3://exp/ddb/orders/AWSDynamoDB/{export_id}/"
    names = {f.uri[len(folder) :] for f in lake.storage.list_files(folder, include_hidden=True)}
    assert {"_started", "manifest-summary.json", "manifest-files.json"} <= names
    summary = json.loads(lake.storage.read_bytes(folder + "manifest-summary.json"))
    assert summary["itemCount"] == 3 and summary["outputFormat"] == "DYNAMODB_JSON"
    assert summary["exportArn"] == desc["ExportArn"]
    assert (
        summary["manifestFilesS3Key"] == f"ddb/orders/AWSDynamoDB/{export_id}/manifest-files.json"
    )
    [entry] = [
        json.loads(x)
        for x in lake.storage.read_bytes(folder + "manifest-files.json").decode().splitlines()
    ]
    body = lake.storage.read_bytes(f"s3://exp/{entry['dataFileS3Key']}")
    assert entry["itemCount"] == 3
    assert entry["md5Checksum"] == base64.b64encode(hashlib.md5(body).digest()).decode()
    assert entry["etag"] == hashlib.md5(body).hexdigest()
    assert entry["dataFileS3Key"].endswith(".json.gz") and "/data/" in entry["dataFileS3Key"]
    items = exported(lake, desc)
    assert items[0] == {
        "Item": {
            "id": {"N": "1"},
            "name": {"S": "alpha"},
            "amount": {"N": BIG},
            "price": {"N": "9.99"},
            "ok": {"BOOL": True},
            "tags": {"L": [{"S": "x"}, {"S": "y"}]},
            "attrs": {"M": {"color": {"S": "red"}}},
        }
    }
    assert items[2] == {"Item": {"id": {"N": "3"}, "name": {"NULL": True}}}


def test_ion_export_uses_decimals_and_annotated_sets(
    exports: TableExports, lake: Lake, tmp_path: Path
) -> None:
    typed = [
        {
            "Item": {
                "id": {"N": BIG},
                "s": {"SS": ["a", "b"]},
                "n": {"NS": ["1", "2.5"]},
                "b": {"B": base64.b64encode(b"\x00\x01").decode()},
            }
        }
    ]
    src = write_jsonl(tmp_path / "typed.jsonl", typed)
    desc = aws_export(exports, {"TableArn": src, "S3Bucket": "exp", "ExportFormat": "ION"})[
        "ExportDescription"
    ]
    assert desc["ExportManifest"].startswith("AWSDynamoDB/")
    [value] = exported(lake, desc)
    item = value["Item"]
    assert item["id"] == decimal.Decimal(BIG) and isinstance(item["id"], decimal.Decimal)
    assert item["s"].ion_annotations[0].text == "$dynamodb_SS"
    assert item["n"].ion_annotations[0].text == "$dynamodb_NS"
    assert list(item["n"]) == [decimal.Decimal("1"), decimal.Decimal("2.5")]
    assert bytes(item["b"]) == b"\x00\x01"


@pytest.fixture
def ddb_table(dynamodb_endpoint: str, aws_env: None) -> Iterator[tuple[Any, str]]:
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    name = unique("orders")
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
    )
    try:
        yield client, name
    finally:
        client.delete_table(TableName=name)


def test_export_from_dynamodb_server(
    lake: Lake, ddb_table: tuple[Any, str], dynamodb_endpoint: str
) -> None:
    client, name = ddb_table
    items = [
        {
            "pk": {"S": f"c#{i}"},
            "sk": {"N": str(i)},
            "big": {"N": BIG},
            "set": {"SS": ["p", "q"]},
            "bin": {"B": bytes([i])},
        }
        for i in range(25)
    ]
    for item in items:
        client.put_item(TableName=name, Item=item)
    exports = TableExports(lake, dynamodb_endpoint=dynamodb_endpoint)
    arn = client.describe_table(TableName=name)["Table"]["TableArn"]
    desc = aws_export(exports, {"TableArn": arn, "S3Bucket": "exp"})["ExportDescription"]
    assert desc["ExportStatus"] == "COMPLETED" and desc["ItemCount"] == 25
    got = {r["Item"]["pk"]["S"]: r["Item"] for r in exported(lake, desc)}
    assert got["c#7"] == {
        "pk": {"S": "c#7"},
        "sk": {"N": "7"},
        "big": {"N": BIG},
        "set": {"SS": ["p", "q"]},
        "bin": {"B": base64.b64encode(bytes([7])).decode()},
    }
    assert len(got) == 25


def test_missing_dynamodb_table_fails_the_export(
    lake: Lake, dynamodb_endpoint: str, aws_env: None
) -> None:
    exports = TableExports(lake, dynamodb_endpoint=dynamodb_endpoint)
    desc = aws_export(
        exports,
        {"TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/nope", "S3Bucket": "exp"},
    )["ExportDescription"]
    assert desc["ExportStatus"] == "FAILED"
    assert "nope" in desc["FailureMessage"]
    assert "ExportManifest" not in desc


@pytest.mark.parametrize("view", ["NEW_AND_OLD_IMAGES", "NEW_IMAGE"])
def test_incremental_export_has_keys_and_images(
    exports: TableExports, lake: Lake, tmp_path: Path, view: str
) -> None:
    path = tmp_path / "t.jsonl"
    write_jsonl(path, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}])
    full = aws_export(exports, {"TableArn": str(path), "S3Bucket": "exp"})["ExportDescription"]
    write_jsonl(path, [{"id": 1, "v": "a"}, {"id": 2, "v": "B"}, {"id": 4, "v": "d"}])
    desc = aws_export(
        exports,
        {
            "TableArn": str(path),
            "S3Bucket": "exp",
            "ExportType": "INCREMENTAL_EXPORT",
            "IncrementalExportSpecification": {
                "ExportFromTime": full["ExportTime"],
                "ExportViewType": view,
            },
        },
    )["ExportDescription"]
    assert desc["ExportType"] == "INCREMENTAL_EXPORT" and desc["ItemCount"] == 3
    recs = {r["Keys"]["id"]["N"]: r for r in exported(lake, desc)}
    assert recs["2"]["NewImage"] == {"id": {"N": "2"}, "v": {"S": "B"}}
    assert recs["4"]["NewImage"] == {"id": {"N": "4"}, "v": {"S": "d"}}
    assert "NewImage" not in recs["3"]
    assert "1" not in recs
    if view == "NEW_AND_OLD_IMAGES":
        assert recs["2"]["OldImage"] == {"id": {"N": "2"}, "v": {"S": "b"}}
        assert recs["3"]["OldImage"] == {"id": {"N": "3"}, "v": {"S": "c"}}
        assert "OldImage" not in recs["4"]
    else:
        assert all("OldImage" not in r for r in recs.values())
    assert "WriteTimestampMicros" in recs["2"]["Metadata"]


def test_export_failing_half_way_is_failed_without_manifest(lake: Lake, tmp_path: Path) -> None:
    exports = TableExports(lake, items_per_file=2)
    path = tmp_path / "t.jsonl"
    good = write_jsonl(path, [{"id": i} for i in range(3)])
    first = aws_export(
        exports, {"TableArn": good, "S3Bucket": "exp", "LakeboxCurrentManifest": True}
    )["ExportDescription"]
    current = lake.storage.read_bytes("s3://exp/AWSDynamoDB/current/symlink.txt")
    path.write_text(path.read_text() * 2 + "{broken\n")
    desc = aws_export(
        exports, {"TableArn": good, "S3Bucket": "exp", "LakeboxCurrentManifest": True}
    )["ExportDescription"]
    assert desc["ExportStatus"] == "FAILED"
    assert "line 7" in desc["FailureMessage"]
    folder = f"s3://exp/AWSDynamoDB/{desc['ExportArn'].rsplit('/', 1)[-1]}/"
    left = [f.uri for f in lake.storage.list_files(folder, include_hidden=True)]
    assert left == [folder + "_started"]
    assert lake.storage.read_bytes("s3://exp/AWSDynamoDB/current/symlink.txt") == current
    assert (
        describe_export(lake, {"ExportArn": desc["ExportArn"]})["ExportDescription"]["ExportStatus"]
        == "FAILED"
    )
    assert first["ExportStatus"] == "COMPLETED"


def test_current_manifest_points_at_newest_full_export(
    exports: TableExports, lake: Lake, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    write_jsonl(path, [{"id": 1}])
    aws_export(
        exports,
        {"TableArn": str(path), "S3Bucket": "exp", "S3Prefix": "p", "LakeboxCurrentManifest": True},
    )
    write_jsonl(path, [{"id": 2}])
    second = aws_export(
        exports,
        {"TableArn": str(path), "S3Bucket": "exp", "S3Prefix": "p", "LakeboxCurrentManifest": True},
    )["ExportDescription"]
    lines = lake.storage.read_bytes("s3://exp/p/AWSDynamoDB/current/symlink.txt").decode()
    [uri] = lines.splitlines()
    export_id = second["ExportArn"].rsplit("/", 1)[-1]
    assert uri.startswith(f"s3://exp/p/AWSDynamoDB/{export_id}/data/")
    assert _data_lines(lake, "exp", uri[len("s3://exp/") :]) == [{"Item": {"id": {"N": "2"}}}]


def test_list_describe_and_client_token(exports: TableExports, lake: Lake, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "t.jsonl", [{"id": 1}])
    a = aws_export(exports, {"TableArn": src, "S3Bucket": "exp", "ClientToken": "tok"})[
        "ExportDescription"
    ]
    again = aws_export(exports, {"TableArn": src, "S3Bucket": "exp", "ClientToken": "tok"})[
        "ExportDescription"
    ]
    assert again["ExportArn"] == a["ExportArn"]
    b = aws_export(exports, {"TableArn": src, "S3Bucket": "exp"})["ExportDescription"]
    page = list_exports(lake, {"MaxResults": 1})
    assert len(page["ExportSummaries"]) == 1 and page["NextToken"]
    rest = list_exports(lake, {"MaxResults": 1, "NextToken": page["NextToken"]})
    arns = {s["ExportArn"] for s in page["ExportSummaries"] + rest["ExportSummaries"]}
    assert arns == {a["ExportArn"], b["ExportArn"]}
    assert rest["ExportSummaries"][0]["ExportStatus"] == "COMPLETED"
    # another id of the same shape: its last hex digit changed (never to itself)
    last = a["ExportArn"][-1]
    wrong = a["ExportArn"][:-1] + ("1" if last == "0" else "0")
    assert wrong not in arns
    with pytest.raises(ExportNotFoundError):
        describe_export(lake, {"ExportArn": wrong})


@pytest.mark.parametrize(
    ("request_", "member"),
    [
        ({"ExportFormat": "CSV"}, "exportFormat"),
        ({"ExportType": "INCREMENTAL_EXPORT"}, "ExportFromTime"),
        ({"S3Bucket": ""}, "s3Bucket"),
    ],
)
def test_request_validation(exports: TableExports, request_: dict[str, Any], member: str) -> None:
    with pytest.raises(ValidationError, match=member):
        aws_export(exports, {"TableArn": "x.jsonl", "S3Bucket": "b", **request_})


# -- queried through Athena SQL right after the export ------------------------------------------


def test_ion_export_through_current_table_returns_exact_rows(
    exports: TableExports, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    write_jsonl(path, ITEMS)
    request = {
        "TableArn": str(path),
        "S3Bucket": "exp",
        "ExportFormat": "ION",
        "LakeboxCurrentManifest": True,
        "LakeboxCatalogTable": "default.orders",
    }
    aws_export(exports, request)
    result = session.sql("SELECT id, name, amount, price, ok, tags FROM orders ORDER BY id")
    assert result.fetchall() == [
        (1, "alpha", decimal.Decimal(BIG), decimal.Decimal("9.99"), True, ["x", "y"]),
        (2, "beta", decimal.Decimal(-5), decimal.Decimal("0.5"), False, []),
        (3, None, None, None, None, None),
    ]
    assert result.types[:5] == [
        "decimal(38,0)",
        "varchar",
        "decimal(38,0)",
        "decimal(38,2)",
        "boolean",
    ]
    write_jsonl(path, [{"id": 9, "name": "new"}])
    aws_export(exports, request)
    assert session.sql("SELECT id, name FROM orders").fetchall() == [(9, "new")]


def test_dynamodb_json_export_queryable_with_casts(
    exports: TableExports, session: Session, tmp_path: Path
) -> None:
    src = write_jsonl(tmp_path / "t.jsonl", ITEMS[:2])
    aws_export(
        exports,
        {
            "TableArn": src,
            "S3Bucket": "exp",
            "LakeboxCurrentManifest": True,
            "LakeboxCatalogTable": "default.raw_orders",
        },
    )
    result = session.sql(
        "SELECT CAST(item.amount.n AS decimal(38,0)) AS amount, "
        "item.name.s AS name FROM raw_orders ORDER BY name"
    )
    assert result.fetchall() == [(decimal.Decimal(BIG), "alpha"), (decimal.Decimal(-5), "beta")]


def test_current_table_columns_are_lower_case_and_odd_names_reported(
    exports: TableExports, session: Session, lake: Lake, tmp_path: Path
) -> None:
    src = write_jsonl(tmp_path / "t.jsonl", [{"id": 1, "CustomerName": "Ann", "bad name": 1}])
    aws_export(
        exports,
        {
            "TableArn": src,
            "S3Bucket": "exp",
            "ExportFormat": "ION",
            "LakeboxCurrentManifest": True,
            "LakeboxCatalogTable": "default.people",
        },
    )
    table = lake.catalog.get_table("default", "people")
    assert [c.name for c in table.columns] == ["customername", "id"]
    assert table.serde_parameters["ion.customername.path_extractor"] == "(Item CustomerName)"
    assert json.loads(table.parameters["lakebox.skipped_attributes"]) == ["bad name"]
    assert session.sql("SELECT customername FROM people").fetchall() == [("Ann",)]


@pytest.mark.parametrize("fmt", ["ION", "DYNAMODB_JSON"])
def test_empty_table_export_has_one_empty_file_and_reads_as_no_rows(
    exports: TableExports, lake: Lake, session: Session, tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    desc = aws_export(
        exports,
        {
            "TableArn": str(path),
            "S3Bucket": "exp",
            "ExportFormat": fmt,
            "LakeboxCurrentManifest": True,
        },
    )["ExportDescription"]
    assert desc["ExportStatus"] == "COMPLETED" and desc["ItemCount"] == 0
    assert exported(lake, desc) == []
    session.sql(
        "CREATE EXTERNAL TABLE empty_export (item string) ROW FORMAT SERDE "
        "'org.openx.data.jsonserde.JsonSerDe' STORED AS INPUTFORMAT "
        "'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat' OUTPUTFORMAT "
        "'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat' "
        "LOCATION 's3://exp/AWSDynamoDB/current/'"
        if fmt == "DYNAMODB_JSON"
        else "CREATE EXTERNAL TABLE empty_export (id decimal) ROW FORMAT SERDE "
        "'com.amazon.ionhiveserde.IonHiveSerDe' STORED AS INPUTFORMAT "
        "'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat' OUTPUTFORMAT "
        "'com.amazon.ionhiveserde.formats.IonOutputFormat' "
        "LOCATION 's3://exp/AWSDynamoDB/current/'"
    )
    assert session.sql("SELECT count(*) FROM empty_export").fetchall() == [(0,)]


@pytest.mark.parametrize("content", [b"garbage{", b"[1]", b'{"ExportStatus": "COMPLETED"}'])
def test_damaged_export_description_is_an_error_naming_the_file(
    lake: Lake, exports: TableExports, content: bytes
) -> None:
    from lakebox.metadata.files import MetadataFileError

    path = exports.root / "descriptions" / "01234567890123-abcdef01.json"
    path.write_bytes(content)
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/export/01234567890123-abcdef01"
    with pytest.raises(MetadataFileError, match=f"metadata file {path} is damaged"):
        exports.describe_export(arn)
    with pytest.raises(MetadataFileError, match=f"metadata file {path} is damaged"):
        exports.list_exports()
    assert path.read_bytes() == content


def test_typed_methods_answer_dataclasses(
    exports: TableExports, lake: Lake, tmp_path: Path
) -> None:
    path = tmp_path / "orders.jsonl"
    src = write_jsonl(path, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])
    full = exports.export_table_to_point_in_time(src, "exp", s3_prefix="typed")
    assert isinstance(full, ExportDescription)
    assert (full.status, full.item_count, full.export_type) == ("COMPLETED", 2, "FULL_EXPORT")
    assert full.manifest is not None and full.manifest.startswith("typed/AWSDynamoDB/")
    write_jsonl(path, [{"id": 1, "v": "a"}, {"id": 2, "v": "B"}])
    inc = exports.export_table_to_point_in_time(
        src,
        "exp",
        export_type="INCREMENTAL_EXPORT",
        incremental=IncrementalExport(full.export_time, view_type="NEW_IMAGE"),
        key_attributes=["id"],
    )
    assert (inc.status, inc.item_count) == ("COMPLETED", 1)
    assert inc.incremental is not None
    assert inc.incremental[0] == full.export_time and inc.incremental[2] == "NEW_IMAGE"
    assert exports.describe_export(full.arn) == full
    page = exports.list_exports(max_results=1)
    assert [e.arn for e in page.exports] == [full.arn] and page.next_token
    rest = exports.list_exports(max_results=1, next_token=page.next_token)
    assert [e.arn for e in rest.exports] == [inc.arn] and rest.next_token is None
    assert exports.list_exports(table_arn="elsewhere").exports == []
