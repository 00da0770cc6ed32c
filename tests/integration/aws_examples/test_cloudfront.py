"""CloudFront standard (access) logs: the Athena User Guide's DDL and example queries over a
sample log file in the documented tab-separated format with its two header lines, checked
against the same file read by Python's csv module."""

from __future__ import annotations

import csv
import datetime as dt
import io
import struct
from typing import Any

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/cloudfront-logs.html"

# Verbatim from URL; only the LOCATION's bucket is replaced at run time.
CREATE_TABLE = r"""CREATE EXTERNAL TABLE IF NOT EXISTS default.cloudfront_logs (
  `date` DATE,
  time STRING,
  location STRING,
  bytes BIGINT,
  request_ip STRING,
  method STRING,
  host STRING,
  uri STRING,
  status INT,
  referrer STRING,
  user_agent STRING,
  query_string STRING,
  cookie STRING,
  result_type STRING,
  request_id STRING,
  host_header STRING,
  request_protocol STRING,
  request_bytes BIGINT,
  time_taken FLOAT,
  xforwarded_for STRING,
  ssl_protocol STRING,
  ssl_cipher STRING,
  response_result_type STRING,
  http_version STRING,
  fle_status STRING,
  fle_encrypted_fields INT,
  c_port INT,
  time_to_first_byte FLOAT,
  x_edge_detailed_result_type STRING,
  sc_content_type STRING,
  sc_content_len BIGINT,
  sc_range_start BIGINT,
  sc_range_end BIGINT
)
ROW FORMAT DELIMITED 
FIELDS TERMINATED BY '\t'
LOCATION 's3://CloudFront_bucket_name/'
TBLPROPERTIES ( 'skip.header.line.count'='2' )"""

# Verbatim from URL ("Example query for CloudFront logs").
Q_BYTES = """SELECT SUM(bytes) AS total_bytes
FROM cloudfront_logs
WHERE "date" BETWEEN DATE '2018-06-09' AND DATE '2018-06-11'
LIMIT 100;"""

Q_DISTINCT = """SELECT DISTINCT * 
FROM cloudfront_logs 
LIMIT 10;"""

HEADER = (
    "#Version: 1.0\n"
    "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem "
    "sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type "
    "x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for "
    "ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status "
    "fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type "
    "sc-content-type sc-content-len sc-range-start sc-range-end\n"
)

