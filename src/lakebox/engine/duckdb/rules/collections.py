"""Arrays, maps, lambdas, math, bitwise and aggregates: Trino's functions on DuckDB."""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.generators.duckdb import DuckDBGenerator

from lakebox.engine.duckdb.rules.base import (
    INTEGER_TYPES,
    AnonHandler,
    Handler,
    is_date,
    lambda_,
    lambda_sql,
    renamed,
)
from lakebox.errors import UnsupportedError


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
        f"LIST_REDUCE({gen.sql(e, 'this')}, {lambda_sql(gen, e.args['merge'])}, "
        f"{gen.sql(e, 'initial')})"
    )
    finish = e.args.get("finish")
    if finish is None:
        return reduced
    inlined = exp.Paren(this=sqlglot.parse_one(reduced, read="duckdb"))
    return gen.sql(_inline(finish, [inlined]))


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
    return f"LIST_TRANSFORM({gen.sql(e, 'this')}, {lambda_sql(gen, e.expression)})"


def _filter(gen: DuckDBGenerator, e: exp.Expression) -> str:
    return f"LIST_FILTER({gen.sql(e, 'this')}, {lambda_sql(gen, e.expression)})"


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


def _sum(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino sums integers into BIGINT; DuckDB into HUGEINT (DECIMAL(38,0) in Arrow). Applied
    when the argument is known to be an integer."""
    sql = str(DuckDBGenerator.function_fallback_sql(gen, e))  # type: ignore[arg-type]
    arg = e.this
    in_window = isinstance(e.parent, exp.Window)
    if not in_window and arg.type is not None and arg.type.is_type(*INTEGER_TYPES):
        return f"CAST({sql} AS BIGINT)"
    return sql


def _match(kind: str) -> Callable[[DuckDBGenerator, exp.Anonymous], str]:
    """any_match / all_match / none_match; an empty array gives false / true / true."""

    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        arr, lam = e.expressions
        tested = f"LIST_TRANSFORM({gen.sql(arr)}, {lambda_sql(gen, lam)})"
        if kind == "any":
            return f"COALESCE(LIST_BOOL_OR({tested}), FALSE)"
        if kind == "all":
            return f"COALESCE(LIST_BOOL_AND({tested}), TRUE)"
        return f"NOT COALESCE(LIST_BOOL_OR({tested}), FALSE)"

    return handler


def _array_union(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    concat = exp.ArrayConcat(this=e.expressions[0], expressions=e.expressions[1:])
    return _array_distinct(gen, exp.ArrayDistinct(this=concat))


def _map_agg(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    key, value = e.expressions
    return f"MAP({gen.func('LIST', key)}, {gen.func('LIST', value)})"


def _arrays_overlap(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    left, right = e.expressions
    return gen.func("LIST_HAS_ANY", left, right)


TRANSFORMS: dict[type[exp.Expression], Handler] = {
    exp.ApproxQuantile: _approx_percentile,
    exp.ArrayDistinct: _array_distinct,
    exp.ArrayExcept: _array_except,
    exp.ArrayFilter: _filter,
    exp.ArraySize: lambda gen, e: f"CAST({gen.func('CARDINALITY', e.this)} AS BIGINT)",
    exp.ArraySlice: _slice,
    exp.CountIf: _count_if,
    exp.GenerateSeries: _sequence,
    exp.Reduce: _reduce,
    exp.Sum: _sum,
    exp.Transform: _transform,
}

ANONYMOUS: dict[str, AnonHandler] = {
    "all_match": _match("all"),
    "any_match": _match("any"),
    "array_union": _array_union,
    "arrays_overlap": _arrays_overlap,
    "every": renamed("BOOL_AND"),
    "infinity": lambda gen, e: "CAST('Infinity' AS DOUBLE)",
    "map_agg": _map_agg,
    "map_filter": _map_lambda("filter"),
    "map_values": renamed("MAP_VALUES"),
    "none_match": _match("none"),
    "transform_keys": _map_lambda("keys"),
    "transform_values": _map_lambda("values"),
    "zip": renamed("LIST_ZIP"),
}

MACROS: list[str] = []
