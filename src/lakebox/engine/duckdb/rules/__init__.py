"""Translation rules, one module per family of Trino functions and operators.

Each family module exports ``TRANSFORMS`` (a rule per sqlglot expression type, sqlglot style),
``ANONYMOUS`` (Trino functions sqlglot keeps as plain calls, by lower-case name) and
``MACROS`` (DuckDB ``CREATE MACRO`` statements the rules call; ``configure_connection``
creates them); a family may also export ``UDFS``, Python functions registered on each
connection where no built-in or macro can give Trino's answer. ``lakebox.engine.duckdb.translate`` merges them into one generator.
"""

from __future__ import annotations

from sqlglot import exp

from lakebox.engine.duckdb.rules import collections, system, temporal, text
from lakebox.engine.duckdb.rules.base import AnonHandler, Handler
from lakebox.engine.duckdb.rules.text_udfs import PythonFunction

FAMILIES = (text, collections, temporal, system)

TRANSFORMS: dict[type[exp.Expression], Handler] = {}
ANONYMOUS: dict[str, AnonHandler] = {}
MACROS: list[str] = []
UDFS: list[PythonFunction] = []
for _family in FAMILIES:
    for _kind in _family.TRANSFORMS.keys() & TRANSFORMS.keys():
        raise RuntimeError(f"two rule families translate {_kind.__name__}")
    for _name in _family.ANONYMOUS.keys() & ANONYMOUS.keys():
        raise RuntimeError(f"two rule families translate {_name}()")
    TRANSFORMS.update(_family.TRANSFORMS)
    ANONYMOUS.update(_family.ANONYMOUS)
    MACROS.extend(_family.MACROS)
    UDFS.extend(getattr(_family, "UDFS", []))
