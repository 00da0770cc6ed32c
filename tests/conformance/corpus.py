"""Conformance corpora built from sources nobody here wrote: the Trino documentation's own
examples (``trino/*.sqltest``) and the States Language specification and Step Functions
developer guide (``states/*.json``).

SQL cases (a small sqllogictest-like format, one file per documentation page)::

    # comments start with '#'
    source: https://trino.io/docs/current/functions/string.html
    family: String functions
    outside: soundex — not in Athena engine v3 (a function the page lists that Athena lacks)

    query chr_example
    SELECT chr(65)
    ----
    A

    differs: time zone names are not kept; fails rather than answer in UTC
    error at_timezone_named
    SELECT at_timezone(TIMESTAMP '2001-08-22 03:04:05.321', 'America/Los_Angeles')
    ----
    at_timezone

``query`` cases expect the rows below ``----`` as Athena's GetQueryResults returns them: one
line per row, columns separated by a tab, ``NULL`` for a null and ``(empty)`` for an empty
string. ``error`` cases expect the query to fail with a message matching the regular
expression below ``----``. Trino's documented errors are plain ``error`` cases; an ``error``
case after a ``differs:`` line is a known difference from Trino (it must fail with an error
that names what is unsupported; a wrong answer is never declared), and is what the pass
rate counts against.

States cases (a JSON list per file)::

    {"name": "...", "source": "https://...", "definition": {...}, "input": {...},
     "type": "STANDARD", "expect": {"status": "SUCCEEDED", "output": ...}}

``expect`` holds DescribeExecution's ``status`` and, as AWS returns them, ``output`` or
``error`` and ``cause`` (a key left out means the field must be absent; ``cause`` may be
given as ``{"match": "regex"}``). ``executionArn`` (optional, ``{"match": "regex"}``) checks
the execution's ARN (Express ARNs). The runner registers one Lambda function, ``Identity``,
which returns its event. A ``differs`` key with the reason marks a known difference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
NULL = "NULL"
EMPTY = "(empty)"


@dataclass(frozen=True)
class SqlCase:
    file: str
    line: int
    kind: str  # "query" or "error"
    name: str
    sql: str
    expected: tuple[tuple[str, ...], ...] = ()
    error: str = ""
    differs: str = ""

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}:{self.name}"


@dataclass
class SqlPage:
    file: str
    source: str = ""
    family: str = ""
    outside: list[str] = field(default_factory=list)
    cases: list[SqlCase] = field(default_factory=list)


class CorpusError(ValueError):
    pass


def parse_sqltest(path: Path) -> SqlPage:
    page = SqlPage(file=path.name)
    lines = path.read_text(encoding="utf-8").split("\n")
    i, differs = 0, ""
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        if not line or line.startswith("#"):
            continue
        head, _, rest = line.partition(" ")
        if line.startswith(("source:", "family:", "outside:", "differs:")):
            key, _, value = line.partition(":")
            value = value.strip()
            if key == "source":
                page.source = value
            elif key == "family":
                page.family = value
            elif key == "outside":
                page.outside.append(value)
            else:
                differs = value
            continue
        if head not in ("query", "error"):
            raise CorpusError(f"{path.name}:{i}: expected 'query' or 'error', got {line!r}")
        start = i
        sql_lines: list[str] = []
        while i < len(lines) and lines[i].rstrip() != "----":
            sql_lines.append(lines[i])
            i += 1
        if i >= len(lines):
            raise CorpusError(f"{path.name}:{start}: case has no '----' line")
        i += 1
        answer: list[str] = []
        while i < len(lines) and lines[i].strip():
            answer.append(lines[i])
            i += 1
        sql = "\n".join(sql_lines).strip()
        if not sql:
            raise CorpusError(f"{path.name}:{start}: case has no SQL")
        name = rest.strip() or f"line{start}"
        if head == "query":
            if differs:
                raise CorpusError(f"{path.name}:{start}: a 'differs' case must be an 'error'")
            rows = tuple(tuple(answer_line.split("\t")) for answer_line in answer)
            page.cases.append(SqlCase(path.name, start, head, name, sql, expected=rows))
        else:
            if len(answer) != 1:
                raise CorpusError(f"{path.name}:{start}: an error case needs one regex line")
            page.cases.append(
                SqlCase(path.name, start, head, name, sql, error=answer[0], differs=differs)
            )
        differs = ""
    return page


def sql_pages() -> list[SqlPage]:
    return [parse_sqltest(p) for p in sorted((HERE / "trino").glob("*.sqltest"))]


@dataclass(frozen=True)
class StatesCase:
    file: str
    name: str
    source: str
    definition: dict[str, Any]
    input: Any
    type: str
    expect: dict[str, Any]
    differs: str = ""

    @property
    def id(self) -> str:
        return f"{self.file}:{self.name}"


def states_files() -> dict[str, list[StatesCase]]:
    found: dict[str, list[StatesCase]] = {}
    for path in sorted((HERE / "states").glob("*.json")):
        cases = []
        for raw in json.loads(path.read_text(encoding="utf-8")):
            cases.append(
                StatesCase(
                    file=path.name,
                    name=raw["name"],
                    source=raw.get("source", ""),
                    definition=raw["definition"],
                    input=raw.get("input", {}),
                    type=raw.get("type", "STANDARD"),
                    expect=raw["expect"],
                    differs=raw.get("differs", ""),
                )
            )
        found[path.name] = cases
    return found
