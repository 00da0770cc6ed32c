"""Running parsed DDL against a catalog store (and, for MSCK REPAIR, storage).

One handler per statement type (``_HANDLERS``). What it needs from the layers above comes
in as arguments: the session's current database, the principal and the visibility policy
that listings (SHOW, DESCRIBE) go through, and a callable giving a view's columns.

Every statement validates everything it can before its single store call, so a failing
statement leaves the catalog as it was (the store makes each call one transaction). Results
are text rows, as Athena returns DDL results.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from sqlglot import exp

from lakebox import names
from lakebox.catalog.model import VIRTUAL_VIEW, Column, Database, Partition, Table, partition_path
from lakebox.catalog.store import CatalogStore
from lakebox.catalog.types import hive_type, is_primitive, parse_type
from lakebox.catalog.visibility import OPEN, Visibility
from lakebox.errors import (
    AlreadyExistsError,
    EntityNotFoundError,
    InvalidRequestError,
    LakeboxError,
    SemanticError,
)
from lakebox.formats import format_for, known_serdes
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.sql import ddl_statements as ddl
from lakebox.sql.dialects.athena_ddl import (
    EXTERNAL_PARAM,
    LAZY_SIMPLE_SERDE,
    render_create_table,
    render_partition,
)
from lakebox.storage import Storage, parse_uri

ViewColumns = Callable[[str, str], list[Column]]

#: SerDes Athena documents; tables naming one are accepted even before lakebox has a reader
#: for it (the query then says the SerDe cannot be read yet). Anything else is a typo or a
#: SerDe Athena itself would fail on.
ATHENA_SERDES = frozenset(
    s.lower()
    for s in (
        LAZY_SIMPLE_SERDE,
        "org.apache.hadoop.hive.serde2.OpenCSVSerde",
        "org.apache.hadoop.hive.serde2.RegexSerDe",
        "org.apache.hadoop.hive.serde2.MultiDelimitSerDe",
        "org.apache.hadoop.hive.contrib.serde2.MultiDelimitSerDe",
        "com.amazonaws.glue.serde.GrokSerDe",
        "org.apache.hive.hcatalog.data.JsonSerDe",
        "org.openx.data.jsonserde.JsonSerDe",
        "com.amazon.emr.hive.serde.CloudTrailSerde",
        "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
        "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "com.amazon.ionhiveserde.IonHiveSerDe",
        "org.apache.hadoop.hive.serde2.columnar.LazyBinaryColumnarSerDe",
        "org.apache.hadoop.hive.serde2.columnar.ColumnarSerDe",
    )
)

#: SerDes whose schema Hive takes from the metastore; DESCRIBE shows "from deserializer"
#: as the comment of an uncommented column of any other SerDe (hive.serdes.using.metastore.
#: for.schema)
METASTORE_SCHEMA_SERDES = frozenset(
    s.lower()
    for s in (
        LAZY_SIMPLE_SERDE,
        "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
        "org.apache.hadoop.hive.serde2.columnar.ColumnarSerDe",
        "org.apache.hadoop.hive.serde2.dynamic_type.DynamicSerDe",
        "org.apache.hadoop.hive.serde2.MetadataTypedColumnsetSerDe",
        "org.apache.hadoop.hive.serde2.columnar.LazyBinaryColumnarSerDe",
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "org.apache.hadoop.hive.serde2.lazybinary.LazyBinarySerDe",
    )
)
FROM_DESERIALIZER = "from deserializer"

_ALIGN = 20  # Hive pads DESCRIBE fields to 20 characters


@dataclass
class DdlResult:
    """Athena returns DDL results as text rows; ``text()`` is its ``.txt`` result file."""

    columns: list[str] = field(default_factory=list)
    rows: list[tuple[str, ...]] = field(default_factory=list)
    message: str = ""
    #: DESCRIBE output is column-aligned the way Hive prints it
    aligned: bool = False

    def text(self) -> str:
        if self.aligned:
            return "".join("\t".join(v.ljust(_ALIGN) for v in row) + "\n" for row in self.rows)
        return "".join("\t".join(row) + "\n" for row in self.rows)


#: the engine's check of a table's format properties (raises a LakeboxError)
FormatCheck = Callable[[Table], None]


def execute_ddl(
    stmt: ddl.DdlStatement,
    catalog: CatalogStore,
    storage: Storage,
    current_database: str,
    view_columns: ViewColumns | None = None,
    *,
    principal: Principal = LOCAL_ADMIN,
    visibility: Visibility = OPEN,
    validate_format: FormatCheck | None = None,
) -> DdlResult:
    """Apply one parsed DDL statement; raises a LakeboxError naming what is wrong.

    Listings (SHOW, DESCRIBE) show what ``visibility`` lets ``principal`` see.
    ``validate_format`` is the engine's check of a new table's SerDe properties (its reader
    must be able to read them); without one only the format itself is checked."""
    handler = _HANDLERS.get(type(stmt))
    if handler is None:  # pragma: no cover - every statement class has a handler
        raise InvalidRequestError(f"cannot execute {type(stmt).__name__}")
    ctx = _Ctx(
        catalog,
        storage,
        current_database.lower(),
        view_columns,
        principal,
        visibility,
        validate_format,
    )
    return handler(ctx, stmt)


@dataclass
class _Ctx:
    catalog: CatalogStore
    storage: Storage
    current_database: str
    view_columns: ViewColumns | None
    principal: Principal
    visibility: Visibility
    validate_format: FormatCheck | None = None

    def table(
        self, ref: ddl.TableRef, want_view: bool | None = False, *, listing: bool = False
    ) -> Table:
        """Look up a table (``want_view`` False) or view (True) or either (None). A
        ``listing`` (SHOW, DESCRIBE) sees it as the principal may: not found when hidden,
        with only its visible columns."""
        db, name = ref.resolve(self.current_database)
        table = self.catalog.get_table(db, name)
        if listing:
            table = self.visible(table)
        if want_view is True and not table.is_view:
            raise SemanticError(f"{db}.{name} is a table, not a view")
        if want_view is False and table.is_view:
            raise SemanticError(f"{db}.{name} is a view, not a table")
        return table

    def visible(self, table: Table) -> Table:
        if not self.visibility.can_see(self.principal, table):
            raise EntityNotFoundError(f"Table {table.database}.{table.name} not found.")
        shown = self.visibility.columns(self.principal, table)
        if shown == table.all_columns:
            return table
        keep = {c.name for c in shown}
        return replace(
            table,
            columns=[c for c in table.columns if c.name in keep],
            partition_keys=[c for c in table.partition_keys if c.name in keep],
        )

    def database(self, name: str | None) -> str:
        """A database a listing names (or the current one); not found when hidden."""
        db = (name or self.current_database).lower()
        database = self.catalog.get_database(db)
        if not self.visibility.databases(self.principal, [database]):
            raise EntityNotFoundError(f"Database {db} not found.")
        return db


# -- databases ------------------------------------------------------------------------------
def _create_database(ctx: _Ctx, stmt: ddl.CreateDatabase) -> DdlResult:
    name = names.athena_database(stmt.name)
    if stmt.location is not None:
        ctx.storage.check(stmt.location)
    created = ctx.catalog.create_database(
        Database(name, stmt.comment, stmt.location, dict(stmt.properties)),
        if_not_exists=stmt.if_not_exists,
    )
    return DdlResult(
        message=f"Database {name} " + ("created" if created else "already exists, nothing done")
    )


def _drop_database(ctx: _Ctx, stmt: ddl.DropDatabase) -> DdlResult:
    if stmt.name == "default":
        raise InvalidRequestError("Can not drop default database")
    dropped = ctx.catalog.drop_database(stmt.name, cascade=stmt.cascade, if_exists=stmt.if_exists)
    return DdlResult(
        message=f"Database {stmt.name} "
        + ("dropped" if dropped else "does not exist, nothing done")
    )


# -- tables ---------------------------------------------------------------------------------
def _check_new_columns(columns: list[Column], kind: str = "column") -> None:
    """Columns a statement creates follow Athena's column rule; existing ones are kept."""
    for col in columns:
        col.name = names.athena_column(col.name, kind)


