"""Parquet (ParquetHiveSerDe) with Athena's semantics.

Columns are matched by name, case-insensitively; files written at different times may
hold different column sets, so all files are read with one ``read_parquet(...,
union_by_name = true)`` and a column missing from a file reads as NULL there. The unified
file schema is inspected once per scan so that a table column absent from *every* file
becomes ``NULL::type`` instead of a binder error, and a cast is only emitted where the file
type differs from the declared one: a bare column reference keeps DuckDB's filter and
projection pushdown into the Parquet scan intact.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

import duckdb

from lakebox.catalog.model import Column, Table
from lakebox.catalog.types import duckdb_type
from lakebox.engine.duckdb.formats.base import (
    DataFile,
    FormatReader,
    ReadContext,
    ReadRequest,
    quote_ident,
    sql_list,
    sql_string,
)
from lakebox.engine.duckdb.formats.parquet_types import duckdb_columns
from lakebox.engine.duckdb.formats.thrift import T_LIST, Fields, skip
from lakebox.errors import DataError, InvalidRequestError

#: (file type, declared type) pairs that always convert without loss; other differences
#: go through TRY_CAST so a value that does not fit reads as NULL (Hive semantics)
_WIDENING: frozenset[tuple[str, str]] = frozenset(
    {
        ("TINYINT", "SMALLINT"),
        ("TINYINT", "INTEGER"),
        ("TINYINT", "BIGINT"),
        ("SMALLINT", "INTEGER"),
        ("SMALLINT", "BIGINT"),
        ("INTEGER", "BIGINT"),
        ("UTINYINT", "SMALLINT"),
        ("UTINYINT", "INTEGER"),
        ("UTINYINT", "BIGINT"),
        ("USMALLINT", "INTEGER"),
        ("USMALLINT", "BIGINT"),
        ("UINTEGER", "BIGINT"),
        ("FLOAT", "DOUBLE"),
        ("TINYINT", "DOUBLE"),
        ("SMALLINT", "DOUBLE"),
        ("INTEGER", "DOUBLE"),
        ("DATE", "TIMESTAMP"),
        ("TIMESTAMP_NS", "TIMESTAMP"),
        ("TIMESTAMP_MS", "TIMESTAMP"),
        ("TIMESTAMP_S", "TIMESTAMP"),
    }
)
_BOOL_PROPS = ("parquet.column.index.access",)


def column_expr(source: str | None, file_type: str | None, target: str) -> str:
    """The SELECT expression turning a file column of ``file_type`` into ``target``."""
    if source is None or file_type is None:
        return f"CAST(NULL AS {target})"
    ref = quote_ident(source)
    plain_file, plain_target = file_type.replace('"', ""), target.replace('"', "")
    if plain_file == plain_target:
        return ref
    if plain_file.lower() == plain_target.lower() and "STRUCT(" in target:
        # DuckDB drops a cast between struct types whose field names differ only in case,
        # which would leak the file's spelling; a detour through a type with one more
        # field forces a real cast that renames every level
        detour = target.replace("STRUCT(", 'STRUCT("__lakebox_rename" BOOLEAN, ', 1)
        return f"CAST(CAST({ref} AS {detour}) AS {target})"
    if file_type == "TIMESTAMP WITH TIME ZONE" and target == "TIMESTAMP":
        # instants are shown in UTC as Athena does, whatever the session time zone
        return f"timezone('UTC', {ref})"
    if file_type == "BLOB" and target == "VARCHAR":
        # binary written without a UTF8 annotation holds text; a cast would escape it
        return f"TRY(decode({ref}))"
    if file_type == "VARCHAR" and target == "BLOB":
        return f"encode({ref})"
    if (file_type, target) in _WIDENING:
        return f"CAST({ref} AS {target})"
    return f"TRY_CAST({ref} AS {target})"


def non_empty(files: list[DataFile]) -> list[DataFile]:
    """Zero-byte objects (folder markers, files still being written) hold no rows; binary
    readers would reject them as corrupt."""
    return [f for f in files if f.size > 0]


def empty_scan(columns: list[Column]) -> str:
    """A scan of no rows with the requested columns and types."""
    cols = ", ".join(
        f"CAST(NULL AS {duckdb_type(c.type)}) AS {quote_ident(c.name)}" for c in columns
    )
    return f"SELECT {cols or 'NULL AS __lakebox_empty'} WHERE false"


class ParquetReader(FormatReader):
    name = "parquet"

    def validate(self, table: Table) -> None:
        for key in _BOOL_PROPS:
            for params in (table.serde_parameters, table.parameters):
                value = params.get(key)
                if value is not None and value.lower() not in ("true", "false"):
                    raise InvalidRequestError(
                        f"table {table.qualified_name}: {key} must be true or false, not {value!r}"
                    )

    def scan_sql(self, ctx: ReadContext, request: ReadRequest) -> str:
        files = non_empty(request.files)
        if not files:
            return empty_scan(request.columns)
        if _flag(request, "parquet.column.index.access"):
            return " UNION ALL ".join(
                self._select(ctx, request, group, by_index=True)
                for group in _same_names(ctx, request, files)
            )
        return self._select(ctx, request, files, by_index=False)

    def scan_sql_with_file(
        self, ctx: ReadContext, request: ReadRequest, file_column: str
    ) -> tuple[str, list[str]] | None:
        files = non_empty(request.files)
        if not files or _flag(request, "parquet.column.index.access"):
            return None
        sql = self._select(ctx, request, files, by_index=False, file_column=file_column)
        return sql, [f.engine_path for f in request.files]

    def scan_sql_with_hive_keys(
        self, ctx: ReadContext, request: ReadRequest, keys: list[str]
    ) -> str | None:
        files = non_empty(request.files)
        if not files or _flag(request, "parquet.column.index.access"):
            return None
        return self._select(ctx, request, files, by_index=False, hive_keys=keys)

    @staticmethod
    def _select(
        ctx: ReadContext,
        request: ReadRequest,
        files: list[DataFile],
        by_index: bool,
        file_column: str | None = None,
        hive_keys: list[str] | None = None,
    ) -> str:
        # partition columns come from the catalog, never from DuckDB guessing key=value
        # folders: the file schema is read without them, and Hive partitioning is only asked
        # for keys the caller checked against the catalog (``hive_keys``), as text
        options = "hive_partitioning = false" + ("" if by_index else ", union_by_name = true")
        file_cols, uniform = _file_schema(
            ctx, request, files, options, ctx.principal_key, ctx.policy_version
        )
        # many paths are a variable (``paths_sql``): parsing a long list literal costs
        # DuckDB more than reading 100 footers
        paths = ctx.paths_sql([f.engine_path for f in files])
        partitioning = "hive_partitioning = false"
        extra = ""
        if hive_keys:
            types = ", ".join(f"{sql_string(k)}: 'VARCHAR'" for k in hive_keys)
            partitioning = f"hive_partitioning = true, hive_types = {{{types}}}"
            extra = "".join(f", {quote_ident(k)}" for k in hive_keys)
        # with every file holding the same columns, DuckDB matches them by name without
        # reading every footer at bind time, as union_by_name does (10 files: ~10 ms a query)
        options = partitioning + ("" if by_index or uniform else ", union_by_name = true")
        if file_column is not None:
            options += f", filename = {sql_string(file_column)}"
            extra += f", {quote_ident(file_column)}"
        source = f"read_parquet({paths}, {options})"
        if not request.columns:
            return f"SELECT NULL AS __lakebox_empty{extra} FROM {source}"
        if not extra and not by_index and _identity(file_cols, request):
            # the files hold exactly the table's columns: a shorter statement binds faster
            return f"SELECT * FROM {source}"
        return f"SELECT {select_list(file_cols, request, by_index)}{extra} FROM {source}"


def _schema_error(request: ReadRequest, files: list[DataFile], err: duckdb.Error) -> DataError:
    """Name the file DuckDB could not read (its message holds the path it opened)."""
    text = str(err)
    bad = next((f for f in files if f.engine_path in text), files[0])
    return DataError(
        f"cannot read Parquet file of table {request.table.qualified_name}: {text.splitlines()[0]}",
        bad.uri,
    )


def _same_names(
    ctx: ReadContext, request: ReadRequest, files: list[DataFile]
) -> list[list[DataFile]]:
    """Files grouped by their top-level column names: reading by position, DuckDB can scan
    files together only when it can match their columns by name."""
    paths = sql_list([f.engine_path for f in files])
    try:
        rows = ctx.con.sql(
            f"SELECT file_name, name, num_children FROM parquet_schema({paths})"
        ).fetchall()
    except duckdb.Error as err:
        raise _schema_error(request, files, err) from err
    entries: dict[str, list[tuple[str, int]]] = {}
    for file_name, name, children in rows:
        entries.setdefault(str(file_name), []).append((str(name), int(children or 0)))

    def skip(tree: list[tuple[str, int]], i: int) -> int:
        """Index after the subtree starting at ``i``."""
        end = i + 1
        for _ in range(tree[i][1]):
            end = skip(tree, end)
        return end

    groups: dict[tuple[str, ...], list[DataFile]] = {}
    for f in files:
        tree = entries.get(f.engine_path, [])
        names: list[str] = []
        i = 1  # entry 0 is the schema root
        while i < len(tree):
            names.append(tree[i][0])
            i = skip(tree, i)
        groups.setdefault(tuple(names), []).append(f)
    return list(groups.values())


def _identity(file_cols: list[tuple[str, str]], request: ReadRequest) -> bool:
    """Whether the files' columns are the requested ones: same names, order and types."""
    if len(file_cols) != len(request.columns):
        return False
    return all(
        name == col.name and typ.replace('"', "") == duckdb_type(col.type).replace('"', "")
        for (name, typ), col in zip(file_cols, request.columns, strict=True)
    )


