"""Delimited text: LazySimpleSerDe (Hive's default text SerDe) and OpenCSVSerde.

Both read every file of a scan in one DuckDB ``read_csv`` call. LazySimpleSerDe reads each
line whole and splits it in SQL rather than letting DuckDB split fields, because DuckDB's
field splitting differs from Hive's on blank lines (skipped instead of a row) and cannot
honour ``escape.delim`` outside quotes; splitting in SQL stays vectorised and measured as
fast as native splitting. Values are read as text and converted per Hive: anything that does
not convert becomes NULL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from lakebox.catalog.model import Table
from lakebox.catalog.types import duckdb_type, hive_type, parse_type
from lakebox.engine.duckdb.formats import hive_text
from lakebox.engine.duckdb.formats.base import (
    DataFile,
    FormatReader,
    ReadContext,
    ReadRequest,
    quote_ident,
    sql_list,
    sql_string,
)
from lakebox.engine.duckdb.formats.hive_text import engine_paths
from lakebox.errors import DataError, InvalidRequestError, SemanticError, UnsupportedError
from lakebox.formats.charsets import Charset, resolve_charset

#: DuckDB's default line limit is 2 MB; JSON and log lines can be longer
MAX_LINE_SIZE = 64 * 1024 * 1024
#: OpenCSV scans first run on DuckDB's defaults: its parallel reader, which lets go of each
#: buffer once read, and its 2 MB line limit with 32 MB buffers. Two readings of a file
#: fail there, loudly: a line longer than the limit, and a short row to pad in a file whose
#: quoted field holds a line break, which only the single-threaded reader can do. A
#: statement that fails so runs again with this connection variable true
#: (``needs_csv_fallback``): single-threaded, lines up to ``MAX_LINE_SIZE``. The fallback
#: is not the default because of memory: the single-threaded reader keeps every buffer of
#: the file it read (1.9 GB for a 1.8 GB decompressed gzip CSV), and 128 MB buffers cost
#: about 0.6 GB more than DuckDB's own on the same scan. (The line reader, ``lines_sql``,
#: keeps 128 MB buffers: with smaller ones DuckDB re-reads buffer edges, and the bytes a
#: query reports as scanned would change from run to run.)
CSV_FALLBACK = "getvariable('lakebox_csv_fallback')"
SET_CSV_FALLBACK = "SET VARIABLE lakebox_csv_fallback = true"
RESET_CSV_FALLBACK = "RESET VARIABLE lakebox_csv_fallback"
_FAST_LINE_SIZE = 2_000_000
_FAST_BUFFER_SIZE = 16 * _FAST_LINE_SIZE


def _line_limits() -> list[str]:
    """read_csv's line and buffer sizes: DuckDB's own, or the fallback's."""
    return [
        f"max_line_size = (CASE WHEN {CSV_FALLBACK} THEN {MAX_LINE_SIZE} "
        f"ELSE {_FAST_LINE_SIZE} END)",
        f"buffer_size = (CASE WHEN {CSV_FALLBACK} THEN {2 * MAX_LINE_SIZE} "
        f"ELSE {_FAST_BUFFER_SIZE} END)",
    ]


def needs_csv_fallback(err: Exception) -> bool:
    """Whether ``err`` is one of the refusals a statement's CSV fallback reads past."""
    text = str(err)
    return "does not support null_padding in conjunction with quoted new lines" in text or (
        "Maximum line size of" in text and "exceeded" in text
    )


#: Hive's separators below the map-key one, by nesting level (LazySerDeParameters)
_DEEPER_SEPARATORS = [chr(c) for c in range(4, 9)]
#: private-use characters standing in for escaped separators while a line is split
_PLACEHOLDER_BASE = 0xF8E0

_INT_KINDS = {exp.DType.TINYINT, exp.DType.SMALLINT, exp.DType.INT, exp.DType.BIGINT}
_STRING_KINDS = {exp.DType.TEXT, exp.DType.VARCHAR, exp.DType.CHAR}

_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-7]{1,3}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {
    "t": "\t",
    "n": "\n",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "\\": "\\",
    "'": "'",
    '"': '"',
}


