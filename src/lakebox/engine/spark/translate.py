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
  ``cardinality``, ``year``...) are cast to BIGINT;
- Trino functions Spark has under another name or shape (``_TRINO_FUNCTIONS``):
  ``any_match`` / ``all_match`` / ``none_match``, ``map_agg``, ``reduce_agg``, ``ngrams``,
  ``trim_array``, the bitwise shifts (a shift of the type's width or more gives 0, or -1
  for a negative value shifted arithmetically, where Java's shifts wrap around);
- ``date_trunc`` of a timestamp without time zone keeps that type (Spark's answers in the
  session zone), of a date a date; ``sha1`` / ``sha256`` / ``sha512`` return VARBINARY
  (Spark's return hex text); ``if(c, x)`` is ``if(c, x, NULL)``;
- functions both have that answer differently (``_rewrite_builtin_differences``):
  ``repeat`` (an array), ``greatest`` / ``least`` (NULL when an argument is),
  ``arbitrary`` (a non-NULL value), ``sign`` of an integer, ``split_part`` past the end
  (NULL), logarithms of 0 and of negative numbers (-Infinity, NaN).

Spark's session settings do the rest (``session.BASE_SETTINGS``: ANSI mode, UTC).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sqlglot
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


def _spark_call(template: str, *args: exp.Expr) -> exp.Expr:
    """Spark SQL ``template`` (``__0``, ``__1``... for the arguments) as a tree, with
    copies of ``args`` in place of the placeholders."""
    tree = sqlglot.parse_one(template, dialect="spark")
    for column in list(tree.find_all(exp.Column)):
        name = column.name
        if name.startswith("__") and name[2:].isdigit():
            column.replace(args[int(name[2:])].copy())
    return tree


def _shift(kind: str) -> Callable[[exp.Anonymous], exp.Expr | None]:
    """Trino's shifts of a value of the type's width (32 or 64 bits): a shift by the
    width or more gives 0 (-1 for a negative value shifted arithmetically); Java's, which
    Spark's are, shift by the amount modulo the width."""

    def rule(node: exp.Anonymous) -> exp.Expr | None:
        if len(node.expressions) != 2:
            return None
        value, amount = node.expressions
        width = {exp.DataType.Type.INT: 32, exp.DataType.Type.BIGINT: 64}.get(
            _integer_type(value)  # type: ignore[arg-type]
        )
        if width is None:  # TINYINT and SMALLINT: Spark shifts them as INT
            return None
        if kind == "arithmetic":
            template = f"IF(__1 >= {width}, IF(__0 < 0, -1, 0), SHIFTRIGHT(__0, __1))"
        else:
            call = "SHIFTLEFT" if kind == "left" else "SHIFTRIGHTUNSIGNED"
            template = f"IF(__1 >= {width}, 0, {call}(__0, __1))"
        return _spark_call(template, value, amount)

    return rule


def _template(arity: int, template: str) -> Callable[[exp.Anonymous], exp.Expr | None]:
    def rule(node: exp.Anonymous) -> exp.Expr | None:
        if len(node.expressions) != arity:
            return None
        return _spark_call(template, *node.expressions)

    return rule


#: Trino function (upper case) -> its Spark form; None leaves the call as it is
_TRINO_FUNCTIONS: dict[str, Callable[[exp.Anonymous], exp.Expr | None]] = {
    "ANY_MATCH": _template(2, "EXISTS(__0, __1)"),
    "ALL_MATCH": _template(2, "FORALL(__0, __1)"),
    "NONE_MATCH": _template(2, "NOT EXISTS(__0, __1)"),
    "MAP_AGG": _template(2, "MAP_FROM_ENTRIES(COLLECT_LIST(STRUCT(__0, __1)))"),
    # the combine function merges partial states, which one list of the values needs not
    "REDUCE_AGG": _template(4, "AGGREGATE(COLLECT_LIST(__0), __1, __2)"),
    "NGRAMS": _template(
        2, "TRANSFORM(SEQUENCE(1, GREATEST(SIZE(__0) - __1 + 1, 1)), i -> SLICE(__0, i, __1))"
    ),
    "TRIM_ARRAY": _template(2, "SLICE(__0, 1, SIZE(__0) - __1)"),
    # the first match's position, -1 when none (Spark's regexp_instr gives 0); the forms
    # with a start or an occurrence are not written: Spark has no search from an offset
    # that keeps what precedes it for \\b and lookbehinds
    "REGEXP_POSITION": _template(2, "IF(REGEXP_INSTR(__0, __1) = 0, -1, REGEXP_INSTR(__0, __1))"),
    "BITWISE_LEFT_SHIFT": _shift("left"),
    "BITWISE_RIGHT_SHIFT": _shift("right"),
    "BITWISE_RIGHT_SHIFT_ARITHMETIC": _shift("arithmetic"),
}


def _rewrite_trino_functions(tree: exp.Expr) -> None:
    """Trino's functions that Spark has under another name or shape (in a statement: its
    root is never one of them)."""
    _rewrite_builtin_differences(tree)  # first: the forms written below are Spark's own
    for node in list(tree.find_all(exp.Anonymous)):
        rule = _TRINO_FUNCTIONS.get(str(node.this).upper())
        built = rule(node) if rule is not None else None
        if built is not None and node is not tree:
            node.replace(built)
    for trunc in list(tree.find_all(exp.TimestampTrunc)):
        kind = trunc.this.type
        if kind is None or isinstance(trunc.parent, exp.Cast):
            continue
        if kind.is_type(exp.DataType.Type.TIMESTAMP):
            trunc.replace(exp.Cast(this=trunc.copy(), to=exp.DataType.build("TIMESTAMP_NTZ")))
        elif kind.is_type(exp.DataType.Type.DATE):
            trunc.replace(exp.Cast(this=trunc.copy(), to=exp.DataType.build("DATE")))
    for digest in list(tree.find_all(exp.SHA, exp.SHA2Digest)):
        if not isinstance(digest.parent, exp.Unhex):
            digest.replace(exp.Unhex(this=digest.copy()))
    for cond in list(tree.find_all(exp.If)):
        if cond.args.get("false") is None:
            cond.set("false", exp.Null())


def _timestamp_precision(node: exp.Expr) -> int | None:
    """The fractional digits of a timestamp without time zone (3 unless declared; up to
    6, Spark's), None for anything else."""
    if isinstance(node, exp.Localtimestamp):
        given = node.this
        digits = int(given.name) if isinstance(given, exp.Literal) else 3
    elif isinstance(node, exp.Expression) and node.type is not None:
        if not node.type.is_type(exp.DataType.Type.TIMESTAMP):
            return None
        params = node.type.expressions
        digits = int(params[0].name) if params else 3
    else:
        return None
    return digits if 0 <= digits <= 6 else None


def _rewrite_builtin_differences(tree: exp.Expr) -> None:
    """Functions both engines have under one name that answer differently."""
    node: exp.Expr
    for node in list(tree.find_all(exp.Repeat)):  # Trino's repeat makes an array
        node.replace(_spark_call("ARRAY_REPEAT(__0, __1)", node.this, node.args["times"]))
    for node in list(tree.find_all(exp.Greatest, exp.Least)):
        # NULL when any argument is NULL (Spark's skip NULLs)
        args = [node.this, *node.expressions]
        if len(args) < 2:
            continue
        anynull = exp.or_(*(exp.Is(this=a.copy(), expression=exp.Null()) for a in args))
        node.replace(exp.If(this=anynull, true=exp.Null(), false=node.copy()))
    for node in list(tree.find_all(exp.AnyValue)):  # arbitrary(x): a non-NULL value
        if isinstance(node.this, exp.Expression) and not node.args.get("ignore_nulls"):
            node.replace(_spark_call("ANY_VALUE(__0, TRUE)", node.this))
    for node in list(tree.find_all(exp.Sign)):  # Trino's sign keeps an integer's type
        kind = _integer_type(node.this)
        if kind is not None and not isinstance(node.parent, exp.Cast):
            node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build(kind)))
    for node in list(tree.find_all(exp.Ln, exp.Log)):
        # Trino's logarithms of 0 and of negative numbers are -Infinity and NaN (Spark's
        # NULL); log10 and log2 are the exact functions (Spark's log(10, x) is ln/ln)
        if isinstance(node, exp.Ln):
            value = node.this
            call: exp.Expr = exp.Anonymous(this="LN", expressions=[value.copy()])
        else:
            value = node.expression
            base = node.this.name if isinstance(node.this, exp.Literal) else ""
            name = {"10": "LOG10", "2": "LOG2"}.get(base)
            call = (
                exp.Anonymous(this=name, expressions=[value.copy()])
                if name is not None and value is not None
                else node.copy()
            )
        if value is None:
            continue
        node.replace(
            _spark_call(
                "CASE WHEN __0 = 0 THEN CAST('-Infinity' AS DOUBLE) "
                "WHEN __0 < 0 THEN CAST('NaN' AS DOUBLE) ELSE __1 END",
                value,
                call,
            )
        )
    for node in list(tree.find_all(exp.Cast)):
        # a timestamp as text has its precision's digits (Spark's drops trailing zeros)
        if not node.to.is_type(exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT):
            continue
        digits = _timestamp_precision(node.this)
        if digits is None:
            continue
        pattern = "yyyy-MM-dd HH:mm:ss" + ("." + "S" * digits if digits else "")
        node.replace(
            exp.Anonymous(
                this="DATE_FORMAT", expressions=[node.this.copy(), exp.Literal.string(pattern)]
            )
        )
    for node in list(tree.find_all(exp.SplitPart)):  # NULL past the last part
        parts = [node.this, node.args.get("delimiter"), node.args.get("part_index")]
        present = [p for p in parts if isinstance(p, exp.Expression)]
        if len(present) != 3:
            continue
        node.replace(
            _spark_call(
                "IF(__2 > (LENGTH(__0) - LENGTH(REPLACE(__0, __1, ''))) DIV LENGTH(__1) + 1, "
                "NULL, SPLIT_PART(__0, __1, __2))",
                *present,
            )
        )


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
    _rewrite_trino_functions(tree)
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
