"""Grok SerDe: the Athena User Guide's three Grok SerDe tables (Postfix maillog with a
custom pattern, Log4j, and Amazon S3 server access logs with two custom patterns), over
sample lines in each format, each read back and checked against the same lines split by
plain Python. The page gives DDL only; the SELECTs here are this test's own."""

from __future__ import annotations

import re
from typing import Any

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/grok-serde.html"

# Verbatim from URL (Example 1); only LOCATION's bucket is replaced at run time.
CREATE_POSTFIX = """CREATE EXTERNAL TABLE `mygroktable`(
   syslogbase string,
   queue_id string,
   syslog_message string
   )
ROW FORMAT SERDE
   'com.amazonaws.glue.serde.GrokSerDe'
WITH SERDEPROPERTIES (
   'input.grokCustomPatterns' = 'POSTFIX_QUEUEID [0-9A-F]{7,12}',
   'input.format'='%{SYSLOGBASE} %{POSTFIX_QUEUEID:queue_id}: %{GREEDYDATA:syslog_message}'
   )
STORED AS INPUTFORMAT
   'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT
   'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
   's3://mybucket/groksample/';"""

# Verbatim from URL (Example 2).
CREATE_LOG4J = """CREATE EXTERNAL TABLE bltest (
 timestamp STRING,
 loglevel STRING,
 processtype STRING,
 processid STRING,
 status STRING,
 threadid STRING,
 executiontime INT,
 tenantid INT,
 userid STRING,
 shard STRING,
 jobid STRING,
 messagetype STRING,
 action STRING,
 hostname STRING
 )
ROW FORMAT SERDE 'com.amazonaws.glue.serde.GrokSerDe'
WITH SERDEPROPERTIES (
"input.grokCustomPatterns" = 'C_ACTION receive|send',
"input.format" = "%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:loglevel} - processType=%{NOTSPACE:processtype}, processId=%{NOTSPACE:processid}, status=%{NOTSPACE:status}, threadId=%{NOTSPACE:threadid}, executionTime=%{POSINT:executiontime}, tenantId=%{POSINT:tenantid}, userId=%{NOTSPACE:userid}, shard=%{NOTSPACE:shard}, jobId=%{NOTSPACE:jobid}, messageType=%{NOTSPACE:messagetype}, action=%{C_ACTION:action}, hostname=%{HOST:hostname}"
) STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://mybucket/samples/';"""

# Verbatim from URL (Example 3, Amazon S3 server access logs).
CREATE_S3_ACCESS = r"""CREATE EXTERNAL TABLE `s3_access_auto_raw_02`(
  `bucket_owner` string COMMENT 'from deserializer', 
  `bucket` string COMMENT 'from deserializer', 
  `time` string COMMENT 'from deserializer', 
  `remote_ip` string COMMENT 'from deserializer', 
  `requester` string COMMENT 'from deserializer', 
  `request_id` string COMMENT 'from deserializer', 
  `operation` string COMMENT 'from deserializer', 
  `key` string COMMENT 'from deserializer', 
  `request_uri` string COMMENT 'from deserializer', 
  `http_status` string COMMENT 'from deserializer', 
  `error_code` string COMMENT 'from deserializer', 
  `bytes_sent` string COMMENT 'from deserializer', 
  `object_size` string COMMENT 'from deserializer', 
  `total_time` string COMMENT 'from deserializer', 
  `turnaround_time` string COMMENT 'from deserializer', 
  `referrer` string COMMENT 'from deserializer', 
  `user_agent` string COMMENT 'from deserializer', 
  `version_id` string COMMENT 'from deserializer')
ROW FORMAT SERDE 
  'com.amazonaws.glue.serde.GrokSerDe' 
WITH SERDEPROPERTIES ( 
  'input.format'='%{NOTSPACE:bucket_owner} %{NOTSPACE:bucket} \\[%{INSIDE_BRACKETS:time}\\] %{NOTSPACE:remote_ip} %{NOTSPACE:requester} %{NOTSPACE:request_id} %{NOTSPACE:operation} %{NOTSPACE:key} \"?%{INSIDE_QS:request_uri}\"? %{NOTSPACE:http_status} %{NOTSPACE:error_code} %{NOTSPACE:bytes_sent} %{NOTSPACE:object_size} %{NOTSPACE:total_time} %{NOTSPACE:turnaround_time} \"?%{INSIDE_QS:referrer}\"? \"?%{INSIDE_QS:user_agent}\"? %{NOTSPACE:version_id}', 
  'input.grokCustomPatterns'='INSIDE_QS ([^\"]*)\nINSIDE_BRACKETS ([^\\]]*)') 
STORED AS INPUTFORMAT 
  'org.apache.hadoop.mapred.TextInputFormat' 
OUTPUTFORMAT 
  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
  's3://bucket-for-service-logs/s3_access/'"""

