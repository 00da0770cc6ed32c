"""The AWS CLI's ``s3`` and ``s3api`` commands against ``lakebox serve``, and objects put
through S3 seen by the very next Athena query."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from server.conftest import ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")


def _aws(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    aws = Path(sys.executable).parent / "aws"
    if not aws.exists():
        pytest.skip("the AWS CLI is not installed (pyproject's dev extra has it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(served.keys_file),
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_MAX_ATTEMPTS="1",
    )
    return subprocess.run(
        [str(aws), "--endpoint-url", served.url, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_aws_cli_s3_commands(served: Served, tmp_path: Path) -> None:
    _ok(_aws(served, "s3", "mb", "s3://cli-bucket"))
    assert "cli-bucket" in _ok(_aws(served, "s3", "ls"))
    local = tmp_path / "up"
    (local / "sub").mkdir(parents=True)
    (local / "a.txt").write_text("alpha")
    (local / "sub" / "b.csv").write_text("1,2\n")
    (local / "big.bin").write_bytes(os.urandom(9 * 1024 * 1024))  # multipart in the CLI
    _ok(_aws(served, "s3", "cp", str(local / "a.txt"), "s3://cli-bucket/one/a.txt"))
    assert (served.home / "cli-bucket" / "one" / "a.txt").read_text() == "alpha"
    _ok(_aws(served, "s3", "sync", str(local), "s3://cli-bucket/synced/"))
    assert (served.home / "cli-bucket" / "synced" / "big.bin").read_bytes() == (
        local / "big.bin"
    ).read_bytes()
    listing = _ok(_aws(served, "s3", "ls", "--recursive", "s3://cli-bucket/synced/"))
    assert "synced/sub/b.csv" in listing and "synced/big.bin" in listing
    top = _ok(_aws(served, "s3", "ls", "s3://cli-bucket/"))
    assert "PRE one/" in top and "PRE synced/" in top
    # a second sync sends nothing new
    again = _ok(_aws(served, "s3", "sync", str(local), "s3://cli-bucket/synced/"))
    assert "upload:" not in again
    down = tmp_path / "down"
    _ok(_aws(served, "s3", "sync", "s3://cli-bucket/synced/", str(down)))
    assert sorted(str(p.relative_to(down)) for p in down.rglob("*") if p.is_file()) == [
        "a.txt",
        "big.bin",
        "sub/b.csv",
    ]
    assert (down / "big.bin").read_bytes() == (local / "big.bin").read_bytes()
    _ok(_aws(served, "s3", "cp", "s3://cli-bucket/one/a.txt", str(tmp_path / "a-back.txt")))
    assert (tmp_path / "a-back.txt").read_text() == "alpha"
    _ok(_aws(served, "s3", "rm", "--recursive", "s3://cli-bucket/"))
    _ok(_aws(served, "s3", "rb", "s3://cli-bucket"))
    assert not (served.home / "cli-bucket").exists()


@pytest.mark.slow
def test_aws_cli_s3api_calls(served: Served, tmp_path: Path) -> None:
    _ok(_aws(served, "s3api", "create-bucket", "--bucket", "cli-api"))
    body = tmp_path / "body.txt"
    body.write_text("via s3api")
    put = json.loads(
        _ok(
            _aws(
                served,
                "s3api",
                "put-object",
                "--bucket",
                "cli-api",
                "--key",
                "k/v.txt",
                "--body",
                str(body),
                "--content-type",
                "text/plain",
            )
        )
    )
    assert put["ETag"].startswith('"')
    head = json.loads(
        _ok(_aws(served, "s3api", "head-object", "--bucket", "cli-api", "--key", "k/v.txt"))
    )
    assert head["ContentLength"] == 9 and head["ContentType"] == "text/plain"
    listed = json.loads(_ok(_aws(served, "s3api", "list-objects-v2", "--bucket", "cli-api")))
    assert [o["Key"] for o in listed["Contents"]] == ["k/v.txt"]
    out = tmp_path / "out.txt"
    _ok(_aws(served, "s3api", "get-object", "--bucket", "cli-api", "--key", "k/v.txt", str(out)))
    assert out.read_text() == "via s3api"
    missing = _aws(served, "s3api", "get-object", "--bucket", "cli-api", "--key", "nope", str(out))
    assert missing.returncode != 0 and "NoSuchKey" in missing.stderr


def _run_query(athena: Any, sql: str) -> dict[str, Any]:
    qid = athena.start_query_execution(QueryString=sql)["QueryExecutionId"]
    deadline = time.monotonic() + 60
    while True:
        qe = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if qe["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
            return qe
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _count(athena: Any, sql: str) -> str:
    qe = _run_query(athena, sql)
    rows = athena.get_query_results(QueryExecutionId=qe["QueryExecutionId"])["ResultSet"]["Rows"]
    return str(rows[1]["Data"][0]["VarCharValue"])


def test_objects_put_through_s3_are_seen_by_the_next_query(client: ClientFactory) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="s3-visible")
    s3.put_object(Bucket="s3-visible", Key="events/part-0.csv", Body=b"1,a\n2,b\n")
    athena = client("athena")
    _run_query(
        athena,
        "CREATE EXTERNAL TABLE s3_visible_events (id int, name string) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
        "LOCATION 's3://s3-visible/events/'",
    )
    assert _count(athena, "SELECT count(*) FROM s3_visible_events") == "2"
    for round_ in range(3):  # each PUT is seen by the query right after it, no sleep
        s3.put_object(Bucket="s3-visible", Key=f"events/part-{round_ + 1}.csv", Body=b"3,c\n")
        assert _count(athena, "SELECT count(*) FROM s3_visible_events") == str(3 + round_)
    s3.put_object(Bucket="s3-visible", Key="events/part-0.csv", Body=b"1,a\n")  # overwrite
    assert _count(athena, "SELECT count(*) FROM s3_visible_events") == "4"
    s3.delete_object(Bucket="s3-visible", Key="events/part-1.csv")
    assert _count(athena, "SELECT count(*) FROM s3_visible_events") == "3"
    # a multipart upload in flight is not seen by queries
    upload = s3.create_multipart_upload(Bucket="s3-visible", Key="events/part-9.csv")
    s3.upload_part(
        Bucket="s3-visible",
        Key="events/part-9.csv",
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=b"9,z\n",
    )
    assert _count(athena, "SELECT count(*) FROM s3_visible_events") == "3"
