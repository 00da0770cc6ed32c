"""From an Athena query to an engine-neutral plan over the lake's files.

Planning is a pure AST pass: every catalog table a query names is resolved (views are
expanded in their own database), its partitions are pruned with the query's predicates
(partition projection enumerates candidates instead of reading the catalog; an engine's
``PartitionFilter`` decides which values satisfy the predicate), its files are listed, and
the table reference is replaced by a named scan placeholder described by a ``ScanSpec``
(``lakebox.sql.plan``). An engine then compiles and runs the plan.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable
from typing import cast

import pyarrow as pa
from sqlglot import exp

from lakebox.catalog.model import Column, Table
from lakebox.catalog.permissions import FULL_VIEW, TableView
from lakebox.catalog.store import CatalogStore
from lakebox.catalog.types import athena_type_name
from lakebox.catalog.visibility import OPEN, Visibility
from lakebox.errors import DataError, EntityNotFoundError, LakeboxError, SemanticError
from lakebox.formats.base import DataFile
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.sql.access import OPEN_ACCESS, QueryAccessDenied, TableAccess
from lakebox.sql.dialect import is_current_schema
from lakebox.sql.plan import (
    HIVE_DEFAULT_PARTITION,
    PSEUDO_COLUMNS,
    ListingDependency,
    PartitionFiles,
    PartitionFilter,
    Plan,
    ScanSpec,
    ScanStats,
    pseudo_columns_of,
    pseudo_values,
)
from lakebox.sql.restriction import parse_row_filter
from lakebox.storage import FileInfo, Storage, join_uri

__all__ = [
    "HIVE_DEFAULT_PARTITION",
    "ListingDependency",
    "PartitionFiles",
    "Plan",
    "Planner",
    "ScanSpec",
    "ScanStats",
]

SYMLINK_INPUT = "org.apache.hadoop.hive.ql.io.symlinktextinputformat"
MAX_VIEW_DEPTH = 32


def split_table_name(table: exp.Table) -> tuple[str | None, str]:
    """(database, name) of a table reference; a back-quoted ``db.table`` is one identifier
    in sqlglot and is split here."""
    name = table.name
    db = table.db or None
    if db is None and "." in name:
        db, _, name = name.partition(".")
    return (db.lower() if db else None), name.lower()


class Planner:
    """Plans one statement for ``principal``: resolves, prunes and lists. ``partitions``
    (the engine's) decides which partition values satisfy a predicate."""

    def __init__(
        self,
        catalog: CatalogStore,
        storage: Storage,
        partitions: PartitionFilter,
        parse: Callable[[str], exp.Expression],
        now: Callable[[], dt.datetime] | None = None,
        principal: Principal = LOCAL_ADMIN,
        visibility: Visibility = OPEN,
        access: TableAccess = OPEN_ACCESS,
    ) -> None:
        self.catalog = catalog
        self.storage = storage
        self.partitions = partitions
        self.parse = parse
        self.now = now or (lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
        self.principal = principal
        self.visibility = visibility
        #: who decides what the principal may read (never asked for the local admin)
        self.access: TableAccess | None = None if principal.is_local_admin else access
        self.stats = ScanStats()
        self.scans: list[ScanSpec] = []
        #: scan placeholder -> {column: Hive type}, so type-dependent translation rules apply
        self.schema: dict[str, dict[str, str]] = {}
        self._counter = itertools.count()
        self._cacheable = True
        #: listings read while planning, and whether each could be versioned
        self.listings: list[ListingDependency] = []
        self._reusable = True
        #: the Lake Formation restrictions applied, part of the plan's key: a translation
        #: kept for another lake whose policy has the same version never serves this one
        self._restrictions: list[
            tuple[str, tuple[str, ...], str | None, tuple[tuple[str, str], ...]]
        ] = []

    # -- entry ------------------------------------------------------------------------
    def plan(self, query: exp.Expression, database: str, cache_key: str | None = None) -> Plan:
        """``cache_key`` (the statement's text) gives the plan a ``key``: the resolved tree
        only depends on the text, the database, the catalog's state, the scans' columns
        and what the principal may see under the current policy (placeholders are numbered
        the same way every time), so an engine can reuse its translation of it."""
        query = _session_values(self.resolve(query, database, depth=0), database, self.principal)
        key = None
        if cache_key is not None and self._cacheable:
            columns = tuple((v, tuple(c.items())) for v, c in self.schema.items())
            key = (
                cache_key,
                database,
                self.catalog.generation(),
                columns,
                self.principal.key,
                self.visibility.policy_version(),
                tuple(self._restrictions),
            )
        reusable = self._reusable and self._cacheable
        return Plan(query, self.scans, self.stats, self.schema, self.listings, reusable, key)

    def resolve(self, query: exp.Expression, database: str, depth: int) -> exp.Expression:
        if depth > MAX_VIEW_DEPTH:
            raise SemanticError("views nest too deeply (a view that refers to itself?)")
        cte_names = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
        _refuse_engine_functions(query)
        _drop_database_qualifiers(query)
        for table in list(query.find_all(exp.Table)):
            if not isinstance(table.this, exp.Identifier):
                continue  # UNNEST, ...
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
            self._cacheable = False  # its rows are read from the catalog for each query
            return exp.Table(
                this=exp.to_identifier(view),
                alias=exp.TableAlias(this=exp.to_identifier(table.alias or name, quoted=True)),
            )
        try:
            entry = self.catalog.get_table(db, name)
        except EntityNotFoundError as err:
            raise SemanticError(self._not_found_message(table, db, name, err)) from err
        restriction = FULL_VIEW
        if self.access is not None:
            self.access.check_table(self.principal, entry)
            restriction = self.access.table_view(self.principal, entry)
        alias = table.alias or name
        if entry.is_view:
            expanded = self._expand_view(entry, alias, table, depth)
            if restriction.unrestricted:
                return expanded
            return self._restricted_view(entry, expanded, alias, restriction)
        if not restriction.unrestricted:
            return self._restricted_scan(entry, table, alias, restriction)
        view = self._scan_view(entry, table)
        return exp.Table(
            this=exp.to_identifier(view),
            alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)),
        )

    def _restricted_scan(
        self, table: Table, ref: exp.Table, alias: str, restriction: TableView
    ) -> exp.Expression:
        """The table as ``principal`` may read it (Lake Formation's column and row
        restrictions): a derived table under the reference's alias that projects only
        the visible columns of the rows that satisfy the row filter, so no other part of
        the query (its predicates, joins, functions, pseudo-columns, errors) sees a hidden
        column or a filtered row. Partitions are pruned by the row filter, then by what
        the query's WHERE implies about the partition keys (partition values are catalog
        metadata, not rows). Pseudo-columns are read from the filtered rows only, and the
        files are not pruned by them (that would evaluate the query on filtered rows)."""
        columns = [
            c.name.lower()
            for c in table.all_columns
            if restriction.columns is None or c.name.lower() in restriction.columns
        ]
        if not columns:
            raise QueryAccessDenied(
                f"Insufficient Lake Formation permission(s): Required Select on {table.name}",
                "SELECT",
                table.qualified_name,
            )
        self._restrictions.append(
            (
                table.qualified_name,
                tuple(columns),
                restriction.row_filter,
                restriction.column_filters,
            )
        )
        pseudo = self._pseudo_columns(table, ref)
        keys = {k.name.lower() for k in table.partition_keys}
        if keys - set(columns):
            # a partition's values and its files' paths spell its keys' values: with a
            # key hidden they are unknown, as the key itself is
            for name in pseudo:
                if name in _PARTITION_SPELLING:
                    raise SemanticError(f"COLUMN_NOT_FOUND: Column '{name}' cannot be resolved")
        if pseudo:
            _hide_from_stars(ref, pseudo)
        # the query may prune by the keys it may see (a hidden key fails it as unknown,
        # and is never evaluated first)
        shown_keys = keys.intersection(columns)
        asked = self._implied_predicate(ref, shown_keys) if shown_keys else None
        inner_alias = "__lakebox_lf"
        row_filter = (
            parse_row_filter(table, restriction.row_filter, inner_alias)
            if restriction.row_filter is not None
            else None
        )
        inner_ref = exp.Table(
            this=exp.to_identifier(table.name),
            alias=exp.TableAlias(this=exp.to_identifier(inner_alias, quoted=True)),
        )
        projections = _restricted_projections(table, columns, restriction, inner_alias)
        # unqualified, in the SELECT that reads the scan: how ``_scan_view`` finds them
        projections += [exp.Column(this=exp.to_identifier(p, quoted=True)) for p in pseudo]
        inner = exp.Select(expressions=projections, from_=exp.From(this=inner_ref))
        # what the scan prunes partitions with: the row filter's part about the keys,
        # then the query's
        implied = None
        if row_filter is not None and keys:
            inner.set("where", exp.Where(this=row_filter))
            implied = self._implied_predicate(inner_ref, keys)
        condition = implied or asked
        if implied is not None and asked is not None:
            if _projection_enabled(table):
                # both bound the enumeration (candidates come from the table's properties)
                condition = exp.And(this=exp.Paren(this=implied), expression=exp.Paren(this=asked))
            else:
                # the query's predicate is only evaluated on partitions the filter keeps
                condition = exp.Case(
                    ifs=[exp.If(this=exp.Paren(this=implied), true=exp.Paren(this=asked))],
                    default=exp.false(),
                )
        inner.set("where", None if condition is None else exp.Where(this=condition))
        scan = self._scan_view(table, inner_ref)
        inner_ref.set("this", exp.to_identifier(scan))
        inner.set("where", None if row_filter is None else exp.Where(this=row_filter))
        return exp.Subquery(
            this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True))
        )

    def _restricted_view(
        self, view: Table, expanded: exp.Expression, alias: str, restriction: TableView
    ) -> exp.Expression:
        """A view as ``principal`` may read it: its granted columns (and rows, should a
        restriction name any) over the expanded view, which holds its tables' own
        restrictions already."""
        columns = [
            c.name.lower()
            for c in view.all_columns
            if restriction.columns is None or c.name.lower() in restriction.columns
        ]
        if not columns:
            raise QueryAccessDenied(
                f"Insufficient Lake Formation permission(s): Required Select on {view.name}",
                "SELECT",
                view.qualified_name,
            )
        self._restrictions.append(
            (
                view.qualified_name,
                tuple(columns),
                restriction.row_filter,
                restriction.column_filters,
            )
        )
        inner_alias = "__lakebox_lf"
        expanded.set("alias", exp.TableAlias(this=exp.to_identifier(inner_alias, quoted=True)))
        inner = exp.Select(
            expressions=_restricted_projections(view, columns, restriction, inner_alias),
            from_=exp.From(this=expanded),
        )
        if restriction.row_filter is not None:
            condition = parse_row_filter(view, restriction.row_filter, inner_alias)
            inner.set("where", exp.Where(this=condition))
        return exp.Subquery(
            this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True))
        )

    def _visible_tables(self, database: str) -> list[Table]:
        return self.visibility.tables(self.principal, self.catalog.list_tables(database))

    def _information_schema(self, name: str) -> str:
        """Athena's information_schema tables, built from what the catalog lets the
        principal see, for this query: an inline scan."""
        rows: dict[str, list[object]]
        catalog = "awsdatacatalog"
        seen = self.visibility.databases(self.principal, self.catalog.list_databases())
        dbs = [d.name for d in seen]
        if name == "schemata":
            names: list[object] = [*dbs, "information_schema"]
            rows = {"catalog_name": [catalog] * len(names), "schema_name": names}
        elif name in ("tables", "views"):
            tables = [t for db in dbs for t in self._visible_tables(db)]
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
                (t, i + 1, c, is_key)
                for db in dbs
                for t in self._visible_tables(db)
                for i, (c, is_key) in enumerate(self._visible_columns(t))
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
        view = f"__lakebox_is{next(self._counter)}_{name}"
        self.scans.append(ScanSpec(view, rows=pa.table(arrays)))
        return view

    def _visible_columns(self, table: Table) -> list[tuple[Column, bool]]:
        """The table's columns the principal sees, in the table's order (data, then keys),
        each with whether it is a partition key."""
        seen = {c.name for c in self.visibility.columns(self.principal, table)}
        ndata = len(table.columns)
        return [(c, i >= ndata) for i, c in enumerate(table.all_columns) if c.name in seen]

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
        keys = {k.name.lower() for k in table.partition_keys}
        predicate = self._implied_predicate(ref, keys) if keys else None
        if _changes_over_time(predicate):
            self._reusable = False  # what it keeps depends on when the query runs
        partitions = self.partitions_for(table, predicate)
        pseudo = self._pseudo_columns(table, ref)
        if pseudo:
            partitions = self._prune_files(table, ref, partitions, set(pseudo))
            _hide_from_stars(ref, pseudo)
        if self.access is not None:
            self.access.check_files(self.principal, table, partitions)
        name = f"__lakebox_t{next(self._counter)}_{table.name}"
        scan = ScanSpec(name, table, partitions, list(table.columns), predicate, pseudo=pseudo)
        self.stats.add(
            table.qualified_name, scan.files, len(partitions), sum(p.total_size for p in partitions)
        )
        self.scans.append(scan)
        self.schema[name] = {c.name.lower(): c.type for c in table.all_columns}
        self.schema[name].update((p, PSEUDO_COLUMNS[p]) for p in pseudo)
        return name

    # -- pseudo-columns ---------------------------------------------------------------
    @staticmethod
    def _pseudo_columns(table: Table, ref: exp.Table) -> tuple[str, ...]:
        """The pseudo-columns the statement names for this table reference: qualified by
        its alias anywhere, or unqualified in the SELECT that reads it. Asking for one more
        than a query reads only costs a column (stars never show them)."""
        offered = pseudo_columns_of(table)
        if not offered:
            return ()
        alias = (ref.alias or ref.name).lower()
        select = ref.find_ancestor(exp.Select)
        named = {
            col.name.lower()
            for col in ref.root().find_all(exp.Column)
            if (col.table.lower() == alias)
            or (not col.table and col.find_ancestor(exp.Select) is select)
        }
        return tuple(p for p in offered if p in named)

    def _prune_files(
        self, table: Table, ref: exp.Table, partitions: list[PartitionFiles], pseudo: set[str]
    ) -> list[PartitionFiles]:
        """Drop the files whose rows the WHERE clause rejects for their pseudo-column values
        alone (``"$path" = 's3://...'``): their rows would all be filtered out, so they are
        neither read nor counted. Decided by the engine, like partition predicates."""
        keys = {k.name.lower() for k in table.partition_keys}
        predicate = self._implied_predicate(ref, keys | pseudo)
        if predicate is None:
            return partitions
        if _changes_over_time(predicate):
            self._reusable = False
        named = [p for p in PSEUDO_COLUMNS if p in pseudo]
        used = {c.name.lower() for c in predicate.find_all(exp.Column)}
        named = [p for p in named if p in used]
        if not named:
            return partitions  # only partition keys: already pruned
        owners: list[tuple[int, int]] = []
        rows: list[list[str]] = []
        for i, part in enumerate(partitions):
            for j, f in enumerate(part.files):
                found = pseudo_values(table, part.values, f)
                owners.append((i, j))
                rows.append([*part.values, *(_raw(found[p]) for p in named)])
        if not rows:
            return partitions
        extended = dataclasses.replace(
            table,
            partition_keys=[*table.partition_keys, *(Column(p, PSEUDO_COLUMNS[p]) for p in named)],
        )
        keep = self.partitions.matching(extended, predicate, rows)
        if len(keep) == len(rows):
            return partitions
        kept: list[list[DataFile]] = [[] for _ in partitions]
        for index, (i, j) in enumerate(owners):
            if index in keep:
                kept[i].append(partitions[i].files[j])
        return [
            part
            if len(files) == len(part.files)
            # a subset of the listing: nothing derived from its version describes it
            else PartitionFiles(part.values, files, None, part.location, subset=True)
            for part, files in zip(partitions, kept, strict=True)
        ]

    # -- partitions -------------------------------------------------------------------
    def _implied_predicate(self, ref: exp.Table, names: set[str]) -> exp.Expression | None:
        """A predicate on the columns ``names`` of this table (partition keys, and
        pseudo-columns, which are constant per file) implied by the enclosing WHERE, with
        qualifiers stripped; None when the WHERE implies nothing about them.

        Each conjunct is reduced to what it says about those columns alone: ``a AND b``
        keeps the parts that do, ``a OR b`` survives only if both sides do, so that
        ``dt = '1' OR (dt = '2' AND id > 20)`` still prunes to two partitions."""
        select = ref.find_ancestor(exp.Select)
        if select is None or not isinstance(select.args.get("where"), exp.Where):
            return None
        alias = (ref.alias or ref.name).lower()
        single_source = not select.args.get("joins")

        def is_key(col: exp.Column) -> bool:
            qual = col.table.lower()
            return col.name.lower() in names and (qual == alias or (not qual and single_source))

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
        projection = None
        if _projection_enabled(table):
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
            keep = self.partitions.matching(table, predicate, [v for v, _ in candidates])
            candidates = [c for i, c in enumerate(candidates) if i in keep]
        return [self._partition_files(table, values, location) for values, location in candidates]

    def _partition_files(
        self, table: Table, values: list[str], location: str | None
    ) -> PartitionFiles:
        if not location:
            raise SemanticError(f"table {table.qualified_name} has no LOCATION")
        if (table.input_format or "").lower() == SYMLINK_INPUT:
            self._reusable = False  # manifests name files that are checked one by one
            return PartitionFiles(values, self._symlink_files(location), location=location)
        # the listing builds the DataFiles itself (one record per file, not two)
        listing = self.storage.listing(location, row=DataFile)
        if listing.version is None:
            self._reusable = False
        else:
            self.listings.append(ListingDependency(location, listing.version))
        return PartitionFiles(values, listing.files, listing.version, location)

    def _data_files(self, found: list[FileInfo]) -> list[DataFile]:
        engine_path = self.storage.engine_path
        return [
            DataFile(f.uri, f.path or engine_path(f.uri), f.size, f.mtime, f.ctime) for f in found
        ]

    # -- files ------------------------------------------------------------------------
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


