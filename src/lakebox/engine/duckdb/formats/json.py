"""JSON lines: the Hive JsonSerDe (``STORED AS JSON``) and the OpenX JsonSerDe.

One object per line; keys match columns case-insensitively (Hive lower-cases them), a
missing key is NULL, a value of the wrong type is NULL. DuckDB's JSON reader matches keys
case-sensitively, so the scan reads each line as one JSON value (``read_ndjson_objects``)
and picks each column's key per row: all columns' exact spellings in one extraction (one
parse of the line), and only where that finds nothing, the first key of the row that
compares equal under the SerDe's rules. No pass over the files precedes the scan: a
``LIMIT`` reads only the files it needs, and ``count(*)`` reads each line once. A row
holding two spellings of one column (``"id"`` and ``"ID"``) reads the exact one.

A malformed line fails the query with a DataError naming the file and line (found by
``data_error`` once DuckDB has failed), and so does a line that is not a JSON object,
unless the OpenX property ``ignore.malformed.json`` is true, which makes either a row of
NULLs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlglot import exp

from lakebox.catalog.model import Column, Table
from lakebox.catalog.types import hive_type, parse_type
from lakebox.engine.duckdb.formats.base import (
    DataFile,
    FormatReader,
    ReadContext,
    ReadRequest,
    quote_ident,
    sql_string,
)
from lakebox.engine.duckdb.formats.text import (
    MAX_LINE_SIZE,
    NO_TAGS,
    RowTags,
    convert_text,
    engine_paths,
    hive_keys_readable,
    timestamp_formats,
)
from lakebox.errors import DataError, InvalidRequestError, SemanticError

_SIMPLE = re.compile(r'"[^"]*"|__j[0-9]+(\.(key|value))?')
#: DuckDB's JSON reader names the file of a malformed line (its line number is off by one)
_MALFORMED = re.compile(r'Malformed JSON in file "(?P<file>[^"]*)"')
#: the error a scan raises at a line that is valid JSON but not an object
_NOT_OBJECT = "lakebox: not a JSON object in file "
_NOT_OBJECT_ERROR = re.compile(re.escape(_NOT_OBJECT) + r'"(?P<file>[^"]*)"')
#: the file column a scan that checks for non-object lines reads (unless asked for one)
_CHECK_FILE = "__lakebox_json_file"


@dataclass(frozen=True)
class JsonOptions:
    case_insensitive: bool
    ignore_malformed: bool
    dots_in_keys: bool
    mappings: dict[str, str]
    #: DuckDB strptime formats from ``timestamp.formats``
    ts_formats: tuple[str, ...] = ()

    def norm(self, key: str) -> str:
        """How a JSON key compares with a column name."""
        if self.dots_in_keys:
            key = key.replace(".", "_")
        return key.lower() if self.case_insensitive else key


def _true(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() == "true"


class JsonReader(FormatReader):
    name = "json"

    def __init__(self, openx: bool = False) -> None:
        self.openx = openx

    def options(self, table: Table) -> JsonOptions:
        p = {k.lower(): v for k, v in table.serde_parameters.items()}
        if not self.openx:
            # the Hive JsonSerDe always lower-cases keys and always fails on bad JSON
            return JsonOptions(True, False, False, {}, timestamp_formats(table))
        mappings = {k[len("mapping.") :]: v for k, v in p.items() if k.startswith("mapping.")}
        return JsonOptions(
            case_insensitive=_true(p.get("case.insensitive"), True),
            ignore_malformed=_true(p.get("ignore.malformed.json"), False),
            dots_in_keys=_true(p.get("dots.in.keys"), False),
            mappings=mappings,
            ts_formats=timestamp_formats(table),
        )

    def validate(self, table: Table) -> None:
        opts = self.options(table)
        names = {c.name.lower() for c in table.columns}
        for mapped in opts.mappings:
            if mapped.lower() not in names:
                raise InvalidRequestError(
                    f"table {table.qualified_name}: SerDe property 'mapping.{mapped}' names no "
                    "column of the table"
                )
        for key in ("ignore.malformed.json", "case.insensitive", "dots.in.keys"):
            value = table.serde_parameters.get(key)
            if value is not None and value.strip().lower() not in ("true", "false"):
                raise InvalidRequestError(
                    f"table {table.qualified_name}: SerDe property {key!r} must be 'true' or "
                    f"'false', got {value!r}"
                )
        for col in table.columns:
            try:
                parse_type(col.type)
            except SemanticError as err:
                raise InvalidRequestError(f"column {col.name!r}: {err}") from err

    # -- SQL ------------------------------------------------------------------------------

    def scan_sql(self, ctx: ReadContext, request: ReadRequest) -> str:
        return self._select(ctx, request, engine_paths(ctx, request.files), NO_TAGS)

    def scan_sql_with_file(
        self, ctx: ReadContext, request: ReadRequest, file_column: str
    ) -> tuple[str, list[str]] | None:
        paths = engine_paths(ctx, request.files)
        return self._select(ctx, request, paths, RowTags(file=file_column)), paths

    def scan_sql_with_hive_keys(
        self, ctx: ReadContext, request: ReadRequest, keys: list[str]
    ) -> str | None:
        paths = engine_paths(ctx, request.files)
        if not hive_keys_readable(paths, request.files, keys, {"json"}):
            return None
        return self._select(ctx, request, paths, RowTags(hive_keys=tuple(keys)))

    def _select(
        self, ctx: ReadContext, request: ReadRequest, paths: list[str], tags: RowTags
    ) -> str:
        """Three steps: each line as JSON with every column's exact key extracted at once
        (``__e``), checked to be an object unless malformed lines are ignored; each
        column's raw JSON value (the exact key, else the first matching one); the values
        converted to the columns' types."""
        opts = self.options(request.table)
        builder = _JsonSql(opts, opts.ts_formats)
        columns: list[Column] = request.columns
        targets = [opts.mappings.get(c.name.lower(), c.name) for c in columns]
        source_tags = tags
        check = ""
        if not opts.ignore_malformed:
            file_col = tags.file or _CHECK_FILE
            source_tags = RowTags(file_col, tags.hive_keys)
            check = (
                f" WHERE CASE WHEN json_type(json) = 'OBJECT' THEN true ELSE "
                f"error({sql_string(_NOT_OBJECT + chr(34))} || {quote_ident(file_col)} || '\"') "
                "END"
            )
        named = ", ".join(source_tags.options())
        source = (
            f"read_ndjson_objects({ctx.paths_sql(paths)}, "
            f"ignore_errors = {'true' if opts.ignore_malformed else 'false'}, "
            f"maximum_object_size = {MAX_LINE_SIZE}, compression = 'auto', {named})"
        )
        passed = tags.passed()
        if not columns:
            return f"SELECT NULL AS __lakebox_empty{passed} FROM {source}{check}"
        extract = ", ".join(sql_string(_path(t)) for t in targets)
        lines = f"SELECT json, json_extract(json, [{extract}]) AS __e{passed} FROM {source}{check}"
        raws = []
        for i, target in enumerate(targets):
            exact = f"__e[{i + 1}]"
            other = builder.other_key("json", target)
            raw = f"coalesce({exact}, {other})" if other is not None else exact
            raws.append(f"{raw} AS {quote_ident(f'__c{i}')}")
        picked = f"SELECT {', '.join(raws)}{passed} FROM ({lines})"
        converted = ", ".join(
            f"{builder.convert(quote_ident(f'__c{i}'), parse_type(c.type))} AS {quote_ident(c.name)}"
            for i, c in enumerate(columns)
        )
        return f"SELECT {converted}{passed} FROM ({picked})"


