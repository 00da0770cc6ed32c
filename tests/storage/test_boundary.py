"""The storage boundary: every door refuses locations that would leave the lake, name its
metadata, or follow a link out of it, and touches nothing while refusing.

Each attack is the one a user (or an attacker) typed in issue 11, through the door they
used: SQL, the query service, workflow tasks, delivery streams, exports and the CLI.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import lakebox
from lakebox.cli import app
from lakebox.config import LakeConfig
from lakebox.errors import InvalidLocationError, InvalidRequestError, LakeboxError
from lakebox.ingest import DeliveryStreams
from lakebox.ingest.exports import TableExports
from lakebox.query.service import QueryService
from lakebox.session import Session
from lakebox.storage import Storage, parse_uri
from lakebox.storage.uri import check_bucket, check_key, object_uri
from lakebox.workflows.service import WorkflowService


@pytest.fixture
def session(lake_session: Session) -> Session:
    return lake_session


def outside_files(root: Path, lake_home: Path) -> set[Path]:
    """Every file under ``root`` that is not inside the lake."""
    return {
        p for p in root.rglob("*") if p.is_file() and lake_home not in p.parents and p != lake_home
    }


# -- the rules ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["amzn-s3-demo-bucket", "my-bucket", "logs.example.com", "b", "a1", "x" * 63, "0bucket9"],
)
def test_bucket_names_s3_accepts_are_accepted(name: str) -> None:
    assert check_bucket(name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("..", "lowercase letters"),
        ("_lakebox", "lowercase letters"),
        ("My-Bucket", "lowercase letters"),
        ("a_b", "lowercase letters"),
        ("-ab", "begin and end"),
        ("ab-", "begin and end"),
        ("a..b", "adjacent periods"),
        ("192.168.5.4", "IP address"),
        ("xn--abc", "reserved"),
        ("abc-s3alias", "reserved"),
        ("x" * 64, "63"),
        ("", "empty"),
        ("a/b", "lowercase letters"),
        ("a b", "lowercase letters"),
    ],
)
def test_bucket_names_s3_refuses_are_refused_with_the_rule(name: str, why: str) -> None:
    with pytest.raises(InvalidLocationError, match=why) as info:
        check_bucket(name)
    assert info.value.s3_code == "InvalidBucketName"


@pytest.mark.parametrize(
    "key", ["", "a", "a/b.csv", "folder/", "dt=2024-01-01/x.parquet", "a..b/c", "...", ".hidden"]
)
def test_keys_that_stay_in_the_bucket_are_accepted(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("../x", r"'\.\.' path segment"),
        ("a/../../x", r"'\.\.' path segment"),
        ("a/..", r"'\.\.' path segment"),
        ("./x", r"'\.' path segment"),
        ("a/./b", r"'\.' path segment"),
        ("/etc/passwd", "start with '/'"),
        ("a//b", "empty path segments"),
        ("a\\..\\b", "backslashes"),
        ("a\x00b", "control characters"),
        ("a\nb", "control characters"),
        ("k" * 1025, "1024 bytes"),
    ],
)
def test_keys_that_would_leave_the_bucket_are_refused_with_the_reason(key: str, why: str) -> None:
    with pytest.raises(InvalidLocationError, match=why):
        check_key(key)


@pytest.mark.parametrize(
    "location",
    [
        "s3://x/../../escaped/",
        "s3a://x/a/../../../etc/",
        "s3://../etc/hostname",
        "s3://_lakebox/catalog.sqlite",
        "s3://x//etc/",
        "file:///tmp/../etc/passwd",
    ],
)
def test_parse_uri_refuses_escaping_locations(location: str) -> None:
    with pytest.raises(InvalidLocationError):
        parse_uri(location)


def test_object_uri_does_not_let_a_bucket_carry_a_key() -> None:
    with pytest.raises(InvalidLocationError, match="invalid bucket name"):
        object_uri("x/../..", "etc/hostname")
    assert object_uri("x", "a/b") == "s3://x/a/b"


# -- local paths, metadata and links ------------------------------------------------------------
def test_file_locations_outside_the_lake_need_allowing(config: LakeConfig, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.csv").write_text("1\n")
    with pytest.raises(InvalidLocationError, match="LAKEBOX_ALLOWED_PATHS"):
        Storage(config).read_bytes(f"file://{outside}/a.csv")
    with pytest.raises(InvalidLocationError, match="outside the lake"):
        Storage(config).list_files(str(outside))
    allowed = LakeConfig.from_env(home=config.home, storage="local", allowed_paths=(outside,))
    assert Storage(allowed).read_bytes(f"file://{outside}/a.csv") == b"1\n"
    with pytest.raises(InvalidLocationError):  # the allowed folder's parent is not allowed
        Storage(allowed).list_files(str(tmp_path))


def test_allowed_paths_come_from_the_environment(
    lake_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("LAKEBOX_ALLOWED_PATHS", f"{a}{os.pathsep}{b}")
    assert LakeConfig.from_env(home=lake_home).allowed_paths == (a.resolve(), b.resolve())


def test_the_metadata_folder_is_out_of_reach_even_when_allowed(
    session: Session, lake_home: Path
) -> None:
    catalog = lake_home / "_lakebox" / "catalog.sqlite"
    before = catalog.read_bytes()
    config = LakeConfig.from_env(home=lake_home, storage="local", allowed_paths=(lake_home,))
    storage = Storage(config)
    for location in (f"file://{catalog}", str(catalog), f"file://{lake_home}/_lakebox/"):
        with pytest.raises(InvalidLocationError, match="metadata"):
            storage.write_bytes(location, b"junk") if location.endswith(
                "sqlite"
            ) else storage.list_files(location)
    with pytest.raises(InvalidLocationError, match="bucket name"):
        storage.write_bytes("s3://_lakebox/catalog.sqlite", b"junk")
    assert catalog.read_bytes() == before


def test_links_leading_out_of_the_lake_are_not_followed(
    session: Session, lake_home: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd.csv").write_text("root,x\n")
    table = lake_home / "data" / "t"
    table.mkdir(parents=True)
    (table / "ok.csv").write_text("alice,1\n")
    (table / "linked.csv").symlink_to(secret / "passwd.csv")
    (table / "linked-dir").symlink_to(secret, target_is_directory=True)
    (lake_home / "data" / "meta").symlink_to(lake_home / "_lakebox", target_is_directory=True)
    storage = session.lake.storage
    assert [f.uri for f in storage.list_files("s3://data/t/")] == ["s3://data/t/ok.csv"]
    with pytest.raises(InvalidLocationError, match="symbolic link"):
        storage.read_bytes("s3://data/t/linked.csv")
    with pytest.raises(InvalidLocationError, match="symbolic link"):
        storage.list_files("s3://data/t/linked-dir/")
    with pytest.raises(InvalidLocationError, match="symbolic link"):
        storage.read_bytes("s3://data/meta/catalog.sqlite")
    session.sql(
        "CREATE EXTERNAL TABLE t (name string, n int) ROW FORMAT DELIMITED "
        "FIELDS TERMINATED BY ',' LOCATION 's3://data/t/'"
    )
    assert session.sql("SELECT name FROM t").fetchall() == [("alice",)]


def test_links_inside_the_lake_are_followed(session: Session, lake_home: Path) -> None:
    (lake_home / "data" / "a").mkdir(parents=True)
    (lake_home / "data" / "a" / "x.csv").write_text("1\n")
    (lake_home / "data" / "b").symlink_to(lake_home / "data" / "a", target_is_directory=True)
    assert session.lake.storage.read_bytes("s3://data/b/x.csv") == b"1\n"


# -- SQL and the query service -----------------------------------------------------------------
@pytest.mark.parametrize(
    "sql",
    [
        "CREATE EXTERNAL TABLE b.pw (line string) LOCATION 's3://x/../../../../etc/'",
        "CREATE EXTERNAL TABLE b.pw (line string) LOCATION '/etc/'",
        "CREATE EXTERNAL TABLE b.pw (line string) LOCATION 'file:///etc/'",
        "CREATE DATABASE b2 LOCATION 's3://x/../../db/'",
        "CREATE TABLE b.c WITH (external_location = 's3://x/../../escaped_ctas/') AS SELECT 1 AS a",
        "CREATE TABLE b.c WITH (external_location = '/tmp/escaped_ctas/') AS SELECT 1 AS a",
        "UNLOAD (SELECT 1 AS a) TO 's3://x/../../escaped_unload/' WITH (format = 'JSON')",
        "UNLOAD (SELECT 1 AS a) TO 's3://_lakebox/x/' WITH (format = 'JSON')",
    ],
)
def test_sql_locations_outside_the_lake_are_refused(
    session: Session, lake_home: Path, tmp_path: Path, sql: str
) -> None:
    session.sql("CREATE DATABASE b")
    before = outside_files(tmp_path, lake_home)
    with pytest.raises(InvalidRequestError, match=r"refused|invalid bucket"):
        session.sql(sql)
    assert outside_files(tmp_path, lake_home) == before
    assert not (tmp_path / "escaped_ctas").exists() and not Path("/tmp/escaped_ctas").exists()
    assert session.sql("SHOW TABLES IN b").fetchall() == []


def test_partition_and_set_location_are_checked(session: Session) -> None:
    session.sql(
        "CREATE EXTERNAL TABLE t (a int) PARTITIONED BY (dt string) LOCATION 's3://data/t/'"
    )
    with pytest.raises(InvalidLocationError):
        session.sql("ALTER TABLE t ADD PARTITION (dt='1') LOCATION 's3://data/../../etc/'")
    with pytest.raises(InvalidLocationError):
        session.sql("ALTER TABLE t SET LOCATION '/etc/'")
    assert session.sql("SELECT count(*) FROM t").fetchall() == [(0,)]


def test_symlink_manifest_entries_outside_the_lake_are_refused(
    session: Session, lake_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.csv").write_text("root\n")
    manifest = lake_home / "data" / "manifest" / "m.txt"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(f"file://{tmp_path}/secret.csv\n")
    session.sql(
        "CREATE EXTERNAL TABLE m (line string) ROW FORMAT DELIMITED "
        "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat' "
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat' "
        "LOCATION 's3://data/manifest/'"
    )
    with pytest.raises(LakeboxError, match="outside the lake") as info:
        session.sql("SELECT * FROM m").fetchall()
    assert "m.txt" in str(info.value)


@pytest.fixture
def queries(session: Session) -> Iterator[QueryService]:
    svc = QueryService(session.lake)
    try:
        yield svc
    finally:
        svc.close()


def test_workgroup_and_query_output_locations_are_checked(
    queries: QueryService, lake_home: Path, tmp_path: Path
) -> None:
    with pytest.raises(InvalidLocationError):
        queries.create_work_group("w", output_location="s3://x/../../escaped_results/")
    with pytest.raises(InvalidLocationError):
        queries.create_work_group("w", output_location=f"file://{tmp_path}/results/")
    queries.create_work_group("w", output_location="s3://results/w/")
    with pytest.raises(InvalidLocationError):
        queries.update_work_group("w", output_location="s3://x/../../escaped_results/")
    with pytest.raises(InvalidLocationError):
        queries.start_query_execution("SELECT 1", output_location="s3://x/../../escaped/")
    assert not (tmp_path / "escaped_results").exists() and not (tmp_path / "results").exists()


def test_cli_workgroup_output_location_outside_is_one_line_error(
    lake_home: Path, tmp_path: Path
) -> None:
    lakebox.connect(lake_home).lake.close()
    result = CliRunner().invoke(
        app,
        [
            "workgroup",
            "create",
            "w",
            "--output-location",
            "s3://x/../../escaped_results/",
            "--home",
            str(lake_home),
        ],
    )
    assert result.exit_code == 1
    assert "'..' path segment" in result.output and "Traceback" not in result.output


# -- workflow S3 tasks -------------------------------------------------------------------------
def _run_task(service: WorkflowService, action: str, params: dict[str, Any]) -> Any:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": f"arn:aws:states:::aws-sdk:s3:{action}",
                "Parameters": params,
                "End": True,
            }
        },
    }
    name = f"sm-{action}-{abs(hash(str(params))) % 10**8}"
    service.create_state_machine(name, definition)
    return service.start_execution(name, {})


@pytest.mark.parametrize(
    ("action", "params", "error"),
    [
        ("deleteObject", {"Bucket": "x", "Key": "../../victim.txt"}, "S3.InvalidArgumentException"),
        (
            "putObject",
            {"Bucket": "x", "Key": "../../written.txt", "Body": "x"},
            "S3.InvalidArgumentException",
        ),
        (
            "getObject",
            {"Bucket": "..", "Key": "../../etc/hostname"},
            "S3.InvalidBucketNameException",
        ),
        (
            "putObject",
            {"Bucket": "_lakebox", "Key": "catalog.sqlite", "Body": "junk"},
            "S3.InvalidBucketNameException",
        ),
        ("copyObject", {"Bucket": "x", "Key": "c", "CopySource": "../victim.txt"}, "S3.Invalid"),
        ("listObjectsV2", {"Bucket": "x", "Prefix": "../../"}, "S3.InvalidArgumentException"),
    ],
)
def test_workflow_s3_tasks_cannot_leave_the_lake(
    config: LakeConfig,
    lake_home: Path,
    tmp_path: Path,
    action: str,
    params: dict[str, Any],
    error: str,
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    lakebox.connect(lake_home).lake.close()
    catalog = lake_home / "_lakebox" / "catalog.sqlite"
    before = outside_files(tmp_path, lake_home)
    service = WorkflowService(config)
    try:
        execution = _run_task(service, action, params)
        assert execution.status == "FAILED"
        assert (execution.error or "").startswith(error)
    finally:
        service.close()
    assert victim.read_text() == "keep me"
    assert outside_files(tmp_path, lake_home) == before
    assert catalog.read_bytes().startswith(b"SQLite format 3\x00")
    db = sqlite3.connect(catalog)
    try:
        assert db.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    finally:
        db.close()


# -- streams and exports -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bucket_arn", "prefix", "match"),
    [
        ("arn:aws:s3:::x", "../../../../outside/", r"'\.\.' path segment"),
        ("arn:aws:s3:::..", "", "invalid bucket name"),
        ("arn:aws:s3:::_lakebox", "", "invalid bucket name"),
        ("arn:aws:s3:::x", "/abs/", "start with '/'"),
    ],
)
def test_stream_destinations_outside_the_lake_are_refused(
    session: Session, bucket_arn: str, prefix: str, match: str
) -> None:
    streams = DeliveryStreams(session.lake)
    with pytest.raises(InvalidRequestError, match=match):
        streams.create_delivery_stream("s", {"BucketARN": bucket_arn, "Prefix": prefix})
    assert streams.list_delivery_streams().names == []


def test_stream_dynamic_partition_values_cannot_climb_out(
    session: Session, lake_home: Path, tmp_path: Path
) -> None:
    streams = DeliveryStreams(session.lake)
    streams.create_delivery_stream(
        "s",
        {
            "BucketARN": "arn:aws:s3:::x",
            "Prefix": "p/!{partitionKeyFromQuery:k}/",
            "ErrorOutputPrefix": "errors/",
            "DynamicPartitioningConfiguration": {"Enabled": True},
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "MetadataExtraction",
                        "Parameters": [
                            {
                                "ParameterName": "MetadataExtractionQuery",
                                "ParameterValue": "{k:.k}",
                            },
                            {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                        ],
                    }
                ],
            },
        },
    )
    before = outside_files(tmp_path, lake_home)
    streams.put_record_batch("s", [b'{"k": "../../../.."}', b'{"k": "ok"}'])
    report = streams.flush("s")
    assert report.delivered == 1 and report.failed == 1
    assert outside_files(tmp_path, lake_home) == before
    assert [p.name for p in (lake_home / "x" / "p").iterdir()] == ["ok"]
    errors = list((lake_home / "x" / "errors").rglob("*"))
    assert any(p.is_file() for p in errors)


def test_cli_stream_create_with_escaping_prefix_is_refused(lake_home: Path, tmp_path: Path) -> None:
    lakebox.connect(lake_home).lake.close()
    result = CliRunner().invoke(
        app,
        [
            "stream",
            "create",
            "s",
            "--bucket",
            "x",
            "--prefix",
            "../../../../outside/",
            "--home",
            str(lake_home),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "refused" in result.output and "Traceback" not in result.output


def test_export_targets_and_sources_are_checked(session: Session, tmp_path: Path) -> None:
    src = tmp_path / "t.jsonl"
    src.write_text('{"id": 1}\n')
    exports = TableExports(session.lake)
    for request in (
        {"TableArn": str(src), "S3Bucket": "..", "S3Prefix": "p"},
        {"TableArn": str(src), "S3Bucket": "exp", "S3Prefix": "../../p"},
    ):
        with pytest.raises(LakeboxError, match="refused"):
            exports.export_table_to_point_in_time(
                request["TableArn"], request["S3Bucket"], s3_prefix=request["S3Prefix"]
            )
    desc = exports.export_table_to_point_in_time(str(src), "exp")
    assert desc.status == "FAILED"
    assert desc.failure_message is not None and "outside the lake" in desc.failure_message


# -- S3 mode -----------------------------------------------------------------------------------
@pytest.mark.s3
def test_s3_mode_refuses_the_same_locations(s3_config: LakeConfig) -> None:
    storage = Storage(s3_config)
    for location in ("s3://x/../../etc/", "s3://_lakebox/catalog.sqlite", "s3://x//a"):
        with pytest.raises(InvalidLocationError):
            storage.write_bytes(location, b"x")