#: the engine's own functions that read its state rather than the query's rows; Athena has
#: none of them, and they would tell a caller the engine's settings and variables (which
#: hold other tables' file lists)
_ENGINE_FUNCTIONS = frozenset({"current_setting", "getvariable", "getenv"})


def _refuse_engine_functions(query: exp.Expression) -> None:
    """Refuse what Athena SQL cannot call but the engine would run: a function in FROM (the
    engine's table functions read any file the process can, ``read_text('/etc/passwd')``, or
    list its catalog; Athena's FROM holds tables, views, subqueries and UNNEST only) and the
    engine's state functions. Views are resolved through here too."""
    for table in query.find_all(exp.Table):
        called: exp.Expression = table.this
        if isinstance(called, exp.Func):
            name = called.name if isinstance(called, exp.Anonymous) else called.sql("athena")
            name = name.split("(", 1)[0].lower()
            raise SemanticError(
                f"FUNCTION_NOT_FOUND: {_where(called)}Table function '{name}' not registered"
            )
    for func in query.find_all(exp.Anonymous):
        if func.name.lower() in _ENGINE_FUNCTIONS:
            raise SemanticError(
                f"FUNCTION_NOT_FOUND: {_where(func)}Function '{func.name.lower()}' not registered"
            )


def _drop_database_qualifiers(query: exp.Expression) -> None:
    """Athena SQL lets a column name its table's database (and catalog) too,
    ``SELECT "default".t.id FROM "default".t``, as SQLAlchemy's Athena dialect (Superset,
    Redash) writes every column of a table it reflected; a resolved table is aliased by its
    name alone, so the column keeps only that. Only a column whose database and table name
    a table the query reads unaliased is changed (``t.s.f`` is field ``f`` of column ``s``
    of the table aliased ``t``)."""
    named = {
        (table.db.lower(), table.name.lower())
        for table in query.find_all(exp.Table)
        if table.db and not table.alias
    }
    for column in query.find_all(exp.Column):
        if column.db and (column.db.lower(), column.table.lower()) in named:
            column.set("db", None)
            column.set("catalog", None)