def select_list(file_cols: list[tuple[str, str]], request: ReadRequest, by_index: bool) -> str:
    """The requested columns from a file schema ``[(name, DuckDB type)]``: by name,
    case-insensitively, or by position among the table's columns (``*.column.index.access``)."""
    if by_index:
        positions = {c.name.lower(): i for i, c in enumerate(request.table.columns)}
        picked = {name: file_cols[i] for name, i in positions.items() if i < len(file_cols)}
    else:
        picked = {}
        for name, typ in file_cols:
            picked.setdefault(name.lower(), (name, typ))
    exprs = []
    for col in request.columns:
        found = picked.get(col.name.lower())
        expr = column_expr(
            found[0] if found else None, found[1] if found else None, duckdb_type(col.type)
        )
        exprs.append(f"{expr} AS {quote_ident(col.name)}")
    return ", ".join(exprs) or "NULL AS __lakebox_empty"


#: unified file schemas of recent scans, keyed by the scanned files' identities, so a
#: repeated query does not read every footer twice (DuckDB's scan reads them again); each
#: with whether its files were found uniform from their footers' bytes alone
_SCHEMAS: OrderedDict[tuple[object, ...], tuple[list[tuple[str, str]], bool, bool]] = OrderedDict()
_SCHEMA_CACHE_SIZE = 64
_SCHEMAS_LOCK = threading.Lock()
#: the ReadContext attribute listing the scans whose files were found uniform from their
#: footers' bytes, which DuckDB has not read yet (``footer_error``)
_FOOTERS_ONLY = "_lakebox_parquet_footers_only"