def _check_columns(table: Table) -> None:
    seen: set[str] = set()
    for col in table.columns:
        if col.name in seen:
            raise SemanticError(f"Duplicate column name {col.name!r} in table {table.name}")
        seen.add(col.name)
    for col in table.partition_keys:
        if col.name in seen:
            raise SemanticError(
                f"Partition column name {col.name!r} conflicts with table "
                "columns (or is repeated): partition columns are not listed "
                "among the table's columns"
            )
        seen.add(col.name)
        if not is_primitive(col.type):
            raise SemanticError(
                f"Partition column {col.name!r} has type {col.type}: "
                "partition columns must have a primitive type"
            )
    data = {c.name for c in table.columns}
    for col_name in table.bucket_columns:
        if col_name not in data:
            raise SemanticError(f"Bucket column {col_name!r} is not a column of {table.name}")


def _validate_storage(table: Table, storage: Storage, validate: FormatCheck | None) -> None:
    """Reject a location outside the lake and an unknown SerDe at CREATE time, and let the
    engine's reader check its properties."""
    if table.location is not None:
        storage.check(table.location)
    serde = (table.serde_library or "").lower()
    try:
        format_for(table)
    except LakeboxError as err:
        if serde in ATHENA_SERDES:
            return
        known = sorted({*known_serdes(), *ATHENA_SERDES})
        raise SemanticError(
            f"SerDe class {table.serde_library!r} is not known to Athena or "
            f"lakebox; use one of: {', '.join(known)}"
        ) from err
    if validate is not None:
        validate(table)


