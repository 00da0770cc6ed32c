"""``lakebox workflow ...`` and ``lakebox schedule ...``: thin shells over WorkflowService.

The main CLI mounts ``workflow_app`` and ``schedule_app``. User errors print one line
without a traceback and exit 1; ``workflow start`` also exits 1 when the execution did not
succeed, so scripts can chain on it.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lakebox.cli.support import GuardedGroup, guard, lakehouse, read_text_file
from lakebox.config import LakeConfig
from lakebox.errors import InvalidRequestError, LakeboxError

if TYPE_CHECKING:
    from lakebox.ingest.streams import DeliveryReport, DeliveryTicker
    from lakebox.lakehouse import Lakehouse
    from lakebox.workflows.service import Execution, WorkflowService

workflow_app = typer.Typer(
    help="Step Functions-style state machines and executions.",
    no_args_is_help=True,
    cls=GuardedGroup,
)
schedule_app = typer.Typer(
    help="EventBridge Scheduler-style schedules that start workflows.",
    no_args_is_help=True,
    cls=GuardedGroup,
)

out = Console(soft_wrap=True)
err_console = Console(stderr=True)
T = TypeVar("T")

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="LAKEBOX_HOME", help="Lake folder (default ./.lakebox)."),
]
TasksOpt = Annotated[
    Path | None,
    typer.Option(
        "--tasks", help="Python file whose register(service) adds functions, commands, topics."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _guard(func: Callable[[], T]) -> T:
    return guard(func)


def _service(home: Path | None, tasks: Path | None = None, create: bool = False) -> WorkflowService:
    def make() -> WorkflowService:
        service = lakehouse(home, create=create).workflows
        if tasks is not None:
            _load_tasks(service, tasks)
        return service

    return _guard(make)


def _load_tasks(service: WorkflowService, path: Path) -> None:
    """Run the user's ``register(service)``: how a CLI user binds Lambda names to Python
    functions, ECS task definitions to commands and SNS topics to sinks."""
    if not path.is_file():
        raise InvalidRequestError(f"--tasks file {path} does not exist")
    spec = importlib.util.spec_from_file_location(f"lakebox_tasks_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise InvalidRequestError(f"--tasks file {path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        register = getattr(module, "register", None)
        if not callable(register):
            raise InvalidRequestError(f"--tasks file {path} has no register(service) function")
        register(service)
    except LakeboxError:
        raise
    except Exception as exc:  # the user's code: report it like any other user error
        raise InvalidRequestError(
            f"--tasks file {path} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _read_definition(path: Path) -> str:
    return read_text_file(path, "definition file")


def _read_input(text: str | None, file: Path | None) -> Any:
    if file is not None:
        text = read_text_file(file, "input file")
    if text is None:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"input file {file}" if file is not None else "--input"
        raise InvalidRequestError(
            f"{where} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        where = f"input file {file}" if file is not None else "--input"
        raise InvalidRequestError(f"{where} is JSON nested too deeply to read") from exc


def _print_json(value: Any) -> None:
    out.print_json(json.dumps(value, default=str))


def _print_execution(execution: Execution) -> None:
    colour = {"SUCCEEDED": "green", "RUNNING": "yellow"}.get(execution.status, "red")
    out.print(f"[bold]{execution.arn}[/]", highlight=False)
    out.print(f"status: [{colour}]{execution.status}[/]")
    if execution.stop_date is not None:
        seconds = (execution.stop_date - execution.start_date).total_seconds()
        out.print(f"duration: {seconds:.3f} s")
    if execution.error is not None or execution.cause:
        out.print(f"error: [red]{execution.error or ''}[/]", highlight=False)
        if execution.cause:
            out.print(f"cause: {execution.cause}", highlight=False, markup=False)
    if execution.status == "SUCCEEDED":
        out.print("output:")
        _print_json(execution.output)


# ----------------------------------------------------------------------------- workflow


@workflow_app.command("create")
def create(
    name: str,
    definition: Path,
    home: HomeOpt = None,
    tasks: TasksOpt = None,
    role_arn: Annotated[str | None, typer.Option(help="IAM role ARN to record.")] = None,
    type: Annotated[str, typer.Option(help="STANDARD or EXPRESS.")] = "STANDARD",
) -> None:
    """Create a state machine from an ASL definition file."""
    definition_text = _guard(lambda: _read_definition(definition))
    service = _service(home, tasks, create=True)
    machine = _guard(lambda: service.create_state_machine(name, definition_text, role_arn, type))
    out.print(machine.arn, highlight=False)


@workflow_app.command("update")
def update(name: str, definition: Path, home: HomeOpt = None, tasks: TasksOpt = None) -> None:
    """Replace a state machine's definition."""
    service = _service(home, tasks)
    machine = _guard(lambda: service.update_state_machine(name, _read_definition(definition)))
    out.print(f"{machine.arn} (revision {machine.revision_id})", highlight=False)