def data_error(err: Exception, ctx: ReadContext, files: list[DataFile]) -> DataError | None:
    """The DataError naming file and line for a JSON scan that failed on a malformed or
    non-object line, or None when ``err`` is not that. DuckDB names the file (its line
    number is off by one), so the file is read again in Python to find the line (error path
    only)."""
    text = str(err)
    found = _MALFORMED.search(text) or _NOT_OBJECT_ERROR.search(text)
    if found is None:
        return None
    by_path = dict(zip(engine_paths(ctx, files), files, strict=True))
    f = by_path.get(found.group("file"))
    return _first_bad_line(ctx, f) if f is not None else None


def _first_bad_line(ctx: ReadContext, f: DataFile) -> DataError:
    """The first line of ``f`` that is not a JSON object, found in Python."""
    text = ctx.read_bytes(f).decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as err:
            return DataError(
                f"malformed JSON ({err.args[0]}); set the SerDe property "
                "'ignore.malformed.json' = 'true' (OpenX JsonSerDe) to read "
                "such lines as NULLs",
                f.uri,
                number,
            )
        if not isinstance(value, dict):
            return DataError("line is not a JSON object", f.uri, number)
    return DataError("malformed JSON", f.uri)


def _path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _JsonSql:
    """SQL turning a JSON value into a Hive type, NULL where the value does not fit."""

    def __init__(self, opts: JsonOptions, ts_formats: tuple[str, ...] = ()) -> None:
        self.opts = opts
        self.ts_formats = ts_formats
        self._names = 0

    def var(self) -> str:
        self._names += 1
        return f"__j{self._names}"

    def bind(self, x: str, body: str, v: str) -> str:
        """Evaluate ``x`` once and use it as ``v`` inside ``body``. A column or lambda
        variable is substituted directly: the list-lambda binding costs several times a
        JSON extraction, so it is kept for computed values that ``body`` repeats."""
        if _SIMPLE.fullmatch(x):
            return re.sub(rf"\b{v}\b", lambda _m: x, body)
        return f"list_transform([{x}], lambda {v}: {body})[1]"

    def field(self, v: str, name: str) -> str:
        """The value of struct field ``name`` in JSON object ``v``: the exact key when present,
        else the first key that compares equal under the SerDe's rules."""
        exact = f"{v} -> {sql_string(_path(name))}"
        other = self.other_key(v, name)
        if other is None:
            return exact
        return (
            f"CASE WHEN json_exists({v}, {sql_string(_path(name))}) THEN {exact} ELSE {other} END"
        )

    def other_key(self, v: str, name: str) -> str | None:
        """The value in JSON object ``v`` of its first key that compares equal to ``name``
        under the SerDe's rules (case, dots), NULL when none does; None when the rules are
        exact spelling only."""
        if not self.opts.case_insensitive and not self.opts.dots_in_keys:
            return None
        k = self.var()
        key = k
        if self.opts.dots_in_keys:
            key = f"replace({key}, '.', '_')"
        if self.opts.case_insensitive:
            key = f"lower({key})"
        found = f"list_filter(json_keys({v}), lambda {k}: {key} = {sql_string(self.opts.norm(name))})[1]"
        escaped = f"replace(replace({found}, '\\', '\\\\'), '\"', '\\\"')"
        return f"json_extract({v}, '$.\"' || {escaped} || '\"')"

    def convert(self, x: str, dt: exp.DataType) -> str:
        kind = dt.this
        if kind == exp.DType.STRUCT:
            v = self.var()
            fields = ", ".join(
                f"{quote_ident(f.name)} := {self.convert(self.field(v, f.name), f.args['kind'])}"
                for f in dt.expressions
            )
            body = f"CASE WHEN json_type({v}) = 'OBJECT' THEN struct_pack({fields}) END"
            return self.bind(x, body, v)
        if kind == exp.DType.ARRAY:
            v, e = self.var(), self.var()
            inner = self.convert(e, dt.expressions[0])
            body = (
                f"CASE WHEN json_type({v}) = 'ARRAY' THEN list_transform("
                f"CAST({v} AS JSON[]), lambda {e}: {inner}) END"
            )
            return self.bind(x, body, v)
        if kind == exp.DType.MAP:
            kdt, vdt = dt.expressions
            v, e, f = self.var(), self.var(), self.var()
            key = convert_text(f"{e}.key", hive_type(kdt))
            value = self.convert(f"{e}.value", vdt)
            body = (
                f"CASE WHEN json_type({v}) = 'OBJECT' THEN map_from_entries(list_filter("
                f"list_transform(map_entries(CAST({v} AS MAP(VARCHAR, JSON))), "
                f"lambda {e}: {{'key': {key}, 'value': {value}}}), "
                f"lambda {f}: {f}.key IS NOT NULL)) END"
            )
            return self.bind(x, body, v)
        # integers take plain digits only (a JSON 1.5 in an int column is NULL, not 1)
        text = f"({x} ->> '$')"
        return convert_text(text, hive_type(dt), self.ts_formats)
