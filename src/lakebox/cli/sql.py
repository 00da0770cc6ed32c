"""``lakebox sql``, ``shell``, ``catalog``, ``workgroup``, ``query``, ``demo`` and ``init``:
Athena SQL and its query service from the command line (the root ``app`` of ``lakebox``).

User errors (every ``LakeboxError``) are printed as one line without a traceback and exit
with status 1; anything unexpected is one ``internal error`` line with status 70
(``lakebox.cli.support``). Only commands that create something create a missing lake.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from lakebox.cli import plain
from lakebox.cli.output import OutputFormat, _bytes, err_console, out, print_dim, print_result
from lakebox.cli.support import (
    GuardedGroup,
    RootGroup,
    guard,
    lakehouse,
    principal,
    print_error,
)
from lakebox.errors import LakeboxError

if TYPE_CHECKING:
    from lakebox.principal import Principal
    from lakebox.query.model import QueryExecution
    from lakebox.query.service import QueryService
    from lakebox.query.session import Result, Session

app = typer.Typer(
    help="lakebox: the serverless AWS data-lake stack on your own machine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=RootGroup,
)
catalog_app = typer.Typer(
    help="Inspect the Glue-style Data Catalog.", no_args_is_help=True, cls=GuardedGroup
)
app.add_typer(catalog_app, name="catalog")

T = TypeVar("T")

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="LAKEBOX_HOME", help="Lake folder (default ./.lakebox)."),
]
DbOpt = Annotated[str, typer.Option("--database", "-d", help="Current database.")]


def _guard(func: Callable[[], T]) -> T:
    return guard(func)


def _session(
    home: Path | None, database: str = "default", create: bool = False, acting: bool = False
) -> Session:
    """A session of the lake at ``home``; with ``acting``, as the ``--profile`` principal
    (see ``support.principal``), else as the local administrator."""

    def make() -> Session:
        from lakebox.principal import LOCAL_ADMIN

        lake = lakehouse(home, create=create, acting=acting)
        return lake.session(database, principal(lake) if acting else LOCAL_ADMIN)

    return _guard(make)


@app.command()
def sql(
    query: Annotated[str | None, typer.Argument(help="One or more statements.")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Run a SQL script.")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    home: HomeOpt = None,
    database: DbOpt = "default",
    workgroup: Annotated[str, typer.Option("--workgroup", "-w", help="Workgroup.")] = "primary",
    output_location: Annotated[
        str | None, typer.Option("--output-location", help="Where result files go.")
    ] = None,
) -> None:
    """Run Athena SQL (DDL, queries, CTAS / INSERT / UNLOAD) as query executions.

    A missing lake is created only when the SQL has a CREATE or UNLOAD statement.
    """
    if file is None and query is None:
        print_error("give a statement or --file script.sql")
        raise typer.Exit(2)
    from lakebox.cli.support import read_text_file
    from lakebox.sql.split import split_statements

    text = _guard(lambda: read_text_file(file, "SQL script")) if file is not None else query or ""
    statements = _guard(lambda: split_statements(text))
    if not statements:
        source = f"SQL script {file}" if file is not None else "the statement"
        empty = "is empty" if not text.strip() else "holds only comments"
        print_error(f"no statement to run: {source} {empty} (QueryString must not be empty)")
        raise typer.Exit(1)
    service = _service(home, create=any(_creates(st.text) for st in statements), acting=True)
    lake = _guard(lambda: lakehouse(home, acting=True))
    if any(_queries(st.text) for st in statements):
        # the engine's database opens (DuckDB, mostly outside the GIL) while the statement
        # is parsed and planned (sqlglot's dialects load then: Python, in the GIL)
        try:  # the engine of the workgroup (its Spark starts while the SQL is planned)
            chosen = service.get_work_group(workgroup).engine(service.default_engine)
        except LakeboxError:
            chosen = None  # the run reports a missing workgroup
        lake.engine_for(chosen).warm()
    who = _guard(lambda: principal(lake))
    run = _runner(service, who)
    current = database
    for number, st in enumerate(statements, start=1):
        qe, result = _guard(partial(run, st.text, current, workgroup, output_location))
        if qe.state != "SUCCEEDED":
            reason = qe.state_change_reason or qe.state
            if file is not None or len(statements) > 1:
                reason = st.in_script(reason, number, str(file) if file is not None else None)
            print_error(reason)
            _execution_line(qe, stderr=True)
            raise typer.Exit(1)
        if result is not None:
            print_result(result, fmt, summary=False)
            if result.kind == "UTILITY" and result.message.startswith("database: "):
                current = result.message.removeprefix("database: ")
        if fmt is OutputFormat.table:
            _execution_line(qe)


def _runner(
    service: QueryService, who: Principal
) -> Callable[..., tuple[QueryExecution, Result | None]]:
    """``service.run`` as ``who``, with a live progress line when standard error is a
    terminal."""
    if plain.plain_width(sys.stderr) is not None:  # not a terminal: no line, no rich
        return partial(service.run, principal=who)
    from lakebox.query.progress import run_with_progress

    return partial(run_with_progress, service, console=err_console, principal=who)


def _execution_line(qe: QueryExecution, stderr: bool = False) -> None:
    scanned = _bytes(qe.data_scanned_bytes)
    rows = f"{qe.rows} rows, " if qe.rows is not None and qe.statement_type == "DML" else ""
    print_dim(
        f"{qe.query_execution_id} · {qe.state} · {rows}{qe.total_ms} ms · "
        f"{scanned} scanned · ${qe.cost_usd:.6f}",
        stderr=stderr,
    )


def _service(home: Path | None, create: bool = False, acting: bool = False) -> QueryService:
    """The lake's query service; it is shut down (its worker threads joined) with the
    lake when the command ends, so a command run in-process leaves no thread behind.
    ``acting``: the command passes the ``--profile`` principal to it."""
    return _guard(lambda: lakehouse(home, create=create, acting=acting).queries)


#: statements that may run against a lake that does not exist yet, creating it
_CREATING = re.compile(r"(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/)*(CREATE|UNLOAD)\b", re.I | re.S)


def _creates(statement: str) -> bool:
    return _CREATING.match(statement) is not None


#: statements that run on the engine: queries, writes, and CREATE TABLE AS
_QUERYING = re.compile(
    r"(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/)*(?:(?:SELECT|WITH|VALUES|TABLE|INSERT|UNLOAD|EXPLAIN)"
    r"\b|\(|CREATE\b.*\bAS\s*(?:SELECT|WITH|VALUES|\())",
    re.I | re.S,
)


def _queries(statement: str) -> bool:
    """Whether ``statement`` is likely to run on the engine (a guess that only decides
    whether its database starts opening early)."""
    return _QUERYING.match(statement) is not None


@app.command()
def shell(home: HomeOpt = None, database: DbOpt = "default") -> None:
    """Interactive SQL shell with history; statements end with ';'.

    With standard input not a terminal (a pipe), it runs what it reads, like a script.
    """
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    session = _session(home, database, acting=True)
    if not sys.stdin.isatty():
        _run_piped(session, sys.stdin.read())
        return
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
            print_error(str(err))


def _run_piped(session: Session, text: str) -> None:
    from lakebox.sql.split import split_statements

    for number, st in enumerate(_guard(lambda: split_statements(text)), start=1):
        try:
            print_result(session.sql(st.text), OutputFormat.table)
        except LakeboxError as err:
            print_error(st.in_script(str(err), number))


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
    from rich.table import Table as RichTable

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


workgroup_app = typer.Typer(
    help="Athena-style workgroups: limits, result locations, usage.",
    no_args_is_help=True,
    cls=GuardedGroup,
)
app.add_typer(workgroup_app, name="workgroup")
query_app = typer.Typer(help="Query executions by id.", no_args_is_help=True, cls=GuardedGroup)
app.add_typer(query_app, name="query")

CutoffOpt = Annotated[
    int | None,
    typer.Option("--bytes-scanned-cutoff", help="Cancel queries scanning more (>= 10 MB)."),
]
EngineVersionOpt = Annotated[
    str | None,
    typer.Option(
        "--engine-version",
        help="Athena's SelectedEngineVersion: AUTO (the lake's engine), 'Athena engine "
        "version 3' (DuckDB) or 'PySpark engine version 3' (Spark).",
    ),
]


@workgroup_app.command("create")
def workgroup_create(
    name: str,
    output_location: Annotated[str | None, typer.Option("--output-location")] = None,
    enforce: Annotated[bool, typer.Option("--enforce/--no-enforce")] = False,
    cutoff: CutoffOpt = None,
    description: Annotated[str, typer.Option("--description")] = "",
    disabled: Annotated[bool, typer.Option("--disabled")] = False,
    engine_version: EngineVersionOpt = None,
    home: HomeOpt = None,
) -> None:
    """Create a workgroup."""
    service = _service(home, create=True)
    _guard(
        lambda: service.create_work_group(
            name,
            description,
            output_location,
            enforce,
            cutoff,
            "DISABLED" if disabled else "ENABLED",
            engine_version=engine_version or "AUTO",
        )
    )
    out.print(f"created workgroup {name}")


@workgroup_app.command("update")
def workgroup_update(
    name: str,
    output_location: Annotated[str | None, typer.Option("--output-location")] = None,
    enforce: Annotated[bool | None, typer.Option("--enforce/--no-enforce")] = None,
    cutoff: CutoffOpt = None,
    no_cutoff: Annotated[bool, typer.Option("--no-cutoff", help="Remove the limit.")] = False,
    state: Annotated[str | None, typer.Option("--state", help="ENABLED or DISABLED")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    engine_version: EngineVersionOpt = None,
    home: HomeOpt = None,
) -> None:
    """Change a workgroup's settings."""
    changes: dict[str, Any] = {}
    if engine_version is not None:
        changes["engine_version"] = engine_version
    if output_location is not None:
        changes["output_location"] = output_location
    if enforce is not None:
        changes["enforce_configuration"] = enforce
    if cutoff is not None or no_cutoff:
        changes["bytes_scanned_cutoff_per_query"] = None if no_cutoff else cutoff
    if state is not None:
        changes["state"] = state.upper()
    if description is not None:
        changes["description"] = description
    service = _service(home)
    _guard(lambda: service.update_work_group(name, **changes))
    out.print(f"updated workgroup {name}")