def _create_table(ctx: _Ctx, stmt: ddl.CreateTable) -> DdlResult:
    table = Table.from_dict(stmt.table.to_dict())
    # the database already exists: it is looked up, not checked against today's rule
    table.database = (table.database or ctx.current_database).lower()
    table.name = names.athena_table(table.name)
    _check_new_columns(table.columns)
    _check_new_columns(table.partition_keys, "partition column")
    table.create_time = table.update_time = time.time()
    # Glue records EXTERNAL=TRUE for every table Athena creates (SHOW TBLPROPERTIES shows it)
    table.parameters = {EXTERNAL_PARAM: "TRUE", **table.parameters}
    _check_columns(table)
    _validate_storage(table, ctx.storage, ctx.validate_format)
    created = ctx.catalog.create_table(table, if_not_exists=stmt.if_not_exists)
    return DdlResult(
        message=f"Table {table.qualified_name} "
        + ("created" if created else "already exists, nothing done")
    )


def _create_view(ctx: _Ctx, stmt: ddl.CreateView) -> DdlResult:
    db, name = stmt.ref.resolve(ctx.current_database)
    name = names.athena_table(name, "view")
    ctx.catalog.get_database(db)
    try:
        existing: Table | None = ctx.catalog.get_table(db, name)
    except EntityNotFoundError:
        existing = None
    if existing is not None:
        if not existing.is_view:
            raise AlreadyExistsError(
                f"{db}.{name} already exists as a table; a view cannot replace it"
            )
        if not stmt.or_replace:
            raise AlreadyExistsError(
                f"View {db}.{name} already exists; use CREATE OR REPLACE VIEW to change it"
            )
    columns = ctx.view_columns(stmt.select_sql, ctx.current_database) if ctx.view_columns else []
    view = Table(
        database=db,
        name=name,
        columns=list(columns),
        table_type=VIRTUAL_VIEW,
        view_original_text=stmt.select_sql,
        view_expanded_text=stmt.select_sql,
        input_format=None,
        output_format=None,
        serde_library=None,
    )
    ctx.catalog.create_table(view, replace=stmt.or_replace)
    return DdlResult(message=f"View {db}.{name} " + ("replaced" if existing else "created"))


