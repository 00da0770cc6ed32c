"""Lake Formation's row filters, read for the planner.

A data cells filter's row filter (``TableView.row_filter``) is a boolean expression over
one table's columns in Lake Formation's PartiQL subset: comparisons, ``AND`` / ``OR`` /
``NOT``, ``IN`` lists, ``BETWEEN``, ``LIKE``, ``IS [NOT] NULL``, literals (typed ones such
as ``DATE '2024-01-01'`` included; CAST only of a literal: a cast of a column would fail
on some rows and print their cells) and arithmetic. It is parsed with the Athena dialect and
bound to the table: every column it names must be one of the table's (data columns and
partition keys, not pseudo-columns), and nothing else may appear (no subquery, no function
call, no other table), so a filter can never read, call or reference anything but the row
it decides on. A filter outside the subset fails the query: it is never dropped.
"""

from __future__ import annotations

import functools

from sqlglot import exp

from lakebox.catalog.model import Table
from lakebox.errors import LakeboxError, SemanticError

#: the expression nodes a row filter may hold (Lake Formation's PartiQL WHERE subset)
_ALLOWED: tuple[type[exp.Expr], ...] = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.And,
    exp.Or,
    exp.Not,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.In,
    exp.Between,
    exp.Like,
    exp.Is,
    exp.Neg,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.Cast,  # typed literals (DATE '...', TIMESTAMP '...'): of a literal only
    exp.DataType,
    exp.DataTypeParam,
    exp.Tuple,
)


def _constant(node: exp.Expression) -> bool:
    """Whether ``node`` is a literal (possibly negated or parenthesised) or NULL."""
    while isinstance(node, exp.Paren | exp.Neg):
        node = node.this
    return isinstance(node, exp.Literal | exp.Null)


class RowFilterError(SemanticError):
    """A row filter that is not a boolean expression over its table's columns."""


def parse_row_filter(table: Table, text: str, qualifier: str) -> exp.Expression:
    """The row filter ``text`` of ``table`` as an expression whose every column is
    qualified by ``qualifier`` (the alias the table is scanned under). Parsed once per
    table definition and text (planning pays a copy afterwards)."""
    names = tuple(c.name.lower() for c in table.all_columns)
    return _parsed(table.qualified_name, names, text, qualifier).copy()


@functools.lru_cache(maxsize=512)
def _parsed(
    qualified_name: str, names: tuple[str, ...], text: str, qualifier: str
) -> exp.Expression:
    from lakebox.sql.dialect import parse_query

    where = f"the row filter of {qualified_name}"
    try:
        tree = parse_query(f"SELECT 1 FROM __lakebox_row_filter WHERE {text}")
    except LakeboxError as err:
        raise RowFilterError(f"{where} is not a valid expression: {err.message}") from err
    clause = tree.args.get("where") if isinstance(tree, exp.Select) else None
    others = {k for k, v in tree.args.items() if v and k not in ("expressions", "from_", "where")}
    if not isinstance(clause, exp.Where) or others:
        raise RowFilterError(f"{where} is not a single boolean expression")
    found = tree.args.get("from_")
    if not isinstance(found, exp.From) or found.name != "__lakebox_row_filter":
        raise RowFilterError(f"{where} is not a single boolean expression")
    condition = clause.this
    for node in condition.walk():
        if isinstance(node, exp.In) and node.args.get("query") is not None:
            raise RowFilterError(f"{where} may not hold a subquery")
        if not isinstance(node, _ALLOWED):
            raise RowFilterError(
                f"{where} may only compare the table's columns with literals "
                f"(found {node.key.upper()})"
            )
        if isinstance(node, exp.Cast) and not _constant(node.this):
            raise RowFilterError(
                f"{where} may only CAST literals (a cast of a column would fail on some "
                "rows and print their cells)"
            )
        if isinstance(node, exp.Column):
            if node.table or node.args.get("db") or node.args.get("catalog"):
                raise RowFilterError(f"{where} may only name the table's own columns")
            if node.name.lower() not in names:
                raise RowFilterError(f"{where} names {node.name!r}, not a column of the table")
    bound = condition.copy()
    for col in list(bound.find_all(exp.Column)):
        col.replace(
            exp.column(
                exp.to_identifier(col.name.lower(), quoted=True),
                exp.to_identifier(qualifier, quoted=True),
            )
        )
    return bound


__all__ = ["RowFilterError", "parse_row_filter"]
