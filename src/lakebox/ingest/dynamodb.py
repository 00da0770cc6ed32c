"""DynamoDB attribute values: plain Python <-> typed (``{"N": "1"}``) <-> Ion, and the
catalog types an export's attributes map to.

boto3's ``TypeSerializer`` is not used because it rejects floats and loses the number
text; DynamoDB numbers are kept as their decimal text end to end (up to 38 digits).
"""

from __future__ import annotations

import base64
import decimal
import re
from typing import Any

from amazon.ion.core import IonType
from amazon.ion.simple_types import IonPyList

from lakebox.errors import InvalidRequestError

Typed = dict[str, Any]
_CTX = decimal.Context(prec=100)


def number_text(value: int | float | decimal.Decimal | str) -> str:
    """DynamoDB's canonical number text: no exponent, no trailing fractional zeros."""
    d = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
    if not d.is_finite():
        raise InvalidRequestError(f"DynamoDB numbers must be finite, got {value!r}")
    if len(d.normalize(_CTX).as_tuple().digits) > 38:
        raise InvalidRequestError(f"number {value} has more than 38 significant digits")
    text = format(d.normalize(_CTX), "f")
    return text if text != "-0" else "0"


def to_typed(value: Any) -> Typed:
    """A plain JSON / Python value as a DynamoDB attribute value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | float | decimal.Decimal):
        return {"N": number_text(value)}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, set | frozenset):
        items = list(value)
        if items and all(isinstance(x, str) for x in items):
            return {"SS": sorted(items)}
        if items and all(
            isinstance(x, int | float | decimal.Decimal) and not isinstance(x, bool) for x in items
        ):
            return {"NS": sorted(number_text(x) for x in items)}
        if items and all(isinstance(x, bytes) for x in items):
            return {"BS": sorted(items)}
        raise InvalidRequestError(
            "a set must be non-empty and hold only strings, numbers or binaries"
        )
    if isinstance(value, list | tuple):
        return {"L": [to_typed(x) for x in value]}
    if isinstance(value, dict):
        return {"M": {str(k): to_typed(v) for k, v in value.items()}}
    raise InvalidRequestError(f"cannot store a {type(value).__name__} in DynamoDB")


def item_to_typed(item: dict[str, Any]) -> dict[str, Typed]:
    return {k: to_typed(v) for k, v in item.items()}


def is_typed_item(item: dict[str, Any]) -> bool:
    """True when every attribute already looks like ``{"S": ...}`` (one type key)."""
    return bool(item) and all(
        isinstance(v, dict) and len(v) == 1 and next(iter(v)) in _TYPES for v in item.values()
    )


_TYPES = {"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"}


def typed_to_json(av: Typed) -> Typed:
    """DynamoDB JSON for an export file: binaries as base64 text."""
    kind, value = next(iter(av.items()))
    if kind == "B":
        return {"B": _b64(value)}
    if kind == "BS":
        return {"BS": [_b64(x) for x in value]}
    if kind == "L":
        return {"L": [typed_to_json(x) for x in value]}
    if kind == "M":
        return {"M": {k: typed_to_json(v) for k, v in value.items()}}
    return {kind: value}


def _b64(value: bytes | str) -> str:
    return value if isinstance(value, str) else base64.b64encode(value).decode()


def _bin(value: bytes | str) -> bytes:
    return base64.b64decode(value) if isinstance(value, str) else value


def typed_to_ion(av: Typed) -> Any:
    """The Ion value DynamoDB writes: numbers as decimals, sets as annotated lists."""
    kind, value = next(iter(av.items()))
    if kind == "S":
        return value
    if kind == "N":
        return decimal.Decimal(value)
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "B":
        return _bin(value)
    if kind in ("SS", "NS", "BS"):
        members: list[Any] = (
            list(value)
            if kind == "SS"
            else [decimal.Decimal(x) for x in value]
            if kind == "NS"
            else [_bin(x) for x in value]
        )
        return IonPyList.from_value(IonType.LIST, members, (f"$dynamodb_{kind}",))
    if kind == "L":
        return [typed_to_ion(x) for x in value]
    if kind == "M":
        return {k: typed_to_ion(v) for k, v in value.items()}
    raise InvalidRequestError(f"unknown DynamoDB attribute type {kind!r}")


def typed_to_python(av: Typed) -> Any:
    kind, value = next(iter(av.items()))
    if kind == "N":
        return decimal.Decimal(value)
    if kind in ("SS",):
        return set(value)
    if kind == "NS":
        return {decimal.Decimal(x) for x in value}
    if kind == "B":
        return _bin(value)
    if kind == "BS":
        return {_bin(x) for x in value}
    if kind == "NULL":
        return None
    if kind == "L":
        return [typed_to_python(x) for x in value]
    if kind == "M":
        return {k: typed_to_python(v) for k, v in value.items()}
    return value


def item_size(item: dict[str, Typed]) -> int:
    """DynamoDB's item size rule of thumb: attribute names plus value bytes."""
    return sum(len(k.encode()) + _value_size(v) for k, v in item.items())


def _value_size(av: Typed) -> int:
    kind, value = next(iter(av.items()))
    if kind == "S":
        return len(value.encode())
    if kind == "N":
        return len(value.lstrip("-").replace(".", "")) // 2 + 1
    if kind == "B":
        return len(_bin(value))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: x}) for x in value)
    if kind == "L":
        return 3 + sum(_value_size(x) + 1 for x in value)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in value.items())
    return 0


# -- catalog types -------------------------------------------------------------------------