def _drop_table(ctx: _Ctx, stmt: ddl.DropTable | ddl.DropView) -> DdlResult:
    want_view = isinstance(stmt, ddl.DropView)
    kind = "View" if want_view else "Table"
    db, name = stmt.ref.resolve(ctx.current_database)
    try:
        ctx.table(stmt.ref, want_view=want_view)
    except EntityNotFoundError:
        if stmt.if_exists:
            return DdlResult(message=f"{kind} {db}.{name} does not exist, nothing done")
        raise
    except SemanticError as err:
        other = "DROP TABLE" if want_view else "DROP VIEW"
        raise SemanticError(f"{err.message}: use {other}") from err
    ctx.catalog.drop_table(db, name, if_exists=stmt.if_exists)
    return DdlResult(message=f"{kind} {db}.{name} dropped")


# -- ALTER TABLE ----------------------------------------------------------------------------
def _ordered_values(
    table: Table, spec: ddl.PartitionSpec, partial: bool = False
) -> list[str | None]:
    keys = [k.name for k in table.partition_keys]
    if not keys:
        raise SemanticError(f"Table {table.qualified_name} is not partitioned")
    unknown = [k for k in spec.values if k not in keys]
    if unknown:
        raise SemanticError(
            f"Partition spec {_spec_text(spec)} names {', '.join(unknown)}, "
            f"which is not a partition column of {table.qualified_name} "
            f"(partition columns: {', '.join(keys)})"
        )
    missing = [k for k in keys if k not in spec.values]
    if missing and not partial:
        raise SemanticError(
            f"Partition spec {_spec_text(spec)} lacks partition column(s) "
            f"{', '.join(missing)} of {table.qualified_name}"
        )
    return [spec.values.get(k) for k in keys]


def _spec_text(spec: ddl.PartitionSpec) -> str:
    return "(" + ", ".join(f"{k}='{v}'" for k, v in spec.values.items()) + ")"


def _default_location(table: Table, values: list[str]) -> str | None:
    if table.location is None:
        return None
    base = table.location if table.location.endswith("/") else table.location + "/"
    return base + partition_path(table.partition_keys, values)


def _add_partitions(ctx: _Ctx, stmt: ddl.AddPartitions) -> DdlResult:
    table = ctx.table(stmt.ref)
    parts: list[Partition] = []
    for spec in stmt.partitions:
        values = [v for v in _ordered_values(table, spec) if v is not None]
        location = spec.location or _default_location(table, values)
        if location is not None:
            ctx.storage.check(location)
        parts.append(Partition(table.database, table.name, values, location))
    try:
        added = ctx.catalog.add_partitions(parts, if_not_exists=stmt.if_not_exists)
    except AlreadyExistsError as err:
        raise AlreadyExistsError(
            f"{err.message} in {table.qualified_name}: use ADD IF NOT "
            "EXISTS to skip existing partitions"
        ) from err
    return DdlResult(message=f"Added {added} partition(s) to {table.qualified_name}")


def _drop_partitions(ctx: _Ctx, stmt: ddl.DropPartitions) -> DdlResult:
    table = ctx.table(stmt.ref)
    existing = ctx.catalog.get_partitions(table.database, table.name)
    targets: list[list[str]] = []
    for spec in stmt.partitions:
        wanted = _ordered_values(table, spec, partial=True)
        found = [
            p.values
            for p in existing
            if all(w is None or w == v for w, v in zip(wanted, p.values, strict=True))
        ]
        if not found and not stmt.if_exists:
            raise EntityNotFoundError(
                f"No partition matches {_spec_text(spec)} in "
                f"{table.qualified_name}: use DROP IF EXISTS to ignore"
            )
        targets.extend(v for v in found if v not in targets)
    dropped = ctx.catalog.drop_partitions(
        table.database, table.name, targets, if_exists=stmt.if_exists
    )
    return DdlResult(message=f"Dropped {dropped} partition(s) from {table.qualified_name}")


