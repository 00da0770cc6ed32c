"""RDS / Aurora-style database snapshot exports: every table of a SQLite, PostgreSQL or
MySQL / MariaDB database (through SQLAlchemy) to gzip-compressed Parquet in RDS's layout

``<prefix>/<export_id>/<database>/<schema>.<table>/1/part-<nnnnn>-<uuid>.gz.parquet``

with ``export_info_<export_id>.json`` and ``export_tables_info_<export_id>_from_1_to_<n>.json``
at the export root, and each table registered in the catalog as a Parquet table.

Rows stream through a server-side cursor (``stream_results`` + ``yield_per``) and each
batch becomes its own part file, so memory stays bounded by ``batch_rows`` whatever the
table size. Column types follow the mapping in docs/ingest.md; a column whose type has no
mapping is exported as text (``CAST(... AS text)``) and reported per column. A table that
fails marks the export FAILED: its data files are removed, no table is registered, and the
export info says FAILED.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import re
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakebox.catalog.model import Column, Database, Table
from lakebox.catalog.types import arrow_type
from lakebox.errors import InvalidRequestError, LakeboxError
from lakebox.ingest.errors import constraint_error
from lakebox.metadata.files import MetadataFileError, read_metadata_json
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.storage import Storage
from lakebox.storage.uri import bucket_problem, key_problem

if TYPE_CHECKING:
    import sqlalchemy as sa

    from lakebox.catalog.store import CatalogStore
    from lakebox.query.lake import LakeParts as Lake

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
BATCH_ROWS = 100_000
_SYSTEM_SCHEMAS = {
    "information_schema",
    "pg_catalog",
    "pg_toast",
    "mysql",
    "performance_schema",
    "sys",
}
_ID = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,62}$")


@dataclass
class ColumnExport:
    name: str
    original_type: str
    hive_type: str
    unsupported: bool = False


@dataclass
class TableReport:
    target: str  # database.schema.table
    columns: list[ColumnExport]
    location: str = ""  # the table's folder (above the batch folders)
    status: str = "IN_PROGRESS"
    rows: int = 0
    bytes: int = 0
    files: list[str] = field(default_factory=list)
    warning: str | None = None
    failure: str | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "target": self.target,
            "status": self.status,
            "sizeGB": self.bytes / 1024**3,
            "TableStatistics": {
                "extractedRows": self.rows,
                "extractedBytes": self.bytes,
                "partitioningInfo": {"numberOfPartitions": len(self.files)},
            },
            "schemaMetadata": {
                "originalTypeMappings": [
                    {
                        "columnName": c.name,
                        "originalType": c.original_type,
                        "expectedExportedType": c.hive_type,
                        **({"unsupported": True} if c.unsupported else {}),
                    }
                    for c in self.columns
                ]
            },
        }
        if self.warning:
            doc["warningMessage"] = self.warning
        if self.failure:
            doc["failureCause"] = self.failure
        return doc


# -- type mapping --------------------------------------------------------------------------------


def hive_type_for(sa_type: Any, dialect: str = "postgresql") -> str | None:
    """The catalog type a source column is exported as, or None when unsupported.
    ``REAL`` is 4 bytes in PostgreSQL but 8 in SQLite and MySQL."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import mysql, postgresql

    name = type(sa_type).__name__.upper()
    unsigned = bool(getattr(sa_type, "unsigned", False))
    if isinstance(sa_type, sa.types.NullType):
        return None
    if isinstance(sa_type, sa.Boolean):
        return "boolean"
    if isinstance(sa_type, mysql.TINYINT):
        return "smallint" if unsigned else "tinyint"
    if isinstance(sa_type, mysql.YEAR):
        return "int"
    if isinstance(sa_type, mysql.BIT):
        return "binary"
    if isinstance(sa_type, sa.SmallInteger):
        return "int" if unsigned else "smallint"
    if isinstance(sa_type, sa.BigInteger):
        return "decimal(20,0)" if unsigned else "bigint"
    if isinstance(sa_type, sa.Integer):
        if name == "MEDIUMINT":
            return "int"
        return "bigint" if unsigned else "int"
    if isinstance(sa_type, sa.Float | sa.REAL | sa.Double) or name in (
        "DOUBLE_PRECISION",
        "DOUBLE",
        "FLOAT",
        "REAL",
    ):
        if isinstance(sa_type, sa.REAL) or name == "REAL":
            return "float" if dialect == "postgresql" else "double"
        precision = getattr(sa_type, "precision", None)
        if isinstance(sa_type, mysql.FLOAT) and not precision:
            return "float"
        return "float" if precision is not None and precision <= 24 else "double"
    if isinstance(sa_type, sa.Numeric):
        precision, scale = sa_type.precision, sa_type.scale or 0
        if precision is None or precision > 38:
            return "string"
        return f"decimal({precision},{scale})"
    if isinstance(sa_type, postgresql.INTERVAL | sa.Interval | sa.Time):
        return "string"
    if isinstance(sa_type, sa.DateTime) or name in ("DATETIME", "TIMESTAMP"):
        return "timestamp"
    if isinstance(sa_type, sa.Date):
        return "date"
    if isinstance(sa_type, sa.LargeBinary | sa.types._Binary) or name in (
        "BYTEA",
        "BLOB",
        "VARBINARY",
        "BINARY",
    ):
        return "binary"
    if isinstance(sa_type, sa.ARRAY):
        inner = hive_type_for(sa_type.item_type, dialect)
        return f"array<{inner}>" if inner and sa_type.dimensions in (None, 1) else "string"
    if isinstance(sa_type, sa.JSON | sa.String | sa.Enum | sa.Uuid) or name in (
        "UUID",
        "INET",
        "CIDR",
        "MACADDR",
        "TSVECTOR",
        "MONEY",
        "OID",
        "SET",
        "CITEXT",
    ):
        return "string"
    return None