@workflow_app.command("delete")
def delete(name: str, home: HomeOpt = None) -> None:
    """Delete a state machine (its executions' history stays readable)."""
    service = _service(home)
    _guard(lambda: service.delete_state_machine(name))
    out.print(f"deleted {name}", highlight=False)


@workflow_app.command("validate")
def validate(definition: Path, home: HomeOpt = None, tasks: TasksOpt = None) -> None:
    """Check a definition without creating anything (no lake needed); lists every problem."""
    text = _guard(lambda: _read_definition(definition))
    config = _guard(lambda: LakeConfig.from_env(home=home))
    if config.exists():
        service = _service(home, tasks)
    else:  # nothing is stored: an in-memory store, so no lake is made
        from lakebox.workflows.service import WorkflowService

        service = _guard(lambda: WorkflowService(config, db_path=":memory:"))
        if tasks is not None:
            _guard(lambda: _load_tasks(service, tasks))
    problems = _guard(lambda: service.validate(text))
    if not problems:
        out.print("[green]valid[/]")
        return
    for p in problems:
        err_console.print(
            f"[red]{escape(p.code)}[/] {escape(p.message)} [dim]at {escape(p.location)}[/]",
            highlight=False,
        )
    raise typer.Exit(1)


@workflow_app.command("start")
def start(
    name: str,
    home: HomeOpt = None,
    tasks: TasksOpt = None,
    input: Annotated[str | None, typer.Option("--input", help="Input JSON.")] = None,
    input_file: Annotated[Path | None, typer.Option(help="File holding the input.")] = None,
    execution_name: Annotated[str | None, typer.Option("--name")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run an execution to the end and print its outcome."""
    service = _service(home, tasks)
    execution = _guard(
        lambda: service.start_execution(name, _read_input(input, input_file), execution_name)
    )
    if as_json:
        _print_json(execution.to_aws())
    else:
        _print_execution(execution)
    if execution.status != "SUCCEEDED":
        raise typer.Exit(1)


@workflow_app.command("describe")
def describe(arn: str, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Describe an execution (by ARN) or a state machine (by name or ARN)."""
    service = _service(home)
    if ":execution:" in arn:
        execution = _guard(lambda: service.describe_execution(arn))
        if as_json:
            _print_json(execution.to_aws())
        else:
            _print_execution(execution)
        return
    machine = _guard(lambda: service.describe_state_machine(arn))
    if as_json:
        _print_json(machine.to_aws())
        return
    out.print(
        f"[bold]{machine.arn}[/]  {machine.type}  revision {machine.revision_id}", highlight=False
    )
    out.print_json(machine.definition)


def _event_summary(event: dict[str, Any]) -> str:
    details = next((v for k, v in event.items() if k.endswith("EventDetails")), None) or {}
    if "error" in details or "cause" in details:
        cause = str(details.get("cause", ""))
        return f"[red]{details.get('error', '')}[/] {cause[:200]}"
    for key in ("name", "resource", "output", "input"):
        if key in details:
            text = str(details[key])
            if key == "resource" and "resourceType" in details:
                text = f"{details['resourceType']}:{text}"
            return text[:200]
    return ""


@workflow_app.command("history")
def history(
    arn: str,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
    reverse: Annotated[bool, typer.Option(help="Newest first.")] = False,
) -> None:
    """Print an execution's events with elapsed times, state durations and errors."""
    service = _service(home)
    events = _guard(lambda: service.get_execution_history(arn, reverse_order=reverse))
    if as_json:
        _print_json({"events": events})
        return
    start_time = min((datetime.fromisoformat(e["timestamp"]) for e in events), default=None)
    entered: dict[tuple[str, int], datetime] = {}
    table = Table(show_edge=False, header_style="bold")
    for column in ("id", "elapsed", "type", "state / detail", "duration"):
        table.add_column(column, overflow="fold")
    for event in sorted(events, key=lambda e: e["id"], reverse=reverse):
        when = datetime.fromisoformat(event["timestamp"])
        elapsed = (when - start_time).total_seconds() if start_time else 0.0
        duration = ""
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
        if event["type"].endswith("StateEntered") and details:
            entered[(details["name"], event["id"])] = when
        elif event["type"].endswith("StateExited") and details:
            match = [k for k in entered if k[0] == details["name"]]
            if match:
                key = max(match, key=lambda k: k[1])
                duration = f"{(when - entered.pop(key)).total_seconds():.3f} s"
        style = "red" if "Failed" in event["type"] or "TimedOut" in event["type"] else ""
        table.add_row(
            str(event["id"]),
            f"{elapsed:.3f} s",
            f"[{style}]{event['type']}[/]" if style else event["type"],
            _event_summary(event),
            duration,
        )
    out.print(table)


@workflow_app.command("list")
def list_(
    name: Annotated[
        str | None,
        typer.Argument(help="State machine whose executions to list; all machines when omitted."),
    ] = None,
    home: HomeOpt = None,
    status: Annotated[str | None, typer.Option(help="Only executions in this status.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List state machines, or the executions of one."""
    service = _service(home)
    if name is None and status is None:
        machines = _guard(service.list_state_machines)
        if as_json:
            _print_json([m.to_aws() for m in machines])
            return
        table = Table("name", "type", "created", "arn", show_edge=False, header_style="bold")
        for m in machines:
            table.add_row(m.name, m.type, m.creation_date.isoformat(timespec="seconds"), m.arn)
        out.print(table)
        return
    executions = _guard(lambda: service.list_executions(name, status))
    if as_json:
        _print_json([e.to_aws() for e in executions])
        return
    table = Table(
        "name", "status", "started", "duration", "arn", show_edge=False, header_style="bold"
    )
    for e in executions:
        duration = (
            f"{(e.stop_date - e.start_date).total_seconds():.3f} s"
            if e.stop_date is not None
            else ""
        )
        table.add_row(e.name, e.status, e.start_date.isoformat(timespec="seconds"), duration, e.arn)
    out.print(table)


@workflow_app.command("stop")
def stop(
    arn: str,
    home: HomeOpt = None,
    error: Annotated[str | None, typer.Option(help="Error code to record.")] = None,
    cause: Annotated[str | None, typer.Option(help="Why it was stopped.")] = None,
) -> None:
    """Stop a running execution (ABORTED)."""
    service = _service(home)
    execution = _guard(lambda: service.stop_execution(arn, error, cause))
    out.print(f"{execution.arn}: {execution.status}", highlight=False)


@workflow_app.command("redrive")
def redrive(
    arn: str, home: HomeOpt = None, tasks: TasksOpt = None, as_json: JsonOpt = False
) -> None:
    """Rerun a failed, aborted or timed-out execution from the state it stopped in."""
    service = _service(home, tasks)
    execution = _guard(lambda: service.redrive_execution(arn))
    if as_json:
        _print_json(execution.to_aws())
    else:
        _print_execution(execution)
    if execution.status != "SUCCEEDED":
        raise typer.Exit(1)


@workflow_app.command("send-task-success")
def send_task_success(
    token: str,
    home: HomeOpt = None,
    output: Annotated[str, typer.Option(help="Task output JSON.")] = "{}",
) -> None:
    """Complete a .waitForTaskToken task (possibly waiting in another process)."""
    service = _service(home)
    _guard(lambda: service.send_task_success(token, output))
    out.print("sent")


@workflow_app.command("send-task-failure")
def send_task_failure(
    token: str,
    home: HomeOpt = None,
    error: Annotated[str, typer.Option(help="Error name.")] = "",
    cause: Annotated[str, typer.Option(help="Error cause.")] = "",
) -> None:
    """Fail a .waitForTaskToken task."""
    service = _service(home)
    _guard(lambda: service.send_task_failure(token, error, cause))
    out.print("sent")


@workflow_app.command("send-task-heartbeat")
def send_task_heartbeat(token: str, home: HomeOpt = None) -> None:
    """Report that the work behind a task token is still going (HeartbeatSeconds)."""
    service = _service(home)
    _guard(lambda: service.send_task_heartbeat(token))
    out.print("sent")


# ----------------------------------------------------------------------------- schedule


@schedule_app.command("create")
def schedule_create(
    name: str,
    expression: Annotated[str, typer.Argument(help="cron(...), rate(...) or at(...).")],
    target: Annotated[str, typer.Argument(help="State machine name or ARN.")],
    home: HomeOpt = None,
    input: Annotated[str | None, typer.Option("--input", help="Execution input JSON.")] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
    start_date: Annotated[str | None, typer.Option(help="ISO time of the first slot.")] = None,
    end_date: Annotated[str | None, typer.Option(help="ISO time after which it stops.")] = None,
    flexible_window: Annotated[int | None, typer.Option(help="Minutes a slot may be late.")] = None,
    disabled: Annotated[bool, typer.Option(help="Create it disabled.")] = False,
) -> None:
    """Create a schedule that starts a state machine."""
    service = _service(home, create=True)
    schedule = _guard(
        lambda: service.create_schedule(
            name,
            expression,
            target,
            _read_input(input, None),
            timezone,
            start_date=_parse_time(start_date),
            end_date=_parse_time(end_date),
            flexible_window_minutes=flexible_window,
            enabled=not disabled,
        )
    )
    nxt = _guard(lambda: service.next_fire_times(schedule.name, 1))
    out.print(f"{schedule.arn}  next: {nxt[0].isoformat() if nxt else 'never'}", highlight=False)


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    from lakebox.workflows.service import utc

    try:
        return utc(text)
    except ValueError as exc:
        raise InvalidRequestError(f"{text!r} is not an ISO 8601 time") from exc


@schedule_app.command("list")
def schedule_list(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List schedules with their next fire time."""
    service = _service(home)
    schedules = _guard(service.list_schedules)
    rows = []
    for s in schedules:
        nxt = _guard(lambda s=s: service.next_fire_times(s.name, 1))  # type: ignore[misc]
        rows.append((s, nxt[0] if nxt else None))
    if as_json:
        _print_json(
            [
                {
                    "Name": s.name,
                    "Arn": s.arn,
                    "ScheduleExpression": s.expression,
                    "ScheduleExpressionTimezone": s.timezone,
                    "Target": s.target_arn,
                    "State": s.state,
                    "NextFire": n.isoformat() if n else None,
                    "LastFiredSlot": s.last_fired_slot.isoformat() if s.last_fired_slot else None,
                }
                for s, n in rows
            ]
        )
        return
    table = Table(
        "name",
        "expression",
        "zone",
        "state",
        "next",
        "last slot",
        "target",
        show_edge=False,
        header_style="bold",
    )
    for s, n in rows:
        table.add_row(
            s.name,
            s.expression,
            s.timezone,
            s.state,
            n.isoformat() if n else "never",
            s.last_fired_slot.isoformat() if s.last_fired_slot else "",
            s.target_arn.rsplit(":", 1)[-1],
        )
    out.print(table)


@schedule_app.command("delete")
def schedule_delete(name: str, home: HomeOpt = None) -> None:
    """Delete a schedule."""
    service = _service(home)
    _guard(lambda: service.delete_schedule(name))
    out.print(f"deleted {name}", highlight=False)


@schedule_app.command("run")
def schedule_run(
    home: HomeOpt = None,
    tasks: TasksOpt = None,
    now: Annotated[str | None, typer.Option(help="Pretend it is this ISO time.")] = None,
    loop: Annotated[bool, typer.Option(help="Keep running until interrupted.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between checks.")] = 30.0,
) -> None:
    """Start every due schedule's execution and deliver the lake's due stream buffers
    (once, or in a loop: streams are checked every second, or every --poll if shorter)."""
    service = _service(home, tasks)
    lake = lakehouse(home)
    if loop:
        stop = threading.Event()
        ticker = _stream_ticker(lake, min(poll, 1.0))
        try:
            service.run_scheduler(stop, poll)
        except KeyboardInterrupt:
            stop.set()
        finally:
            ticker.stop()
        return
    firings = _guard(lambda: service.run_due(_parse_time(now)))
    delivered = _deliver_due_streams(lake)
    if not firings and not delivered:
        out.print("nothing due")
    for f in firings:
        where = f.execution_arn or f"not started: {f.error}"
        skipped = f" ({f.skipped} older slot(s) skipped)" if f.skipped else ""
        out.print(f"{f.schedule} @ {f.slot.isoformat()}: {where}{skipped}", highlight=False)


def _print_delivery(name: str, report: DeliveryReport) -> None:
    out.print(
        f"stream {name}: delivered {report.delivered} of {report.records} records "
        f"to {len(report.objects)} object(s)"
        + (f", {report.failed} to the error prefix" if report.failed else ""),
        highlight=False,
    )


def _print_delivery_error(name: str, err: Exception) -> None:
    where = f"stream {name}" if name else "streams"
    err_console.print(
        f"[bold red]error:[/] {where}: delivery failed: {err}; the records stay buffered "
        "and are retried",
        highlight=False,
        markup=True,
    )


def _stream_ticker(lake: Lakehouse, poll: float) -> DeliveryTicker:
    """The delivery ticker of the lake's streams (the buffering interval needs a
    long-lived process, and the scheduler is one)."""
    from lakebox.ingest.streams import DeliveryTicker

    ticker = DeliveryTicker(lake.streams, poll, _print_delivery, _print_delivery_error)
    return ticker.start()


def _deliver_due_streams(lake: Lakehouse) -> int:
    """One round of stream delivery; the stream service is made only when the lake has
    streams."""
    root = lake.config.metadata_dir / "streams"
    if not root.is_dir() or not any(root.glob("*/stream.json")):
        return 0
    from lakebox.ingest.streams import DeliveryTicker

    ticker = DeliveryTicker(lake.streams, 0, _print_delivery, _print_delivery_error)
    return len(ticker.tick())