def _set_properties(ctx: _Ctx, stmt: ddl.SetTableProperties) -> DdlResult:
    table = ctx.table(stmt.ref, want_view=None)
    table.parameters.update(stmt.properties)
    if not table.is_view:
        _validate_storage(table, ctx.storage, ctx.validate_format)
    ctx.catalog.update_table(table)
    return DdlResult(message=f"Table {table.qualified_name} properties set")


def _alter_columns(ctx: _Ctx, stmt: ddl.AddColumns | ddl.ReplaceColumns) -> DdlResult:
    table = ctx.table(stmt.ref)
    _check_new_columns(stmt.columns)
    if isinstance(stmt, ddl.AddColumns):
        table.columns = [*table.columns, *stmt.columns]
    else:
        table.columns = list(stmt.columns)
    _check_columns(table)
    ctx.catalog.update_table(table)
    return DdlResult(message=f"Table {table.qualified_name} now has {len(table.columns)} column(s)")


def _change_column(ctx: _Ctx, stmt: ddl.ChangeColumn) -> DdlResult:
    table = ctx.table(stmt.ref)
    _check_new_columns([stmt.column])
    names = [c.name for c in table.columns]
    if stmt.old_name not in names:
        where = (
            "a partition column"
            if any(k.name == stmt.old_name for k in table.partition_keys)
            else "not a column"
        )
        raise SemanticError(
            f"Column {stmt.old_name} of {table.qualified_name} is {where}; "
            "CHANGE COLUMN changes data columns only"
        )
    columns = [c for c in table.columns if c.name != stmt.old_name]
    if stmt.first:
        position = 0
    elif stmt.after is not None:
        after = [c.name for c in columns]
        if stmt.after not in after:
            raise SemanticError(
                f"Column {stmt.after} (AFTER) is not a column of {table.qualified_name}"
            )
        position = after.index(stmt.after) + 1
    else:
        position = names.index(stmt.old_name)
    columns.insert(position, stmt.column)
    table.columns = columns
    _check_columns(table)
    ctx.catalog.update_table(table)
    return DdlResult(message=f"Column {stmt.old_name} of {table.qualified_name} changed")


def _replace_partition(ctx: _Ctx, table: Table, old: Partition, new: Partition) -> None:
    """The store has no partition update: drop + add, putting the old one back on failure."""
    ctx.catalog.drop_partitions(table.database, table.name, [old.values])
    try:
        ctx.catalog.add_partitions([new])
    except BaseException:
        ctx.catalog.add_partitions([old], if_not_exists=True)
        raise


def _find_partition(ctx: _Ctx, table: Table, spec: ddl.PartitionSpec) -> Partition:
    values = _ordered_values(table, spec)
    found = next(
        (p for p in ctx.catalog.get_partitions(table.database, table.name) if p.values == values),
        None,
    )
    if found is None:
        raise EntityNotFoundError(
            f"Partition {_spec_text(spec)} of {table.qualified_name} not found"
        )
    return found


def _rename_partition(ctx: _Ctx, stmt: ddl.RenamePartition) -> DdlResult:
    table = ctx.table(stmt.ref)
    old = _find_partition(ctx, table, stmt.old)
    values = [v for v in _ordered_values(table, stmt.new) if v is not None]
    if any(p.values == values for p in ctx.catalog.get_partitions(table.database, table.name)):
        raise AlreadyExistsError(
            f"Partition {_spec_text(stmt.new)} of {table.qualified_name} already exists"
        )
    new = Partition.from_dict({**old.to_dict(), "values": values})
    _replace_partition(ctx, table, old, new)
    return DdlResult(message=f"Partition {_spec_text(stmt.old)} renamed to {_spec_text(stmt.new)}")


