"""The one SQL lexer: token kinds, values and positions, in standard and Hive string modes."""

from __future__ import annotations

import pytest

from lakebox.errors import SqlSyntaxError
from lakebox.sql import lexer
from lakebox.sql.lexer import (
    SourceStatement,
    Token,
    plain_numbers,
    scan,
    split_statements,
    tokenize,
)


def _kinds(sql: str, *, hive: bool = False) -> list[tuple[str, str, int, int]]:
    return [(t.kind, t.text, t.line, t.col) for t in scan(sql, hive=hive)]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT a, 1.5 FROM t",
            [
                ("WORD", "SELECT", 1, 1),
                ("WORD", "a", 1, 8),
                ("PUNCT", ",", 1, 9),
                ("NUMBER", "1.5", 1, 11),
                ("WORD", "FROM", 1, 15),
                ("WORD", "t", 1, 20),
                ("EOF", "", 1, 21),
            ],
        ),
        # the empty string literal before ) and at the end of a statement
        (
            "f('')",
            [
                ("WORD", "f", 1, 1),
                ("PUNCT", "(", 1, 2),
                ("STRING", "", 1, 3),
                ("PUNCT", ")", 1, 5),
                ("EOF", "", 1, 6),
            ],
        ),
        (
            "x = ''",
            [("WORD", "x", 1, 1), ("PUNCT", "=", 1, 3), ("STRING", "", 1, 5), ("EOF", "", 1, 7)],
        ),
        ("'';", [("STRING", "", 1, 1), ("PUNCT", ";", 1, 3), ("EOF", "", 1, 4)]),
        # doubled quotes escape in strings, "names" and `names`
        ("'it''s'", [("STRING", "it's", 1, 1), ("EOF", "", 1, 8)]),
        ("''''", [("STRING", "'", 1, 1), ("EOF", "", 1, 5)]),
        ('"a""b"', [("DQ", 'a"b', 1, 1), ("EOF", "", 1, 7)]),
        ("`a``b`", [("QIDENT", "a`b", 1, 1), ("EOF", "", 1, 7)]),
        # comments are tokens of their own; a ; or a quote inside one is just text
        (
            "a -- it's; here\nb /* ' ; \" */ c",
            [
                ("WORD", "a", 1, 1),
                ("COMMENT", "-- it's; here", 1, 3),
                ("WORD", "b", 2, 1),
                ("COMMENT", "/* ' ; \" */", 2, 3),
                ("WORD", "c", 2, 15),
                ("EOF", "", 2, 16),
            ],
        ),
        # positions across lines, including inside a multi-line string
        (
            "x\n  'a\nb' y",
            [("WORD", "x", 1, 1), ("STRING", "a\nb", 2, 3), ("WORD", "y", 3, 4), ("EOF", "", 3, 5)],
        ),
        (
            "a = ? AND '?' = ?",
            [
                ("WORD", "a", 1, 1),
                ("PUNCT", "=", 1, 3),
                ("PARAM", "?", 1, 5),
                ("WORD", "AND", 1, 7),
                ("STRING", "?", 1, 11),
                ("PUNCT", "=", 1, 15),
                ("PARAM", "?", 1, 17),
                ("EOF", "", 1, 18),
            ],
        ),
        # a word starting with digits stays a word; a number with a fraction or exponent wins
        (
            "12abc 1e5 1e5x 3.",
            [
                ("WORD", "12abc", 1, 1),
                ("NUMBER", "1e5", 1, 7),
                ("WORD", "1e5x", 1, 11),
                ("NUMBER", "3", 1, 16),
                ("PUNCT", ".", 1, 17),
                ("EOF", "", 1, 18),
            ],
        ),
        ("", [("EOF", "", 1, 1)]),
    ],
)
def test_golden_tokens(sql: str, expected: list[tuple[str, str, int, int]]) -> None:
    assert _kinds(sql) == expected


def test_token_spans_cover_the_source_text() -> None:
    sql = "SELECT 'a''b' AS \"x\" -- c\n"
    spans = [sql[t.start : t.end] for t in scan(sql)]
    assert spans == ["SELECT", "'a''b'", "AS", '"x"', "-- c", ""]


def test_hive_mode_unescapes_backslashes_and_splits_doubled_quotes() -> None:
    assert _kinds(r"'a\tb' '\001' '\u0041'", hive=True)[:3] == [
        ("STRING", "a\tb", 1, 1),
        ("STRING", "\x01", 1, 8),
        ("STRING", "A", 1, 15),
    ]
    assert [t.text for t in tokenize("'it''s'", hive=True)] == ["it", "s", ""]
    assert [t.text for t in tokenize(r"'it\'s'", hive=True)] == ["it's", ""]
    # standard SQL: a backslash is an ordinary character
    assert [t.text for t in tokenize(r"'a\'", hive=False)] == ["a\\", ""]


