"""DuckDB's error text in Athena's (Trino's) words.

A user writes Athena SQL and must never be told to change a DuckDB setting: this one table
turns the engine's messages into the error names and wording Athena returns
(``DIVISION_BY_ZERO: Division by zero``) and drops the advice that only applies to DuckDB.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: DuckDB's physical type names -> Athena's
_TYPES = {
    "INT8": "tinyint",
    "INT16": "smallint",
    "INT32": "integer",
    "INT64": "bigint",
    "INT128": "bigint",
    "UINT8": "tinyint",
    "UINT16": "smallint",
    "UINT32": "integer",
    "UINT64": "bigint",
    "FLOAT": "real",
    "DOUBLE": "double",
    "VARCHAR": "varchar",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "BOOLEAN": "boolean",
}

#: the ``<Kind> Error: `` prefixes DuckDB puts before its messages
_KIND = re.compile(
    r"^(?:Invalid Input|Conversion|Out of Range|Binder|Catalog|Parser|IO|Not implemented"
    r"|Constraint|Dependency|Invalid|Internal|Serialization|Transaction|Permission"
    r"|Syntax|Type Mismatch|Interrupt|Out of Memory|Sequence|Invalid Type|Fatal)"
    r" Error: "
)

#: sentences that advise DuckDB-only remedies (settings, pragmas, DuckDB functions)
_ADVICE = re.compile(
    r"\s*(?:Use TRY\(\.\.\.\)[^.]*\.|[^.]*\bSET\s+\w+\s*=[^.]*\.|[^.]*\bPRAGMA\b[^.]*\."
    r"|Consider [^.]*\.|[^.]*\bduckdb\.org\b[^.]*\.?|Possible Solution[^\n]*"
    r"|In order to select one, please add explicit type casts\."
    r"|[^.]*\bsetting\b[^.]*\.)",
    re.I,
)


def _type(name: str) -> str:
    return _TYPES.get(name.upper(), name.lower())


def _division(m: re.Match[str]) -> str:
    return "DIVISION_BY_ZERO: Division by zero"


def _bad_cast(m: re.Match[str]) -> str:
    return f"INVALID_CAST_ARGUMENT: Cannot cast '{m.group(1)}' to {_type(m.group(2))}"


def _out_of_range_cast(m: re.Match[str]) -> str:
    return f"NUMERIC_VALUE_OUT_OF_RANGE: Out of range for {_type(m.group(3))}: {m.group(2)}"


def _overflow(m: re.Match[str]) -> str:
    return f"NUMERIC_VALUE_OUT_OF_RANGE: {_type(m.group(2))} {m.group(1)} overflow: {m.group(3)}"


def _no_function(m: re.Match[str]) -> str:
    return f"FUNCTION_NOT_FOUND: Function '{m.group(1)}' not registered"


def _literal_type(name: str) -> str:
    name = name.strip().upper()
    if name == "STRING_LITERAL":
        return "varchar"
    return _type(name.removesuffix("_LITERAL"))


def _no_candidate(m: re.Match[str]) -> str:
    types = [_literal_type(a) for a in m.group(2).split(",") if a.strip()]
    if len(types) == 2 and not m.group(1).isidentifier():
        return f"TYPE_MISMATCH: Cannot apply operator: {types[0]} {m.group(1)} {types[1]}"
    args = ", ".join(types)
    return f"FUNCTION_NOT_FOUND: Unexpected parameters ({args}) for function {m.group(1)}"


def _not_aggregate(m: re.Match[str]) -> str:
    return (
        f"EXPRESSION_NOT_AGGREGATE: '{m.group(1)}' must be an aggregate expression or "
        "appear in GROUP BY clause"
    )


def _function_error(m: re.Match[str]) -> str:
    return f"INVALID_FUNCTION_ARGUMENT: {m.group(1)}"


def _function_failure(m: re.Match[str]) -> str:
    return "GENERIC_INTERNAL_ERROR: a function failed on this input"


_REWRITES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    # a Trino function run as a Python function (engine.duckdb.rules.text_udfs) rejected
    # its input: the message names the function; DuckDB's wrapping names Python
    (
        re.compile(r"Python exception occurred while executing the UDF: TrinoFunctionError: (.*)"),
        _function_error,
    ),
    (re.compile(r"Python exception occurred while executing the UDF"), _function_failure),
    (re.compile(r"Division by zero", re.I), _division),
    (re.compile(r"Could not convert string '(.*)' to (\w+)"), _bad_cast),
    (
        re.compile(
            r"Type (\w+) with value (\S+) can't be cast because the value is out of range "
            r"for the destination type (\w+)"
        ),
        _out_of_range_cast,
    ),
    (re.compile(r"Overflow in (\w+) of (\w+) \((.*)\)!?"), _overflow),
    (
        re.compile(r"(?:Scalar|Aggregate|Table) Function with name (\w+) does not exist"),
        _no_function,
    ),
    (
        re.compile(
            r'Could not choose a best candidate function for the function call "([^(]+)\((.*)\)"'
        ),
        _no_candidate,
    ),
    (re.compile(r'column "([^"]+)" must appear in the GROUP BY clause'), _not_aggregate),
]


def engine_message(text: str) -> str:
    """The first line of a DuckDB error, in Athena's words and without DuckDB advice."""
    first = text.strip().split("\n", 1)[0].strip()
    message = _KIND.sub("", first)
    for pattern, rewrite in _REWRITES:
        found = pattern.search(message)
        if found is not None:
            return rewrite(found)
    cleaned = _ADVICE.sub("", message).strip()
    return cleaned or message
