"""From an Athena query to DuckDB SQL over the lake's files.

Planning is a pure AST pass: every catalog table a query names is resolved (views are
expanded in their own database), its partitions are pruned with the query's predicates
(partition projection enumerates candidates instead of reading the catalog), its files are
listed, and the table reference is replaced by a private scan view that the format reader
defines. The engine then runs ordinary DuckDB SQL.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import pyarrow as pa
from sqlglot import exp

from lakebox.catalog.model import Table
from lakebox.catalog.store import CatalogStore
from lakebox.catalog.types import athena_type_name, duckdb_type
from lakebox.engine.duckdb.formats.base import (
    DataFile,
    FormatReader,
    ReadContext,
    ReadRequest,
    quote_ident,
    reader_for,
)
from lakebox.errors import DataError, EntityNotFoundError, LakeboxError, SemanticError
from lakebox.storage import FileInfo, Storage, join_uri
from lakebox.storage.watch import derived

FILE_COLUMN = "__lakebox_file"
#: the folder name Hive writes for a NULL partition value
HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
SYMLINK_INPUT = "org.apache.hadoop.hive.ql.io.symlinktextinputformat"
MAX_VIEW_DEPTH = 32


@dataclass
class ScanStats:
    """What a query read: files opened and their bytes, per table."""

    files: int = 0
    bytes: int = 0
    partitions: int = 0
    tables: list[str] = field(default_factory=list)
    file_uris: list[str] = field(default_factory=list)
    data_files: list[DataFile] = field(default_factory=list, repr=False)
    #: tables whose scan a SCAN_REWRITER served (e.g. from a compacted copy)
    rewritten: list[str] = field(default_factory=list)
    #: engine paths of columnar files (Parquet, ORC) read as they are: their bytes are
    #: counted from the engine's file reads while it runs (its progress is per file)
    columnar: list[str] = field(default_factory=list)

    def add(self, table: str, files: list[DataFile], partitions: int, size: int) -> None:
        self.tables.append(table)
        self.files += len(files)
        self.bytes += size
        self.partitions += partitions
        self.file_uris.extend(f.uri for f in files)
        self.data_files.extend(files)

    def copy(self) -> ScanStats:
        """An independent copy (a cached plan hands one to every run)."""
        return ScanStats(
            self.files,
            self.bytes,
            self.partitions,
            list(self.tables),
            list(self.file_uris),
            list(self.data_files),
            list(self.rewritten),
            list(self.columnar),
        )


@dataclass
class PartitionFiles:
    values: list[str]
    #: shared with other plans of the same listing: never mutate
    files: list[DataFile]
    #: the listing version these files come from (``lakebox.storage.watch``), None when
    #: the listing is not kept current; lets callers remember what they derive from it
    version: int | None = None

    @property
    def total_size(self) -> int:
        return derived(self.version, "size", lambda: sum(f.size for f in self.files))


@dataclass(frozen=True)
class ListingDependency:
    """A plan read this listing; the plan is current while the listing's version is."""

    location: str
    version: int


@dataclass
class Plan:
    sql: str
    views: list[tuple[str, str]]
    stats: ScanStats
    #: the query with catalog tables replaced by scan views, and those views' columns
    tree: exp.Expression | None = None
    schema: dict[str, dict[str, str]] = field(default_factory=dict)
    #: what the plan depends on beyond the statement and the catalog; ``reusable`` is
    #: false when it depends on something nobody can check cheaply (an S3 listing, the
    #: clock of partition projection, information_schema)
    listings: list[ListingDependency] = field(default_factory=list)
    reusable: bool = False

    def unresolved_column(self) -> str | None:
        """Athena's message for a column the query names but no table has, or None.

        Only asked after the engine failed to bind: DuckDB's messages for an unknown column
        are confusing when a select alias has the same name."""
        if self.tree is None:
            return None
        from sqlglot.errors import OptimizeError
        from sqlglot.optimizer.qualify import qualify

        schema: dict[str, object] = {
            view: dict.fromkeys(cols, "INT") for view, cols in self.schema.items()
        }
        try:
            qualify(
                self.tree.copy(), schema=schema, dialect="athena", validate_qualify_columns=True
            )
        except OptimizeError as err:
            text = str(err)
            found = re.search(r"Column '([^']+)' could not be resolved", text) or re.search(
                r"Unknown column: (\S+)", text
            )
            if found:
                return f"COLUMN_NOT_FOUND: Column '{found.group(1)}' cannot be resolved"
        except Exception:
            return None
        return None


