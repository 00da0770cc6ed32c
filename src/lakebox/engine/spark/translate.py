"""Athena SQL on Spark: a plan's tree (the parsed Athena query, scans as placeholders)
written as Spark SQL with Athena's semantics.

sqlglot's ``spark`` dialect does most of the work (function names and argument orders,
``UNNEST`` as ``EXPLODE``, Trino's ``NULLS LAST`` spelled out, date format patterns). The
rules here fix what it leaves different from Athena:

- integer ``/`` truncates in Trino (5 / 2 = 2) and returns the operands' type; Spark's
  ``/`` always divides exactly: ``CAST(a DIV b AS <type>)`` when both sides are integers;
- Athena's result column names (``_col0`` for an unnamed expression, lower-case names) are
  written as aliases on the outermost select, as on the DuckDB engine;
- a bare ``VALUES`` names its columns ``_col0``...;
- functions returning BIGINT in Trino and INT in Spark (``length``, ``strpos``,
  ``cardinality``, ``year``...) are cast to BIGINT.

Spark's session settings do the rest (``session.BASE_SETTINGS``: ANSI mode, UTC).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError
from sqlglot.errors import UnsupportedError as SqlglotUnsupportedError
from sqlglot.expressions.datatypes import DType

from lakebox.errors import SemanticError, UnsupportedError
from lakebox.sql.dialect import outermost_select, output_name, values_width
from lakebox.sql.typed import typed

_INTEGERS = (
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
)
#: the wider of two integer types: Trino's result type of an integer division
_RANK = {t: i for i, t in enumerate(_INTEGERS)}


def _integer_type(node: exp.Expression) -> DType | None:
    kind = node.type
    if kind is None:
        return None
    for t in _INTEGERS:
        if kind.is_type(t):
            return t
    return None


def _rewrite_integer_division(tree: exp.Expression) -> None:
    """``a / b`` of two integers: Trino truncates toward zero and keeps the wider operand
    type; Spark's ``DIV`` truncates toward zero and returns BIGINT."""
    for div in list(tree.find_all(exp.Div)):
        left, right = _integer_type(div.this), _integer_type(div.expression)
        if left is None or right is None:
            continue
        wider = left if _RANK[left] >= _RANK[right] else right
        quotient = exp.IntDiv(this=div.this.copy(), expression=div.expression.copy())
        div.replace(exp.Cast(this=quotient, to=exp.DataType.build(wider)))


#: Trino functions that return BIGINT where Spark's counterpart returns INT
_BIGINT_RESULTS: tuple[type[exp.Expression], ...] = tuple(
    kind
    for kind in (
        getattr(exp, name, None)
        for name in (
            "Length", "StrPosition", "ArraySize", "ArrayPosition", "Levenshtein",
            "Year", "Quarter", "Month", "Week", "WeekOfYear", "Day", "DayOfMonth",
            "DayOfWeek", "DayOfWeekIso", "DayOfYear", "Hour", "Minute", "Second",
        )
    )
    if isinstance(kind, type)
)  # fmt: skip


def _widen_integer_results(tree: exp.Expression) -> None:
    """``length``, ``strpos``, ``cardinality``, ``year``... return BIGINT in Trino and
    INT in Spark: the result keeps Athena's type."""
    for node in list(tree.find_all(*_BIGINT_RESULTS)):
        if isinstance(node.parent, exp.Cast):
            continue
        node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build("BIGINT")))


def _lower_identifiers(tree: exp.Expression) -> None:
    """Athena folds identifiers, quoted or not, to lower case; table names (the planner's
    placeholders) stay as written."""
    for ident in tree.find_all(exp.Identifier):
        if isinstance(ident.parent, exp.Table) and ident.arg_key in ("this", "db", "catalog"):
            continue
        ident.set("this", ident.this.lower())


def _name_values(tree: exp.Expression) -> exp.Expression:
    if not isinstance(tree, exp.Values) or tree.alias:
        return tree
    columns = [exp.to_identifier(f"_col{i}") for i in range(values_width(tree))]
    tree.set("alias", exp.TableAlias(this=exp.to_identifier("_values"), columns=columns))
    return exp.select("*").from_(tree)


def _apply_result_names(tree: exp.Expression, names: list[str | None]) -> None:
    select = outermost_select(tree)
    if select is None or len(select.expressions) != len(names):
        return
    for projection, name in zip(list(select.expressions), names, strict=True):
        if name is None:
            continue
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        projection.replace(exp.alias_(inner.copy(), name, quoted=True))


def to_spark(expr: exp.Expression, schema: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """Spark SQL for a parsed Athena query, with Athena's result column names.

    ``schema`` ({table: {column: Hive type}}) types columns for the type-dependent rules
    (integer division); literals and casts are typed without it."""
    try:
        tree = typed(expr.copy(), schema)
    except Exception:
        tree = expr.copy()
    _rewrite_integer_division(tree)
    names = [
        output_name(p, i) for i, p in enumerate(getattr(outermost_select(tree), "expressions", []))
    ]
    _widen_integer_results(tree)
    _lower_identifiers(tree)
    _apply_result_names(tree, names)
    tree = _name_values(tree)
    try:
        return tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)
    except SqlglotUnsupportedError as err:
        raise UnsupportedError(f"cannot run this Athena SQL on Spark: {err}") from err
    except ParseError as err:
        raise SemanticError(
            f"cannot translate this statement: {str(err).splitlines()[0]}; "
            "check the arguments of its function calls"
        ) from err


def spark_type(hive_type: str) -> str:
    """The Spark SQL type of a Hive column type (Hive DDL names; ``varchar(n)`` and
    ``char(n)`` are read as strings, as Spark has no length-checked string to cast to)."""
    text = hive_type.strip()
    lowered = text.lower()
    if lowered.startswith(("varchar", "char")) or lowered == "string":
        return "STRING"
    if lowered == "timestamp with time zone":
        return "TIMESTAMP_LTZ"
    if lowered == "timestamp":
        return "TIMESTAMP_NTZ"
    try:
        parsed = exp.DataType.build(text, dialect="hive")
    except Exception as err:
        raise UnsupportedError(f"column type {hive_type!r} is not supported on Spark") from err
    return parsed.sql(dialect="spark")
