"""Statement splitting: ``;`` only separates statements outside strings, quotes and comments."""

from __future__ import annotations

import pytest

from lakebox.errors import SqlSyntaxError
from lakebox.sql.dialect import parse_query
from lakebox.sql.split import Statement, split_statements


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("SELECT 1", [Statement("SELECT 1", 1, 1)]),
        ("SELECT 1;", [Statement("SELECT 1", 1, 1)]),
        ("SELECT 1; SELECT 2", [Statement("SELECT 1", 1, 1), Statement("SELECT 2", 1, 11)]),
        ("  \n\n  SELECT 1 ;\n", [Statement("SELECT 1", 3, 3)]),
        ("SELECT 'a;b'; SELECT 2", [Statement("SELECT 'a;b'", 1, 1), Statement("SELECT 2", 1, 15)]),
        ("SELECT 'it''s;'", [Statement("SELECT 'it''s;'", 1, 1)]),
        ('SELECT "a;b" FROM t', [Statement('SELECT "a;b" FROM t', 1, 1)]),
        ('SELECT "a"";b"', [Statement('SELECT "a"";b"', 1, 1)]),
        (
            "CREATE TABLE `db;x`.t (a int);",
            [Statement("CREATE TABLE `db;x`.t (a int)", 1, 1)],
        ),
        (
            "SELECT 1 -- not; a split\n, 2; SELECT 3",
            [Statement("SELECT 1 -- not; a split\n, 2", 1, 1), Statement("SELECT 3", 2, 6)],
        ),
        (
            "SELECT /* ; */ 1;\n/* lead; */ SELECT 2",
            [Statement("SELECT /* ; */ 1", 1, 1), Statement("/* lead; */ SELECT 2", 2, 1)],
        ),
        (";;  ;\n;", []),
        ("-- only a comment; really\n/* and ; another */ ;", []),
        ("SELECT 1;\n\n;\nSELECT 2;", [Statement("SELECT 1", 1, 1), Statement("SELECT 2", 4, 1)]),
        ("SELECT 'unterminated; SELECT 2", [Statement("SELECT 'unterminated; SELECT 2", 1, 1)]),
        (
            "SELECT 1 /* unterminated ; comment",
            [Statement("SELECT 1 /* unterminated ; comment", 1, 1)],
        ),
        (
            "SELECT '--';SELECT '/*'",
            [Statement("SELECT '--'", 1, 1), Statement("SELECT '/*'", 1, 13)],
        ),
        ("SELECT 1\r\n;\r\nSELECT 2", [Statement("SELECT 1", 1, 1), Statement("SELECT 2", 3, 1)]),
    ],
)
def test_split_statements(script: str, expected: list[Statement]) -> None:
    assert split_statements(script) == expected


def test_statement_text_is_the_source_slice() -> None:
    script = "SELECT 1;\n  SELECT\n    x FROM t ;"
    for stmt in split_statements(script):
        lines = script.split("\n")
        assert lines[stmt.line - 1][stmt.column - 1 :].startswith(stmt.text.split("\n")[0])


@pytest.mark.parametrize(
    ("script", "line", "column"),
    [
        ("SELECT 1;\nSELECT 1 FORM t", 2, 15),
        ("SELECT 1; SELECT a b c FROM t", 1, 22),
        ("SELECT 1;\n\n  SELECT a,\n  b FROM t WHERE x = = 1", 4, 22),
    ],
)
def test_syntax_errors_map_back_to_the_script(script: str, line: int, column: int) -> None:
    statements = split_statements(script)
    with pytest.raises(SqlSyntaxError) as info:
        parse_query(statements[1].text)
    assert info.value.line is not None and info.value.column is not None
    assert statements[1].script_position(info.value.line, info.value.column) == (line, column)


def test_an_error_about_a_statement_is_placed_in_the_script() -> None:
    script = "SELECT 1;\n-- the broken one\nSELECT a,\n  b FROM t WHERE x = = 1;\nSELECT 3"
    statements = split_statements(script)
    with pytest.raises(SqlSyntaxError) as info:
        parse_query(statements[1].text)
    placed = statements[1].in_script(str(info.value), 2, "job.sql")
    assert placed.startswith("job.sql: line 4:")
    assert placed.endswith("(statement 2, from line 2)")
    assert statements[2].in_script("Table 'default.t' does not exist", 3) == (
        "statement 3 (line 5): Table 'default.t' does not exist"
    )