def _file_schema(
    ctx: ReadContext,
    request: ReadRequest,
    files: list[DataFile],
    options: str,
    principal_key: str,
    policy_version: int,
) -> tuple[list[tuple[str, str]], bool]:
    """The unified schema of ``files`` read with ``read_parquet``'s ``options``, and whether
    every file has exactly those columns (names and types), remembered per file identity
    and per principal and policy version: a schema derived under one principal's policy is
    never served to another."""
    key = (
        principal_key,
        policy_version,
        options,
        tuple((f.uri, f.engine_path, f.size, f.mtime, f.ctime) for f in files),
    )
    cacheable = all(f.mtime > 0 for f in files)
    with _SCHEMAS_LOCK:
        found = _SCHEMAS.get(key) if cacheable else None
        if found is not None:
            _SCHEMAS.move_to_end(key)
    if found is None:
        found = _read_file_schema(ctx, request, files, options)
        if cacheable:
            with _SCHEMAS_LOCK:
                _SCHEMAS[key] = found
                while len(_SCHEMAS) > _SCHEMA_CACHE_SIZE:
                    _SCHEMAS.popitem(last=False)
    columns, uniform, footers_only = found
    if footers_only:
        ctx.__dict__.setdefault(_FOOTERS_ONLY, []).append((request, files))
    return columns, uniform


