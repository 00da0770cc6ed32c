"""Route 53 Resolver query logs: the Athena User Guide's table and every example query over
sample query log records (JSON, one per line), checked against the records read by json."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/querying-r53-resolver-logs.html"

# Verbatim from URL; only LOCATION's bucket/prefix is replaced at run time.
CREATE_TABLE = """CREATE EXTERNAL TABLE r53_rlogs (
  version string,
  account_id string,
  region string,
  vpc_id string,
  query_timestamp string,
  query_name string,
  query_type string,
  query_class
    string,
  rcode string,
  answers array<
    struct<
      Rdata: string,
      Type: string,
      Class: string>
    >,
  srcaddr string,
  srcport int,
  transport string,
  srcids struct<
    instance: string,
    resolver_endpoint: string
    >
 )
     
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://your_log_bucket/AWSLogs/{account_id}/vpcdnsquerylogs/{vpc-id}/'"""

Q_VERIFY = """SELECT * FROM "r53_rlogs" LIMIT 10"""

Q_DESC = """SELECT * FROM "r53_rlogs"
ORDER BY query_timestamp DESC"""

Q_WINDOW = """SELECT query_timestamp, srcids.instance, srcaddr, srcport, query_name, rcode
FROM "r53_rlogs"
WHERE (parse_datetime(query_timestamp,'yyyy-MM-dd''T''HH:mm:ss''Z')
     BETWEEN parse_datetime('2020-09-24-00:00:00','yyyy-MM-dd-HH:mm:ss') 
     AND parse_datetime('2020-09-24-00:08:00','yyyy-MM-dd-HH:mm:ss'))
ORDER BY query_timestamp DESC"""

Q_NAME = """SELECT query_timestamp, srcids.instance, srcaddr, srcport, query_name, rcode, answers
FROM "r53_rlogs"
WHERE query_name LIKE '%example.com%'
ORDER BY query_timestamp DESC"""

Q_NO_ANSWER = """SELECT query_timestamp, srcids.instance, srcaddr, srcport, query_name, rcode, answers
FROM "r53_rlogs"
WHERE cardinality(answers) = 0"""

Q_ANSWER = """SELECT query_timestamp, srcids.instance, srcaddr, srcport, query_name, rcode, answer.Rdata
FROM "r53_rlogs"
CROSS JOIN UNNEST(r53_rlogs.answers) as st(answer)
WHERE answer.Rdata='203.0.113.16';"""


def rec(
    ts: str, name: str, rcode: str, answers: list[tuple[str, str]], src: str, port: int, **ids: str
) -> dict[str, Any]:
    """A Resolver query log record: srcport is logged as a string, answers as objects with
    capitalised keys, srcids with the instance or the resolver endpoint."""
    return {
        "version": "1.100000",
        "account_id": "123456789012",
        "region": "us-east-1",
        "vpc_id": "vpc-0a1b2c3d4e5f60718",
        "query_timestamp": ts,
        "query_name": name,
        "query_type": "A",
        "query_class": "IN",
        "rcode": rcode,
        "answers": [{"Rdata": d, "Type": t, "Class": "IN"} for d, t in answers],
        "srcaddr": src,
        "srcport": str(port),
        "transport": "UDP",
        "srcids": ids,
    }


RECORDS = [
    rec(
        "2020-09-24T00:05:21Z",
        "www.example.com.",
        "NOERROR",
        [("203.0.113.16", "A")],
        "10.0.0.5",
        48932,
        instance="i-0123456789abcdef0",
    ),
    rec(
        "2020-09-24T00:07:59Z",
        "api.example.com.",
        "NOERROR",
        [("api.example.net.", "CNAME"), ("203.0.113.17", "A")],
        "10.0.0.6",
        5353,
        instance="i-0fedcba9876543210",
    ),
    rec(
        "2020-09-24T00:08:01Z",
        "missing.example.com.",
        "NXDOMAIN",
        [],
        "10.0.0.5",
        40000,
        instance="i-0123456789abcdef0",
    ),
    rec(
        "2020-09-23T23:59:59Z",
        "aws.amazon.com.",
        "NOERROR",
        [("203.0.113.16", "A")],
        "192.168.1.9",
        53000,
        resolver_endpoint="rslvr-in-0123456789abcdef",
    ),
    rec(
        "2020-09-24T01:00:00Z",
        "slow.internal.",
        "SERVFAIL",
        [],
        "10.0.0.7",
        1024,
        instance="i-0aaaaaaaaaaaaaaaa",
    ),
]