def parse_delimiter(value: str | None, default: str, numeric_byte: bool = True) -> str:
    """The real character a delimiter property stands for.

    The catalog may hold the DDL spelling (``'\\t'``, ``'\\001'``, ``'\\u0001'``) or the
    character itself. With ``numeric_byte`` a bare number is a byte value, as in Hive's
    LazySerDeParameters (``field.delim='9'`` is a tab). Only the first character counts,
    as in Hive.
    """
    if value is None or value == "":
        return default

    def unescape(m: re.Match[str]) -> str:
        body = m.group(1)
        if body[0] == "u" and len(body) == 5:
            return chr(int(body[1:], 16))
        if body[0] == "x" and len(body) == 3:
            return chr(int(body[1:], 16))
        if body[0] in "01234567":
            return chr(int(body, 8))
        return _SIMPLE_ESCAPES.get(body, body)

    text = _ESCAPE_RE.sub(unescape, value)
    if numeric_byte and re.fullmatch(r"-?[0-9]+", text):
        number = int(text)
        if -128 <= number <= 127:
            return chr(number & 0xFF)
    return text[0]


def skip_header_lines(table: Table) -> int:
    raw = table.parameters.get("skip.header.line.count", "0").strip() or "0"
    try:
        count = int(raw)
    except ValueError as err:
        raise InvalidRequestError(
            f"table {table.qualified_name}: skip.header.line.count must be a whole number, "
            f"got {raw!r}"
        ) from err
    if count < 0:
        raise InvalidRequestError(
            f"table {table.qualified_name}: skip.header.line.count must not be negative"
        )
    return count


def table_param(table: Table, key: str) -> str | None:
    """A SerDe property, or the table property of that name: Hive hands a SerDe the table's
    parameters overlaid with the SerDe's, so ``TBLPROPERTIES ('serialization.null.format'
    = '')`` works as a SerDe property does."""
    value = table.serde_parameters.get(key)
    return table.parameters.get(key) if value is None else value


def text_charset(table: Table) -> Charset:
    """The charset the SerDe's ``serialization.encoding`` names (Hive's default UTF-8)."""
    return resolve_charset(
        table_param(table, "serialization.encoding"), f"table {table.qualified_name}"
    )


#: the line reader's field delimiter: U+10FFFF, a noncharacter that text does not hold,
#: so DuckDB never splits a line and NUL and every control character stay in it (a line
#: that did hold U+10FFFF would be cut there: docs/differences.md)
_NEVER = "\U0010ffff"


def lines_sql(paths: list[str], skip: int = 0, tags: RowTags | None = None) -> str:
    """A DuckDB table function call yielding each line of ``paths`` as column ``line``
    (and the columns ``tags`` name: the path it came from, its Hive folders' values).

    Quoting and escaping are off and the delimiter is ``_NEVER``. A blank line comes back
    as NULL. ``skip`` applies to every file, as ``skip.header.line.count`` does.
    """
    opts = [
        sql_list(paths),
        "columns = {'line': 'VARCHAR'}",
        f"delim = {sql_string(_NEVER)}",
        "quote = ''",
        "escape = ''",
        "header = false",
        f"skip = {skip}",
        "auto_detect = false",
        "strict_mode = false",
        "compression = 'auto'",
        f"max_line_size = {MAX_LINE_SIZE}",
        f"buffer_size = {2 * MAX_LINE_SIZE}",
        "encoding = 'utf-8'",
    ]
    opts.extend((tags or NO_TAGS).options())
    return f"read_csv({', '.join(opts)})"


def lines_source(
    ctx: ReadContext, table: Table, files: list[DataFile], tags: RowTags | None = None
) -> str:
    """A FROM item yielding column ``line`` for every line of ``files`` as Hive's
    LineRecordReader splits them, decoded with the table's charset, header lines skipped
    (files that are not plain UTF-8 are read from a transcoded copy: ``hive_text``), and
    the columns ``tags`` name (the path each line was read from: ``lines_paths``)."""
    return lines_sql(lines_paths(ctx, table, files), skip_header_lines(table), tags)


def lines_paths(ctx: ReadContext, table: Table, files: list[DataFile]) -> list[str]:
    """The path ``lines_source`` reads each of ``files`` from, in order."""
    return hive_text.text_paths(ctx, files, text_charset(table))


