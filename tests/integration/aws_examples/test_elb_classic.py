"""Classic Load Balancer access logs: the Athena User Guide's DDL and example queries over
sample entries in the documented Classic ELB access log format, checked against the same
entries split by plain Python."""

from __future__ import annotations

import re
from typing import Any

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/elasticloadbalancer-classic-logs.html"

# Verbatim from URL; only the LOCATION's bucket/prefix is replaced at run time.
CREATE_TABLE = r"""CREATE EXTERNAL TABLE IF NOT EXISTS elb_logs (
 
 timestamp string,
 elb_name string,
 request_ip string,
 request_port int,
 backend_ip string,
 backend_port int,
 request_processing_time double,
 backend_processing_time double,
 client_response_time double,
 elb_response_code string,
 backend_response_code string,
 received_bytes bigint,
 sent_bytes bigint,
 request_verb string,
 url string,
 protocol string,
 user_agent string,
 ssl_cipher string,
 ssl_protocol string
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
WITH SERDEPROPERTIES (
 'serialization.format' = '1',
 'input.regex' = '([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) (|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) \\\"([^ ]*) ([^ ]*) (- |[^ ]*)\\\" (\"[^\"]*\") ([A-Z0-9-]+) ([A-Za-z0-9.-]*)$'
)
LOCATION 's3://your_log_bucket/prefix/AWSLogs/AWS_account_ID/elasticloadbalancing/';"""

# Verbatim from URL ("Elastic Load Balancing example queries").
Q_BACKEND_ERRORS = """SELECT
 timestamp,
 elb_name,
 backend_ip,
 backend_response_code
FROM elb_logs
WHERE backend_response_code LIKE '4%' OR
      backend_response_code LIKE '5%'
LIMIT 100;"""

Q_SUM_BY_BACKEND = """SELECT sum(backend_processing_time) AS
 total_ms,
 elb_name,
 backend_ip
FROM elb_logs WHERE backend_ip <> ''
GROUP BY backend_ip, elb_name
LIMIT 100;"""

DOC_LOCATION = "s3://your_log_bucket/prefix/AWSLogs/AWS_account_ID/elasticloadbalancing/"
LOCATION = "s3://elb-sample/prefix/AWSLogs/123456789012/elasticloadbalancing/"

# Entries in the documented format: timestamp elb client:port backend:port three
# processing times, the two status codes, bytes in and out, the quoted request line, the
# quoted user agent (with blanks), cipher and protocol ('-' on plain HTTP). A request that
# reached no backend logs '-' for the backend, -1 for its times and '-' for its status.
LINES = [
    "2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 "
    '0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" '
    '"curl/7.38.0" - -',
    "2015-05-13T23:39:44.120000Z my-loadbalancer 192.168.131.40:2818 10.0.0.2:80 0.000086 "
    '0.001048 0.001337 404 404 0 57 "GET https://www.example.com:443/missing HTTP/1.1" '
    '"Mozilla/5.0 (X11; Linux x86_64) Firefox/115.0" DHE-RSA-AES128-SHA TLSv1.2',
    "2015-05-13T23:39:45.000001Z my-loadbalancer 192.168.131.40:2819 - -1 -1 -1 503 - 0 0 "
    '"GET http://www.example.com:80/busy HTTP/1.1" "curl/7.38.0" - -',
    "2015-05-13T23:40:01.500000Z other-lb 192.168.131.41:3001 10.0.0.1:8080 0.000050 "
    '0.250000 0.000040 502 500 1024 12 "POST https://www.example.com:443/form HTTP/1.1" '
    '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0" ECDHE-RSA-AES128-GCM-SHA256 '
    "TLSv1.2",
    "2015-05-13T23:40:02.000000Z my-loadbalancer 192.168.131.42:3002 10.0.0.1:80 0.000060 "
    '0.002000 0.000070 200 200 10 2048 "PUT http://www.example.com:80/upload HTTP/1.1" '
    '"aws-cli/2.0 Python/3.11" - -',
]

FIELD = re.compile(r'"[^"]*"|\S+')


def parse(line: str) -> tuple[Any, ...]:
    """One entry as the table's 19 columns. The documented regex keeps the user agent's
    double quotes in the column (its group is (\\"[^\\"]*\\")), so this does too."""
    f = FIELD.findall(line)
    assert len(f) == 15, line
    client_ip, client_port = f[2].rsplit(":", 1)
    backend_ip, backend_port = f[3].rsplit(":", 1) if f[3] != "-" else ("", "")
    verb, url, proto = f[11][1:-1].split(" ")
    return (
        f[0],
        f[1],
        client_ip,
        int(client_port),
        backend_ip,
        int(backend_port) if backend_port else None,
        float(f[4]),
        float(f[5]),
        float(f[6]),
        f[7],
        f[8],
        int(f[9]),
        int(f[10]),
        verb,
        url,
        proto,
        f[12],
        f[13],
        f[14],
    )


@pytest.fixture
def elb(athena: Athena) -> Athena:
    name = "123456789012_elasticloadbalancing_us-east-1_my-loadbalancer_20150513T2340Z_172.160.001.192_20sg8hgm.log"
    athena.put(f"{LOCATION}us-east-1/2015/05/13/{name}", "\n".join(LINES) + "\n")
    athena.run(relocate(CREATE_TABLE, (DOC_LOCATION, LOCATION)))
    return athena


def test_backend_errors(elb: Athena) -> None:
    expected = [
        (r[0], r[1], r[4], r[10])
        for r in map(parse, LINES)
        if r[10].startswith("4") or r[10].startswith("5")
    ]
    assert len(expected) == 2
    assert unordered(elb.run(Q_BACKEND_ERRORS)) == unordered(expected)


def test_backend_time_by_backend(elb: Athena) -> None:
    sums: dict[tuple[str, str], float] = {}
    for r in map(parse, LINES):
        if r[4] != "":
            sums[(r[4], r[1])] = sums.get((r[4], r[1]), 0.0) + r[7]
    expected = sorted(((t, name, ip) for (ip, name), t in sums.items()), key=lambda r: r[1:])
    got = sorted(elb.run(Q_SUM_BY_BACKEND), key=lambda r: r[1:])
    assert [row[1:] for row in got] == [row[1:] for row in expected]
    assert [row[0] for row in got] == pytest.approx([row[0] for row in expected])


def test_user_agent_keeps_its_quotes(elb: Athena) -> None:
    # not a documented query: the columns the documented regex fills, read back whole
    got = elb.run("SELECT * FROM elb_logs")
    assert unordered(got) == unordered([parse(line) for line in LINES])