@pytest.mark.parametrize(
    ("sql", "hive", "start", "kind"),
    [
        ("SELECT 'abc", False, 7, "STRING"),
        ("SELECT 'abc''", False, 7, "STRING"),  # a doubled quote at the end does not close
        ("SELECT 'a' /* b", False, 11, "COMMENT"),
        ("SELECT `a", False, 7, "QIDENT"),
        ('SELECT "a', False, 7, "DQ"),
        (r"SELECT 'a\'", True, 7, "STRING"),  # Hive: the backslash escapes the quote
    ],
)
def test_what_does_not_close_runs_to_the_end(sql: str, hive: bool, start: int, kind: str) -> None:
    last = list(scan(sql, hive=hive))[-2]
    assert (last.kind, last.start, last.end, last.closed) == (kind, start, len(sql), False)
    assert lexer.unterminated_offset(sql) == (start if not hive else None)


@pytest.mark.parametrize(
    ("sql", "message", "line", "col"),
    [
        ("SHOW TABLES LIKE 'x", "unterminated string literal", 1, 18),
        ("SHOW\n  TABLES /* x", "unterminated /* comment", 2, 10),
        ("DROP TABLE `x", "unterminated `quoted identifier`", 1, 12),
    ],
)
def test_tokenize_raises_where_the_token_starts(
    sql: str, message: str, line: int, col: int
) -> None:
    with pytest.raises(SqlSyntaxError) as info:
        tokenize(sql, hive=True)
    assert info.value.message == f"line {line}:{col}: {message}"
    assert (info.value.line, info.value.column) == (line, col)


def test_tokenize_drops_comments_and_ends_with_eof() -> None:
    toks = tokenize("-- lead\nSHOW /* x */ TABLES")
    assert [(t.kind, t.text) for t in toks] == [("WORD", "SHOW"), ("WORD", "TABLES"), ("EOF", "")]
    assert toks[0].is_kw("show") is False and toks[0].is_kw("SHOW")
    assert Token("PUNCT", ";", 0, 1, 1, 1).is_punct(",;")


@pytest.mark.parametrize(
    ("sql", "word"),
    [
        ("select 1", "SELECT"),
        ("-- c\n/* d */ show tables", "SHOW"),
        ("(SELECT 1)", None),
        ("/* open", None),
        ("", None),
    ],
)
def test_first_word(sql: str, word: str | None) -> None:
    assert lexer.first_word(sql) == word


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # the fast path (no ; and no comment) and the scanned path agree
        ("  SELECT 1  ", [SourceStatement("SELECT 1", 1, 3)]),
        ("\n\n  SELECT 'x'\n", [SourceStatement("SELECT 'x'", 3, 3)]),
        ("   \n ", []),
        (
            "SELECT ''; SELECT 2",
            [SourceStatement("SELECT ''", 1, 1), SourceStatement("SELECT 2", 1, 12)],
        ),
        ("SELECT f('');", [SourceStatement("SELECT f('')", 1, 1)]),
        (
            "/* a;'b */ SELECT 1; -- c;'\nSELECT 2",
            [
                SourceStatement("/* a;'b */ SELECT 1", 1, 1),
                SourceStatement("-- c;'\nSELECT 2", 1, 22),
            ],
        ),
        ("-- only a comment;\n/* and another */;", []),
        # a statement that does not tokenize keeps its text and position
        (
            "SELECT 1;\n  SELECT 'open; x",
            [SourceStatement("SELECT 1", 1, 1), SourceStatement("SELECT 'open; x", 2, 3)],
        ),
    ],
)
def test_split_statements(script: str, expected: list[SourceStatement]) -> None:
    assert split_statements(script) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # the examples of Trino's data types page
        ("SELECT 0x0A", "SELECT 10  "),
        ("SELECT 0x11", "SELECT 17  "),
        ("SELECT 0o40, 0o11", "SELECT 32  , 9   "),
        ("SELECT 0b1001, 0b101010", "SELECT 9     , 42      "),
        ("SELECT 123_456.789_123", "SELECT 123456.789123  "),
        ("SELECT 123_456.789e4", "SELECT 123456.789e4 "),
        # left alone: names, strings, quoted names, comments, plain numbers, non-literals
        ("SELECT a_1, '0x1', \"0o1\" -- 0b1", "SELECT a_1, '0x1', \"0o1\" -- 0b1"),
        ("SELECT 1.5, 0.5e3, 12abc, 0xZZ", "SELECT 1.5, 0.5e3, 12abc, 0xZZ"),
    ],
)
def test_plain_numbers(sql: str, expected: str) -> None:
    assert plain_numbers(sql) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 0x" + "F" * 4000,  # beyond what Python prints as a decimal
        "SELECT 0x8000000000000000",
        "SELECT 0b" + "1" * 64,
        "SELECT 1" + "0" * 38,  # 39 digits: not a bigint, not a decimal(38)
        "SELECT 1" + "_000" * 13,
    ],
)
def test_plain_numbers_refuses_integers_trino_cannot_hold(sql: str) -> None:
    with pytest.raises(SqlSyntaxError, match=r"line 1:8: Invalid numeric literal: "):
        plain_numbers(sql)
