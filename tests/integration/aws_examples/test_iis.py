"""IIS logs: the Athena User Guide's tables for the W3C extended, IIS and NCSA log file
formats, its example queries and its CTAS, over the page's example lines plus a few more,
checked against the same lines split by plain Python."""

from __future__ import annotations

import datetime as dt

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/querying-iis-logs.html"

# Verbatim from URL; each LOCATION's bucket is replaced at run time.
CREATE_W3C = """CREATE EXTERNAL TABLE `iis_w3c_logs`( 
  date_col string, 
  time_col string, 
  c_ip string,
  s_ip string,
  cs_method string, 
  cs_uri_stem string, 
  sc_status string,
  sc_bytes string,
  cs_bytes string,
  time_taken string,
  cs_version string
  ) 
ROW FORMAT DELIMITED  
  FIELDS TERMINATED BY ' '  
STORED AS INPUTFORMAT  
  'org.apache.hadoop.mapred.TextInputFormat'  
OUTPUTFORMAT  
  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat' 
LOCATION   's3://bucket-name/w3c-log-folder/'"""

Q_W3C = """SELECT date_col, time_col, cs_uri_stem, time_taken
FROM iis_w3c_logs
WHERE cs_method = 'GET' AND sc_status = '200'"""

CTAS_W3C = """CREATE TABLE iis_w3c_logs_w_timestamp AS
SELECT 
  date_parse(concat(date_col,' ', time_col),'%Y-%m-%d %H:%i:%s') as derived_timestamp, 
  c_ip, 
  s_ip, 
  cs_method, 
  cs_uri_stem, 
  sc_status, 
  sc_bytes, 
  cs_bytes, 
  time_taken, 
  cs_version
FROM iis_w3c_logs"""

Q_W3C_TIMESTAMP = """SELECT derived_timestamp, cs_uri_stem, time_taken
FROM iis_w3c_logs_w_timestamp
WHERE cs_method = 'GET' AND sc_status = '200'"""

CREATE_IIS = """CREATE EXTERNAL TABLE `iis_format_logs`(
client_ip_address string,
user_name string,
request_date string,
request_time string,
service_and_instance string,
server_name string,
server_ip_address string,
time_taken_millisec string,
client_bytes_sent string,
server_bytes_sent string,
service_status_code string,
windows_status_code string,
request_type string,
target_of_operation string,
script_parameters string
   )
ROW FORMAT DELIMITED
  FIELDS TERMINATED BY ','
STORED AS INPUTFORMAT
  'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT
  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
  's3://bucket-name/iis-log-file-folder/'"""

Q_IIS = """SELECT request_date, request_time, target_of_operation, time_taken_millisec
FROM iis_format_logs
WHERE request_type = ' GET' AND service_status_code = ' 200'"""

CREATE_NCSA = """CREATE EXTERNAL TABLE iis_ncsa_logs(
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
   'input.format'='^%{IPV4:client_ip} %{DATA:client_id} %{DATA:user_id} %{GREEDYDATA:request_received_time} %{QUOTEDSTRING:client_request} %{DATA:server_status} %{DATA: returned_obj_size}$'
   )
STORED AS INPUTFORMAT
   'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT
   'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
   's3://bucket-name/iis-ncsa-logs/';"""

Q_NCSA_404 = """SELECT request_received_time, client_request, server_status
FROM iis_ncsa_logs
WHERE server_status = '404'"""

Q_NCSA_DOMAIN = """SELECT user_id, request_received_time, client_request, server_status
FROM iis_ncsa_logs
WHERE server_status = '200' AND user_id LIKE 'AnyCompany%'"""

# The page's W3C extended lines (date time c-ip s-ip cs-method cs-uri-stem sc-status
# sc-bytes cs-bytes time-taken cs-version), and two more.
W3C = [
    "2020-01-19 22:48:39 203.0.113.5 198.51.100.2 GET /default.html 200 540 524 157 HTTP/1.0",
    "2020-01-19 22:49:40 203.0.113.10 198.51.100.12 GET /index.html 200 420 324 164 HTTP/1.0",
    "2020-01-19 22:50:12 203.0.113.12 198.51.100.4 GET /image.gif 200 324 320 358 HTTP/1.0",
    "2020-01-19 22:51:44 203.0.113.15 198.51.100.16 GET /faq.html 200 330 324 288 HTTP/1.0",
    "2020-01-20 00:00:01 203.0.113.16 198.51.100.16 POST /form.aspx 200 120 2048 31 HTTP/1.1",
    "2020-01-20 00:00:02 203.0.113.17 198.51.100.16 GET /missing.html 404 1245 310 2 HTTP/1.1",
]

# The page's IIS log file format lines (comma, then a blank, before each field; a trailing
# comma), and two more.
IIS = [
    "203.0.113.15, -, 2020-02-24, 22:48:38, W3SVC2, SERVER5, 198.51.100.4, 254, 501, 488, 200, 0, GET, /index.htm, -, ",
    "203.0.113.4, -, 2020-02-24, 22:48:39, W3SVC2, SERVER6, 198.51.100.6, 147, 411, 388, 200, 0, GET, /about.html, -, ",
    "203.0.113.11, -, 2020-02-24, 22:48:40, W3SVC2, SERVER7, 198.51.100.18, 170, 531, 468, 200, 0, GET, /image.png, -, ",
    "203.0.113.8, -, 2020-02-24, 22:48:41, W3SVC2, SERVER8, 198.51.100.14, 125, 711, 868, 200, 0, GET, /intro.htm, -,",
    "203.0.113.9, EXAMPLE\\ana, 2020-02-24, 22:48:42, W3SVC2, SERVER8, 198.51.100.14, 15, 300, 120, 302, 0, POST, /login.aspx, user=ana, ",
    "203.0.113.10, -, 2020-02-24, 22:48:43, W3SVC2, SERVER8, 198.51.100.14, 3, 250, 1200, 404, 2, GET, /gone.htm, -, ",
]

