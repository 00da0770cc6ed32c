"""lakebox: the serverless AWS data-lake stack on your own machine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakebox.errors import LakeboxError
from lakebox.util import lazy_exports
from lakebox.version import __version__

if TYPE_CHECKING:
    from lakebox.lakehouse import Lake, connect
    from lakebox.query.session import Result, Session

__all__ = ["Lake", "LakeboxError", "Result", "Session", "__version__", "connect"]

# Importing any ``lakebox.*`` module runs this file first: the lake (DuckDB, sqlglot,
# pyarrow, about a second) is imported only once one of these names is used.
__getattr__ = lazy_exports(
    __name__,
    {
        "Lake": "lakebox.lakehouse",
        "connect": "lakebox.lakehouse",
        "Result": "lakebox.query.session",
        "Session": "lakebox.query.session",
    },
)