# Entries in the documented format: 33 tab-separated fields, '-' for an absent value
# (referrer, query string, cookie, TLS fields, range), the user agent URL-encoded, and one
# entry logged twice (for SELECT DISTINCT).
ROWS = [
    "2018-06-08\t23:59:59\tSEA19-C1\t2390\t192.0.2.10\tGET\td111111abcdef8.cloudfront.net\t"
    "/index.html\t200\t-\tMozilla/5.0%20(Windows%20NT%2010.0)\t-\t-\tHit\t"
    "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\td111111abcdef8.cloudfront.net\t"
    "https\t23\t0.001\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t"
    "0.001\tHit\ttext/html\t78\t-\t-",
    "2018-06-09\t00:00:01\tLAX1\t1024\t2001:db8::1\tGET\td111111abcdef8.cloudfront.net\t"
    "/img/logo.png\t200\thttps://www.example.com/\tcurl/7.68.0\tsize=large&v=2\t"
    "session=abc\tMiss\tk6WGMNkEzR5BEM_SaF47gjtX9zBDO2m349OY2an0QPEaUum1ZOLrow==\t"
    "www.example.com\thttps\t140\t0.125\t198.51.100.7\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tMiss\t"
    "HTTP/1.1\t-\t-\t443\t0.120\tMiss\timage/png\t1024\t-\t-",
    "2018-06-10\t12:30:00\tFRA2-C1\t512\t192.0.2.11\tGET\td111111abcdef8.cloudfront.net\t"
    "/video.mp4\t206\t-\tMozilla/5.0%20(Macintosh;%20Intel%20Mac%20OS%20X%2010_15_7)\t-\t-\t"
    "Hit\tf37nTMVvnKvV2ZSvEsivup_c2kZ7VXzYdjC-GUQZ5qNs-89BlWazbw==\twww.example.com\thttps\t"
    "200\t0.002\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/1.1\t-\t-\t51000\t0.002\t"
    "Hit\tvideo/mp4\t512\t0\t511",
    "2018-06-11\t23:59:59\tSEA19-C1\t300\t192.0.2.12\tPOST\td111111abcdef8.cloudfront.net\t"
    "/api\t403\t-\tpython-requests/2.31\t-\t-\tError\t"
    "Xy1hKqkmnIRGxBv4BmcOHdBsDsFd83RTmdxg6CTYlAfmN07RIzsa8A==\twww.example.com\thttps\t"
    "512\t0.000\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tError\tHTTP/1.1\t-\t-\t50000\t"
    "0.000\tError\ttext/plain\t300\t-\t-",
    "2018-06-12\t00:00:00\tLAX1\t4096\t192.0.2.13\tGET\td111111abcdef8.cloudfront.net\t"
    "/late\t304\t-\tcurl/7.68.0\t-\t-\tRefreshHit\t"
    "Ab1hKqkmnIRGxBv4BmcOHdBsDsFd83RTmdxg6CTYlAfmN07RIzsa8A==\twww.example.com\thttp\t"
    "90\t0.010\t-\t-\t-\tRefreshHit\tHTTP/1.1\t-\t-\t5000\t0.010\tRefreshHit\t-\t0\t-\t-",
]
FILES = {
    "E2EXAMPLE.2018-06-08-23.a1b2c3d4.gz": [*ROWS[:2], ROWS[1]],
    "E2EXAMPLE.2018-06-10-12.e5f6a7b8.gz": ROWS[2:],
}

# column kinds in DDL order
BIGINTS = {3, 17, 30, 31, 32}
INTS = {8, 25, 26}
FLOATS = {18, 27}


def _float32(text: str) -> float:
    return float(struct.unpack("f", struct.pack("f", float(text)))[0])


def parse(fields: list[str]) -> tuple[Any, ...]:
    """One row as LazySimpleSerDe gives it: '-' in a number column is not a number, so
    NULL; in a string column it stays '-'."""
    assert len(fields) == 33
    out: list[Any] = [dt.date.fromisoformat(fields[0])]
    for i, text in enumerate(fields[1:], start=1):
        if i in BIGINTS | INTS:
            out.append(int(text) if text.lstrip("-").isdigit() else None)
        elif i in FLOATS:
            out.append(_float32(text))
        else:
            out.append(text)
    return tuple(out)


def all_rows() -> list[tuple[Any, ...]]:
    rows = []
    for body in FILES.values():
        text = HEADER + "\n".join(body) + "\n"
        lines = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
        rows += [parse(fields) for fields in lines[2:]]  # skip.header.line.count = 2
    return rows


@pytest.fixture
def cloudfront(athena: Athena) -> Athena:
    for name, body in FILES.items():
        athena.put(f"s3://cloudfront-sample/{name}", HEADER + "\n".join(body) + "\n", gzipped=True)
    athena.run(relocate(CREATE_TABLE, ("s3://CloudFront_bucket_name/", "s3://cloudfront-sample/")))
    return athena


def test_bytes_between_dates(cloudfront: Athena) -> None:
    lo, hi = dt.date(2018, 6, 9), dt.date(2018, 6, 11)
    total = sum(r[3] for r in all_rows() if lo <= r[0] <= hi)
    assert cloudfront.run(Q_BYTES) == [(total,)]


def test_distinct_rows(cloudfront: Athena) -> None:
    expected = unordered(list(set(all_rows())))
    assert len(expected) == len(ROWS) < len(all_rows())
    assert unordered(cloudfront.run(Q_DISTINCT)) == expected
