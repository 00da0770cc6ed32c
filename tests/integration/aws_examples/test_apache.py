"""Apache web server logs: the Athena User Guide's Grok SerDe table for the common log
format and its two example queries, over the page's own example lines plus a few awkward
ones, checked against the same lines split by plain Python."""

from __future__ import annotations

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/querying-apache-logs.html"

# Verbatim from URL; only LOCATION's bucket/prefix is replaced at run time.
CREATE_TABLE = """CREATE EXTERNAL TABLE apache_logs(
  client_ip string,
  client_id string,
  user_id string,
  request_received_time string,
  client_request string,
  server_status string,
  returned_obj_size string
  )
ROW FORMAT SERDE
   'com.amazonaws.glue.serde.GrokSerDe'
WITH SERDEPROPERTIES (
   'input.format'='^%{IPV4:client_ip} %{DATA:client_id} %{USERNAME:user_id} %{GREEDYDATA:request_received_time} %{QUOTEDSTRING:client_request} %{DATA:server_status} %{DATA: returned_obj_size}$'
   )
STORED AS INPUTFORMAT
   'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT
   'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
   's3://bucket-name/apache-log-folder/';"""

Q_404 = """SELECT request_received_time, client_request, server_status
FROM apache_logs
WHERE server_status = '404'"""

Q_200 = """SELECT user_id, request_received_time, client_request, server_status
FROM apache_logs
WHERE server_status = '200'"""

# The page's example data (common log format), then lines with the format's awkward
# cases: '-' for an unknown user and for a response without a body, a query string.
LINES = [
    '198.51.100.7 - Li [10/Oct/2019:13:55:36 -0700] "GET /logo.gif HTTP/1.0" 200 232',
    '198.51.100.14 - Jorge [24/Nov/2019:10:49:52 -0700] "GET /index.html HTTP/1.1" 200 2165',
    '198.51.100.22 - Mateo [27/Dec/2019:11:38:12 -0700] "GET /about.html HTTP/1.1" 200 1287',
    '198.51.100.9 - Nikki [11/Jan/2020:11:40:11 -0700] "GET /image.png HTTP/1.1" 404 230',
    '198.51.100.2 - Ana [15/Feb/2019:10:12:22 -0700] "GET /favicon.ico HTTP/1.1" 404 30',
    '198.51.100.13 - Saanvi [14/Mar/2019:11:40:33 -0700] "GET /intro.html HTTP/1.1" 200 1608',
    '198.51.100.11 - Xiulan [22/Apr/2019:10:51:34 -0700] "GET /group/index.html HTTP/1.1" 200 1344',
    '198.51.100.30 - - [01/Mar/2020:00:00:01 +0000] "GET /search?q=a%20b&page=2 HTTP/1.1" 200 512',
    '198.51.100.31 - - [01/Mar/2020:00:00:02 +0000] "HEAD /index.html HTTP/1.1" 304 -',
]


def parse(line: str) -> dict[str, str]:
    """host ident user [time] "request" status size, split by hand. The request is read
    without its double quotes: the grok library takes the quotes off a captured value that
    starts and ends with them (%{QUOTEDSTRING} matches them)."""
    ip, ident, user, rest = line.split(" ", 3)
    end = rest.index("] ") + 1
    time, rest = rest[:end], rest[end + 1 :]
    quote = rest.index('" ', 1) + 1
    request, rest = rest[:quote], rest[quote + 1 :]
    status, size = rest.split(" ")
    return {
        "client_ip": ip,
        "client_id": ident,
        "user_id": user,
        "request_received_time": time,
        "client_request": request[1:-1],
        "server_status": status,
        "returned_obj_size": size,
    }


@pytest.fixture
def apache(athena: Athena) -> Athena:
    athena.put("s3://apache-sample/apache-log-folder/access_log", "\n".join(LINES) + "\n")
    athena.run(
        relocate(
            CREATE_TABLE,
            ("s3://bucket-name/apache-log-folder/", "s3://apache-sample/apache-log-folder/"),
        )
    )
    return athena


def test_not_found(apache: Athena) -> None:
    keys = ("request_received_time", "client_request", "server_status")
    expected = [tuple(r[k] for k in keys) for r in map(parse, LINES) if r["server_status"] == "404"]
    assert len(expected) == 2
    assert unordered(apache.run(Q_404)) == unordered(expected)


def test_successful(apache: Athena) -> None:
    keys = ("user_id", "request_received_time", "client_request", "server_status")
    expected = [tuple(r[k] for k in keys) for r in map(parse, LINES) if r["server_status"] == "200"]
    assert len(expected) == 6
    assert unordered(apache.run(Q_200)) == unordered(expected)


def test_every_column(apache: Athena) -> None:
    # not a query of the page: each line read back whole, returned_obj_size included
    expected = [tuple(parse(line).values()) for line in LINES]
    assert unordered(apache.run("SELECT * FROM apache_logs")) == unordered(expected)