# The page's Postfix maillog lines, and one more.
POSTFIX = [
    "Feb  9 07:15:00 m4eastmail postfix/smtpd[19305]: B88C4120838: connect from unknown[192.168.55.4]",
    "Feb  9 07:15:00 m4eastmail postfix/smtpd[20444]: B58C4330038: client=unknown[192.168.55.4]",
    "Feb  9 07:15:03 m4eastmail postfix/cleanup[22835]: BDC22A77854: message-id=<31221401257553.5004389LCBF@m4eastmail.example.com>",
    "Feb 10 23:59:59 m4eastmail postfix/qmgr[1001]: 0A1B2C3D4E5F: from=<a@example.com>, size=2048, nrcpt=1 (queue active)",
]


def postfix_row(line: str) -> tuple[str, str]:
    """(queue_id, syslog_message): after 'program[pid]: ' come the queue id and ': '."""
    rest = line.split("]: ", 1)[1]
    queue_id, message = rest.split(": ", 1)
    return queue_id, message


def log4j(ts: str, level: str, n: int, action: str, host: str) -> str:
    """One Log4j entry in the page's format, on one line as the log file has it (the page
    wraps it for display)."""
    return (
        f"{ts} {level} - processType=AZ, processId=ABCDEFG614B6F5E4{n}, status=RUN, "
        f"threadId=123:amqListenerContainerPool23P:AJ|ABCDE9614B6F5E49||{ts[:10]}T12:10:11.172-0700], "
        f"executionTime={7290 + n}, tenantId=12456, userId=123123f8535f8d76015374e7a1d87c3c, "
        f"shard=testapp{n}, jobId=12312345e5e7df0015e777fb2e03f3c, messageType=REAL_TIME_SYNC, "
        f"action={action}, hostname={host}"
    )


LOG4J = [
    log4j("2017-09-12 12:10:34,972", "INFO", 1, "receive", "1.abc.def.com"),
    log4j("2017-09-12T12:11:00.001", "WARN", 2, "send", "worker-2.example.com"),
    log4j("2017-09-13 00:00:00", "ERROR", 3, "receive", "10.0.0.7"),
]


def log4j_row(line: str) -> tuple[Any, ...]:
    head, rest = line.split(" - ", 1)
    ts, level = head.rsplit(" ", 1)
    fields = dict(item.split("=", 1) for item in rest.split(", "))
    return (
        ts,
        level,
        fields["processType"],
        fields["processId"],
        fields["status"],
        fields["threadId"],
        int(fields["executionTime"]),
        int(fields["tenantId"]),
        fields["userId"],
        fields["shard"],
        fields["jobId"],
        fields["messageType"],
        fields["action"],
        fields["hostname"],
    )


OWNER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
HOST_ID = "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234="
TAIL = f"{HOST_ID} SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSv1.2 - -"
# Server access log records: '-' for absent values, the request-URI, referrer and user
# agent in double quotes (with blanks), and the newer trailing fields after version id.
S3_ACCESS = [
    f"{OWNER} awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 {OWNER} 3E57427F3EXAMPLE "
    f'REST.GET.VERSIONING - "GET /awsexamplebucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" '
    f'"S3Console/0.4" - {TAIL}',
    f"{OWNER} awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 {OWNER} 891CE47D2EXAMPLE "
    f'REST.GET.OBJECT photos/2019/a%20b.jpg "GET /awsexamplebucket1/photos/2019/a%20b.jpg HTTP/1.1" '
    f'200 - 1024 1024 27 25 "https://www.example.com/gallery" "Mozilla/5.0 (X11; Linux x86_64) '
    f'Firefox/115.0" 3HL4kqtJvjVBH40Nrjfkd {TAIL}',
    f"{OWNER} awsexamplebucket1 [06/Feb/2019:00:01:00 +0000] 198.51.100.9 - A1206F460EXAMPLE "
    f'REST.GET.OBJECT private.txt "GET /awsexamplebucket1/private.txt HTTP/1.1" 403 AccessDenied '
    f'243 - 4 - "-" "curl/7.68.0" - {TAIL}',
]

TOKEN = re.compile(r'\[[^\]]*\]|"[^"]*"|\S+')


def s3_row(line: str) -> tuple[str, ...]:
    """The first 18 fields, brackets and quotes taken off (the pattern's captures sit
    inside them)."""
    tokens = TOKEN.findall(line)[:18]
    return tuple(t[1:-1] if t[0] in '["' else t for t in tokens)


CASES = {
    "postfix": (
        CREATE_POSTFIX,
        "s3://mybucket/groksample/",
        POSTFIX,
        "SELECT queue_id, syslog_message FROM mygroktable",
        postfix_row,
    ),
    "log4j": (CREATE_LOG4J, "s3://mybucket/samples/", LOG4J, "SELECT * FROM bltest", log4j_row),
    "s3_access": (
        CREATE_S3_ACCESS,
        "s3://bucket-for-service-logs/s3_access/",
        S3_ACCESS,
        "SELECT * FROM s3_access_auto_raw_02",
        s3_row,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_grok_table(athena: Athena, name: str) -> None:
    ddl, location, lines, query, parse = CASES[name]
    ours = location.replace("s3://", "s3://grok-sample-")
    athena.put(ours + "part-0000.log", "\n".join(lines) + "\n")
    athena.run(relocate(ddl, (location, ours)))
    expected = [parse(line) for line in lines]
    assert unordered(athena.run(query)) == unordered(expected)
