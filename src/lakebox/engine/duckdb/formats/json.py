"""JSON lines: the Hive JsonSerDe (``STORED AS JSON``) and the OpenX JsonSerDe.

One object per line; keys match columns case-insensitively (Hive lower-cases them), a
missing key is NULL, a value of the wrong type is NULL. DuckDB's JSON reader matches keys
case-sensitively, so each file's top-level key spellings are found first (one vectorised
pass, cached per file by URI, size and modification time) and every declared column is
read through the spellings that exist; nested struct fields are matched per row in SQL.

A malformed line fails the query with a DataError naming the file and line, unless the
OpenX property ``ignore.malformed.json`` is true, which makes it a row of NULLs.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
from sqlglot import exp

from lakebox.catalog.model import Column, Table
from lakebox.catalog.types import hive_type, parse_type
from lakebox.engine.duckdb.formats.base import (
    DataFile,
    FormatReader,
    ReadContext,
    ReadRequest,
    quote_ident,
    sql_list,
    sql_string,
)
from lakebox.engine.duckdb.formats.text import (
    MAX_LINE_SIZE,
    convert_text,
    engine_paths,
    timestamp_formats,
    with_file_column,
)
from lakebox.errors import DataError, InvalidRequestError, SemanticError
from lakebox.formats import compression

_SIMPLE = re.compile(r'"[^"]*"|__j[0-9]+(\.(key|value))?')
_FILE_IN_ERROR = re.compile(r'in file "(?P<file>[^"]*)"')
#: bump when the cached key-scan format changes
_CACHE_VERSION = "1"


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


@dataclass
class _FileKeys:
    keys: list[str]
    bad: bool  # holds a malformed or non-object line


def _load_entry(entry: Path) -> _FileKeys | None:
    try:
        data = json.loads(entry.read_text())
        return _FileKeys(list(data["keys"]), bool(data["bad"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


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

    # -- key discovery --------------------------------------------------------------------

    def _file_keys(
        self, ctx: ReadContext, files: list[DataFile], paths: list[str], opts: JsonOptions
    ) -> list[_FileKeys]:
        cache = ctx.cache_dir / "json-keys"
        found: dict[str, _FileKeys] = {}
        missing: list[tuple[DataFile, str]] = []
        for f, path in zip(files, paths, strict=True):
            entry = cache / (compression.cache_key(f.uri, f.size, f.mtime) + _CACHE_VERSION)
            cached = _load_entry(entry)
            if cached is not None:
                found[f.uri] = cached
            else:
                missing.append((f, path))
        if missing:
            by_path = {path: f for f, path in missing}
            scanned = self._scan_keys(ctx, [p for _f, p in missing], by_path)
            cache.mkdir(parents=True, exist_ok=True)
            for f, path in missing:
                keys = scanned.get(path, _FileKeys([], False))
                found[f.uri] = keys
                entry = cache / (compression.cache_key(f.uri, f.size, f.mtime) + _CACHE_VERSION)
                tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps({"keys": keys.keys, "bad": keys.bad}))
                os.replace(tmp, entry)  # atomic: a concurrent query never sees half an entry
        result = [found[f.uri] for f in files]
        if not opts.ignore_malformed:
            for f, keys in zip(files, result, strict=True):
                if keys.bad:
                    raise self._malformed(ctx, f)
        return result

    def _scan_keys(
        self,
        ctx: ReadContext,
        paths: list[str],
        by_path: dict[str, DataFile],
    ) -> dict[str, _FileKeys]:
        # ignore_errors here even when the table fails on bad lines: a malformed line comes
        # back as NULL and the failure is raised afterwards with the exact line number,
        # which DuckDB's own message does not give reliably (it is off by one in 2.0)
        def query(paths: list[str]) -> str:
            return (
                "SELECT filename, CASE WHEN json_type(json) = 'OBJECT' THEN json_keys(json) "
                "END AS keys FROM read_ndjson_objects("
                f"{sql_list(paths)}, filename = true, ignore_errors = true, "
                f"maximum_object_size = {MAX_LINE_SIZE}, compression = 'auto') "
                "GROUP BY ALL"
            )

        try:
            with ctx.reading(sum(f.size for f in by_path.values())):
                rows = ctx.con.sql(query(paths)).fetchall()
        except duckdb.Error as err:
            ctx.check_stop()  # cancelled (or over a scan cutoff), not bad data
            m = _FILE_IN_ERROR.search(str(err))
            f = by_path.get(m.group("file")) if m else None
            if f is not None:
                raise self._malformed(ctx, f) from err
            from lakebox.engine.duckdb.messages import engine_message

            message = f"cannot read JSON data: {engine_message(str(err))}"
            path = next((p for p in paths if p in str(err) and p in by_path), None)
            if path is not None:  # e.g. a damaged .gz: name it by its lake URI
                message = message.replace(path, "").rstrip(": ")
                raise DataError(message, by_path[path].uri) from err
            # e.g. a damaged .zst: DuckDB's message names no file, so find it (error path)
            for path in paths if len(paths) > 1 else []:
                try:
                    ctx.con.sql(query([path])).fetchall()
                except duckdb.Error:
                    f = by_path.get(path)
                    break
            f = f or (by_path.get(paths[0]) if len(paths) == 1 else None)
            raise DataError(message, f.uri if f else None) from err
        out: dict[str, _FileKeys] = {}
        for filename, keys in rows:
            entry = out.setdefault(filename, _FileKeys([], False))
            if keys is None:
                entry.bad = True
            else:
                for k in keys:
                    if k not in entry.keys:
                        entry.keys.append(k)
        return out

    def _malformed(self, ctx: ReadContext, f: DataFile) -> DataError:
        """The first line of ``f`` that is not a JSON object, found in Python (error path only)."""
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

    # -- SQL ------------------------------------------------------------------------------

    def scan_sql(self, ctx: ReadContext, request: ReadRequest) -> str:
        return self._select(ctx, request, engine_paths(ctx, request.files), None)

    def scan_sql_with_file(
        self, ctx: ReadContext, request: ReadRequest, file_column: str
    ) -> tuple[str, list[str]] | None:
        paths = engine_paths(ctx, request.files)
        return self._select(ctx, request, paths, file_column), paths

    def _select(
        self, ctx: ReadContext, request: ReadRequest, paths: list[str], file_column: str | None
    ) -> str:
        table = request.table
        opts = self.options(table)
        per_file = self._file_keys(ctx, request.files, paths, opts)
        spellings: list[str] = []
        for fk in per_file:
            for k in fk.keys:
                if k not in spellings:
                    spellings.append(k)

        wanted: dict[str, list[str]] = {}
        for col in request.columns:
            target = opts.mappings.get(col.name.lower(), col.name)
            wanted[col.name] = [k for k in spellings if opts.norm(k) == opts.norm(target)]
        read_keys = [k for keys in wanted.values() for k in keys]
        # DuckDB names columns case-insensitively: spellings that differ only in case (or a
        # key read by two columns) cannot all be read_json columns, so such tables read the
        # whole object and pick keys per row
        lowered = [k.lower() for k in read_keys]
        if len(set(lowered)) == len(lowered):
            return self._columns_sql(paths, request.columns, wanted, opts, file_column)
        return self._objects_sql(paths, request.columns, wanted, opts, file_column)

    def _read_options(self, opts: JsonOptions, file_column: str | None) -> str:
        """read_json's options; with ``file_column`` each row also names its file there."""
        named = f", filename = {sql_string(file_column)}" if file_column is not None else ""
        return (
            f"ignore_errors = {'true' if opts.ignore_malformed else 'false'}, "
            f"maximum_object_size = {MAX_LINE_SIZE}, compression = 'auto'{named}"
        )

    def _columns_sql(
        self,
        paths: list[str],
        columns: list[Column],
        wanted: dict[str, list[str]],
        opts: JsonOptions,
        file_column: str | None,
    ) -> str:
        # read_json names each column after its JSON key
        keys_read = dict.fromkeys(k for keys in wanted.values() for k in keys)
        spec = ", ".join(f"{sql_string(k)}: 'JSON'" for k in keys_read)
        spec = spec or "'__lakebox_none': 'JSON'"
        builder = _JsonSql(opts, opts.ts_formats)
        cols = []
        for col in columns:
            keys = wanted[col.name]
            raw = (
                f"coalesce({', '.join(quote_ident(k) for k in keys)})"
                if len(keys) > 1
                else quote_ident(keys[0])
                if keys
                else "NULL::JSON"
            )
            cols.append(f"{builder.convert(raw, parse_type(col.type))} AS {quote_ident(col.name)}")
        select = ", ".join(cols) or "NULL AS __lakebox_empty"
        return (
            f"SELECT {select}{with_file_column(file_column)} FROM read_json({sql_list(paths)}, "
            "format = 'newline_delimited', records = true, "
            f"columns = {{{spec}}}, {self._read_options(opts, file_column)})"
        )

    def _objects_sql(
        self,
        paths: list[str],
        columns: list[Column],
        wanted: dict[str, list[str]],
        opts: JsonOptions,
        file_column: str | None,
    ) -> str:
        builder = _JsonSql(opts, opts.ts_formats)
        cols = []
        for col in columns:
            keys = wanted[col.name]
            parts = [f"json -> {sql_string(_path(k))}" for k in keys]
            raw = f"coalesce({', '.join(parts)})" if parts else "NULL::JSON"
            cols.append(f"{builder.convert(raw, parse_type(col.type))} AS {quote_ident(col.name)}")
        select = ", ".join(cols) or "NULL AS __lakebox_empty"
        return (
            f"SELECT {select}{with_file_column(file_column)} FROM "
            f"read_ndjson_objects({sql_list(paths)}, {self._read_options(opts, file_column)})"
        )


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
        if not self.opts.case_insensitive and not self.opts.dots_in_keys:
            return exact
        k = self.var()
        key = k
        if self.opts.dots_in_keys:
            key = f"replace({key}, '.', '_')"
        if self.opts.case_insensitive:
            key = f"lower({key})"
        found = f"list_filter(json_keys({v}), lambda {k}: {key} = {sql_string(self.opts.norm(name))})[1]"
        escaped = f"replace(replace({found}, '\\', '\\\\'), '\"', '\\\"')"
        fallback = f"json_extract({v}, '$.\"' || {escaped} || '\"')"
        return (
            f"CASE WHEN json_exists({v}, {sql_string(_path(name))}) THEN {exact} "
            f"ELSE {fallback} END"
        )

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
