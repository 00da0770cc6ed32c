"""Trino text and binary functions that neither a DuckDB built-in nor a SQL macro can give,
as Python functions registered on each connection (``UDFS``).

Each one is here for a reason a macro cannot meet: a hash DuckDB lacks (SHA-512, CRC-32,
MurmurHash3, xxHash64, HMAC), a codec (base32, Unicode normalisation forms other than NFC,
UTF-8 decoding that replaces bad bytes), or Java semantics DuckDB has no equivalent for
(``java.util.Formatter`` for ``format``, Java-style regular expression search from a position,
American Soundex). They run per row, so they are slower than built-ins.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import hmac
import json
import re
import struct
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from lakebox.engine.duckdb.rules import text_jsonpath as jsonpath
from lakebox.javatime import DAYS, MONTHS


@dataclass(frozen=True)
class PythonFunction:
    """A Python function for DuckDB. It is registered with DuckDB's "special" null handling
    (so that it may return NULL); ``call`` gives NULL for any NULL argument itself."""

    name: str
    function: Callable[..., Any]
    parameters: tuple[str, ...]
    returns: str

    @property
    def call(self) -> Callable[..., Any]:
        """The function with NULL propagation, with as many named parameters as it takes
        (DuckDB reads the count from the signature)."""
        fn = self.function
        arity = len(self.parameters)
        if arity == 1:
            return lambda a: None if a is None else fn(a)
        if arity == 2:
            return lambda a, b: None if a is None or b is None else fn(a, b)
        if arity == 3:
            return lambda a, b, c: None if None in (a, b, c) else fn(a, b, c)
        if arity == 4:
            return lambda a, b, c, d: None if None in (a, b, c, d) else fn(a, b, c, d)
        if arity == 7:
            return lambda a, b, c, d, e, f, g: (
                None if None in (a, b, c, d, e, f, g) else fn(a, b, c, d, e, f, g)
            )
        raise ValueError(f"{self.name}: no wrapper for {arity} parameters")


class TrinoFunctionError(ValueError):
    """A Trino function rejected its input; the message names the function."""


# --------------------------------------------------------------------------- hashes

_M64 = (1 << 64) - 1


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M64


def _fmix(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & _M64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & _M64
    return k ^ (k >> 33)


def murmur3(data: bytes) -> bytes:
    """MurmurHash3 x64 128-bit with seed 0; h1 then h2, each little-endian (as Trino)."""
    c1, c2 = 0x87C37B91114253D5, 0x4CF5AD432745937F
    h1 = h2 = 0
    whole = len(data) // 16 * 16
    for i in range(0, whole, 16):
        k1, k2 = struct.unpack_from("<QQ", data, i)
        h1 ^= (_rotl((k1 * c1) & _M64, 31) * c2) & _M64
        h1 = (_rotl(h1, 27) + h2) & _M64
        h1 = (h1 * 5 + 0x52DCE729) & _M64
        h2 ^= (_rotl((k2 * c2) & _M64, 33) * c1) & _M64
        h2 = (_rotl(h2, 31) + h1) & _M64
        h2 = (h2 * 5 + 0x38495AB5) & _M64
    tail = data[whole:]
    if len(tail) > 8:
        k2 = int.from_bytes(tail[8:], "little")
        h2 ^= (_rotl((k2 * c2) & _M64, 33) * c1) & _M64
    if tail:
        k1 = int.from_bytes(tail[:8], "little")
        h1 ^= (_rotl((k1 * c1) & _M64, 31) * c2) & _M64
    h1 ^= len(data)
    h2 ^= len(data)
    h1 = (h1 + h2) & _M64
    h2 = (h2 + h1) & _M64
    h1, h2 = _fmix(h1), _fmix(h2)
    h1 = (h1 + h2) & _M64
    h2 = (h2 + h1) & _M64
    return struct.pack("<QQ", h1, h2)


_P1, _P2, _P3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
_P4, _P5 = 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5


def _xx_round(acc: int, lane: int) -> int:
    return (_rotl((acc + lane * _P2) & _M64, 31) * _P1) & _M64


def xxhash64(data: bytes) -> bytes:
    """xxHash64 with seed 0, as an 8-byte big-endian value (Trino's varbinary)."""
    n, i = len(data), 0
    if n >= 32:
        v = [(_P1 + _P2) & _M64, _P2, 0, (-_P1) & _M64]
        while i + 32 <= n:
            lanes = struct.unpack_from("<4Q", data, i)
            v = [_xx_round(a, b) for a, b in zip(v, lanes, strict=True)]
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M64
        for lane in v:
            h = ((h ^ _xx_round(0, lane)) * _P1 + _P4) & _M64
    else:
        h = _P5
    h = (h + n) & _M64
    while i + 8 <= n:
        (k,) = struct.unpack_from("<Q", data, i)
        h = (_rotl(h ^ _xx_round(0, k), 27) * _P1 + _P4) & _M64
        i += 8
    if i + 4 <= n:
        (k,) = struct.unpack_from("<I", data, i)
        h = (_rotl(h ^ ((k * _P1) & _M64), 23) * _P2 + _P3) & _M64
        i += 4
    while i < n:
        h = (_rotl(h ^ ((data[i] * _P5) & _M64), 11) * _P1) & _M64
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M64
    h ^= h >> 29
    h = (h * _P3) & _M64
    h ^= h >> 32
    return h.to_bytes(8, "big")


def _hmac(algorithm: str) -> Callable[[bytes, bytes], bytes]:
    def digest(data: bytes, key: bytes) -> bytes:
        return hmac.new(bytes(key), bytes(data), algorithm).digest()

    return digest


# --------------------------------------------------------------------------- codecs


def from_base32(text: str) -> bytes:
    try:
        return base64.b32decode(text)
    except ValueError as err:
        raise TrinoFunctionError(f"from_base32: invalid base32 input: {text!r}") from err


def from_utf8(data: bytes, replacement: str = "\ufffd") -> str:
    """Java's decoder: each malformed sequence becomes ``replacement``."""
    if len(replacement) > 1:
        raise TrinoFunctionError("from_utf8: the replacement must be one character or empty")
    parts: list[str] = []
    data = bytes(data)
    while True:
        try:
            parts.append(data.decode("utf-8"))
            return "".join(parts)
        except UnicodeDecodeError as err:
            parts.append(data[: err.start].decode("utf-8"))
            parts.append(replacement)
            data = data[err.end :]


_FORMS: dict[str, Literal["NFC", "NFD", "NFKC", "NFKD"]] = {
    "NFC": "NFC",
    "NFD": "NFD",
    "NFKC": "NFKC",
    "NFKD": "NFKD",
}


def normalize(text: str, form: str) -> str:
    return unicodedata.normalize(_FORMS[form], text)


# --------------------------------------------------------------------------- strings

_SOUNDEX = {
    c: str(d)
    for d, letters in enumerate(["AEIOUYHW", "BFPV", "CGJKQSXZ", "DT", "L", "MN", "R"])
    for c in letters
}


def soundex(text: str) -> str:
    """American Soundex as Apache Commons Codec computes it (Trino's implementation): letters
    only, H and W do not separate equal codes, vowels do."""
    letters = [c for c in text.upper() if "A" <= c <= "Z"]
    if not letters:
        return ""
    out, last = [letters[0]], _SOUNDEX[letters[0]]
    for c in letters[1:]:
        code = _SOUNDEX[c]
        if c in "HW":
            continue
        if code != "0" and code != last:
            out.append(code)
        last = code
        if len(out) == 4:
            break
    return "".join(out).ljust(4, "0")


def regexp_position(text: str, pattern: str, start: int, occurrence: int) -> int:
    """1-based position of the ``occurrence``-th match at or after ``start``; -1 if none.
    Python's ``re`` follows Java's pattern syntax (look-around, back-references) where RE2
    does not, and searching from a position keeps the text before it as context for ``\\b``."""
    if start < 1 or occurrence < 1:
        raise TrinoFunctionError("regexp_position: start and occurrence must be positive")
    try:
        compiled = re.compile(pattern)
    except re.error as err:
        raise TrinoFunctionError(f"regexp_position: invalid pattern {pattern!r}: {err}") from err
    for n, found in enumerate(compiled.finditer(text, start - 1), 1):
        if n == occurrence:
            return found.start() + 1
    return -1


# --------------------------------------------------------------------------- format()

_SPEC = re.compile(r"%(\d+\$|<)?([-#+ 0,(]*)(\d+)?(\.\d+)?([tT][a-zA-Z]|[a-zA-Z%])")


def _java_double(value: float) -> str:
    """Java's Double.toString: 123.0, 0.001, 1.0E7, 1.0E-4 (shortest digits, as repr)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    shortest = decimal.Decimal(repr(value))
    if 1e-3 <= abs(value) < 1e7:
        text = format(shortest, "f")
        return text if "." in text else text + ".0"
    sign, digits, exponent = shortest.as_tuple()
    assert isinstance(exponent, int)
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + exponent - 1
    return f"{'-' if sign else ''}{shown[0]}.{shown[1:] or '0'}E{power}"


def _group(digits: str) -> str:
    head, dot, tail = digits.partition(".")
    return f"{int(head):,}" + dot + tail


def _decimal(value: Any) -> decimal.Decimal:
    return decimal.Decimal(repr(value)) if isinstance(value, float) else decimal.Decimal(value)


def _datetime_field(value: Any, letter: str) -> str:
    if not isinstance(value, dt.date):
        raise TrinoFunctionError(f"format: %t{letter} needs a date or timestamp argument")
    when = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    fields: dict[str, Callable[[dt.datetime], str]] = {
        "A": lambda d: DAYS[d.weekday()],
        "a": lambda d: DAYS[d.weekday()][:3],
        "B": lambda d: MONTHS[d.month - 1],
        "b": lambda d: MONTHS[d.month - 1][:3],
        "h": lambda d: MONTHS[d.month - 1][:3],
        "C": lambda d: f"{d.year // 100:02d}",
        "Y": lambda d: f"{d.year:04d}",
        "y": lambda d: f"{d.year % 100:02d}",
        "j": lambda d: f"{d.timetuple().tm_yday:03d}",
        "m": lambda d: f"{d.month:02d}",
        "d": lambda d: f"{d.day:02d}",
        "e": lambda d: str(d.day),
        "H": lambda d: f"{d.hour:02d}",
        "I": lambda d: f"{(d.hour + 11) % 12 + 1:02d}",
        "k": lambda d: str(d.hour),
        "l": lambda d: str((d.hour + 11) % 12 + 1),
        "M": lambda d: f"{d.minute:02d}",
        "S": lambda d: f"{d.second:02d}",
        "L": lambda d: f"{d.microsecond // 1000:03d}",
        "p": lambda d: "am" if d.hour < 12 else "pm",
        "R": lambda d: f"{d.hour:02d}:{d.minute:02d}",
        "T": lambda d: f"{d.hour:02d}:{d.minute:02d}:{d.second:02d}",
        "D": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year % 100:02d}",
        "F": lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
    }
    if letter not in fields:
        raise TrinoFunctionError(f"format: unsupported date/time conversion %t{letter}")
    return fields[letter](when)


def _convert(spec: str, flags: str, precision: int | None, value: Any) -> str:
    kind = spec.lower()
    if kind == "t":
        raise AssertionError("handled by the caller")
    if value is None and kind not in "bs":
        return "null"
    if kind == "s":
        if value is None:
            text = "null"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float):
            text = _java_double(value)
        else:
            text = str(value)
        return text[:precision] if precision is not None else text
    if kind == "b":
        text = "false" if value is None or value is False else "true"
        return text[:precision] if precision is not None else text
    if kind == "c":
        return chr(value) if isinstance(value, int) else str(value)
    if kind in "dxo":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TrinoFunctionError(f"format: %{spec} needs an integer argument, got {value}")
        if kind == "x":
            return format(value if value >= 0 else value & _M64, "x")
        if kind == "o":
            return format(value if value >= 0 else value & _M64, "o")
        text = str(abs(value))
        return _group(text) if "," in flags else text
    if kind in "efg":
        if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
            raise TrinoFunctionError(f"format: %{spec} needs a number argument, got {value}")
        if isinstance(value, int) and not isinstance(value, bool):
            raise TrinoFunctionError(f"format: %{spec} needs a floating-point argument")
        number = abs(_decimal(value))
        places = 6 if precision is None else precision
        if kind == "f":
            text = format(
                number.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP),
                "f",
            )
            return _group(text) if "," in flags else text
        if kind == "e":
            return format(number, f".{places}e").replace("e", "e")
        return format(number, f".{places or 1}g")
    raise TrinoFunctionError(f"format: unsupported conversion %{spec}")


def _is_negative(value: Any) -> bool:
    return (
        isinstance(value, (int, float, decimal.Decimal))
        and not isinstance(value, bool)
        and (value < 0)
    )


def java_format(pattern: str, arguments_json: str, kinds: list[str]) -> str:
    """``java.util.Formatter``: %[index$][flags][width][.precision]conversion."""
    parsed = json.loads(arguments_json, parse_float=decimal.Decimal)
    values = [_argument(v, k) for v, k in zip(parsed, kinds, strict=True)]
    out: list[str] = []
    pos, ordinary, last = 0, 0, -1
    for m in _SPEC.finditer(pattern):
        if "%" in pattern[pos : m.start()]:
            raise TrinoFunctionError(f"format: malformed specifier in {pattern!r}")
        out.append(pattern[pos : m.start()])
        pos = m.end()
        index, flags, width, precision, spec = m.groups()
        if spec == "%":
            out.append("%")
            continue
        if spec == "n":
            out.append("\n")
            continue
        if index == "<":
            at = last
        elif index:
            at = int(index[:-1]) - 1
        else:
            at, ordinary = ordinary, ordinary + 1
        if not 0 <= at < len(values):
            raise TrinoFunctionError(f"format: no argument for specifier {m.group(0)!r}")
        last = at
        value = values[at]
        digits = int(precision[1:]) if precision else None
        if spec[0] in "tT":
            text = _datetime_field(value, spec[1])
        else:
            text = _convert(spec, flags, digits, value)
            if spec.lower() in "dfe" and value is not None:
                negative = _is_negative(value)
                if negative:
                    text = f"({text})" if "(" in flags else "-" + text
                elif "+" in flags:
                    text = "+" + text
                elif " " in flags:
                    text = " " + text
        if spec.isupper() or spec[0] == "T":
            text = text.upper()
        if width and len(text) < int(width):
            if "-" in flags:
                text = text.ljust(int(width))
            elif "0" in flags:
                sign = text[0] if text[:1] in "+- (" and text[:1] != "" else ""
                text = sign + text[len(sign) :].rjust(int(width) - len(sign), "0")
            else:
                text = text.rjust(int(width))
        out.append(text)
    rest = pattern[pos:]
    if "%" in rest:
        raise TrinoFunctionError(f"format: malformed specifier in {pattern!r}")
    out.append(rest)
    return "".join(out)


def _argument(value: Any, kind: str) -> Any:
    """A format() argument back in its SQL type (passed through JSON with its type name)."""
    if value is None:
        return None
    kind = kind.upper()
    if kind == "DATE":
        return dt.date.fromisoformat(value)
    if kind.startswith("TIMESTAMP"):
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if kind in ("DOUBLE", "FLOAT"):
        return float(value)
    if kind.startswith("DECIMAL"):
        return decimal.Decimal(str(value))
    return value


def format_number(value: float) -> str:
    """Trino's format_number: the integer part, divided by 1000 per unit (K, M, B, T, Q) while
    it is 1000 or more, shown with three significant digits at most (half up)."""
    number = decimal.Decimal(int(value))
    unit = ""
    for suffix in ("K", "M", "B", "T", "Q"):
        if abs(number) < 1000:
            break
        number, unit = number / 1000, suffix
    places = 2 if number < 10 else 1 if number < 100 else 0
    rounded = number.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)
    text = format(rounded, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return (text if text != "-0" else "0") + unit


def _packer(name: str, fmt: str) -> Callable[[Any], bytes]:
    return lambda value: struct.pack(fmt, value)


def _unpacker(name: str, fmt: str) -> Callable[[bytes], Any]:
    size = struct.calcsize(fmt)

    def unpack(data: bytes) -> Any:
        if len(data) != size:
            raise TrinoFunctionError(f"{name}: the input must be exactly {size} bytes")
        return struct.unpack(fmt, bytes(data))[0]

    return unpack


def _bytes(function: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    return lambda data: function(bytes(data))


UDFS: list[PythonFunction] = [
    PythonFunction("trino_sha512", _bytes(lambda b: hashlib.sha512(b).digest()), ("BLOB",), "BLOB"),
    PythonFunction("trino_crc32", _bytes(zlib.crc32), ("BLOB",), "BIGINT"),
    PythonFunction("trino_murmur3", _bytes(murmur3), ("BLOB",), "BLOB"),
    PythonFunction("trino_xxhash64", _bytes(xxhash64), ("BLOB",), "BLOB"),
    PythonFunction("trino_hmac_md5", _hmac("md5"), ("BLOB", "BLOB"), "BLOB"),
    PythonFunction("trino_hmac_sha1", _hmac("sha1"), ("BLOB", "BLOB"), "BLOB"),
    PythonFunction("trino_hmac_sha256", _hmac("sha256"), ("BLOB", "BLOB"), "BLOB"),
    PythonFunction("trino_hmac_sha512", _hmac("sha512"), ("BLOB", "BLOB"), "BLOB"),
    PythonFunction(
        "trino_to_base32", _bytes(lambda b: base64.b32encode(b).decode()), ("BLOB",), "VARCHAR"
    ),
    PythonFunction("trino_from_base32", from_base32, ("VARCHAR",), "BLOB"),
    PythonFunction("trino_from_utf8", from_utf8, ("BLOB", "VARCHAR"), "VARCHAR"),
    PythonFunction("trino_normalize", normalize, ("VARCHAR", "VARCHAR"), "VARCHAR"),
    PythonFunction("trino_soundex", soundex, ("VARCHAR",), "VARCHAR"),
    PythonFunction(
        "trino_regexp_position",
        regexp_position,
        ("VARCHAR", "VARCHAR", "BIGINT", "BIGINT"),
        "BIGINT",
    ),
    PythonFunction("trino_format", java_format, ("VARCHAR", "VARCHAR", "VARCHAR[]"), "VARCHAR"),
    PythonFunction("trino_format_number", format_number, ("DOUBLE",), "VARCHAR"),
    PythonFunction("to_big_endian_32", _packer("to_big_endian_32", ">i"), ("INTEGER",), "BLOB"),
    PythonFunction(
        "from_big_endian_32", _unpacker("from_big_endian_32", ">i"), ("BLOB",), "INTEGER"
    ),
    PythonFunction("to_big_endian_64", _packer("to_big_endian_64", ">q"), ("BIGINT",), "BLOB"),
    PythonFunction(
        "from_big_endian_64", _unpacker("from_big_endian_64", ">q"), ("BLOB",), "BIGINT"
    ),
    PythonFunction("to_ieee754_32", _packer("to_ieee754_32", ">f"), ("FLOAT",), "BLOB"),
    PythonFunction("from_ieee754_32", _unpacker("from_ieee754_32", ">f"), ("BLOB",), "FLOAT"),
    PythonFunction("to_ieee754_64", _packer("to_ieee754_64", ">d"), ("DOUBLE",), "BLOB"),
    PythonFunction("from_ieee754_64", _unpacker("from_ieee754_64", ">d"), ("BLOB",), "DOUBLE"),
]


# --------------------------------------------------------------------------- SQL/JSON


def json_exists(document: str, path: str, variables: str, on_error: str) -> bool | None:
    try:
        return bool(jsonpath.evaluate(document, path, json.loads(variables)))
    except jsonpath.PathError as err:
        return _on_error_boolean(on_error, "json_exists", err)


def _on_error_boolean(mode: str, function: str, err: Exception) -> bool | None:
    if mode == "ERROR":
        raise TrinoFunctionError(f"{function}: {err}") from err
    return {"TRUE": True, "FALSE": False}.get(mode)


def _empty_or_error(mode: str, function: str, problem: str) -> str | None:
    if mode == "ERROR":
        raise TrinoFunctionError(f"{function}: {problem}")
    return {"EMPTY ARRAY": "[]", "EMPTY OBJECT": "{}"}.get(mode)


def json_query(
    document: str,
    path: str,
    variables: str,
    wrapper: str,
    quotes: str,
    on_empty: str,
    on_error: str,
) -> str | None:
    """json_query: one JSON item as text, wrapped in an array as asked."""
    try:
        items = jsonpath.evaluate(document, path, json.loads(variables))
    except jsonpath.PathError as err:
        return _empty_or_error(on_error, "json_query", str(err))
    if not items:
        return _empty_or_error(on_empty, "json_query", "the path gave no item")
    wrap = wrapper == "UNCONDITIONAL" or (
        wrapper == "CONDITIONAL" and not (len(items) == 1 and isinstance(items[0], (list, dict)))
    )
    if wrap:
        return jsonpath.dumps(items)
    if len(items) > 1:
        return _empty_or_error(on_error, "json_query", "the path gave more than one item")
    item = items[0]
    if quotes == "OMIT" and isinstance(item, str):
        return item
    return jsonpath.dumps(item)


def json_value(document: str, path: str, variables: str) -> dict[str, str | None]:
    """json_value's outcome: kind 'value' (with the scalar as text), 'empty' or 'error' (with
    the reason); the SQL around it applies ON EMPTY / ON ERROR and RETURNING."""
    try:
        items = jsonpath.evaluate(document, path, json.loads(variables))
    except jsonpath.PathError as err:
        return {"kind": "error", "value": str(err)}
    if not items:
        return {"kind": "empty", "value": None}
    if len(items) > 1 or isinstance(items[0], (list, dict)):
        return {"kind": "error", "value": "the path did not give one scalar"}
    item = items[0]
    if item is None:
        return {"kind": "value", "value": None}
    if isinstance(item, bool):
        return {"kind": "value", "value": "true" if item else "false"}
    return {"kind": "value", "value": item if isinstance(item, str) else jsonpath.dumps(item)}


_CODECS = {"UTF8": "utf-8", "UTF16": "utf-16-le", "UTF32": "utf-32-le"}


def encode(text: str, charset: str) -> bytes:
    """A varchar as bytes in UTF-8, UTF-16 or UTF-32 (little-endian, no byte-order mark)."""
    return text.encode(_CODECS[charset])


def decode(data: bytes, charset: str) -> str:
    try:
        return bytes(data).decode(_CODECS[charset])
    except UnicodeDecodeError as err:
        raise TrinoFunctionError(f"JSON input is not valid {charset}") from err


UDFS += [
    PythonFunction("trino_json_exists", json_exists, ("VARCHAR",) * 4, "BOOLEAN"),
    PythonFunction("trino_json_query", json_query, ("VARCHAR",) * 7, "VARCHAR"),
    PythonFunction(
        "trino_json_value",
        json_value,
        ("VARCHAR", "VARCHAR", "VARCHAR"),
        "STRUCT(kind VARCHAR, value VARCHAR)",
    ),
    PythonFunction("trino_encode", encode, ("VARCHAR", "VARCHAR"), "BLOB"),
    PythonFunction("trino_decode", decode, ("BLOB", "VARCHAR"), "VARCHAR"),
]


# --------------------------------------------------------------------------- Java regexes
# DuckDB's regular expressions are RE2, which has no look-around, back-references, atomic
# groups or possessive quantifiers. Java has them; Python's ``re`` too, with the same syntax.
# The rules send a literal pattern that uses them here (RE2 would reject it).


_JAVA_NAMED_GROUP = re.compile(r"(?<!\\)\(\?<(?=[A-Za-z])")


def _compiled(pattern: str, function: str) -> re.Pattern[str]:
    """Java's pattern in Python's spelling: a named group (?<name>...) is (?P<name>...)."""
    try:
        return re.compile(_JAVA_NAMED_GROUP.sub("(?P<", pattern))
    except re.error as err:
        raise TrinoFunctionError(f"{function}: invalid pattern {pattern!r}: {err}") from err


def _match_group(found: re.Match[str], group: int, function: str) -> str | None:
    if not 0 <= group <= (found.re.groups):
        raise TrinoFunctionError(f"{function}: pattern has {found.re.groups} groups, not {group}")
    return found.group(group)


def regexp_like(text: str, pattern: str) -> bool:
    return _compiled(pattern, "regexp_like").search(text) is not None


def regexp_extract(text: str, pattern: str, group: int) -> str | None:
    found = _compiled(pattern, "regexp_extract").search(text)
    return None if found is None else _match_group(found, group, "regexp_extract")


def regexp_extract_all(text: str, pattern: str, group: int) -> list[str | None]:
    compiled = _compiled(pattern, "regexp_extract_all")
    return [_match_group(m, group, "regexp_extract_all") for m in compiled.finditer(text)]


def regexp_count(text: str, pattern: str) -> int:
    return sum(1 for _ in _compiled(pattern, "regexp_count").finditer(text))


def regexp_split(text: str, pattern: str) -> list[str]:
    """Pieces between matches (groups are not returned, unlike Python's re.split)."""
    pieces, start = [], 0
    for found in _compiled(pattern, "regexp_split").finditer(text):
        pieces.append(text[start : found.start()])
        start = found.end()
    pieces.append(text[start:])
    return pieces


_JAVA_REPLACEMENT = re.compile(r"\\(.)|\$(\d+)|\$\{(\w+)\}|(\$)")


def regexp_replace(text: str, pattern: str, replacement: str) -> str:
    """Java's replacement syntax: $n and ${name} groups, \\ escapes."""
    compiled = _compiled(pattern, "regexp_replace")

    def expand(found: re.Match[str]) -> str:
        def one(ref: re.Match[str]) -> str:
            escaped, number, name, bare = ref.groups()
            if escaped is not None:
                return str(escaped)
            if bare is not None:
                raise TrinoFunctionError("regexp_replace: a lone '$' in the replacement")
            key: int | str = int(number) if number is not None else name
            try:
                return found.group(key) or ""
            except IndexError as err:
                raise TrinoFunctionError(f"regexp_replace: no group {key} in the pattern") from err

        return _JAVA_REPLACEMENT.sub(one, replacement)

    return compiled.sub(expand, text)


UDFS += [
    PythonFunction("trino_regexp_like", regexp_like, ("VARCHAR", "VARCHAR"), "BOOLEAN"),
    PythonFunction(
        "trino_regexp_extract", regexp_extract, ("VARCHAR", "VARCHAR", "BIGINT"), "VARCHAR"
    ),
    PythonFunction(
        "trino_regexp_extract_all",
        regexp_extract_all,
        ("VARCHAR", "VARCHAR", "BIGINT"),
        "VARCHAR[]",
    ),
    PythonFunction("trino_regexp_count", regexp_count, ("VARCHAR", "VARCHAR"), "BIGINT"),
    PythonFunction("trino_regexp_split", regexp_split, ("VARCHAR", "VARCHAR"), "VARCHAR[]"),
    PythonFunction(
        "trino_regexp_replace", regexp_replace, ("VARCHAR", "VARCHAR", "VARCHAR"), "VARCHAR"
    ),
]