@dataclass(frozen=True)
class RowTags:
    """What a scan over many files adds to each row besides its data, as DuckDB's
    multi-file readers (``read_csv``, ``read_ndjson_objects``, ``read_json``) add it: the
    path the row was read from (``file``: the ``filename`` option) and the values of the
    Hive ``key=value`` folders its file lies in (``hive_keys``, as VARCHAR: constants per
    file, so partitions need no per-row join). Without keys Hive partitioning is off:
    partition values come from the catalog, never from DuckDB guessing at folder names."""

    file: str | None = None
    hive_keys: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return ((self.file,) if self.file is not None else ()) + self.hive_keys

    def options(self) -> list[str]:
        """The reader's options for these columns."""
        if self.hive_keys:
            types = ", ".join(f"{sql_string(k)}: 'VARCHAR'" for k in self.hive_keys)
            opts = ["hive_partitioning = true", f"hive_types = {{{types}}}"]
        else:
            opts = ["hive_partitioning = false"]
        if self.file is not None:
            opts.append(f"filename = {sql_string(self.file)}")
        return opts

    def passed(self) -> str:
        """``, "<name>"...``: the select lists that pass these columns through."""
        return "".join(f", {quote_ident(n)}" for n in self.names)


NO_TAGS = RowTags()


def hive_keys_readable(
    paths: list[str], files: list[DataFile], keys: list[str], raw_names: set[str]
) -> bool:
    """Whether a reader may take ``keys`` from the Hive folders of the ``paths`` it reads
    ``files`` from: only when it reads the files where they lie (not a decompressed or
    transcoded copy in the lake cache, whose path has no such folders), and no key would
    clash with a column of the reader's own (``raw_names``, lower case; every ``__`` name
    is lakebox's)."""
    if paths != [f.engine_path for f in files]:
        return False
    return not any(k.lower() in raw_names or k.startswith("__") for k in keys)


#: Joda-Time pattern letters (Hive's ``timestamp.formats``) -> DuckDB strptime, longest first
_JODA = [
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "%-m"),
    ("dd", "%d"),
    ("d", "%-d"),
    ("HH", "%H"),
    ("H", "%-H"),
    ("hh", "%I"),
    ("h", "%-I"),
    ("mm", "%M"),
    ("m", "%-M"),
    ("ss", "%S"),
    ("s", "%-S"),
    ("SSSSSSSSS", "%n"),
    ("SSSSSS", "%f"),
    ("SSS", "%g"),
    ("a", "%p"),
    ("EEEE", "%A"),
    ("EEE", "%a"),
    ("XXX", "%z"),
    ("XX", "%z"),
    ("X", "%z"),
    ("ZZ", "%z"),
    ("Z", "%z"),
]


def joda_to_strptime(pattern: str) -> str:
    """DuckDB strptime format for a Joda-Time pattern such as ``yyyy-MM-dd'T'HH:mm:ss``."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                raise InvalidRequestError(f"timestamp format {pattern!r} has an unclosed quote")
            out.append(pattern[i + 1 : end].replace("%", "%%") if end > i + 1 else "'")
            i = end + 1
            continue
        if c.isalpha():
            for token, spec in _JODA:
                if pattern.startswith(token, i):
                    out.append(spec)
                    i += len(token)
                    break
            else:
                raise UnsupportedError(
                    f"timestamp format {pattern!r}: pattern letter {c!r} is not supported"
                )
            continue
        out.append("%%" if c == "%" else c)
        i += 1
    return "".join(out)


def timestamp_formats(table: Table) -> tuple[str, ...]:
    """The SerDe's ``timestamp.formats`` as DuckDB formats (``millis`` kept as is)."""
    raw = table.serde_parameters.get("timestamp.formats")
    if not raw:
        return ()
    return tuple(
        p if p == "millis" else joda_to_strptime(p)
        for p in (part.strip() for part in raw.split(","))
        if p
    )


