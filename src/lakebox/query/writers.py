"""The write statements of the query service: CTAS, INSERT INTO and UNLOAD.

Every write runs the same way, so that a failed, cancelled or killed write leaves nothing a
reader can see:

1. the query is planned, and the engine writes its rows in one pass over the query into a
   hidden staging folder ``<target>/.lakebox-staging-<query id>/`` (readers skip names
   starting with ``.``): files per (partition, bucket), named as the engine likes; a
   failing query or more than 100 partitions fail here, before any file is visible;
2. every staged file gets its Hive / Athena name (``<query id>_<index>``, Hive's bucket
   naming) under its partition's folder and is recorded in the journal;
3. the files are moved (renamed) into place, then the catalog changes (the CTAS commit
   point), then the journal says ``committed`` and the staging folder goes.

``lakebox.query.journal`` records each phase before it starts, so ``recover_writes`` can
undo the work of a process that died. A write is prepared from the lake, the current
database and the statement (``prepare_write``); its caller plans the job's query and hands
the planned query to the job (``WriteJob``), so planning stays with the caller and nothing
here calls back up. The job writes through the engine statement that planned the query
(``EngineStatement.open_write``; a caller may pass its own ``OpenWrite``); the format
plugins (``lakebox.formats``) say what each format accepts and records.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa
from sqlglot import exp

from lakebox.catalog.model import (
    HIVE_DEFAULT_PARTITION,
    Column,
    Partition,
    Table,
    partition_path,
)
from lakebox.catalog.types import arrow_type, athena_type_from_arrow, hive_type_from_arrow
from lakebox.engine.base import CompiledQuery, EngineStatement, Staged, TableWrite
from lakebox.engine.duckdb.formats.text import (
    LazySimpleReader,
    OpenCsvReader,
    parse_delimiter,
    table_param,
    text_charset,
)
from lakebox.errors import (
    AlreadyExistsError,
    InvalidRequestError,
    LakeboxError,
    SemanticError,
    UnsupportedError,
)
from lakebox.formats.base import ScanMeter
from lakebox.formats.plugins import (
    BUILTIN_PLUGINS,
    FormatPlugin,
    WriteSpec,
    ctas_format,
    ctas_format_names,
    plugin_for_serde,
)
from lakebox.formats.writing import MAX_PARTITIONS, WriteTarget, avro_schema
from lakebox.names import athena_column, athena_table
from lakebox.query import journal as jn
from lakebox.sql.dialects.athena import split_unload
from lakebox.storage import Storage
from lakebox.storage.uri import join_uri, parse_uri

if TYPE_CHECKING:
    from lakebox.catalog.projection import ProjectionConfig
    from lakebox.sql.planner import ScanStats

STAGING_PREFIX = ".lakebox-staging-"


# -- what writers need from their caller and from the engine ------------------------------------
class PlannedQuery(Protocol):
    """A query planned for one engine, open while its caller's plan block runs: what a
    ``WriteJob`` writes from (through the engine statement's ``open_write``)."""

    @property
    def statement(self) -> EngineStatement: ...

    @property
    def query(self) -> CompiledQuery: ...

    @property
    def con(self) -> Any: ...

    @property
    def sql(self) -> str: ...

    @property
    def names(self) -> list[str] | None: ...

    @property
    def stats(self) -> ScanStats: ...


class WriteContext(Protocol):
    """The statement a write runs as: its query id (file names, staging), the result
    location (CTAS's default table location, UNLOAD's manifest) and its scan meter."""

    @property
    def query_id(self) -> str: ...

    @property
    def output_location(self) -> str: ...

    @property
    def control(self) -> ScanMeter | None: ...

    @property
    def athena_results(self) -> bool:
        """Whether results go to ``output_location`` (a CTAS or INSERT writes its data
        manifest there then; UNLOAD always does)."""
        ...


#: opens an engine's write: (planned query's connection, its SQL, storage, meter, target)
OpenWrite = Callable[[Any, str, Storage, ScanMeter | None, WriteTarget], TableWrite]


@dataclass
class WriteOutcome:
    """What a write statement returns: its result rows (CTAS / INSERT: the row count),
    the scan statistics and a message (UNLOAD's)."""

    table: pa.Table
    stats: ScanStats
    message: str = ""
    #: the data manifest (CTAS, INSERT, UNLOAD): the files the write added, one per line
    manifest: str | None = None


#: CTAS / UNLOAD ``format`` values -> their plugins, in the order messages list them
FORMATS: dict[str, FormatPlugin] = {
    p.write.format: p for p in BUILTIN_PLUGINS if p.write is not None and p.write.ctas
}


def _spec(plugin: FormatPlugin) -> WriteSpec:
    assert plugin.write is not None  # only writable plugins become WriteOptions
    return plugin.write


_CTAS_PROPERTIES = {
    "table_type",
    "format",
    "external_location",
    "partitioned_by",
    "bucketed_by",
    "bucket_count",
    "write_compression",
    "parquet_compression",
    "orc_compression",
    "field_delimiter",
    "ion_encoding",
    "compression_level",
}
_UNLOAD_PROPERTIES = {
    "format",
    "compression",
    "compression_level",
    "field_delimiter",
    "partitioned_by",
}


# -- entry point -----------------------------------------------------------------------------
def prepare_write(
    lake: jn.Lake,
    database: str,
    tree: exp.Expression,
    context: WriteContext,
    open_write: OpenWrite | None = None,
) -> WriteJob | WriteOutcome:
    """Validate a CTAS, INSERT INTO or UNLOAD statement against ``lake`` (``database`` is
    the current one) and return its job, or its outcome when there is nothing to write (CTAS
    IF NOT EXISTS of an existing table). Unfinished writes of dead processes are recovered
    first. ``open_write`` is the engine's write of the planned query."""
    jn.recover_writes(lake)
    if isinstance(tree, exp.Create):
        return _prepare_ctas(lake, database, tree, context, open_write)
    if isinstance(tree, exp.Insert):
        return _prepare_insert(lake, database, tree, context, open_write)
    if isinstance(tree, exp.Command) and str(tree.this).upper() == "UNLOAD":
        rest = tree.expression.name if tree.expression is not None else ""
        return _prepare_unload(lake, rest, context, open_write)
    raise UnsupportedError(f"{tree.key.upper()} is not a write statement")


class WriteJob(ABC):
    """One validated write statement, run atomically by its caller, who plans ``query``::

        job.begin()
        try:
            with <the plan of job.query> as planned:
                job.write(planned)
            job.commit()
        except BaseException:
            job.fail()
            raise
        outcome = job.finish()

    ``begin`` starts the journal; ``write`` runs the planned query once, staging its files
    while the plan's engine statement is open; ``commit`` moves them into place and
    changes the catalog; ``fail`` undoes what this process wrote (the caller re-raises);
    ``finish`` cleans up the committed write and says what the statement returns."""

    #: the journal's kind of write
    kind = ""

    def __init__(
        self,
        lake: jn.Lake,
        context: WriteContext,
        open_write: OpenWrite | None,
        query: exp.Expression,
        target: str,
        staging: str,
        database: str | None = None,
        table: str | None = None,
    ) -> None:
        self.lake = lake
        self.context = context
        self.open_write = open_write
        #: the query to plan; its planned form goes to ``write``
        self.query = query
        self.target = target
        self.staging = staging
        self.database = database
        self.table = table
        self.rows = 0
        #: Athena's data manifest of the write, ``<query id>-manifest.csv`` beside the
        #: results: clients (awswrangler's CTAS reads) find the written files through it
        self.manifest = join_uri(context.output_location, f"{context.query_id}-manifest.csv")
        self._journal: jn.WriteJournal | None = None
        self._stats: ScanStats | None = None

    @property
    def journal(self) -> jn.WriteJournal:
        assert self._journal is not None, "begin() starts the journal"
        return self._journal

    @property
    def stats(self) -> ScanStats:
        assert self._stats is not None, "write() records the planned query's statistics"
        return self._stats

    def begin(self) -> None:
        """Record the write before anything is written."""
        self._journal = jn.start_journal(
            self.lake,
            self.context.query_id,
            self.kind,
            self.target,
            self.staging,
            self.database,
            self.table,
        )

    @abstractmethod
    def write(self, planned: PlannedQuery) -> None:
        """Run ``planned`` and stage its files (inside the plan's block)."""

    @abstractmethod
    def commit(self) -> None:
        """Move the staged files into place and change the catalog, up to the commit."""

    def fail(self) -> None:
        """Undo what this process wrote; the original error is re-raised by the caller."""
        try:
            jn.rollback(self.lake, self.journal)
        except LakeboxError:
            pass  # recovery finishes it: the journal stays when rollback fails

    def finish(self) -> WriteOutcome:
        jn.roll_forward(self.lake, self.journal)
        outcome = _rows_result(self.rows, self.stats)
        outcome.manifest = self.manifest if self.manifest in self.journal.extras else None
        return outcome

    def _write_manifest(self) -> None:
        """The data manifest: the final URI of every file moved into place, one a line
        (listed in the journal's extras before the moves, so a rollback removes it)."""
        self.lake.storage.write_bytes(
            self.manifest, "".join(f"{m[1]}\n" for m in self.journal.moves).encode()
        )

    def _move_all(self) -> None:
        storage = self.lake.storage
        for staged, final in self.journal.moves:
            fs, src = storage.fs_for(staged)
            dst = storage.fs_for(final)[1]
            storage.makedirs(final.rsplit("/", 1)[0] + "/")
            fs.mv(src, dst)

    def _open(self, planned: PlannedQuery, target: WriteTarget) -> TableWrite:
        if self.open_write is None:  # the engine that planned the query writes it
            return planned.statement.open_write(planned.query, self.lake.storage, target)
        return self.open_write(
            planned.con, planned.sql, self.lake.storage, self.context.control, target
        )


# -- properties ------------------------------------------------------------------------------
def _literal(node: exp.Expression, name: str) -> str:
    if isinstance(node, exp.Literal):
        return node.name
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return "-" + node.this.name
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    raise InvalidRequestError(f"property {name!r} must be a literal, got {node.sql('athena')}")


def _array(node: exp.Expression, name: str) -> list[str]:
    if isinstance(node, exp.Array):
        return [_literal(e, name).lower() for e in node.expressions]
    raise InvalidRequestError(f"property {name!r} must be an ARRAY['col', ...]")


def _properties(props: exp.Properties | None, allowed: set[str], what: str) -> dict[str, Any]:
    """The WITH (...) properties of a CTAS or UNLOAD as plain values; unknown ones fail
    naming the property, as Athena does."""
    out: dict[str, Any] = {}
    unknown: list[str] = []
    if props is None:
        return out
    for prop in props.expressions:
        if isinstance(prop, exp.WithDataProperty):
            out["__no_data"] = bool(prop.args.get("no"))
            continue
        if isinstance(prop, exp.FileFormatProperty):
            key, value = "format", prop.this
        elif isinstance(prop, exp.PartitionedByProperty):
            key, value = "partitioned_by", prop.this
        elif isinstance(prop, exp.LocationProperty):  # Iceberg's `location` (Hive's is
            key, value = "location", prop.this  # external_location, a plain Property)
        elif isinstance(prop, exp.Property):
            key, value = prop.name.lower(), prop.args.get("value")
        else:
            raise InvalidRequestError(f"unsupported {what} property: {prop.sql('athena')}")
        if key not in allowed:
            unknown.append(key)
            continue
        if key in out:
            raise InvalidRequestError(f"{what} property '{key}' is given more than once")
        assert isinstance(value, exp.Expression)
        if key in ("partitioned_by", "bucketed_by"):
            if isinstance(value, exp.Schema):
                out[key] = [e.name.lower() for e in value.expressions]
            else:
                out[key] = _array(value, key)
        else:
            out[key] = _literal(value, key)
    # an Iceberg CTAS has properties (location, ...) that a Hive one lacks: its table_type
    # is the error to report
    if unknown and str(out.get("table_type", "HIVE")).upper() == "HIVE":
        raise InvalidRequestError(
            f"Catalog 'awsdatacatalog' {what} property '{unknown[0]}' does not exist"
        )
    return out


def _options(
    props: dict[str, Any], query_id: str, compression_key: str = "write_compression"
) -> WriteTarget:
    fmt_name = str(props.get("format", "PARQUET")).upper()
    plugin = ctas_format(fmt_name)
    if plugin is None:
        raise InvalidRequestError(
            f"format {fmt_name!r} is not supported; use one of {', '.join(ctas_format_names())}"
        )
    fmt = _spec(plugin)
    compression = props.get(compression_key)
    legacy_keys = {
        p.write.legacy_compression_key: p.write.format
        for p in FORMATS.values()
        if p.write is not None and p.write.legacy_compression_key
    }
    for legacy, legacy_fmt in legacy_keys.items():
        if legacy in props:
            if fmt.legacy_compression_key != legacy:
                raise InvalidRequestError(f"{legacy} can only be used with format {legacy_fmt}")
            if compression is not None:
                raise InvalidRequestError(f"use either write_compression or {legacy}, not both")
            compression = props[legacy]
    codec_name = str(compression or fmt.default_compression).upper()
    if codec_name not in fmt.codecs:
        raise InvalidRequestError(
            f"compression {codec_name!r} is not supported for format {fmt.format} by lakebox; "
            f"use one of {', '.join(fmt.codecs)}"
        )
    delimiter = "\x01"
    if "field_delimiter" in props:
        if not fmt.field_delimiter:
            raise InvalidRequestError("field_delimiter can only be used with format TEXTFILE")
        delimiter = parse_delimiter(str(props["field_delimiter"]), "\x01")
        if len(delimiter) != 1:
            raise InvalidRequestError("field_delimiter must be a single character")
    encoding = str(props.get("ion_encoding", "BINARY")).upper()
    if "ion_encoding" in props and (not fmt.ion_encoding or encoding not in ("BINARY", "TEXT")):
        raise InvalidRequestError("ion_encoding is BINARY or TEXT and only for format ION")
    table_type = str(props.get("table_type", "HIVE")).upper()
    if table_type != "HIVE":
        raise UnsupportedError(f"table_type {table_type!r}: lakebox writes HIVE tables only")
    bucket_count = 0
    if "bucket_count" in props:
        try:
            bucket_count = int(props["bucket_count"])
        except ValueError as err:
            raise InvalidRequestError("bucket_count must be an integer") from err
        if bucket_count < 1:
            raise InvalidRequestError("bucket_count must be positive")
    bucketed_by = list(props.get("bucketed_by", []))
    if bool(bucketed_by) != bool(bucket_count):
        raise InvalidRequestError("bucketed_by and bucket_count must be given together")
    return WriteTarget(
        fmt=plugin,
        query_id=query_id,
        codec=fmt.codecs[codec_name],
        compression=codec_name,
        field_delimiter=delimiter,
        partitioned_by=list(props.get("partitioned_by", [])),
        bucketed_by=bucketed_by,
        bucket_count=bucket_count,
        ion_binary=encoding == "BINARY",
    )


_NUMERIC = ("tinyint", "smallint", "integer", "bigint", "real", "double", "decimal")


def _type_family(athena: str) -> str:
    base = athena.split("(", 1)[0]
    if base in _NUMERIC:
        return "number"
    if base in ("varchar", "char"):
        return "string"
    if base.startswith("timestamp"):
        return "timestamp"
    return base


def _coercible(source: str, target: str) -> bool:
    """Whether Athena would accept a query column of type ``source`` for a table column of
    type ``target`` (loosely: within numbers, strings, and date to timestamp)."""
    if source == "unknown":
        return True
    s, t = _type_family(source), _type_family(target)
    return s == t or (s == "date" and t == "timestamp")


# -- planning helpers -------------------------------------------------------------------------
def _unnamed_position(tree: exp.Expression) -> int | None:
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if isinstance(select, exp.Subquery):
        select = select.this
    if not isinstance(select, exp.Select):
        return None
    for i, e in enumerate(select.expressions):
        if not isinstance(e, exp.Alias | exp.Column | exp.Star | exp.Dot):
            return i + 1
    return None


def _rows_result(rows: int, stats: ScanStats) -> WriteOutcome:
    return WriteOutcome(pa.table({"rows": pa.array([rows], pa.int64())}), stats)


def _check_stop(context: WriteContext) -> None:
    if context.control is not None:
        context.control.check_stop()


def _hive_columns(schema: pa.Schema) -> list[Column]:
    """Hive columns of the rows a write selects (fails on types Hive cannot hold)."""
    return [Column(f.name, hive_type_from_arrow(f.type, f.name)) for f in schema]


# -- CTAS -----------------------------------------------------------------------------------
def _prepare_ctas(
    lake: jn.Lake,
    current_database: str,
    tree: exp.Create,
    context: WriteContext,
    open_write: OpenWrite | None,
) -> WriteJob | WriteOutcome:
    from lakebox.sql.planner import ScanStats

    if str(tree.args.get("kind") or "").upper() != "TABLE":
        raise UnsupportedError(f"CREATE {tree.args.get('kind')} ... AS is not a table write")
    if tree.args.get("replace"):
        raise UnsupportedError("CREATE OR REPLACE TABLE is not supported for Hive tables")
    target = tree.this
    if isinstance(target, exp.Schema):
        raise SemanticError(
            "CREATE TABLE AS cannot declare a column list; alias the SELECT columns"
        )
    assert isinstance(target, exp.Table)
    db_part, table_part = target.db, target.name
    if not db_part and table_part.count(".") == 1 and all(table_part.split(".")):
        db_part, table_part = table_part.split(".")  # Athena: `db.table` as one identifier
    database = (db_part or current_database).lower()  # exists already: looked up
    name = athena_table(table_part)
    query = tree.expression
    assert isinstance(query, exp.Expression)
    props = _properties(tree.args.get("properties"), _CTAS_PROPERTIES, "table")
    no_data = bool(props.pop("__no_data", False))
    options = _options(props, context.query_id)
    catalog, storage = lake.catalog, lake.storage
    catalog.get_database(database)
    if catalog.table_exists(database, name):
        if tree.args.get("exists"):
            return _rows_result(0, ScanStats())
        raise AlreadyExistsError(f"Table '{database}.{name}' already exists")
    if "external_location" in props:
        location = str(parse_uri(str(props["external_location"])).as_prefix())
    else:
        location = join_uri(context.output_location, "tables", context.query_id) + "/"
    if not storage.is_empty(location):
        raise AlreadyExistsError(
            f"HIVE_PATH_ALREADY_EXISTS: Target directory for table '{database}.{name}' already "
            f"exists: {location}. Empty it or choose another external_location"
        )
    position = _unnamed_position(query)
    if position is not None:
        raise SemanticError(f"Column name not specified at position {position}")
    staging = join_uri(location, STAGING_PREFIX + context.query_id) + "/"
    return _CtasJob(
        lake, context, open_write, query, location, staging, database, name, options, no_data
    )


class _CtasJob(WriteJob):
    """CREATE TABLE AS: its commit point is the new table in the catalog."""

    kind = "CTAS"
    database: str
    table: str

    def __init__(
        self,
        lake: jn.Lake,
        context: WriteContext,
        open_write: OpenWrite | None,
        query: exp.Expression,
        location: str,
        staging: str,
        database: str,
        name: str,
        options: WriteTarget,
        no_data: bool,
    ) -> None:
        super().__init__(lake, context, open_write, query, location, staging, database, name)
        self.options = options
        self.no_data = no_data
        self.created = False
        self.data_cols: list[Column] = []
        self.part_cols: list[Column] = []
        self.partitions: list[list[str]] = []

    def write(self, planned: PlannedQuery) -> None:
        options, name = self.options, self.table
        writer = self._open(planned, options)
        source = writer.source()
        out_names = [athena_column(n) for n in (planned.names or source.names)]
        seen: set[str] = set()
        for n in out_names:
            if n in seen:
                raise SemanticError(f"Column name '{n}' specified more than once")
            seen.add(n)
        parts = options.partitioned_by
        _check_partition_columns(parts, out_names)
        for b in options.bucketed_by:
            if b not in out_names or b in parts:
                raise SemanticError(
                    f"bucketed_by column '{b}' must be a non-partition column of the query"
                )
        cols = _hive_columns(writer.select_as(source, out_names, self.no_data))
        data_cols, part_cols = cols[: len(cols) - len(parts)], cols[len(cols) - len(parts) :]
        self.data_cols, self.part_cols = data_cols, part_cols
        if options.spec.avro_schema:
            writer.avro_schema = avro_schema(data_cols, name)
        self.rows, self.partitions = _stage(
            writer, options, self.journal, data_cols, parts, self.target, self.staging
        )
        self._stats = planned.stats

    def commit(self) -> None:
        database, name, location = self.database, self.table, self.target
        journal, catalog, part_cols = self.journal, self.lake.catalog, self.part_cols
        table = _table_for(database, name, self.data_cols, part_cols, location, self.options)
        _check_stop(self.context)
        journal.partitions_added = self.partitions
        if self.context.athena_results:
            journal.extras = [self.manifest]
        journal.save(jn.MOVING)
        self._move_all()
        if self.context.athena_results:
            self._write_manifest()
        journal.save(jn.CATALOG)
        catalog.create_table(table)
        self.created = True
        catalog.add_partitions(
            [
                Partition(database, name, list(v), location + partition_path(part_cols, list(v)))
                for v in self.partitions
            ],
            if_not_exists=True,
        )
        journal.save(jn.COMMITTED)

    def fail(self) -> None:
        if self.created:  # never a table a concurrent CTAS of the same name created first
            self.lake.catalog.drop_table(self.database, self.table, if_exists=True)
        super().fail()


def _check_partition_columns(parts: list[str], names: list[str]) -> None:
    for p in parts:
        if p not in names:
            raise SemanticError(f"Partition column '{p}' is not among the query's columns")
    if parts and names[len(names) - len(parts) :] != parts:
        raise SemanticError(
            "Partition columns must be the last columns of the SELECT, in partitioned_by "
            f"order: expected the query to end with {', '.join(parts)}"
        )
    if parts and len(parts) == len(names):
        raise SemanticError("Table contains only partition columns; keep at least one data column")


def _stage(
    writer: TableWrite,
    target: WriteTarget,
    journal: jn.WriteJournal,
    data_cols: list[Column],
    parts: list[str],
    location: str,
    staging: str,
) -> tuple[int, list[list[str]]]:
    """Write the rows into staging in one pass, recording the moves of their files to
    ``location``; returns the rows and the partition values written (Hive's default
    partition for NULL)."""
    keys = [Column(p, "string") for p in parts]
    rows, named = _named_files(writer.write(staging, data_cols, parts), target)
    partitions: dict[tuple[str, ...], None] = {}
    for values, staged, fname in named:
        rel = partition_path(keys, values) if parts else ""
        journal.moves.append([staged, location + rel + fname])
        if parts:
            partitions[tuple(values)] = None
    return rows, [list(v) for v in partitions]


def _named_files(
    staged: Staged, target: WriteTarget
) -> tuple[int, list[tuple[list[str], str, str]]]:
    """The rows and the files a write staged, each as (partition values with Hive's default
    partition for NULL, staged uri, final file name), in the order of their partition
    values (text by code point, NULL last) and bucket; nothing when no row was written."""
    if staged.rows == 0:
        return 0, []
    files = sorted(
        staged.files,
        key=lambda f: ([(v is None, v or "") for v in f.values], f.bucket or 0),
    )
    named = []
    seen: set[tuple[tuple[str, ...], str]] = set()
    for index, f in enumerate(files):
        values = [HIVE_DEFAULT_PARTITION if v is None else v for v in f.values]
        fname = target.file_name(index, f.bucket)
        if (tuple(values), fname) in seen:
            # two files of one bucket: Hive's names would collide and one would be lost
            raise LakeboxError(
                f"the write staged two files for bucket {f.bucket} of partition {values}"
            )
        seen.add((tuple(values), fname))
        named.append((values, f.uri, fname))
    return staged.rows, named


def _table_for(
    database: str,
    name: str,
    data_cols: list[Column],
    part_cols: list[Column],
    location: str,
    options: WriteTarget,
) -> Table:
    fmt = options.fmt
    spec = options.spec
    serde_params: dict[str, str] = {}
    params: dict[str, str] = {"has_encrypted_data": "false"}
    if spec.field_delimiter:
        serde_params = {
            "field.delim": options.field_delimiter,
            "serialization.format": options.field_delimiter,
        }
    if spec.compression_property:
        params[spec.compression_property] = options.compression
    if spec.avro_schema:
        import json

        serde_params["avro.schema.literal"] = json.dumps(avro_schema(data_cols, name))
    if spec.json_paths:
        serde_params["paths"] = ",".join(c.name for c in data_cols)
    if spec.records_write_compression and options.codec != "none":
        params["write.compression"] = options.compression
    return Table(
        database=database,
        name=name,
        columns=data_cols,
        partition_keys=part_cols,
        location=location,
        input_format=fmt.input_format,
        output_format=fmt.output_format,
        serde_library=fmt.serde,
        serde_parameters=serde_params,
        parameters=params,
        bucket_columns=list(options.bucketed_by),
        num_buckets=options.bucket_count,
    )


# -- INSERT INTO ----------------------------------------------------------------------------
def _table_options(table: Table, query_id: str) -> WriteTarget:
    plugin = plugin_for_serde(table.serde_library or "")
    if plugin is None or plugin.write is None:
        raise UnsupportedError(
            f"INSERT INTO table {table.qualified_name} with SerDe {table.serde_library!r} is not "
            "supported; Athena (and lakebox) write Parquet, ORC, Avro, JSON (Hive JsonSerDe), "
            "text (LazySimpleSerDe), CSV (OpenCSVSerde, string columns) and Ion tables"
        )
    fmt = plugin.write
    params = {k.lower(): v for k, v in table.parameters.items()}
    legacy = fmt.compression_property or "orc.compress"
    compression = (
        params.get("write.compression") or params.get(legacy) or fmt.default_compression
    ).upper()
    if compression == "UNCOMPRESSED" and "UNCOMPRESSED" not in fmt.codecs:
        compression = "NONE"
    if compression not in fmt.codecs:
        compression = fmt.default_compression
    sp = table.serde_parameters
    partitioned_by = [k.name.lower() for k in table.partition_keys]
    if fmt.text and not text_charset(table).is_utf8:
        # the readers decode the table's charset; written UTF-8 would read back garbled
        raise UnsupportedError(
            f"INSERT INTO table {table.qualified_name}: lakebox writes text as UTF-8, and the "
            f"table declares serialization.encoding {text_charset(table).java_name!r}; insert "
            "into a UTF-8 table instead"
        )
    if plugin.name == "csv":
        not_strings = [c.name for c in table.columns if c.type.lower() != "string"]
        if not_strings:
            raise UnsupportedError(
                f"INSERT INTO OpenCSVSerde table {table.qualified_name}: writes are supported "
                f"only for string columns (Athena's rule); {', '.join(not_strings)} are not"
            )
        sep, quote, csv_escape = OpenCsvReader().options(table)
        return WriteTarget(
            fmt=plugin,
            query_id=query_id,
            codec=fmt.codecs[compression],
            compression=compression,
            field_delimiter=sep,
            quote=quote,
            escape=csv_escape,
            partitioned_by=partitioned_by,
        )
    seps = LazySimpleReader().separators(table)
    escape = sp.get("escape.delim")
    return WriteTarget(
        fmt=plugin,
        query_id=query_id,
        codec=fmt.codecs[compression],
        compression=compression,
        field_delimiter=seps[0],
        collection_delimiter=seps[1],
        mapkey_delimiter=seps[2],
        null_format=_null_format(table),
        escape=parse_delimiter(escape, "\\") if escape else None,
        partitioned_by=partitioned_by,
        ion_binary=sp.get("ion.encoding", "BINARY").upper() != "TEXT",
    )


def _null_format(table: Table) -> str:
    """LazySimpleSerDe's NULL text, from SerDe or table properties as the reader takes it."""
    value = table_param(table, "serialization.null.format")
    return "\\N" if value is None else value


def _table_avro_schema(table: Table) -> dict[str, Any]:
    import json

    literal = table.serde_parameters.get("avro.schema.literal") or table.parameters.get(
        "avro.schema.literal"
    )
    if literal:
        try:
            parsed = json.loads(literal)
        except ValueError as err:
            raise SemanticError(
                f"avro.schema.literal of {table.qualified_name} is not JSON"
            ) from err
        if isinstance(parsed, dict):
            return parsed
    data_cols = [Column(c.name.lower(), c.type) for c in table.columns]
    return avro_schema(data_cols, table.name)


def _prepare_insert(
    lake: jn.Lake,
    current_database: str,
    tree: exp.Insert,
    context: WriteContext,
    open_write: OpenWrite | None,
) -> WriteJob:
    from lakebox.catalog.projection import ProjectionConfig

    target = tree.this
    column_list: list[str] | None = None
    if isinstance(target, exp.Schema):
        column_list = [e.name.lower() for e in target.expressions]
        target = target.this
    assert isinstance(target, exp.Table)
    database = (target.db or current_database).lower()
    table = lake.catalog.get_table(database, target.name.lower())
    if table.is_view:
        raise SemanticError("Inserting into views is not supported")
    if table.bucket_columns or table.num_buckets > 0:
        raise UnsupportedError("INSERT INTO is not supported on bucketed tables")
    if not table.location:
        raise SemanticError(f"table {table.qualified_name} has no LOCATION to write into")
    options = _table_options(table, context.query_id)
    projection = ProjectionConfig.from_table(table) if table.partition_keys else None
    all_cols = [Column(c.name.lower(), c.type) for c in table.all_columns]
    if column_list is not None:
        seen: set[str] = set()
        for n in column_list:
            if n not in {c.name for c in all_cols}:
                raise SemanticError(f"Insert column name does not exist in target table: {n}")
            if n in seen:
                raise SemanticError(f"Insert column name is specified more than once: {n}")
            seen.add(n)
    wanted = column_list if column_list is not None else [c.name for c in all_cols]
    query = tree.expression
    assert isinstance(query, exp.Expression)
    location = str(parse_uri(table.location).as_prefix())
    staging = join_uri(location, STAGING_PREFIX + context.query_id) + "/"
    return _InsertJob(
        lake,
        context,
        open_write,
        query,
        location,
        staging,
        database,
        table,
        options,
        projection,
        all_cols,
        wanted,
    )


class _InsertJob(WriteJob):
    """INSERT INTO: its commit point is the ``committed`` journal phase, after every file
    is in place and every new partition registered."""

    kind = "INSERT"

    def __init__(
        self,
        lake: jn.Lake,
        context: WriteContext,
        open_write: OpenWrite | None,
        query: exp.Expression,
        location: str,
        staging: str,
        database: str,
        table: Table,
        options: WriteTarget,
        projection: ProjectionConfig | None,
        all_cols: list[Column],
        wanted: list[str],
    ) -> None:
        super().__init__(lake, context, open_write, query, location, staging, database, table.name)
        self.target_table = table
        self.options = options
        self.projection = projection
        self.all_cols = all_cols
        self.wanted = wanted
        self.new_parts: list[Partition] = []

    def write(self, planned: PlannedQuery) -> None:
        table, options, all_cols, wanted = (
            self.target_table,
            self.options,
            self.all_cols,
            self.wanted,
        )
        writer = self._open(planned, options)
        source = writer.source()
        by_name = {c.name: c for c in all_cols}
        table_types = [athena_type_from_arrow(arrow_type(by_name[n].type)) for n in wanted]
        query_types = source.athena_types
        if len(source.names) != len(wanted) or not all(
            _coercible(s, t) for s, t in zip(query_types, table_types, strict=False)
        ):
            raise SemanticError(
                "TYPE_MISMATCH: Insert query has mismatched column types: Table: "
                f"[{', '.join(table_types)}], Query: [{', '.join(query_types)}]"
            )
        writer.select_into(all_cols, {n: i for i, n in enumerate(wanted)})
        if options.spec.avro_schema:
            writer.avro_schema = _table_avro_schema(table)
        data_cols = [Column(c.name.lower(), c.type) for c in table.columns]
        part_keys = [Column(k.name.lower(), k.type) for k in table.partition_keys]
        self.rows, self.new_parts = _stage_insert(
            self.lake,
            writer,
            options,
            self.journal,
            table,
            data_cols,
            part_keys,
            self.projection,
            self.staging,
        )
        self._stats = planned.stats

    def commit(self) -> None:
        journal = self.journal
        _check_stop(self.context)
        journal.partitions_added = [p.values for p in self.new_parts]
        if self.context.athena_results:
            journal.extras = [self.manifest]
        journal.save(jn.MOVING)
        self._move_all()
        if self.context.athena_results:
            self._write_manifest()
        journal.save(jn.CATALOG)
        self.lake.catalog.add_partitions(self.new_parts, if_not_exists=True)
        journal.save(jn.COMMITTED)


def _stage_insert(
    lake: jn.Lake,
    writer: TableWrite,
    target: WriteTarget,
    journal: jn.WriteJournal,
    table: Table,
    data_cols: list[Column],
    part_keys: list[Column],
    projection: ProjectionConfig | None,
    staging: str,
) -> tuple[int, list[Partition]]:
    """Stage an INSERT's files in one pass; existing partitions keep their location, new
    ones are created Hive-style under the table (projected tables register none). Returns
    the rows and the new partitions."""
    parts = [k.name for k in part_keys]
    rows, named = _named_files(writer.write(staging, data_cols, parts), target)
    if not named:
        return rows, []
    existing = {
        tuple(p.values): p.location
        for p in (lake.catalog.get_partitions(table.database, table.name) if parts else [])
    }
    base = str(parse_uri(table.location or "").as_prefix())
    new: dict[tuple[str, ...], Partition] = {}
    for values, staged, fname in named:
        rel = partition_path(part_keys, values) if parts else ""
        if not parts:
            folder = base
        elif projection is not None:
            folder = str(parse_uri(projection.location(values)).as_prefix())
        elif tuple(values) in existing and existing[tuple(values)]:
            folder = str(parse_uri(existing[tuple(values)] or "").as_prefix())
        else:
            folder = base + rel
            new[tuple(values)] = Partition(table.database, table.name, values, folder)
        journal.moves.append([staged, folder + fname])
    return rows, list(new.values())


# -- UNLOAD ---------------------------------------------------------------------------------
def _prepare_unload(
    lake: jn.Lake, rest: str, context: WriteContext, open_write: OpenWrite | None
) -> WriteJob:
    from lakebox.sql.dialect import parse_query

    query_text, to, props_text = split_unload(rest)
    props: dict[str, Any] = {}
    if props_text.strip():
        fake = parse_query(f"CREATE TABLE __unload WITH ({props_text}) AS SELECT 1")
        props = _properties(fake.args.get("properties"), _UNLOAD_PROPERTIES, "UNLOAD")
    if "format" not in props:
        raise InvalidRequestError(
            "UNLOAD needs WITH (format = 'PARQUET' | 'ORC' | 'AVRO' | 'JSON' | 'TEXTFILE' | 'ION')"
        )
    props.pop("compression_level", None)
    options = _options(props, context.query_id, compression_key="compression")
    query = parse_query(query_text)
    if not isinstance(query, exp.Query | exp.Values):
        raise SemanticError("UNLOAD needs a SELECT query in parentheses")
    target = str(parse_uri(to).as_prefix())
    if not options.partitioned_by and not lake.storage.is_empty(target):
        raise AlreadyExistsError(
            f"HIVE_PATH_ALREADY_EXISTS: Target directory for UNLOAD already exists: {target}. "
            "UNLOAD writes only into an empty location"
        )
    staging = join_uri(target, STAGING_PREFIX + context.query_id) + "/"
    return _UnloadJob(lake, context, open_write, query, target, staging, options)


class _UnloadJob(WriteJob):
    """UNLOAD: files and a manifest, no catalog change; committed by the journal."""

    kind = "UNLOAD"

    def __init__(
        self,
        lake: jn.Lake,
        context: WriteContext,
        open_write: OpenWrite | None,
        query: exp.Expression,
        target: str,
        staging: str,
        options: WriteTarget,
    ) -> None:
        super().__init__(lake, context, open_write, query, target, staging)
        self.options = options

    def write(self, planned: PlannedQuery) -> None:
        writer = self._open(planned, self.options)
        source = writer.source()
        out_names = [n.lower() for n in (planned.names or source.names)]
        parts = self.options.partitioned_by
        _check_partition_columns(parts, out_names)
        cols = _hive_columns(writer.select_as(source, out_names))
        data_cols = cols[: len(cols) - len(parts)]
        self.rows, _ = _stage(
            writer, self.options, self.journal, data_cols, parts, self.target, self.staging
        )
        self._stats = planned.stats

    def commit(self) -> None:
        journal = self.journal
        _check_stop(self.context)
        journal.extras = [self.manifest]
        journal.save(jn.MOVING)
        self._move_all()
        self._write_manifest()
        journal.save(jn.COMMITTED)

    def finish(self) -> WriteOutcome:
        jn.roll_forward(self.lake, self.journal)
        message = f"{self.rows} rows unloaded"
        return WriteOutcome(pa.table({}), self.stats, message=message, manifest=self.manifest)


__all__ = [
    "FORMATS",
    "MAX_PARTITIONS",
    "avro_schema",
    "WriteJob",
    "WriteOutcome",
    "prepare_write",
    "hive_type_from_arrow",
    "split_unload",
]
