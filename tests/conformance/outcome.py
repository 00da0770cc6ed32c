"""One SQL case's outcome on a lake, and the engines' declared gaps.

``check`` runs a case through the query service and raises ``failure(code)`` when the
answer is not the documented one. ``code`` names how it failed: the Athena error code the
query failed with (``FUNCTION_NOT_FOUND``...), ``WRONG_ANSWER`` (it succeeded with other
rows), ``NO_ERROR`` (a documented error that did not happen), ``TRACEBACK`` (an error
message carrying one).

``<engine>_gaps.tsv`` (one line per case: id, code, the answer seen) lists the cases an
engine fails; the tests declare each as ``engine_gap(engine, failure(code))``, a strict
expected failure. It is written by a run, never by hand::

    .venv/bin/python tests/engine/spark/conformance_rate.py spark tests/conformance/spark_gaps.tsv
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol

from conformance.corpus import EMPTY, NULL, SqlCase

HERE = Path(__file__).parent


class CaseFailed(Exception):
    """A case's answer is not the documented one; the subclass's name is how."""

    code = "FAILED"


_FAILURES: dict[str, type[CaseFailed]] = {}


def failure(code: str) -> type[CaseFailed]:
    """The exception class of one way of failing (one class per code, so that a strict
    xfail can expect exactly it)."""
    if code not in _FAILURES:
        _FAILURES[code] = type(code, (CaseFailed,), {"code": code})
    return _FAILURES[code]


class _Queries(Protocol):
    def run(self, sql: str) -> tuple[Any, Any]: ...

    def get_query_results(self, query_execution_id: str) -> dict[str, Any]: ...


def _text(cell: dict[str, str]) -> str:
    if "VarCharValue" not in cell:
        return NULL
    return cell["VarCharValue"] or EMPTY


def run(queries: _Queries, sql: str) -> tuple[str, list[tuple[str, ...]] | str]:
    """("SUCCEEDED", rows as text) or (state, the error message)."""
    qe, _ = queries.run(sql)
    if qe.state != "SUCCEEDED":
        return qe.state, qe.state_change_reason or ""
    page: dict[str, Any] = queries.get_query_results(qe.query_execution_id)
    rows = page["ResultSet"]["Rows"][1:]  # the first row holds the column names
    return qe.state, [tuple(_text(cell) for cell in row["Data"]) for row in rows]


def _error_code(message: str) -> str:
    if "Traceback" in message:
        return "TRACEBACK"
    # Athena's "CODE: message" (Spark's error classes may carry a sub-class: CODE.SUB)
    found = re.match(r"([A-Z][A-Z0-9_]+)(?:\.[A-Z0-9_.]+)?:", message)
    return found.group(1) if found else "UNCODED_ERROR"


def judge(case: SqlCase, state: str, answer: list[tuple[str, ...]] | str) -> str | None:
    """None when the answer is the documented one, else the code of how it failed."""
    if case.kind == "query":
        if state != "SUCCEEDED":
            return _error_code(str(answer))
        return None if answer == list(case.expected) else "WRONG_ANSWER"
    if state != "FAILED" or not isinstance(answer, str):
        return "NO_ERROR"
    if "Traceback" in answer:
        return "TRACEBACK"
    return None if re.search(case.error, answer) else _error_code(answer)


def check(queries: _Queries, case: SqlCase) -> None:
    """Raise ``failure(code)`` unless the case gets its documented answer."""
    state, answer = run(queries, case.sql)
    code = judge(case, state, answer)
    if code is None:
        return
    if case.kind == "query":
        raise failure(code)(f"{case.sql}\nexpected {list(case.expected)}\ngot {state}: {answer}")
    raise failure(code)(f"{case.sql}\nexpected an error matching {case.error!r}\ngot {answer}")


def gaps_file(engine: str) -> Path:
    return HERE / f"{engine}_gaps.tsv"


def declared_gaps(engine: str) -> dict[str, str]:
    """case id -> the code the engine is declared to fail it with."""
    path = gaps_file(engine)
    if not path.exists():
        return {}
    gaps: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            case_id, code = line.split("\t")[:2]
            gaps[case_id] = code
    return gaps
