"""How the ``lakebox`` command prints results: a table, CSV or JSON lines.

Start-up (issue 14 item 5): rich costs about 5 % of ``lakebox sql "SELECT 1"``, so it is
imported only when something is printed through it. ``out`` and ``err_console`` are
consoles made on first use (``lazy_console``), and a result table or execution line
written to a stream that rich would treat as plain text (not a terminal, no forced
colour: ``plain_width``) is drawn by ``lakebox.cli.plain`` when its text is simple enough
to be drawn exactly as rich draws it (``tests/cli/test_plain.py`` compares the two);
anything else goes through rich as before.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from lakebox.cli import plain
from lakebox.util import human_bytes

if TYPE_CHECKING:
    from rich.console import Console

    from lakebox.query.session import Result


class _LazyConsole:
    """A rich ``Console`` made (and rich imported) the first time it is used."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        console = self._console
        if console is None:
            from rich.console import Console

            console = self._console = Console(**self._options)
        return getattr(console, name)


def lazy_console(**options: Any) -> Console:
    """``Console(**options)``, made when first used."""
    return cast("Console", _LazyConsole(**options))


out = lazy_console()
err_console = lazy_console(stderr=True)


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
    rows = _athena_rows(result)
    width = plain.plain_width(sys.stdout)
    drawn = None if width is None else plain.table(result.columns, result.types, rows, width)
    if drawn is not None:
        sys.stdout.write(drawn)
    else:
        _rich_table(result, rows)
    if summary:
        stats = result.stats
        scanned = f", {stats.files} files / {_bytes(stats.bytes)} scanned" if stats.files else ""
        out.print(f"[dim]{result.rowcount} rows in {result.elapsed_ms:.0f} ms{scanned}[/]")


def print_dim(text: str, stderr: bool = False) -> None:
    """One line of our own dim text on standard output or error, as rich prints
    ``[dim]text[/]`` (the text is ours: no markup, no emoji codes in it)."""
    stream = sys.stderr if stderr else sys.stdout
    width = plain.plain_width(stream)
    lines = None if width is None or "[" in text else plain.wrapped(text, width)
    if lines is not None:
        stream.write(lines)
        return
    # no emoji codes in it (it has no ':'): rich's emoji table (~10 ms to import) not loaded
    (err_console if stderr else out).print(f"[dim]{text}[/]", highlight=False, emoji=False)


def _rich_table(result: Result, rows: list[list[str]]) -> None:
    from rich.table import Table as RichTable
    from rich.text import Text

    # names and values are data: Text, so '[b]' or ':smile:' in them prints as it is
    table = RichTable(show_lines=False, header_style="bold")
    for name, typ in zip(result.columns, result.types, strict=True):
        table.add_column(Text.assemble(name, "\n", (typ, "dim")))
    for row in rows:
        table.add_row(*(Text(value) for value in row))
    out.print(table)


def _bytes(n: int) -> str:
    return human_bytes(n, decimals=2)
