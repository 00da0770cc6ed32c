"""Glue's transforms: ApplyMapping, ResolveChoice, Relationalize (and the field
transforms DropFields, SelectFields, RenameField, Filter)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from awsglue.dynamicframe import DynamicFrame, DynamicFrameCollection, quote, spark_type

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import DataType

#: Spark's simple type names as Glue names them (ResolveChoice's make_struct / make_cols)
_GLUE_NAMES = {"bigint": "long", "smallint": "short", "tinyint": "byte"}


def _top(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class ApplyMapping:
    @staticmethod
    def apply(
        frame: DynamicFrame,
        mappings: Sequence[Sequence[str]],
        case_sensitive: bool = False,
        transformation_ctx: str = "",
        **_: Any,
    ) -> DynamicFrame:
        """A frame of the mapped fields only, in the mappings' order: each
        ``(source path, source type, target name, target type)`` reads the source field
        (a dotted path reaches into structs) and casts it to the target type (a value that
        does not convert is null). A source field the frame lacks gives no column, as on
        Glue. Target names are top-level (a dotted target is refused)."""
        df = frame.toDF()
        present = {c.lower() for c in df.columns}
        exprs = []
        for mapping in mappings:
            if len(mapping) != 4:
                raise ValueError(
                    f"ApplyMapping: mapping {tuple(mapping)!r} is not "
                    "(source, source type, target, target type)"
                )
            source, _source_type, target, target_type = (str(m) for m in mapping)
            if "." in target:
                raise ValueError(
                    f"ApplyMapping: target {target!r}: lakebox maps to top-level fields only"
                )
            if source.split(".")[0].lower() not in present:
                continue
            exprs.append(
                f"try_cast({quote(source)} AS {spark_type(target_type)}) AS {_top(target)}"
            )
        return DynamicFrame(df.selectExpr(*exprs), frame.glue_ctx, frame.name)


class ResolveChoice:
    @staticmethod
    def apply(
        frame: DynamicFrame,
        specs: Sequence[tuple[str, str]] | None = None,
        choice: str = "",
        database: str | None = None,
        table_name: str | None = None,
        transformation_ctx: str = "",
        **_: Any,
    ) -> DynamicFrame:
        """Each ``(field, action)`` of ``specs``, or ``choice`` for every field:
        ``cast:<type>`` and ``project:<type>`` cast the field (a value that does not
        convert is null), ``make_struct`` makes it a struct with one member named after
        its type, ``make_cols`` renames it ``<field>_<type>``; ``match_catalog`` (as
        ``choice``, with ``database`` and ``table_name``) casts each field to the type
        the catalog table declares."""
        if not specs and not choice:
            raise ValueError("ResolveChoice: give specs or choice")
        if specs and choice:
            raise ValueError("ResolveChoice: give specs or choice, not both")
        df = frame.toDF()
        if choice == "match_catalog":
            if not database or not table_name:
                raise ValueError("ResolveChoice: match_catalog needs database and table_name")
            from awsglue._lake import session
            from lakebox.engine.spark.translate import spark_type as hive_to_spark

            table = session().lake.catalog.get_table(database.lower(), table_name.lower())
            types = {c.name.lower(): hive_to_spark(c.type) for c in table.all_columns}
            exprs = [
                f"try_cast({_top(c)} AS {types[c.lower()]}) AS {_top(c)}"
                if c.lower() in types
                else _top(c)
                for c in df.columns
            ]
            return DynamicFrame(df.selectExpr(*exprs), frame.glue_ctx, frame.name)
        actions = list(specs) if specs else [(c, choice) for c in df.columns]
        for field, action in actions:
            df = _resolve(df, field, action)
        return DynamicFrame(df, frame.glue_ctx, frame.name)


def _resolve(df: DataFrame, field: str, action: str) -> DataFrame:
    from pyspark.sql import functions as f

    if "." in field:
        raise ValueError(f"ResolveChoice: {field!r}: lakebox resolves top-level fields only")
    by_lower = {c.lower(): c for c in df.columns}
    if field.lower() not in by_lower:
        raise ValueError(f"ResolveChoice: the frame has no field {field!r}")
    name = by_lower[field.lower()]
    kind, _, arg = action.partition(":")
    if kind in ("cast", "project"):
        return df.withColumn(name, f.expr(f"try_cast({_top(name)} AS {spark_type(arg)})"))
    type_name = df.schema[name].dataType.simpleString()
    type_name = _GLUE_NAMES.get(type_name, type_name)
    if kind == "make_struct":
        return df.withColumn(name, f.struct(f.col(_top(name)).alias(type_name)))
    if kind == "make_cols":
        return df.withColumnRenamed(name, f"{name}_{type_name}")
    raise ValueError(
        f"ResolveChoice: action {action!r} is not cast:<type>, project:<type>, make_struct "
        "or make_cols"
    )


class Relationalize:
    @staticmethod
    def apply(
        frame: DynamicFrame,
        staging_path: str | None = None,
        name: str = "roottable",
        options: dict[str, Any] | None = None,
        transformation_ctx: str = "",
        **_: Any,
    ) -> DynamicFrameCollection:
        """Flat frames from a nested one: struct members become dotted columns
        (``name.first``); each array becomes a frame of its own named
        ``<name>_<path>``, with columns ``id`` (the value the parent's ``<path>`` column
        holds for that row), ``index`` (the element's position, from 0) and the element
        as ``<path>.val`` (a struct element flattened as ``<path>.val.<member>``), and
        the same applied to it (arrays in arrays). ``staging_path`` is not used: the
        frames are computed by Spark, not staged."""
        out: dict[str, DynamicFrame] = {}
        _relationalize(frame.toDF(), name, name, out, frame.glue_ctx)
        return DynamicFrameCollection(out, frame.glue_ctx)


def _leaves(dtype: DataType, path: str, ref: str) -> list[tuple[str, str, DataType]]:
    """(dotted name, Spark reference, type) of the non-struct members under ``ref``."""
    from pyspark.sql.types import StructType

    if isinstance(dtype, StructType):
        found: list[tuple[str, str, DataType]] = []
        for member in dtype.fields:
            found += _leaves(member.dataType, f"{path}.{member.name}", f"{ref}.{_top(member.name)}")
        return found
    return [(path, ref, dtype)]


def _relationalize(
    df: DataFrame, root: str, name: str, out: dict[str, DynamicFrame], ctx: Any
) -> None:
    """Add ``df`` flattened to ``out`` as ``name``, and a frame per array column, named
    ``<root>_<the column's full dotted path>``."""
    from pyspark.sql import functions as f
    from pyspark.sql.types import ArrayType

    leaves: list[tuple[str, str, DataType]] = []
    for field in df.schema.fields:
        leaves += _leaves(field.dataType, field.name, _top(field.name))
    arrays = [leaf for leaf in leaves if isinstance(leaf[2], ArrayType)]
    if arrays:
        df = df.withColumn("__lakebox_rid", f.monotonically_increasing_id() + 1).localCheckpoint()
    flat = []
    for path, ref, dtype in leaves:
        if isinstance(dtype, ArrayType):
            flat.append(f"CASE WHEN {ref} IS NULL THEN NULL ELSE __lakebox_rid END AS {_top(path)}")
        else:
            flat.append(f"{ref} AS {_top(path)}")
    out[name] = DynamicFrame(df.selectExpr(*flat), ctx, name)
    for path, ref, _dtype in arrays:
        child = df.selectExpr(
            "__lakebox_rid AS id", f"posexplode({ref}) AS (`index`, `{path}.val`)"
        )
        # the element column's name holds dots: re-nest it under a plain name to flatten it
        element = f"{path}.val"
        child = child.withColumnRenamed(element, "__lakebox_val")
        pieces = ["id", "`index`"]
        for sub_path, sub_ref, _sub in _leaves(
            child.schema["__lakebox_val"].dataType, element, "__lakebox_val"
        ):
            pieces.append(f"{sub_ref} AS {_top(sub_path)}")
        _relationalize(child.selectExpr(*pieces), root, f"{root}_{path}", out, ctx)


class SelectFields:
    @staticmethod
    def apply(frame: DynamicFrame, paths: Sequence[str], **_: Any) -> DynamicFrame:
        return frame.select_fields(paths)


class DropFields:
    @staticmethod
    def apply(frame: DynamicFrame, paths: Sequence[str], **_: Any) -> DynamicFrame:
        return frame.drop_fields(paths)


class RenameField:
    @staticmethod
    def apply(frame: DynamicFrame, old_name: str, new_name: str, **_: Any) -> DynamicFrame:
        return frame.rename_field(old_name, new_name)


class Filter:
    @staticmethod
    def apply(frame: DynamicFrame, f: Callable[[Any], bool], **_: Any) -> DynamicFrame:
        return frame.filter(f)


__all__ = [
    "ApplyMapping",
    "DropFields",
    "Filter",
    "Relationalize",
    "RenameField",
    "ResolveChoice",
    "SelectFields",
]
