"""The DuckDB engine: the only package that imports ``duckdb``.

``connection`` holds the lake's DuckDB database, ``translate`` writes Athena SQL as DuckDB
SQL, ``compaction`` is a scan strategy (compacted Parquet copies of slow-to-read
partitions) and ``messages`` words DuckDB's errors as Athena does.
"""

from lakebox.engine.duckdb.connection import DuckDBEngine

__all__ = ["DuckDBEngine"]
