"""``GlueContext``: reads and writes DynamicFrames through the lake's catalog and
storage, on the process's SparkSession."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from awsglue._lake import BOOKMARKS, session
from awsglue.dynamicframe import DynamicFrame
from lakebox.engine.spark.s3a import spark_path

if TYPE_CHECKING:
    from pyspark import SparkContext
    from pyspark.sql import DataFrame, SparkSession

_FORMATS = ("json", "csv", "parquet")


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Reader:
    def __init__(self, ctx: GlueContext) -> None:
        self._ctx = ctx

    def from_catalog(
        self,
        database: str,
        table_name: str,
        redshift_tmp_dir: str = "",
        transformation_ctx: str = "",
        push_down_predicate: str = "",
        additional_options: dict[str, Any] | None = None,
        **_: Any,
    ) -> DynamicFrame:
        return self._ctx._read_catalog(
            database, table_name, push_down_predicate, transformation_ctx
        )

    def from_options(
        self,
        connection_type: str,
        connection_options: dict[str, Any] | None = None,
        format: str | None = None,
        format_options: dict[str, Any] | None = None,
        transformation_ctx: str = "",
        **_: Any,
    ) -> DynamicFrame:
        return self._ctx._read_options(
            connection_type,
            connection_options or {},
            format,
            format_options or {},
            transformation_ctx,
        )


class _Writer:
    def __init__(self, ctx: GlueContext) -> None:
        self._ctx = ctx

    def from_catalog(
        self,
        frame: DynamicFrame,
        database: str,
        table_name: str,
        redshift_tmp_dir: str = "",
        transformation_ctx: str = "",
        additional_options: dict[str, Any] | None = None,
        **_: Any,
    ) -> DynamicFrame:
        self._ctx._write_catalog(frame, database, table_name)
        return frame

    def from_options(
        self,
        frame: DynamicFrame,
        connection_type: str,
        connection_options: dict[str, Any] | None = None,
        format: str | None = None,
        format_options: dict[str, Any] | None = None,
        transformation_ctx: str = "",
        **_: Any,
    ) -> DynamicFrame:
        self._ctx._write_options(
            frame, connection_type, connection_options or {}, format, format_options or {}
        )
        return frame


class GlueContext:
    """Glue's entry point, made from the job's SparkContext."""

    def __init__(self, sparkContext: SparkContext | None = None, **_: Any) -> None:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        sc = sparkContext or SparkContext.getOrCreate()
        self._sc = sc
        self.spark_session: SparkSession = SparkSession.builder.getOrCreate()
        self.create_dynamic_frame = _Reader(self)
        self.write_dynamic_frame = _Writer(self)

    # Glue's flat spellings
    def create_dynamic_frame_from_catalog(self, *args: Any, **kwargs: Any) -> DynamicFrame:
        return self.create_dynamic_frame.from_catalog(*args, **kwargs)

    def create_dynamic_frame_from_options(self, *args: Any, **kwargs: Any) -> DynamicFrame:
        return self.create_dynamic_frame.from_options(*args, **kwargs)

    def write_dynamic_frame_from_catalog(self, *args: Any, **kwargs: Any) -> DynamicFrame:
        return self.write_dynamic_frame.from_catalog(*args, **kwargs)

    def write_dynamic_frame_from_options(self, *args: Any, **kwargs: Any) -> DynamicFrame:
        return self.write_dynamic_frame.from_options(*args, **kwargs)

    def get_logger(self) -> logging.Logger:
        return logging.getLogger("awsglue")

    # -- reads ----------------------------------------------------------------------------
    def _read_catalog(self, database: str, table: str, predicate: str, ctx: str) -> DynamicFrame:
        """The table's rows through lakebox's planner, as the job's principal: its
        permissions apply (a table or column it may not read fails, or is left out as
        Lake Formation says), the push-down predicate (Spark SQL over the partition keys)
        prunes partitions, and a bookmark skips the files already read."""
        import sqlglot

        from lakebox.engine.spark.scans import scan_frame
        from lakebox.sql.dialect import parse_query
        from lakebox.sql.plan import PartitionFiles

        lakebox_session = session()
        text = f"SELECT * FROM {_sql_name(database.lower())}.{_sql_name(table.lower())}"
        if predicate.strip():
            text += " WHERE " + sqlglot.parse_one(predicate, read="spark").sql("trino")
        spark = self.spark_session
        with lakebox_session.planned(parse_query(text)) as planned:
            query: Any = planned.query
            names = planned.names
            views = []
            for scan in query.scans:
                if scan.rows is None and scan.table is not None:
                    files = [(f.uri, f.mtime) for f in scan.files]
                    keep = {files[i][0] for i in BOOKMARKS.unseen(ctx, files)}
                    parts = [
                        PartitionFiles(
                            p.values, [f for f in p.files if f.uri in keep], None, p.location
                        )
                        for p in scan.partitions
                    ]
                    scan = dataclasses.replace(scan, partitions=[p for p in parts if p.files])
                scan_frame(spark, scan).createOrReplaceTempView(scan.name)
                views.append(scan.name)
            df = spark.sql(query.sql)
            for view in views:
                spark.catalog.dropTempView(view)
        if names is not None and len(names) == len(df.columns):
            df = df.toDF(*names)
        return DynamicFrame(df, self, table)

    def _read_options(
        self,
        connection_type: str,
        options: dict[str, Any],
        fmt: str | None,
        format_options: dict[str, Any],
        ctx: str,
    ) -> DynamicFrame:
        if connection_type != "s3":
            raise ValueError(f"connection_type {connection_type!r}: lakebox reads s3 only")
        if fmt not in _FORMATS:
            raise ValueError(f"format {fmt!r}: lakebox reads {', '.join(_FORMATS)}")
        paths = options.get("paths")
        if isinstance(paths, str):
            paths = [paths]
        if not paths or not all(isinstance(p, str) for p in paths):
            raise ValueError('connection_options must hold "paths": a list of s3:// URIs')
        storage = session().lake.storage
        listed: list[tuple[str, float, str]] = []
        for path in paths:
            storage.check(path)
            found = storage.list_files(path)
            if found:
                listed += [(f.uri, f.mtime, f.path or storage.engine_path(f.uri)) for f in found]
            else:
                local = storage.local_path(path)
                if local is not None and local.is_file():
                    listed.append((path, local.stat().st_mtime, str(local)))
        keep = BOOKMARKS.unseen(ctx, [(uri, mtime) for uri, mtime, _ in listed])
        _s3a_ready()
        engine_paths = [spark_path(listed[i][2]) for i in keep]
        spark = self.spark_session
        if not engine_paths:
            from pyspark.sql.types import StructType

            return DynamicFrame(spark.createDataFrame([], StructType([])), self, "")
        reader = spark.read
        if fmt == "json":
            multiline = str(format_options.get("multiline", format_options.get("multiLine", False)))
            df = reader.option("multiLine", multiline.lower() == "true").json(engine_paths)
        elif fmt == "csv":
            header = str(format_options.get("withHeader", False)).lower() == "true"
            df = (
                reader.option("header", header)
                .option("inferSchema", True)
                .option("sep", str(format_options.get("separator", ",")))
                .option("quote", str(format_options.get("quoteChar", '"')))
                .csv(engine_paths)
            )
        else:
            df = reader.option("mergeSchema", True).parquet(*engine_paths)
        return DynamicFrame(df, self, "")

    # -- writes ---------------------------------------------------------------------------
    def _write_options(
        self,
        frame: DynamicFrame,
        connection_type: str,
        options: dict[str, Any],
        fmt: str | None,
        format_options: dict[str, Any],
    ) -> None:
        """Spark's writer appends the frame's rows under ``path`` (a folder per value of
        ``partitionKeys``, Hive style ``key=value``)."""
        if connection_type != "s3":
            raise ValueError(f"connection_type {connection_type!r}: lakebox writes s3 only")
        if fmt not in _FORMATS:
            raise ValueError(f"format {fmt!r}: lakebox writes {', '.join(_FORMATS)}")
        path = options.get("path")
        if not isinstance(path, str) or not path:
            raise ValueError('connection_options must hold "path": an s3:// URI')
        keys = options.get("partitionKeys") or []
        storage = session().lake.storage
        storage.check(path)
        _s3a_ready()
        target = spark_path(storage.engine_path(path.rstrip("/") + "/"))
        writer = frame.toDF().write.mode("append")
        if keys:
            writer = writer.partitionBy(*keys)
        if fmt == "csv":
            header = str(format_options.get("writeHeader", True)).lower() == "true"
            writer = writer.option("header", header).option(
                "sep", str(format_options.get("separator", ","))
            )
        writer.format(fmt).save(target)

    def _write_catalog(self, frame: DynamicFrame, database: str, table_name: str) -> None:
        """Append the frame to the catalog table as INSERT INTO does: lakebox's staging,
        file names and layout, the write journal's atomic commit, new partitions
        registered; the job's principal must be allowed to write it. Fields are matched
        to the table's columns by name (case-insensitively) and cast to their types;
        a column the frame lacks is NULL."""
        from lakebox.engine.spark.scans import quote
        from lakebox.engine.spark.translate import spark_type
        from lakebox.engine.spark.write import SparkWrite
        from lakebox.query.session import StatementContext, _write_request
        from lakebox.query.writers import WriteOutcome, prepare_write
        from lakebox.sql.dialect import parse_query

        lakebox_session = session()
        lake = lakebox_session.lake
        db, name = database.lower(), table_name.lower()
        table = lake.catalog.get_table(db, name)
        df = frame.toDF()
        by_lower = {c.lower(): c for c in df.columns}
        exprs = []
        for column in table.all_columns:
            kind = spark_type(column.type)
            found = by_lower.get(column.name.lower())
            source = f"try_cast({quote(found)} AS {kind})" if found else f"CAST(NULL AS {kind})"
            exprs.append(f"{source} AS {quote(column.name)}")
        selected: DataFrame = df.selectExpr(*exprs)

        def open_write(_con: Any, _sql: str, storage: Any, _control: Any, target: Any) -> Any:
            return SparkWrite(lambda: selected, nullcontext, storage, target)

        context = StatementContext(query_id=str(uuid.uuid4()))
        tree = parse_query(f"INSERT INTO {_sql_name(db)}.{_sql_name(name)} SELECT 1")
        job = prepare_write(lake, db, tree, context, open_write)
        if isinstance(job, WriteOutcome):
            return
        principal = lakebox_session.principal
        if not principal.is_local_admin:
            lake.table_access().check_write(principal, _write_request(job))
        job.begin()
        try:
            with lakebox_session.planned(job.query, context) as planned:
                job.write(planned)
            job.commit()
        except BaseException:
            job.fail()
            raise
        job.finish()


def _s3a_ready() -> None:
    """In S3 mode, Spark reaches the lake's buckets through S3A with the lake's endpoint
    and keys, which the lake's Spark engine sets on the session when it first holds it:
    the reads and writes by path (``from_options``) need it as much as the catalog's."""
    engine = session().lake.engine
    if session().lake.storage.mode == "s3" and hasattr(engine, "spark"):
        _ = engine.spark
