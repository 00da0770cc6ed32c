"""Strings, regular expressions, URLs, JSON and conversions (CAST, format, typeof): Trino's
functions on DuckDB."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.generators.duckdb import DuckDBGenerator

from lakebox.engine.duckdb.rules import system, temporal
from lakebox.engine.duckdb.rules.base import (
    FLOAT_TYPES,
    INTEGER_TYPES,
    AnonHandler,
    Handler,
    renamed,
    sqlglot_default,
)
from lakebox.engine.duckdb.rules.text_jsonpath import PathError, compile_path, path_variables
from lakebox.engine.duckdb.rules.text_udfs import UDFS as UDFS
from lakebox.errors import SemanticError, UnsupportedError
from lakebox.sql.dialect import READ_DIALECT, TYPED_LITERAL

_BARE_BRACKET = re.compile(r"\[(?![\d*\"'\s])([^\]]+)\]")


def _bracket_names_quoted(e: exp.Expression) -> exp.Expression:
    """Trino's JSONPath takes a bare name in brackets ($.store[book]); quote it
    ($.store["book"]) so that the path parses."""
    path = e.args.get("expression")
    if isinstance(path, exp.Literal) and path.is_string and _BARE_BRACKET.search(path.this):
        quoted = exp.Literal.string(_BARE_BRACKET.sub(r'["\1"]', path.this))
        e = e.copy()
        e.set("expression", Dialect.get_or_raise(READ_DIALECT).to_json_path(quoted))
    return e


def _json_extract_scalar(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino returns NULL when the path points at an object or array; DuckDB returns its text."""
    e = _bracket_names_quoted(e)
    this, path = gen.sql(e, "this"), gen.sql(e, "expression")
    return (
        f"CASE WHEN JSON_TYPE({this}, {path}) IN ('OBJECT', 'ARRAY') THEN NULL "
        f"ELSE {this} ->> {path} END"
    )


_RE2_LACKS = re.compile(r"\(\?[=!>]|\(\?<[=!A-Za-z]|\\[1-9]|[*+?}]\+|\\[zZGh]")
"""Constructs of Java's patterns that RE2 (DuckDB) lacks or spells differently: look-around,
atomic groups, named groups, back-references, possessive quantifiers, \\Z \\G \\h."""


def _java_pattern(node: exp.Expression) -> bool:
    """A literal pattern only Java-style engines run: it goes to Python's ``re`` instead."""
    return isinstance(node, exp.Literal) and node.is_string and bool(_RE2_LACKS.search(node.this))


def _regexp_like(gen: DuckDBGenerator, e: exp.Expression) -> str:
    if _java_pattern(e.expression):
        return gen.func("trino_regexp_like", e.this, e.expression)
    return sqlglot_default(gen, e)


def _regexp_extract_all(gen: DuckDBGenerator, e: exp.Expression) -> str:
    if _java_pattern(e.expression):
        group = e.args.get("group") or exp.Literal.number(0)
        return gen.func("trino_regexp_extract_all", e.this, e.expression, group)
    return sqlglot_default(gen, e)


def _regexp_count(gen: DuckDBGenerator, e: exp.Expression) -> str:
    if _java_pattern(e.expression):
        return gen.func("trino_regexp_count", e.this, e.expression)
    return sqlglot_default(gen, e)


