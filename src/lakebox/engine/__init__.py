"""Execution engines behind one interface (``lakebox.engine.base.Engine``): they compile
and run the planner's engine-neutral plans. DuckDB (``lakebox.engine.duckdb``) is the
default; Spark (``lakebox.engine.spark``, imported only when a lake chooses it) scales
out (docs/scale-out.md)."""

from lakebox.engine.base import Engine
from lakebox.engine.duckdb import DuckDBEngine

__all__ = ["DuckDBEngine", "Engine"]
