"""A script written against AWS's APIs, run unchanged against ``lakebox serve``: it uploads
CSV files with S3's PutObject, defines a table over them with Athena DDL and queries them
at once; the next upload is seen by the very next query (no crawler, no refresh)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from server.conftest import ClientFactory

pytestmark = pytest.mark.xdist_group("server")

BUCKET = "uploads-then-query"


def _query(athena: Any, sql: str) -> list[list[str | None]]:
    """Start, wait, read every page: what a script against Athena does."""
    qid = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": "default"},
        ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/results/"},
    )["QueryExecutionId"]
    deadline = time.monotonic() + 60
    while True:
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    assert status["State"] == "SUCCEEDED", status
    rows: list[list[str | None]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
        rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
    return rows[1:]  # the header row


def test_uploaded_csv_files_are_queried_at_once(client: ClientFactory) -> None:
    s3, athena = client("s3"), client("athena")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(
        Bucket=BUCKET,
        Key="sales/day=2024-01-01/part-0.csv",
        Body=b"id,item,amount\n1,apple,2.50\n2,pear,1.25\n",
    )
    _query(
        athena,
        "CREATE EXTERNAL TABLE uploaded_sales (id int, item string, amount double) "
        "PARTITIONED BY (day string) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
        f"LOCATION 's3://{BUCKET}/sales/' TBLPROPERTIES ('skip.header.line.count'='1')",
    )
    _query(athena, "MSCK REPAIR TABLE uploaded_sales")
    assert _query(athena, "SELECT id, item, amount, day FROM uploaded_sales ORDER BY id") == [
        ["1", "apple", "2.5", "2024-01-01"],
        ["2", "pear", "1.25", "2024-01-01"],
    ]

    # another file in the same partition: the very next query reads it
    s3.put_object(
        Bucket=BUCKET,
        Key="sales/day=2024-01-01/part-1.csv",
        Body=b"id,item,amount\n3,plum,4.00\n",
    )
    assert _query(athena, "SELECT count(*), sum(amount) FROM uploaded_sales") == [["3", "7.75"]]

    # an upload replacing a file: the next query reads the new bytes
    s3.put_object(
        Bucket=BUCKET,
        Key="sales/day=2024-01-01/part-1.csv",
        Body=b"id,item,amount\n3,plum,5.00\n4,fig,0.75\n",
    )
    assert _query(athena, "SELECT item FROM uploaded_sales WHERE amount > 1 ORDER BY id") == [
        ["apple"],
        ["pear"],
        ["plum"],
    ]

    # a new partition folder, registered with Athena DDL, is read by the next query
    s3.put_object(
        Bucket=BUCKET,
        Key="sales/day=2024-01-02/part-0.csv",
        Body=b"id,item,amount\n5,kiwi,3.00\n",
    )
    _query(
        athena,
        "ALTER TABLE uploaded_sales ADD PARTITION (day = '2024-01-02') "
        f"LOCATION 's3://{BUCKET}/sales/day=2024-01-02/'",
    )
    assert _query(athena, "SELECT day, count(*) FROM uploaded_sales GROUP BY day ORDER BY day") == [
        ["2024-01-01", "4"],
        ["2024-01-02", "1"],
    ]

    # a deleted file is gone from the next query
    s3.delete_object(Bucket=BUCKET, Key="sales/day=2024-01-01/part-1.csv")
    assert _query(athena, "SELECT id FROM uploaded_sales ORDER BY id") == [["1"], ["2"], ["5"]]

    # the query's own result file is an S3 object the script can read back
    qid = athena.list_query_executions()["QueryExecutionIds"][0]
    where = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    bucket, _, key = where["ResultConfiguration"]["OutputLocation"][5:].partition("/")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert body.splitlines() == ['"id"', '"1"', '"2"', '"5"']


def test_an_unpartitioned_folder_sees_uploads_without_ddl(client: ClientFactory) -> None:
    s3, athena = client("s3"), client("athena")
    s3.create_bucket(Bucket=BUCKET + "-flat")
    _query(
        athena,
        "CREATE EXTERNAL TABLE uploaded_events (kind string, n int) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
        f"LOCATION 's3://{BUCKET}-flat/events/'",
    )
    assert _query(athena, "SELECT count(*) FROM uploaded_events") == [["0"]]
    for i in range(3):
        s3.put_object(Bucket=BUCKET + "-flat", Key=f"events/{i}.csv", Body=f"k{i},{i}\n".encode())
        got = _query(athena, "SELECT kind, n FROM uploaded_events ORDER BY n")
        assert got == [[f"k{j}", str(j)] for j in range(i + 1)]
