"""The DuckDB types of a flat Parquet schema, read from the footer's thrift bytes.

A scan needs its files' column types (to cast only where they differ from the table's).
DuckDB tells them with a ``DESCRIBE`` of a file, which costs a first query on a lake
about 5 ms, most of it DuckDB setting up its Parquet reader for one file before the query
sets it up for all of them. For the plain types every Parquet writer uses for flat tables
the answer follows from the schema elements alone, so it is read here.

Only what maps without doubt is answered: top-level columns that are not nested or
repeated, of the physical types BOOLEAN, INT32, INT64, FLOAT, DOUBLE and BYTE_ARRAY, plain
or annotated as a string, a date, a signed or unsigned integer or a decimal of at most 38
digits (also in a fixed-length array, as pyarrow and Spark write decimals). Anything else (timestamps, whose zone and unit DuckDB decides by its settings,
INT96, fixed-length arrays, UUID, JSON, enums, nested columns, duplicate names) answers
None, and the caller asks DuckDB. ``tests/engine/duckdb/formats/test_parquet_types.py``
holds the mapping against DuckDB's own ``DESCRIBE`` for files from several writers.
"""

from __future__ import annotations

from lakebox.engine.duckdb.formats.thrift import (
    T_BINARY,
    T_I32,
    T_STRUCT,
    Fields,
    read_int,
    read_list_header,
    varint,
)

#: SchemaElement fields
_TYPE, _REPETITION, _NAME, _CHILDREN, _CONVERTED, _SCALE, _PRECISION, _LOGICAL = (
    1,
    3,
    4,
    5,
    6,
    7,
    8,
    10,
)
#: physical types
_BOOLEAN, _INT32, _INT64, _FLOAT, _DOUBLE, _BYTE_ARRAY, _FIXED = 0, 1, 2, 4, 5, 6, 7
_PLAIN = {
    _BOOLEAN: "BOOLEAN",
    _INT32: "INTEGER",
    _INT64: "BIGINT",
    _FLOAT: "FLOAT",
    _DOUBLE: "DOUBLE",
    _BYTE_ARRAY: "BLOB",
}
#: converted types, by the physical type they annotate
_UTF8, _DECIMAL, _DATE = 0, 5, 6
_INTEGERS = {
    (11, _INT32): "UTINYINT",
    (12, _INT32): "USMALLINT",
    (13, _INT32): "UINTEGER",
    (14, _INT64): "UBIGINT",
    (15, _INT32): "TINYINT",
    (16, _INT32): "SMALLINT",
    (17, _INT32): "INTEGER",
    (18, _INT64): "BIGINT",
}
#: LogicalType union members that a converted type above says the same as
_LOGICAL_STRING, _LOGICAL_DECIMAL, _LOGICAL_DATE, _LOGICAL_INTEGER = 1, 5, 6, 10
_AGREES = {
    _UTF8: _LOGICAL_STRING,
    _DECIMAL: _LOGICAL_DECIMAL,
    _DATE: _LOGICAL_DATE,
    **dict.fromkeys(range(11, 19), _LOGICAL_INTEGER),
}
_REQUIRED, _OPTIONAL = 0, 1


def duckdb_columns(schema: bytes) -> list[tuple[str, str]] | None:
    """``[(name, DuckDB type)]`` of a thrift-compact ``list<SchemaElement>`` (a footer's
    schema field, list header included); None when any column is outside the plain
    types above, or the bytes do not read as a schema."""
    try:
        count, element, pos = read_list_header(schema, 0)
        if element != T_STRUCT or count < 2:
            return None
        root, pos = _element(schema, pos)
        if root is None or root.get(_CHILDREN) != count - 1:
            return None
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        for _ in range(count - 1):
            fields, pos = _element(schema, pos)
            if fields is None:
                return None
            column = _column(fields)
            if column is None or column[0].lower() in seen:
                return None
            seen.add(column[0].lower())
            out.append(column)
        return out if pos == len(schema) else None
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def _column(fields: dict[int, object]) -> tuple[str, str] | None:
    name = fields.get(_NAME)
    physical = fields.get(_TYPE)
    if not isinstance(name, str) or not name or not isinstance(physical, int):
        return None
    if fields.get(_CHILDREN) or fields.get(_REPETITION) not in (_REQUIRED, _OPTIONAL):
        return None
    converted = fields.get(_CONVERTED)
    logical = fields.get(_LOGICAL)
    if converted is not None and not isinstance(converted, int):
        return None
    if converted is None:
        if logical is not None:
            return None  # a logical type alone (a timestamp, a UUID...): DuckDB's to say
        plain = _PLAIN.get(physical)
        return (name, plain) if plain else None
    if logical is not None and logical != _AGREES.get(converted):
        return None
    if converted == _UTF8 and physical == _BYTE_ARRAY:
        return name, "VARCHAR"
    if converted == _DATE and physical == _INT32:
        return name, "DATE"
    if converted == _DECIMAL and physical in (_INT32, _INT64, _FIXED):
        precision, scale = fields.get(_PRECISION), fields.get(_SCALE)
        if not isinstance(precision, int) or not isinstance(scale, int):
            return None
        if not 0 < precision <= 38 or not 0 <= scale <= precision:
            return None
        return name, f"DECIMAL({precision},{scale})"
    integer = _INTEGERS.get((converted, physical))
    return (name, integer) if integer else None


def _element(buf: bytes, pos: int) -> tuple[dict[int, object] | None, int]:
    """One SchemaElement's fields the mapping reads (the logical type as the union member
    it holds), and the position after it."""
    found: dict[int, object] = {}
    fields = Fields(buf, pos, 1)
    for field, kind in fields:
        if field in (_TYPE, _REPETITION, _CHILDREN, _CONVERTED, _SCALE, _PRECISION):
            if kind != T_I32:
                return None, fields.pos
            found[field], fields.pos = read_int(buf, fields.pos)
        elif field == _NAME:
            if kind != T_BINARY:
                return None, fields.pos
            length, start = varint(buf, fields.pos)
            found[_NAME] = buf[start : start + length].decode("utf-8")
            fields.pos = start + length
        elif field == _LOGICAL:
            if kind != T_STRUCT:
                return None, fields.pos
            union = Fields(buf, fields.pos, 2)
            members = [member for member, _ in union]  # a union: one member set
            found[_LOGICAL] = members[0] if len(members) == 1 else -1
            fields.pos = union.pos
    return found, fields.pos