@workgroup_app.command("delete")
def workgroup_delete(name: str, home: HomeOpt = None) -> None:
    """Delete a workgroup."""
    service = _service(home)
    _guard(lambda: service.delete_work_group(name))
    out.print(f"deleted workgroup {name}")


@workgroup_app.command("list")
def workgroup_list(home: HomeOpt = None) -> None:
    """Workgroups with their settings and usage."""
    from rich.table import Table as RichTable

    service = _service(home)
    table = RichTable(
        "name",
        "state",
        "engine",
        "output location",
        "cutoff",
        "queries",
        "scanned",
        "cost",
        header_style="bold",
    )
    for wg in _guard(service.list_work_groups):
        usage = service.usage(wg.name)
        cutoff = (
            _bytes(wg.bytes_scanned_cutoff_per_query) if wg.bytes_scanned_cutoff_per_query else "-"
        )
        table.add_row(
            wg.name,
            wg.state,
            wg.engine(service.default_engine),
            wg.output_location or "-",
            cutoff,
            str(usage.queries),
            _bytes(usage.bytes_scanned),
            f"${usage.cost_usd:.6f}",
        )
    out.print(table)


@workgroup_app.command("show")
def workgroup_show(name: str, home: HomeOpt = None) -> None:
    """One workgroup as Athena's GetWorkGroup shape, with usage."""
    service = _service(home)
    wg = _guard(lambda: service.get_work_group(name))
    usage = service.usage(name)
    doc = {
        "WorkGroup": wg.to_api(service.default_engine),
        "Usage": {
            "Queries": usage.queries,
            "DataScannedInBytes": usage.bytes_scanned,
            "CostUSD": round(usage.cost_usd, 9),
        },
    }
    out.print_json(json.dumps(doc, default=str))