def _set_location(ctx: _Ctx, stmt: ddl.SetLocation) -> DdlResult:
    table = ctx.table(stmt.ref)
    ctx.storage.check(stmt.location)
    if stmt.partition is None:
        table.location = stmt.location
        ctx.catalog.update_table(table)
        return DdlResult(message=f"Table {table.qualified_name} location set")
    old = _find_partition(ctx, table, stmt.partition)
    new = Partition.from_dict({**old.to_dict(), "location": stmt.location})
    _replace_partition(ctx, table, old, new)
    return DdlResult(message=f"Partition {_spec_text(stmt.partition)} location set")


def _msck(ctx: _Ctx, stmt: ddl.MsckRepair) -> DdlResult:
    """Hive's MSCK REPAIR TABLE: ``k1=v1/k2=v2/`` folders under LOCATION become partitions."""
    table = ctx.table(stmt.ref)
    keys = [k.name for k in table.partition_keys]
    if not keys or table.location is None:
        return DdlResult(
            ["result"], [], "Table is not partitioned or has no location; nothing to repair"
        )
    prefix = str(parse_uri(table.location).as_prefix())
    found: dict[tuple[str, ...], str] = {}
    for f in ctx.storage.list_files(table.location):
        if not f.uri.startswith(prefix):
            continue
        dirs = f.uri[len(prefix) :].split("/")[:-1]
        if len(dirs) < len(keys):
            continue
        values: list[str] = []
        for key, folder in zip(keys, dirs, strict=False):
            name, eq, value = folder.partition("=")
            if not eq or name.lower() != key:
                break
            values.append(unquote(value))
        else:
            found.setdefault(tuple(values), prefix + "/".join(dirs[: len(keys)]) + "/")
    existing = {tuple(p.values): p for p in ctx.catalog.get_partitions(table.database, table.name)}
    missing = [v for v in sorted(found) if v not in existing]

    def label(values: tuple[str, ...]) -> str:
        return f"{table.name}:{render_partition(table.partition_keys, list(values))}"

    gone = [
        v
        for v, p in sorted(existing.items())
        if (p.location or "").startswith(prefix) and v not in found
    ]
    rows: list[tuple[str, ...]] = []
    if missing:
        rows.append(("Partitions not in metastore:\t" + "\t".join(map(label, missing)),))
    if gone:
        rows.append(("Partitions missing from filesystem:\t" + "\t".join(map(label, gone)),))
    added = ctx.catalog.add_partitions(
        [Partition(table.database, table.name, list(v), found[v]) for v in missing],
        if_not_exists=True,
    )
    rows.extend((f"Repair: Added partition to metastore {label(v)}",) for v in missing)
    return DdlResult(["result"], rows, f"Added {added} partition(s) to {table.qualified_name}")


# -- SHOW / DESCRIBE ------------------------------------------------------------------------
def _show_databases(ctx: _Ctx, stmt: ddl.ShowDatabases) -> DdlResult:
    dbs = ctx.visibility.databases(ctx.principal, ctx.catalog.list_databases(stmt.pattern))
    return DdlResult(["database_name"], [(d.name,) for d in dbs])


def _show_tables(ctx: _Ctx, stmt: ddl.ShowTables | ddl.ShowViews) -> DdlResult:
    db = ctx.database(stmt.database)
    tables = ctx.visibility.tables(ctx.principal, ctx.catalog.list_tables(db, stmt.pattern))
    if isinstance(stmt, ddl.ShowViews):
        return DdlResult(["views"], [(t.name,) for t in tables if t.is_view])
    return DdlResult(["tab_name"], [(t.name,) for t in tables])


