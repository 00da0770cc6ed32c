"""Athena SQL on DuckDB: a parsed Athena statement (``lakebox.sql.dialect.parse_query``)
written as DuckDB SQL with Athena's semantics.

sqlglot does most of the translation. Where its DuckDB output differs from what Athena
returns, a rule fixes it: ``lakebox.engine.duckdb.rules`` holds them, one module per family
of functions, each a handler per sqlglot expression type (sqlglot style) or per Trino function
that sqlglot keeps as a plain call.
Every rule is proven by a golden test that runs the output on DuckDB
(tests/engine/duckdb/test_translate.py).

Some Athena semantics need a DuckDB session setting rather than a rewrite, because only the
engine knows the operand types at run time (integer ``/``): apply ``DUCKDB_SETTINGS`` with
``configure_connection`` on every connection that runs translated SQL; it also creates the
DuckDB macros the rules call.

``to_duckdb`` writes Athena's result column names as aliases on the outermost select.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import duckdb.func
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ErrorLevel, ParseError
from sqlglot.errors import UnsupportedError as SqlglotUnsupportedError
from sqlglot.generators.duckdb import DuckDBGenerator
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.scope import traverse_scope

from lakebox.engine.duckdb import rules
from lakebox.engine.duckdb.rules.base import guarded
from lakebox.errors import SemanticError, UnsupportedError
from lakebox.sql.dialect import READ_DIALECT, outermost_select, output_name, values_width

DUCKDB_SETTINGS: dict[str, str | bool] = {
    "integer_division": True,
    "default_null_order": "nulls_last",
    "TimeZone": "UTC",
}
"""Session settings translated SQL relies on: Trino's integer ``/`` truncates (5 / 2 = 2);
NULLs sort last in both directions; Athena's session time zone is UTC."""


def configure_connection(con: duckdb.DuckDBPyConnection, scope: str = "") -> None:
    """Apply ``DUCKDB_SETTINGS`` to a connection that will run ``to_duckdb`` output.

    Plain settings are per connection: a ``con.cursor()`` starts without them, so call this on
    the cursor that runs the query, or once with ``scope="GLOBAL"`` on the database's first
    connection so that every cursor starts with them.
    """
    for name, value in DUCKDB_SETTINGS.items():
        literal = str(value).lower() if isinstance(value, bool) else f"'{value}'"
        con.execute(f"SET {scope} {name} = {literal}".replace("  ", " "))
    for macro in rules.MACROS:
        con.execute(macro)
    for udf in rules.UDFS:
        con.create_function(
            udf.name,
            udf.call,
            list(udf.parameters),
            udf.returns,
            null_handling=duckdb.func.FunctionNullHandling.SPECIAL,
        )


# --------------------------------------------------------------------------- parsing


def _name_values(tree: exp.Expression) -> exp.Expression:
    """A bare ``VALUES`` statement names its columns _col0.. in Athena, col0.. in DuckDB."""
    if not isinstance(tree, exp.Values) or tree.alias:
        return tree
    columns = [exp.to_identifier(f"_col{i}") for i in range(values_width(tree))]
    tree.set("alias", exp.TableAlias(this=exp.to_identifier("_values"), columns=columns))
    return exp.select("*").from_(tree)


def _lower_identifiers(tree: exp.Expression) -> None:
    """Athena folds every identifier, quoted or not, to lower case; so does the output, which
    makes ``SELECT *`` over ``t(Id)`` return ``id`` as Athena does. Table names are left as
    written: the planner owns them."""
    for ident in tree.find_all(exp.Identifier):
        if isinstance(ident.parent, exp.Table) and ident.arg_key in ("this", "db", "catalog"):
            continue
        ident.set("this", ident.this.lower())


def _ordinals(arrays: list[exp.Expression]) -> exp.Expression:
    """1..n for the longest of the arrays: WITH ORDINALITY over a zip."""
    longest: exp.Expression = exp.ArraySize(this=arrays[0].copy())
    if len(arrays) > 1:
        longest = exp.Greatest(
            this=longest, expressions=[exp.ArraySize(this=a.copy()) for a in arrays[1:]]
        )
    one = exp.Literal.number(1)
    return exp.Unnest(expressions=[exp.func("RANGE", one, exp.Add(this=longest, expression=one))])


def _is_row_array(node: exp.Expression) -> bool:
    kind = node.type
    return (
        kind is not None
        and kind.is_type(exp.DataType.Type.ARRAY)
        and bool(kind.expressions)
        and kind.expressions[0].is_type(exp.DataType.Type.STRUCT)
    )


