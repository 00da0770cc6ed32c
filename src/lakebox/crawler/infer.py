"""Inferred column types and their widening, as the Glue crawler merges schemas.

Types form a small algebra (``HType``) rather than Hive strings so that structs can be
merged field by field: ``int`` widens to ``bigint`` then ``double``, a number meeting a
decimal gives a decimal wide enough for both, and anything else that disagrees becomes
``string``. ``null`` is the type of a value seen only as null; it yields to anything and is
written as ``string`` when nothing else was seen.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: numeric widening order; decimal sits between the integers and the floats
_NUMERIC = ("tinyint", "smallint", "int", "bigint", "decimal", "float", "double")
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class HType:
    kind: str
    fields: tuple[tuple[str, HType], ...] = ()
    element: HType | None = None
    key: HType | None = None
    precision: int = 0
    scale: int = 0

    def hive(self) -> str:
        if self.kind == "null":
            return "string"
        if self.kind == "struct":
            return "struct<" + ",".join(f"{n}:{t.hive()}" for n, t in self.fields) + ">"
        if self.kind == "array":
            assert self.element is not None
            return f"array<{self.element.hive()}>"
        if self.kind == "map":
            assert self.key is not None and self.element is not None
            return f"map<{self.key.hive()},{self.element.hive()}>"
        if self.kind == "decimal":
            return f"decimal({self.precision},{self.scale})"
        return self.kind


NULL = HType("null")
STRING = HType("string")
BOOLEAN = HType("boolean")
INT = HType("int")
BIGINT = HType("bigint")
DOUBLE = HType("double")


def struct(fields: Iterable[tuple[str, HType]]) -> HType:
    return HType("struct", tuple(fields))


def array(element: HType) -> HType:
    return HType("array", element=element)


def decimal_type(precision: int, scale: int) -> HType:
    precision = max(1, min(38, precision))
    return HType("decimal", precision=precision, scale=min(scale, precision))


def merge(a: HType, b: HType) -> HType:
    """The narrowest type that holds values of both ``a`` and ``b``."""
    if a is b or a == b:
        return a
    if a.kind == "null":
        return b
    if b.kind == "null":
        return a
    if a.kind in _NUMERIC and b.kind in _NUMERIC:
        return _merge_numeric(a, b)
    if a.kind == "struct" and b.kind == "struct":
        return merge_fields([a.fields, b.fields])
    if a.kind == "array" and b.kind == "array":
        assert a.element is not None and b.element is not None
        return array(merge(a.element, b.element))
    if a.kind == "map" and b.kind == "map":
        assert a.key and b.key and a.element and b.element
        return HType("map", key=merge(a.key, b.key), element=merge(a.element, b.element))
    if {a.kind, b.kind} == {"date", "timestamp"}:
        return HType("timestamp")
    if {a.kind, b.kind} <= {"binary", "string"}:
        return STRING if "string" in (a.kind, b.kind) else HType("binary")
    return STRING


def _merge_numeric(a: HType, b: HType) -> HType:
    if a.kind == "decimal" or b.kind == "decimal":
        if a.kind in ("float", "double") or b.kind in ("float", "double"):
            return DOUBLE
        da, db = _as_decimal(a), _as_decimal(b)
        scale = max(da.scale, db.scale)
        whole = max(da.precision - da.scale, db.precision - db.scale)
        return decimal_type(whole + scale, scale)
    return a if _NUMERIC.index(a.kind) >= _NUMERIC.index(b.kind) else b


def _as_decimal(t: HType) -> HType:
    if t.kind == "decimal":
        return t
    digits = {"tinyint": 3, "smallint": 5, "int": 10, "bigint": 19}[t.kind]
    return decimal_type(digits, 0)


def merge_fields(schemas: Iterable[Sequence[tuple[str, HType]]]) -> HType:
    """Union of struct fields in order of first appearance, types merged by name."""
    order: dict[str, HType] = {}
    for fields in schemas:
        for name, t in fields:
            order[name] = merge(order[name], t) if name in order else t
    return struct(order.items())


# -- values to types ---------------------------------------------------------------------


def json_type(value: Any) -> HType:
    """Type of one parsed JSON value (field names lower-cased: Hive's are case-insensitive)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        if _INT32[0] <= value <= _INT32[1]:
            return INT
        if _INT64[0] <= value <= _INT64[1]:
            return BIGINT
        return decimal_type(38, 0)
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, str):
        return STRING
    if isinstance(value, list):
        element = NULL
        for item in value:
            element = merge(element, json_type(item))
        return array(element)
    if isinstance(value, dict):
        return merge_fields([[(str(k).lower(), json_type(v)) for k, v in value.items()]])
    return STRING


