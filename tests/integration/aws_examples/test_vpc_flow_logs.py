"""VPC flow logs: the Athena User Guide's two text-format tables (an ALTER TABLE ADD
PARTITION table, and a partition projection table) and every example query on them, over
sample flow log records in the documented default format (versions 2 to 5), checked against
the same records split by plain Python."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/vpc-flow-logs.html"

# Verbatim from URL ("CREATE TABLE statement for Amazon VPC flow logs"); only LOCATION's
# bucket/prefix is replaced at run time.
CREATE_TABLE = """CREATE EXTERNAL TABLE IF NOT EXISTS `vpc_flow_logs` (
  version int,
  account_id string,
  interface_id string,
  srcaddr string,
  dstaddr string,
  srcport int,
  dstport int,
  protocol bigint,
  packets bigint,
  bytes bigint,
  start bigint,
  `end` bigint,
  action string,
  log_status string,
  vpc_id string,
  subnet_id string,
  instance_id string,
  tcp_flags int,
  type string,
  pkt_srcaddr string,
  pkt_dstaddr string,
  region string,
  az_id string,
  sublocation_type string,
  sublocation_id string,
  pkt_src_aws_service string,
  pkt_dst_aws_service string,
  flow_direction string,
  traffic_path int
)
PARTITIONED BY (`date` date)
ROW FORMAT DELIMITED
FIELDS TERMINATED BY ' '
LOCATION 's3://DOC-EXAMPLE-BUCKET/prefix/AWSLogs/{account_id}/vpcflowlogs/{region_code}/'
TBLPROPERTIES ("skip.header.line.count"="1");"""

# Verbatim from URL; the page says to replace the date and location placeholders, which
# the test does at run time.
ADD_PARTITION = """ALTER TABLE vpc_flow_logs
ADD PARTITION (`date`='YYYY-MM-dd')
LOCATION 's3://DOC-EXAMPLE-BUCKET/prefix/AWSLogs/{account_id}/vpcflowlogs/{region_code}/YYYY/MM/dd';"""

# Verbatim from URL ("Example queries for the vpc_flow_logs table").
Q_ONE_DAY = """SELECT * 
FROM vpc_flow_logs 
WHERE date = DATE('2020-05-04') 
LIMIT 100;"""

Q_REJECTED_DOW = """SELECT day_of_week(date) AS
  day,
  date,
  interface_id,
  srcaddr,
  action,
  protocol
FROM vpc_flow_logs
WHERE action = 'REJECT' AND protocol = 6
LIMIT 100;"""

Q_HTTPS_LAST_WEEK = """SELECT SUM(packets) AS
  packetcount,
  dstaddr
FROM vpc_flow_logs
WHERE dstport = 443 AND date > current_date - interval '7' day
GROUP BY dstaddr
ORDER BY packetcount DESC
LIMIT 10;"""

# Verbatim from URL ("Creating and querying a table for Amazon VPC flow logs using
# partition projection"); only the bucket/prefix of LOCATION and of the template change.
CREATE_PROJECTED = """CREATE EXTERNAL TABLE IF NOT EXISTS test_table_vpclogs (
  version int,
  account_id string,
  interface_id string,
  srcaddr string,
  dstaddr string,
  srcport int,
  dstport int,
  protocol bigint,
  packets bigint,
  bytes bigint,
  start bigint,
  `end` bigint,
  action string,
  log_status string,
  vpc_id string,
  subnet_id string,
  instance_id string,
  tcp_flags int,
  type string,
  pkt_srcaddr string,
  pkt_dstaddr string,
  az_id string,
  sublocation_type string,
  sublocation_id string,
  pkt_src_aws_service string,
  pkt_dst_aws_service string,
  flow_direction string,
  traffic_path int
)
PARTITIONED BY (region string, day string)
ROW FORMAT DELIMITED
FIELDS TERMINATED BY ' '
LOCATION 's3://DOC-EXAMPLE-BUCKET/prefix/AWSLogs/{account_id}/vpcflowlogs/'
TBLPROPERTIES
(
"skip.header.line.count"="1",
"projection.enabled" = "true",
"projection.region.type" = "enum",
"projection.region.values" = "us-east-1,us-west-2,ap-south-1,eu-west-1",
"projection.day.type" = "date",
"projection.day.range" = "2021/01/01,NOW",
"projection.day.format" = "yyyy/MM/dd",
"storage.location.template" = "s3://DOC-EXAMPLE-BUCKET/prefix/AWSLogs/${account_id}/vpcflowlogs/${region}/${day}"
)"""

# Verbatim from URL ("Example queries for test_table_vpclogs").
Q_PP_RANGE = """SELECT *
FROM test_table_vpclogs
WHERE day >= '2021/02/01' AND day < '2021/02/28'
ORDER BY day ASC
LIMIT 100"""

Q_PP_HTTPS = """SELECT SUM(packets) AS packetcount, 
       dstaddr