def _read_file_schema(
    ctx: ReadContext, request: ReadRequest, files: list[DataFile], options: str
) -> tuple[list[tuple[str, str]], bool, bool]:
    footers_only = len(files) > 1 and _same_footer_schemas(files)
    if len(files) == 1 or footers_only:
        # the types follow from the first footer's schema alone for plain flat files,
        # without DuckDB setting up a reader for one file (``parquet_types``)
        schema = _footer_schema(files[0].engine_path)
        found = duckdb_columns(schema) if schema is not None else None
        if found is not None:
            return found, True, footers_only or len(files) == 1
    try:
        uniform = len(files) == 1 or footers_only or _duckdb_same_columns(ctx, files)
        if uniform:
            # the first file's footer says it all: a DESCRIBE of the scan would read every
            # footer once more before the query reads them (100 files: ~30 ms)
            source = f"read_parquet({sql_string(files[0].engine_path)}, hive_partitioning = false)"
        else:
            source = f"read_parquet({ctx.paths_sql([f.engine_path for f in files])}, {options})"
        described = ctx.con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as err:
        raise _schema_error(request, files, err) from err
    return [(str(r[0]), str(r[1])) for r in described], uniform, footers_only


def footer_error(ctx: ReadContext) -> DataError | None:
    """The error DuckDB's reading of the footers gives, for the scans whose files were found
    uniform from their footers' bytes alone: a statement that failed asks, so that a file
    whose footer is damaged after its schema fails as it did when DuckDB read every footer
    before the query (that error, naming the file). None when DuckDB reads them all."""
    for request, files in ctx.__dict__.get(_FOOTERS_ONLY, ()):
        try:
            _duckdb_same_columns(ctx, files)
        except duckdb.Error as err:
            return _schema_error(request, files, err)
        except Exception:  # the connection cannot run it now: the statement's own error
            return None
    return None


def _same_columns(ctx: ReadContext, files: list[DataFile]) -> bool:
    """True when all files share one set of columns with the same physical and logical
    types (a timestamp's unit, a decimal's scale), so that any one file's DuckDB types are
    every file's.

    Local files whose footers hold byte for byte the same schema are that (DuckDB's answer
    below is a function of the schema's elements), found without DuckDB: reading 100
    footers' first bytes takes ~2 ms, DuckDB's ``parquet_schema`` pass over them ~25 ms.
    Anything else (a schema that differs, a file that is not plainly Parquet or cannot be
    opened here) is DuckDB's to decide, and to fail on with its own message."""
    return _same_footer_schemas(files) or _duckdb_same_columns(ctx, files)


