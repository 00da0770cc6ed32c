"""Amazon S3 server access logs: the published Athena table (Regex SerDe) and its example
queries, over sample server access log records in the documented format, checked against
the same records split by plain Python. (The Athena User Guide's own S3 access log table is
the Grok SerDe example, in test_grok.py.)"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/querying-s3-access-logs-for-requests.html"

# Verbatim from URL; only LOCATION's bucket is replaced at run time.
CREATE_DATABASE = """create database s3_access_logs_db"""

CREATE_TABLE = r"""CREATE EXTERNAL TABLE `s3_access_logs_db.mybucket_logs`(
  `bucketowner` STRING, 
  `bucket_name` STRING, 
  `requestdatetime` STRING, 
  `remoteip` STRING, 
  `requester` STRING, 
  `requestid` STRING, 
  `operation` STRING, 
  `key` STRING, 
  `request_uri` STRING, 
  `httpstatus` STRING, 
  `errorcode` STRING, 
  `bytessent` BIGINT, 
  `objectsize` BIGINT, 
  `totaltime` STRING, 
  `turnaroundtime` STRING, 
  `referrer` STRING, 
  `useragent` STRING, 
  `versionid` STRING, 
  `hostid` STRING, 
  `sigv` STRING, 
  `ciphersuite` STRING, 
  `authtype` STRING, 
  `endpoint` STRING, 
  `tlsversion` STRING)
ROW FORMAT SERDE 
  'org.apache.hadoop.hive.serde2.RegexSerDe' 
WITH SERDEPROPERTIES ( 
  'input.regex'='([^ ]*) ([^ ]*) \\[(.*?)\\] ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) (\"[^\"]*\"|-) (-|[0-9]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) (\"[^\"]*\"|-) ([^ ]*)(?: ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*))?.*$') 
STORED AS INPUTFORMAT 
  'org.apache.hadoop.mapred.TextInputFormat' 
OUTPUTFORMAT 
  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
  's3://awsexamplebucket1-logs/prefix/'"""

Q_DELETED = """SELECT RequestDateTime, RemoteIP, Requester, Key 
FROM s3_access_logs_db.mybucket_logs 
WHERE key = 'images/picture.jpg' AND operation like '%DELETE%';"""

Q_USER = """SELECT * 
FROM s3_access_logs_db.mybucket_logs 
WHERE requester='arn:aws:iam::123456789123:user/user_name';"""

Q_OBJECT_PERIOD = """SELECT *
FROM s3_access_logs_db.mybucket_logs
WHERE Key='prefix/images/picture.jpg' 
    AND parse_datetime(RequestDateTime,'dd/MMM/yyyy:HH:mm:ss Z')
    BETWEEN parse_datetime('2017-02-18:07:00:00','yyyy-MM-dd:HH:mm:ss')
    AND parse_datetime('2017-02-18:08:00:00','yyyy-MM-dd:HH:mm:ss');"""

Q_TRANSFER = """SELECT SUM(bytessent) AS uploadTotal,
      SUM(objectsize) AS downloadTotal,
      SUM(bytessent + objectsize) AS Total