def _rewrite_unnest(tree: exp.Expression) -> None:
    """Give Trino's UNNEST forms that DuckDB's one-list unnest table function lacks.

    - ``UNNEST(a, b)`` zips arrays, NULL-padding the shorter: several unnest() calls in one
      select list do the same in DuckDB.
    - ``UNNEST(map) AS t(k, v)`` yields keys and values: zip of map_keys and map_values.
    - ``UNNEST(array_of_rows) AS t(a, b)`` spreads each row's fields into columns: unnest()
      of a struct does that in a select list.
    The last two need the argument's type (a literal, or columns typed through ``schema``).
    """
    for unnest in list(tree.find_all(exp.Unnest)):
        if not isinstance(unnest.parent, (exp.From, exp.Join)):
            continue
        arrays = list(unnest.expressions)
        alias = unnest.args.get("alias")
        offset = unnest.args.get("offset")
        columns = [c.name for c in alias.columns] if alias is not None else []
        ordinal_name = offset.name if isinstance(offset, exp.Identifier) else "ordinality"
        table_alias = alias.this.name if alias is not None and alias.this else "_unnest"
        if len(arrays) == 1 and arrays[0].type is not None:
            if arrays[0].type.is_type(exp.DataType.Type.MAP):
                mapping = arrays[0]
                arrays = [
                    exp.MapKeys(this=mapping.copy()),
                    exp.Anonymous(this="map_values", expressions=[mapping.copy()]),
                ]
            elif _is_row_array(arrays[0]):
                inner = exp.select(exp.alias_(exp.Unnest(expressions=[arrays[0].copy()]), "_r"))
                outer = exp.select(exp.Unnest(expressions=[exp.column("_r")]))
                if offset:
                    inner = inner.select(exp.alias_(_ordinals(arrays), "_n"))
                    outer = outer.select(exp.column("_n"))
                    columns.append(ordinal_name)
                outer = outer.from_(exp.Subquery(this=inner))
                unnest.replace(
                    exp.Subquery(
                        this=outer,
                        alias=exp.TableAlias(
                            this=exp.to_identifier(table_alias),
                            columns=[exp.to_identifier(c) for c in columns],
                        ),
                    )
                )
                continue
        if len(arrays) < 2:
            continue
        names = [columns[i] if i < len(columns) else f"_u{i}" for i in range(len(arrays))]
        select = exp.select(
            *(
                exp.alias_(exp.Unnest(expressions=[a.copy()]), n)
                for a, n in zip(arrays, names, strict=True)
            )
        )
        if offset:
            select = select.select(exp.alias_(_ordinals(arrays), ordinal_name))
        unnest.replace(
            exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(table_alias)))
        )


def _apply_result_names(expr: exp.Expression, names: list[str | None]) -> None:
    select = outermost_select(expr)
    if select is None or len(select.expressions) != len(names):
        return
    for projection, name in zip(list(select.expressions), names, strict=True):
        if name is None:
            continue
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        projection.replace(exp.alias_(inner.copy(), name, quoted=True))


# --------------------------------------------------------------------------- generation


def _ordered(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Always spell the NULL order: Trino's NULLS LAST must not depend on a session default."""
    sql = DuckDBGenerator.ordered_sql(gen, e)  # type: ignore[arg-type]
    if "NULLS FIRST" in sql or "NULLS LAST" in sql:
        return str(sql)
    return f"{sql} {'NULLS FIRST' if e.args.get('nulls_first') else 'NULLS LAST'}"


def _anonymous(gen: DuckDBGenerator, e: exp.Expression) -> str:
    assert isinstance(e, exp.Anonymous)
    handler = rules.ANONYMOUS.get(str(e.this).lower())
    if handler is None:
        return str(DuckDBGenerator.anonymous_sql(gen, e))
    return handler(gen, e)


class LakeboxDuckDB(DuckDB):
    """DuckDB output dialect with Athena's semantics for the functions in TRANSFORMS."""

    class Generator(DuckDBGenerator):
        TRANSFORMS = {
            **DuckDBGenerator.TRANSFORMS,
            **{kind: guarded(rule) for kind, rule in rules.TRANSFORMS.items()},
            exp.Anonymous: guarded(_anonymous),
            exp.Ordered: guarded(_ordered),
        }


def _qualify_known_columns(tree: exp.Expression, schema: Mapping[str, Mapping[str, str]]) -> None:
    """Prefix a column with its table where the schema says which table it comes from, so
    annotate_types can type it.

    Deliberately narrower than sqlglot's ``qualify`` (which also renames tables, rewrites
    positional ORDER BY and adds aliases): only unqualified columns found in exactly one of the
    scope's tables, and never a name that is also a select alias.
    """
    lowered = {name.lower(): {c.lower() for c in cols} for name, cols in schema.items()}
    for scope in traverse_scope(tree):
        sources = scope.sources
        tables = {a: t for a, t in sources.items() if isinstance(t, exp.Table)}
        if not tables or len(tables) != len(sources):
            continue
        aliases = {p.alias.lower() for p in getattr(scope.expression, "expressions", []) if p.alias}
        for column in scope.columns:
            name = column.name.lower()
            if column.table or name in aliases:
                continue
            owners = [a for a, t in tables.items() if name in lowered.get(t.name.lower(), set())]
            if len(owners) == 1:
                column.set("table", exp.to_identifier(owners[0]))


def _typed(tree: exp.Expression, schema: Mapping[str, Mapping[str, str]] | None) -> exp.Expression:
    """Annotate types so type-dependent rules (DATE stays DATE, integer sums) can fire."""
    if schema:
        _qualify_known_columns(tree, schema)
    return annotate_types(tree, schema=dict(schema) if schema else None, dialect=READ_DIALECT)


def to_duckdb(expr: exp.Expression, schema: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """DuckDB SQL for a parsed Athena statement, with Athena's result column names.

    ``schema`` ({table: {column: type}}) lets type-dependent rules (DATE arithmetic staying
    DATE, integer division) apply to columns too; literals and casts work without it.
    """
    names = [
        output_name(p, i) for i, p in enumerate(getattr(outermost_select(expr), "expressions", []))
    ]
    try:
        tree = _typed(expr.copy(), schema)
    except Exception:
        tree = expr.copy()
    _lower_identifiers(tree)
    _rewrite_unnest(tree)
    _apply_result_names(tree, names)
    tree = _name_values(tree)
    try:
        return tree.sql(dialect=LakeboxDuckDB, unsupported_level=ErrorLevel.RAISE)
    except SqlglotUnsupportedError as err:
        raise UnsupportedError(f"cannot run this Athena SQL on DuckDB: {err}") from err
    except ParseError as err:  # sqlglot's rewrite of a call missing an argument: date()
        raise SemanticError(
            f"cannot translate this statement: {str(err).splitlines()[0]}; "
            "check the arguments of its function calls"
        ) from err