def _timestamp(x: str, formats: tuple[str, ...]) -> str:
    """Hive tries ``timestamp.formats`` first, then its own ``yyyy-MM-dd HH:mm:ss[.f]``."""
    tries = []
    for fmt in formats:
        if fmt == "millis":
            tries.append(
                f"CASE WHEN regexp_full_match({x}, '-?[0-9]+') "
                f"THEN make_timestamp(TRY_CAST({x} AS BIGINT) * 1000) END"
            )
        elif "%z" in fmt:
            tries.append(f"timezone('UTC', try_strptime({x}, {sql_string(fmt)}))")
        else:
            tries.append(f"try_strptime({x}, {sql_string(fmt)})")
    tries.append(f"TRY_CAST({x} AS TIMESTAMP)")
    return tries[0] if len(tries) == 1 else f"coalesce({', '.join(tries)})"


def convert_text(expr: str, type_text: str, ts_formats: tuple[str, ...] = ()) -> str:
    """SQL turning a VARCHAR ``expr`` into a primitive Hive type, NULL when it does not
    convert (Hive's Lazy* objects: integers are plain digits, booleans only true/false)."""
    return _primitive(expr, parse_type(type_text), type_text, ts_formats)


def _primitive(x: str, dt: exp.DataType, type_text: str, ts_formats: tuple[str, ...] = ()) -> str:
    kind = dt.this
    if kind == exp.DType.TIMESTAMP:
        return _timestamp(x, ts_formats)
    if kind in _STRING_KINDS:
        if kind != exp.DType.TEXT and dt.expressions:
            return f"left({x}, {int(dt.expressions[0].name)})"
        return x
    if kind == exp.DType.BOOLEAN:
        return f"CASE lower({x}) WHEN 'true' THEN true WHEN 'false' THEN false END"
    duck = duckdb_type(type_text)
    if kind in _INT_KINDS:
        # DuckDB would round '1.5' and accept '1_000'; Hive's LazyInteger takes digits only
        return f"TRY_CAST(CASE WHEN regexp_full_match({x}, '[+-]?[0-9]+') THEN {x} END AS {duck})"
    if kind in (exp.DType.BINARY, exp.DType.VARBINARY):
        return f"encode({x})"
    return f"TRY_CAST({x} AS {duck})"


class LineReader(FormatReader):
    """A reader whose scan is one SELECT over the lines of the files (``_select``), which
    can carry the path each line came from and the values of its file's Hive folders."""

    def _select(self, ctx: ReadContext, request: ReadRequest, tags: RowTags) -> str:
        raise NotImplementedError

    def raw_names(self, table: Table) -> set[str]:
        """The columns of the reader's own source (lower case), which a Hive key must not
        be named like."""
        return {"line"}

    def scan_sql(self, ctx: ReadContext, request: ReadRequest) -> str:
        return self._select(ctx, request, NO_TAGS)

    def scan_sql_with_file(
        self, ctx: ReadContext, request: ReadRequest, file_column: str
    ) -> tuple[str, list[str]] | None:
        sql = self._select(ctx, request, RowTags(file=file_column))
        return sql, lines_paths(ctx, request.table, request.files)

    def scan_sql_with_hive_keys(
        self, ctx: ReadContext, request: ReadRequest, keys: list[str]
    ) -> str | None:
        paths = lines_paths(ctx, request.table, request.files)
        if not hive_keys_readable(paths, request.files, keys, self.raw_names(request.table)):
            return None
        return self._select(ctx, request, RowTags(hive_keys=tuple(keys)))


