"""The Spark engine: the only package that imports ``pyspark``.

``session`` holds the process's SparkSession (one per process, shared by its lakes),
``translate`` writes Athena SQL as Spark SQL, ``scans`` reads a plan's scans with Spark's
readers, ``statement`` runs one statement in its own session and job group and
``messages`` words Spark's errors as Athena does. The lakehouse imports this package only
when a lake runs on Spark (``LAKEBOX_ENGINE=spark``): starting a DuckDB lake never loads
pyspark.
"""

from lakebox.engine.spark.engine import SparkEngine

__all__ = ["SparkEngine"]
