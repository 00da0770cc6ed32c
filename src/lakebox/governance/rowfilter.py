"""Data cells filters' row filter expressions: Lake Formation's PartiQL WHERE subset.

An expression may compare columns of its table with literals and other columns (``=``,
``<>``, ``<``, ``<=``, ``>``, ``>=``), combine them with AND / OR / NOT, and use IN,
BETWEEN, LIKE, IS [NOT] NULL, typed literals (``DATE '2024-01-01'``) and + - *. Nothing
else: no function calls, subqueries or division, and no CAST of a column (a filter must
not fail on some rows and not others: the error would print the failing row's cell), and
no array, map or struct column (as in AWS).
"""

from __future__ import annotations

from lakebox.catalog.model import Table
from lakebox.governance.errors import InvalidInput

_ALLOWED = frozenset(
    {
        "And",
        "Or",
        "Not",
        "Paren",
        "EQ",
        "NEQ",
        "GT",
        "GTE",
        "LT",
        "LTE",
        "In",
        "Tuple",
        "Between",
        "Like",
        "Is",
        "Null",
        "Boolean",
        "Literal",
        "Column",
        "Identifier",
        "Cast",
        "DataType",
        "DataTypeParam",
        "Neg",
        "Add",
        "Sub",
        "Mul",
    }
)
_COMPLEX = ("array<", "map<", "struct<", "array(", "map(", "row(")


def _constant(node: object) -> bool:
    """Whether ``node`` is a literal (possibly negated or parenthesised) or NULL."""
    from sqlglot import exp

    while isinstance(node, exp.Paren | exp.Neg):
        node = node.this
    return isinstance(node, exp.Literal | exp.Null)


def check_row_filter(expression: str, table: Table, where: str = "RowFilter") -> str:
    """``expression``, in its canonical Athena text, when it is a valid filter of
    ``table``; InvalidInput naming the problem otherwise."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(expression, read="athena")
    except SqlglotError as err:
        raise InvalidInput(
            f"{where}.FilterExpression {expression[:200]!r} does not parse: {str(err)[:200]}"
        ) from None
    if tree is None or isinstance(tree, exp.Select | exp.Query):
        raise InvalidInput(f"{where}.FilterExpression must be a condition, not a statement")
    for node in tree.walk():
        name = type(node).__name__
        if name not in _ALLOWED:
            raise InvalidInput(
                f"{where}.FilterExpression {expression[:200]!r}: {name} is not allowed in a row "
                "filter (comparisons, AND, OR, NOT, IN, BETWEEN, LIKE, IS NULL and literals are)"
            )
        if isinstance(node, exp.Cast) and not _constant(node.this):
            # a cast of a column fails on the rows it cannot convert, and the error would
            # print that row's cell (a hidden one, maybe): casts are for literals only
            raise InvalidInput(
                f"{where}.FilterExpression {expression[:200]!r}: CAST may only convert a "
                "literal (DATE '2024-01-01'), not a column"
            )
        if isinstance(node, exp.Column):
            if node.table:
                raise InvalidInput(
                    f"{where}.FilterExpression names {node.sql()}: name columns of "
                    f"{table.name} without a table"
                )
            column = table.column(node.name)
            if column is None:
                raise InvalidInput(
                    f"{where}.FilterExpression names column {node.name!r}, which "
                    f"{table.database}.{table.name} does not have"
                )
            if column.type.lower().replace(" ", "").startswith(_COMPLEX):
                raise InvalidInput(
                    f"{where}.FilterExpression names column {column.name!r} of type "
                    f"{column.type}: row filters cannot use array, map or struct columns"
                )
    # kept as its canonical text: no comment, nothing a wrapping parenthesis could be
    # commented out of, the same text for the same condition
    return str(tree.sql(dialect="athena", comments=False))
