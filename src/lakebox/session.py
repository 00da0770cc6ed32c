"""The public Python API: ``connect`` a lake, run SQL in a ``Session``.

The pieces live in their layers: the composition root in ``lakebox.lakehouse``, sessions
and results in ``lakebox.query.session``. This module gathers them for users.
"""

from __future__ import annotations

from lakebox.engine.duckdb.statement import with_views
from lakebox.lakehouse import Lake, Lakehouse, connect
from lakebox.query.session import (
    DEFAULT_OUTPUT_LOCATION,
    ExecutionControl,
    PlannedQuery,
    QueryStoppedError,
    Result,
    Session,
    StatementContext,
    reading,
)

__all__ = [
    "DEFAULT_OUTPUT_LOCATION",
    "ExecutionControl",
    "Lake",
    "Lakehouse",
    "PlannedQuery",
    "QueryStoppedError",
    "Result",
    "Session",
    "StatementContext",
    "connect",
    "reading",
    "with_views",
]
