"""Hive JSON SerDe: the Athena User Guide's advertising-data table loaded with MSCK REPAIR
TABLE, and its `timestamp.formats` SerDe property, over sample JSON records, checked
against the same records read by json."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from integration.aws_examples.conftest import Athena, relocate, unordered
from integration.aws_examples.test_openx_json import IMPRESSIONS

URL = "https://docs.aws.amazon.com/athena/latest/ug/hive-json-serde.html"

# Verbatim from URL; only LOCATION's bucket is replaced at run time.
CREATE_IMPRESSIONS = """CREATE EXTERNAL TABLE impressions (
    requestbegintime string,
    adid string,
    impressionid string,
    referrer string,
    useragent string,
    usercookie string,
    ip string,
    number string,
    processid string,
    browsercookie string,
    requestendtime string,
    timers struct
                <
                 modellookup:string, 
                 requesttime:string
                >,
    threadid string, 
    hostname string,
    sessionid string
)   
PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
LOCATION 's3://myregion.elasticmapreduce/samples/hive-ads/tables/impressions';"""

MSCK = """MSCK REPAIR TABLE impressions"""

# The page's SerDe clause for timestamp formats (between its "..." elisions); the
# statement around it is this test's own.
TIMESTAMP_FORMATS = """ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
WITH SERDEPROPERTIES ("timestamp.formats"="yyyy-MM-dd'T'HH:mm:ss.SSS'Z',yyyy-MM-dd'T'HH:mm:ss")"""

COLUMNS = [
    "requestbegintime", "adid", "impressionid", "referrer", "useragent", "usercookie", "ip",
    "number", "processid", "browsercookie", "requestendtime", "timers", "threadid", "hostname",
    "sessionid",
]  # fmt: skip


def test_impressions_with_msck(athena: Athena) -> None:
    prefix = "s3://hive-json-sample.elasticmapreduce/samples/hive-ads/tables/impressions"
    for part, records in IMPRESSIONS.items():
        athena.put(f"{prefix}/dt={part}/part-0000", "".join(json.dumps(r) + "\n" for r in records))
    athena.run(
        relocate(
            CREATE_IMPRESSIONS,
            ("s3://myregion.elasticmapreduce/", "s3://hive-json-sample.elasticmapreduce/"),
        )
    )
    athena.run(MSCK)
    got = athena.session.sql("SELECT * FROM impressions").to_pylist()
    expected: list[dict[str, Any]] = []
    for part, records in IMPRESSIONS.items():
        for rec in records:
            # the Hive JSON SerDe matches the records' camel-case keys to the columns
            # without regard to case
            lower = {k.lower(): v for k, v in rec.items()}
            row = {c: lower.get(c) for c in COLUMNS}
            timers = {k.lower(): v for k, v in rec["timers"].items()}
            row["timers"] = {
                "modellookup": timers.get("modellookup"),
                "requesttime": timers.get("requesttime"),
            }
            row["dt"] = part
            expected.append(row)
    assert sorted(got, key=lambda r: r["dt"]) == expected


def test_timestamp_formats(athena: Athena) -> None:
    texts = ["2021-03-01T10:00:00.123Z", "2021-03-01T23:59:59"]
    athena.put(
        "s3://hive-json-sample/events/e.json",
        "".join(json.dumps({"id": i, "ts": t}) + "\n" for i, t in enumerate(texts)),
    )
    athena.run(
        f"CREATE EXTERNAL TABLE events (id int, ts timestamp)\n{TIMESTAMP_FORMATS}\nLOCATION 's3://hive-json-sample/events/'"
    )
    expected = [
        (0, dt.datetime(2021, 3, 1, 10, 0, 0, 123000)),
        (1, dt.datetime(2021, 3, 1, 23, 59, 59)),
    ]
    assert unordered(athena.run("SELECT id, ts FROM events")) == unordered(expected)