FROM s3_access_logs_db.mybucket_logs
WHERE RemoteIP='1.2.3.4'
AND parse_datetime(RequestDateTime,'dd/MMM/yyyy:HH:mm:ss Z')
BETWEEN parse_datetime('2017-06-01','yyyy-MM-dd')
AND parse_datetime('2017-07-01','yyyy-MM-dd');"""

OWNER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
USER = "arn:aws:iam::123456789123:user/user_name"
HOST_ID = "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234="


def record(
    when: str,
    ip: str,
    requester: str,
    op: str,
    key: str,
    status: str,
    err: str,
    sent: str,
    size: str,
    ua: str = "aws-cli/2.13.0 Python/3.11.4",
) -> str:
    """One server access log record: the time in brackets, '-' for absent values, the
    request-URI, referrer and user agent in double quotes, then the newer fields."""
    uri = (
        f'"{op.split(".")[1]} /awsexamplebucket1/{key} HTTP/1.1"'
        if key != "-"
        else '"GET /awsexamplebucket1?versioning HTTP/1.1"'
    )
    return (
        f"{OWNER} awsexamplebucket1 [{when}] {ip} {requester} 3E57427F3EXAMPLE {op} {key} {uri} "
        f'{status} {err} {sent} {size} 70 10 "-" "{ua}" - {HOST_ID} SigV4 '
        "ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSv1.2"
    )


LINES = [
    record(
        "18/Feb/2017:07:30:00 +0000",
        "192.0.2.3",
        USER,
        "REST.DELETE.OBJECT",
        "images/picture.jpg",
        "204",
        "-",
        "-",
        "-",
    ),
    record(
        "18/Feb/2017:07:45:10 +0000",
        "192.0.2.3",
        USER,
        "REST.GET.OBJECT",
        "prefix/images/picture.jpg",
        "200",
        "-",
        "2048",
        "2048",
        "Mozilla/5.0 (X11; Linux x86_64)",
    ),
    record(
        "18/Feb/2017:08:00:01 +0000",
        "192.0.2.4",
        "-",
        "REST.GET.OBJECT",
        "prefix/images/picture.jpg",
        "403",
        "AccessDenied",
        "243",
        "-",
    ),
    record(
        "05/Jun/2017:12:00:00 +0000",
        "1.2.3.4",
        OWNER,
        "REST.PUT.OBJECT",
        "uploads/a.bin",
        "200",
        "-",
        "100",
        "5000",
    ),
    record(
        "30/Jun/2017:23:59:59 +0000",
        "1.2.3.4",
        OWNER,
        "REST.HEAD.OBJECT",
        "uploads/a.bin",
        "200",
        "-",
        "-",
        "5000",
    ),
    record(
        "02/Jul/2017:00:00:00 +0000",
        "1.2.3.4",
        OWNER,
        "REST.GET.OBJECT",
        "uploads/a.bin",
        "200",
        "-",
        "5000",
        "5000",
    ),
    # an older record, without the fields added after the version id
    f'{OWNER} awsexamplebucket1 [06/Feb/2017:00:00:38 +0000] 192.0.2.3 {USER} 891CE47D2EXAMPLE REST.GET.VERSIONING - "GET /awsexamplebucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" -',
]

TOKEN = re.compile(r'\[[^\]]*\]|"[^"]*"|\S+')
BIGINT_AT = (11, 12)


def parse(line: str) -> tuple[Any, ...]:
    """The 24 columns: brackets taken off the time; request-URI, referrer and user agent
    keep their quotes (the regex's group includes them); '-' in a BIGINT is NULL; the
    trailing fields are NULL when the record predates them."""
    t = TOKEN.findall(line)
    t[2] = t[2][1:-1]
    values: list[Any] = t + [None] * (24 - len(t))
    for i in BIGINT_AT:
        values[i] = int(values[i]) if values[i] != "-" else None
    return tuple(values[:24])


def when(row: tuple[Any, ...]) -> dt.datetime:
    return dt.datetime.strptime(row[2], "%d/%b/%Y:%H:%M:%S %z")


@pytest.fixture
def s3logs(athena: Athena) -> Athena:
    athena.put(
        "s3://s3-logs-sample/prefix/2017-02-18-07-30-00-A1B2C3D4E5F6A7B8",
        "\n".join(LINES[:3]) + "\n",
    )
    athena.put(
        "s3://s3-logs-sample/prefix/2017-06-05-12-00-00-0A1B2C3D4E5F6A7B",
        "\n".join(LINES[3:]) + "\n",
    )
    athena.run(CREATE_DATABASE)
    athena.run(
        relocate(
            CREATE_TABLE, ("s3://awsexamplebucket1-logs/prefix/", "s3://s3-logs-sample/prefix/")
        )
    )
    return athena


def rows() -> list[tuple[Any, ...]]:
    return [parse(line) for line in LINES]


def test_who_deleted(s3logs: Athena) -> None:
    expected = [
        (r[2], r[3], r[4], r[7])
        for r in rows()
        if r[7] == "images/picture.jpg" and "DELETE" in r[6]
    ]
    assert len(expected) == 1
    assert s3logs.run(Q_DELETED) == expected


def test_operations_of_a_user(s3logs: Athena) -> None:
    expected = [r for r in rows() if r[4] == USER]
    assert len(expected) == 3
    assert unordered(s3logs.run(Q_USER)) == unordered(expected)


def test_object_in_a_period(s3logs: Athena) -> None:
    lo, hi = dt.datetime(2017, 2, 18, 7, tzinfo=dt.UTC), dt.datetime(2017, 2, 18, 8, tzinfo=dt.UTC)
    expected = [r for r in rows() if r[7] == "prefix/images/picture.jpg" and lo <= when(r) <= hi]
    assert len(expected) == 1
    assert s3logs.run(Q_OBJECT_PERIOD) == expected


def test_transfer_of_an_address(s3logs: Athena) -> None:
    lo, hi = dt.datetime(2017, 6, 1, tzinfo=dt.UTC), dt.datetime(2017, 7, 1, tzinfo=dt.UTC)
    picked = [r for r in rows() if r[3] == "1.2.3.4" and lo <= when(r) <= hi]
    assert len(picked) == 2

    def total(values: list[int | None]) -> int | None:
        present = [v for v in values if v is not None]
        return sum(present) if present else None

    expected = (
        total([r[11] for r in picked]),
        total([r[12] for r in picked]),
        total([r[11] + r[12] if r[11] is not None and r[12] is not None else None for r in picked]),
    )
    assert s3logs.run(Q_TRANSFER) == [expected]
