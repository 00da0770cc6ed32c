"""Application Load Balancer access logs: the Athena User Guide's DDL (plain and with
partition projection) and its example queries, over sample log lines in the documented
ALB access log format, checked against the same lines split by plain Python."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/application-load-balancer-logs.html"

# Verbatim from URL ("Creating the table for ALB logs"). Only the LOCATION's bucket/prefix
# is replaced at run time (relocate), to point at the sample data.
CREATE_TABLE = r"""CREATE EXTERNAL TABLE IF NOT EXISTS alb_logs (
            type string,
            time string,
            elb string,
            client_ip string,
            client_port int,
            target_ip string,
            target_port int,
            request_processing_time double,
            target_processing_time double,
            response_processing_time double,
            elb_status_code int,
            target_status_code string,
            received_bytes bigint,
            sent_bytes bigint,
            request_verb string,
            request_url string,
            request_proto string,
            user_agent string,
            ssl_cipher string,
            ssl_protocol string,
            target_group_arn string,
            trace_id string,
            domain_name string,
            chosen_cert_arn string,
            matched_rule_priority string,
            request_creation_time string,
            actions_executed string,
            redirect_url string,
            lambda_error_reason string,
            target_port_list string,
            target_status_code_list string,
            classification string,
            classification_reason string
            )
            ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
            WITH SERDEPROPERTIES (
            'serialization.format' = '1',
            'input.regex' = 
        '([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) (|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) \"([^ ]*) (.*) (- |[^ ]*)\" \"([^\"]*)\" ([A-Z0-9-_]+) ([A-Za-z0-9.-]*) ([^ ]*) \"([^\"]*)\" \"([^\"]*)\" \"([^\"]*)\" ([-.0-9]*) ([^ ]*) \"([^\"]*)\" \"([^\"]*)\" \"([^ ]*)\" \"([^\s]+?)\" \"([^\s]+)\" \"([^ ]*)\" \"([^ ]*)\"')
            LOCATION 's3://your-alb-logs-directory/AWSLogs/<ACCOUNT-ID>/elasticloadbalancing/<REGION>/'"""

# Verbatim from URL ("Creating the table for ALB logs in Athena using partition
# projection"). Only the bucket/prefix of LOCATION and storage.location.template change.
CREATE_TABLE_PROJECTED = r"""CREATE EXTERNAL TABLE IF NOT EXISTS alb_logs (
            type string,
            time string,
            elb string,
            client_ip string,
            client_port int,
            target_ip string,
            target_port int,
            request_processing_time double,
            target_processing_time double,
            response_processing_time double,
            elb_status_code int,
            target_status_code string,
            received_bytes bigint,
            sent_bytes bigint,
            request_verb string,
            request_url string,
            request_proto string,
            user_agent string,
            ssl_cipher string,
            ssl_protocol string,
            target_group_arn string,
            trace_id string,
            domain_name string,
            chosen_cert_arn string,
            matched_rule_priority string,
            request_creation_time string,
            actions_executed string,
            redirect_url string,
            lambda_error_reason string,
            target_port_list string,
            target_status_code_list string,
            classification string,
            classification_reason string
            )
            PARTITIONED BY
            (
             day STRING
            )
            ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
            WITH SERDEPROPERTIES (
            'serialization.format' = '1',
            'input.regex' = 
        '([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) (|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) \"([^ ]*) (.*) (- |[^ ]*)\" \"([^\"]*)\" ([A-Z0-9-_]+) ([A-Za-z0-9.-]*) ([^ ]*) \"([^\"]*)\" \"([^\"]*)\" \"([^\"]*)\" ([-.0-9]*) ([^ ]*) \"([^\"]*)\" \"([^\"]*)\" \"([^ ]*)\" \"([^\s]+?)\" \"([^\s]+)\" \"([^ ]*)\" \"([^ ]*)\"')
            LOCATION 's3://your-alb-logs-directory/AWSLogs/<ACCOUNT-ID>/elasticloadbalancing/<REGION>/'
            TBLPROPERTIES
            (
             "projection.enabled" = "true",
             "projection.day.type" = "date",
             "projection.day.range" = "2022/01/01,NOW",
             "projection.day.format" = "yyyy/MM/dd",
             "projection.day.interval" = "1",
             "projection.day.interval.unit" = "DAYS",
             "storage.location.template" = "s3://your-alb-logs-directory/AWSLogs/<ACCOUNT-ID>/elasticloadbalancing/<REGION>/${day}"
            )"""

# Verbatim from URL ("Example queries for ALB logs").
Q_COUNT_BY_VERB = """SELECT COUNT(request_verb) AS
 count,
 request_verb,
 client_ip
