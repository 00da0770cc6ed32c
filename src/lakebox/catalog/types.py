"""Hive / Glue type strings and their DuckDB, Arrow and Athena counterparts: the one place
that maps between type systems.

Types are parsed with sqlglot's Hive dialect. A bare ``decimal`` has Hive's scale 0 but is
widened to precision 38 on purpose: Athena users declare DynamoDB-export ids as plain
``decimal`` and expect every digit back, and DynamoDB numbers carry up to 38 digits
(sqlglot's own default, DECIMAL(18,3), would truncate them).
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import ParseError

from lakebox.errors import SemanticError

BARE_DECIMAL = (38, 0)

INSTANT_FIELD = "$instant"
ZONE_FIELD = "$zone"
"""A ``timestamp with time zone`` whose zone is not the session's runs on DuckDB as
``STRUCT("$instant" TIMESTAMPTZ, "$zone" VARCHAR)`` (see
``lakebox.engine.duckdb.rules.temporal``); a result column of a temporal type Arrow cannot
describe is a struct whose first field is named by its Trino type (``"timestamp(6)"``,
``"time(0)"``, ``"timestamp(0) with time zone"`` followed by ``"$zone"``)."""

ATHENA_TYPE_KEY = b"lakebox.athena_type"
"""Arrow field metadata: the Trino type of a result column whose Arrow type cannot say it
(``timestamp(6)``, ``timestamp(0) with time zone``); engines set it, result files print
with it."""

_MARKED = re.compile(r"^(timestamp|time)\((\d+)\)( with time zone)?$")


def temporal_marker(fields: list[str]) -> str | None:
    """The Trino type (``timestamp(6)``, ``timestamp(3) with time zone``) of a struct
    carrying a temporal value (see ``INSTANT_FIELD``), from its field names; None for any
    other struct."""
    if fields == [INSTANT_FIELD, ZONE_FIELD]:
        return "timestamp(3) with time zone"
    if not fields or len(fields) > 2:
        return None
    m = _MARKED.match(fields[0])
    if m is None or (len(fields) == 2) != bool(m.group(3)) or fields[1:] not in ([], [ZONE_FIELD]):
        return None
    return fields[0]


def precision_of(trino_type: str) -> int:
    m = re.search(r"\((\d+)\)", trino_type)
    return int(m.group(1)) if m else 3


_HIVE_NAMES: dict[exp.DType, str] = {
    exp.DType.TEXT: "string",
    exp.DType.VARCHAR: "varchar",
    exp.DType.CHAR: "char",
    exp.DType.BOOLEAN: "boolean",
    exp.DType.TINYINT: "tinyint",
    exp.DType.SMALLINT: "smallint",
    exp.DType.INT: "int",
    exp.DType.BIGINT: "bigint",
    exp.DType.FLOAT: "float",
    exp.DType.DOUBLE: "double",
    exp.DType.DECIMAL: "decimal",
    exp.DType.DATE: "date",
    exp.DType.TIMESTAMP: "timestamp",
    exp.DType.BINARY: "binary",
    exp.DType.VARBINARY: "binary",
    exp.DType.ARRAY: "array",
    exp.DType.MAP: "map",
    exp.DType.STRUCT: "struct",
}


@lru_cache(maxsize=4096)
def parse_type(text: str) -> exp.DataType:
    """Parse a Hive type string; raises SemanticError naming the type when it is invalid."""
    try:
        dt = exp.DataType.build(text.strip(), dialect="hive")
    except (ParseError, ValueError) as err:
        raise SemanticError(f"unknown or malformed type {text!r}") from err
    _check_known(dt, text)
    return dt


def _check_known(dt: exp.DataType, text: str) -> None:
    if dt.this not in _HIVE_NAMES and dt.this != exp.DType.USERDEFINED:
        raise SemanticError(f"type {text!r} is not a Hive / Athena column type")
    if dt.this == exp.DType.USERDEFINED:
        raise SemanticError(f"unknown type {text!r}")
    arity = {exp.DType.ARRAY: 1, exp.DType.MAP: 2}.get(dt.this)
    if (arity is not None and len(dt.expressions) != arity) or (
        dt.this == exp.DType.STRUCT and not dt.expressions
    ):
        raise SemanticError(f"malformed type {text!r}: unknown or missing element type")
    for child in dt.expressions:
        if dt.this == exp.DType.STRUCT and not (
            isinstance(child, exp.ColumnDef)
            and child.name
            and isinstance(child.args.get("kind"), exp.DataType)
        ):
            raise SemanticError(f"malformed type {text!r}: struct fields are name:type")
        if isinstance(child, exp.DataType):
            _check_known(child, text)
        elif isinstance(child, exp.ColumnDef) and isinstance(child.args.get("kind"), exp.DataType):
            _check_known(child.args["kind"], text)
        elif dt.this != exp.DType.DECIMAL and dt.this not in (exp.DType.CHAR, exp.DType.VARCHAR):
            # e.g. ``map<int,struct<:int>>``: sqlglot reads the nameless field as a value
            raise SemanticError(f"malformed type {text!r}: expected a type or a name:type field")


def _decimal_params(dt: exp.DataType) -> tuple[int, int]:
    try:
        params = [
            int(p.this.this) if isinstance(p.this, exp.Literal) else int(p.name)
            for p in dt.expressions
        ]
    except ValueError as err:  # decimal(20,\x000): sqlglot keeps what it cannot read as text
        raise SemanticError(f"malformed type {dt.sql('hive')!r}: {err}") from err
    if not params:
        return BARE_DECIMAL
    if len(params) == 1:
        return params[0], 0
    return params[0], params[1]


def hive_type(dt: exp.DataType) -> str:
    """Canonical Glue spelling: lower case, no spaces (``struct<a:int,b:array<string>>``)."""
    kind = dt.this
    name = _HIVE_NAMES.get(kind, kind.value.lower())
    if kind == exp.DType.DECIMAL:
        if not dt.expressions:
            return "decimal"
        p, s = _decimal_params(dt)
        return f"decimal({p},{s})"
    if kind in (exp.DType.CHAR, exp.DType.VARCHAR) and dt.expressions:
        return f"{name}({dt.expressions[0].name})"
    if kind == exp.DType.ARRAY:
        return f"array<{hive_type(_child(dt, 0))}>"
    if kind == exp.DType.MAP:
        return f"map<{hive_type(_child(dt, 0))},{hive_type(_child(dt, 1))}>"
    if kind == exp.DType.STRUCT:
        fields = ",".join(f"{f.name}:{hive_type(f.args['kind'])}" for f in dt.expressions)
        return f"struct<{fields}>"
    return name


def _child(dt: exp.DataType, index: int) -> exp.DataType:
    child = dt.expressions[index]
    assert isinstance(child, exp.DataType)
    return child


def normalize_type(text: str) -> str:
    return hive_type(parse_type(text))


@lru_cache(maxsize=4096)
def duckdb_type(text: str) -> str:
    """DuckDB type for a Hive type string."""
    return _duck(parse_type(text))


def _duck(dt: exp.DataType) -> str:
    kind = dt.this
    if kind == exp.DType.DECIMAL:
        p, s = _decimal_params(dt)
        return f"DECIMAL({p},{s})"
    if kind in (exp.DType.TEXT, exp.DType.VARCHAR, exp.DType.CHAR):
        return "VARCHAR"
    if kind == exp.DType.TIMESTAMP:
        return "TIMESTAMP"
    if kind == exp.DType.FLOAT:
        return "FLOAT"
    if kind in (exp.DType.BINARY, exp.DType.VARBINARY):
        return "BLOB"
    if kind == exp.DType.ARRAY:
        return f"{_duck(_child(dt, 0))}[]"
    if kind == exp.DType.MAP:
        return f"MAP({_duck(_child(dt, 0))}, {_duck(_child(dt, 1))})"
    if kind == exp.DType.STRUCT:
        fields = ", ".join(f'"{f.name}" {_duck(f.args["kind"])}' for f in dt.expressions)
        return f"STRUCT({fields})"
    return {
        exp.DType.BOOLEAN: "BOOLEAN",
        exp.DType.TINYINT: "TINYINT",
        exp.DType.SMALLINT: "SMALLINT",
        exp.DType.INT: "INTEGER",
        exp.DType.BIGINT: "BIGINT",
        exp.DType.DOUBLE: "DOUBLE",
        exp.DType.DATE: "DATE",
    }[kind]


def is_primitive(text: str) -> bool:
    return parse_type(text).this not in (exp.DType.ARRAY, exp.DType.MAP, exp.DType.STRUCT)


def arrow_type(text: str) -> object:
    """pyarrow DataType for a Hive type string."""
    import pyarrow as pa

    def conv(dt: exp.DataType) -> pa.DataType:
        kind = dt.this
        if kind == exp.DType.DECIMAL:
            p, s = _decimal_params(dt)
            return pa.decimal128(p, s)
        if kind == exp.DType.ARRAY:
            return pa.list_(conv(_child(dt, 0)))
        if kind == exp.DType.MAP:
            return pa.map_(conv(_child(dt, 0)), conv(_child(dt, 1)))
        if kind == exp.DType.STRUCT:
            return pa.struct([pa.field(f.name, conv(f.args["kind"])) for f in dt.expressions])
        return {
            exp.DType.TEXT: pa.string(),
            exp.DType.VARCHAR: pa.string(),
            exp.DType.CHAR: pa.string(),
            exp.DType.BOOLEAN: pa.bool_(),
            exp.DType.TINYINT: pa.int8(),
            exp.DType.SMALLINT: pa.int16(),
            exp.DType.INT: pa.int32(),
            exp.DType.BIGINT: pa.int64(),
            exp.DType.FLOAT: pa.float32(),
            exp.DType.DOUBLE: pa.float64(),
            exp.DType.DATE: pa.date32(),
            exp.DType.TIMESTAMP: pa.timestamp("us"),
            exp.DType.BINARY: pa.binary(),
            exp.DType.VARBINARY: pa.binary(),
        }[kind]

    return conv(parse_type(text))


def athena_type_name(text: str) -> str:
    """Athena's (Trino's) spelling of a Hive type: ``array(varchar)``, ``row(a integer)``."""
    return parse_type(text).sql("trino").lower()


def _scalar_names(t: object) -> tuple[str, str | None] | None:
    """(Athena result type, Hive type) of a scalar Arrow type; the Hive name is None for
    types a Hive table cannot hold, and the answer None for nested or unknown types.

    Unsigned integers widen losslessly to the next signed type (uint8 -> smallint,
    uint16 -> integer / int, uint32 -> bigint), as Athena reads unsigned Parquet columns."""
    import pyarrow as pa

    assert isinstance(t, pa.DataType)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "varchar", "string"
    if pa.types.is_boolean(t):
        return "boolean", "boolean"
    if pa.types.is_int8(t):
        return "tinyint", "tinyint"
    if pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "smallint", "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "integer", "int"
    if pa.types.is_integer(t):
        return "bigint", "bigint"
    if pa.types.is_float32(t):
        return "real", "float"
    if pa.types.is_floating(t):
        return "double", "double"
    if pa.types.is_decimal(t):
        name = f"decimal({t.precision},{t.scale})"
        return name, name
    if pa.types.is_date(t):
        return "date", "date"
    if pa.types.is_timestamp(t):
        return ("timestamp with time zone", None) if t.tz else ("timestamp", "timestamp")
    if pa.types.is_time(t):
        return "time", None
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "varbinary", "binary"
    if pa.types.is_null(t):
        return "unknown", None
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        return "interval day to second", None
    return None


def athena_type_from_arrow(t: object) -> str:
    """Athena's result type name for an Arrow column type (GetQueryResults ColumnInfo.Type),
    widening unsigned integers as :func:`hive_type_from_arrow` declares them."""
    import pyarrow as pa

    assert isinstance(t, pa.DataType)
    scalar = _scalar_names(t)
    if scalar is not None:
        return scalar[0]
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"array({athena_type_from_arrow(t.value_type)})"
    if pa.types.is_map(t):
        return f"map({athena_type_from_arrow(t.key_type)}, {athena_type_from_arrow(t.item_type)})"
    if pa.types.is_struct(t):
        marked = temporal_marker([t.field(i).name for i in range(t.num_fields)])
        if marked is not None:
            return re.sub(r"\(\d+\)", "", marked)
        inner = ", ".join(
            f"{t.field(i).name} {athena_type_from_arrow(t.field(i).type)}"
            for i in range(t.num_fields)
        )
        return f"row({inner})"
    return str(t)


def hive_type_from_arrow(t: object, column: str) -> str:
    """The Hive (Glue) type a CTAS column gets from its result type; types Hive tables
    cannot hold fail as in Athena ("Unsupported Hive type")."""
    import pyarrow as pa

    assert isinstance(t, pa.DataType)
    scalar = _scalar_names(t)
    if scalar is not None and scalar[1] is not None:
        if pa.types.is_decimal(t) and t.precision > 38:
            raise SemanticError(f"column {column!r}: decimal precision {t.precision} exceeds 38")
        return scalar[1]
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"array<{hive_type_from_arrow(t.value_type, column)}>"
    if pa.types.is_map(t):
        key = hive_type_from_arrow(t.key_type, column)
        return f"map<{key},{hive_type_from_arrow(t.item_type, column)}>"
    if pa.types.is_struct(t):
        marked = temporal_marker([t.field(i).name for i in range(t.num_fields)])
        if marked is not None:
            raise SemanticError(
                f"NOT_SUPPORTED: Unsupported Hive type: {marked} (column {column!r}); "
                "cast the column to timestamp"
            )
        fields = ",".join(
            f"{t.field(i).name.lower()}:{hive_type_from_arrow(t.field(i).type, column)}"
            for i in range(t.num_fields)
        )
        return f"struct<{fields}>"
    raise SemanticError(
        f"NOT_SUPPORTED: Unsupported Hive type: {athena_type_from_arrow(t)} (column {column!r}); "
        "cast the column to a type a Hive table can hold"
    )


_HIVE_FROM_ATHENA = {
    "varchar": "string",
    "integer": "int",
    "real": "float",
    "varbinary": "binary",
    "timestamp with time zone": "timestamp",
    "unknown": "string",
}


def hive_type_from_athena(name: str) -> str:
    """The Hive type a view column declares for an Athena result type name; nested rows and
    maps become ``string`` because view column types are informational only."""
    if name in _HIVE_FROM_ATHENA:
        return _HIVE_FROM_ATHENA[name]
    if name.startswith("array(") and name.endswith(")"):
        return f"array<{hive_type_from_athena(name[6:-1])}>"
    if name.startswith(("map(", "row(")):
        return "string"
    return name
