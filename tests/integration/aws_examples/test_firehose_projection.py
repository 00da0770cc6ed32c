"""Partition projection over Firehose output: the Athena User Guide's "Amazon Data Firehose
example" tables (one datehour key; separate day and hour keys; a date key with an injected
customer_id, as string and as DATE) and each of its queries, over sample JSON records in
the folders a Firehose delivery stream writes, checked against the same records and
folders read by plain Python."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/partition-projection-kinesis-firehose-example.html"

# Verbatim from URL. The page elides the columns and the row format ("..."), which the
# test fills in (fill(): two JSON fields, the OpenX JSON SerDe, as Firehose delivers
# JSON), and the bucket of LOCATION and of the template is replaced.
CREATE_DATEHOUR = """CREATE EXTERNAL TABLE my_ingested_data (
 ...
)
...
PARTITIONED BY (
 datehour STRING
)
LOCATION "s3://DOC-EXAMPLE-BUCKET/prefix/"
TBLPROPERTIES (
 "projection.enabled" = "true",
 "projection.datehour.type" = "date",
 "projection.datehour.format" = "yyyy/MM/dd/HH",
 "projection.datehour.range" = "2021/01/01/00,NOW",
 "projection.datehour.interval" = "1",
 "projection.datehour.interval.unit" = "HOURS",
 "storage.location.template" = "s3://DOC-EXAMPLE-BUCKET/prefix/${datehour}/"
)"""

Q_DATEHOUR_RANGE = """SELECT *
FROM my_ingested_data
WHERE datehour >= '2020/12/15/00'
AND datehour < '2021/02/03/15'"""

Q_DATEHOUR_RECENT = """SELECT *
FROM my_ingested_data
WHERE datehour >= '2021/11/09/00'"""

CREATE_DAY_HOUR = """CREATE EXTERNAL TABLE my_ingested_data2 (
 ...
)
...
PARTITIONED BY (
 day STRING,
 hour INT
)
LOCATION "s3://DOC-EXAMPLE-BUCKET/prefix/"
TBLPROPERTIES (
 "projection.enabled" = "true",
 "projection.day.type" = "date",
 "projection.day.format" = "yyyy/MM/dd",
 "projection.day.range" = "2021/01/01,NOW",
 "projection.day.interval" = "1",
 "projection.day.interval.unit" = "DAYS",
 "projection.hour.type" = "integer",
 "projection.hour.range" = "0,23",
 "projection.hour.digits" = "2",
 "storage.location.template" = "s3://DOC-EXAMPLE-BUCKET/prefix/${day}/${hour}/"
)"""

Q_DAY_HOUR = """SELECT *
FROM my_ingested_data2
WHERE day = '2021/11/09'
AND hour > 3"""

CREATE_INJECTED = """CREATE EXTERNAL TABLE my_ingested_data3 (
 ...
)
...
PARTITIONED BY (
 day STRING,
 customer_id STRING
)
LOCATION "s3://DOC-EXAMPLE-BUCKET/prefix/"
TBLPROPERTIES (
 "projection.enabled" = "true",
 "projection.day.type" = "date",
 "projection.day.format" = "yyyy-MM-dd",
 "projection.day.range" = "2021-01-01,NOW",
 "projection.day.interval" = "1",
 "projection.day.interval.unit" = "DAYS",
 "projection.customer_id.type" = "injected",
 "storage.location.template" = "s3://DOC-EXAMPLE-BUCKET/prefix/${day}/${customer_id}/"
)"""

Q_INJECTED = """SELECT *
FROM my_ingested_data3
WHERE day BETWEEN '2021-11-01' AND '2021-11-30'
AND customer_id = 'customer-1234'"""

# the page's DATE variant: its PARTITIONED BY line replaces the one of CREATE_INJECTED
DATE_PARTITIONS = """PARTITIONED BY (day DATE, customer_id STRING)"""

Q_INJECTED_DATE = """SELECT *
FROM my_ingested_data3
WHERE day > CURRENT_DATE - INTERVAL '7' DAY
AND customer_id = 'customer-1234'"""

PREFIX = "s3://firehose-sample/prefix/"


def fill(ddl: str) -> str:
    """The page's DDL with its two elisions filled in and its bucket replaced."""
    ddl = relocate(
        ddl,
        (
            " ...\n)\n...\n",
            " ticker string,\n price double\n)\nROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n",
        ),
    )
    return relocate(ddl, ("s3://DOC-EXAMPLE-BUCKET/prefix/", PREFIX))


