"""The ``lakebox`` command: a thin shell over the service layer (``lakebox.session``).

User errors (every ``LakeboxError``) are printed as one line without a traceback and exit
with status 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table as RichTable

from lakebox.errors import LakeboxError
from lakebox.session import Result, Session, connect

app = typer.Typer(
    help="lakebox: the serverless AWS data-lake stack on your own machine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Inspect the Glue-style Data Catalog.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")

out = Console()
err_console = Console(stderr=True)
T = TypeVar("T")

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="LAKEBOX_HOME", help="Lake folder (default ./.lakebox)."),
]
DbOpt = Annotated[str, typer.Option("--database", "-d", help="Current database.")]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _guard(func: Callable[[], T]) -> T:
    try:
        return func()
    except LakeboxError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False, markup=True)
        raise typer.Exit(1) from None


def _session(home: Path | None, database: str = "default") -> Session:
    return _guard(lambda: connect(home, database=database))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


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
        for row in result.fetchall():
            writer.writerow([_text(v) for v in row])
        return
    if fmt is OutputFormat.json:
        for rec in result.to_pylist():
            sys.stdout.write(json.dumps(rec, default=_json_default) + "\n")
        return
    table = RichTable(show_lines=False, header_style="bold")
    for name, typ in zip(result.columns, result.types, strict=True):
        table.add_column(f"{name}\n[dim]{typ}[/]")
    for row in result.fetchall():
        table.add_row(*[_text(v) for v in row])
    out.print(table)
    if summary:
        stats = result.stats
        scanned = f", {stats.files} files / {_bytes(stats.bytes)} scanned" if stats.files else ""
        out.print(f"[dim]{result.rowcount} rows in {result.elapsed_ms:.0f} ms{scanned}[/]")


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1024
    return f"{n} B"


@app.command()
def sql(
    query: Annotated[str | None, typer.Argument(help="One or more statements.")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Run a SQL script.")] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.table,
    home: HomeOpt = None,
    database: DbOpt = "default",
) -> None:
    """Run Athena SQL: DDL, queries, SHOW / DESCRIBE."""
    if file is None and query is None:
        err_console.print("[bold red]error:[/] give a statement or --file script.sql")
        raise typer.Exit(2)
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as err:
            err_console.print(f"[bold red]error:[/] cannot read {file}: {err.strerror}")
            raise typer.Exit(2) from None
    else:
        text = query or ""
    session = _session(home, database)
    from lakebox.sql.split import split_statements

    statements = _guard(lambda: split_statements(text))
    script = file is not None
    for st in statements:
        result = _guard(partial(_run_at, session, st.text, st.line, script))
        print_result(result, fmt)


def _run_at(session: Session, text: str, line: int, script: bool) -> Result:
    try:
        return session.sql(text)
    except LakeboxError as err:
        if script:
            err.message = f"statement starting at line {line}: {err.message}"
        raise


@app.command()
def shell(home: HomeOpt = None, database: DbOpt = "default") -> None:
    """Interactive SQL shell with history; statements end with ';'."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    session = _session(home, database)
    history = session.lake.config.metadata_dir / "shell_history"
    prompt: PromptSession[str] = PromptSession(history=FileHistory(str(history)))
    from lakebox.sql.split import split_statements

    buffer = ""
    while True:
        try:
            line = prompt.prompt(f"{session.database}> " if not buffer else "   ...> ")
        except (EOFError, KeyboardInterrupt):
            out.print()
            return
        buffer += line + "\n"
        if not buffer.strip():
            buffer = ""
            continue
        if buffer.strip().lower() in ("quit", "exit", "\\q"):
            return
        if not buffer.rstrip().endswith(";"):
            continue
        text, buffer = buffer, ""
        try:
            for st in split_statements(text):
                print_result(session.sql(st.text), OutputFormat.table)
        except LakeboxError as err:
            err_console.print(f"[bold red]error:[/] {err}", highlight=False)


@catalog_app.command("databases")
def catalog_databases(home: HomeOpt = None) -> None:
    """List databases."""
    session = _session(home)
    for db in _guard(lambda: session.lake.catalog.list_databases()):
        out.print(db.name, highlight=False)


@catalog_app.command("tables")
def catalog_tables(
    database: Annotated[str, typer.Argument()] = "default", home: HomeOpt = None
) -> None:
    """List the tables of a database with their format and location."""
    session = _session(home)
    table = RichTable("table", "type", "serde", "location", header_style="bold")
    for t in _guard(lambda: session.lake.catalog.list_tables(database)):
        serde = (t.serde_library or t.input_format or "").rsplit(".", 1)[-1]
        table.add_row(t.name, t.table_type, serde, t.location or "")
    out.print(table)


@catalog_app.command("show")
def catalog_show(
    name: Annotated[str, typer.Argument(help="db.table or table")],
    home: HomeOpt = None,
    database: DbOpt = "default",
) -> None:
    """Print a table's DDL (SHOW CREATE TABLE)."""
    session = _session(home, database)
    result = _guard(lambda: session.sql(f"SHOW CREATE TABLE {name}"))
    for row in result.fetchall():
        out.print(row[0], highlight=False, markup=False)


@catalog_app.command("partitions")
def catalog_partitions(
    name: Annotated[str, typer.Argument(help="db.table or table")],
    home: HomeOpt = None,
    database: DbOpt = "default",
) -> None:
    """List a table's partitions."""
    session = _session(home, database)
    result = _guard(lambda: session.sql(f"SHOW PARTITIONS {name}"))
    for row in result.fetchall():
        out.print(row[0], highlight=False, markup=False)


@app.command()
def demo(
    home: Annotated[Path, typer.Option("--home", help="Where to build the demo lake.")] = Path(
        "demo-lake"
    ),
) -> None:
    """Build a sample lake from generated data and run the README's example queries."""
    from lakebox.demo import run_demo

    _guard(lambda: run_demo(home, out))


def _mount_optional() -> None:
    """Sub-commands of packages that register a Typer app."""
    try:
        from lakebox.workflows.cli import schedule_app, workflow_app
    except ImportError:
        return
    app.add_typer(workflow_app, name="workflow")
    app.add_typer(schedule_app, name="schedule")


_mount_optional()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