class _Splitter:
    """Builds the SQL that splits LazySimpleSerDe text into nested values."""

    def __init__(
        self,
        separators: list[str],
        null_format: str,
        restore: list[tuple[str, str]],
        escape: str | None,
        ts_formats: tuple[str, ...] = (),
    ) -> None:
        self.ts_formats = ts_formats
        self.separators = separators
        self.escape = escape
        self.null_format = null_format
        self.restore = restore
        self._names = 0

    def var(self) -> str:
        self._names += 1
        return f"__v{self._names}"

    def sep(self, level: int, type_text: str) -> str:
        if level >= len(self.separators):
            raise UnsupportedError(
                f"type {type_text!r} nests deeper than LazySimpleSerDe's {len(self.separators)}"
                " separator levels"
            )
        return self.separators[level]

    def unescape(self, x: str) -> str:
        """Hive drops the escape character before any other character; separators and the
        escape itself were swapped for placeholders before the line was split."""
        if self.escape is None:
            return x
        x = f"regexp_replace({x}, {sql_string(re.escape(self.escape) + '(.)')}, '\\1', 'gs')"
        for placeholder, original in self.restore:
            x = f"replace({x}, {sql_string(placeholder)}, {sql_string(original)})"
        return x

    def value(self, x: str, type_text: str, dt: exp.DataType, level: int) -> str:
        """``x`` is the raw text of one value (never the null sequence)."""
        kind = dt.this
        if kind == exp.DType.ARRAY:
            elem = dt.expressions[0]
            v = self.var()
            inner = self.nullable(v, hive_type(elem), elem, level + 1)
            sep = self.sep(level, type_text)
            return (
                f"CASE WHEN {x} = '' THEN [] ELSE list_transform("
                f"string_split({x}, {sql_string(sep)}), lambda {v}: {inner}) END"
            )
        if kind == exp.DType.MAP:
            kdt, vdt = dt.expressions
            entries_sep = self.sep(level, type_text)
            kv_sep = sql_string(self.sep(level + 1, type_text))
            v = self.var()
            pos = f"strpos({v}, {kv_sep})"
            key_raw = f"CASE WHEN {pos} > 0 THEN substr({v}, 1, {pos} - 1) ELSE {v} END"
            val_raw = f"CASE WHEN {pos} > 0 THEN substr({v}, {pos} + 1) END"
            key = self.nullable(key_raw, hive_type(kdt), kdt, level + 2)
            val = self.nullable(val_raw, hive_type(vdt), vdt, level + 2)
            e = self.var()
            return (
                f"CASE WHEN {x} = '' THEN MAP {{}} ELSE map_from_entries(list_filter("
                f"list_transform(string_split({x}, {sql_string(entries_sep)}), "
                f"lambda {v}: {{'key': {key}, 'value': {val}}}), lambda {e}: {e}.key IS NOT NULL)) END"
            )
        if kind == exp.DType.STRUCT:
            p = self.var()
            sep = self.sep(level, type_text)
            fields = []
            for i, f in enumerate(dt.expressions):
                fdt = f.args["kind"]
                fields.append(
                    f"{quote_ident(f.name)} := "
                    f"{self.nullable(f'{p}[{i + 1}]', hive_type(fdt), fdt, level + 1)}"
                )
            return (
                f"list_transform([string_split({x}, {sql_string(sep)})], "
                f"lambda {p}: struct_pack({', '.join(fields)}))[1]"
            )
        return _primitive(self.unescape(x), dt, type_text, self.ts_formats)

    def nullable(self, x: str, type_text: str, dt: exp.DataType, level: int) -> str:
        return (
            f"CASE WHEN {x} IS NULL OR {x} = {sql_string(self.null_format)} THEN NULL "
            f"ELSE {self.value(x, type_text, dt, level)} END"
        )