def _where(node: exp.Expression) -> str:
    """``line L:C: `` where the parser recorded the node's position, else nothing."""
    for found in (node, *node.find_all(exp.Identifier)):
        meta = found.meta
        if meta.get("line"):
            return f"line {meta['line']}:{meta.get('col', 0)}: "
    return ""


def _projection_enabled(table: Table) -> bool:
    """Whether the table turns partition projection on: what ``ProjectionConfig.from_table``
    looks at first (a key of two parts is never renamed there), so that a table without it
    does not import the projection module (~4 ms) to learn so."""
    return table.parameters.get("projection.enabled", "").strip().lower() == "true"


def default_partition_location(table: Table, values: list[str]) -> str:
    from lakebox.catalog.model import partition_path

    if not table.location:
        raise SemanticError(f"table {table.qualified_name} has no LOCATION")
    return join_uri(table.location, partition_path(table.partition_keys, values))


#: functions whose value depends on when (or how often) they are evaluated
_VOLATILE = (
    exp.CurrentTimestamp,
    exp.CurrentDate,
    exp.CurrentTime,
    exp.Localtimestamp,
    exp.Localtime,
    exp.Rand,
)


def _changes_over_time(predicate: exp.Expression | None) -> bool:
    """Whether a pruning predicate may keep other partitions or files at another time
    (``current_date``, ``now()``...): a plan pruned with it must not be reused."""
    return predicate is not None and predicate.find(*_VOLATILE) is not None


