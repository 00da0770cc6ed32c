"""GrokSerDe over real log files: captures mapped to columns by name, the Athena docs'
examples through a session, custom patterns, conversions and validation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import lakebox
from lakebox.engine.duckdb.formats.grok import GrokReader, compile_grok
from lakebox.errors import InvalidRequestError, UnsupportedError
from lakebox.formats.plugins import GROK_SERDE

if TYPE_CHECKING:
    from tests.engine.duckdb.formats.conftest import Lake

CODECS = ["none", "gzip", "bzip2", "zstd", "snappy-hadoop", "deflate"]

APACHE_COLUMNS = [
    ("clientip", "string"),
    ("ident", "string"),
    ("auth", "string"),
    ("timestamp", "string"),
    ("verb", "string"),
    ("request", "string"),
    ("httpversion", "string"),
    ("response", "int"),
    ("bytes", "bigint"),
    ("referrer", "string"),
    ("agent", "string"),
]
APACHE_LINES = {
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 '
    '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"': (
        "127.0.0.1",
        "-",
        "frank",
        "10/Oct/2000:13:55:36 -0700",
        "GET",
        "/apache_pb.gif",
        "1.0",
        200,
        2326,
        "http://www.example.com/start.html",
        "Mozilla/4.08 [en] (Win98; I ;Nav)",
    ),
    'web-1.example.com - - [11/Oct/2000:01:00:00 +0000] "POST /login HTTP/1.1" 302 - "-" '
    '"curl/8.0"': (
        "web-1.example.com",
        "-",
        "-",
        "11/Oct/2000:01:00:00 +0000",
        "POST",
        "/login",
        "1.1",
        302,
        None,
        "-",
        "curl/8.0",
    ),
    "# a comment line, not a log entry": (None,) * 11,
}


@pytest.mark.parametrize("codec", CODECS)
def test_combined_apache_log_over_compressed_files(lake: Lake, codec: str) -> None:
    t = lake.table(
        APACHE_COLUMNS, serde=GROK_SERDE, serde_params={"input.format": "%{COMBINEDAPACHELOG}"}
    )
    lines = list(APACHE_LINES)
    lake.write(t, "access-1.log", "\n".join(lines[:2]) + "\n", codec=codec)
    lake.write(t, "access-2.log", lines[2] + "\n", codec=codec)
    assert lake.read(t) == sorted(APACHE_LINES.values(), key=repr)


def test_columns_take_captures_by_name_in_any_order(lake: Lake) -> None:
    t = lake.table(
        [("Agent", "string"), ("bytes", "int"), ("CLIENTIP", "string")],
        serde=GROK_SERDE,
        serde_params={"input.format": "%{COMBINEDAPACHELOG}"},
    )
    lake.write(t, "a.log", next(iter(APACHE_LINES)) + "\n")
    assert lake.read(t) == [("Mozilla/4.08 [en] (Win98; I ;Nav)", 2326, "127.0.0.1")]


@pytest.mark.parametrize(
    ("fmt", "line", "values"),
    [
        # java-grok reads blanks around a field name, a ';' before the type, dots in names
        ("%{INT: a} %{DATA:b }$", "1 x y", ("1", "x y")),
        ("%{INT:  a  :int} %{WORD:b;string}", "7 w", ("7", "w")),
        ("%{INT:a}-%{WORD:b:string:ignored}", "3-z", ("3", "z")),
        # an in-place definition %{NAME=regex}, usable again later by its name
        ("%{TWO:a=[0-9][0-9]}%{TWO:b}", "1234", ("12", "34")),
        ("%{LETTERS:a=[a-z]+}/%{LETTERS:b}", "ab/cd", ("ab", "cd")),
    ],
)
def test_capture_names_as_java_grok_reads_them(
    lake: Lake, fmt: str, line: str, values: tuple[str, str]
) -> None:
    t = lake.table([("a", "string"), ("b", "string")], serde=GROK_SERDE, serde_params={})
    t.serde_parameters["input.format"] = fmt
    GrokReader().validate(t)
    lake.write(t, "a.log", line + "\n")
    assert lake.read(t) == [values]


def test_unnamed_patterns_and_nested_captures_fill_columns(lake: Lake) -> None:
    t = lake.table(
        [("syslogbase", "string"), ("program", "string"), ("pid", "int"), ("rest", "string")],
        serde=GROK_SERDE,
        serde_params={"input.format": "%{SYSLOGBASE} %{GREEDYDATA:rest}"},
    )
    lake.write(t, "a.log", "Feb  9 07:15:00 host cron[42]: job done\nMar 1 00:00:01 h kernel: x\n")
    assert lake.read(t) == [
        ("Feb  9 07:15:00 host cron[42]:", "cron", 42, "job done"),
        ("Mar 1 00:00:01 h kernel:", "kernel", None, "x"),
    ]


@pytest.mark.parametrize(
    ("fmt", "column_type", "line", "value"),
    [
        ("%{NUMBER:n:int} items", "int", "12 items", 12),
        ("%{NUMBER:n:int} items", "int", "1.5 items", None),
        ("%{NUMBER:n:float} items", "double", "1.5 items", 1.5),
        ("%{NUMBER:n:long} items", "bigint", "99999999999 items", 99999999999),
        ("%{WORD:n:boolean} items", "boolean", "true items", True),
        ("%{WORD:n} items", "boolean", "TRUE items", True),
        ("%{WORD:n} items", "boolean", "yes items", False),
        ("%{QS:n} items", "string", '"quoted" items', "quoted"),
        ("%{NOTSPACE:n} items", "string", "'single' items", "single"),
        ("%{NUMBER:n} items", "string", "007 items", "007"),
        ("%{NUMBER:n} items", "int", "no items", None),
    ],
)
def test_values_convert_to_the_declared_type(
    lake: Lake, fmt: str, column_type: str, line: str, value: object
) -> None:
    t = lake.table([("n", column_type)], serde=GROK_SERDE, serde_params={"input.format": fmt})
    lake.write(t, "a.log", line + "\n")
    assert lake.read(t) == [(value,)]


def test_regex_named_groups_and_plain_groups(lake: Lake) -> None:
    t = lake.table(
        [("key", "string"), ("val", "int")],
        serde=GROK_SERDE,
        serde_params={
            "input.format": r"(?<key>[a-z]+)(=|:)%{KV_VALUE:val}",
            "input.grokCustomPatterns": r"KV_VALUE (\d+)",
        },
    )
    lake.write(t, "a.log", "alpha=1\nbeta:22\n=3\n")
    assert lake.read(t) == [("alpha", 1), ("beta", 22), (None, None)]


@pytest.mark.parametrize(
    ("fmt", "line", "value"),
    [
        ("(?:E%{INT:code}|W%{INT:code})", "E12", "12"),
        ("(?:E%{INT:code}|W%{INT:code})", "W7", "7"),
        ("%{INT:code}-%{INT:code}", "1-2", "2"),
        ("%{INT:code}(?:-%{INT:code})?", "1", "1"),
    ],
)
def test_last_matching_capture_wins_for_a_repeated_name(
    lake: Lake, fmt: str, line: str, value: str
) -> None:
    t = lake.table([("code", "string")], serde=GROK_SERDE, serde_params={"input.format": fmt})
    lake.write(t, "a.log", line + "\n")
    assert lake.read(t) == [(value,)]


def test_custom_patterns_separated_by_tabs_or_spaces(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "string")],
        serde=GROK_SERDE,
        serde_params={
            "input.format": "%{LETTERS:a}/%{DIGITS:b}",
            "input.grokCustomPatterns": "LETTERS\t[a-z]+\n\n# comment\nDIGITS    [0-9]+",
        },
    )
    lake.write(t, "a.log", "abc/123\n")
    assert lake.read(t) == [("abc", "123")]


def test_header_lines_skipped(lake: Lake) -> None:
    t = lake.table(
        [("w", "string")],
        serde=GROK_SERDE,
        serde_params={"input.format": "%{WORD:w}"},
        params={"skip.header.line.count": "1"},
    )
    lake.write(t, "a.log", "header\nvalue\n")
    assert lake.read(t) == [("value",)]


@pytest.mark.parametrize(
    ("params", "columns", "error", "named"),
    [
        ({}, [("a", "string")], InvalidRequestError, "input.format"),
        ({"input.format": "%{NOPE:a}"}, [("a", "string")], InvalidRequestError, "NOPE"),
        (
            {"input.format": "%{INT:a:integerish}"},
            [("a", "int")],
            InvalidRequestError,
            "integerish",
        ),
        (
            {"input.format": "%{LOOP:a}", "input.grokCustomPatterns": "LOOP x%{LOOP}"},
            [("a", "string")],
            InvalidRequestError,
            "refers to itself",
        ),
        (
            {"input.format": "%{X:a}", "input.grokCustomPatterns": "X"},
            [("a", "string")],
            InvalidRequestError,
            "input.grokCustomPatterns",
        ),
        (
            {"input.format": "%{X:a}", "input.grokCustomPatterns": "X (?<=a)b"},
            [("a", "string")],
            UnsupportedError,
            "look-around",
        ),
        ({"input.format": "%{WORD:a}"}, [("a", "array<string>")], InvalidRequestError, "a"),
        ({"input.format": "[a-"}, [("a", "string")], InvalidRequestError, "input.format"),
        # a column no capture names would only ever read NULL: a misspelt field
        (
            {"input.format": "%{WORD:a} %{WORD:bb}"},
            [("a", "string"), ("b", "string")],
            InvalidRequestError,
            "no capture of input.format is named 'b', so the column would always be NULL; "
            "the captures are: a, bb",
        ),
        (
            {"input.format": "%{COMBINEDAPACHELOG}"},
            [("clientip", "string"), ("nothing", "string")],
            InvalidRequestError,
            "'nothing'",
        ),
        # a %{ that is not a reference java-grok reads (Java rejects the brace too)
        (
            {"input.format": "%{WORD:a} %{DATA:}"},
            [("a", "string")],
            InvalidRequestError,
            "%{DATA:}",
        ),
        ({"input.format": "%{WORD:a} %{:b}"}, [("a", "string")], InvalidRequestError, "%{:b}"),
        ({"input.format": "%{WORD:a:}"}, [("a", "string")], InvalidRequestError, "%{WORD:a:}"),
        ({"input.format": "%{WORD: :int}"}, [("a", "string")], InvalidRequestError, "empty"),
        # java-grok's date conversion is not made: named, never a silent NULL
        (
            {"input.format": "%{DATA:a:date:yyyy-MM-dd}"},
            [("a", "string")],
            UnsupportedError,
            "type 'date' of %{DATA:a:date:yyyy-MM-dd}",
        ),
    ],
)
def test_validate_rejects_bad_properties(
    lake: Lake,
    params: dict[str, str],
    columns: list[tuple[str, str]],
    error: type[Exception],
    named: str,
) -> None:
    t = lake.table(columns, serde=GROK_SERDE, serde_params=params)
    with pytest.raises(error, match=re.escape(named)):
        GrokReader().validate(t)


def test_only_captures_columns_read_are_groups() -> None:
    grok = compile_grok("%{COMBINEDAPACHELOG}", None, ["verb", "bytes"])
    assert grok.groups == ("verb", "bytes")
    assert compile_grok("%{COMBINEDAPACHELOG}", None, []).groups == ()


# -- the Athena docs' examples through a session ------------------------------------------

POSTFIX_LOG = """Feb  9 07:15:00 m4eastmail postfix/smtpd[19305]: B88C4120838: connect from unknown[192.168.55.4]
Feb  9 07:15:00 m4eastmail postfix/smtpd[20444]: B58C4330038: client=unknown[192.168.55.4]
Feb  9 07:15:03 m4eastmail postfix/cleanup[22835]: BDC22A77854: message-id=<31221401257553.5004389LCBF@m4eastmail.example.com>
"""


def _session(home: Path, files: dict[str, bytes]) -> lakebox.Session:
    session = lakebox.connect(home)
    session.lake.storage.ensure_bucket("mybucket")
    for uri, data in files.items():
        session.lake.storage.write_bytes(uri, data)
    return session


def test_docs_example_1_postfix(lake_home: Path) -> None:
    import gzip

    session = _session(
        lake_home, {"s3://mybucket/groksample/maillog.gz": gzip.compress(POSTFIX_LOG.encode())}
    )
    session.sql(
        """CREATE EXTERNAL TABLE `mygroktable`(
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
    )
    rows = session.sql("SELECT * FROM mygroktable ORDER BY queue_id").fetchall()
    assert rows == [
        (
            "Feb  9 07:15:00 m4eastmail postfix/smtpd[20444]:",
            "B58C4330038",
            "client=unknown[192.168.55.4]",
        ),
        (
            "Feb  9 07:15:00 m4eastmail postfix/smtpd[19305]:",
            "B88C4120838",
            "connect from unknown[192.168.55.4]",
        ),
        (
            "Feb  9 07:15:03 m4eastmail postfix/cleanup[22835]:",
            "BDC22A77854",
            "message-id=<31221401257553.5004389LCBF@m4eastmail.example.com>",
        ),
    ]