FROM alb_logs
GROUP BY request_verb, client_ip
LIMIT 100;"""

Q_SAFARI = """SELECT request_url
FROM alb_logs
WHERE user_agent LIKE '%Safari%'
LIMIT 10;"""

Q_5XX = """SELECT * FROM alb_logs
WHERE elb_status_code >= 500"""

Q_PARSE_DATETIME = """SELECT client_ip, sum(received_bytes) 
FROM alb_logs
WHERE parse_datetime(time,'yyyy-MM-dd''T''HH:mm:ss.SSSSSS''Z') 
     BETWEEN parse_datetime('2018-05-30-12:00:00','yyyy-MM-dd-HH:mm:ss') 
     AND parse_datetime('2018-05-31-00:00:00','yyyy-MM-dd-HH:mm:ss') 
GROUP BY client_ip;"""

Q_DAY = """SELECT * 
FROM alb_logs 
WHERE day = '2022/02/12'"""

DOC_PREFIX = "s3://your-alb-logs-directory/AWSLogs/<ACCOUNT-ID>/elasticloadbalancing/<REGION>/"
PREFIX = "s3://alb-sample/AWSLogs/123456789012/elasticloadbalancing/us-east-1/"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0b3c3e4e-1a2b-4c5d-8e9f-001122334455"
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.1 Safari/605.1.15"
)

# Sample entries in the documented access log entry format: space-separated fields, the
# request, user agent and later text fields in double quotes, '-' where a value is absent
# (no target after a 502 or for a redirect, no TLS on plain http, no certificate, no trace),
# and -1 for a processing time that never happened.
LINES_2018 = [
    "http 2018-05-30T12:10:01.123456Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 "
    '10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/index.html '
    f'HTTP/1.1" "{SAFARI}" - - {TG} "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 '
    '2018-05-30T12:10:01.120000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"',
    "https 2018-05-30T23:59:59.999999Z app/my-lb/50dc6c495c0c9188 192.168.131.40:5000 - "
    '0.000 -1 -1 502 - 250 257 "POST https://www.example.com:443/api/orders?id=7&q=a%20b '
    'HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
    f'{TG} "Root=1-58337364-23a8c76965a2ef7629b185e3" "www.example.com" "{CERT}" 1 '
    '2018-05-30T23:59:59.990000Z "forward" "-" "-" "-" "-" "Ambiguous" '
    '"UndefinedContentLengthSemantics"',
    "h2 2018-05-31T00:00:00.000001Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2818 "
    '10.0.0.2:8080 0.001 0.120 0.000 504 - 1000 0 "GET https://www.example.com:443/slow '
    f'HTTP/2.0" "{SAFARI}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 {TG} '
    f'"Root=1-5833739e-3f9f1c0e5a5b0e3e0a1e2f3a" "www.example.com" "{CERT}" 2 '
    '2018-05-31T00:00:00.000000Z "waf,forward" "-" "-" "10.0.0.2:8080" "-" "-" "-"',
    "http 2018-05-29T08:00:00.500000Z app/my-lb/50dc6c495c0c9188 192.168.131.41:4096 "
    '- -1 -1 -1 301 - 120 80 "GET http://www.example.com:80/old HTTP/1.1" "-" - - '
    '- "Root=1-5833730b-0a1b2c3d4e5f60718293a4b5" "-" "-" 0 2018-05-29T08:00:00.490000Z '
    '"redirect" "https://www.example.com:443/old" "-" "-" "-" "-" "-"',
    "http 2018-05-30T18:30:00.000000Z app/my-lb/50dc6c495c0c9188 192.168.131.40:5001 "
    '10.0.0.1:80 0.000 0.003 0.000 200 200 500 1024 "PUT http://www.example.com:80/a%20file '
    'HTTP/1.1" "aws-cli/2.0 Python/3.11" - - '
    f'{TG} "Root=1-5833740a-6bb1b35fa1b3c4d5e6f7a8b9" "-" "-" 3 '
    '2018-05-30T18:30:00.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"',
]

LINES_BY_DAY = {
    "2022/02/12": [
        line.replace("2018-05-30T", "2022-02-12T").replace("2018-05-31T", "2022-02-12T")
        for line in LINES_2018[:3]
    ],
    "2022/02/13": [line.replace("2018-05-29T", "2022-02-13T") for line in LINES_2018[3:]],
}

FIELD = re.compile(r'"[^"]*"|\S+')
INTS = (4, 6, 10)
DOUBLES = (7, 8, 9)
BIGINTS = (12, 13)


def parse(line: str) -> tuple[Any, ...]:
    """One entry as the table's 33 columns: split on blanks outside double quotes, then the
    client and target into address and port, and the request into verb, URL and protocol."""
    f = [t[1:-1] if t.startswith('"') else t for t in FIELD.findall(line)]
    assert len(f) == 29, line
    client_ip, client_port = f[3].rsplit(":", 1)
    # the target is ip:port, or '-' when no target was reached: the documented regex then
    # reads an empty address and an empty port (NULL as an int)
    target_ip, target_port = f[4].rsplit(":", 1) if f[4] != "-" else ("", "")
    verb, rest = f[12].split(" ", 1)
    url, proto = rest.rsplit(" ", 1)
    row: list[Any] = [*f[:3], client_ip, client_port, target_ip, target_port, *f[5:12]]
    row += [verb, url, proto, *f[13:]]
    for i in INTS + BIGINTS:
        row[i] = int(row[i]) if row[i] else None
    for i in DOUBLES:
        row[i] = float(row[i])
    assert len(row) == 33
    return tuple(row)


def load(athena: Athena, ddl: str) -> None:
    for day, lines in LINES_BY_DAY.items():
        name = f"123456789012_elasticloadbalancing_us-east-1_app.my-lb.50dc6c495c0c9188_{day.replace('/', '')}T2340Z_10.0.0.9_x1.log.gz"
        athena.put(f"{PREFIX}{day}/{name}", "\n".join(lines) + "\n", gzipped=True)
    athena.put(f"{PREFIX}2018/05/30/old.log.gz", "\n".join(LINES_2018) + "\n", gzipped=True)
    athena.run(relocate(ddl, (DOC_PREFIX, PREFIX)))


ALL_LINES = LINES_2018 + [line for lines in LINES_BY_DAY.values() for line in lines]


@pytest.fixture
def alb(athena: Athena) -> Athena:
    load(athena, CREATE_TABLE)
    return athena


def test_count_by_verb_and_client(alb: Athena) -> None:
    counts: dict[tuple[str, str], int] = {}
    for row in map(parse, ALL_LINES):
        counts[(row[14], row[3])] = counts.get((row[14], row[3]), 0) + 1
    expected = [(n, verb, ip) for (verb, ip), n in counts.items()]
    assert unordered(alb.run(Q_COUNT_BY_VERB)) == unordered(expected)


def test_safari_urls(alb: Athena) -> None:
    expected = [(row[15],) for row in map(parse, ALL_LINES) if "Safari" in row[17]]
    assert len(expected) > 1
    assert unordered(alb.run(Q_SAFARI)) == unordered(expected)


def test_status_5xx_select_star(alb: Athena) -> None:
    expected = [row for row in map(parse, ALL_LINES) if row[10] is not None and row[10] >= 500]
    assert len(expected) == 4
    assert unordered(alb.run(Q_5XX)) == unordered(expected)


def test_parse_datetime_window(alb: Athena) -> None:
    start, end = dt.datetime(2018, 5, 30, 12), dt.datetime(2018, 5, 31)
    sums: dict[str, int] = {}
    for row in map(parse, ALL_LINES):
        when = dt.datetime.strptime(row[1], "%Y-%m-%dT%H:%M:%S.%fZ")
        if start <= when <= end:
            sums[row[3]] = sums.get(row[3], 0) + row[12]
    assert len(sums) == 2
    assert unordered(alb.run(Q_PARSE_DATETIME)) == unordered(list(sums.items()))


def test_projected_day(athena: Athena) -> None:
    load(athena, CREATE_TABLE_PROJECTED)
    expected = [(*parse(line), "2022/02/12") for line in LINES_BY_DAY["2022/02/12"]]
    assert unordered(athena.run(Q_DAY)) == unordered(expected)