FROM test_table_vpclogs
WHERE dstport = 443
  AND day >= '2021/03/01'
  AND day < '2021/03/31'
GROUP BY dstaddr
ORDER BY packetcount DESC
LIMIT 10"""

Q_PP_TIMES = """SELECT interface_id,
       srcaddr,
       action,
       protocol,
       to_iso8601(from_unixtime(start)) AS start_time,
       to_iso8601(from_unixtime("end")) AS end_time
FROM test_table_vpclogs
WHERE DAY >= '2021/04/01'
  AND DAY < '2021/04/30'"""

Q_PP_SRC = """SELECT *
FROM test_table_vpclogs
WHERE srcaddr = '10.117.1.22'
  AND day >= '2021/02/01'
  AND day < '2021/02/28'"""

Q_PP_REJECTED = """SELECT day,
       interface_id,
       srcaddr,
       action,
       protocol
FROM test_table_vpclogs
WHERE action = 'REJECT' AND protocol = 6 AND day >= '2021/02/01' AND day < '2021/02/28'
LIMIT 10"""

Q_PP_PREFIX = """SELECT *
FROM test_table_vpclogs
WHERE split_part(srcaddr,'.', 1)='10'
  AND split_part(srcaddr,'.', 2) ='117'"""

Q_PP_DST = """SELECT *
FROM test_table_vpclogs
WHERE dstaddr = '10.0.1.14'
  AND day >= '2021/01/01'
  AND day < '2021/01/31'"""

FIELDS = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
]
NUMERIC = {"version", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end",
           "tcp-flags", "traffic-path"}  # fmt: skip


def record(src: str, dst: str, sport: int, dport: int, proto: int, packets: int,
           start: int, action: str, region: str = "us-east-1") -> str:  # fmt: skip
    """One flow log record in the documented default format (versions 2 to 5), space
    separated, '-' for the fields that do not apply (no sublocation, no AWS service)."""
    values = [
        "5", "123456789012", "eni-1235b8ca123456789", src, dst, str(sport), str(dport),
        str(proto), str(packets), str(packets * 60), str(start), str(start + 59), action,
        "OK", "vpc-0a1b2c3d", "subnet-aaaaaaaa01234567a", "i-01234567890123456", "19",
        "IPv4", src, dst, region, "use1-az1", "-", "-", "-", "-", "ingress", "-",
    ]  # fmt: skip
    return " ".join(values)


def nodata(start: int) -> str:
    """A NODATA record: no traffic in the window, every traffic field '-'."""
    values = ["5", "123456789012", "eni-1235b8ca123456789"] + ["-"] * 7
    values += [str(start), str(start + 59), "-", "NODATA"] + ["-"] * 15
    return " ".join(values)


def parse(line: str) -> dict[str, Any]:
    values = line.split(" ")
    assert len(values) == len(FIELDS)
    return {
        f.replace("-", "_"): (int(v) if v != "-" else None) if f in NUMERIC else v
        for f, v in zip(FIELDS, values, strict=True)
    }


TODAY = dt.datetime.now(dt.UTC).date()  # current_date in the UTC session
DAYS = {  # partition date -> records
    dt.date(2020, 5, 4): [
        record("10.0.0.5", "10.0.1.14", 49152, 443, 6, 10, 1588550400, "ACCEPT"),
        record("203.0.113.12", "10.0.1.14", 36412, 22, 6, 3, 1588550460, "REJECT"),
        nodata(1588550520),
    ],
    TODAY - dt.timedelta(days=1): [
        record("10.0.0.5", "10.0.1.14", 49153, 443, 6, 7, 1700000000, "ACCEPT"),
        record("10.0.0.6", "10.0.1.15", 49154, 443, 6, 5, 1700000060, "ACCEPT"),
        record("10.0.0.7", "10.0.1.15", 49155, 443, 17, 2, 1700000120, "ACCEPT"),
        record("198.51.100.9", "10.0.1.15", 5353, 443, 6, 4, 1700000180, "REJECT"),
    ],
    TODAY - dt.timedelta(days=30): [
        record("10.0.0.5", "10.0.1.16", 49156, 443, 6, 99, 1600000000, "ACCEPT"),
    ],
}

ACCOUNT_PREFIX = "s3://vpc-sample/prefix/AWSLogs/123456789012/vpcflowlogs/"
DOC_LOCATION = "s3://DOC-EXAMPLE-BUCKET/prefix/AWSLogs/{account_id}/vpcflowlogs/"


def put_day(
    athena: Athena, region: str, day: dt.date, records: list[str], fields: list[str] = FIELDS
) -> None:
    folder = f"{ACCOUNT_PREFIX}{region}/{day:%Y/%m/%d}/"
    name = f"123456789012_vpcflowlogs_{region}_fl-1234abcd_{day:%Y%m%d}T0000Z_hash.log.gz"
    athena.put(folder + name, " ".join(fields) + "\n" + "\n".join(records) + "\n", gzipped=True)


def without_region(line: str) -> str:
    """The record as a flow log with a custom format that leaves out `region` writes it:
    the projected table of the page has no region column (the region is a partition), and
    a custom format's fields must match the table's columns in order."""
    values = line.split(" ")
    del values[FIELDS.index("region")]
    return " ".join(values)


@pytest.fixture
def vpc(athena: Athena) -> Athena:
    athena.run(
        relocate(CREATE_TABLE, (DOC_LOCATION, ACCOUNT_PREFIX)).replace("{region_code}", "us-east-1")
    )
    for day, records in DAYS.items():
        put_day(athena, "us-east-1", day, records)
        ddl = relocate(
            ADD_PARTITION, (DOC_LOCATION + "{region_code}/", ACCOUNT_PREFIX + "us-east-1/")
        )
        athena.run(
            ddl.replace("YYYY-MM-dd", f"{day:%Y-%m-%d}").replace("YYYY/MM/dd", f"{day:%Y/%m/%d}")
        )
    return athena


def rows_of(days: dict[dt.date, list[str]]) -> list[tuple[dt.date, dict[str, Any]]]:
    return [(day, parse(line)) for day, lines in days.items() for line in lines]


def test_one_day(vpc: Athena) -> None:
    day = dt.date(2020, 5, 4)
    expected = [(*r.values(), d) for d, r in rows_of(DAYS) if d == day]
    assert len(expected) == 3
    assert unordered(vpc.run(Q_ONE_DAY)) == unordered(expected)


def test_rejected_tcp_with_day_of_week(vpc: Athena) -> None:
    expected = [
        (d.isoweekday(), d, r["interface_id"], r["srcaddr"], r["action"], r["protocol"])
        for d, r in rows_of(DAYS)
        if r["action"] == "REJECT" and r["protocol"] == 6
    ]
    assert len(expected) == 2
    assert unordered(vpc.run(Q_REJECTED_DOW)) == unordered(expected)


def test_https_packets_last_week(vpc: Athena) -> None:
    sums: dict[str, int] = {}
    for d, r in rows_of(DAYS):
        if r["dstport"] == 443 and d > TODAY - dt.timedelta(days=7):
            sums[r["dstaddr"]] = sums.get(r["dstaddr"], 0) + r["packets"]
    expected = sorted(((n, a) for a, n in sums.items()), reverse=True)
    assert vpc.run(Q_HTTPS_LAST_WEEK) == expected


PP_DAYS = {  # (region, day) -> records
    ("us-east-1", dt.date(2021, 1, 15)): [
        record("10.0.0.5", "10.0.1.14", 40000, 443, 6, 4, 1610668800, "ACCEPT"),
    ],
    ("us-east-1", dt.date(2021, 2, 10)): [
        record("10.117.1.22", "10.0.1.14", 40001, 443, 6, 8, 1612915200, "ACCEPT"),
        record("10.117.1.22", "10.0.1.20", 40002, 22, 6, 1, 1612915260, "REJECT"),
        nodata(1612915320),
    ],
    ("eu-west-1", dt.date(2021, 2, 27)): [
        record("10.117.9.9", "10.0.1.14", 40003, 3306, 6, 2, 1614384000, "REJECT", "eu-west-1"),
        record("10.118.1.22", "10.0.1.14", 40004, 443, 17, 2, 1614384060, "REJECT", "eu-west-1"),
    ],
    ("us-east-1", dt.date(2021, 2, 28)): [
        record("10.117.1.22", "10.0.1.14", 40005, 22, 6, 1, 1614470400, "REJECT"),
    ],
    ("us-west-2", dt.date(2021, 3, 5)): [
        record("10.0.0.5", "10.0.1.14", 40006, 443, 6, 30, 1614902400, "ACCEPT", "us-west-2"),
        record("10.0.0.6", "10.0.1.15", 40007, 443, 6, 12, 1614902460, "ACCEPT", "us-west-2"),
        record("10.0.0.6", "10.0.1.15", 40008, 443, 6, 11, 1614902520, "ACCEPT", "us-west-2"),
    ],
    ("us-east-1", dt.date(2021, 4, 2)): [
        record("10.0.0.5", "10.0.1.14", 40009, 80, 6, 5, 1617321600, "ACCEPT"),
        record("10.117.3.4", "10.0.1.14", 40010, 443, 6, 6, 1617321660, "ACCEPT"),
    ],
}


def pp_rows() -> list[tuple[Any, ...]]:
    """Each record as the projected table's columns: the file's fields less `region`
    (the projected table has none), then the partitions region and day."""
    rows = []
    for (region, day), lines in PP_DAYS.items():
        for line in lines:
            r = parse(line)
            del r["region"]
            rows.append((*r.values(), region, f"{day:%Y/%m/%d}"))
    return rows


# the projected table's column positions
SRC, DST, DPORT, PROTO, PACKETS, START, END, ACTION, DAY = 3, 4, 6, 7, 8, 10, 11, 12, 29


@pytest.fixture
def projected(athena: Athena) -> Athena:
    fields = [f for f in FIELDS if f != "region"]
    for (region, day), records in PP_DAYS.items():
        put_day(athena, region, day, [without_region(r) for r in records], fields)
    ddl = relocate(
        CREATE_PROJECTED,
        (DOC_LOCATION, ACCOUNT_PREFIX),
        ("s3://DOC-EXAMPLE-BUCKET/prefix/AWSLogs/${account_id}/vpcflowlogs/", ACCOUNT_PREFIX),
    )
    athena.run(ddl)
    return athena


def in_range(row: tuple[Any, ...], lo: str, hi: str) -> bool:
    return bool(lo <= row[DAY] < hi)


def test_pp_range_ordered_by_day(projected: Athena) -> None:
    expected = [r for r in pp_rows() if in_range(r, "2021/02/01", "2021/02/28")]
    got = projected.run(Q_PP_RANGE)
    assert [r[DAY] for r in got] == sorted(r[DAY] for r in expected)
    assert unordered(got) == unordered(expected)


def test_pp_https_top(projected: Athena) -> None:
    sums: dict[str, int] = {}
    for r in pp_rows():
        if r[DPORT] == 443 and in_range(r, "2021/03/01", "2021/03/31"):
            sums[r[DST]] = sums.get(r[DST], 0) + r[PACKETS]
    assert projected.run(Q_PP_HTTPS) == sorted(((n, a) for a, n in sums.items()), reverse=True)


def test_pp_iso_times(projected: Athena) -> None:
    def iso(epoch: int) -> str:
        # Athena's to_iso8601 of a timestamp with time zone (UTC session): milliseconds, 'Z'
        return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    expected = [
        (r[2], r[SRC], r[ACTION], r[PROTO], iso(r[START]), iso(r[END]))
        for r in pp_rows()
        if in_range(r, "2021/04/01", "2021/04/30")
    ]
    assert len(expected) == 2
    assert unordered(projected.run(Q_PP_TIMES)) == unordered(expected)


def test_pp_source_address(projected: Athena) -> None:
    expected = [
        r for r in pp_rows() if r[SRC] == "10.117.1.22" and in_range(r, "2021/02/01", "2021/02/28")
    ]
    assert len(expected) == 2
    assert unordered(projected.run(Q_PP_SRC)) == unordered(expected)


def test_pp_rejected_tcp(projected: Athena) -> None:
    expected = [
        (r[DAY], r[2], r[SRC], r[ACTION], r[PROTO])
        for r in pp_rows()
        if r[ACTION] == "REJECT" and r[PROTO] == 6 and in_range(r, "2021/02/01", "2021/02/28")
    ]
    assert len(expected) == 2
    assert unordered(projected.run(Q_PP_REJECTED)) == unordered(expected)


def test_pp_address_prefix(projected: Athena) -> None:
    expected = [r for r in pp_rows() if r[SRC].split(".")[:2] == ["10", "117"]]
    assert len(expected) == 5
    assert unordered(projected.run(Q_PP_PREFIX)) == unordered(expected)


def test_pp_destination(projected: Athena) -> None:
    expected = [
        r for r in pp_rows() if r[DST] == "10.0.1.14" and in_range(r, "2021/01/01", "2021/01/31")
    ]
    assert len(expected) == 1
    assert unordered(projected.run(Q_PP_DST)) == unordered(expected)