LOG4J_LINE = (
    "2017-09-12 12:10:34,972 INFO - processType=AZ, processId=ABCDEFG614B6F5E49, status=RUN, "
    "threadId=123:amqListenerContainerPool23P:AJ|ABCDE9614B6F5E49||2017-09-12T12:10:11.172-0700],"
    " executionTime={ms}, tenantId=12456, userId=123123f8535f8d76015374e7a1d87c3c, "
    "shard=testapp1, jobId=12312345e5e7df0015e777fb2e03f3c, messageType=REAL_TIME_SYNC, "
    "action={action}, hostname=1.abc.def.com"
)


def test_docs_example_2_log4j(lake_home: Path) -> None:
    lines = [
        LOG4J_LINE.format(ms=7290, action="receive"),
        LOG4J_LINE.format(ms=12, action="send"),
        LOG4J_LINE.format(ms=5, action="drop"),  # C_ACTION allows receive|send only
    ]
    session = _session(
        lake_home, {"s3://mybucket/samples/app.log": ("\n".join(lines) + "\n").encode()}
    )
    session.sql(
        """CREATE EXTERNAL TABLE bltest (
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
    )
    result = session.sql(
        "SELECT timestamp, loglevel, threadid, executiontime, tenantid, action, hostname "
        "FROM bltest ORDER BY executiontime NULLS LAST"
    )
    assert result.types[3:5] == ["integer", "integer"]
    assert result.fetchall() == [
        (
            "2017-09-12 12:10:34,972",
            "INFO",
            "123:amqListenerContainerPool23P:AJ|ABCDE9614B6F5E49||2017-09-12T12:10:11.172-0700]",
            ms,
            12456,
            action,
            "1.abc.def.com",
        )
        for ms, action in ((12, "send"), (7290, "receive"))
    ] + [(None,) * 7]


S3_ACCESS_LINE = (
    "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 "
    "[06/Feb/2019:00:00:38 +0000] 192.0.2.3 "
    "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE "
    'REST.GET.VERSIONING - "GET /awsexamplebucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" '
    '"S3Console/0.4" -'
)


def test_docs_example_3_s3_access_logs_with_escaped_custom_patterns(lake_home: Path) -> None:
    session = _session(
        lake_home, {"s3://mybucket/s3_access/log1": (S3_ACCESS_LINE + "\n").encode()}
    )
    columns = [
        "bucket_owner",
        "bucket",
        "time",
        "remote_ip",
        "requester",
        "request_id",
        "operation",
        "key",
        "request_uri",
        "http_status",
        "error_code",
        "bytes_sent",
        "object_size",
        "total_time",
        "turnaround_time",
        "referrer",
        "user_agent",
        "version_id",
    ]
    session.sql(
        "CREATE EXTERNAL TABLE `s3_access_auto_raw_02`("
        + ", ".join(f"`{c}` string COMMENT 'from deserializer'" for c in columns)
        + r""")
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
          's3://mybucket/s3_access/'"""
    )
    rows = session.sql(
        "SELECT time, operation, request_uri, http_status, bytes_sent, referrer, user_agent, "
        "version_id FROM s3_access_auto_raw_02"
    ).fetchall()
    assert rows == [
        (
            "06/Feb/2019:00:00:38 +0000",
            "REST.GET.VERSIONING",
            "GET /awsexamplebucket1?versioning HTTP/1.1",
            "200",
            "113",
            "-",
            "S3Console/0.4",
            "-",
        )
    ]


def test_create_rejects_undefined_pattern(lake_home: Path) -> None:
    session = lakebox.connect(lake_home)
    with pytest.raises(InvalidRequestError, match="POSTFIX_QUEUEID"):
        session.sql(
            """CREATE EXTERNAL TABLE g (queue_id string)
            ROW FORMAT SERDE 'com.amazonaws.glue.serde.GrokSerDe'
            WITH SERDEPROPERTIES ('input.format'='%{POSTFIX_QUEUEID:queue_id}')
            STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
            OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
            LOCATION 's3://mybucket/g/'"""
        )


def test_blank_after_the_colon_of_a_capture_through_sql(lake_home: Path) -> None:
    """``%{DATA: returned_obj_size}`` (as an AWS example writes it) fills its column."""
    line = b"REST.GET.OBJECT photos/cat.jpg 200 - 3407 3407 12 11\n"
    session = _session(lake_home, {"s3://mybucket/acc/a.log": line})
    session.sql(
        r"""CREATE EXTERNAL TABLE acc (operation string, key string, http_status int,
            error_code string, returned_obj_size bigint, object_size bigint)
        ROW FORMAT SERDE 'com.amazonaws.glue.serde.GrokSerDe'
        WITH SERDEPROPERTIES ('input.format'='%{NOTSPACE:operation} %{NOTSPACE:key} %{INT:http_status} %{NOTSPACE:error_code} %{DATA: returned_obj_size} %{NOTSPACE: object_size :long} %{GREEDYDATA}')
        STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
        OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
        LOCATION 's3://mybucket/acc/'"""
    )
    assert session.sql("SELECT * FROM acc").fetchall() == [
        ("REST.GET.OBJECT", "photos/cat.jpg", 200, "-", 3407, 3407)
    ]


def test_a_pattern_lakebox_cannot_read_fails_the_query_too(lake: Lake) -> None:
    """A table that reached the catalog without CREATE's check (Glue's API, an older
    lakebox) fails when read, naming the reference: never rows of NULLs."""
    t = lake.table(
        [("a", "string")], serde=GROK_SERDE, serde_params={"input.format": "%{WORD:a} %{X Y}"}
    )
    lake.write(t, "a.log", "w z\n")
    with pytest.raises(InvalidRequestError, match=re.escape("'%{X Y}' is not a grok reference")):
        lake.read(t)