# The page's NCSA lines (domain\\user in the user field), and one with no user.
NCSA = [
    '198.51.100.7 - ExampleCorp\\Li [10/Oct/2019:13:55:36 -0700] "GET /logo.gif HTTP/1.0" 200 232',
    '198.51.100.14 - AnyCompany\\Jorge [24/Nov/2019:10:49:52 -0700] "GET /index.html HTTP/1.1" 200 2165',
    '198.51.100.22 - ExampleCorp\\Mateo [27/Dec/2019:11:38:12 -0700] "GET /about.html HTTP/1.1" 200 1287',
    '198.51.100.9 - AnyCompany\\Nikki [11/Jan/2020:11:40:11 -0700] "GET /image.png HTTP/1.1" 404 230',
    '198.51.100.2 - ExampleCorp\\Ana [15/Feb/2019:10:12:22 -0700] "GET /favicon.ico HTTP/1.1" 404 30',
    '198.51.100.13 - AnyCompany\\Saanvi [14/Mar/2019:11:40:33 -0700] "GET /intro.html HTTP/1.1" 200 1608',
    '198.51.100.11 - ExampleCorp\\Xiulan [22/Apr/2019:10:51:34 -0700] "GET /group/index.html HTTP/1.1" 200 1344',
    '198.51.100.12 - - [22/Apr/2019:10:51:35 -0700] "GET /robots.txt HTTP/1.1" 200 68',
]


@pytest.fixture
def iis(athena: Athena) -> Athena:
    for ddl, doc_location, lines, name in (
        (CREATE_W3C, "s3://bucket-name/w3c-log-folder/", W3C, "u_ex200119.log"),
        (CREATE_IIS, "s3://bucket-name/iis-log-file-folder/", IIS, "u_in200224.log"),
        (CREATE_NCSA, "s3://bucket-name/iis-ncsa-logs/", NCSA, "u_nc191010.log"),
    ):
        ours = doc_location.replace("s3://bucket-name/", "s3://iis-sample/")
        athena.put(
            ours + name,
            "\r\n".join(lines) + "\r\n" if name.startswith("u_ex") else "\n".join(lines) + "\n",
        )
        athena.run(relocate(ddl, (doc_location, ours)))
    return athena


def w3c_fields() -> list[list[str]]:
    return [line.split(" ") for line in W3C]


def test_w3c_get_200(iis: Athena) -> None:
    expected = [(f[0], f[1], f[5], f[9]) for f in w3c_fields() if f[4] == "GET" and f[6] == "200"]
    assert len(expected) == 4
    assert unordered(iis.run(Q_W3C)) == unordered(expected)


def test_w3c_ctas_with_derived_timestamp(iis: Athena) -> None:
    iis.run(CTAS_W3C)
    expected = [
        (dt.datetime.fromisoformat(f"{f[0]} {f[1]}"), f[5], f[9])
        for f in w3c_fields()
        if f[4] == "GET" and f[6] == "200"
    ]
    assert unordered(iis.run(Q_W3C_TIMESTAMP)) == unordered(expected)


def test_iis_format_get_200(iis: Athena) -> None:
    # LazySimpleSerDe splits on ',' alone, so every field after the first keeps the blank
    # that follows the comma (the page's query compares with ' GET' and ' 200')
    fields = [line.split(",") for line in IIS]
    expected = [(f[2], f[3], f[13], f[7]) for f in fields if f[12] == " GET" and f[10] == " 200"]
    assert len(expected) == 4
    assert unordered(iis.run(Q_IIS)) == unordered(expected)


def ncsa(line: str) -> dict[str, str]:
    user, rest = line.split(" ", 3)[2:]
    end = rest.index("] ") + 1
    quote = rest.index('" ', end + 2) + 1
    status = rest[quote + 1 :].split(" ")[0]
    return {
        "user_id": user,
        "request_received_time": rest[:end],
        # without its double quotes, which the grok library takes off a captured value
        "client_request": rest[end + 2 : quote - 1],
        "server_status": status,
    }


def test_ncsa_not_found(iis: Athena) -> None:
    keys = ("request_received_time", "client_request", "server_status")
    expected = [tuple(r[k] for k in keys) for r in map(ncsa, NCSA) if r["server_status"] == "404"]
    assert len(expected) == 2
    assert unordered(iis.run(Q_NCSA_404)) == unordered(expected)


def test_ncsa_domain(iis: Athena) -> None:
    keys = ("user_id", "request_received_time", "client_request", "server_status")
    expected = [
        tuple(r[k] for k in keys)
        for r in map(ncsa, NCSA)
        if r["server_status"] == "200" and r["user_id"].startswith("AnyCompany")
    ]
    assert len(expected) == 2
    assert unordered(iis.run(Q_NCSA_DOMAIN)) == unordered(expected)


def test_w3c_crlf_line_ends(iis: Athena) -> None:
    # not a query of the page: IIS writes CRLF line ends, which Hadoop's line reader
    # takes off whole, so the last field has no '\r'
    expected = [(f[10],) for f in w3c_fields()]
    assert unordered(iis.run("SELECT cs_version FROM iis_w3c_logs")) == unordered(expected)
