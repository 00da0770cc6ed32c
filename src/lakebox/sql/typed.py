"""Type annotation of a planned query for the engines' type-dependent translation rules
(DATE stays DATE, integer sums): the one pass both engines' translators share."""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.scope import traverse_scope

from lakebox.sql.dialect import READ_DIALECT


def qualify_known_columns(tree: exp.Expression, schema: Mapping[str, Mapping[str, str]]) -> None:
    """Prefix a column with its table where the schema says which table it comes from, so
    annotate_types can type it.

    Deliberately narrower than sqlglot's ``qualify`` (which also renames tables, rewrites
    positional ORDER BY and adds aliases): only unqualified columns found in exactly one of the
    scope's tables, and never a name that is also a select alias.

    An unqualified column of a subquery that reads a derived table (a view, a CTE, a
    Lake Formation restriction) is left alone by the enclosing scopes too: sqlglot lists it
    among their columns (it cannot tell whether the derived table has it), and qualifying
    it with an outer table would turn ``EXISTS (SELECT 1 FROM v WHERE region = 'x')`` into
    a correlated test of the outer table's ``region``. DuckDB binds it where SQL says.
    """
    lowered = {name.lower(): {c.lower() for c in cols} for name, cols in schema.items()}
    scopes = list(traverse_scope(tree))
    opaque = {
        id(scope.expression)
        for scope in scopes
        if any(
            isinstance(getattr(s, "expression", None), exp.Query) for s in scope.sources.values()
        )
    }
    for scope in scopes:
        sources = scope.sources
        tables = {a: t for a, t in sources.items() if isinstance(t, exp.Table)}
        if not tables or len(tables) != len(sources):
            continue
        aliases = {p.alias.lower() for p in getattr(scope.expression, "expressions", []) if p.alias}
        for column in scope.columns:
            name = column.name.lower()
            if column.table or name in aliases:
                continue
            home = column.find_ancestor(exp.Select)
            if home is not None and home is not scope.expression and id(home) in opaque:
                continue
            owners = [a for a, t in tables.items() if name in lowered.get(t.name.lower(), set())]
            if len(owners) == 1:
                column.set("table", exp.to_identifier(owners[0]))


def typed(tree: exp.Expression, schema: Mapping[str, Mapping[str, str]] | None) -> exp.Expression:
    """Annotate types so type-dependent rules (DATE stays DATE, integer sums) can fire."""
    if schema:
        qualify_known_columns(tree, schema)
    return annotate_types(tree, schema=dict(schema) if schema else None, dialect=READ_DIALECT)


__all__ = ["qualify_known_columns", "typed"]
