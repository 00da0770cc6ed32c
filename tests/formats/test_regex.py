"""RegexSerDe over real log files: whole-line matches, Java-to-RE2 translation, validation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from lakebox.errors import InvalidRequestError, UnsupportedError
from lakebox.formats.regex import REGEX_SERDE, RegexReader, translate_java_regex

if TYPE_CHECKING:
    from tests.formats.conftest import Lake

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
        "bkt [x] [y] REST.PUT - - \n",
    )
    assert lake.read(t) == [
        ("bkt", "06/Feb/2019:00:00:38 +0000", "REST.GET", '"GET /k HTTP/1.1"', 200, "a", "b"),
        ("bkt", "x] [y", "REST.PUT", "-", None, "", ""),
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
