"""How the ``lakebox`` command prints results: a table, CSV or JSON lines."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from lakebox.util import human_bytes

if TYPE_CHECKING:
    from lakebox.query.session import Result

out = Console()
err_console = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _athena_rows(result: Result) -> list[list[str]]:
    """Rows as the Athena console shows them (the text of the result file): 10.3 for a
    REAL, zoned timestamps with their zone, ``{a=1}`` maps, ``[1, 2]`` arrays; NULL as ''."""
    from lakebox.query.results import athena_columns

    table = athena_columns(result.table)
    columns = [c.to_pylist() for c in table.columns]
    return [["" if v is None else str(v) for v in row] for row in zip(*columns, strict=True)]


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def print_result(result: Result, fmt: OutputFormat, summary: bool = True) -> None:
    if not result.columns:
        if result.message:
            out.print(result.message, highlight=False, markup=False)
        return
    if fmt is OutputFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        for row in _athena_rows(result):
            writer.writerow(row)
        return
    if fmt is OutputFormat.json:
        for rec in result.to_pylist():
            sys.stdout.write(json.dumps(rec, default=_json_default) + "\n")
        return
    # names and values are data: Text, so '[b]' or ':smile:' in them prints as it is
    table = RichTable(show_lines=False, header_style="bold")
    for name, typ in zip(result.columns, result.types, strict=True):
        table.add_column(Text.assemble(name, "\n", (typ, "dim")))
    for row in _athena_rows(result):
        table.add_row(*(Text(value) for value in row))
    out.print(table)
    if summary:
        stats = result.stats
        scanned = f", {stats.files} files / {_bytes(stats.bytes)} scanned" if stats.files else ""
        out.print(f"[dim]{result.rowcount} rows in {result.elapsed_ms:.0f} ms{scanned}[/]")


def _bytes(n: int) -> str:
    return human_bytes(n, decimals=2)