class LazySimpleReader(LineReader):
    """Hive's LazySimpleSerDe: no quoting, ``\\N`` NULL, Hive's nested separators."""

    name = "text (LazySimpleSerDe)"

    def separators(self, table: Table) -> list[str]:
        p = table.serde_parameters
        field_delim = parse_delimiter(p.get("field.delim", p.get("serialization.format")), "\x01")
        collection = parse_delimiter(p.get("collection.delim", p.get("colelction.delim")), "\x02")
        mapkey = parse_delimiter(p.get("mapkey.delim"), "\x03")
        return [field_delim, collection, mapkey, *_DEEPER_SEPARATORS]

    def validate(self, table: Table) -> None:
        skip_header_lines(table)
        text_charset(table)
        timestamp_formats(table)
        p = table.serde_parameters
        line = p.get("line.delim")
        if line is not None and parse_delimiter(line, "\n") != "\n":
            raise UnsupportedError(
                f"table {table.qualified_name}: line.delim other than '\\n' is not supported "
                "(Hive and Athena support only newline too)"
            )
        seps = self.separators(table)
        if len(set(seps[:3])) < 3:
            raise InvalidRequestError(
                f"table {table.qualified_name}: field, collection and map-key delimiters must "
                "differ"
            )
        for col in table.columns:
            try:
                parse_type(col.type)
            except SemanticError as err:
                raise InvalidRequestError(f"column {col.name!r}: {err}") from err

    def _select(self, ctx: ReadContext, request: ReadRequest, tags: RowTags) -> str:
        table = request.table
        params = request.serde_params
        seps = self.separators(table)
        null_format = table_param(table, "serialization.null.format")
        if null_format is None:
            null_format = "\\N"
        escape = params.get("escape.delim")
        line = "coalesce(line, '')"
        esc = ""
        restore: list[tuple[str, str]] = []
        if escape:
            esc = parse_delimiter(escape, "\\")
            # escaped escape first, so '\\,' stays an escaped backslash before a real comma
            specials = [esc, *dict.fromkeys(seps[:3])]
            for i, ch in enumerate(specials):
                placeholder = chr(_PLACEHOLDER_BASE + i)
                line = f"replace({line}, {sql_string(esc + ch)}, {sql_string(placeholder)})"
                restore.append((placeholder, ch))
        splitter = _Splitter(
            seps, null_format, restore, esc if escape else None, timestamp_formats(table)
        )
        cols = []
        positions = {c.name.lower(): i for i, c in enumerate(table.columns)}
        for col in request.columns:
            dt = parse_type(col.type)
            raw = f"__p[{positions[col.name.lower()] + 1}]"
            cols.append(f"{splitter.nullable(raw, col.type, dt, 1)} AS {quote_ident(col.name)}")
        select = ", ".join(cols) or "NULL AS __lakebox_empty"
        source = lines_source(ctx, table, request.files, tags)
        keep = tags.passed()
        return (
            f"SELECT {select}{keep} FROM (SELECT string_split({line}, "
            f"{sql_string(seps[0])}) AS __p{keep} FROM {source})"
        )


class OpenCsvReader(LineReader):
    """OpenCSVSerde: quoted CSV. Athena reads every column as a string and converts it.

    Chosen semantics where Athena's docs say a numeric column fails on empty values
    (HIVE_BAD_DATA unless ``use.null.for.invalid.data``): lakebox always gives NULL for a
    value that does not convert, and '' for an empty string column. Timestamps may be UNIX
    milliseconds (as Athena documents) or Hive text; dates may be days since the epoch or
    ``yyyy-MM-dd``.
    """

    name = "text (OpenCSVSerde)"

    def options(self, table: Table) -> tuple[str, str, str]:
        p = table.serde_parameters
        sep = parse_delimiter(p.get("separatorChar"), ",", numeric_byte=False)
        quote = parse_delimiter(p.get("quoteChar"), '"', numeric_byte=False)
        escape = parse_delimiter(p.get("escapeChar"), "\\", numeric_byte=False)
        return sep, quote, escape

    def validate(self, table: Table) -> None:
        skip_header_lines(table)
        text_charset(table)
        sep, quote, _escape = self.options(table)
        if sep == quote:
            raise InvalidRequestError(
                f"table {table.qualified_name}: separatorChar and quoteChar must differ"
            )
        for col in table.columns:
            if parse_type(col.type).this in (exp.DType.ARRAY, exp.DType.MAP, exp.DType.STRUCT):
                raise InvalidRequestError(
                    f"table {table.qualified_name}: OpenCSVSerde cannot read column "
                    f"{col.name!r} of complex type {col.type!r}; use LazySimpleSerDe"
                )

    def raw_names(self, table: Table) -> set[str]:
        return {f"c{i}" for i in range(len(table.columns))}

    def _select(self, ctx: ReadContext, request: ReadRequest, tags: RowTags) -> str:
        table = request.table
        self.validate(table)
        sep, quote, escape = self.options(table)
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(table.columns))) + "}"
        opts = [
            sql_list(lines_paths(ctx, table, request.files)),
            f"columns = {columns}",
            f"delim = {sql_string(sep)}",
            f"quote = {sql_string(quote)}",
            f"escape = {sql_string(escape)}",
            "header = false",
            f"skip = {skip_header_lines(table)}",
            "auto_detect = false",
            "strict_mode = false",
            "null_padding = true",
            f"parallel = ({CSV_FALLBACK} IS NOT TRUE)",
            # nothing is NULL text in OpenCSV: an empty field is ''
            f"nullstr = {sql_string(chr(0xF8FF))}",
            "compression = 'auto'",
            *_line_limits(),
            "encoding = 'utf-8'",
        ]
        positions = {c.name.lower(): i for i, c in enumerate(table.columns)}
        cols = []
        for col in request.columns:
            raw = f"c{positions[col.name.lower()]}"
            if escape != quote and not _quote_never_converts(quote, col.type):
                # opencsv also reads a doubled quote inside quotes as one quote; DuckDB
                # takes a single escape character, so the doubling is undone here
                raw = f"replace({raw}, {sql_string(quote * 2)}, {sql_string(quote)})"
            cols.append(f"{self.convert(raw, col.type)} AS {quote_ident(col.name)}")
        opts.extend(tags.options())
        select = ", ".join(cols) or "NULL AS __lakebox_empty"
        return f"SELECT {select}{tags.passed()} FROM read_csv({', '.join(opts)})"

    @staticmethod
    def convert(x: str, type_text: str) -> str:
        kind = parse_type(type_text).this
        if kind == exp.DType.TIMESTAMP:
            return (
                f"CASE WHEN regexp_full_match({x}, '-?[0-9]+') "
                f"THEN make_timestamp(TRY_CAST({x} AS BIGINT) * 1000) "
                f"ELSE TRY_CAST({x} AS TIMESTAMP) END"
            )
        if kind == exp.DType.DATE:
            return (
                f"CASE WHEN regexp_full_match({x}, '-?[0-9]+') "
                f"THEN TRY_CAST(DATE '1970-01-01' + TRY_CAST({x} AS INTEGER) AS DATE) "
                f"ELSE TRY_CAST({x} AS DATE) END"
            )
        return convert_text(x, type_text)


