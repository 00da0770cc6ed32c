"""Athena SQL on DuckDB: a parsed Athena statement (``lakebox.sql.dialect.parse_query``)
written as DuckDB SQL with Athena's semantics.

sqlglot does most of the translation. Where its DuckDB output differs from what Athena
returns, a rule fixes it: ``lakebox.engine.duckdb.rules`` holds them, one module per family
of functions, each a handler per sqlglot expression type (sqlglot style) or per Trino function
that sqlglot keeps as a plain call.
Every rule is proven by a golden test that runs the output on DuckDB
(tests/engine/duckdb/test_translate.py).

Some Athena semantics need a DuckDB session setting rather than a rewrite, because only the
engine knows the operand types at run time (integer ``/``): ``DUCKDB_SETTINGS`` must hold on
every connection that runs translated SQL. The engine's database sets them when it opens and
creates the rules' macros and UDFs a statement calls on first use
(``lakebox.engine.duckdb.connection``); ``configure_connection`` sets up any other connection
at once, settings and every macro and UDF (tests and tools use it).

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

from lakebox.engine.duckdb import rules
from lakebox.engine.duckdb.rules.base import guarded
from lakebox.errors import SemanticError, UnsupportedError
from lakebox.sql.dialect import (
    READ_DIALECT,
    is_row_star,
    outermost_select,
    output_name,
    values_width,
)
from lakebox.sql.typed import typed

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


_MAP_FUNCTIONS = frozenset(
    {
        "histogram", "map_agg", "map_concat", "map_filter", "map_from_entries",
        "map_union", "map_zip_with", "multimap_agg", "multimap_from_entries",
        "split_to_map", "transform_keys", "transform_values",
    }
)  # fmt: skip
"""Trino functions that return a map, which sqlglot leaves untyped."""


def _returns_map(node: exp.Expression) -> bool:
    if isinstance(node, (exp.MapFromEntries, exp.StrToMap)):
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in _MAP_FUNCTIONS


def _element_kind(node: exp.Expression) -> str:
    """What one UNNEST argument holds, as far as translation can tell: "map", "rows" (an
    array of rows), "array" (an array of anything else) or "unknown" (a column or field whose
    type sqlglot could not infer, such as a field of a row column)."""
    kind = node.type
    if kind is None or kind.is_type(exp.DataType.Type.UNKNOWN, exp.DataType.Type.NULL):
        return "map" if _returns_map(node) else "unknown"
    if kind.is_type(exp.DataType.Type.MAP):
        return "map"
    if kind.is_type(exp.DataType.Type.ARRAY) and kind.expressions:
        if kind.expressions[0].is_type(exp.DataType.Type.STRUCT):
            return "rows"
        if kind.expressions[0].is_type(exp.DataType.Type.UNKNOWN):
            return "unknown"
    return "array"


def _unnest_plan(arrays: list[exp.Expression], names: int) -> list[str]:
    """How each UNNEST argument becomes columns: "one" (the element), "fields" (a row's
    fields, one column each) or "map" (key and value).

    Trino spreads the fields of an array of rows into columns. AWS's own examples rely on
    one more rule that Athena follows: a single array of rows given a single column name
    (``UNNEST(t.resources) AS u(entry)``, ``UNNEST(dataset.users) AS t(person)``) yields
    the rows themselves, so that ``entry.arn`` reads a field. An argument whose type is not
    known here (a field of a row column) is spread when the alias names more columns than
    there are arguments, which only rows can fill.
    """
    kinds = [_element_kind(a) for a in arrays]
    if len(arrays) == 1 and kinds[0] == "rows" and names == 1:
        return ["one"]
    if len(arrays) == 1 and kinds[0] == "unknown":
        return ["fields" if names > 1 else "one"]
    if "unknown" in kinds and names and names != len(arrays):
        raise UnsupportedError(
            "UNNEST of several arrays where one holds rows of a type not known before the "
            "query runs: unnest the array of rows on its own"
        )
    return ["map" if k == "map" else "fields" if k == "rows" else "one" for k in kinds]


def _unnest_width(arrays: list[exp.Expression], plan: list[str]) -> int | None:
    """How many columns the plan gives (ordinality aside), or None when a row's fields are
    not known here."""
    width = 0
    for array, how in zip(arrays, plan, strict=True):
        if how == "fields":
            kind = array.type
            fields = (
                kind.expressions[0].expressions if kind is not None and kind.expressions else []
            )
            if not fields:
                return None
            width += len(fields)
        else:
            width += 2 if how == "map" else 1
    return width


def _is_left_join_on_true(join: exp.Join) -> bool:
    on = join.args.get("on")
    return join.side == "LEFT" and isinstance(on, exp.Boolean) and on.this is True


def _length(array: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=exp.ArraySize(this=array.copy()), expressions=[exp.Literal.number(0)])


def _padded(lists: list[exp.Expression]) -> exp.Expression:
    """The first list, or one NULL element when every list is empty or NULL."""
    longest = _length(lists[0])
    if len(lists) > 1:
        longest = exp.Greatest(this=longest, expressions=[_length(a) for a in lists[1:]])
    empty = exp.EQ(this=longest, expression=exp.Literal.number(0))
    return exp.If(this=empty, true=exp.Array(expressions=[exp.Null()]), false=lists[0].copy())


def _rewrite_unnest(tree: exp.Expression) -> None:
    """Give Trino's UNNEST forms that DuckDB's one-list unnest table function lacks.

    - ``UNNEST(a, b)`` zips arrays, NULL-padding the shorter: several unnest() calls in one
      select list do the same in DuckDB.
    - ``UNNEST(map) AS t(k, v)`` yields keys and values: zip of map_keys and map_values.
    - ``UNNEST(array_of_rows) AS t(a, b)`` spreads each row's fields into columns: unnest()
      of a struct does that in a select list, whatever the struct's fields are, so this
      works for rows whose type only the engine knows.
    - ``WITH ORDINALITY`` adds 1..n over the longest argument.
    The argument lists run as a correlated subquery, which DuckDB joins laterally.
    """
    for unnest in list(tree.find_all(exp.Unnest)):
        if not isinstance(unnest.parent, (exp.From, exp.Join)):
            continue
        arrays = list(unnest.expressions)
        alias = unnest.args.get("alias")
        offset = unnest.args.get("offset")
        columns = [c.name for c in alias.columns] if alias is not None else []
        plan = _unnest_plan(arrays, len(columns))
        width = _unnest_width(arrays, plan)
        if columns and width is not None and width != len(columns):
            raise SemanticError(
                f"Column alias list has {len(columns)} entries but "
                f"'{alias.this.name if alias is not None else ''}' has {width} columns available"
            )
        join = unnest.parent
        left = isinstance(join, exp.Join) and _is_left_join_on_true(join)
        if plan == ["one"] and not offset and not left:
            continue  # DuckDB's own UNNEST gives Trino's answer
        ordinal_name = offset.name if isinstance(offset, exp.Identifier) else "ordinality"
        table_alias = alias.this.name if alias is not None and alias.this else "_unnest"
        lists: list[exp.Expression] = []
        outer: list[exp.Expression] = []
        for array, how in zip(arrays, plan, strict=True):
            if how == "map":
                lists += [
                    exp.MapKeys(this=array.copy()),
                    exp.Anonymous(this="map_values", expressions=[array.copy()]),
                ]
                outer += [exp.column(f"_u{len(lists) - 2}"), exp.column(f"_u{len(lists) - 1}")]
            else:
                lists.append(array.copy())
                element = exp.column(f"_u{len(lists) - 1}")
                outer.append(exp.Unnest(expressions=[element]) if how == "fields" else element)
        unnested = [exp.Unnest(expressions=[a.copy()]) for a in lists]
        if left:
            # LEFT JOIN UNNEST(...) ON TRUE keeps a row whose arrays are all empty or NULL,
            # with NULLs: one NULL element does that, and a cross join keeps DuckDB from
            # reordering the rows (its outer lateral join returns them out of array order)
            unnested[0] = exp.Unnest(expressions=[_padded(lists)])
            join.set("side", None)
            join.set("kind", "CROSS")
            join.set("on", None)
        inner = exp.select(*(exp.alias_(u, f"_u{i}") for i, u in enumerate(unnested)))
        if offset:
            inner = inner.select(exp.alias_(_ordinals(lists), ordinal_name))
            outer.append(exp.column(ordinal_name))
            if columns:
                columns.append(ordinal_name)
        select = exp.select(*outer).from_(exp.Subquery(this=inner))
        unnest.replace(
            exp.Subquery(
                this=select,
                alias=exp.TableAlias(
                    this=exp.to_identifier(table_alias),
                    columns=[exp.to_identifier(c) for c in columns],
                ),
            )
        )


def _row_fields(row: exp.Expression) -> list[str | None] | None:
    """The field names of a row-typed expression (None for an anonymous field), or None when
    its type is not known here."""
    kind = row.type
    if kind is None or not kind.is_type(exp.DataType.Type.STRUCT) or not kind.expressions:
        return None
    return [f.name if isinstance(f, exp.ColumnDef) else None for f in kind.expressions]


def _expand_row_stars(tree: exp.Expression) -> None:
    """``(row).*`` gives one column per field of the row, named by ``AS (a, b)``, else by the
    field's name, else ``_colN`` after its position in the expanded select list (Trino's
    rule). Each column reads its field by position, which DuckDB allows on any struct."""
    for select in list(tree.find_all(exp.Select)):
        if not any(is_row_star(p) for p in select.expressions):
            continue
        expanded: list[exp.Expr] = []
        for projection in select.expressions:
            if not is_row_star(projection):
                expanded.append(projection)
                continue
            aliases = projection.expressions if isinstance(projection, exp.Aliases) else []
            star = projection.this if isinstance(projection, exp.Aliases) else projection
            row: exp.Expression = star.this
            while isinstance(row, exp.Paren):
                row = row.this
            fields = _row_fields(row)
            known = row.type is not None and not row.type.is_type(
                exp.DataType.Type.UNKNOWN, exp.DataType.Type.NULL, exp.DataType.Type.STRUCT
            )
            if fields is None and known:
                raise SemanticError(
                    f"row expansion {star.sql(dialect=READ_DIALECT)}: "
                    f"{row.sql(dialect=READ_DIALECT)} is not a row"
                )
            if fields is None:
                raise UnsupportedError(
                    f"row expansion {star.sql(dialect=READ_DIALECT)}: the fields of "
                    f"{row.sql(dialect=READ_DIALECT)} are not known before the query runs; "
                    "CAST it to a ROW type with named fields"
                )
            if aliases and len(aliases) != len(fields):
                raise SemanticError(
                    f"Column alias list has {len(aliases)} entries but "
                    f"'{row.sql(dialect=READ_DIALECT)}' has {len(fields)} columns available"
                )
            for i, field in enumerate(fields):
                name = aliases[i].name if aliases else field or f"_col{len(expanded)}"
                value = exp.Anonymous(
                    this="struct_extract_at", expressions=[row.copy(), exp.Literal.number(i + 1)]
                )
                expanded.append(exp.alias_(value, name, quoted=True))
        select.set("expressions", expanded)


def _rewrite_row_subscripts(tree: exp.Expression) -> None:
    """``row[1]`` reads a row's field by position (Trino 1-based, constant index); DuckDB's
    ``[]`` on a struct only takes names, ``struct_extract_at`` takes the position."""
    for bracket in list(tree.find_all(exp.Bracket)):
        kind = bracket.this.type
        if kind is None or not kind.is_type(exp.DataType.Type.STRUCT):
            continue
        if len(bracket.expressions) != 1 or not bracket.expressions[0].is_int:
            raise SemanticError(
                f"{bracket.sql(dialect=READ_DIALECT)}: a row field is read by a constant position"
            )
        position = int(bracket.expressions[0].name)
        if _parsed_as_array(bracket.this):
            position += 1  # the parser took it for an array subscript and made it 0-based
        bracket.replace(
            exp.Anonymous(
                this="struct_extract_at",
                expressions=[bracket.this.copy(), exp.Literal.number(position)],
            )
        )


def _parsed_as_array(node: exp.Expression) -> bool:
    """Whether sqlglot's parser, which types a subscript's base without the catalog, took it
    for an array (or did not know) and so lowered a constant index by one."""
    fresh = node.copy()
    for part in fresh.walk():
        part.type = None
    annotate_types(fresh, dialect=READ_DIALECT)
    return fresh.type is None or fresh.type.is_type(
        exp.DataType.Type.UNKNOWN, exp.DataType.Type.ARRAY
    )


def _struct_width(kind: exp.DataType | None) -> int | None:
    if kind is None or not kind.is_type(exp.DataType.Type.STRUCT) or not kind.expressions:
        return None
    return len(kind.expressions)


def _field_type(kind: exp.DataType, i: int) -> exp.DataType | None:
    field = kind.expressions[i]
    found = field.args.get("kind") if isinstance(field, exp.ColumnDef) else field
    return found if isinstance(found, exp.DataType) else None


def _fields_equal(
    left: exp.Expression, lkind: exp.DataType, right: exp.Expression, rkind: exp.DataType
) -> exp.Expression:
    """Field by field, so that SQL's three-valued AND gives Trino's row equality: false when
    a pair differs, else NULL when a field is NULL, else true."""
    terms: list[exp.Expression] = []
    for i in range(len(lkind.expressions)):
        lfield = exp.Anonymous(
            this="struct_extract_at", expressions=[left.copy(), exp.Literal.number(i + 1)]
        )
        rfield = exp.Anonymous(
            this="struct_extract_at", expressions=[right.copy(), exp.Literal.number(i + 1)]
        )
        ltype, rtype = _field_type(lkind, i), _field_type(rkind, i)
        width = _struct_width(ltype)
        if ltype is not None and rtype is not None and width and width == _struct_width(rtype):
            terms.append(exp.Paren(this=_fields_equal(lfield, ltype, rfield, rtype)))
        else:
            terms.append(exp.EQ(this=lfield, expression=rfield))
    equal = terms[0]
    for term in terms[1:]:
        equal = exp.And(this=equal, expression=term)
    return equal


def _rewrite_row_equality(tree: exp.Expression) -> None:
    """``row = row`` and ``row <> row``: DuckDB compares structs as whole values, where a NULL
    field equals a NULL field; Trino compares field by field, and a NULL field makes the
    answer NULL unless another pair differs."""
    for node in list(tree.find_all(exp.EQ, exp.NEQ)):
        left, right = node.this, node.expression
        lkind, rkind = left.type, right.type
        width = _struct_width(lkind)
        if not width or width != _struct_width(rkind):
            continue
        assert lkind is not None and rkind is not None
        equal = exp.Paren(this=_fields_equal(left, lkind, right, rkind))
        node.replace(equal if isinstance(node, exp.EQ) else exp.Not(this=equal))


def _rewrite_fetch_with_ties(tree: exp.Expression) -> None:
    """``ORDER BY k FETCH FIRST n ROWS WITH TIES`` keeps the rows that rank within the first n
    by k, ties included: DuckDB's QUALIFY on rank() over the same order. sqlglot would write
    a plain LIMIT, dropping the ties."""
    for fetch in list(tree.find_all(exp.Fetch)):
        options = fetch.args.get("limit_options")
        if options is None or not options.args.get("with_ties"):
            continue
        select = fetch.parent
        order = select.args.get("order") if isinstance(select, exp.Select) else None
        if (
            not isinstance(select, exp.Select)
            or order is None
            or select.args.get("offset") is not None
            or select.args.get("distinct") is not None
            or options.args.get("percent")
        ):
            raise UnsupportedError(
                "FETCH FIRST ... WITH TIES is supported after an ORDER BY, without OFFSET, "
                "DISTINCT or PERCENT"
            )
        keys = []
        for ordered in order.expressions:
            key = ordered.copy()
            position = int(key.this.name) if key.this.is_int else 0
            if 0 < position <= len(select.expressions):  # ORDER BY 2: the second select item
                item = select.expressions[position - 1]
                key.set("this", (item.this if isinstance(item, exp.Alias) else item).copy())
            keys.append(key)
        count = fetch.args.get("count") or exp.Literal.number(1)
        rank = exp.Window(this=exp.Anonymous(this="rank"), order=exp.Order(expressions=keys))
        select.set("qualify", exp.Qualify(this=exp.LTE(this=rank, expression=count.copy())))
        select.set("limit", None)


def _name_anonymous_rows(tree: exp.Expression) -> None:
    """Athena shows the fields of an anonymous ``ROW('Bob', 38)`` as ``{field0=Bob,
    field1=38}``: give DuckDB's struct those names. A row inside a CAST keeps sqlglot's
    unnamed DuckDB ``ROW(...)``, which casts to the target's fields by position."""
    for struct in list(tree.find_all(exp.Struct)):
        if struct.find_ancestor(exp.Cast) is not None:
            continue
        if any(isinstance(e, (exp.PropertyEQ, exp.Alias)) for e in struct.expressions):
            continue
        struct.set(
            "expressions",
            [
                exp.PropertyEQ(this=exp.to_identifier(f"field{i}"), expression=e.copy())
                for i, e in enumerate(struct.expressions)
            ],
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
    """Always spell the NULL order: Trino's NULLS LAST must not depend on a session default.
    An IPADDRESS value orders by its address, not its text."""
    if (key := rules.system.order_key(e.this)) is not None:
        e = e.copy()
        e.set("this", key)
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


def to_duckdb(expr: exp.Expression, schema: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """DuckDB SQL for a parsed Athena statement, with Athena's result column names.

    ``schema`` ({table: {column: type}}) lets type-dependent rules (DATE arithmetic staying
    DATE, integer division) apply to columns too; literals and casts work without it.
    """
    try:
        tree = typed(expr.copy(), schema)
    except Exception:
        tree = expr.copy()
    _expand_row_stars(tree)
    _rewrite_fetch_with_ties(tree)
    _rewrite_row_subscripts(tree)
    _rewrite_row_equality(tree)
    _name_anonymous_rows(tree)
    names = [
        output_name(p, i) for i, p in enumerate(getattr(outermost_select(tree), "expressions", []))
    ]
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


#: sqlglot maps expression types to a generator class's methods on its first instance
#: (~1 ms for this one): made with this module, not by a lake's first query
LakeboxDuckDB().generator()