def put(athena: Athena, folder: str, records: list[dict[str, Any]]) -> None:
    stamp = folder.strip("/").replace("/", "-")
    athena.put(
        f"{PREFIX}{folder}my-delivery-stream-1-{stamp}-7e9f3c1a",
        "".join(json.dumps(r) + "\n" for r in records),
    )


def records(tag: str) -> list[dict[str, Any]]:
    return [{"ticker": f"{tag}-A", "price": 10.5}, {"ticker": f"{tag}-B", "price": -0.25}]


def rows(folder_value: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (r["ticker"], r["price"], *value)
        for folder, value in folder_value.items()
        for r in records(folder)
    ]


HOURS = ["2020/12/31/23", "2021/01/01/00", "2021/02/03/14", "2021/02/03/15", "2021/11/08/23", "2021/11/09/05", "2099/01/01/00"]  # fmt: skip


def test_datehour(athena: Athena) -> None:
    for hour in HOURS:
        put(athena, hour + "/", records(hour + "/"))
    athena.run(fill(CREATE_DATEHOUR))
    # the range starts at 2021/01/01/00 and ends now: the 2020 hour and the 2099 hour are
    # never projected, whatever the WHERE clause says
    in_range = [
        h for h in HOURS if "2021/01/01/00" <= h <= dt.datetime.now(dt.UTC).strftime("%Y/%m/%d/%H")
    ]
    first = {h + "/": (h,) for h in in_range if "2020/12/15/00" <= h < "2021/02/03/15"}
    assert len(first) == 2
    assert unordered(athena.run(Q_DATEHOUR_RANGE)) == unordered(rows(first))
    recent = {h + "/": (h,) for h in in_range if h >= "2021/11/09/00"}
    assert len(recent) == 1
    assert unordered(athena.run(Q_DATEHOUR_RECENT)) == unordered(rows(recent))


def test_day_and_hour(athena: Athena) -> None:
    folders = {("2021/11/09", 3), ("2021/11/09", 4), ("2021/11/09", 23), ("2021/11/10", 5)}
    for day, hour in folders:
        put(athena, f"{day}/{hour:02d}/", records(f"{day}/{hour:02d}/"))
    athena.run(fill(CREATE_DAY_HOUR))
    expected = {f"{d}/{h:02d}/": (d, h) for d, h in folders if d == "2021/11/09" and h > 3}
    assert len(expected) == 2
    assert unordered(athena.run(Q_DAY_HOUR)) == unordered(rows(expected))


def test_injected_customer(athena: Athena) -> None:
    folders = {("2021-11-01", "customer-1234"), ("2021-11-30", "customer-1234"), ("2021-11-15", "customer-9"), ("2021-12-01", "customer-1234")}  # fmt: skip
    for day, customer in folders:
        put(athena, f"{day}/{customer}/", records(f"{day}/{customer}/"))
    athena.run(fill(CREATE_INJECTED))
    expected = {
        f"{d}/{c}/": (d, c)
        for d, c in folders
        if "2021-11-01" <= d <= "2021-11-30" and c == "customer-1234"
    }
    assert len(expected) == 2
    assert unordered(athena.run(Q_INJECTED)) == unordered(rows(expected))


def test_injected_customer_with_date_key(athena: Athena) -> None:
    today = dt.datetime.now(dt.UTC).date()
    days = [today - dt.timedelta(days=2), today - dt.timedelta(days=30)]
    for day in days:
        for customer in ("customer-1234", "customer-9"):
            put(athena, f"{day.isoformat()}/{customer}/", records(f"{day}/{customer}/"))
    ddl = relocate(
        fill(CREATE_INJECTED),
        ("PARTITIONED BY (\n day STRING,\n customer_id STRING\n)", DATE_PARTITIONS),
    )
    athena.run(ddl)
    expected = {
        f"{d}/customer-1234/": (d, "customer-1234")
        for d in days
        if d > today - dt.timedelta(days=7)
    }
    assert len(expected) == 1
    assert unordered(athena.run(Q_INJECTED_DATE)) == unordered(rows(expected))