#: quote characters that no number, boolean or date text holds
_PUNCTUATION_QUOTES = frozenset("\"'`")
#: the types whose text with such a quote in it converts to NULL, undone doubling or not
_QUOTELESS_KINDS = {
    *_INT_KINDS,
    exp.DType.FLOAT,
    exp.DType.DOUBLE,
    exp.DType.DECIMAL,
    exp.DType.BOOLEAN,
    exp.DType.DATE,
}


def _quote_never_converts(quote: str, type_text: str) -> bool:
    """Whether undoing a doubled ``quote`` can change nothing of a column of this type: a
    value holding the quote converts to NULL either way, and one without it is left as it
    is. Skipping the ``replace`` then saves DuckDB a pass over every value (0.3 s of a
    10M-row file's 5 s)."""
    return quote in _PUNCTUATION_QUOTES and parse_type(type_text).this in _QUOTELESS_KINDS


_CSV_ERROR_LINE = re.compile(r"CSV Error on Line: (?P<line>\d+)")
_CSV_ERROR_FILE = re.compile(r"^\s*file = (?P<file>.+?)\s*$", re.MULTILINE)
_JSON_ERROR = re.compile(r'in file "(?P<file>[^"]*)"')


def data_error_from_duckdb(
    err: Exception, ctx: ReadContext, files: list[DataFile]
) -> DataError | None:
    """A DataError naming the data file (and line) for a DuckDB read error raised while a
    text-family scan runs, or None when ``err`` is not about one of ``files``.

    For the engine to call when executing a reader's SQL fails: errors surface only then,
    after ``scan_sql`` has returned.
    """
    text = str(err)
    # the paths the scan opened: decompressed copies for codecs DuckDB cannot read (already
    # in the cache, so this costs a file-exists check each)
    by_path = dict(zip(engine_paths(ctx, files), files, strict=True))
    m = _CSV_ERROR_FILE.search(text) or _JSON_ERROR.search(text)
    f = by_path.get(m.group("file")) if m else None
    if f is None:
        return None
    line_match = _CSV_ERROR_LINE.search(text)
    line = int(line_match.group("line")) if line_match else None
    if "Invalid unicode" in text:
        message = (
            "text is not valid UTF-8; set the SerDe property 'serialization.encoding' "
            "(for example 'ISO-8859-1') if the file uses another encoding"
        )
    else:
        message = text.split("\n", 1)[0].removeprefix("Invalid Input Error: ")
    return DataError(message, f.uri, line)