def _string(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, dict | list):
        return json.dumps(v, default=str, separators=(",", ":"))
    if isinstance(v, bytes | memoryview):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, dt.timedelta):
        total = int(v.total_seconds())
        sign = "-" if total < 0 else ""
        total = abs(total)
        text = f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
        micro = abs(v).microseconds
        return text + (f".{micro:06d}" if micro else "")
    if isinstance(v, dt.time):
        return v.isoformat()
    return str(v)


def _timestamp(v: Any) -> dt.datetime:
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            return v.astimezone(dt.UTC).replace(tzinfo=None)
        return v
    if isinstance(v, str):  # SQLite stores timestamps as text
        return _timestamp(dt.datetime.fromisoformat(v))
    raise ValueError(f"{v!r} is not a timestamp")


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        return dt.date.fromisoformat(v[:10])
    raise ValueError(f"{v!r} is not a date")


def _decimal(v: Any) -> decimal.Decimal:
    return v if isinstance(v, decimal.Decimal) else decimal.Decimal(str(v))


def _binary(v: Any) -> bytes:
    if isinstance(v, str):
        return v.encode()
    return bytes(v)


def _bool(v: Any) -> bool:
    return bool(v)


def _converter(hive: str) -> Callable[[Any], Any] | None:
    """Per-value fix-ups drivers need before Arrow (None: Arrow takes values as they are)."""
    if hive == "string":
        return _string
    if hive == "timestamp":
        return _timestamp
    if hive == "date":
        return _date
    if hive.startswith("decimal"):
        return _decimal
    if hive == "binary":
        return _binary
    if hive == "boolean":
        return _bool
    if hive in ("float", "double"):
        return float  # MySQL's DOUBLE reflects with asdecimal and yields Decimal
    return None


def _arrow_column(values: list[Any], hive: str, conv: Callable[[Any], Any] | None) -> pa.Array:
    if conv is not None:
        values = [None if v is None else conv(v) for v in values]
    typ = arrow_type(hive)
    assert isinstance(typ, pa.DataType)
    return pa.array(values, type=typ)


# -- the export ---------------------------------------------------------------------------------


@dataclass
class _Source:
    engine: sa.Engine
    database: str
    dialect: str

    def schemas(self) -> list[str | None]:
        import sqlalchemy as sa

        if self.dialect == "postgresql":
            names = sa.inspect(self.engine).get_schema_names()
            return [n for n in names if n not in _SYSTEM_SCHEMAS and not n.startswith("pg_")]
        return [None]

    def schema_label(self, schema: str | None) -> str:
        if schema is not None:
            return schema
        return "main" if self.dialect == "sqlite" else self.database


