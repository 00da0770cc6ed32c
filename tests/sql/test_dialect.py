"""The Athena statement parser: literals and the tokens its leniency checks look at."""

from __future__ import annotations

import pytest
from sqlglot import exp

from lakebox.errors import SqlSyntaxError
from lakebox.sql.dialect import parse_query


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT ''",
        "SELECT '';",
        "SELECT replace('abc', 'b', '')",
        "SELECT coalesce(NULL, '')",
        "SELECT '' AS x, 'a' || ''",
        "SELECT x FROM t WHERE x = ''",
        "SELECT split('a,b', '')",
    ],
)
def test_an_empty_string_literal_is_a_value(sql: str) -> None:
    tree = parse_query(sql)
    empties = [lit for lit in tree.find_all(exp.Literal) if lit.is_string and lit.this == ""]
    assert empties


def test_an_empty_string_does_not_fill_a_missing_operand() -> None:
    with pytest.raises(SqlSyntaxError, match="line 1:12: mismatched input 'FROM'"):
        parse_query("SELECT '', FROM t")


def test_the_athena_dialect_is_made_with_the_parser_module_not_by_a_first_statement() -> None:
    """sqlglot builds a dialect's keyword tries when it creates its class (~12 ms for Athena
    and the dialects it derives from): loading the parser does it, so a session's first
    statement is parsed as fast as any other."""
    import subprocess
    import sys

    code = (
        "import sys, lakebox.sql.dialect; "
        "print('sqlglot.dialects.athena' in sys.modules, 'sqlglot.dialects.trino' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
