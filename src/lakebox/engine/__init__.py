"""Execution engines behind one interface (``lakebox.engine.base.Engine``): they compile
and run the planner's engine-neutral plans. DuckDB (``lakebox.engine.duckdb``) is the
default and, today, the only one."""

from lakebox.engine.base import Engine
from lakebox.engine.duckdb import DuckDBEngine

__all__ = ["DuckDBEngine", "Engine"]