def _open_source(url: str) -> _Source:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as err:
        raise InvalidRequestError(f"bad source database URL {url!r}: {err}") from err
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql", "mysql", "mariadb"):
        raise InvalidRequestError(
            f"database {dialect} is not supported: use SQLite, PostgreSQL or MySQL/MariaDB"
        )
    database = engine.url.database or ""
    if dialect == "sqlite":
        database = re.sub(r"\.(sqlite3?|db)$", "", database.rsplit("/", 1)[-1]) or "main"
    return _Source(engine, database, "mysql" if dialect == "mariadb" else dialect)


#: the field of a kept task naming who started it
_PRINCIPAL = "LakeboxPrincipalArn"


class SnapshotExports:
    """RDS StartExportTask / DescribeExportTasks over SQLAlchemy sources."""

    def __init__(
        self,
        lake: Lake | None = None,
        *,
        storage: Storage | None = None,
        catalog: CatalogStore | None = None,
        metadata_dir: Path | None = None,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        if lake is not None:
            storage, catalog = lake.storage, lake.catalog
            metadata_dir = lake.config.metadata_dir
        if storage is None or catalog is None or metadata_dir is None:
            raise InvalidRequestError("SnapshotExports needs a Lake")
        self.storage = storage
        self.catalog = catalog
        #: the lake, told who created the tables an export makes (None without one)
        self._lake = lake
        self.root = metadata_dir / "snapshot-exports"
        self.batch_rows = batch_rows
        self.root.mkdir(parents=True, exist_ok=True)

    # -- API --------------------------------------------------------------------------------
    def start_export_task(
        self, request: dict[str, Any], *, principal: Principal = LOCAL_ADMIN
    ) -> dict[str, Any]:
        """Run an export; answers the ExportTask as it ended (COMPLETE or FAILED).

        ``SourceArn`` is a SQLAlchemy URL of the source database. Lakebox extensions:
        ``CatalogDatabase`` (where tables are registered; default the export id with
        ``-`` as ``_``) and ``BatchRows`` (rows per part file)."""
        task_id = request.get("ExportTaskIdentifier") or ""
        if not _ID.match(task_id):
            raise constraint_error(
                task_id,
                "exportTaskIdentifier",
                "Member must start with a letter and contain only "
                "letters, digits and hyphens (1-63)",
            )
        if (self.root / f"{task_id}.json").exists():
            from lakebox.ingest.errors import ResourceInUseError

            err = ResourceInUseError(f"The export task with the ID {task_id} already exists")
            err.code = "ExportTaskAlreadyExistsFault"
            raise err
        for member in ("SourceArn", "S3BucketName"):
            if not request.get(member):
                raise constraint_error(
                    None, member[0].lower() + member[1:], "Member must not be null"
                )
        source = _open_source(request["SourceArn"])
        start = time.time()
        prefix = (request.get("S3Prefix") or "").strip("/")
        bucket = request["S3BucketName"]
        problem = bucket_problem(str(bucket)) or key_problem(str(prefix))
        if problem:
            raise InvalidRequestError(
                f"S3BucketName {bucket!r} / S3Prefix {prefix!r} is refused: {problem}"
            )
        root = f"s3://{bucket}/{prefix + '/' if prefix else ''}{task_id}"
        only = list(request.get("ExportOnly") or [])
        task: dict[str, Any] = {
            "ExportTaskIdentifier": task_id,
            "SourceArn": _redact(source.engine),
            "ExportOnly": only,
            "SnapshotTime": _iso(start),
            "TaskStartTime": _iso(start),
            "S3Bucket": bucket,
            "S3Prefix": prefix,
            "Status": "IN_PROGRESS",
            "PercentProgress": 0,
            "TotalExtractedDataInGB": 0,
            "SourceType": "SNAPSHOT",
        }
        self._save(task, principal)
        reports: list[TableReport] = []
        batch_rows = int(request.get("BatchRows") or self.batch_rows)
        import sqlalchemy as sa

        try:
            with warnings.catch_warnings():
                # SQLAlchemy warns about types it cannot reflect; we report them instead
                warnings.simplefilter("ignore")
                targets = self._targets(source, only)
            # one REPEATABLE READ transaction: every table is read as of the same moment
            with source.engine.connect() as con:
                if source.dialect != "sqlite":
                    con = con.execution_options(isolation_level="REPEATABLE READ")
                with con.begin():
                    for schema, table in targets:
                        report = self._export_table(source, con, schema, table, root, batch_rows)
                        reports.append(report)
                        if report.status == "FAILED":
                            raise _TableFailed(report)
        except (
            _TableFailed,
            LakeboxError,
            OSError,
            pa.ArrowException,
            sa.exc.SQLAlchemyError,
        ) as err:
            for r in reports:
                for uri in r.files:
                    self.storage.delete(uri)
            cause = (
                f"table {err.report.target}: {err.report.failure}"
                if isinstance(err, _TableFailed)
                else str(err)
            )
            task.update(Status="FAILED", FailureCause=cause, TaskEndTime=_iso(time.time()))
            self._write_info(root, task, reports, start)
            self._save(task, principal)
            return task
        finally:
            source.engine.dispose()
        db_name = (request.get("CatalogDatabase") or task_id.replace("-", "_")).lower()
        self._register(db_name, source, reports)
        warns = [r.warning for r in reports if r.warning]
        task.update(
            Status="COMPLETE",
            PercentProgress=100,
            TaskEndTime=_iso(time.time()),
            TotalExtractedDataInGB=sum(r.bytes for r in reports) / 1024**3,
        )
        if warns:
            task["WarningMessage"] = "; ".join(w for w in warns if w)
        self._write_info(root, task, reports, start)
        self._save(task, principal)
        return task

    def describe_export_tasks(
        self, request: dict[str, Any] | None = None, *, principal: Principal = LOCAL_ADMIN
    ) -> dict[str, Any]:
        request = request or {}
        task_id = request.get("ExportTaskIdentifier")
        tasks = [read_metadata_json(p) for p in sorted(self.root.glob("*.json"))]
        tasks = [{k: v for k, v in t.items() if k != _PRINCIPAL} for t in tasks]
        for path, task in zip(sorted(self.root.glob("*.json")), tasks, strict=True):
            if not isinstance(task.get("ExportTaskIdentifier"), str):
                raise MetadataFileError(
                    path, "field 'ExportTaskIdentifier' missing or not a string"
                )
        if task_id:
            tasks = [t for t in tasks if t["ExportTaskIdentifier"] == task_id]
            if not tasks:
                from lakebox.ingest.errors import ResourceNotFoundError

                err = ResourceNotFoundError(f"The export task with the ID {task_id} is not found")
                err.code = "ExportTaskNotFoundFault"
                raise err
        return {"ExportTasks": tasks}

    # -- internals ----------------------------------------------------------------------------
    def _save(self, task: dict[str, Any], principal: Principal) -> None:
        """Keep the task with who started it (``LakeboxPrincipalArn``, which answers leave
        out: RDS's ExportTask names no caller)."""
        from lakebox.ingest.wal import write_json_atomic

        write_json_atomic(
            self.root / f"{task['ExportTaskIdentifier']}.json",
            {**task, _PRINCIPAL: principal.arn},
        )

    def started_by(self, task_id: str, *, principal: Principal = LOCAL_ADMIN) -> str:
        """The ARN of who started an export task (tasks kept before principals were
        recorded: the local administrator)."""
        path = self.root / f"{task_id}.json"
        if not _ID.match(task_id) or not path.exists():
            from lakebox.ingest.errors import ResourceNotFoundError

            err = ResourceNotFoundError(f"The export task with the ID {task_id} is not found")
            err.code = "ExportTaskNotFoundFault"
            raise err
        found = read_metadata_json(path).get(_PRINCIPAL)
        return found if isinstance(found, str) else LOCAL_ADMIN.arn

    def _targets(self, source: _Source, only: list[str]) -> list[tuple[str | None, str]]:
        import sqlalchemy as sa

        inspector = sa.inspect(source.engine)
        found = [
            (schema, name)
            for schema in source.schemas()
            for name in sorted(inspector.get_table_names(schema=schema))
        ]
        if not only:
            return found
        wanted = []
        for entry in only:
            parts = entry.split(".")
            if parts[0] != source.database:
                raise InvalidRequestError(
                    f"ExportOnly entry {entry!r} does not name database {source.database!r}"
                )
            wanted.append(parts[1:])
        out = []
        for schema, name in found:
            label = source.schema_label(schema)
            for w in wanted:
                if (
                    not w
                    or w == [label]
                    or w == [label, name]
                    or (len(w) == 1 and source.dialect != "postgresql" and w == [name])
                ):
                    out.append((schema, name))
                    break
        missing = [
            e
            for e, w in zip(only, wanted, strict=True)
            if w and not any((w == [source.schema_label(s)] or w[-1] == n) for s, n in found)
        ]
        if missing:
            raise InvalidRequestError(f"ExportOnly names tables that do not exist: {missing}")
        return out

    def _export_table(
        self,
        source: _Source,
        con: sa.Connection,
        schema: str | None,
        name: str,
        root: str,
        batch_rows: int,
    ) -> TableReport:
        import sqlalchemy as sa

        label = source.schema_label(schema)
        target = f"{source.database}.{label}.{name}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta = sa.MetaData()
            table = sa.Table(name, meta, schema=schema, autoload_with=source.engine)
        from sqlalchemy.dialects import postgresql

        columns: list[ColumnExport] = []
        selects: list[Any] = []
        raw = _raw_types(source, schema, name)
        for col in table.columns:
            original = raw.get(col.name) or _type_text(col.type, source.engine)
            hive = hive_type_for(col.type, source.dialect)
            if hive is None:
                columns.append(ColumnExport(col.name, original, "string", unsupported=True))
                if source.dialect == "mysql" and original.lower() in _SPATIAL:
                    selects.append(sa.func.ST_AsText(col).label(col.name))
                else:
                    selects.append(sa.cast(col, sa.Text).label(col.name))
            elif isinstance(col.type, postgresql.INTERVAL):
                columns.append(ColumnExport(col.name, original, hive))
                selects.append(sa.cast(col, sa.Text).label(col.name))
            else:
                columns.append(ColumnExport(col.name, original, hive))
                selects.append(col)
        report = TableReport(target, columns)
        bad = [c for c in columns if c.unsupported]
        if bad:
            report.warning = f"{target}: unsupported column types exported as text: " + ", ".join(
                f"{c.name} ({c.original_type})" for c in bad
            )
        report.location = f"{root}/{source.database}/{label}.{name}/"
        folder = report.location + "1"
        convs = [_converter(c.hive_type) for c in columns]
        schema_arrow = pa.schema([pa.field(c.name, arrow_type(c.hive_type)) for c in columns])
        try:
            batches = _batches(con, sa.select(*selects), batch_rows)
            for part, rows in enumerate(batches):
                arrays = [
                    _arrow_column([r[i] for r in rows], c.hive_type, convs[i])
                    for i, c in enumerate(columns)
                ]
                data = pa.Table.from_arrays(arrays, schema=schema_arrow)
                buf = io.BytesIO()
                pq.write_table(data, buf, compression="gzip")
                uri = f"{folder}/part-{part:05d}-{uuid.uuid4()}.gz.parquet"
                self.storage.write_bytes(uri, buf.getvalue())
                report.files.append(uri)
                report.rows += len(rows)
                report.bytes += buf.tell()
        except (
            pa.ArrowException,
            ValueError,
            TypeError,
            ArithmeticError,
            sa.exc.SQLAlchemyError,
        ) as err:
            report.status = "FAILED"
            report.failure = f"{type(err).__name__}: {str(err).splitlines()[0]}"
            return report
        report.status = "COMPLETE"
        return report

    def _write_info(
        self, root: str, task: dict[str, Any], reports: list[TableReport], start: float
    ) -> None:
        task_id = task["ExportTaskIdentifier"]
        info = {
            "exportTaskIdentifier": task_id,
            "sourceArn": task["SourceArn"],
            "exportOnly": task["ExportOnly"],
            "snapshotTime": task["SnapshotTime"],
            "taskStartTime": task["TaskStartTime"],
            "taskEndTime": task.get("TaskEndTime"),
            "s3Bucket": task["S3Bucket"],
            "s3Prefix": task["S3Prefix"],
            "exportedFilesPath": f"{root}/",
            "status": task["Status"],
            "percentProgress": task["PercentProgress"],
            "totalExportedDataInGB": task["TotalExtractedDataInGB"],
            "perTableStatus": [
                {
                    "target": r.target,
                    "status": r.status,
                    "sizeGB": r.bytes / 1024**3,
                    **({"warningMessage": r.warning} if r.warning else {}),
                }
                for r in reports
            ],
        }
        if task.get("FailureCause"):
            info["failureCause"] = task["FailureCause"]
        self.storage.write_bytes(
            f"{root}/export_info_{task_id}.json", json.dumps(info, indent=2).encode()
        )
        tables = {"perTableStatus": [r.to_dict() for r in reports]}
        self.storage.write_bytes(
            f"{root}/export_tables_info_{task_id}_from_1_to_{max(len(reports), 1)}.json",
            json.dumps(tables, indent=2).encode(),
        )

    def _register(self, db_name: str, source: _Source, reports: list[TableReport]) -> None:
        self.catalog.create_database(
            Database(db_name, description="RDS-style snapshot export"), if_not_exists=True
        )
        schemas = {r.target.split(".")[1] for r in reports}
        for r in reports:
            _, schema, name = r.target.split(".", 2)
            table_name = name if len(schemas) == 1 else f"{schema}_{name}"
            table = Table(
                db_name,
                table_name.lower(),
                [
                    Column(c.name.lower(), c.hive_type, f"source type {c.original_type}")
                    for c in r.columns
                ],
                location=r.location,
                serde_library=PARQUET_SERDE,
                input_format=PARQUET_INPUT,
                output_format=PARQUET_OUTPUT,
                parameters={
                    "classification": "parquet",
                    "compressionType": "gzip",
                    "lakebox.source": r.target,
                },
            )
            made = not self.catalog.table_exists(table.database, table.name)
            self.catalog.create_table(table, replace=True)
            if made and self._lake is not None:
                # made as the local administrator: the lake's permissions must not take
                # the creator of an earlier table of this name for its creator
                self._lake.table_access().created(LOCAL_ADMIN, table.database, table.name)


class _TableFailed(Exception):
    def __init__(self, report: TableReport) -> None:
        super().__init__(report.failure)
        self.report = report


def _batches(con: sa.Connection, query: Any, size: int) -> Iterator[list[Any]]:
    """Rows in lists of ``size`` from a server-side cursor (never the whole table)."""
    result = con.execution_options(stream_results=True, yield_per=size).execute(query)
    try:
        for part in result.partitions(size):
            yield list(part)
    finally:
        result.close()


_SPATIAL = {
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
}


def _raw_types(source: _Source, schema: str | None, table: str) -> dict[str, str]:
    """Column types as the database spells them (reflection loses unknown ones)."""
    import sqlalchemy as sa

    if source.dialect == "sqlite":
        return {}
    query = sa.text(
        "SELECT column_name, "
        + ("udt_name" if source.dialect == "postgresql" else "data_type")
        + " FROM information_schema.columns WHERE table_name = :t AND table_schema = "
        + (":s" if schema is not None else "DATABASE()")
    )
    params = {"t": table, **({"s": schema} if schema is not None else {})}
    with source.engine.connect() as con:
        return {str(r[0]): str(r[1]) for r in con.execute(query, params)}


def _type_text(sa_type: Any, engine: sa.Engine) -> str:
    try:
        return str(sa_type.compile(dialect=engine.dialect))
    except Exception:
        return type(sa_type).__name__


def _redact(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _iso(ts: float) -> str:
    return (
        dt.datetime.fromtimestamp(ts, dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


# -- AWS-shaped functions for workflow tasks ---------------------------------------------------


def start_export_task(lake: Lake, request: dict[str, Any]) -> dict[str, Any]:
    """``aws-sdk:rds:startExportTask`` (SourceArn is a SQLAlchemy database URL)."""
    return SnapshotExports(lake).start_export_task(request)


def describe_export_tasks(lake: Lake, request: dict[str, Any] | None = None) -> dict[str, Any]:
    """``aws-sdk:rds:describeExportTasks``."""
    return SnapshotExports(lake).describe_export_tasks(request)
