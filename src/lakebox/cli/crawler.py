"""``lakebox crawler ...``: a thin shell over ``CrawlerService`` (mounted by the main CLI).

User errors print one line without a traceback and exit with status 1; a crawl that ends
FAILED exits with status 1 too, so scripts can chain on it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table as RichTable

from lakebox.cli.support import GuardedGroup, guard, lakehouse
from lakebox.crawler.model import (
    CRAWL_EVERYTHING,
    DEPRECATE_IN_DATABASE,
    FAILED,
    UPDATE_IN_DATABASE,
    Classifier,
    Crawler,
    CrawlRun,
    Target,
)
from lakebox.crawler.model import Progress as CrawlProgress
from lakebox.errors import InvalidRequestError

if TYPE_CHECKING:
    from lakebox.crawler.service import CrawlerService

crawler_app = typer.Typer(
    help="Glue-style crawlers: infer tables, schemas and partitions from files.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=GuardedGroup,
)

out = Console()
err_console = Console(stderr=True)
T = TypeVar("T")

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="LAKEBOX_HOME", help="Lake folder (default ./.lakebox)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
TargetsOpt = Annotated[
    list[str] | None,
    typer.Option("--target", "-t", help="Include path (s3://bucket/prefix/ or a folder)."),
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option("--exclude", "-x", help="Exclusion glob, relative to each include path."),
]
ClassifierOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--classifier",
        help='Custom classifier as JSON, e.g. \'{"name":"app","kind":"grok",'
        '"pattern":"%{WORD:level} %{GREEDYDATA:msg}"}\'.',
    ),
]


def _guard(func: Callable[[], T]) -> T:
    return guard(func)


def _service(home: Path | None, create: bool = False) -> CrawlerService:
    return _guard(lambda: lakehouse(home, create=create).crawlers)


def _classifiers(raw: list[str] | None) -> list[Classifier]:
    out = []
    fields = [f.name for f in dataclasses.fields(Classifier)]
    for text in raw or []:
        try:
            data = json.loads(text)
        except ValueError as err:
            raise InvalidRequestError(f"--classifier {text!r} is not JSON: {err}") from err
        if not isinstance(data, dict):
            raise InvalidRequestError(f"--classifier {text!r} must be a JSON object")
        unknown = sorted(set(data) - set(fields))
        missing = [f for f in ("name", "kind") if f not in data]
        if unknown or missing:
            problem = f"unknown field(s) {', '.join(unknown)}" if unknown else ""
            problem += ("; " if unknown and missing else "") + (
                f"missing {', '.join(missing)}" if missing else ""
            )
            raise InvalidRequestError(
                f"--classifier {text!r}: {problem} (fields: {', '.join(fields)})"
            )
        try:
            out.append(Classifier(**data))
        except (ValueError, TypeError) as err:
            raise InvalidRequestError(f"--classifier {text!r}: {err}") from err
    return out


def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


@crawler_app.command("create")
def create(
    name: str,
    database: Annotated[str, typer.Option("--database", "-d", help="Target database.")],
    target: TargetsOpt = None,
    exclude: ExcludeOpt = None,
    table_prefix: Annotated[str, typer.Option(help="Prefix for new table names.")] = "",
    update_behavior: Annotated[
        str, typer.Option(help="UPDATE_IN_DATABASE or LOG.")
    ] = UPDATE_IN_DATABASE,
    delete_behavior: Annotated[
        str, typer.Option(help="DEPRECATE_IN_DATABASE, DELETE_FROM_DATABASE or LOG.")
    ] = DEPRECATE_IN_DATABASE,
    recrawl: Annotated[
        str, typer.Option(help="CRAWL_EVERYTHING or CRAWL_NEW_FOLDERS_ONLY.")
    ] = CRAWL_EVERYTHING,
    combine_compatible: Annotated[
        bool, typer.Option(help="One table per include path when formats agree.")
    ] = False,
    table_level: Annotated[
        int | None, typer.Option(help="Absolute folder level of tables (bucket = 1).")
    ] = None,
    sample_size: Annotated[
        int | None, typer.Option(help="Files read per leaf folder (1-249).")
    ] = None,
    classifier: ClassifierOpt = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    home: HomeOpt = None,
) -> None:
    """Define a crawler."""
    svc = _service(home, create=True)

    def run() -> Crawler:
        targets = [Target(p, list(exclude or [])) for p in target or []]
        return svc.create_crawler(
            Crawler(
                name,
                database,
                targets,
                table_prefix=table_prefix,
                update_behavior=update_behavior.upper(),
                delete_behavior=delete_behavior.upper(),
                recrawl_behavior=recrawl.upper(),
                combine_compatible_schemas=combine_compatible,
                table_level=table_level,
                sample_size=sample_size,
                classifiers=_classifiers(classifier),
                description=description,
            )
        )

    _guard(run)
    out.print(f"crawler {name} created")


@crawler_app.command("update")
def update(
    name: str,
    database: Annotated[str | None, typer.Option("--database", "-d")] = None,
    target: TargetsOpt = None,
    exclude: ExcludeOpt = None,
    table_prefix: Annotated[str | None, typer.Option()] = None,
    update_behavior: Annotated[str | None, typer.Option()] = None,
    delete_behavior: Annotated[str | None, typer.Option()] = None,
    recrawl: Annotated[str | None, typer.Option()] = None,
    combine_compatible: Annotated[bool | None, typer.Option()] = None,
    table_level: Annotated[int | None, typer.Option()] = None,
    sample_size: Annotated[int | None, typer.Option()] = None,
    classifier: ClassifierOpt = None,
    description: Annotated[str | None, typer.Option()] = None,
    home: HomeOpt = None,
) -> None:
    """Change a crawler; options left out keep their value. ``--exclude`` alone replaces
    the exclusions of every existing target."""
    svc = _service(home)

    def run() -> Crawler:
        changes: dict[str, Any] = {}
        current = svc.get_crawler(name)
        if target:
            changes["targets"] = [Target(p, list(exclude or [])) for p in target]
        elif exclude is not None:
            changes["targets"] = [
                Target(t.path, list(exclude), t.sample_size) for t in current.targets
            ]
        simple = {
            "database": database,
            "table_prefix": table_prefix,
            "update_behavior": update_behavior.upper() if update_behavior else None,
            "delete_behavior": delete_behavior.upper() if delete_behavior else None,
            "recrawl_behavior": recrawl.upper() if recrawl else None,
            "combine_compatible_schemas": combine_compatible,
            "table_level": table_level,
            "sample_size": sample_size,
            "description": description,
        }
        changes.update({k: v for k, v in simple.items() if v is not None})
        if classifier:
            changes["classifiers"] = _classifiers(classifier)
        return svc.update_crawler(name, **changes)

    _guard(run)
    out.print(f"crawler {name} updated")


@crawler_app.command("delete")
def delete(name: str, home: HomeOpt = None) -> None:
    """Delete a crawler and its run history (tables it made stay)."""
    svc = _service(home)
    _guard(lambda: svc.delete_crawler(name))
    out.print(f"crawler {name} deleted")


@crawler_app.command("list")
def list_(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List crawlers with their last run."""
    svc = _service(home)
    rows: list[dict[str, Any]] = []
    for c in _guard(svc.list_crawlers):
        last = svc.list_runs(c.name, limit=1)
        rows.append(
            {
                "name": c.name,
                "database": c.database,
                "targets": [t.path for t in c.targets],
                "last_run": last[0].state if last else "",
                "last_start": _when(last[0].start_time) if last else "",
            }
        )
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = RichTable("name", "database", "targets", "last run", "started (UTC)")
    for r in rows:
        table.add_row(
            str(r["name"]),
            str(r["database"]),
            "\n".join(r["targets"]),
            str(r["last_run"]),
            str(r["last_start"]),
        )
    out.print(table)