def _duckdb_same_columns(ctx: ReadContext, files: list[DataFile]) -> bool:
    paths = sql_list([f.engine_path for f in files])
    rows = ctx.con.sql(
        "SELECT count(DISTINCT sig) FROM (SELECT file_name, "
        "list_sort(list(CAST(ROW(name, type, type_length, repetition_type, num_children, "
        "converted_type, scale, precision, logical_type) AS VARCHAR))) AS sig "
        f"FROM parquet_schema({paths}) GROUP BY file_name)"
    ).fetchall()
    return bool(rows) and int(rows[0][0]) == 1


def _flag(request: ReadRequest, key: str) -> bool:
    value = request.serde_params.get(key, request.table_params.get(key, "false"))
    return value.lower() == "true"


# ------------------------------------------------------------------ footers, read here
#: Parquet's magic bytes, which end every file (after the footer and its length)
_MAGIC = b"PAR1"
#: a file's last bytes read at once, in the hope that they hold its whole footer
_FOOTER_TAIL = 8 * 1024
#: a longer footer is not read here (a file whose last bytes claim gigabytes of footer)
_FOOTER_MAX = 16 * 1024 * 1024
#: FileMetaData's field holding the schema (a list of SchemaElement structs)
_SCHEMA_FIELD = 2


def _same_footer_schemas(files: list[DataFile]) -> bool:
    """Whether every file is a local Parquet file whose footer's schema is byte for byte the
    first file's: the same schema elements (names, types, repetition, logical types,
    field ids...) in the same order. False when that cannot be told here.

    The first footer is read up to the end of its schema; the others only need to begin
    with those same bytes (the thrift reading of a prefix depends on nothing after it, so
    they hold that schema, and the same format version, too)."""
    prefix: bytes | None = None
    for f in files:
        path = f.engine_path
        if not os.path.isabs(path):
            return False  # s3:// and other remote paths: DuckDB reads those
        footer = _footer(path)
        if footer is None:
            return False
        if prefix is None:
            found = _schema_span(footer)
            if found is None:
                return False
            prefix = footer[: found[1]]
        elif not footer.startswith(prefix):
            return False
    return prefix is not None


def _footer_schema(path: str) -> bytes | None:
    """The thrift-encoded schema in a Parquet file's footer, or None when the file cannot be
    read or does not end like a Parquet file with a plain (unencrypted) footer."""
    footer = _footer(path)
    found = _schema_span(footer) if footer is not None else None
    if footer is None or found is None:
        return None
    return footer[found[0] : found[1]]


def _footer(path: str) -> bytes | None:
    """The footer of a local Parquet file (its thrift FileMetaData), or None when the file
    cannot be read or does not end like a Parquet file with a plain (unencrypted) footer."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block
    except OSError:
        return None
    try:  # three system calls for most files: fstat, one read, close
        size = os.fstat(fd).st_size
        if size < 12:  # magic, footer length, magic
            return None
        # one read holds the whole footer of most files (~0.5 KB a row group of a few
        # columns); a longer one is read on its own
        start = max(size - _FOOTER_TAIL, 0)
        tail = os.pread(fd, size - start, start)
        length = int.from_bytes(tail[-8:-4], "little")
        if len(tail) != size - start or tail[-4:] != _MAGIC or not 0 < length <= size - 12:
            return None
        if length + 8 <= len(tail):
            return tail[len(tail) - 8 - length : -8]
        if length > _FOOTER_MAX:
            return None  # DuckDB's to read (or refuse)
        footer = os.pread(fd, length, size - 8 - length)
    except OSError:
        return None
    finally:
        os.close(fd)
    return footer if len(footer) == length else None


def _schema_span(footer: bytes) -> tuple[int, int] | None:
    """Where the schema list lies in a thrift compact FileMetaData; None when the bytes end
    before it does or do not read as one."""
    try:
        fields = Fields(footer, 0)
        for field, kind in fields:
            if field == _SCHEMA_FIELD:
                if kind != T_LIST:
                    return None
                start = fields.pos
                end = skip(footer, start, kind, 0)
                return (start, end) if end <= len(footer) else None
        return None  # the struct ended without a schema
    except (IndexError, ValueError):
        return None
