"""Execution engines. DuckDB is the default; engines receive fully planned SQL whose table
scans are views over the lake's files."""

from lakebox.engine.duckdb import DuckDBEngine

__all__ = ["DuckDBEngine"]