def answers(r: dict[str, Any]) -> list[dict[str, str]]:
    return [{k.lower(): v for k, v in a.items()} for a in r["answers"]]


def full(r: dict[str, Any]) -> tuple[Any, ...]:
    ids = r["srcids"]
    return (
        r["version"], r["account_id"], r["region"], r["vpc_id"], r["query_timestamp"],
        r["query_name"], r["query_type"], r["query_class"], r["rcode"], answers(r),
        r["srcaddr"], int(r["srcport"]), r["transport"],
        {"instance": ids.get("instance"), "resolver_endpoint": ids.get("resolver_endpoint")},
    )  # fmt: skip


def summary(r: dict[str, Any], *extra: Any) -> tuple[Any, ...]:
    return (
        r["query_timestamp"],
        r["srcids"].get("instance"),
        r["srcaddr"],
        int(r["srcport"]),
        r["query_name"],
        r["rcode"],
        *extra,
    )


def lowered(value: Any) -> Any:
    """Struct field names compared in lower case, as Athena prints them."""
    if isinstance(value, dict):
        return {k.lower(): lowered(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lowered(v) for v in value]
    if isinstance(value, tuple):
        return tuple(lowered(v) for v in value)
    return value


def newest_first(rows: list[tuple[Any, ...]], at: int = 0) -> list[tuple[Any, ...]]:
    """Rows by query_timestamp (column `at`), newest first."""
    return sorted(rows, key=lambda row: row[at], reverse=True)


@pytest.fixture
def r53(athena: Athena) -> Athena:
    folder = (
        "s3://r53-sample/AWSLogs/123456789012/vpcdnsquerylogs/vpc-0a1b2c3d4e5f60718/2020/09/24/"
    )
    athena.put(
        folder + "vpc-0a1b2c3d4e5f60718_vpcdnsquerylogs_123456789012_20200924T0005Z_x.log.gz",
        "".join(json.dumps(r) + "\n" for r in RECORDS),
        gzipped=True,
    )
    ddl = relocate(
        CREATE_TABLE,
        (
            "s3://your_log_bucket/AWSLogs/{account_id}/vpcdnsquerylogs/{vpc-id}/",
            "s3://r53-sample/AWSLogs/123456789012/vpcdnsquerylogs/vpc-0a1b2c3d4e5f60718/",
        ),
    )
    athena.run(ddl)
    return athena


def test_verify(r53: Athena) -> None:
    assert unordered(lowered(r53.run(Q_VERIFY))) == unordered([full(r) for r in RECORDS])


def test_descending(r53: Athena) -> None:
    # every timestamp differs: one valid order
    assert lowered(r53.run(Q_DESC)) == newest_first([full(r) for r in RECORDS], at=4)


def test_time_window(r53: Athena) -> None:
    lo, hi = dt.datetime(2020, 9, 24, 0, 0), dt.datetime(2020, 9, 24, 0, 8)
    expected = [
        summary(r)
        for r in RECORDS
        if lo <= dt.datetime.strptime(r["query_timestamp"], "%Y-%m-%dT%H:%M:%SZ") <= hi
    ]
    assert len(expected) == 2
    assert r53.run(Q_WINDOW) == newest_first(expected)


def test_name_pattern(r53: Athena) -> None:
    expected = [summary(r, answers(r)) for r in RECORDS if "example.com" in r["query_name"]]
    assert len(expected) == 3
    assert lowered(r53.run(Q_NAME)) == newest_first(expected)


def test_no_answer(r53: Athena) -> None:
    expected = [summary(r, []) for r in RECORDS if not r["answers"]]
    assert len(expected) == 2
    assert unordered(r53.run(Q_NO_ANSWER)) == unordered(expected)


def test_specific_answer(r53: Athena) -> None:
    expected = [
        summary(r, a["Rdata"])
        for r in RECORDS
        for a in r["answers"]
        if a["Rdata"] == "203.0.113.16"
    ]
    assert len(expected) == 2
    assert unordered(r53.run(Q_ANSWER)) == unordered(expected)