@app.command()
def history(
    workgroup: Annotated[str | None, typer.Option("--workgroup", "-w")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 20,
    home: HomeOpt = None,
) -> None:
    """Recent query executions: state, duration, data scanned, cost."""
    from rich.table import Table as RichTable

    service = _service(home)
    table = RichTable(
        "id",
        "state",
        "submitted",
        "duration",
        "scanned",
        "cost",
        "workgroup",
        "query",
        header_style="bold",
    )
    for qe in _guard(lambda: service.history(workgroup, limit)):
        submitted = dt.datetime.fromtimestamp(qe.submission_time).strftime("%Y-%m-%d %H:%M:%S")
        query = " ".join(qe.query.split())
        table.add_row(
            qe.query_execution_id,
            qe.state,
            submitted,
            f"{qe.total_ms} ms",
            _bytes(qe.data_scanned_bytes),
            f"${qe.cost_usd:.6f}",
            qe.workgroup,
            query[:60] + ("…" if len(query) > 60 else ""),
        )
    out.print(table)


@query_app.command("get")
def query_get(query_id: str, home: HomeOpt = None) -> None:
    """GetQueryExecution for one id."""
    service = _service(home)
    qe = _guard(lambda: service.get_query_execution(query_id))
    out.print_json(json.dumps({"QueryExecution": qe.to_api()}, default=str))


@query_app.command("results")
def query_results(
    query_id: str,
    next_token: Annotated[str | None, typer.Option("--next-token")] = None,
    max_results: Annotated[int, typer.Option("--max-results")] = 1000,
    home: HomeOpt = None,
) -> None:
    """GetQueryResults: one page of a finished query's results, read from its result file."""
    service = _service(home)
    page = _guard(lambda: service.get_query_results(query_id, next_token, max_results))
    out.print_json(json.dumps(page, default=str))


@query_app.command("stop")
def query_stop(query_id: str, home: HomeOpt = None) -> None:
    """StopQueryExecution."""
    service = _service(home)
    _guard(lambda: service.stop_query_execution(query_id))
    out.print(f"stop requested for {query_id}")


@app.command()
def demo(
    home: Annotated[Path, typer.Option("--home", help="Where to build the demo lake.")] = Path(
        "demo-lake"
    ),
) -> None:
    """Build a sample lake from generated data and run the README's example queries."""
    from lakebox.cli.demo import run_demo

    _guard(lambda: run_demo(home, out, lambda: lakehouse(home, create=True)))


def init(
    path: Annotated[
        Path | None, typer.Argument(help="Lake folder (default: --home, else ./.lakebox).")
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Create a lake (its metadata folder and the default database).

    Every other command except demo and those that create something needs an existing lake.
    """
    from lakebox.config import LakeConfig

    config = _guard(lambda: LakeConfig.from_env(home=path or home))
    existed = config.exists()
    _session(config.home, create=True)
    typer.echo(f"{'lake already exists' if existed else 'created lake'} at {config.home}")