def _raw(value: object) -> str:
    """A pseudo-column's value as the text the engine casts to its type."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _restricted_projections(
    table: Table, columns: list[str], restriction: TableView, qualifier: str
) -> list[exp.Expr]:
    """The visible ``columns`` of ``table`` read under ``qualifier``, each under its own
    name; a column Lake Formation shows only in some rows (``column_filters``) is NULL in
    the others."""
    conditions = dict(restriction.column_filters)
    out: list[exp.Expr] = []
    for name in columns:
        value: exp.Expression = exp.Column(
            this=exp.to_identifier(name, quoted=True),
            table=exp.to_identifier(qualifier, quoted=True),
        )
        condition = conditions.get(name)
        if condition is not None:
            value = exp.Case(
                ifs=[exp.If(this=parse_row_filter(table, condition, qualifier), true=value)]
            )
        out.append(exp.Alias(this=value, alias=exp.to_identifier(name, quoted=True)))
    return out


#: the pseudo-columns whose values spell a partition's key values
_PARTITION_SPELLING = frozenset({"$partition", "$path"})


def _hide_from_stars(ref: exp.Table, pseudo: tuple[str, ...]) -> None:
    """Keep the pseudo-columns out of ``*`` and ``alias.*`` in the SELECT that reads this
    table reference, as Athena does (they are hidden columns). The exclusions name the
    reference's alias, so a real column of the same name from another source stays."""
    select = ref.find_ancestor(exp.Select)
    if select is None:
        return
    written = ref.alias or split_table_name(ref)[1]
    alias = written.lower()
    for projection in select.expressions:
        if isinstance(projection, exp.Star):
            star = projection
        elif (
            isinstance(projection, exp.Column)
            and isinstance(projection.this, exp.Star)
            and projection.table.lower() == alias
        ):
            star = projection.this
        else:
            continue
        hidden = list(star.args.get("except_") or [])
        present = {(h.table.lower(), h.name.lower()) for h in hidden if isinstance(h, exp.Column)}
        hidden.extend(
            exp.column(exp.to_identifier(p, quoted=True), exp.to_identifier(written, quoted=True))
            for p in pseudo
            if (alias, p) not in present
        )
        star.set("except_", hidden)


def _session_values(query: exp.Expression, database: str, principal: Principal) -> exp.Expression:
    """What the session knows, as literals: ``current_schema`` (SQL's keyword, no
    parentheses; a quoted ``"current_schema"`` stays a column) is the statement's database,
    and Athena's ``invoker_principal()`` the caller's ARN. The plan's cache key holds both
    the database and the principal, so a cached plan never carries another session's."""

    def replace(node: exp.Expression) -> exp.Expression:
        if is_current_schema(node):
            return exp.Literal.string(database)
        if (
            isinstance(node, exp.Anonymous)
            and node.name.lower() == "invoker_principal"
            and not node.expressions
        ):
            return exp.Literal.string(principal.arn)
        return node

    return query.transform(replace, copy=False)