def _number_type(text: str) -> str:
    """``decimal(p,s)`` with exactly the digits this number needs (widened later)."""
    t = decimal.Decimal(text).as_tuple()
    exponent = t.exponent if isinstance(t.exponent, int) else 0
    scale = max(0, -exponent)
    whole = max(len(t.digits) + exponent, 1)
    return f"decimal({whole + scale},{scale})"


_DECIMAL = re.compile(r"decimal\((\d+),(\d+)\)")


class TypeInference:
    """Hive types for attributes seen across an export's items. Numbers become
    ``decimal(38,s)`` with the largest scale seen (``final_types``); attributes whose type varies become
    ``string`` (reported, since Athena cannot read mixed types as one column)."""

    def __init__(self, shape: bool = False) -> None:
        self.shape = shape
        self.types: dict[str, str] = {}
        self.conflicts: dict[str, set[str]] = {}

    def add(self, item: dict[str, Typed]) -> None:
        for name, av in item.items():
            found = json_shape(av) if self.shape else infer(av)
            if found is None:
                continue
            prev = self.types.get(name)
            merged = found if prev is None else merge(prev, found)
            if merged is None:
                assert prev is not None
                self.conflicts.setdefault(name, set()).update(
                    _DECIMAL.sub("decimal", t) for t in (prev, found)
                )
                merged = "string"
            self.types[name] = merged

    def final_types(self) -> dict[str, str]:
        """Column types: every decimal widened to precision 38 with the largest scale
        seen; when whole digits and scale together need more than 38, the scale gives way
        (fractional digits are rounded) and the attribute is reported."""
        out = {}
        for name, typ in self.types.items():

            def widen(m: re.Match[str], name: str = name) -> str:
                precision, scale = int(m.group(1)), int(m.group(2))
                if precision <= 38:
                    return f"decimal(38,{scale})"
                whole = precision - scale
                self.conflicts.setdefault(name, set()).add(
                    f"decimal({precision},{scale}) needs more than 38 digits"
                )
                return f"decimal(38,{max(0, 38 - whole)})"

            out[name] = _DECIMAL.sub(widen, typ)
        return out


def json_shape(av: Typed) -> str:
    """The Hive type a DynamoDB JSON attribute value reads as through a JSON SerDe
    (``{"N": "1"}`` -> ``struct<n:string>``); numbers stay text, as DynamoDB writes them."""
    kind, value = next(iter(av.items()))
    key = kind.lower()
    if kind in ("S", "N", "B"):
        return f"struct<{key}:string>"
    if kind in ("BOOL", "NULL"):
        return f"struct<{key}:boolean>"
    if kind in ("SS", "NS", "BS"):
        return f"struct<{key}:array<string>>"
    if kind == "L":
        inner: str | None = None
        for x in value:
            shape = json_shape(x)
            inner = shape if inner is None else merge(inner, shape)
            if inner is None:
                return "struct<l:array<string>>"
        return f"struct<l:array<{inner or 'string'}>>"
    fields = [f"{k}:{json_shape(v)}" for k, v in value.items()]
    return f"struct<m:struct<{','.join(fields)}>>" if fields else "struct<m:string>"


def infer(av: Typed) -> str | None:
    kind, value = next(iter(av.items()))
    if kind == "S":
        return "string"
    if kind == "N":
        return _number_type(value)
    if kind == "BOOL":
        return "boolean"
    if kind == "B":
        return "binary"
    if kind == "NULL":
        return None
    if kind == "SS":
        return "array<string>"
    if kind == "NS":
        inner_n: str | None = None
        for x in value:
            number = _number_type(x)
            inner_n = number if inner_n is None else merge(inner_n, number)
        return f"array<{inner_n or 'decimal(38,0)'}>"
    if kind == "BS":
        return "array<binary>"
    if kind == "L":
        inner: str | None = None
        for x in value:
            t = infer(x)
            if t is None:
                continue
            inner = t if inner is None else merge(inner, t)
            if inner is None:
                return "string"
        return f"array<{inner or 'string'}>"
    if kind == "M":
        fields = []
        for k, v in value.items():
            t = infer(v)
            if t is not None:
                fields.append(f"{k}:{t}")
        return f"struct<{','.join(fields)}>" if fields else None
    return None


def merge(a: str, b: str) -> str | None:
    if a == b:
        return a
    da, db = _DECIMAL.fullmatch(a), _DECIMAL.fullmatch(b)
    if da and db:
        scale = max(int(da.group(2)), int(db.group(2)))
        whole = max(int(da.group(1)) - int(da.group(2)), int(db.group(1)) - int(db.group(2)))
        return f"decimal({whole + scale},{scale})"
    if a.startswith("array<") and b.startswith("array<"):
        inner = merge(a[6:-1], b[6:-1])
        return f"array<{inner}>" if inner else None
    if a.startswith("struct<") and b.startswith("struct<"):
        fa, fb = _fields(a), _fields(b)
        out = dict(fa)
        for k, t in fb.items():
            if k in out:
                m = merge(out[k], t)
                if m is None:
                    return None
                out[k] = m
            else:
                out[k] = t
        return "struct<" + ",".join(f"{k}:{t}" for k, t in out.items()) + ">"
    return None


def _fields(struct: str) -> dict[str, str]:
    body, out, depth, start = struct[7:-1], {}, 0, 0
    parts = []
    for i, ch in enumerate(body):
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    for p in parts:
        if p:
            k, _, t = p.partition(":")
            out[k] = t
    return out
