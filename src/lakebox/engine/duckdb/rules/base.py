"""What every family of translation rules shares: the handler types, argument helpers, and
``guarded``, which reports a rule called with the wrong arguments as the user's error."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.generators.duckdb import DuckDBGenerator

from lakebox.errors import SemanticError
from lakebox.sql.dialect import READ_DIALECT

AnonHandler = Callable[[DuckDBGenerator, exp.Anonymous], str]

Handler = Callable[[DuckDBGenerator, exp.Expression], str]


def is_date(node: exp.Expression) -> bool:
    return node.type is not None and node.type.is_type(exp.DataType.Type.DATE)


def unit(node: exp.Expression) -> str:
    unit = node.args.get("unit")
    return unit.name.upper() if unit is not None else "DAY"


def lambda_(params: list[str], body: str) -> str:
    return f"LAMBDA {', '.join(params)}: {body}"


def lambda_sql(gen: DuckDBGenerator, lam: exp.Expression) -> str:
    params = [gen.sql(p) for p in lam.expressions]
    return lambda_(params, gen.sql(lam, "this"))


def renamed(name: str) -> Callable[[DuckDBGenerator, exp.Anonymous], str]:
    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        return gen.func(name, *e.expressions)

    return handler


INTEGER_TYPES = (
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
)


FLOAT_TYPES = (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)


def guarded(handler: Handler) -> Handler:
    """A translation rule reads its arguments by position or name; called with the wrong
    number or kind (``at_timezone(ts)``, ``transform(a, 1)``) it fails in Python. Report
    that as the user's error, naming the function, as Athena does."""

    def run(gen: DuckDBGenerator, e: exp.Expression) -> str:
        try:
            return handler(gen, e)
        except (IndexError, KeyError, ValueError, AttributeError, TypeError) as err:
            name = e.sql_name() if isinstance(e, exp.Func) else e.key
            name = e.name if isinstance(e, exp.Anonymous) else name
            raise SemanticError(
                f"unexpected arguments for function {name.lower()}: "
                f"{e.sql(dialect=READ_DIALECT)}; check the number and types of its arguments"
            ) from err

    return run


def sqlglot_default(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """sqlglot's own DuckDB output for ``e``: what a rule returns when it steps aside."""
    rule = DuckDBGenerator.TRANSFORMS.get(type(e))
    if rule is not None:
        return str(rule(gen, e))
    method = getattr(DuckDBGenerator, f"{e.key}_sql", None)
    if method is not None:
        return str(method(gen, e))
    return str(gen.function_fallback_sql(e))  # type: ignore[arg-type]