@crawler_app.command("start")
def start(
    name: str,
    home: HomeOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run a crawler now and wait for it to finish."""
    svc = _service(home)
    if quiet:
        run = _guard(lambda: svc.start_crawler(name))
    else:
        # only this command draws a progress bar: rich.progress is not paid at start-up
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            tasks: dict[str, Any] = {}

            def report(p: CrawlProgress) -> None:
                task = tasks.get(p.phase)
                if task is None:
                    task = tasks[p.phase] = bar.add_task(p.phase, total=p.total or None)
                bar.update(task, completed=p.done, total=p.total or None)

            run = _guard(lambda: svc.start_crawler(name, progress=report))
    _print_run(run)
    if run.state == FAILED:
        raise typer.Exit(1)


def _print_run(run: CrawlRun) -> None:
    duration = f"{run.duration:.2f}s" if run.duration is not None else ""
    out.print(f"run {run.id}: {run.state} in {duration}", highlight=False)
    out.print(
        f"tables created {len(run.tables_created)}, updated {len(run.tables_updated)}, "
        f"deprecated {len(run.tables_deprecated)}, deleted {len(run.tables_deleted)}; "
        f"partitions added {run.partitions_added}, deleted {run.partitions_deleted}; "
        f"files seen {run.files_seen}, read {run.files_read}, skipped {len(run.skipped)}",
        highlight=False,
    )
    for label, names in (
        ("created", run.tables_created),
        ("updated", run.tables_updated),
        ("deprecated", run.tables_deprecated),
        ("deleted", run.tables_deleted),
    ):
        if names:
            out.print(f"  {label}: {', '.join(names)}", highlight=False)
    for s in run.skipped:
        out.print(f"  skipped {s.uri}: {s.reason}", highlight=False)
    for line in run.log:
        out.print(f"  note: {line}", highlight=False)
    if run.error:
        err_console.print(f"[bold red]error:[/] {run.error}", highlight=False)


@crawler_app.command("runs")
def runs(
    name: str,
    limit: Annotated[int, typer.Option(help="Newest runs to show.")] = 20,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Runs of a crawler, newest first."""
    svc = _service(home)
    found = _guard(lambda: svc.list_runs(name, limit))
    if as_json:
        out.print_json(json.dumps([r.to_dict() for r in found]))
        return
    table = RichTable(
        "run",
        "state",
        "started (UTC)",
        "seconds",
        "created",
        "updated",
        "deprecated",
        "deleted",
        "partitions",
        "skipped",
    )
    for r in found:
        table.add_row(
            r.id,
            r.state,
            _when(r.start_time),
            f"{r.duration:.2f}" if r.duration is not None else "",
            str(len(r.tables_created)),
            str(len(r.tables_updated)),
            str(len(r.tables_deprecated)),
            str(len(r.tables_deleted)),
            str(r.partitions_added),
            str(len(r.skipped)),
        )
    out.print(table)


@crawler_app.command("show")
def show(name: str, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """A crawler's definition and its last run."""
    svc = _service(home)
    crawler = _guard(lambda: svc.get_crawler(name))
    last = svc.list_runs(name, limit=1)
    if as_json:
        doc = {"crawler": crawler.to_dict(), "last_run": last[0].to_dict() if last else None}
        out.print_json(json.dumps(doc))
        return
    c = crawler
    out.print(f"crawler {c.name} -> database {c.database}", highlight=False)
    for t in c.targets:
        extra = f" (exclude {', '.join(t.exclusions)})" if t.exclusions else ""
        out.print(f"  target {t.path}{extra}", highlight=False)
    out.print(
        f"  schema change: update {c.update_behavior}, delete {c.delete_behavior}; "
        f"recrawl {c.recrawl_behavior}; table prefix {c.table_prefix!r}; "
        f"combine compatible {c.combine_compatible_schemas}; table level {c.table_level}; "
        f"sample size {c.sample_size}",
        highlight=False,
    )
    for cl in c.classifiers:
        out.print(f"  classifier {cl.name} ({cl.kind})", highlight=False)
    if last:
        _print_run(last[0])
    else:
        out.print("  never run")