def _show_partitions(ctx: _Ctx, stmt: ddl.ShowPartitions) -> DdlResult:
    table = ctx.table(stmt.ref, listing=True)
    if not table.partition_keys:
        raise SemanticError(f"Table {table.qualified_name} is not a partitioned table")
    parts = ctx.catalog.get_partitions(table.database, table.name)
    lines = sorted(render_partition(table.partition_keys, p.values) for p in parts)
    return DdlResult(["partition"], [(line,) for line in lines])


def _show_create(ctx: _Ctx, stmt: ddl.ShowCreateTable) -> DdlResult:
    table = ctx.table(stmt.ref, want_view=True if stmt.view else None, listing=True)
    text = render_create_table(table)
    return DdlResult(["createtab_stmt"], [(line,) for line in text.split("\n")])


def _show_columns(ctx: _Ctx, stmt: ddl.ShowColumns) -> DdlResult:
    table = ctx.table(stmt.ref, want_view=None, listing=True)
    return DdlResult(["field"], [(c.name,) for c in table.all_columns])


def _show_tblproperties(ctx: _Ctx, stmt: ddl.ShowTblProperties) -> DdlResult:
    table = ctx.table(stmt.ref, want_view=None, listing=True)
    if stmt.prop is not None:
        if stmt.prop not in table.parameters:
            raise SemanticError(f"Table {table.qualified_name} does not have property: {stmt.prop}")
        return DdlResult(["prpt_value"], [(table.parameters[stmt.prop],)])
    return DdlResult(["prpt_name", "prpt_value"], list(table.parameters.items()))


def _col_row(col: Column, deserializer: bool = False) -> tuple[str, str, str]:
    if col.comment is None and deserializer:
        return (col.name, col.type, FROM_DESERIALIZER)
    return (col.name, col.type, col.comment or "")


def _schema_from_deserializer(table: Table) -> bool:
    if table.is_view or not table.serde_library:
        return False
    return table.serde_library.lower() not in METASTORE_SCHEMA_SERDES


def _describe_path(table: Table, path: str) -> tuple[str, str, str]:
    """DESCRIBE t col.field / col.$elem$ / col.$key$ / col.$value$ (Hive's column paths)."""
    first, *rest = path.split(".")
    col = table.column(first)
    if col is None:
        raise SemanticError(f"Column {first} does not exist in {table.qualified_name}")
    if not rest:
        is_data = col in table.columns
        return _col_row(col, is_data and _schema_from_deserializer(table))
    dt = parse_type(col.type)
    for part in rest:
        child: exp.Expression | None = None
        if dt.this == exp.DType.STRUCT:
            child = next((f.args["kind"] for f in dt.expressions if f.name.lower() == part), None)
        elif dt.this == exp.DType.ARRAY and part == "$elem$":
            child = dt.expressions[0]
        elif dt.this == exp.DType.MAP and part in ("$key$", "$value$"):
            child = dt.expressions[0 if part == "$key$" else 1]
        if not isinstance(child, exp.DataType):
            raise SemanticError(
                f"{path} does not name a field of column {first} "
                f"({col.type}) in {table.qualified_name}"
            )
        dt = child
    return (rest[-1], hive_type(dt), FROM_DESERIALIZER)


def _describe(ctx: _Ctx, stmt: ddl.Describe) -> DdlResult:
    table = ctx.table(stmt.ref, want_view=None, listing=True)
    header = ["col_name", "data_type", "comment"]
    partition = _find_partition(ctx, table, stmt.partition) if stmt.partition else None
    if stmt.column is not None:
        return DdlResult(header, [_describe_path(table, stmt.column)], aligned=True)
    blank = ("", "", "")
    rows: list[tuple[str, ...]] = []
    if stmt.style == "FORMATTED":
        rows += [("# col_name", "data_type", "comment"), blank]
    deserializer = _schema_from_deserializer(table)
    rows += [_col_row(c, deserializer) for c in table.columns]
    if table.partition_keys:
        rows += [
            blank,
            ("# Partition Information", "", ""),
            ("# col_name", "data_type", "comment"),
            blank,
        ]
        rows += [_col_row(c) for c in table.partition_keys]
    if stmt.style == "FORMATTED" and partition is not None:
        rows += [
            blank,
            ("# Detailed Partition Information", "", ""),
            ("Partition Value:", "[" + ", ".join(partition.values) + "]", ""),
            ("Database:", table.database, ""),
            ("Table:", table.name, ""),
            ("Location:", partition.location or "", ""),
        ]
    elif stmt.style == "FORMATTED":
        rows += _formatted_details(table)
    elif stmt.style == "EXTENDED":
        rows += [blank, ("Detailed Table Information", _extended_summary(table), "")]
    return DdlResult(header, rows, aligned=True)