ScanRewriter = Callable[[ReadContext, Table, "list[PartitionFiles]"], str | None]
#: translated SQL of recent statements (see Planner.plan)
_TRANSLATIONS: OrderedDict[tuple[object, ...], str] = OrderedDict()
_TRANSLATIONS_SIZE = 256
_TRANSLATIONS_LOCK = threading.Lock()

#: Extension point: functions that may replace a table scan by an equivalent, faster one
#: (e.g. a compacted copy of many small files). The first that returns SQL wins; each must
#: return exactly the rows and types ``Planner.scan_sql`` would.
SCAN_REWRITERS: list[ScanRewriter] = []


def split_table_name(table: exp.Table) -> tuple[str | None, str]:
    """(database, name) of a table reference; a back-quoted ``db.table`` is one identifier
    in sqlglot and is split here."""
    name = table.name
    db = table.db or None
    if db is None and "." in name:
        db, _, name = name.partition(".")
    return (db.lower() if db else None), name.lower()


class Planner:
    """Plans one statement. ``translate`` turns a sqlglot AST into DuckDB SQL."""

    def __init__(
        self,
        catalog: CatalogStore,
        storage: Storage,
        ctx: ReadContext,
        translate: Callable[[exp.Expression, dict[str, dict[str, str]]], str],
        parse: Callable[[str], exp.Expression],
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.catalog = catalog
        self.storage = storage
        self.ctx = ctx
        self.translate = translate
        self.parse = parse
        self.now = now or (lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
        self.stats = ScanStats()
        self.views: list[tuple[str, str]] = []
        #: scan view -> {column: Hive type}, so type-dependent translation rules apply
        self.schema: dict[str, dict[str, str]] = {}
        self._counter = itertools.count()
        self._cacheable = True
        #: listings read while planning, and whether each could be versioned
        self.listings: list[ListingDependency] = []
        self._reusable = True

    # -- entry ------------------------------------------------------------------------
    def plan(self, query: exp.Expression, database: str, cache_key: str | None = None) -> Plan:
        """``cache_key`` (the statement's text) lets a repeated statement skip translation:
        the DuckDB SQL only depends on the text, the database, the catalog's state and the
        scan views' columns, and view names are numbered the same way every time."""
        query = self.resolve(query, database, depth=0)
        key = None
        if cache_key is not None and self._cacheable:
            columns = tuple((v, tuple(c.items())) for v, c in self.schema.items())
            key = (cache_key, database, self.catalog.generation(), columns)
            with _TRANSLATIONS_LOCK:
                sql = _TRANSLATIONS.get(key)
                if sql is not None:
                    _TRANSLATIONS.move_to_end(key)
                    return self._plan(sql, query)
        sql = self.translate(query, self.schema)
        if key is not None:
            with _TRANSLATIONS_LOCK:
                _TRANSLATIONS[key] = sql
                while len(_TRANSLATIONS) > _TRANSLATIONS_SIZE:
                    _TRANSLATIONS.popitem(last=False)
        return self._plan(sql, query)

    def _plan(self, sql: str, query: exp.Expression) -> Plan:
        reusable = self._reusable and self._cacheable
        return Plan(sql, self.views, self.stats, query, self.schema, self.listings, reusable)

    def resolve(self, query: exp.Expression, database: str, depth: int) -> exp.Expression:
        if depth > MAX_VIEW_DEPTH:
            raise SemanticError("views nest too deeply (a view that refers to itself?)")
        cte_names = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
        for table in list(query.find_all(exp.Table)):
            if not isinstance(table.this, exp.Identifier):
                continue  # table functions, UNNEST, ...
            db, name = split_table_name(table)
            if db is None and name in cte_names:
                continue
            replacement = self._resolve_table(table, db or database, name, depth)
            if table is query:
                query = replacement
            else:
                table.replace(replacement)
        return query

    # -- tables and views -------------------------------------------------------------
    def _resolve_table(self, table: exp.Table, db: str, name: str, depth: int) -> exp.Expression:
        if db == "information_schema":
            view = self._information_schema(name)
            self._cacheable = False  # the view's registered name differs per query
            return exp.Table(
                this=exp.to_identifier(view),
                alias=exp.TableAlias(this=exp.to_identifier(table.alias or name, quoted=True)),
            )
        try:
            entry = self.catalog.get_table(db, name)
        except EntityNotFoundError as err:
            raise SemanticError(self._not_found_message(table, db, name, err)) from err
        alias = table.alias or name
        if entry.is_view:
            return self._expand_view(entry, alias, table, depth)
        view = self._scan_view(entry, table)
        return exp.Table(
            this=exp.to_identifier(view),
            alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)),
        )

    def _information_schema(self, name: str) -> str:
        """Athena's information_schema tables, built from the catalog for this query."""
        rows: dict[str, list[object]]
        catalog = "awsdatacatalog"
        dbs = [d.name for d in self.catalog.list_databases()]
        if name == "schemata":
            names: list[object] = [*dbs, "information_schema"]
            rows = {"catalog_name": [catalog] * len(names), "schema_name": names}
        elif name in ("tables", "views"):
            tables = [t for db in dbs for t in self.catalog.list_tables(db)]
            if name == "views":
                tables = [t for t in tables if t.is_view]
            rows = {
                "table_catalog": [catalog] * len(tables),
                "table_schema": [t.database for t in tables],
                "table_name": [t.name for t in tables],
            }
            if name == "tables":
                rows["table_type"] = ["VIEW" if t.is_view else "BASE TABLE" for t in tables]
            else:
                rows["view_definition"] = [t.view_original_text or "" for t in tables]
        elif name == "columns":
            cols = [
                (t, i + 1, c, i >= len(t.columns))
                for db in dbs
                for t in self.catalog.list_tables(db)
                for i, c in enumerate(t.all_columns)
            ]
            rows = {
                "table_catalog": [catalog] * len(cols),
                "table_schema": [t.database for t, _, _, _ in cols],
                "table_name": [t.name for t, _, _, _ in cols],
                "column_name": [c.name for _, _, c, _ in cols],
                "ordinal_position": [pos for _, pos, _, _ in cols],
                "column_default": [None] * len(cols),
                "is_nullable": ["YES"] * len(cols),
                "data_type": [athena_type_name(c.type) for _, _, c, _ in cols],
                "comment": [c.comment for _, _, c, _ in cols],
                "extra_info": ["partition key" if part else None for _, _, _, part in cols],
            }
        else:
            raise SemanticError(f"Table 'information_schema.{name}' does not exist")
        arrays = {
            k: pa.array(v, pa.int64() if k == "ordinal_position" else pa.string())
            for k, v in rows.items()
        }
        return self.ctx.register(pa.table(arrays), f"is_{name}")

    def _not_found_message(
        self, table: exp.Table, db: str, name: str, err: EntityNotFoundError
    ) -> str:
        where = ""
        meta = table.this.meta if isinstance(table.this, exp.Identifier) else {}
        if meta.get("line"):
            where = f"line {meta['line']}:{meta.get('col', 0)}: "
        if "Database" in str(err):
            return f"{where}Schema '{db}' does not exist"
        return f"{where}Table '{db}.{name}' does not exist"

    def _expand_view(self, view: Table, alias: str, table: exp.Table, depth: int) -> exp.Expression:
        text = view.view_original_text or ""
        inner = self.resolve(self.parse(text), view.database, depth + 1)
        if not isinstance(inner, exp.Query):
            raise SemanticError(f"view {view.qualified_name} does not hold a query")
        return exp.Subquery(
            this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True))
        )

    # -- scans ------------------------------------------------------------------------
    def _scan_view(self, table: Table, ref: exp.Table) -> str:
        predicate = self._partition_predicate(table, ref) if table.partition_keys else None
        partitions = self.partitions_for(table, predicate)
        files_all = (
            partitions[0].files
            if len(partitions) == 1
            else [f for p in partitions for f in p.files]
        )
        size = sum(p.total_size for p in partitions)
        self.stats.add(table.qualified_name, files_all, len(partitions), size)
        name = f"__lakebox_t{next(self._counter)}_{table.name}"
        sql = None
        for rewrite in SCAN_REWRITERS:
            sql = rewrite(self.ctx, table, partitions)
            if sql is not None:
                self.stats.rewritten.append(table.qualified_name)
                break
        if sql is None and reader_for(table).name in ("parquet", "orc"):
            self.stats.columnar.extend(f.engine_path for f in files_all)
        self.views.append((name, sql if sql is not None else self.scan_sql(table, partitions)))
        self.schema[name] = {c.name.lower(): c.type for c in table.all_columns}
        return name

    def scan_sql(self, table: Table, partitions: list[PartitionFiles]) -> str:
        """The table's rows with partition columns appended: one scan over every file when
        the reader can name each row's file (partition values joined by file), otherwise one
        SELECT per partition with the values as constants."""
        parts: list[str] = []
        data_cols = ", ".join(quote_ident(c.name) for c in table.columns)
        reader = reader_for(table)
        with_files = [p for p in partitions if p.files]
        if len(with_files) > 1:
            joined = self._scan_by_file(table, reader, with_files)
            if joined is not None:
                return joined
        for part in partitions:
            if not part.files:
                continue
            scan = reader.scan_sql(self.ctx, ReadRequest(table, part.files, table.columns))
            consts = "".join(
                f", TRY_CAST({_literal(v)} AS {duckdb_type(k.type)}) AS {quote_ident(k.name)}"
                if v != HIVE_DEFAULT_PARTITION
                else f", CAST(NULL AS {duckdb_type(k.type)}) AS {quote_ident(k.name)}"
                for k, v in zip(table.partition_keys, part.values, strict=True)
            )
            if not consts and len(partitions) == 1:
                parts.append(scan)  # the reader yields exactly the table's columns
            else:
                parts.append(f"SELECT {data_cols}{consts} FROM ({scan})")
        if not parts:
            cols = ", ".join(
                f"CAST(NULL AS {duckdb_type(c.type)}) AS {quote_ident(c.name)}"
                for c in table.all_columns
            )
            return f"SELECT {cols} WHERE false"
        return "\nUNION ALL BY NAME\n".join(parts) if len(parts) > 1 else parts[0]

    def _scan_by_file(
        self, table: Table, reader: FormatReader, partitions: list[PartitionFiles]
    ) -> str | None:
        files = [f for p in partitions for f in p.files]
        found = reader.scan_sql_with_file(
            self.ctx, ReadRequest(table, files, table.columns), FILE_COLUMN
        )
        if found is None:
            return None
        scan, opened = found
        owner: list[list[str]] = [p.values for p in partitions for _ in p.files]
        arrays = {FILE_COLUMN: pa.array(opened, pa.string())}
        for i in range(len(table.partition_keys)):
            arrays[f"__k{i}"] = pa.array([_value(values[i]) for values in owner], pa.string())
        mapping = self.ctx.register(pa.table(arrays), "files")
        data_cols = ", ".join(f"s.{quote_ident(c.name)}" for c in table.columns)
        keys = "".join(
            f", TRY_CAST(p.__k{i} AS {duckdb_type(k.type)}) AS {quote_ident(k.name)}"
            for i, k in enumerate(table.partition_keys)
        )
        return (
            f"SELECT {data_cols}{keys} FROM ({scan}) AS s "
            f"JOIN {mapping} AS p ON s.{FILE_COLUMN} = p.{FILE_COLUMN}"
        )

    # -- partitions -------------------------------------------------------------------
    def _partition_predicate(self, table: Table, ref: exp.Table) -> exp.Expression | None:
        """A predicate on this table's partition keys implied by the enclosing WHERE, with
        qualifiers stripped; None when the WHERE implies nothing about them.

        Each conjunct is reduced to what it says about partition keys alone: ``a AND b``
        keeps the parts that do, ``a OR b`` survives only if both sides do, so that
        ``dt = '1' OR (dt = '2' AND id > 20)`` still prunes to two partitions."""
        select = ref.find_ancestor(exp.Select)
        if select is None or not isinstance(select.args.get("where"), exp.Where):
            return None
        keys = {k.name.lower() for k in table.partition_keys}
        alias = (ref.alias or ref.name).lower()
        single_source = not select.args.get("joins")

        def is_key(col: exp.Column) -> bool:
            qual = col.table.lower()
            return col.name.lower() in keys and (qual == alias or (not qual and single_source))

        def implied(node: exp.Expr) -> exp.Expression | None:
            if isinstance(node, exp.Paren):
                return implied(node.this)
            if isinstance(node, exp.And):
                parts = [p for p in (implied(node.left), implied(node.right)) if p is not None]
                if not parts:
                    return None
                return parts[0] if len(parts) == 1 else cast(exp.Expression, exp.and_(*parts))
            if isinstance(node, exp.Or):
                left, right = implied(node.left), implied(node.right)
                if left is None or right is None:
                    return None
                return cast(exp.Expression, exp.or_(left, right))
            if node.find(exp.Subquery, exp.AggFunc, exp.Select, exp.Window) is not None:
                return None
            cols = list(node.find_all(exp.Column))
            if not cols or not all(is_key(c) for c in cols):
                return None
            stripped = cast(exp.Expression, node.copy())
            for col in stripped.find_all(exp.Column):
                col.set("table", None)
                col.set("db", None)
            return stripped

        return implied(select.args["where"].this)

    def partitions_for(
        self, table: Table, predicate: exp.Expression | None = None
    ) -> list[PartitionFiles]:
        if not table.partition_keys:
            return [self._partition_files(table, [], table.location)]
        from lakebox.catalog.projection import ProjectionConfig

        projection = ProjectionConfig.from_table(table)
        if projection is not None:
            self._reusable = False  # candidates depend on the clock (NOW-relative ranges)
            from lakebox.sql.constraints import extract_constraints

            constraints = extract_constraints(
                predicate, {k.name.lower(): k.type for k in table.partition_keys}
            )
            candidates = [
                (list(p.values), p.location) for p in projection.enumerate(constraints, self.now())
            ]
        else:
            candidates = [
                (p.values, p.location or default_partition_location(table, p.values))
                for p in self.catalog.get_partitions(table.database, table.name)
            ]
        if predicate is not None and candidates:
            keep = self._evaluate(table, predicate, [v for v, _ in candidates])
            candidates = [c for i, c in enumerate(candidates) if i in keep]
        return [self._partition_files(table, values, location) for values, location in candidates]

    def _partition_files(
        self, table: Table, values: list[str], location: str | None
    ) -> PartitionFiles:
        if not location:
            raise SemanticError(f"table {table.qualified_name} has no LOCATION")
        if (table.input_format or "").lower() == SYMLINK_INPUT:
            self._reusable = False  # manifests name files that are checked one by one
            return PartitionFiles(values, self._symlink_files(location))
        listing = self.storage.listing(location)
        if listing.version is None:
            self._reusable = False
        else:
            self.listings.append(ListingDependency(location, listing.version))
        files = derived(listing.version, "data_files", lambda: self._data_files(listing.files))
        return PartitionFiles(values, files, listing.version)

    def _data_files(self, found: list[FileInfo]) -> list[DataFile]:
        engine_path = self.storage.engine_path
        return [
            DataFile(f.uri, f.path or engine_path(f.uri), f.size, f.mtime, f.ctime) for f in found
        ]

    def _evaluate(
        self, table: Table, predicate: exp.Expression, values: list[list[str]]
    ) -> set[int]:
        """Indexes of the partitions whose values satisfy ``predicate``, decided by DuckDB
        over a small typed table of partition values (exact, whatever the predicate)."""
        keys = table.partition_keys
        arrays = {"__idx": pa.array(range(len(values)), pa.int64())}
        for i, k in enumerate(keys):
            arrays[k.name.lower()] = pa.array([_value(v[i]) for v in values], pa.string())
        name = self.ctx.register(pa.table(arrays), "parts")
        typed = ", ".join(
            f"TRY_CAST({quote_ident(k.name.lower())} AS {duckdb_type(k.type)}) "
            f"AS {quote_ident(k.name.lower())}"
            for k in keys
        )
        sql = (
            f"SELECT __idx FROM (SELECT __idx, {typed} FROM {name}) "
            f"WHERE {self.translate(predicate, {})}"
        )
        try:
            rows = self.ctx.con.sql(sql).fetchall()
        except Exception:
            return set(range(len(values)))
        return {int(r[0]) for r in rows}

    # -- files ------------------------------------------------------------------------
    def list_data_files(self, table: Table, location: str | None) -> list[DataFile]:
        return list(self._partition_files(table, [], location).files)

    def _symlink_files(self, location: str) -> list[DataFile]:
        """SymlinkTextInputFormat: each manifest line names a data file or a folder."""
        out: list[DataFile] = []
        for manifest in self.storage.list_files(location):
            try:
                text = self.storage.read_bytes(manifest.uri).decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataError(
                    f"a symlink manifest must be UTF-8 text ({err.reason} at byte {err.start})",
                    manifest.uri,
                ) from err
            for lineno, line in enumerate(text.splitlines(), 1):
                target = line.strip()
                if not target:
                    continue
                try:
                    found = self.storage.list_files(target)
                    if not found and self.storage.exists(target):
                        found = [self.storage.info(target)]
                except LakeboxError as err:
                    raise DataError(
                        f"bad manifest entry {target!r}: {err}", manifest.uri, lineno
                    ) from err
                if not found:
                    raise DataError(
                        f"manifest entry {target!r} does not exist", manifest.uri, lineno
                    )
                out.extend(self._data_files(found))
        return out


def _value(raw: str) -> str | None:
    """A partition value as queries see it: Hive's default partition is NULL."""
    return None if raw == HIVE_DEFAULT_PARTITION else raw


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def default_partition_location(table: Table, values: list[str]) -> str:
    from lakebox.catalog.model import partition_path

    if not table.location:
        raise SemanticError(f"table {table.qualified_name} has no LOCATION")
    return join_uri(table.location, partition_path(table.partition_keys, values))
