"""``DynamicFrame``: a Spark DataFrame with Glue's methods.

lakebox's DynamicFrames hold one type per column (Spark's): where Glue would keep a
*choice* of types for a field, Spark's reader already resolved it (mixed numbers widen,
anything else is read as a string). ``resolveChoice`` acts on that one type (see its
docstring)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

#: Glue's type names (ApplyMapping, ResolveChoice) as Spark SQL types
GLUE_TYPES = {
    "string": "STRING",
    "varchar": "STRING",
    "char": "STRING",
    "long": "BIGINT",
    "bigint": "BIGINT",
    "int": "INT",
    "integer": "INT",
    "short": "SMALLINT",
    "smallint": "SMALLINT",
    "byte": "TINYINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "binary": "BINARY",
}


def spark_type(glue_type: str) -> str:
    """Spark's type for a Glue type name (``decimal(p,s)`` kept); others refused."""
    name = glue_type.strip().lower()
    if name in GLUE_TYPES:
        return GLUE_TYPES[name]
    if name == "decimal" or name.startswith("decimal("):
        return "DECIMAL(10,2)" if name == "decimal" else name.upper()
    raise ValueError(
        f"unknown type {glue_type!r}: lakebox's awsglue knows "
        f"{', '.join(sorted(GLUE_TYPES))} and decimal(p,s)"
    )


def quote(path: str) -> str:
    """A dotted Glue path as a Spark column reference (each part quoted)."""
    return ".".join("`" + p.replace("`", "``") + "`" for p in path.split("."))


def _top(path: str) -> str:
    return "`" + path.replace("`", "``") + "`"


class DynamicFrame:
    """A DataFrame and the GlueContext it belongs to."""

    def __init__(self, df: DataFrame, glue_ctx: Any = None, name: str = "") -> None:
        self._df = df
        self.glue_ctx = glue_ctx
        self.name = name

    # -- conversions ------------------------------------------------------------------
    def toDF(self) -> DataFrame:
        return self._df

    @classmethod
    def fromDF(cls, dataframe: DataFrame, glue_ctx: Any, name: str) -> DynamicFrame:
        return cls(dataframe, glue_ctx, name)

    def _new(self, df: DataFrame) -> DynamicFrame:
        return DynamicFrame(df, self.glue_ctx, self.name)

    # -- looking ----------------------------------------------------------------------
    def count(self) -> int:
        return int(self._df.count())

    def schema(self) -> StructType:
        """The frame's schema (Spark's StructType)."""
        return self._df.schema

    def printSchema(self) -> None:
        self._df.printSchema()

    def show(self, num_rows: int = 20) -> None:
        self._df.show(num_rows)

    # -- fields -----------------------------------------------------------------------
    def select_fields(self, paths: Sequence[str], transformation_ctx: str = "") -> DynamicFrame:
        present = {c.lower() for c in self._df.columns}
        exprs = [
            f"{quote(p)} AS {_top(p.split('.')[-1])}"
            for p in paths
            if p.split(".")[0].lower() in present
        ]
        return self._new(self._df.selectExpr(*exprs))

    def drop_fields(self, paths: Sequence[str], transformation_ctx: str = "") -> DynamicFrame:
        from pyspark.sql import functions as f

        df = self._df
        for path in paths:
            parts = path.split(".")
            if len(parts) == 1:
                df = df.drop(path)
            elif parts[0] in df.columns:
                df = df.withColumn(
                    parts[0], f.col(_top(parts[0])).dropFields(*[".".join(parts[1:])])
                )
        return self._new(df)

    def rename_field(
        self, oldName: str, newName: str, transformation_ctx: str = ""
    ) -> DynamicFrame:
        if "." in oldName or "." in newName:
            raise ValueError("lakebox's rename_field renames top-level fields only")
        return self._new(self._df.withColumnRenamed(oldName, newName))

    def filter(self, f: Callable[[Any], bool], transformation_ctx: str = "") -> DynamicFrame:
        """The records for which ``f`` (given each record as a dict, nested structs as
        dicts) is true; runs in the executors' Python."""
        df = self._df
        schema = df.schema
        kept = df.rdd.filter(lambda row: bool(f(row.asDict(recursive=True))))
        return self._new(df.sparkSession.createDataFrame(kept, schema))

    def apply_mapping(
        self,
        mappings: Sequence[Sequence[str]],
        case_sensitive: bool = False,
        transformation_ctx: str = "",
    ) -> DynamicFrame:
        from awsglue.transforms import ApplyMapping

        return ApplyMapping.apply(frame=self, mappings=mappings)

    def resolveChoice(
        self,
        specs: Sequence[tuple[str, str]] | None = None,
        choice: str = "",
        database: str | None = None,
        table_name: str | None = None,
        transformation_ctx: str = "",
    ) -> DynamicFrame:
        from awsglue.transforms import ResolveChoice

        return ResolveChoice.apply(
            frame=self, specs=specs, choice=choice, database=database, table_name=table_name
        )


class DynamicFrameCollection:
    """Named DynamicFrames (what Relationalize returns)."""

    def __init__(self, dynamic_frames: dict[str, DynamicFrame], glue_ctx: Any = None) -> None:
        self._frames = dict(dynamic_frames)
        self.glue_ctx = glue_ctx

    def keys(self) -> list[str]:
        return list(self._frames)

    def values(self) -> list[DynamicFrame]:
        return list(self._frames.values())

    def select(self, key: str, transformation_ctx: str = "") -> DynamicFrame:
        if key not in self._frames:
            raise KeyError(f"no frame {key!r} in the collection (it has {', '.join(self._frames)})")
        return self._frames[key]

    def __getitem__(self, key: str) -> DynamicFrame:
        return self.select(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)