def _formatted_details(table: Table) -> list[tuple[str, ...]]:
    blank = ("", "", "")
    rows: list[tuple[str, ...]] = [
        blank,
        ("# Detailed Table Information", "", ""),
        ("Database:", table.database, ""),
        (
            "CreateTime:",
            time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(table.create_time)),
            "",
        ),
        ("LastAccessTime:", "UNKNOWN", ""),
        ("Location:", table.location or "", ""),
        ("Table Type:", table.table_type, ""),
    ]
    if table.comment is not None:
        rows.append(("Comment:", table.comment, ""))
    if table.parameters:
        rows.append(("Table Parameters:", "", ""))
        rows += [("", k, v) for k, v in table.parameters.items()]
    if table.is_view:
        rows += [
            blank,
            ("# View Information", "", ""),
            ("View Original Text:", table.view_original_text or "", ""),
        ]
        return rows
    rows += [
        blank,
        ("# Storage Information", "", ""),
        ("SerDe Library:", table.serde_library or "", ""),
        ("InputFormat:", table.input_format or "", ""),
        ("OutputFormat:", table.output_format or "", ""),
        ("Compressed:", "No", ""),
        ("Num Buckets:", str(table.num_buckets if table.bucket_columns else -1), ""),
        ("Bucket Columns:", "[" + ", ".join(table.bucket_columns) + "]", ""),
    ]
    if table.serde_parameters:
        rows.append(("Storage Desc Params:", "", ""))
        rows += [("", k, v) for k, v in table.serde_parameters.items()]
    return rows


def _extended_summary(table: Table) -> str:
    return (
        f"Table(tableName:{table.name}, dbName:{table.database}, "
        f"tableType:{table.table_type}, location:{table.location}, "
        f"inputFormat:{table.input_format}, outputFormat:{table.output_format}, "
        f"serializationLib:{table.serde_library}, parameters:{table.parameters})"
    )


#: statement class -> handler; each handler takes its own statement class
_HANDLERS: dict[type, Callable[[_Ctx, Any], DdlResult]] = {
    ddl.CreateDatabase: _create_database,
    ddl.DropDatabase: _drop_database,
    ddl.CreateTable: _create_table,
    ddl.CreateView: _create_view,
    ddl.DropTable: _drop_table,
    ddl.DropView: _drop_table,
    ddl.AddPartitions: _add_partitions,
    ddl.DropPartitions: _drop_partitions,
    ddl.SetTableProperties: _set_properties,
    ddl.AddColumns: _alter_columns,
    ddl.ReplaceColumns: _alter_columns,
    ddl.SetLocation: _set_location,
    ddl.ChangeColumn: _change_column,
    ddl.RenamePartition: _rename_partition,
    ddl.MsckRepair: _msck,
    ddl.ShowDatabases: _show_databases,
    ddl.ShowTables: _show_tables,
    ddl.ShowViews: _show_tables,
    ddl.ShowPartitions: _show_partitions,
    ddl.ShowCreateTable: _show_create,
    ddl.ShowColumns: _show_columns,
    ddl.ShowTblProperties: _show_tblproperties,
    ddl.Describe: _describe,
}
