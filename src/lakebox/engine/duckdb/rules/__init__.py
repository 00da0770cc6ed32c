"""Translation rules, one module per family of Trino functions and operators.

Each family module exports ``TRANSFORMS`` (a rule per sqlglot expression type, sqlglot style),
``ANONYMOUS`` (Trino functions sqlglot keeps as plain calls, by lower-case name) and
``MACROS`` (DuckDB ``CREATE MACRO`` statements the rules call; ``configure_connection``
creates them all, the engine's database those a statement calls: ``called_functions``); a
family may also export ``UDFS``, Python functions registered on each connection where no
built-in or macro can give Trino's answer. ``lakebox.engine.duckdb.translate`` merges them into one generator.
"""

from __future__ import annotations

import functools
import re

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


# -- which of them a statement calls ---------------------------------------------------------
#
# Creating every macro and UDF on a fresh database costs ~40 ms (DuckDB binds each macro),
# most of the engine start of a first ``SELECT 1``; the engine creates them the first time
# a statement's SQL names them instead (``called_functions``). Function names are the only
# way SQL reaches a macro or UDF, so a statement that names none of them runs exactly as it
# would with all of them created; one that reads DuckDB's own catalog (``duckdb_functions()``,
# the ``pg_catalog`` and ``information_schema`` views, ``pragma_*``) could see which exist,
# so it gets all of them first.

#: how a macro statement names its macro
_MACRO_NAME = re.compile(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?MACRO\s+(\w+)\s*\(", re.I)
#: the words of SQL text: a name is called only where it is a whole word
_WORD = re.compile(r"\w+")
#: words that read DuckDB's catalog: its ``duckdb_*`` table functions, ``pg_catalog``
#: views, ``pragma_*`` functions and ``information_schema``
_CATALOG_PREFIXES = ("duckdb_", "pg_", "pragma_")


class FunctionCatalog:
    """Every macro and UDF by lower-case name, in creation order, and what each needs (the
    names its macro body calls, transitively), worked out for a name the first time a
    statement calls it: reading every macro body up front cost a first query ~1 ms."""

    def __init__(self, functions: dict[str, str | PythonFunction]) -> None:
        #: name -> the ``CREATE MACRO`` statement or the ``PythonFunction``
        self.functions = functions
        self._direct: dict[str, frozenset[str]] = {}
        self._needs: dict[str, frozenset[str]] = {}

    def _calls(self, name: str) -> frozenset[str]:
        """The functions ``name``'s macro body names (none for a UDF)."""
        found = self._direct.get(name)
        if found is None:
            body = self.functions[name]
            words = _words(body) if isinstance(body, str) else set()
            found = self._direct[name] = frozenset((words & self.functions.keys()) - {name})
        return found

    def needs(self, name: str) -> frozenset[str]:
        """The functions ``name`` calls itself, transitively (idempotent: a race between
        threads computes the same set twice)."""
        found = self._needs.get(name)
        if found is None:
            seen: set[str] = set()
            todo = list(self._calls(name))
            while todo:
                other = todo.pop()
                if other not in seen:
                    seen.add(other)
                    todo.extend(self._calls(other))
            found = self._needs[name] = frozenset(seen)
        return found


def _words(sql: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(sql)}


@functools.cache
def function_catalog() -> FunctionCatalog:
    functions: dict[str, str | PythonFunction] = {udf.name.lower(): udf for udf in UDFS}
    for macro in MACROS:
        found = _MACRO_NAME.match(macro)
        if found is None:
            raise RuntimeError(f"a rule's macro statement names no macro: {macro[:60]!r}")
        functions[found.group(1).lower()] = macro
    if len(functions) != len(UDFS) + len(MACROS):
        raise RuntimeError("two rule families define a macro or UDF of the same name")
    return FunctionCatalog(functions)


def called_functions(sql: str) -> frozenset[str]:
    """The macros and UDFs ``sql`` (translated SQL) calls, with those they call; all of
    them when it reads DuckDB's catalog."""
    catalog = function_catalog()
    words = _words(sql)
    if "information_schema" in words or any(
        word.startswith(_CATALOG_PREFIXES) and word not in _CATALOG_PREFIXES for word in words
    ):
        return frozenset(catalog.functions)
    called = words & catalog.functions.keys()
    for name in list(called):
        called |= catalog.needs(name)
    return frozenset(called)