def _regexp_extract(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino returns NULL when nothing matches; DuckDB returns ''."""
    this, pattern = e.this, e.expression
    group = e.args.get("group") or exp.Literal.number(0)
    if _java_pattern(pattern):
        return gen.func("trino_regexp_extract", this, pattern, group)
    extract = gen.func("REGEXP_EXTRACT", this, pattern, group)
    return f"CASE WHEN {gen.func('REGEXP_MATCHES', this, pattern)} THEN {extract} END"


_JAVA_GROUP_REF = re.compile(r"\\(.)|\$(\d+)")


def _java_replacement_to_re2(text: str) -> str:
    r"""Trino (Java) writes group references as $1 and escapes with \; RE2 wants \1 and \\.
    (A replacement naming a group, ${name}, goes to Python's ``re`` instead.)"""

    def sub(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return "\\\\" if m.group(1) == "\\" else m.group(1)
        return "\\" + m.group(2)

    return _JAVA_GROUP_REF.sub(sub, text)


def _replace(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's replace with an empty search puts the replacement before every character and
    at the end; DuckDB's leaves the string as it is."""
    text, search = gen.sql(e, "this"), gen.sql(e, "expression")
    replacement = e.args.get("replacement") or exp.Literal.string("")
    new = gen.sql(replacement)
    search_node = e.expression
    if isinstance(search_node, exp.Literal) and search_node.is_string and search_node.this:
        return gen.func("REPLACE", e.this, search_node, replacement)
    characters = f"LIST_FILTER(STR_SPLIT({text}, ''), LAMBDA _c: _c <> '')"
    each = f"LIST_TRANSFORM({characters}, LAMBDA _c: _c || {new})"
    between = f"{new} || ARRAY_TO_STRING({each}, '')"
    return f"(CASE WHEN {search} = '' THEN {between} ELSE REPLACE({text}, {search}, {new}) END)"


def _split(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """split(s, d, limit): at most ``limit`` parts, the last holding the rest of the string."""
    parts = gen.func("STR_SPLIT", e.this, e.expression)
    limit = e.args.get("limit")
    if limit is None:
        return parts
    n, delimiter = gen.sql(limit), gen.sql(e, "expression")
    rest = f"ARRAY_TO_STRING({parts}[{n}:], {delimiter})"
    return (
        f"CASE WHEN LEN({parts}) <= {n} THEN {parts} "
        f"ELSE LIST_APPEND({parts}[1:{n} - 1], {rest}) END"
    )


def _split_part(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino returns NULL past the last field; DuckDB's split_part returns ''."""
    parts = gen.func("STR_SPLIT", e.this, e.args["delimiter"])
    index = gen.sql(e.args["part_index"])
    return (
        f"(CASE WHEN {index} < 1 THEN ERROR('INVALID_FUNCTION_ARGUMENT: split_part: the "
        f"index must be greater than zero') ELSE {parts}[{index}] END)"
    )


_TRINO_TYPE_NAMES = {
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "DOUBLE": "double",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "VARCHAR": "varchar",
    "DATE": "date",
    "TIMESTAMP": "timestamp(3)",
    "TIMESTAMP_MS": "timestamp(3)",
    "TIMESTAMP_S": "timestamp(0)",
    "TIMESTAMP_NS": "timestamp(9)",
    "TIMESTAMP WITH TIME ZONE": "timestamp(3) with time zone",
    "BLOB": "varbinary",
    "JSON": "json",
    '"NULL"': "unknown",
}


def _static_type_name(node: exp.Expression) -> str | None:
    """Trino's name for types DuckDB cannot tell apart at run time: a string literal is
    varchar(n) and a CHAR(n) value char(n) (DuckDB has only VARCHAR)."""
    if isinstance(node, exp.Literal) and node.is_string:
        return f"varchar({len(node.this)})"
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.IPADDRESS):
        return "ipaddress"  # carried as text (rules/system.py)
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.CHAR):
        return f"char({_char_length(node)})"
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.VARCHAR):
        size = node.to.expressions
        return f"varchar({size[0].sql()})" if size else "varchar"
    return None


def _typeof(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino spells types in lower case with its own names (real, varbinary, array(x),
    row(...)); nested element names are only lower-cased."""
    if (known := temporal.typeof_sql(gen, e)) is not None:
        return known
    static = _static_type_name(e.this)
    if static is not None:
        return exp.Literal.string(static).sql()
    kind = e.this.type
    computed_text = kind is not None and kind.is_type(*exp.DataType.TEXT_TYPES)
    if computed_text and not list(e.this.find_all(exp.Column)):
        raise UnsupportedError(
            "typeof of a computed string constant is not supported: Trino's varchar(n) "
            "length of it is not tracked"
        )
    duck = gen.func("TYPEOF", e.this)
    keys = ", ".join(f"'{k}'" for k in _TRINO_TYPE_NAMES)
    values = ", ".join(f"'{v}'" for v in _TRINO_TYPE_NAMES.values())
    spelled = f"REPLACE(LOWER({duck}), 'struct(', 'row(')"
    arrays = f"REGEXP_REPLACE({spelled}, '^(.*)\\[\\]$', 'array(\\1)')"
    nested = f"REGEXP_REPLACE({arrays}, '^array\\((.*)\\[\\]\\)$', 'array(array(\\1))')"
    return f"COALESCE(MAP([{keys}], [{values}])[{duck}], {nested})"


def _format(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's format() is Java's ``String.format`` (``%s%%``, ``%,.2f``, ``%2$s``, ``%1$tA``),
    which DuckDB's printf does not follow: the arguments go to a Python function as a JSON
    array with their DuckDB type names, so dates and decimals keep their type."""
    arguments = list(e.expressions)
    if not arguments:
        return gen.func("trino_format", e.this, exp.Literal.string("[]"), "[]::VARCHAR[]")
    values = []
    for argument in arguments:
        value = gen.sql(argument)
        # a decimal goes as its text so that 1.50 keeps its scale
        values.append(
            f"CASE WHEN TYPEOF({value}) LIKE 'DECIMAL%' THEN TO_JSON(CAST({value} AS VARCHAR)) "
            f"ELSE TO_JSON({value}) END"
        )
    kinds = "[" + ", ".join(gen.func("TYPEOF", a) for a in arguments) + "]"
    listed = "[" + ", ".join(values) + "]"
    return f"trino_format({gen.sql(e, 'this')}, CAST(TO_JSON({listed}) AS VARCHAR), {kinds})"


def _is_json(node: exp.Expression) -> bool:
    typed = node.type is not None and node.type.is_type(exp.DataType.Type.JSON)
    return typed or isinstance(node, (exp.JSONExtract, exp.ParseJSON))


def _char_length(cast: exp.Cast) -> int:
    """CHAR(n)'s n. ``CHAR 'text'`` (a typed literal, which sqlglot reads as a cast) has the
    text's length; a CHAR without a length is char(1)."""
    size = cast.to.expressions
    if size:
        return int(size[0].name)
    source = cast.this
    if cast.meta.get(TYPED_LITERAL) and isinstance(source, exp.Literal) and source.is_string:
        return len(source.this)
    return 1


def _json_to_varchar(gen: DuckDBGenerator, source: exp.Expression) -> str:
    """A JSON scalar casts to its value; Trino refuses objects and arrays."""
    value = gen.sql(source)
    return (
        f"(CASE WHEN JSON_TYPE({value}) IN ('OBJECT', 'ARRAY') "
        f"THEN ERROR('INVALID_CAST_ARGUMENT: Cannot cast JSON ' || JSON_TYPE({value}) "
        f"|| ' to varchar') ELSE {value} ->> '$' END)"
    )


def _json_to_row(gen: DuckDBGenerator, e: exp.Cast) -> str:
    """Trino casts a JSON array to a ROW by position, as well as an object by field name."""
    value = gen.sql(e.this)
    fields = []
    for i, field in enumerate(e.to.expressions):
        name = field.this if isinstance(field, exp.ColumnDef) else None
        kind = field.args.get("kind") if isinstance(field, exp.ColumnDef) else field
        if name is None or kind is None:
            return str(DuckDBGenerator.cast_sql(gen, e))
        arrow = "->>" if kind.is_type(*exp.DataType.TEXT_TYPES) else "->"
        fields.append(f"{gen.sql(name)} := CAST(({value}) {arrow} '$[{i}]' AS {gen.sql(kind)})")
    positional = f"STRUCT_PACK({', '.join(fields)})"
    by_name = str(DuckDBGenerator.cast_sql(gen, e))
    return f"(CASE WHEN JSON_TYPE({value}) = 'ARRAY' THEN {positional} ELSE {by_name} END)"


def _cast_to_bounded_varchar(gen: DuckDBGenerator, source: exp.Expression, size: str) -> str:
    """varchar(n): Trino cuts a longer string to n characters, and rejects any other value
    whose text is longer than n."""
    value = gen.sql(source)
    text = f"CAST({value} AS VARCHAR)"
    return (
        f"(CASE WHEN TYPEOF({value}) = 'VARCHAR' THEN LEFT({text}, {size}) "
        f"WHEN LENGTH({text}) > {size} THEN ERROR('INVALID_CAST_ARGUMENT: Value ' || {text} "
        f"|| ' cannot be represented as varchar({size})') ELSE {text} END)"
    )


def _cast(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Casts whose Trino meaning DuckDB's CAST does not have.

    - double -> integer rounds half away from zero (DuckDB: half to even);
    - json -> varchar gives a scalar's value, not its JSON text;
    - varchar (and other values) -> json makes a JSON value of it: a string becomes a JSON
      string (DuckDB would parse the text as JSON);
    - -> char(n) pads with spaces to n characters (DuckDB has no CHAR type), and -> varchar(n)
      cuts the text to n characters (DuckDB ignores the length).
    """
    assert isinstance(e, exp.Cast)
    if (temporal_sql := temporal.cast_sql(gen, e)) is not None:
        return temporal_sql
    if (ip_sql := system.cast_sql(gen, e)) is not None:
        return ip_sql
    source = e.this
    if e.to.is_type(*exp.DataType.TEXT_TYPES) and _is_json(source):
        return _json_to_varchar(gen, source)
    if e.to.is_type(exp.DataType.Type.STRUCT) and _is_json(source) and e.to.expressions:
        return _json_to_row(gen, e)
    if e.to.is_type(exp.DataType.Type.JSON) and not _is_json(source):
        return f"TO_JSON({gen.sql(source)})"
    if e.to.is_type(exp.DataType.Type.CHAR):
        return f"RPAD(CAST({gen.sql(source)} AS VARCHAR), {_char_length(e)}, ' ')"
    if e.to.is_type(exp.DataType.Type.VARCHAR) and e.to.expressions:
        return _cast_to_bounded_varchar(gen, source, e.to.expressions[0].sql())
    if (
        e.to.is_type(*INTEGER_TYPES)
        and source.type is not None
        and source.type.is_type(*FLOAT_TYPES)
    ):
        e = e.copy()
        e.set("this", exp.Round(this=source.copy()))
    return str(DuckDBGenerator.cast_sql(gen, e))


def _json_array_length(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Trino returns NULL for a non-array; DuckDB returns 0."""
    (value,) = e.expressions
    length = gen.func("JSON_ARRAY_LENGTH", value)
    return f"CASE WHEN {gen.func('JSON_TYPE', value)} = 'ARRAY' THEN {length} END"


_URL = (
    r"^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?(?://([^/?#:]*)(?::(\d+))?)?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$"
)
"""RFC 3986 appendix B, split further into host and port: groups protocol, host, port, path,
query, fragment — what Trino's url_extract_* return."""


def _url_part(group: int) -> Callable[[DuckDBGenerator, exp.Anonymous], str]:
    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        (url,) = e.expressions
        part = gen.func("REGEXP_EXTRACT", url, exp.Literal.string(_URL), exp.Literal.number(group))
        if group == 3:
            return f"TRY_CAST(NULLIF({part}, '') AS BIGINT)"
        if group in (2, 4):
            return part
        return f"NULLIF({part}, '')"

    return handler


def _url_extract_parameter(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """First value of a query-string parameter, NULL when absent (no percent-decoding)."""
    url, name = e.expressions
    query = _url_part(5)(gen, exp.Anonymous(this="url_extract_query", expressions=[url]))
    pattern = f"'(?:^|&)' || {gen.sql(name)} || '=([^&]*)'"
    return (
        f"CASE WHEN REGEXP_MATCHES({query}, {pattern}) "
        f"THEN REGEXP_EXTRACT({query}, {pattern}, 1) END"
    )


def _is_binary(node: exp.Expression) -> bool:
    kind = node.type
    binary = kind is not None and kind.is_type(
        exp.DataType.Type.BINARY, exp.DataType.Type.VARBINARY, exp.DataType.Type.BLOB
    )
    made = (exp.Encode, exp.Unhex, exp.FromBase64, exp.FromBase32, exp.SHA, exp.SHA2Digest)
    named = isinstance(node, exp.Anonymous) and node.name.lower() in _BINARY_FUNCTIONS
    return binary or named or isinstance(node, (*made, exp.MD5Digest))


_BINARY_FUNCTIONS = frozenset(
    {
        "from_base64url", "hmac_md5", "hmac_sha1", "hmac_sha256", "hmac_sha512", "murmur3",
        "xxhash64", "to_big_endian_32", "to_big_endian_64", "to_ieee754_32", "to_ieee754_64",
    }
)  # fmt: skip
"""Trino functions that return varbinary and that sqlglot keeps as plain calls."""


def _length(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """length() counts bytes of a varbinary, characters of a varchar."""
    if _is_binary(e.this):
        return gen.func("OCTET_LENGTH", e.this)
    return gen.func("LENGTH", e.this)


def _substring(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's substr gives '' for a start of 0, a start before the beginning or past the
    end, and a negative length (DuckDB counts from the start or backwards instead). Of a
    varbinary it counts bytes (DuckDB's substring takes no BLOB): the same slice of its hex
    text, two digits a byte."""
    data, start, length = gen.sql(e, "this"), gen.sql(e, "start"), e.args.get("length")
    count = gen.sql(length) if length is not None else None
    if _is_binary(e.this):
        size, empty = f"OCTET_LENGTH({data})", "''::BLOB"
        begin = f"(CASE WHEN {start} < 0 THEN {size} + {start} + 1 ELSE {start} END)"
        pairs = f", {count} * 2" if count is not None else ""
        sliced = f"UNHEX(SUBSTRING(HEX({data}), ({begin} - 1) * 2 + 1{pairs}))"
    else:
        size, empty = f"LENGTH({data})", "''"
        sliced = gen.func("SUBSTRING", e.this, e.args["start"], length)
    outside = f"{start} = 0 OR -({start}) > {size}"
    if count is not None:
        outside += f" OR {count} < 0"
    return f"(CASE WHEN {outside} THEN {empty} ELSE {sliced} END)"


def _pad(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """lpad / rpad of a varbinary pad bytes (DuckDB's pads take no BLOB): the same padding of
    its hex text, two digits a byte, so the pad repeats whole bytes."""
    if not _is_binary(e.this):
        return sqlglot_default(gen, e)
    name = "LPAD" if e.args.get("is_left") else "RPAD"
    size, fill = gen.sql(e, "expression"), e.args.get("fill_pattern")
    if fill is None:
        raise ValueError("lpad / rpad of varbinary need a pad value")
    padded = f"{name}(HEX({gen.sql(e, 'this')}), ({size}) * 2, {gen.func('HEX', fill)})"
    return f"UNHEX({padded})"


def _is_char(node: exp.Expression) -> bool:
    return node.type is not None and node.type.is_type(exp.DataType.Type.CHAR)


def _char_comparison(kind: type[exp.Expression]) -> Handler:
    """Comparisons: zoned timestamps compare their instants (``temporal.compare_sql``); a
    comparison with a char(n) value pads the shorter side with spaces (Trino): the same
    as comparing both sides without their trailing spaces, since DuckDB's value is a
    padded varchar."""
    method = getattr(DuckDBGenerator, f"{kind.key}_sql")

    def handler(gen: DuckDBGenerator, e: exp.Expression) -> str:
        if (zoned := temporal.compare_sql(gen, e)) is not None:
            return zoned
        if (addresses := system.compare_sql(gen, e)) is not None:
            return addresses
        if not (_is_char(e.this) or _is_char(e.expression)):
            return str(method(gen, e))
        e = e.copy()
        for side in ("this", "expression"):
            e.set(side, exp.func("RTRIM", e.args[side], exp.Literal.string(" ")))
        return str(method(gen, e))

    return handler


def _reverse(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """reverse() takes strings, arrays and varbinary in Trino; DuckDB's reverse only strings."""
    kind = e.this.type
    if kind is not None and kind.is_type(exp.DataType.Type.ARRAY):
        return gen.func("LIST_REVERSE", e.this)
    if _is_binary(e.this):
        pairs = f"REGEXP_EXTRACT_ALL({gen.func('HEX', e.this)}, '..')"
        return f"UNHEX(ARRAY_TO_STRING(LIST_REVERSE({pairs}), ''))"
    return gen.func("REVERSE", e.this)


def _from_base64(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Java's base64 decoder accepts text without its '=' padding; DuckDB's does not."""
    text = gen.sql(e, "this")
    return f"FROM_BASE64({text} || REPEAT('=', (4 - LENGTH({text}) % 4) % 4))"


def _strpos(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """strpos(s, sub, n): the n-th occurrence, from the end when n is negative."""
    occurrence = e.args.get("occurrence")
    if occurrence is None:
        return gen.func("STRPOS", e.this, e.args["substr"])
    return gen.func("trino_strpos", e.this, e.args["substr"], occurrence)


def _decode(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """from_utf8: Trino replaces invalid UTF-8 (with U+FFFD or the given character) where
    DuckDB's decode fails."""
    replacement = e.args.get("replace") or exp.Literal.string("\ufffd")
    return gen.func("trino_from_utf8", e.this, replacement)


def _normalize(gen: DuckDBGenerator, e: exp.Expression) -> str:
    form = e.args.get("form")
    name = form.name.upper() if isinstance(form, exp.Expression) else "NFC"
    if name not in ("NFC", "NFD", "NFKC", "NFKD"):
        raise UnsupportedError(f"normalize: unknown normalization form {name}")
    if name == "NFC":
        return gen.func("NFC_NORMALIZE", e.this)
    return gen.func("trino_normalize", e.this, exp.Literal.string(name))


def _sha2(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """sha256 / sha512 return varbinary in Trino; DuckDB's sha256 returns hex text."""
    bits = e.args.get("length")
    if bits is not None and bits.name == "512":
        return gen.func("trino_sha512", e.this)
    return f"UNHEX({gen.func('SHA256', e.this)})"


def _regexp_split(gen: DuckDBGenerator, e: exp.Expression) -> str:
    name = "trino_regexp_split" if _java_pattern(e.expression) else "REGEXP_SPLIT_TO_ARRAY"
    return gen.func(name, e.this, e.expression)


def _pattern_groups(pattern: exp.Expression, function: str) -> int:
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise UnsupportedError(f"{function} with a lambda needs a literal pattern")
    try:
        return re.compile(pattern.this).groups
    except re.error as err:
        raise UnsupportedError(f"{function}: cannot read the pattern {pattern.this!r}") from err


def _regexp_replace_lambda(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """regexp_replace(s, pattern, x -> ...): the text between matches, each match replaced by
    the lambda applied to the array of its capturing groups."""
    text, pattern, lam = e.this, e.expression, e.args["replacement"]
    groups = _pattern_groups(pattern, "regexp_replace")
    pieces = gen.func("REGEXP_SPLIT_TO_ARRAY", text, pattern)
    extracted = [
        gen.func("REGEXP_EXTRACT_ALL", text, pattern, exp.Literal.number(g))
        for g in range(1, groups + 1)
    ]
    captured = "[" + ", ".join(f"{x}[_i]" for x in extracted) + "]"
    params = ", ".join(gen.sql(p) for p in lam.expressions)
    applied = f"LIST_TRANSFORM([{captured}], LAMBDA {params}: {gen.sql(lam, 'this')})[1]"
    part = f"{pieces}[_i] || CASE WHEN _i < LEN({pieces}) THEN COALESCE({applied}, '') ELSE '' END"
    return f"ARRAY_TO_STRING(LIST_TRANSFORM(RANGE(1, LEN({pieces}) + 1), LAMBDA _i: {part}), '')"


def _regexp_replace(gen: DuckDBGenerator, e: exp.Expression) -> str:
    replacement = e.args.get("replacement") or exp.Literal.string("")
    if isinstance(replacement, exp.Lambda):
        if _java_pattern(e.expression):
            raise UnsupportedError(
                "regexp_replace with a lambda and a pattern using look-around, "
                "back-references or possessive quantifiers is not supported"
            )
        return _regexp_replace_lambda(gen, e)
    named_reference = isinstance(replacement, exp.Literal) and "${" in replacement.this
    if _java_pattern(e.expression) or named_reference:
        return gen.func("trino_regexp_replace", e.this, e.expression, replacement)
    if isinstance(replacement, exp.Literal) and replacement.is_string:
        replacement = exp.Literal.string(_java_replacement_to_re2(replacement.this))
    return gen.func("REGEXP_REPLACE", e.this, e.expression, replacement, exp.Literal.string("g"))


def _regexp_position(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    args = list(e.expressions)
    if not 2 <= len(args) <= 4:
        raise ValueError("regexp_position takes 2 to 4 arguments")
    start = args[2] if len(args) > 2 else exp.Literal.number(1)
    occurrence = args[3] if len(args) > 3 else exp.Literal.number(1)
    return gen.func("trino_regexp_position", args[0], args[1], start, occurrence)


def _json_parse(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """json_parse / JSON '...': invalid JSON text fails naming the function."""
    text = gen.sql(e, "this")
    return (
        f"(CASE WHEN JSON_VALID({text}) THEN JSON({text}) "
        f"ELSE ERROR('INVALID_FUNCTION_ARGUMENT: json_parse: cannot convert ' || {text} "
        f"|| ' to JSON') END)"
    )


def _json_format(gen: DuckDBGenerator, e: exp.Expression) -> str:
    return f"CAST({gen.sql(e, 'this')} AS VARCHAR)"


def _json_member(gen: DuckDBGenerator, value: exp.Expression, charset: str = "UTF8") -> str:
    """A json_array element or json_object value as JSON text: an SQL value converted, a
    FORMAT JSON value (or a json_query result) parsed, FORMAT JSON bytes decoded first."""
    if isinstance(value, exp.FormatJson):
        options = value.args.get("options") or []
        if options:
            charset = options[0].name.upper()
        inner = value.this
        text = gen.sql(inner)
        if _is_binary(inner):
            text = f"trino_decode({text}, {exp.Literal.string(charset).sql()})"
        return f"CAST(JSON({text}) AS VARCHAR)"
    if isinstance(value, exp.JSONExtract) and value.args.get("json_query"):
        return f"CAST(JSON({gen.sql(value)}) AS VARCHAR)"
    return f"CAST(TO_JSON({gen.sql(value)}) AS VARCHAR)"


def _json_array(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """SQL/JSON json_array: nulls left out (ABSENT ON NULL, Trino's default) or written as
    null (NULL ON NULL); RETURNING varchar or varbinary."""
    members = [_json_member(gen, v) for v in e.expressions]
    listed = f"[{', '.join(members)}]" if members else "[]::VARCHAR[]"
    if e.args.get("null_handling") == "NULL ON NULL":
        listed = f"LIST_TRANSFORM({listed}, LAMBDA _m: COALESCE(_m, 'null'))"
    else:
        listed = f"LIST_FILTER({listed}, LAMBDA _m: _m IS NOT NULL)"
    return _json_returning(gen, e, f"CONCAT('[', ARRAY_TO_STRING({listed}, ','), ']')")


def _json_object(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """SQL/JSON json_object: NULL ON NULL by default, ABSENT ON NULL leaves the member out,
    WITH UNIQUE KEYS fails on a repeated key, RETURNING varchar or varbinary (UTF-8, -16,
    -32). A value given FORMAT JSON (or from json_query) is JSON text, parsed."""
    keys: list[str] = []
    values: list[str] = []
    encoding = e.args.get("encoding")
    charset = encoding.name.upper() if isinstance(encoding, exp.Expression) else "UTF8"
    binary_inputs = False
    for pair in e.expressions:
        formatted = isinstance(pair, exp.FormatJson)
        member = pair.this if formatted else pair
        value = exp.FormatJson(this=member.expression) if formatted else member.expression
        binary_inputs = binary_inputs or (formatted and _is_binary(member.expression))
        keys.append(gen.sql(member, "this"))
        values.append(_json_member(gen, value, charset))
    entries = ", ".join(f"{{'key': {k}, 'value': {v}}}" for k, v in zip(keys, values, strict=True))
    members = f"[{entries}]" if entries else "[]::STRUCT(key VARCHAR, value VARCHAR)[]"
    if e.args.get("null_handling") == "ABSENT ON NULL":
        members = f"LIST_FILTER({members}, LAMBDA _m: _m.value IS NOT NULL)"
    body = (
        "CONCAT('{', ARRAY_TO_STRING(LIST_TRANSFORM("
        f"{members}, LAMBDA _m: TO_JSON(_m.key) || ':' || COALESCE(_m.value, 'null')"
        "), ','), '}')"
    )
    if e.args.get("unique_keys"):
        listed = "[" + ", ".join(keys) + "]"
        body = (
            f"CASE WHEN LEN(LIST_DISTINCT({listed})) < LEN({listed}) THEN "
            "ERROR('INVALID_FUNCTION_ARGUMENT: duplicate key passed to JSON_OBJECT function') "
            f"ELSE {body} END"
        )
    return _json_returning(gen, e, body, binary_inputs)


def _json_returning(
    gen: DuckDBGenerator, e: exp.Expression, text: str, encoded_inputs: bool = False
) -> str:
    """JSON text as json_array / json_object's RETURNING clause asks (JSON by default)."""
    target = e.args.get("return_type")
    encoding = e.args.get("encoding")
    if not target:
        if encoding and not encoded_inputs:
            raise UnsupportedError("JSON function: an ENCODING without RETURNING is not supported")
        return f"JSON({text})"
    if isinstance(target, exp.FormatJson):
        target = target.this
    name = target.name.upper()
    if name in ("VARCHAR", "CHAR"):
        return f"CAST({text} AS VARCHAR)"
    if name == "VARBINARY":
        charset = encoding.name.upper() if isinstance(encoding, exp.Expression) else "UTF8"
        return f"trino_encode({text}, {exp.Literal.string(charset).sql()})"
    raise UnsupportedError(f"JSON function: RETURNING {name} is not supported")


def _json_text(gen: DuckDBGenerator, node: exp.Expression) -> str:
    return f"CAST({gen.sql(node)} AS VARCHAR)"


def _path_literal(
    node: exp.Expression | None, function: str, passing: exp.Expression | None = None
) -> exp.Expression:
    """The path, checked: it must parse, and every $variable must be given by PASSING."""
    if not (isinstance(node, exp.Literal) and node.is_string):
        raise UnsupportedError(f"{function}: the JSON path must be a string literal")
    try:
        compile_path(node.this)
    except PathError as err:
        raise SemanticError(f"{function}: invalid JSON path {node.this!r}: {err}") from err
    given = {pair.expressions[0].this for pair in _variables(passing)}
    for name in path_variables(node.this):
        if name not in given:
            raise SemanticError(f"{function}: no value passed for ${name} in {node.this!r}")
    return node


def _variables(passing: exp.Expression | None) -> list[exp.Expression]:
    return list(passing.expressions) if isinstance(passing, exp.Tuple) else []


def _passing(gen: DuckDBGenerator, e: exp.Expression, passing: exp.Expression | None) -> str:
    """PASSING values as a JSON object text, by variable name ('{}' when there are none)."""
    variables = _variables(passing)
    if not variables:
        return "'{}'"
    fields = []
    for pair in variables:
        name, value = pair.expressions
        text = (
            f"JSON({gen.sql(value.this)})" if isinstance(value, exp.FormatJson) else gen.sql(value)
        )
        fields.append(f"{name.sql()}: {text}")
    return f"CAST(TO_JSON({{{', '.join(fields)}}}) AS VARCHAR)"


def _condition(e: exp.Expression, which: str) -> exp.Expression | str | None:
    """The ON EMPTY / ON ERROR behaviour: a keyword ('NULL', 'ERROR', 'EMPTY ARRAY'...), a
    DEFAULT expression, or None when not given."""
    condition = e.args.get("on_condition")
    value = condition.args.get(which) if condition is not None else None
    if value is None:
        return None
    if isinstance(value, str):
        return value.upper().rsplit(" ON ", 1)[0].strip()
    if isinstance(value, exp.Var):
        return value.name.upper().rsplit(" ON ", 1)[0].strip()
    return value


def _json_query(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """json_query: the SQL/JSON path runs in Python (lax/strict, filters, last, wrappers)."""
    path = _path_literal(e.expression, "json_query", e.args.get("passing"))
    option = e.args.get("option")
    text = option.name.upper() if isinstance(option, exp.Expression) else ""
    wrapper = "WITHOUT"
    if text.startswith("WITH ") or text == "WITH ARRAY WRAPPER":
        wrapper = "CONDITIONAL" if "CONDITIONAL" in text.split() else "UNCONDITIONAL"
    quote = e.args.get("quote")
    quotes = quote.args.get("option", "KEEP").upper() if quote is not None else "KEEP"
    modes = []
    for which in ("empty", "error"):
        mode = _condition(e, which) or "NULL"
        if not isinstance(mode, str) or mode not in (
            "NULL",
            "ERROR",
            "EMPTY ARRAY",
            "EMPTY OBJECT",
        ):
            raise UnsupportedError(f"json_query: ON {which.upper()} {mode} is not supported")
        modes.append(exp.Literal.string(mode).sql())
    args = [
        _json_text(gen, e.this),
        path.sql(),
        _passing(gen, e, e.args.get("passing")),
        exp.Literal.string(wrapper).sql(),
        exp.Literal.string(str(quotes)).sql(),
        *modes,
    ]
    return f"trino_json_query({', '.join(args)})"


def _json_value(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """json_value: one scalar, cast to RETURNING's type; ON EMPTY and ON ERROR give NULL,
    fail, or a DEFAULT expression."""
    path = _path_literal(e.args.get("path"), "json_value", e.args.get("passing"))
    returning = e.args.get("returning")
    target = returning if isinstance(returning, exp.DataType) else exp.DataType.build("VARCHAR")

    def as_target(value: str) -> str:
        if target.is_type(exp.DataType.Type.CHAR):
            size = target.expressions[0].name if target.expressions else "1"
            return f"RPAD({value}, {size}, ' ')"
        return f"TRY_CAST({value} AS {gen.sql(target)})"

    def behaviour(which: str, reason: str) -> str:
        mode = _condition(e, which)
        if mode is None or mode == "NULL":
            return "NULL"
        if mode == "ERROR":
            return f"ERROR('INVALID_FUNCTION_ARGUMENT: json_value: ' || {reason})"
        if isinstance(mode, exp.Expression):
            return as_target(gen.sql(mode))
        raise UnsupportedError(f"json_value: ON {which.upper()} {mode} is not supported")

    variables = _passing(gen, e, e.args.get("passing"))
    found = f"trino_json_value({_json_text(gen, e.this)}, {path.sql()}, {variables})"
    value = as_target("_v.value")
    body = (
        f"CASE WHEN _v.kind = 'empty' THEN {behaviour('empty', repr('the path gave no item'))} "
        f"WHEN _v.kind = 'error' OR (_v.value IS NOT NULL AND {value} IS NULL) "
        f"THEN {behaviour('error', '_v.value')} ELSE {value} END"
    )
    return f"LIST_TRANSFORM([{found}], LAMBDA _v: {body})[1]"


def _json_exists(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """json_exists: whether the path finds anything; ON ERROR gives TRUE, FALSE (default),
    UNKNOWN (null) or fails."""
    document, path, *rest = e.expressions
    mode = rest[0].name.upper() if rest else "FALSE"
    passing = rest[1] if len(rest) > 1 else None
    _path_literal(path, "json_exists", passing)
    variables = _passing(gen, e, passing)
    if isinstance(document, exp.FormatJson):
        document = document.this
    return (
        f"trino_json_exists({_json_text(gen, document)}, {gen.sql(path)}, {variables}, "
        f"{exp.Literal.string(mode).sql()})"
    )


def _json_extract(gen: DuckDBGenerator, e: exp.Expression) -> str:
    if e.args.get("json_query"):
        return _json_query(gen, e)
    return str(DuckDBGenerator.TRANSFORMS[exp.JSONExtract](gen, _bracket_names_quoted(e)))


TRANSFORMS: dict[type[exp.Expression], Handler] = {
    exp.Cast: _cast,
    exp.Decode: _decode,
    **{
        kind: _char_comparison(kind) for kind in (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
    },
    exp.Format: _format,
    exp.FromBase32: lambda gen, e: gen.func("trino_from_base32", e.this),
    exp.FromBase64: _from_base64,
    exp.JSONArray: _json_array,
    exp.JSONArrayContains: lambda gen, e: gen.func(
        "trino_json_array_contains", e.this, e.expression
    ),
    exp.JSONExtract: _json_extract,
    exp.JSONExtractScalar: _json_extract_scalar,
    exp.JSONFormat: _json_format,
    exp.JSONObject: _json_object,
    exp.JSONValue: _json_value,
    exp.Length: _length,
    exp.Normalize: _normalize,
    exp.Pad: _pad,
    exp.ParseJSON: _json_parse,
    exp.RegexpCount: _regexp_count,
    exp.RegexpExtract: _regexp_extract,
    exp.RegexpExtractAll: _regexp_extract_all,
    exp.RegexpLike: _regexp_like,
    exp.RegexpReplace: _regexp_replace,
    exp.RegexpSplit: _regexp_split,
    exp.Replace: _replace,
    exp.Reverse: _reverse,
    exp.SHA: lambda gen, e: f"UNHEX({gen.func('SHA1', e.this)})",
    exp.SHA2Digest: _sha2,
    exp.Soundex: lambda gen, e: gen.func("trino_soundex", e.this),
    exp.Split: _split,
    exp.SplitPart: _split_part,
    exp.StrPosition: _strpos,
    exp.StrToMap: lambda gen, e: gen.func(
        "trino_split_to_map", e.this, e.args["pair_delim"], e.args["key_value_delim"]
    ),
    exp.Substring: _substring,
    exp.ToBase32: lambda gen, e: gen.func("trino_to_base32", e.this),
    exp.Typeof: _typeof,
}

ANONYMOUS: dict[str, AnonHandler] = {
    "codepoint": renamed("trino_codepoint"),
    "crc32": renamed("trino_crc32"),
    "format_number": renamed("trino_format_number"),
    "from_base32": renamed("trino_from_base32"),
    "from_base64url": renamed("trino_from_base64url"),
    "hamming_distance": renamed("trino_hamming_distance"),
    "hmac_md5": renamed("trino_hmac_md5"),
    "hmac_sha1": renamed("trino_hmac_sha1"),
    "hmac_sha256": renamed("trino_hmac_sha256"),
    "hmac_sha512": renamed("trino_hmac_sha512"),
    "is_json_scalar": renamed("trino_is_json_scalar"),
    "json_array_get": renamed("trino_json_array_get"),
    "json_array_length": _json_array_length,
    "json_exists": _json_exists,
    "json_size": renamed("trino_json_size"),
    "luhn_check": renamed("trino_luhn_check"),
    "murmur3": renamed("trino_murmur3"),
    "parse_data_size": renamed("trino_parse_data_size"),
    "regexp_position": _regexp_position,
    "split_to_multimap": renamed("trino_split_to_multimap"),
    "to_base32": renamed("trino_to_base32"),
    "to_base64url": renamed("trino_to_base64url"),
    "url_decode": renamed("trino_url_decode"),
    "url_encode": renamed("trino_url_encode"),
    "url_extract_fragment": _url_part(6),
    "url_extract_host": _url_part(2),
    "url_extract_parameter": _url_extract_parameter,
    "url_extract_path": _url_part(4),
    "url_extract_port": _url_part(3),
    "url_extract_protocol": _url_part(1),
    "url_extract_query": _url_part(5),
    "xxhash64": renamed("trino_xxhash64"),
}

_DATA_SIZE_UNITS = ", ".join(
    f"'{u}'" for u in ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
)

MACROS: list[str] = [
    # Luhn: from the right, every second digit doubled (minus 9 past 9); valid when the sum
    # is a multiple of 10. Trino rejects anything but digits.
    """CREATE OR REPLACE MACRO trino_luhn_check(s) AS CASE
        WHEN NOT REGEXP_FULL_MATCH(s, '[0-9]+')
        THEN ERROR('INVALID_FUNCTION_ARGUMENT: luhn_check: the input must be digits only')
        ELSE LIST_SUM(LIST_TRANSFORM(RANGE(LENGTH(s)), LAMBDA i:
            CASE WHEN i % 2 = 0 THEN CAST(REVERSE(s)[i + 1] AS INTEGER)
                 WHEN CAST(REVERSE(s)[i + 1] AS INTEGER) * 2 > 9
                 THEN CAST(REVERSE(s)[i + 1] AS INTEGER) * 2 - 9
                 ELSE CAST(REVERSE(s)[i + 1] AS INTEGER) * 2 END)) % 10 = 0 END""",
    """CREATE OR REPLACE MACRO trino_codepoint(s) AS CASE WHEN LENGTH(s) <> 1
        THEN ERROR('INVALID_FUNCTION_ARGUMENT: codepoint: the input must be a single character')
        ELSE UNICODE(s) END""",
    # Java's URLEncoder: space as '+', '*' kept, '~' encoded (DuckDB's url_encode differs
    # on exactly these three).
    """CREATE OR REPLACE MACRO trino_url_encode(s) AS
        REPLACE(REPLACE(REPLACE(URL_ENCODE(s), '%20', '+'), '%2A', '*'), '~', '%7E')""",
    # Java's URLDecoder: '+' is a space; a '%' not followed by two hex digits is an error.
    """CREATE OR REPLACE MACRO trino_url_decode(s) AS CASE
        WHEN REGEXP_MATCHES(s, '%([^0-9A-Fa-f]|[0-9A-Fa-f][^0-9A-Fa-f]|[0-9A-Fa-f]?$)')
        THEN ERROR('INVALID_FUNCTION_ARGUMENT: url_decode: malformed escape in ' || s)
        ELSE URL_DECODE(REPLACE(s, '+', ' ')) END""",
    """CREATE OR REPLACE MACRO trino_hamming_distance(a, b) AS CASE
        WHEN LENGTH(a) <> LENGTH(b)
        THEN ERROR('INVALID_FUNCTION_ARGUMENT: The input strings to hamming_distance '
                   || 'function must have the same length')
        ELSE CAST(HAMMING(a, b) AS BIGINT) END""",
    """CREATE OR REPLACE MACRO trino_to_base64url(b) AS
        REPLACE(REPLACE(TO_BASE64(b), '+', '-'), '/', '_')""",
    """CREATE OR REPLACE MACRO trino_from_base64url(s) AS
        FROM_BASE64(REPLACE(REPLACE(s, '-', '+'), '_', '/'))""",
    # strpos(s, sub, n): the n-th (overlapping) occurrence; a negative n counts from the end,
    # found as the |n|-th occurrence of the reversed substring in the reversed string.
    """CREATE OR REPLACE MACRO trino_strpos_forward(s, sub, n) AS
        LIST_REDUCE(RANGE(n), LAMBDA acc, _x: CASE
            WHEN acc < 0 THEN acc
            WHEN STRPOS(SUBSTRING(s, acc + 1), sub) = 0 THEN -1
            ELSE acc + STRPOS(SUBSTRING(s, acc + 1), sub) END, 0)""",
    """CREATE OR REPLACE MACRO trino_strpos(s, sub, n) AS CASE
        WHEN n = 0 THEN ERROR('INVALID_FUNCTION_ARGUMENT: strpos: the instance must not be 0')
        WHEN n > 0 AND trino_strpos_forward(s, sub, n) < 0 THEN 0
        WHEN n > 0 THEN trino_strpos_forward(s, sub, n)
        WHEN trino_strpos_forward(REVERSE(s), REVERSE(sub), -n) <= 0 THEN 0
        ELSE LENGTH(s) - trino_strpos_forward(REVERSE(s), REVERSE(sub), -n)
             - LENGTH(sub) + 2 END""",
    # split_to_map / split_to_multimap: entries split on one delimiter, each split once on
    # the other; Trino rejects an entry without exactly one key-value delimiter, and (for
    # split_to_map) a repeated key. Keys keep their first-seen order.
    "CREATE OR REPLACE MACRO trino_split_entries(s, entry, kv) AS LIST_TRANSFORM("
    "LIST_FILTER(STR_SPLIT(s, entry), LAMBDA x: x <> ''), LAMBDA x: CASE "
    "WHEN LEN(STR_SPLIT(x, kv)) <> 2 "
    "THEN ERROR('INVALID_FUNCTION_ARGUMENT: Key-value delimiter must appear exactly once in "
    "each entry. Bad input: ' || x) "
    "ELSE {'key': STR_SPLIT(x, kv)[1], 'value': STR_SPLIT(x, kv)[2]} END)",
    """CREATE OR REPLACE MACRO trino_split_keys(s, entry, kv) AS
        LIST_TRANSFORM(trino_split_entries(s, entry, kv), LAMBDA p: p.key)""",
    """CREATE OR REPLACE MACRO trino_split_to_map(s, entry, kv) AS CASE
        WHEN LEN(LIST_DISTINCT(trino_split_keys(s, entry, kv)))
             < LEN(trino_split_keys(s, entry, kv))
        THEN ERROR('INVALID_FUNCTION_ARGUMENT: Duplicate keys are not allowed')
        ELSE MAP_FROM_ENTRIES(trino_split_entries(s, entry, kv)) END""",
    """CREATE OR REPLACE MACRO trino_split_to_multimap(s, entry, kv) AS MAP_FROM_ENTRIES(
        LIST_TRANSFORM(
            LIST_FILTER(trino_split_keys(s, entry, kv),
                        LAMBDA k, i: LIST_POSITION(trino_split_keys(s, entry, kv), k) = i),
            LAMBDA k: {'key': k, 'value': LIST_TRANSFORM(LIST_FILTER(
                trino_split_entries(s, entry, kv), LAMBDA p: p.key = k), LAMBDA p: p.value)}))""",
    # parse_data_size: a number and a unit (case-sensitive, powers of 1024), truncated.
    "CREATE OR REPLACE MACRO trino_parse_data_size(s) AS CASE "
    "WHEN NOT REGEXP_FULL_MATCH(s, '([0-9]+(\\.[0-9]+)?)([kMGTPEZY]?B)') "
    "THEN ERROR('INVALID_FUNCTION_ARGUMENT: Invalid data size: ''' || s || '''') "
    "ELSE CAST(TRUNC(CAST(REGEXP_EXTRACT(s, '^([0-9]+(\\.[0-9]+)?)', 1) AS DECIMAL(38, 10)) "
    f"* CAST(POW(1024, LIST_POSITION([{_DATA_SIZE_UNITS}], "
    "REGEXP_EXTRACT(s, '([kMGTPEZY]?B)$', 1)) - 1) AS DECIMAL(38, 0))) AS DECIMAL(38, 0)) END",
    # json_array_get: Trino's (documented as broken) form returns a string element without
    # its quotes.
    """CREATE OR REPLACE MACRO trino_json_array_element(j, i) AS
        '$[' || CAST(CASE WHEN i < 0 THEN CAST(JSON_ARRAY_LENGTH(JSON(j)) AS BIGINT) + i
                          ELSE i END AS VARCHAR)
        || ']'""",
    """CREATE OR REPLACE MACRO trino_json_array_get(j, i) AS CASE
        WHEN JSON_TYPE(JSON(j)) <> 'ARRAY' THEN NULL
        WHEN i >= CAST(JSON_ARRAY_LENGTH(JSON(j)) AS BIGINT)
          OR i < -CAST(JSON_ARRAY_LENGTH(JSON(j)) AS BIGINT) THEN NULL
        WHEN JSON_TYPE(JSON(j), trino_json_array_element(j, i)) = 'VARCHAR'
        THEN JSON(j) ->> trino_json_array_element(j, i)
        ELSE CAST(JSON(j) -> trino_json_array_element(j, i) AS VARCHAR) END""",
    """CREATE OR REPLACE MACRO trino_json_size(j, p) AS CASE JSON_TYPE(JSON(j), p)
        WHEN 'OBJECT' THEN CAST(LEN(JSON_KEYS(JSON(j), p)) AS BIGINT)
        WHEN 'ARRAY' THEN CAST(JSON_ARRAY_LENGTH(JSON(j), p) AS BIGINT)
        ELSE CASE WHEN JSON_TYPE(JSON(j), p) IS NOT NULL THEN CAST(0 AS BIGINT) END END""",
    """CREATE OR REPLACE MACRO trino_is_json_scalar(j) AS
        JSON_TYPE(JSON(j)) NOT IN ('OBJECT', 'ARRAY')""",
    """CREATE OR REPLACE MACRO trino_json_array_contains(j, v) AS CASE
        WHEN JSON_TYPE(JSON(j)) <> 'ARRAY' THEN NULL
        ELSE LIST_CONTAINS(LIST_TRANSFORM(CAST(JSON(j) AS JSON[]), LAMBDA e: CAST(e AS VARCHAR)),
                           CAST(TO_JSON(v) AS VARCHAR)) END""",
]