def ion_type(value: Any) -> HType:
    """Type of one parsed Ion value (amazon-ion's simpleion objects)."""
    from amazon.ion.core import IonType

    ion_kind = getattr(value, "ion_type", None)
    if value is None or ion_kind == IonType.NULL or getattr(value, "is_null", False):
        return NULL
    if ion_kind in (IonType.SYMBOL, IonType.STRING, IonType.CLOB):
        return STRING
    if ion_kind == IonType.BLOB:
        return HType("binary")
    if ion_kind == IonType.TIMESTAMP or isinstance(value, dt.datetime):
        return HType("timestamp")
    if ion_kind == IonType.STRUCT or isinstance(value, Mapping):
        return merge_fields([[(str(k).lower(), ion_type(v)) for k, v in value.items()]])
    if ion_kind in (IonType.LIST, IonType.SEXP) or isinstance(value, list):
        element = NULL
        for item in value:
            element = merge(element, ion_type(item))
        return array(element)
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, decimal.Decimal):
        _sign, digits, exponent = value.as_tuple()
        scale = max(0, -int(exponent)) if isinstance(exponent, int) else 0
        whole = max(1, len(digits) + (int(exponent) if isinstance(exponent, int) else 0))
        return decimal_type(max(whole + scale, 1), scale) if whole + scale <= 38 else DOUBLE
    if isinstance(value, int):
        return BIGINT
    if isinstance(value, float):
        return DOUBLE
    return STRING


_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")


def text_type(value: str) -> HType:
    """Type of one delimited-text cell as Glue's CSV classifier sees it (integers are
    ``bigint``, decimals ``double``, ``true``/``false`` ``boolean``, empty is unknown)."""
    v = value.strip()
    if not v:
        return NULL
    if _INT_RE.match(v):
        return BIGINT if _INT64[0] <= int(v) <= _INT64[1] else STRING
    if _FLOAT_RE.match(v):
        return DOUBLE
    if v.lower() in ("true", "false"):
        return BOOLEAN
    return STRING


# -- Arrow and Avro schemas ----------------------------------------------------------------


def arrow_htype(t: Any) -> HType:
    """Hive type of an Arrow type, as Glue writes it for Parquet / ORC columns."""
    import pyarrow as pa

    if pa.types.is_boolean(t):
        return BOOLEAN
    if pa.types.is_int8(t):
        return HType("tinyint")
    if pa.types.is_int16(t) or pa.types.is_uint8(t):
        return HType("smallint")
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return INT
    if pa.types.is_integer(t):
        return BIGINT
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return HType("float")
    if pa.types.is_floating(t):
        return DOUBLE
    if pa.types.is_decimal(t):
        return decimal_type(t.precision, t.scale)
    if pa.types.is_date(t):
        return HType("date")
    if pa.types.is_timestamp(t):
        return HType("timestamp")
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return HType("binary")
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return array(arrow_htype(t.value_type))
    if pa.types.is_map(t):
        return HType("map", key=arrow_htype(t.key_type), element=arrow_htype(t.item_type))
    if pa.types.is_struct(t):
        return struct(
            (t.field(i).name.lower(), arrow_htype(t.field(i).type)) for i in range(t.num_fields)
        )
    if pa.types.is_dictionary(t):
        return arrow_htype(t.value_type)
    if pa.types.is_null(t):
        return NULL
    return STRING


_AVRO_PRIMITIVES = {
    "boolean": "boolean",
    "int": "int",
    "long": "bigint",
    "float": "float",
    "double": "double",
    "bytes": "binary",
    "string": "string",
    "null": "null",
}


def avro_htype(schema: Any) -> HType:
    """Hive type of a (parsed) Avro schema: optional unions collapse to their one type,
    enums are strings, logical types map to date / timestamp / decimal."""
    if isinstance(schema, str):
        return HType(_AVRO_PRIMITIVES.get(schema, "string"))
    if isinstance(schema, list):
        branches = [b for b in schema if b != "null"]
        if len(branches) == 1:
            return avro_htype(branches[0])
        out = NULL
        for b in branches:
            out = merge(out, avro_htype(b))
        return out
    if isinstance(schema, dict):
        logical = schema.get("logicalType")
        kind = schema.get("type")
        if logical == "date":
            return HType("date")
        if logical in (
            "timestamp-millis",
            "timestamp-micros",
            "local-timestamp-millis",
            "local-timestamp-micros",
        ):
            return HType("timestamp")
        if logical == "decimal":
            return decimal_type(int(schema.get("precision", 38)), int(schema.get("scale", 0)))
        if kind == "record":
            return struct((f["name"].lower(), avro_htype(f["type"])) for f in schema["fields"])
        if kind == "array":
            return array(avro_htype(schema["items"]))
        if kind == "map":
            return HType("map", key=STRING, element=avro_htype(schema["values"]))
        if kind == "enum":
            return STRING
        if kind == "fixed":
            return HType("binary")
        return avro_htype(kind)
    return STRING
