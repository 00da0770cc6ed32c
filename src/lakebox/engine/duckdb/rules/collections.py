"""Arrays, maps, lambdas, math, bitwise and aggregates: Trino's functions on DuckDB."""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.expressions import apply_index_offset
from sqlglot.generators.duckdb import DuckDBGenerator

from lakebox.engine.duckdb.rules.base import (
    FLOAT_TYPES,
    INTEGER_TYPES,
    AnonHandler,
    Handler,
    is_date,
    lambda_,
    renamed,
)
from lakebox.errors import SemanticError, UnsupportedError
from lakebox.sql.dialect import TYPED_LITERAL


def _array_distinct(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino keeps first occurrences in order (NULL included); DuckDB's list_distinct reorders
    and drops NULL."""
    arr = gen.sql(e, "this")
    return f"LIST_FILTER({arr}, {lambda_(['_x', '_i'], f'LIST_POSITION({arr}, _x) = _i')})"


def _array_except(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino keeps the first array's order; sqlglot's DuckDB form reorders via list_distinct."""
    distinct = _array_distinct(gen, exp.ArrayDistinct(this=e.this))
    other = gen.sql(e, "expression")
    return f"LIST_FILTER({distinct}, {lambda_(['_x'], f'NOT LIST_CONTAINS({other}, _x)')})"


def _slice(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's slice(array, start, length) — sqlglot stores the length as ``end``; DuckDB's
    list_slice takes an inclusive end index."""
    start, length = e.args["start"], e.args["end"]
    end = f"{gen.sql(start)} + {gen.sql(length)} - 1"
    return f"LIST_SLICE({gen.sql(e, 'this')}, {gen.sql(start)}, {end})"


def _sequence(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino steps by -1 (or -1 day) when start > stop and accepts dates; DuckDB does neither."""
    start, end, step = e.args["start"], e.args["end"], e.args.get("step")
    s, t = gen.sql(start), gen.sql(end)
    if is_date(start) or is_date(end):
        step_sql = (
            gen.sql(step)
            if step is not None
            else f"CASE WHEN {s} <= {t} THEN INTERVAL 1 DAY ELSE INTERVAL (-1) DAY END"
        )
        series = f"GENERATE_SERIES(CAST({s} AS TIMESTAMP), CAST({t} AS TIMESTAMP), {step_sql})"
        return f"CAST({series} AS DATE[])"
    if step is None:
        return f"GENERATE_SERIES({s}, {t}, CASE WHEN {s} <= {t} THEN 1 ELSE -1 END)"
    return gen.func("GENERATE_SERIES", start, end, step)


def _reduce(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's reduce(array, initial, merge, finish): DuckDB has no finish step, so the finish
    lambda is inlined around list_reduce."""
    reduced = (
        f"LIST_REDUCE({gen.sql(e, 'this')}, {_lambda(gen, e.args['merge'])}, "
        f"{gen.sql(e, 'initial')})"
    )
    finish = e.args.get("finish")
    if finish is None:
        return reduced
    inlined = exp.Paren(this=sqlglot.parse_one(reduced, read="duckdb"))
    return gen.sql(_inline(finish, [inlined]))


def _row_field(node: exp.Expression) -> tuple[str, str] | None:
    """(row, field) for ``s.field`` inside a lambda, parsed as a column of table ``s`` or as a
    dot on ``s``."""
    if isinstance(node, exp.Column) and node.table and not node.args.get("db"):
        return node.table, node.name
    if isinstance(node, exp.Dot) and isinstance(node.this, (exp.Identifier, exp.Column)):
        if isinstance(node.this, exp.Column) and node.this.table:
            return None
        return node.this.name, node.name
    return None


def _inline(lam: exp.Expression, values: list[exp.Expression]) -> exp.Expression:
    """A lambda's body with its parameters replaced by expressions, for the places where
    DuckDB has no lambda of the same shape (reduce's finish, map lambdas over entries)."""
    by_name = {p.name: v for p, v in zip(lam.expressions, values, strict=True)}

    def substitute(node: exp.Expression) -> exp.Expression:
        is_ref = isinstance(node, exp.Column) and not node.table
        is_ref = is_ref or (
            isinstance(node, exp.Identifier) and not isinstance(node.parent, (exp.Column, exp.Dot))
        )
        if is_ref and node.name in by_name:
            return by_name[node.name].copy()
        field = _row_field(node)
        if field is not None and field[0] in by_name:
            row = exp.Paren(this=by_name[field[0]].copy())
            return exp.Bracket(this=row, expressions=[exp.Literal.string(field[1])], safe=True)
        return node

    return lam.this.copy().transform(substitute)


_KEY = exp.column("key", table="_e")


_VALUE = exp.column("value", table="_e")


def _map_lambda(kind: str) -> Callable[[DuckDBGenerator, exp.Anonymous], str]:
    """map_filter / transform_keys / transform_values over DuckDB's map_entries structs."""

    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        mapping, lam = e.expressions
        body = gen.sql(_inline(lam, [_KEY, _VALUE]))
        entries = f"MAP_ENTRIES({gen.sql(mapping)})"
        if kind == "filter":
            return f"MAP_FROM_ENTRIES(LIST_FILTER({entries}, {lambda_(['_e'], body)}))"
        pair = f"{{'key': {body}, 'value': _e.value}}"
        if kind == "values":
            pair = f"{{'key': _e.key, 'value': {body}}}"
        return f"MAP_FROM_ENTRIES(LIST_TRANSFORM({entries}, {lambda_(['_e'], pair)}))"

    return handler


def _transform(gen: DuckDBGenerator, e: exp.Expression) -> str:
    return f"LIST_TRANSFORM({gen.sql(e, 'this')}, {_lambda(gen, e.expression)})"


def _filter(gen: DuckDBGenerator, e: exp.Expression) -> str:
    return f"LIST_FILTER({gen.sql(e, 'this')}, {_lambda(gen, e.expression)})"


def _count_if(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's count_if is BIGINT; DuckDB's is HUGEINT (a DECIMAL(38,0) in Arrow results)."""
    return f"CAST({gen.func('COUNT_IF', e.this)} AS BIGINT)"


def _approx_percentile(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Keep the argument's type (and accept an array of percentiles) like Trino."""
    if e.args.get("weight") is not None:
        raise UnsupportedError(
            "approx_percentile with a weight argument is not supported; "
            "use approx_percentile(x, percentage)"
        )
    return gen.func("APPROX_QUANTILE", e.this, e.args["quantile"])


def _approx_distinct(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """approx_distinct(x, e): the error bound only tunes Trino's sketch; DuckDB's has its own
    fixed accuracy. Trino's range for e is still enforced."""
    bound = e.args.get("accuracy")
    if bound is not None:
        if not (isinstance(bound, exp.Literal) and not bound.is_string):
            raise UnsupportedError("approx_distinct(x, e) needs e as a number literal")
        if not 0.0040625 <= float(bound.name) <= 0.26:
            raise SemanticError(
                f"approx_distinct: max standard error must be in [0.0040625, 0.26000]: {bound.name}"
            )
    return gen.func("APPROX_COUNT_DISTINCT", e.this)


def _sum(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino sums integers into BIGINT; DuckDB into HUGEINT (DECIMAL(38,0) in Arrow). Applied
    when the argument is known to be an integer."""
    sql = str(DuckDBGenerator.function_fallback_sql(gen, e))  # type: ignore[arg-type]
    arg = e.this
    in_window = isinstance(e.parent, exp.Window)
    if not in_window and arg.type is not None and arg.type.is_type(*INTEGER_TYPES):
        return f"CAST({sql} AS BIGINT)"
    return sql


def _skewness(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's skewness is the population moment coefficient, sqrt(n) m3 / m2^1.5; DuckDB's
    carries the sample correction sqrt(n (n - 1)) / (n - 2), taken out here."""
    x = gen.sql(e, "this")
    n = f"COUNT({x})"
    return f"(SKEWNESS({x}) * ({n} - 2) / SQRT({n} * ({n} - 1)))"


def _match(kind: str) -> Callable[[DuckDBGenerator, exp.Anonymous], str]:
    """any_match / all_match / none_match: a decisive element wins (true for any, false for
    all); otherwise a NULL from the predicate makes the answer NULL; an empty array gives
    false / true / true."""

    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        arr, lam = e.expressions
        tested = f"LIST_TRANSFORM({gen.sql(arr)}, {_lambda(gen, lam)})"
        unknown = f"LIST_CONTAINS(LIST_TRANSFORM({tested}, {lambda_(['_t'], '_t IS NULL')}), TRUE)"
        decisive, result = ("FALSE", "FALSE") if kind == "all" else ("TRUE", "TRUE")
        if kind == "none":
            result = "FALSE"
        otherwise = "TRUE" if kind in ("all", "none") else "FALSE"
        return (
            f"CASE WHEN {gen.sql(arr)} IS NULL THEN NULL "
            f"WHEN LIST_CONTAINS({tested}, {decisive}) THEN {result} "
            f"WHEN {unknown} THEN NULL ELSE {otherwise} END"
        )

    return handler


def _array_union(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    concat = exp.ArrayConcat(this=e.expressions[0], expressions=e.expressions[1:])
    return _array_distinct(gen, exp.ArrayDistinct(this=concat))


def _map_agg(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Rows with a NULL key are skipped (NULL when no row is left); a repeated key keeps its
    first value, as Trino does, where DuckDB's MAP() would fail on the duplicate."""
    key, value = (gen.sql(a) for a in e.expressions)
    first = _first_per_key(f"LIST({{'key': {key}, 'value': {value}}})")
    return f"CASE WHEN LEN({first}) > 0 THEN MAP_FROM_ENTRIES({first}) END"


# --------------------------------------------------------------------------- arrays


def _is_kind(node: exp.Expression, kind: exp.DType) -> bool:
    return node.type is not None and node.type.is_type(kind)


def _is_array(node: exp.Expression) -> bool:
    """Typed as an array, or a ``||`` chain that has an array in it (sqlglot leaves the chain
    untyped)."""
    if isinstance(node, exp.Paren):
        return _is_array(node.this)
    if isinstance(node, exp.DPipe):
        return _is_array(node.this) or _is_array(node.expression)
    return _is_kind(node, exp.DataType.Type.ARRAY)


def _dpipe(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """``ARRAY[1] || 2`` and ``2 || ARRAY[1]``: Trino appends or prepends an element; DuckDB's
    ``||`` only joins two lists. Hook: string ``||`` belongs to rules/text.py. This rule
    handles only operands typed as arrays and leaves every other ``||`` to sqlglot's output;
    a string rule for DPipe should be added to this dispatch, not registered a second time."""
    left, right = e.this, e.expression
    left_array, right_array = _is_array(left), _is_array(right)
    if left_array and right_array:
        return gen.func("LIST_CONCAT", left, right)
    if left_array:
        return gen.func("LIST_APPEND", left, right)
    if right_array:
        return gen.func("LIST_PREPEND", left, right)
    return str(DuckDBGenerator.dpipe_sql(gen, e))  # type: ignore[arg-type]


def _bracket(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's ``array[i]`` fails past the end or below 1 and ``map[key]`` fails for a missing
    key, where DuckDB returns NULL; element_at (``safe``) keeps NULL. Applied when the
    subscripted value's type is known (a literal, or a column typed through ``schema``)."""
    plain = str(DuckDBGenerator.bracket_sql(gen, e))  # type: ignore[arg-type]
    target, keys = e.this, e.expressions
    if len(keys) != 1:
        return plain
    if e.args.get("safe"):
        if not _is_kind(target, exp.DataType.Type.ARRAY):
            return plain
        index = gen.sql(keys[0])
        return f"CASE WHEN {index} = 0 THEN ERROR('SQL array indices start at 1') ELSE {plain} END"
    if _is_kind(target, exp.DataType.Type.ARRAY):
        shift = gen.dialect.INDEX_OFFSET - e.args.get("offset", 0)
        key = gen.sql(apply_index_offset(target, list(keys), shift, dialect=gen.dialect)[0])
        size = f"LEN({gen.sql(target)})"
        return (
            f"CASE WHEN {key} IS NULL OR {key} BETWEEN 1 AND {size} THEN {plain} "
            f"WHEN {key} < 1 THEN ERROR('SQL array indices start at 1') "
            f"ELSE ERROR('Array subscript must be less than or equal to array length: ' "
            f"|| {key} || ' > ' || {size}) END"
        )
    if _is_kind(target, exp.DataType.Type.MAP):
        key = gen.sql(keys[0])
        return (
            f"CASE WHEN {key} IS NULL OR MAP_CONTAINS({gen.sql(target)}, {key}) THEN {plain} "
            f"ELSE ERROR('Key not present in map: ' || {key}) END"
        )
    return plain


def _array_position(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino returns 0 when the element is absent; DuckDB returns NULL."""
    arr = gen.sql(e, "this")
    found = gen.func("LIST_POSITION", e.this, e.expression)
    return f"CASE WHEN {arr} IS NULL THEN NULL ELSE COALESCE({found}, 0) END"


def _array_sort(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """array_sort(a) puts NULLs last; array_sort(a, comparator) orders by the comparator.
    DuckDB's list_sort takes no comparator, so each element's place is the number of
    elements the comparator puts before it (ties keep the input order), which is a stable
    sort for any comparator that is a total order, as Trino requires."""
    comparator = e.expression
    if comparator is None:
        return f"LIST_SORT({gen.sql(e, 'this')}, 'ASC', 'NULLS LAST')"
    arr = gen.sql(e, "this")
    idx = f"GENERATE_SERIES(1, LEN({arr}))"

    def compare(i: str, j: str) -> str:
        element, other = _parsed(f"{arr}[{i}]"), _parsed(f"{arr}[{j}]")
        result = gen.sql(exp.Paren(this=_inline(comparator, [element, other])))
        return (
            f"CASE WHEN {result} IN (-1, 0, 1) THEN {result} "
            "ELSE ERROR('array_sort: Lambda comparator must return either -1, 0, or 1') END"
        )

    # j goes first when it is strictly smaller, or when it comes earlier and i is not
    # strictly smaller: exactly one of each pair goes first, even for comparators that call
    # two NULLs smaller than each other
    before = (
        f"CASE WHEN _j < _i THEN NOT COALESCE({compare('_i', '_j')} < 0, FALSE) "
        f"WHEN _j > _i THEN COALESCE({compare('_j', '_i')} < 0, FALSE) ELSE FALSE END"
    )
    count_before = f"LEN(LIST_FILTER({idx}, {lambda_(['_j'], before)}))"
    ranks = f"LIST_TRANSFORM({idx}, {lambda_(['_i'], count_before)})"
    return (
        f"LIST_TRANSFORM(GENERATE_SERIES(0, LEN({arr}) - 1), "
        f"{lambda_(['_r'], f'{arr}[LIST_POSITION({ranks}, _r)]')})"
    )


def _array_histogram(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Counts of each non-null element, keyed in first-occurrence order as Trino prints it."""
    arr = gen.sql(e.expressions[0])
    values = f"LIST_FILTER({arr}, {lambda_(['_x'], '_x IS NOT NULL')})"
    keys = _array_distinct(gen, exp.ArrayDistinct(this=sqlglot.parse_one(values, read="duckdb")))
    equal = lambda_(["_x"], "_x = _k")
    count = f"CAST(LEN(LIST_FILTER({values}, {equal})) AS BIGINT)"
    counts = f"LIST_TRANSFORM({keys}, {lambda_(['_k'], count)})"
    return f"MAP({keys}, {counts})"


def _arrays_overlap(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """True for a common non-null element; otherwise NULL if either array holds a NULL."""
    left, right = (gen.sql(a) for a in e.expressions)
    is_null = lambda_(["_x"], "_x IS NULL")
    has_null = (
        f"(LIST_CONTAINS(LIST_TRANSFORM({left}, {is_null}), TRUE) "
        f"OR LIST_CONTAINS(LIST_TRANSFORM({right}, {is_null}), TRUE))"
    )
    return (
        f"CASE WHEN {left} IS NULL OR {right} IS NULL THEN NULL "
        f"WHEN LIST_HAS_ANY({left}, {right}) THEN TRUE WHEN {has_null} THEN NULL ELSE FALSE END"
    )


def _combinations(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """n-element sub-groups by position, in Trino's order (lexicographic positions)."""
    arr, n = e.expressions
    if not isinstance(n, exp.Literal) or n.is_string or not 0 <= int(n.name) <= 5:
        raise UnsupportedError(
            "combinations(array, n) needs n as an integer literal from 0 to 5, as in Athena"
        )
    size = int(n.name)
    a = gen.sql(arr)
    if size == 0:
        return f"CASE WHEN {a} IS NULL THEN NULL ELSE [[]] END"
    names = [f"_c{k}" for k in range(size)]
    body = "[" + ", ".join(f"{a}[{name}]" for name in names) + "]"
    sql = f"[{body}]"
    for k in reversed(range(size)):
        low = "1" if k == 0 else f"{names[k - 1]} + 1"
        high = f"LEN({a}) - {size - 1 - k}"
        series = f"GENERATE_SERIES({low}, {high})"
        sql = f"FLATTEN(LIST_TRANSFORM({series}, {lambda_([names[k]], sql)}))"
    return sql


def _contains_sequence(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    arr, seq = (gen.sql(a) for a in e.expressions)
    starts = f"GENERATE_SERIES(1, LEN({arr}) - LEN({seq}) + 1)"
    match = f"LIST_SLICE({arr}, _s, _s + LEN({seq}) - 1) IS NOT DISTINCT FROM {seq}"
    return (
        f"CASE WHEN {arr} IS NULL OR {seq} IS NULL THEN NULL WHEN LEN({seq}) = 0 THEN TRUE "
        f"ELSE LEN(LIST_FILTER({starts}, {lambda_(['_s'], match)})) > 0 END"
    )


def _ngrams(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Windows of n adjacent elements; an array shorter than n is its only n-gram."""
    arr, n = (gen.sql(a) for a in e.expressions)
    windows = (
        f"LIST_TRANSFORM(GENERATE_SERIES(1, LEN({arr}) - ({n}) + 1), "
        f"{lambda_(['_s'], f'LIST_SLICE({arr}, _s, _s + ({n}) - 1)')})"
    )
    return (
        f"CASE WHEN ({n}) < 1 THEN ERROR('ngrams: N must be positive') "
        f"WHEN LEN({arr}) <= ({n}) THEN [{arr}] ELSE {windows} END"
    )


def _repeat(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's repeat(element, count) builds an array (it has no string repeat); the count
    must be between 0 and 10000."""
    element, count = gen.sql(e, "this"), gen.sql(e, "times")
    repeated = f"LIST_TRANSFORM(GENERATE_SERIES(1, {count}), {lambda_(['_n'], element)})"
    return (
        f"CASE WHEN ({count}) NOT BETWEEN 0 AND 10000 THEN "
        f"ERROR('repeat: count must be between 0 and 10000: ' || ({count})) ELSE {repeated} END"
    )


def _shuffle(gen: DuckDBGenerator, e: exp.Expression) -> str:
    arr = gen.sql(e, "this")
    order = f"LIST_TRANSFORM({arr}, {lambda_(['_x'], 'RANDOM()')})"
    return f"LIST_TRANSFORM(LIST_GRADE_UP({order}), {lambda_(['_i'], f'{arr}[_i]')})"


def _trim_array(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    arr, n = (gen.sql(a) for a in e.expressions)
    return (
        f"CASE WHEN ({n}) < 0 OR ({n}) > LEN({arr}) THEN "
        f"ERROR('trim_array: size to trim must be between 0 and the array size: ' || ({n})) "
        f"ELSE LIST_SLICE({arr}, 1, LEN({arr}) - ({n})) END"
    )


def _row(values: list[str]) -> str:
    """A Trino row without field names: Athena prints its fields as field0, field1, ..."""
    return "{" + ", ".join(f"'field{i}': {v}" for i, v in enumerate(values)) + "}"


def _parsed(sql: str) -> exp.Expression:
    """DuckDB SQL written by a rule, as a node to substitute into a lambda body; its
    subscripts are in range by construction or NULL by intent (zip's padding), so they are
    marked safe for ``_bracket``."""
    node = exp.Paren(this=sqlglot.parse_one(sql, read="duckdb"))
    for bracket in node.find_all(exp.Bracket):
        bracket.set("safe", True)
    return node


def _lambda_result(gen: DuckDBGenerator, lam: exp.Expression, values: list[str]) -> str:
    """A lambda's body applied to DuckDB expressions; ``(a, b)`` builds an anonymous row."""
    parsed = [_parsed(v) for v in values]
    body = _inline(lam, parsed)
    if isinstance(body, exp.Tuple):
        return _row([gen.sql(x) for x in body.expressions])
    return gen.sql(body)


def _zip(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Rows of the i-th elements, NULL-padded to the longest array."""
    if len(e.expressions) < 2:
        raise SemanticError("zip takes two or more arrays")
    arrays = [gen.sql(a) for a in e.expressions]
    longest = f"GREATEST({', '.join(f'LEN({a})' for a in arrays)})"
    row = _row([f"{a}[_i]" for a in arrays])
    return f"LIST_TRANSFORM(GENERATE_SERIES(1, {longest}), {lambda_(['_i'], row)})"


def _zip_with(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    left_expr, right_expr, lam = e.expressions
    left, right = gen.sql(left_expr), gen.sql(right_expr)
    body = _lambda_result(gen, lam, [f"({left})[_i]", f"({right})[_i]"])
    return (
        f"LIST_TRANSFORM(GENERATE_SERIES(1, GREATEST(LEN({left}), LEN({right}))), "
        f"{lambda_(['_i'], body)})"
    )


_ELEMENT_LAMBDAS = ("all_match", "any_match", "none_match")


def _type_element_parameter(lam: exp.Expression, body: exp.Expression) -> None:
    """Give the parameter of an element-wise lambda (transform, filter, the matches) the
    array's element type, so that rules needing a type (a subscript past the end fails) see
    it inside the body too."""
    parent = lam.parent
    if isinstance(parent, (exp.Transform, exp.ArrayFilter)):
        array = parent.this
    elif isinstance(parent, exp.Anonymous) and parent.name.lower() in _ELEMENT_LAMBDAS:
        array = parent.expressions[0]
    else:
        return
    kind = array.type
    if kind is None or not kind.is_type(exp.DataType.Type.ARRAY) or not kind.expressions:
        return
    name = lam.expressions[0].name
    for ref in body.find_all(exp.Column, exp.Identifier):
        bare = isinstance(ref, exp.Column) and not ref.table
        bare = bare or (isinstance(ref, exp.Identifier) and not isinstance(ref.parent, exp.Column))
        if bare and ref.name == name:
            ref.type = kind.expressions[0].copy()


def _lambda(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """A row parameter's field (``s.count``) reads as a table column in DuckDB: write it as a
    struct field access."""
    names = {p.name for p in e.expressions}

    def field_access(node: exp.Expression) -> exp.Expression:
        field = _row_field(node)
        if field is not None and field[0] in names:
            return exp.Bracket(
                this=exp.column(field[0]), expressions=[exp.Literal.string(field[1])], safe=True
            )
        return node

    body = e.this.transform(field_access)
    _type_element_parameter(e, body)
    params = [gen.sql(p) for p in e.expressions]
    if isinstance(body, exp.Tuple):  # x -> (a, b) returns an anonymous row
        return lambda_(params, _row([gen.sql(x) for x in body.expressions]))
    return lambda_(params, gen.sql(body))


# --------------------------------------------------------------------------- maps


def _map_entries(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    entries = f"MAP_ENTRIES({gen.sql(e.expressions[0])})"
    return f"LIST_TRANSFORM({entries}, {lambda_(['_e'], _row(['_e.key', '_e.value']))})"


def _grouped(pairs: str) -> str:
    """A multimap (key -> array of values, keys in first-occurrence order) from a list of
    {'k', 'v'} structs."""
    keys = f"LIST_TRANSFORM({pairs}, {lambda_(['_p'], '_p.k')})"
    first = lambda_(["_x", "_i"], f"LIST_POSITION({keys}, _x) = _i")
    distinct = f"LIST_FILTER({keys}, {first})"
    same_key = f"LIST_FILTER({pairs}, {lambda_(['_p'], '_p.k = _k')})"
    values = f"LIST_TRANSFORM({same_key}, {lambda_(['_p'], '_p.v')})"
    return f"MAP({distinct}, LIST_TRANSFORM({distinct}, {lambda_(['_k'], values)}))"


def _multimap_from_entries(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    entries = gen.sql(e.expressions[0])
    pair = lambda_(["_e"], "{'k': STRUCT_EXTRACT_AT(_e, 1), 'v': STRUCT_EXTRACT_AT(_e, 2)}")
    pairs = f"LIST_TRANSFORM({entries}, {pair})"
    return _grouped(pairs)


def _multimap_agg(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Rows with a NULL key are skipped, as in Trino (NULL when no row is left)."""
    key, value = (gen.sql(a) for a in e.expressions)
    pairs = f"LIST({{'k': {key}, 'v': {value}}})"
    keyed = f"LIST_FILTER({pairs}, {lambda_(['_p'], '_p.k IS NOT NULL')})"
    return f"CASE WHEN LEN({keyed}) > 0 THEN {_grouped(keyed)} END"


def _map_union(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Union of the group's maps; a key found in several maps keeps its first value (Trino:
    an arbitrary one)."""
    entries = f"FLATTEN(LIST(MAP_ENTRIES({gen.sql(e.expressions[0])})))"
    return f"MAP_FROM_ENTRIES({_first_per_key(entries)})"


def _first_per_key(entries: str) -> str:
    """The {'key', 'value'} entries whose non-NULL key has not been seen before."""
    keyed = f"LIST_FILTER({entries}, {lambda_(['_e'], '_e.key IS NOT NULL')})"
    keys = f"LIST_TRANSFORM({keyed}, {lambda_(['_e'], '_e.key')})"
    is_first = lambda_(["_e", "_i"], f"LIST_POSITION({keys}, _e.key) = _i")
    return f"LIST_FILTER({keyed}, {is_first})"


def _map_zip_with(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Keys of both maps (first map's order, then the second's new keys); a key missing from
    one map gives NULL for its value there."""
    left_expr, right_expr, lam = e.expressions
    left, right = gen.sql(left_expr), gen.sql(right_expr)
    new = lambda_(["_k"], f"NOT LIST_CONTAINS(MAP_KEYS({left}), _k)")
    keys = f"LIST_CONCAT(MAP_KEYS({left}), LIST_FILTER(MAP_KEYS({right}), {new}))"
    body = _lambda_result(gen, lam, ["_k", f"{left}[_k]", f"{right}[_k]"])
    return f"MAP({keys}, LIST_TRANSFORM({keys}, {lambda_(['_k'], body)}))"


def _reduce_agg(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """reduce_agg(x, initial, input, combine): the group's non-null values folded with the
    input function (DuckDB runs it on one list, so the combine function is not needed)."""
    value, initial, merge, _combine = e.expressions
    values = f"LIST_FILTER(LIST({gen.sql(value)}), {lambda_(['_x'], '_x IS NOT NULL')})"
    body = _inline(merge, [exp.column("_s"), exp.column("_v")])
    return f"LIST_REDUCE({values}, {lambda_(['_s', '_v'], gen.sql(body))}, {gen.sql(initial)})"


# --------------------------------------------------------------------------- math and bits

_WIDTHS = {
    exp.DataType.Type.TINYINT: (8, "TINYINT"),
    exp.DataType.Type.SMALLINT: (16, "SMALLINT"),
    exp.DataType.Type.INT: (32, "INTEGER"),
}


def _shift(macro: str) -> Callable[[DuckDBGenerator, exp.Anonymous], str]:
    """Trino's shifts work within the value's own width (8, 16, 32 or 64 bits): shifting by
    the width or more gives 0 (or -1 for an arithmetic shift of a negative value)."""

    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        value, shift = e.expressions
        width, name = 64, "BIGINT"
        for kind, spec in _WIDTHS.items():
            if _is_kind(value, kind):
                width, name = spec
        return f"CAST({macro}({gen.sql(value)}, {gen.sql(shift)}, {width}) AS {name})"

    return handler


def _integer_kept(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """ceiling / floor of an integer is the integer itself in Trino; DuckDB gives a DOUBLE."""
    if e.this.type is not None and e.this.type.is_type(*INTEGER_TYPES):
        return gen.sql(e, "this")
    return str(DuckDBGenerator.TRANSFORMS[type(e)](gen, e))


_DOUBLE_CALLS = ("nan", "infinity", "e", "pi")


def _is_double(node: exp.Expression) -> bool:
    """Known to be a DOUBLE: typed so, or a call of Trino's double constants."""
    if isinstance(node, (exp.Neg, exp.Paren)):
        return _is_double(node.this)
    if isinstance(node, exp.Anonymous) and node.name.lower() in _DOUBLE_CALLS:
        return True
    return node.type is not None and node.type.is_type(*FLOAT_TYPES)


def _sign(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """sign of a double is a double in Trino, NaN for NaN; DuckDB gives an integer, 0 for
    NaN."""
    x = gen.sql(e, "this")
    if _is_double(e.this):
        return f"CASE WHEN ISNAN({x}) THEN {x} ELSE CAST(SIGN({x}) AS DOUBLE) END"
    return gen.func("SIGN", e.this)


def _random(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """random() in [0, 1); random(n) in [0, n); random(m, n) in [m, n), integers when the
    bounds are integers. sqlglot reads random(n) as a seed, which Trino does not have."""
    low, high = e.this, e.args.get("lower")
    if low is None:
        return "RANDOM()"
    if high is None:
        low, high = exp.Literal.number(0), low
    span = f"({gen.sql(high)}) - ({gen.sql(low)})"
    value = f"({gen.sql(low)}) + RANDOM() * ({span})"
    bounds = [b.type for b in (low, high) if b.type is not None]
    if all(t.is_type(*INTEGER_TYPES) for t in bounds):
        return f"CAST(FLOOR({value}) AS BIGINT)"
    return value


def _width_bucket_node(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """width_bucket(x, bound1, bound2, n), and width_bucket(x, bins): the number of bin
    bounds at or below x (bins sorted ascending)."""
    bounds = [e.args.get(k) for k in ("min_value", "max_value", "num_buckets")]
    if all(b is not None for b in bounds):
        return gen.func("TRINO_WIDTH_BUCKET", e.this, *bounds)
    bins = e.args.get("threshold") or e.args.get("min_value")
    if bins is None or any(b is not None for b in bounds[1:]):
        raise SemanticError("width_bucket takes (x, bound1, bound2, n) or (x, bins)")
    below = lambda_(["_b"], f"_b <= ({gen.sql(e, 'this')})")
    return f"CAST(LEN(LIST_FILTER({gen.sql(bins)}, {below})) AS BIGINT)"


def _decimal_literal(cast: exp.Cast) -> bool:
    """``DECIMAL '...'``, not ``CAST('...' AS DECIMAL)``."""
    return (
        bool(cast.meta.get(TYPED_LITERAL))
        and isinstance(cast.this, exp.Literal)
        and cast.this.is_string
        and cast.to.is_type(exp.DataType.Type.DECIMAL)
    )


def _decimal_type(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """A bare DECIMAL is decimal(38,0) in Trino (DuckDB: 18,3). ``DECIMAL '12.50'`` (which
    parses as a cast of a string to bare DECIMAL) takes its precision and scale from the
    literal's digits, as Trino's decimal literal does; a written ``CAST('1.5' AS DECIMAL)``
    is decimal(38,0) (the parser marks which is which: ``TYPED_LITERAL``)."""
    assert isinstance(e, exp.DataType)
    if not e.is_type(exp.DataType.Type.DECIMAL) or e.expressions:
        return str(DuckDBGenerator.datatype_sql(gen, e))
    cast = e.parent
    if isinstance(cast, exp.Cast) and _decimal_literal(cast):
        text = cast.this.name.strip().lstrip("+-")
        whole, _, fraction = text.partition(".")
        if (whole + fraction).isdigit():
            precision = max(len(whole) + len(fraction), 1)
            if precision <= 38:
                return f"DECIMAL({precision},{len(fraction)})"
    return "DECIMAL(38,0)"


_INTEGER_DIGITS = {
    exp.DataType.Type.TINYINT: 3,
    exp.DataType.Type.SMALLINT: 5,
    exp.DataType.Type.INT: 10,
    exp.DataType.Type.BIGINT: 19,
}


def _decimal_parts(node: exp.Expression) -> tuple[int, int] | None:
    """Precision and scale of a decimal operand: a number literal with a point (Trino reads
    ``7.50`` as decimal(3,2)), a ``DECIMAL '...'`` literal, or a typed expression."""
    if isinstance(node, exp.Paren):
        return _decimal_parts(node.this)
    text = ""
    if isinstance(node, exp.Literal) and not node.is_string and "." in node.name:
        text = node.name
    elif isinstance(node, exp.Cast) and _decimal_literal(node) and not node.to.expressions:
        text = node.this.name.strip().lstrip("+-")
    if text:
        whole, _, fraction = text.partition(".")
        if not (whole + fraction).isdigit():
            return None
        return max(len(whole) + len(fraction), 1), len(fraction)
    kind = node.type
    if kind is None or not kind.is_type(exp.DataType.Type.DECIMAL) or len(kind.expressions) != 2:
        return None
    precision, scale = (int(p.name) for p in kind.expressions)
    return precision, scale


def _integer_parts(node: exp.Expression) -> tuple[int, int] | None:
    """An integer operand of a decimal division as the decimal Trino coerces it to."""
    if isinstance(node, exp.Literal) and not node.is_string and node.name.isdigit():
        return len(node.name), 0
    for kind, digits in _INTEGER_DIGITS.items():
        if node.type is not None and node.type.is_type(kind):
            return digits, 0
    return None


def _div(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """decimal / decimal stays a decimal in Trino (scale max(xs, ys), rounded half up); DuckDB
    divides as DOUBLE. Exact for results of up to 15 digits; longer ones are refused rather
    than rounded through a double."""
    plain = str(DuckDBGenerator.div_sql(gen, e))  # type: ignore[arg-type]
    left, right = _decimal_parts(e.this), _decimal_parts(e.expression)
    if left is None and right is None:
        return plain
    left = left or _integer_parts(e.this)
    right = right or _integer_parts(e.expression)
    if left is None or right is None:
        return plain
    (xp, xs), (_, ys) = left, right
    scale = max(xs, ys)
    precision = min(38, xp + ys + max(0, ys - xs))
    if precision > 15:
        raise UnsupportedError(
            f"decimal division with a decimal({precision},{scale}) result is not supported; "
            "cast the operands to double"
        )
    quotient = f"CAST({gen.sql(e, 'this')} AS DOUBLE) / CAST({gen.sql(e, 'expression')} AS DOUBLE)"
    return f"CAST(ROUND({quotient}, {scale}) AS DECIMAL({precision},{scale}))"


# --------------------------------------------------------------------------- windows


def _offset_checked(what: str, allow_zero: bool) -> Handler:
    """nth_value's offset must be at least 1; lead's and lag's must not be NULL (or
    negative). Trino fails; DuckDB returns NULL."""

    def handler(gen: DuckDBGenerator, e: exp.Expression) -> str:
        name = {"nthvalue": "nth_value"}.get(e.key, e.key)
        message = f"{name}: {what}"
        offset = e.args.get("offset")
        if isinstance(offset, exp.Null):
            raise SemanticError(f"{name}: Offset must not be null")
        if offset is not None and not (isinstance(offset, exp.Literal) and not offset.is_string):
            low = "0" if allow_zero else "1"
            checked = sqlglot.parse_one(
                f"CASE WHEN ({gen.sql(offset)}) >= {low} THEN {gen.sql(offset)} "
                f"ELSE ERROR('{message}') END",
                read="duckdb",
            )
            e = e.copy()
            e.set("offset", checked)
        elif offset is not None and int(offset.name) < (0 if allow_zero else 1):
            raise SemanticError(message)
        generate = getattr(DuckDBGenerator, f"{e.key}_sql", None)
        if generate is not None:
            return str(generate(gen, e))
        return str(DuckDBGenerator.function_fallback_sql(gen, e))  # type: ignore[arg-type]

    return handler


TRANSFORMS: dict[type[exp.Expression], Handler] = {
    exp.ApproxDistinct: _approx_distinct,
    exp.ApproxQuantile: _approx_percentile,
    exp.ArrayDistinct: _array_distinct,
    exp.ArrayExcept: _array_except,
    exp.ArrayFilter: _filter,
    exp.ArrayPosition: _array_position,
    exp.ArraySize: lambda gen, e: f"CAST({gen.func('CARDINALITY', e.this)} AS BIGINT)",
    exp.ArraySlice: _slice,
    exp.ArraySort: _array_sort,
    exp.Bracket: _bracket,
    exp.Cbrt: lambda gen, e: gen.func("TRINO_CBRT", e.this),
    exp.Ceil: _integer_kept,
    exp.CountIf: _count_if,
    exp.DataType: _decimal_type,
    exp.Div: _div,
    exp.DPipe: _dpipe,
    exp.Floor: _integer_kept,
    exp.FromBase: lambda gen, e: gen.func("TRINO_FROM_BASE", e.this, e.expression),
    exp.GenerateSeries: _sequence,
    exp.Lag: _offset_checked("Offset must be at least 0", allow_zero=True),
    exp.Lambda: _lambda,
    exp.Lead: _offset_checked("Offset must be at least 0", allow_zero=True),
    exp.NthValue: _offset_checked("Offset must be at least 1", allow_zero=False),
    exp.Rand: _random,
    exp.Reduce: _reduce,
    exp.Repeat: _repeat,
    exp.Shuffle: _shuffle,
    exp.Sign: _sign,
    exp.Skewness: _skewness,
    exp.Sum: _sum,
    exp.Transform: _transform,
    exp.WidthBucket: _width_bucket_node,
}

ANONYMOUS: dict[str, AnonHandler] = {
    "all_match": _match("all"),
    "any_match": _match("any"),
    "array_histogram": _array_histogram,
    "array_union": _array_union,
    "arrays_overlap": _arrays_overlap,
    "bit_count": renamed("TRINO_BIT_COUNT"),
    "bitwise_left_shift": _shift("TRINO_SHIFT_LEFT"),
    "bitwise_right_shift": _shift("TRINO_SHIFT_RIGHT"),
    "bitwise_right_shift_arithmetic": _shift("TRINO_SHIFT_RIGHT_ARITHMETIC"),
    "combinations": _combinations,
    "contains_sequence": _contains_sequence,
    "cosine_similarity": renamed("TRINO_COSINE_SIMILARITY"),
    "e": lambda gen, e: "EXP(1)",
    "every": renamed("BOOL_AND"),
    "from_base": renamed("TRINO_FROM_BASE"),
    "infinity": lambda gen, e: "CAST('Infinity' AS DOUBLE)",
    "is_finite": renamed("ISFINITE"),
    "is_infinite": renamed("ISINF"),
    "map_agg": _map_agg,
    "map_entries": _map_entries,
    "map_filter": _map_lambda("filter"),
    "map_union": _map_union,
    "map_values": renamed("MAP_VALUES"),
    "map_zip_with": _map_zip_with,
    "multimap_agg": _multimap_agg,
    "multimap_from_entries": _multimap_from_entries,
    "nan": lambda gen, e: "CAST('NaN' AS DOUBLE)",
    "ngrams": _ngrams,
    "none_match": _match("none"),
    "reduce_agg": _reduce_agg,
    "to_base": renamed("TRINO_TO_BASE"),
    "transform_keys": _map_lambda("keys"),
    "transform_values": _map_lambda("values"),
    "trim_array": _trim_array,
    "zip": _zip,
    "zip_with": _zip_with,
}

_SIGNED = (
    "CAST(CASE WHEN u >= (1::HUGEINT << (w - 1)) THEN u - (1::HUGEINT << w) ELSE u END AS BIGINT)"
)

MACROS: list[str] = [
    "CREATE OR REPLACE MACRO trino_bit_count(x, bits) AS CASE "
    "WHEN x::HUGEINT >= (1::HUGEINT << (bits - 1)) OR x::HUGEINT < -(1::HUGEINT << (bits - 1)) "
    "THEN ERROR('bit_count: Number must be representable with the bits specified. ' || x || ' cannot be "
    "represented with ' || bits || ' bits') "
    "ELSE CAST(BIT_COUNT((x::HUGEINT + (1::HUGEINT << bits)) % (1::HUGEINT << bits)) AS BIGINT) "
    "END",
    # a w-bit two's complement value from its unsigned bits
    f"CREATE OR REPLACE MACRO trino_signed(u, w) AS {_SIGNED}",
    "CREATE OR REPLACE MACRO trino_shift_left(v, s, w) AS CASE WHEN s >= w THEN 0 "
    "ELSE trino_signed((v::HUGEINT << s::INTEGER) & ((1::HUGEINT << w) - 1), w) END",
    "CREATE OR REPLACE MACRO trino_shift_right(v, s, w) AS CASE WHEN s >= w THEN 0 "
    "ELSE trino_signed(((v::HUGEINT + (1::HUGEINT << w)) % (1::HUGEINT << w)) >> s::INTEGER, w) "
    "END",
    "CREATE OR REPLACE MACRO trino_shift_right_arithmetic(v, s, w) AS CASE WHEN s >= w THEN "
    "CASE WHEN v < 0 THEN -1 ELSE 0 END ELSE CAST(v::HUGEINT >> s::INTEGER AS BIGINT) END",
    # one Newton step on DuckDB's cube root, which is off by one ulp for exact cubes (27 -> 3)
    "CREATE OR REPLACE MACRO trino_cbrt(x) AS (SELECT CASE WHEN r = 0 OR NOT ISFINITE(r) THEN r "
    "ELSE r - (r * r * r - x) / (3 * r * r) END FROM (SELECT CBRT(x::DOUBLE) AS r))",
    "CREATE OR REPLACE MACRO trino_from_base(s, radix) AS CASE WHEN radix NOT BETWEEN 2 AND 36 "
    "THEN ERROR('from_base: radix must be between 2 and 36') ELSE CAST("
    "(CASE WHEN s[1] = '-' THEN -1 ELSE 1 END) * LIST_REDUCE("
    "LIST_TRANSFORM(STRING_SPLIT(LOWER(CASE WHEN s[1] = '-' THEN s[2:] ELSE s END), ''), "
    "LAMBDA c: CASE WHEN STRPOS(LEFT('0123456789abcdefghijklmnopqrstuvwxyz', radix), c) > 0 "
    "AND LENGTH(c) = 1 "
    "THEN STRPOS('0123456789abcdefghijklmnopqrstuvwxyz', c) - 1 "
    "ELSE ERROR('from_base: not a valid base-' || radix || ' number: ' || s) END), "
    "LAMBDA acc, d: acc * radix + d, 0::HUGEINT) AS BIGINT) END",
    "CREATE OR REPLACE MACRO trino_to_base(x, radix) AS CASE WHEN radix NOT BETWEEN 2 AND 36 "
    "THEN ERROR('to_base: radix must be between 2 and 36') WHEN x = 0 THEN '0' ELSE "
    "(CASE WHEN x < 0 THEN '-' ELSE '' END) || LIST_REDUCE(GENERATE_SERIES(1, 64), "
    "LAMBDA acc, i: CASE WHEN acc.n = 0 THEN acc ELSE {'n': acc.n // radix, "
    "'s': SUBSTRING('0123456789abcdefghijklmnopqrstuvwxyz', (acc.n % radix)::INTEGER + 1, 1) "
    "|| acc.s} END, {'n': ABS(x::HUGEINT), 's': ''}).s END",
    "CREATE OR REPLACE MACRO trino_width_bucket(x, b1, b2, n) AS CAST(CASE "
    "WHEN b1 < b2 THEN CASE WHEN x < b1 THEN 0 WHEN x >= b2 THEN n + 1 "
    "ELSE FLOOR((x - b1) * n / (b2 - b1)) + 1 END "
    "WHEN b1 > b2 THEN CASE WHEN x > b1 THEN 0 WHEN x <= b2 THEN n + 1 "
    "ELSE FLOOR((b1 - x) * n / (b1 - b2)) + 1 END "
    "ELSE ERROR('width_bucket: bounds cannot equal each other') END AS BIGINT)",
    "CREATE OR REPLACE MACRO trino_cosine_similarity(a, b) AS "
    "LIST_SUM(LIST_TRANSFORM(LIST_FILTER(MAP_KEYS(a), LAMBDA k: MAP_CONTAINS(b, k)), "
    "LAMBDA k: a[k]::DOUBLE * b[k]::DOUBLE)) / ("
    "SQRT(LIST_SUM(LIST_TRANSFORM(MAP_VALUES(a), LAMBDA v: v::DOUBLE * v::DOUBLE))) * "
    "SQRT(LIST_SUM(LIST_TRANSFORM(MAP_VALUES(b), LAMBDA v: v::DOUBLE * v::DOUBLE))))",
]
