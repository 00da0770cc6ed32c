"""RegexSerDe over real log files: whole-line matches, Java-to-RE2 translation, validation."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from lakebox.engine.duckdb.formats.regex import RegexReader, translate_java_regex, witnessed
from lakebox.errors import InvalidRequestError, UnsupportedError
from lakebox.formats.plugins import REGEX_SERDE

if TYPE_CHECKING:
    from tests.engine.duckdb.formats.conftest import Lake

APACHE_REGEX = (
    r'([^ ]*) ([^ ]*) ([^ ]*) \[([^\]]*)\] "([^ ]*) ([^ ]*) ([^ ]*)" ([0-9]*) ([0-9\-]*)'
    r' "([^"]*)" "([^"]*)"'
)
APACHE_COLUMNS = [
    ("host", "string"),
    ("identity", "string"),
    ("user", "string"),
    ("time", "string"),
    ("method", "string"),
    ("path", "string"),
    ("protocol", "string"),
    ("status", "int"),
    ("size", "bigint"),
    ("referer", "string"),
    ("agent", "string"),
]
APACHE_LINES = [
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 '
    '"http://example.com/" "Mozilla/4.08"',
    '10.0.0.2 - - [10/Oct/2000:13:56:00 -0700] "POST /login HTTP/1.1" 302 - "-" "curl/8.0"',
    "this line is not an access log",
]


def test_apache_combined_log_over_gzip_files(lake: Lake) -> None:
    t = lake.table(APACHE_COLUMNS, serde=REGEX_SERDE, serde_params={"input.regex": APACHE_REGEX})
    lake.write(t, "access-1.log", "\n".join(APACHE_LINES[:2]) + "\n", codec="gzip")
    lake.write(t, "access-2.log", APACHE_LINES[2] + "\n", codec="gzip")
    rows = lake.read(t, columns=["host", "method", "path", "status", "size", "agent"])
    assert rows == [
        ("10.0.0.2", "POST", "/login", 302, None, "curl/8.0"),
        ("127.0.0.1", "GET", "/a.gif", 200, 2326, "Mozilla/4.08"),
        (None, None, None, None, None, None),
    ]


def test_regex_must_match_the_whole_line(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "int")],
        serde=REGEX_SERDE,
        serde_params={"input.regex": r"(\w+)=(\d+)"},
    )
    lake.write(t, "a.log", "x=1\nx=1 trailing\nprefix x=2\n\n")
    assert lake.read(t) == [("x", 1), (None, None), (None, None), (None, None)]


def test_lazy_quantifier_and_optional_tail_like_s3_access_logs(lake: Lake) -> None:
    regex = r'([^ ]*) \[(.*?)\] ([^ ]*) ("[^"]*"|-) (-|[0-9]*)(?: ([^ ]*) ([^ ]*))?.*$'
    t = lake.table(
        [
            ("bucket", "string"),
            ("time", "string"),
            ("op", "string"),
            ("uri", "string"),
            ("status", "int"),
            ("x", "string"),
            ("y", "string"),
        ],
        serde=REGEX_SERDE,
        serde_params={"input.regex": regex},
    )
    lake.write(
        t,
        "s3.log",
        'bkt [06/Feb/2019:00:00:38 +0000] REST.GET "GET /k HTTP/1.1" 200 a b\n'
        "bkt [x] [y] REST.PUT - - \n"
        "bkt [t] REST.DEL - 204  \n",
    )
    assert lake.read(t) == [
        ("bkt", "06/Feb/2019:00:00:38 +0000", "REST.GET", '"GET /k HTTP/1.1"', 200, "a", "b"),
        # the optional tail matched, with two empty fields: '' as in Java
        ("bkt", "t", "REST.DEL", "-", 204, "", ""),
        # it took no part in the match: Java's groups are null there
        ("bkt", "x] [y", "REST.PUT", "-", None, None, None),
    ]


@pytest.mark.parametrize(
    ("flag", "expected"),
    [("true", [("GET", "/x")]), ("false", [(None, None)]), (None, [(None, None)])],
)
def test_case_insensitive_flag(
    lake: Lake, flag: str | None, expected: list[tuple[str | None, ...]]
) -> None:
    params = {"input.regex": r"(get|post) (\S+)"}
    if flag is not None:
        params["input.regex.case.insensitive"] = flag
    t = lake.table([("m", "string"), ("p", "string")], serde=REGEX_SERDE, serde_params=params)
    lake.write(t, "a.log", "GET /x\n")
    assert lake.read(t) == expected


def test_header_skip_applies_to_regex_tables(lake: Lake) -> None:
    t = lake.table(
        [("a", "string")],
        serde=REGEX_SERDE,
        serde_params={"input.regex": "(.*)"},
        params={"skip.header.line.count": "1"},
    )
    lake.write(t, "1.log", "#Version: 1.0\nrow1\n")
    lake.write(t, "2.log", "#Version: 1.0\nrow2\n")
    assert lake.read(t) == [("row1",), ("row2",)]


@pytest.mark.parametrize(
    ("java", "re2", "groups"),
    [
        (r"(\d++) (a*+)(b?+)", r"(\d+) (a*)(b?)", 3),
        (r"(?>ab|a)(c)", r"(?:ab|a)(c)", 1),
        (r"(?<year>\d{4})-(\d{2,}+)", r"(?P<year>\d{4})-(\d{2,})", 2),
        (r"(\p{Alpha}+)[\p{Digit}_]", r"([[:alpha:]]+)[[:digit:]_]", 1),
        (r"\Q(a.b)\E(x)", r"\(a\.b\)(x)", 1),
        (
            r"(a)\h(b)\Z",
            r"(a)[\t \x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}](b)\z",
            2,
        ),
        (r"(?i)(a+?)(?:b)[(]", r"(?i)(a+?)(?:b)[(]", 1),
        (r"\[([^\]]*)\]", r"\[([^\]]*)\]", 1),
        (r"(a)\011", r"(a)\x{9}", 1),
    ],
)
def test_java_regex_translation(java: str, re2: str, groups: int) -> None:
    out = translate_java_regex(java)
    assert (out.pattern, out.groups) == (re2, groups)


@pytest.mark.parametrize(
    ("java", "needle"),
    [
        (r"(a)(?=b)", "look-around"),
        (r"(a)(?<!b)", "look-around"),
        (r"(a)\1", "back-reference"),
        (r"([a-z&&[^aeiou]])", "intersection"),
        (r"(\p{javaLowerCase})", "javaLowerCase"),
        (r"(?x)(a)", "inline flags"),
        (r"(?=(a))(a)", "inside a look-ahead"),
        (r"(?=(a))(a)", "inside a look-ahead"),
    ],
)
def test_java_only_syntax_is_rejected_by_name(java: str, needle: str) -> None:
    with pytest.raises(UnsupportedError, match=needle):
        translate_java_regex(java)


@pytest.mark.parametrize(
    ("columns", "params", "needle"),
    [
        ([("a", "string")], {}, "input.regex"),
        ([("a", "string")], {"input.regex": "(a)(b)"}, "2 capturing groups but the table has 1"),
        ([("a", "string"), ("b", "string")], {"input.regex": "(a)"}, "1 capturing groups"),
        ([("a", "string")], {"input.regex": "(a{2,1})"}, "not a valid pattern"),
        ([("a", "string")], {"input.regex": "([a-z)"}, "unclosed"),
    ],
)
def test_validate_rejects_bad_properties(
    lake: Lake, columns: list[tuple[str, str]], params: dict[str, str], needle: str
) -> None:
    t = lake.table(columns, serde=REGEX_SERDE, serde_params=params)
    with pytest.raises(InvalidRequestError, match=needle):
        RegexReader().validate(t)


# AWS's CloudFront example DDL, as the catalog holds it once the DDL string is unescaped
CLOUDFRONT_REGEX = (
    r"^(?!#)([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+([^ ]+)\s+([^ ]+)"
    r"\s+([^ ]+)\s+([^ ]+)\s+[^\(]+[\(]([^\;]+).*\%20([^\/]+)[\/](.*)$"
)
CLOUDFRONT_COLUMNS = [
    ("date", "date"),
    ("time", "string"),
    ("location", "string"),
    ("bytes", "int"),
    ("requestip", "string"),
    ("method", "string"),
    ("host", "string"),
    ("uri", "string"),
    ("status", "int"),
    ("referrer", "string"),
    ("os", "string"),
    ("browser", "string"),
    ("browserversion", "string"),
]
CLOUDFRONT_LINE = (
    "2014-07-05\t20:00:09\tDFW3\t4260\t10.0.0.15\tGET\teabcd12345678.cloudfront.net"
    "\t/test-image-1.jpeg\t200\t-\tMozilla/5.0%20(MacOS;%20U;%20Windows%20NT%205.1)"
    "%20Gecko/2009040821%20IE/3.0.9"
)


def test_aws_cloudfront_example_with_leading_negative_lookahead(lake: Lake) -> None:
    t = lake.table(
        CLOUDFRONT_COLUMNS, serde=REGEX_SERDE, serde_params={"input.regex": CLOUDFRONT_REGEX}
    )
    lake.write(
        t,
        "cf.log",
        "\n".join(["#Version: 1.0", "#" + CLOUDFRONT_LINE, CLOUDFRONT_LINE]) + "\n",
        codec="gzip",
    )
    rows = lake.read(t, columns=["date", "bytes", "status", "os", "browser", "browserversion"])
    assert rows == [
        (None, None, None, None, None, None),
        (None, None, None, None, None, None),
        (dt.date(2014, 7, 5), 4260, 200, "MacOS", "IE", "3.0.9"),
    ]


ELB_REGEX = (
    r"([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) "
    r'(|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) "([^ ]*) ([^ ]*) (- |[^ ]*)" ("[^"]*") '
    r"([A-Z0-9-]+) ([A-Za-z0-9.-]*)$"
)
ELB_COLUMNS = [
    ("request_timestamp", "string"),
    ("elb_name", "string"),
    ("request_ip", "string"),
    ("request_port", "int"),
    ("backend_ip", "string"),
    ("backend_port", "int"),
    ("request_processing_time", "double"),
    ("backend_processing_time", "double"),
    ("client_response_time", "double"),
    ("elb_response_code", "string"),
    ("backend_response_code", "string"),
    ("received_bytes", "bigint"),
    ("sent_bytes", "bigint"),
    ("request_verb", "string"),
    ("url", "string"),
    ("protocol", "string"),
    ("user_agent", "string"),
    ("ssl_cipher", "string"),
    ("ssl_protocol", "string"),
]


def test_aws_classic_elb_log_example(lake: Lake) -> None:
    t = lake.table(ELB_COLUMNS, serde=REGEX_SERDE, serde_params={"input.regex": ELB_REGEX})
    lake.write(
        t,
        "elb.log",
        "2015-05-13T23:39:43.945958Z my-lb 192.168.131.39:2817 10.0.0.1:80 0.000086 "
        '0.001048 0.001337 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" '
        '"curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2\n',
    )
    rows = lake.read(
        t,
        columns=[
            "request_port",
            "backend_port",
            "client_response_time",
            "sent_bytes",
            "url",
            "user_agent",
            "ssl_protocol",
        ],
    )
    assert rows == [
        (2817, 80, 0.001337, 57, "https://www.example.com:443/", '"curl/7.38.0"', "TLSv1.2")
    ]


@pytest.mark.parametrize(
    ("java", "lookaheads", "rest"),
    [
        ("^(?!#)(a)", ((False, "#"),), "^(a)"),
        (r"(?=x)(?!xy\))(x.*)", ((True, "x"), (False, r"xy\)")), "(x.*)"),
    ],
)
def test_leading_lookaheads_become_line_start_checks(
    java: str, lookaheads: tuple[tuple[bool, str], ...], rest: str
) -> None:
    out = translate_java_regex(java)
    assert (out.lookaheads, out.pattern, out.groups) == (lookaheads, rest, 1)


def test_complex_columns_are_rejected(lake: Lake) -> None:
    t = lake.table(
        [("a", "array<string>")], serde=REGEX_SERDE, serde_params={"input.regex": "(.*)"}
    )
    with pytest.raises(InvalidRequestError, match="primitive columns only"):
        RegexReader().validate(t)


@pytest.mark.parametrize(
    ("pattern", "numbers", "witnesses", "rewritten"),
    [
        # a capturing optional group that never matches empty is its own witness
        ("(a)(b)?", (1, 2), ((), (2,)), "(a)(b)?"),
        # a non-capturing optional part becomes capturing, numbered in opening order
        ("(?: (x) (y))?(z)", (2, 3, 4), ((1,), (1,), ()), "( (x) (y))?(z)"),
        # nested optional parts: the inner group depends on both
        ("(?: (a)(?: (b))?)?", (2, 4), ((1,), (1, 3)), "( (a)( (b))?)?"),
        # a part that can match empty cannot tell: no witness, '' stays ''; a repeated
        # group that cannot match empty is its own witness
        ("(c*)?(?:(d)*)?", (1, 2), ((), (2,)), "(c*)?(?:(d)*)?"),
        # a character class holding ')' or '(' is not a group
        ("([)(]+)(?: ([^)]+))?", (1, 3), ((), (2,)), "([)(]+)( ([^)]+))?"),
    ],
)
def test_witness_groups_for_optional_parts(
    pattern: str,
    numbers: tuple[int, ...],
    witnesses: tuple[tuple[int, ...], ...],
    rewritten: str,
) -> None:
    marked = witnessed(pattern)
    assert marked.pattern == rewritten
    assert marked.numbers == numbers
    assert marked.witnesses == witnesses
