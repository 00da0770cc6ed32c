"""WorkflowService: the Python API of lakebox's Step Functions and EventBridge Scheduler.

The CLI and the server are thin shells over this class. State machines, executions, their
history and schedules live in ``<metadata_dir>/workflows.sqlite``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lakebox.config import LakeConfig
from lakebox.errors import AlreadyExistsError, InvalidRequestError, LakeboxError
from lakebox.names import schedule_name, state_machine_name
from lakebox.principal import LOCAL_ADMIN, Principal, local_admin
from lakebox.workflows import schedules as sched
from lakebox.workflows.asl.interpreter import (
    Cancel,
    ExecutionAborted,
    ExecutionInfo,
    ExecutionTimedOut,
    Interpreter,
    TokenBroker,
)
from lakebox.workflows.asl.validate import find_problems, parse_definition, validate
from lakebox.workflows.clock import Clock, SystemClock
from lakebox.workflows.errors import (
    ExecutionDoesNotExistError,
    ExecutionNotRedrivableError,
    Problem,
    ScheduleDoesNotExistError,
    StateMachineDoesNotExistError,
    StatesError,
    TaskDoesNotExistError,
)
from lakebox.workflows.history import HistoryEvent, HistoryRecorder, Trace
from lakebox.workflows.store import ExecutionRow, ScheduleRow, StateMachineRow, WorkflowStore
from lakebox.workflows.tasks import builtin
from lakebox.workflows.tasks.builtin import Command
from lakebox.workflows.tasks.notify import NotificationSink
from lakebox.workflows.tasks.registry import (
    DEFAULT_REGISTRY,
    IntegrationPattern,
    ResourceRegistry,
    TaskContext,
    TaskHandler,
    lake_arn,
)

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
#: Missed-slot policy: only the newest missed slot fires, and only while it is at most this
#: old (or the schedule's flexible window, if larger). Older slots are skipped.
DEFAULT_MISSED_WINDOW = timedelta(minutes=15)

#: Executions running in this process, by ARN (shared by every service instance).
_ACTIVE: dict[str, _Running] = {}
_ACTIVE_LOCK = threading.Lock()
#: how long close() waits for the executions it stopped to record their end
CLOSE_WAIT_SECONDS = 10.0
_PROCESS_TOKEN = uuid.uuid4().hex[:12]


class InvalidArnError(InvalidRequestError):
    """Step Functions' ``InvalidArn``: the ARN names nothing this operation takes (an
    Express execution for DescribeExecution, StopExecution or GetExecutionHistory)."""

    code = "InvalidArn"


class StateMachineTypeNotSupportedError(InvalidRequestError):
    """Step Functions' ``StateMachineTypeNotSupported``: StartSyncExecution on a STANDARD
    machine, ListExecutions on an EXPRESS one."""

    code = "StateMachineTypeNotSupported"


_TYPE_NOT_SUPPORTED = "This operation is not supported by this type of state machine"
#: Express workflows run for at most five minutes (developer guide, "Choosing workflow
#: type"); a longer one ends TIMED_OUT as a machine's own TimeoutSeconds would end it
EXPRESS_MAX_SECONDS = 300


def is_express_arn(arn: str) -> bool:
    """Whether ``arn`` is an Express execution's
    (``arn:aws:states:<region>:<account>:express:<machine>:<name>:<id>``)."""
    parts = arn.split(":")
    return len(parts) > 5 and parts[2] == "states" and parts[5] == "express"


def _standard_only(arn: str) -> None:
    """AWS keeps no record of Express executions that DescribeExecution, StopExecution or
    GetExecutionHistory could read (their history goes to CloudWatch Logs), and answers
    those operations with InvalidArn."""
    if is_express_arn(arn):
        raise InvalidArnError("Invalid Arn: 'Resource type not valid in this context: express'")


class StoredTokenBroker(TokenBroker):
    """Task tokens also recorded in the store, so ``send-task-success`` from another process
    (a CLI, a worker) reaches an execution waiting here."""

    def __init__(self, store: WorkflowStore) -> None:
        super().__init__()
        self.store = store

    def open(self, token: str) -> None:
        super().open(token)
        self.store.open_token(token, "")

    def close(self, token: str) -> None:
        super().close(token)
        self.store.close_token(token)

    def poll(self, token: str, waiting: Any) -> None:
        row = self.store.get_token(token)
        if row is None:
            return
        status, output, error, cause, beat = row
        if beat is not None:
            waiting.heartbeat = beat
        if status == "SUCCEEDED":
            super().success(token, json.loads(output) if output is not None else None)
        elif status == "FAILED":
            super().failure(token, error or "", cause or "")

    def success(self, token: str, output: Any) -> bool:
        if self._get(token) is not None:
            return super().success(token, output)
        return self.store.answer_token(token, "SUCCEEDED", _dumps(output), None, None)

    def failure(self, token: str, error: str, cause: str) -> bool:
        if self._get(token) is not None:
            return super().failure(token, error, cause)
        return self.store.answer_token(token, "FAILED", None, error, cause)

    def heartbeat(self, token: str, when: datetime) -> bool:
        return super().heartbeat(token, when) or self.store.beat_token(token, when)


def _principal_of(arn: str) -> Principal:
    """The principal a recorded ARN names, for a redriven execution's tasks: an account's
    root is its local administrator (the only root lakebox records), a role or assumed
    role keeps its kind, anything else is taken as a user."""
    account = arn.split(":")[4] if arn.count(":") >= 5 else ""
    if arn.endswith(":root") and account.isdigit() and len(account) == 12:
        return local_admin(account)
    resource = arn.split(":", 5)[-1]
    kind = resource.split("/", 1)[0]
    if kind == "role":
        return Principal(account, arn, "role")
    if kind == "assumed-role":
        return Principal(account, arn, "assumed-role")
    return Principal(account, arn, "user")


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_PROCESS_TOKEN}"


def _owner_alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text, _, token = rest.partition(":")
    if token == _PROCESS_TOKEN:
        return True
    if host != socket.gethostname():
        return True  # cannot tell for another host: leave it alone
    try:
        os.kill(int(pid_text), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class StateMachine:
    name: str
    arn: str
    definition: str
    role_arn: str
    type: str
    creation_date: datetime
    update_date: datetime
    revision_id: str
    description: str = ""

    def to_aws(self) -> dict[str, Any]:
        """DescribeStateMachine's answer. As AWS answers (AWS-recorded), logging and
        tracing are shown switched off (lakebox has neither) and an empty description is
        left out."""
        out: dict[str, Any] = {
            "stateMachineArn": self.arn,
            "name": self.name,
            "status": "ACTIVE",
            "definition": self.definition,
            "roleArn": self.role_arn,
            "type": self.type,
            "creationDate": self.creation_date.isoformat(),
            "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
            "tracingConfiguration": {"enabled": False},
            "revisionId": self.revision_id,
        }
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Execution:
    arn: str
    name: str
    state_machine_arn: str
    status: str
    input: Any
    output: Any
    error: str | None
    cause: str | None
    start_date: datetime
    stop_date: datetime | None
    #: the ARN of who started it (DescribeExecution shows no caller, so neither does to_aws)
    principal_arn: str = LOCAL_ADMIN.arn
    redrive_count: int = 0

    def to_aws(self) -> dict[str, Any]:
        """The execution as DescribeExecution shows it; an Express execution as
        StartSyncExecution answers (that shape has no redrive members)."""
        out = self._common()
        if not is_express_arn(self.arn):
            out["redriveCount"] = self.redrive_count
            if self.status in ("FAILED", "ABORTED", "TIMED_OUT"):
                out["redriveStatus"] = "REDRIVABLE"
            else:
                out["redriveStatus"] = "NOT_REDRIVABLE"
                reason = f"Execution is {self.status} and cannot be redriven"
                out["redriveStatusReason"] = reason
        return out

    def _common(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "executionArn": self.arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": self.start_date.isoformat(),
            "input": _dumps(self.input),
            "inputDetails": {"included": True},
        }
        if self.stop_date is not None:
            out["stopDate"] = self.stop_date.isoformat()
        if self.status == "SUCCEEDED":
            out["output"] = _dumps(self.output)
            out["outputDetails"] = {"included": True}
        if self.error:  # AWS leaves an empty error or cause out (a Fail state without them)
            out["error"] = self.error
        if self.cause:
            out["cause"] = self.cause
        return out


@dataclass(frozen=True)
class Schedule:
    name: str
    arn: str
    expression: str
    timezone: str
    target_arn: str
    input: Any
    state: str
    flexible_window_minutes: int | None
    start_date: datetime | None
    end_date: datetime | None
    creation_date: datetime
    last_fired_slot: datetime | None
    last_execution_arn: str | None
    description: str = ""
    #: who made or last changed it: its executions run as this principal
    principal_arn: str = LOCAL_ADMIN.arn


@dataclass(frozen=True)
class Firing:
    """What ``run_due`` did for one schedule slot."""

    schedule: str
    slot: datetime
    execution_arn: str | None
    skipped: int = 0
    error: str | None = None


@dataclass(frozen=True)
class _Resume:
    """Where a redriven execution picks up: a top-level state, its input and variables."""

    start_at: str
    value: Any
    variables: dict[str, Any]
    last_event_id: int


@dataclass
class _Running:
    thread: threading.Thread | None
    cancel: Cancel
    done: threading.Event = field(default_factory=threading.Event)
    #: set when the run ends, before ``done``: the stop watcher reads the store and must
    #: be gone before ``done`` lets a waiter (and then ``close``) go on
    ended: threading.Event = field(default_factory=threading.Event)


class _Services(dict[str, Any]):
    """The services tasks share: those given or made so far, and the ones ``lookup`` owns
    (``names``), fetched from it the first time a task asks for them."""

    def __init__(
        self,
        given: Mapping[str, Any],
        lookup: Callable[[str], Any] | None,
        names: frozenset[str],
    ) -> None:
        super().__init__(given)
        self._lookup = lookup
        self._names = names if lookup is not None else frozenset()

    def __missing__(self, key: str) -> Any:
        if self._lookup is None or key not in self._names:
            raise KeyError(key)
        value = self._lookup(key)
        self[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or key in self._names

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


class WorkflowService:
    """State machines, executions, task callbacks and schedules over one SQLite file."""

    def __init__(
        self,
        config: LakeConfig | None = None,
        *,
        db_path: str | Path | None = None,
        clock: Clock | None = None,
        registry: ResourceRegistry | None = None,
        stop_poll_seconds: float = 0.5,
        services: Mapping[str, Any] | None = None,
        lookup: Callable[[str], Any] | None = None,
        lookup_names: frozenset[str] = frozenset(),
    ) -> None:
        """``services`` are objects tasks share (the caller's to close); ``lookup`` names
        the owner of more of them (``lookup_names``), asked the first time a task needs
        one: the lake's composition root hands its own services in this way."""
        if db_path is None:
            if config is None:
                config = LakeConfig.from_env()
            db_path = config.metadata_dir / "workflows.sqlite"
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.registry = registry or ResourceRegistry(parent=DEFAULT_REGISTRY)
        self.store = WorkflowStore(db_path)
        self.tokens = StoredTokenBroker(self.store)
        self.stop_poll_seconds = stop_poll_seconds
        self.services: dict[str, Any] = _Services(
            {**(services or {}), "workflows": self}, lookup, lookup_names
        )
        #: services handed in by the caller, or looked up, stay their owner's to close
        self._given_services = set(self.services) | set(lookup_names if lookup else ())
        self._running: dict[str, _Running] = {}
        self.registry.register(
            "arn:aws:states:::states:startExecution", self._start_child_execution, sync=True
        )
        self.recovered = self.recover()

    # ------------------------------------------------------------------ ARNs (the lake's
    # account and region)

    def state_machine_arn(self, name: str) -> str:
        return lake_arn(self.config, "states", f"stateMachine:{name}")

    def execution_arn(self, machine: str, name: str, express: bool = False) -> str:
        """A STANDARD execution's ARN, or with ``express`` an Express one: AWS adds an id
        after the name there, since Express execution names may be reused at once."""
        if express:
            return lake_arn(self.config, "states", f"express:{machine}:{name}:{uuid.uuid4()}")
        return lake_arn(self.config, "states", f"execution:{machine}:{name}")

    def default_role_arn(self) -> str:
        return lake_arn(self.config, "iam", "role/lakebox", regional=False)

    def close(self) -> None:
        """Stop this service's running executions (they end ABORTED), the Glue job runs of
        the job registry it opened and wait for them and for Glue crawls, then close the
        store and the services tasks opened on demand (query service, lake): anything left
        running would go on writing to a closed database."""
        running = list(self._running.values())
        for run in running:
            run.cancel.set(ExecutionAborted("Interrupted", "The workflow service was closed"))
        deadline = time.monotonic() + CLOSE_WAIT_SECONDS
        for run in running:
            run.done.wait(max(0.0, deadline - time.monotonic()))
            if run.thread is not None:
                run.thread.join(max(0.0, deadline - time.monotonic()))
        made = dict(self.services)  # only the services made so far, none looked up now
        jobs = made.get("glue_jobs")
        if jobs is not None and "glue_jobs" not in self._given_services:
            jobs.close()
        for crawl in list(made.get("glue_crawls", {}).values()):
            crawl.join(max(0.0, deadline - time.monotonic()))  # a crawl cannot be stopped
        for key in ("queries", "lake"):
            service = made.get(key)
            if service is not None and key not in self._given_services:
                service.close()
        self.store.close()

    # ------------------------------------------------------------------ registrations

    def register_function(self, name: str, fn: Callable[..., Any]) -> None:
        """A Python callable that Lambda ARNs / ``lambda:invoke`` with this name run."""
        self.registry.functions[builtin.function_name(name)] = fn

    def register_command(
        self,
        task_definition: str,
        command: str | Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        """A shell command that ``ecs:runTask`` runs for this task definition family."""
        self.registry.commands[builtin.task_definition_name(task_definition)] = Command.of(
            command, env, cwd
        )

    def register_topic(self, topic: str, *sinks: NotificationSink) -> None:
        """Where ``sns:publish`` to ``topic`` (name or ARN) delivers."""
        self.registry.topics[builtin.topic_name(topic)] = list(sinks)

    def register_resource(self, pattern: str, handler: TaskHandler, **options: bool) -> None:
        """A task resource for this service only (``register_resource`` for all)."""
        self.registry.register(pattern, handler, **options)

    # ------------------------------------------------------------------ state machines

    def validate(
        self,
        definition: str | dict[str, Any],
        machine_type: str = "STANDARD",
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> list[Problem]:
        """Every problem of ``definition`` for a machine of ``machine_type`` (empty when
        valid); never raises for them."""
        return find_problems(definition, self.registry, machine_type)

    def _resolve_machine(self, ref: str) -> StateMachineRow:
        arn = ref if ref.startswith("arn:") else self.state_machine_arn(ref)
        row = self.store.get_state_machine(arn)
        if row is None:
            raise StateMachineDoesNotExistError(
                f"State Machine Does Not Exist: '{arn}' (see `lakebox workflow list`)"
            )
        return row

    @staticmethod
    def _machine(row: StateMachineRow) -> StateMachine:
        return StateMachine(
            row.name,
            row.arn,
            row.definition,
            row.role_arn,
            row.type,
            row.creation_date,
            row.update_date,
            row.revision_id,
            row.description,
        )

    def create_state_machine(
        self,
        name: str,
        definition: str | dict[str, Any],
        role_arn: str | None = None,
        type: str = "STANDARD",
        description: str = "",
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> StateMachine:
        state_machine_name(name)
        if type not in ("STANDARD", "EXPRESS"):
            raise InvalidRequestError(f"Invalid type {type!r}: use STANDARD or EXPRESS")
        parsed = validate(definition, self.registry, type)
        text = definition if isinstance(definition, str) else json.dumps(parsed, indent=2)
        now = self.clock.now()
        row = StateMachineRow(
            name,
            self.state_machine_arn(name),
            text,
            role_arn or self.default_role_arn(),
            type,
            description,
            now,
            now,
            uuid.uuid4().hex,
        )
        if not self.store.insert_state_machine(row):
            existing = self.store.get_state_machine(row.arn)
            if existing is not None and existing.definition == text:
                return self._machine(existing)  # AWS: idempotent for the same definition
            raise AlreadyExistsError(
                f"State Machine Already Exists: '{row.arn}' (use update to change it)"
            )
        return self._machine(row)

    def update_state_machine(
        self,
        ref: str,
        definition: str | dict[str, Any] | None = None,
        role_arn: str | None = None,
        description: str | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> StateMachine:
        row = self._resolve_machine(ref)
        text = row.definition
        if definition is not None:
            parsed = validate(definition, self.registry, row.type)
            text = definition if isinstance(definition, str) else json.dumps(parsed, indent=2)
        new = StateMachineRow(
            row.name,
            row.arn,
            text,
            role_arn or row.role_arn,
            row.type,
            row.description if description is None else description,
            row.creation_date,
            self.clock.now(),
            uuid.uuid4().hex,
        )
        self.store.update_state_machine(new)
        return self._machine(new)

    def describe_state_machine(
        self, ref: str, *, principal: Principal = LOCAL_ADMIN
    ) -> StateMachine:
        return self._machine(self._resolve_machine(ref))

    def list_state_machines(self, *, principal: Principal = LOCAL_ADMIN) -> list[StateMachine]:
        return [self._machine(r) for r in self.store.list_state_machines()]

    def delete_state_machine(self, ref: str, *, principal: Principal = LOCAL_ADMIN) -> None:
        row = self._resolve_machine(ref)
        self.store.delete_state_machine(row.arn)

    # ------------------------------------------------------------------ executions

    def start_execution(
        self,
        state_machine: str,
        input: Any = None,
        name: str | None = None,
        *,
        wait: bool = True,
        principal: Principal = LOCAL_ADMIN,
    ) -> Execution:
        """Start an execution; with ``wait`` (the default) return once it has finished,
        otherwise run it on a background thread and return it RUNNING."""
        row = self._resolve_machine(state_machine)
        name = name or str(uuid.uuid4())
        state_machine_name(name, "execution")
        if isinstance(input, str):
            try:
                input = json.loads(input)
            except json.JSONDecodeError as exc:
                raise InvalidRequestError(f"Invalid execution input: {exc.msg}") from exc
        if input is None:
            input = {}
        arn = self.execution_arn(row.name, name, express=row.type == "EXPRESS")
        start = self.clock.now()
        record = ExecutionRow(
            arn,
            name,
            row.arn,
            row.definition,
            "RUNNING",
            _dumps(input),
            None,
            None,
            None,
            start,
            None,
            _owner(),
            None,
            principal_arn=principal.arn,
        )
        if not self.store.insert_execution(record):
            # StartExecution is idempotent while the execution with that name runs with the
            # same input (botocore's StartExecution documentation); otherwise it is refused
            existing = self.store.get_execution(arn)
            if (
                existing is not None
                and existing.status == "RUNNING"
                and existing.input == record.input
            ):
                return self._describe(arn)
            raise AlreadyExistsError(f"Execution Already Exists: '{arn}'")
        running = _Running(None, Cancel())
        with _ACTIVE_LOCK:
            _ACTIVE[arn] = running
        self._running[arn] = running
        definition = parse_definition(row.definition)
        info = ExecutionInfo(
            arn, name, row.arn, row.name, start, input, row.role_arn, principal=principal
        )
        if wait:
            self._run(info, definition, running)
        else:
            running.thread = threading.Thread(
                target=self._run,
                args=(info, definition, running),
                name=f"lakebox-exec-{name}",
                daemon=True,
            )
            running.thread.start()
        return self._describe(arn)

    def _start_child_execution(self, params: Any, ctx: TaskContext) -> Any:
        """``states:startExecution`` (nested workflows); ``.sync`` waits for the child and
        ``.sync:2`` returns its input and output as JSON rather than text."""
        if not isinstance(params, dict) or not isinstance(params.get("StateMachineArn"), str):
            raise StatesError("StepFunctions.InvalidArnException", "StateMachineArn is required")
        sync = ctx.pattern is IntegrationPattern.RUN_JOB
        try:
            self.authorize(
                ctx.principal or LOCAL_ADMIN,
                "states:StartExecution",
                self._resolve_machine(params["StateMachineArn"]).arn,
            )
            child = self.start_execution(
                params["StateMachineArn"],
                params.get("Input"),
                params.get("Name"),
                wait=sync,
                principal=ctx.principal or LOCAL_ADMIN,
            )
        except LakeboxError as exc:
            raise StatesError(f"StepFunctions.{exc.code}Exception", str(exc)) from exc
        if not sync:
            return {
                "ExecutionArn": child.arn,
                **builtin.sdk_metadata("application/x-amz-json-1.0"),
                "StartDate": child.start_date.isoformat(),
            }
        as_json = ctx.resource.endswith(".sync:2")
        result: dict[str, Any] = {
            "ExecutionArn": child.arn,
            "Input": child.input if as_json else _dumps(child.input),
            "InputDetails": {"Included": True},
            "Name": child.name,
            "StartDate": child.start_date.isoformat(),
            "StateMachineArn": child.state_machine_arn,
            "Status": child.status,
            "StopDate": child.stop_date.isoformat() if child.stop_date else None,
        }
        if child.status == "SUCCEEDED":
            result["Output"] = child.output if as_json else _dumps(child.output)
            result["OutputDetails"] = {"Included": True}
            return result
        result.update({"Error": child.error, "Cause": child.cause})
        raise StatesError("States.TaskFailed", _dumps(result))

    def start_sync_execution(
        self,
        state_machine: str,
        input: Any = None,
        name: str | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> Execution:
        """StartSyncExecution: run an EXPRESS machine to the end and return the outcome
        (AWS refuses it for STANDARD machines)."""
        if self._resolve_machine(state_machine).type != "EXPRESS":
            raise StateMachineTypeNotSupportedError(_TYPE_NOT_SUPPORTED)
        return self.start_execution(state_machine, input, name, wait=True, principal=principal)

    def wait_for(
        self, arn: str, timeout: float | None = None, *, principal: Principal = LOCAL_ADMIN
    ) -> Execution:
        """Block until an execution started with ``wait=False`` in this process is done."""
        running = self._running.get(arn)
        if running is not None:
            running.done.wait(timeout)
        return self._describe(arn)

    def _run(
        self,
        info: ExecutionInfo,
        definition: dict[str, Any],
        running: _Running,
        resume: _Resume | None = None,
    ) -> None:
        arn = info.arn
        express = is_express_arn(arn)
        if express:
            limit = definition.get("TimeoutSeconds", EXPRESS_MAX_SECONDS)
            if not isinstance(limit, int | float) or isinstance(limit, bool):
                limit = EXPRESS_MAX_SECONDS
            definition = {**definition, "TimeoutSeconds": min(limit, EXPRESS_MAX_SECONDS)}
        recorder = HistoryRecorder(
            self.clock,
            # no one can read an Express execution's history (see _standard_only)
            sink=(lambda evs: None)
            if express
            else (lambda evs: self.store.append_events(arn, evs)),
            start_id=resume.last_event_id if resume else 0,
        )
        if resume is None:
            recorder.add(
                Trace(),
                "ExecutionStarted",
                {
                    "input": _dumps(info.input),
                    "inputDetails": {"truncated": False},
                    "roleArn": info.role_arn,
                    "stateMachineArn": info.state_machine_arn,
                },
            )
        else:
            recorder.add(
                Trace(resume.last_event_id),
                "ExecutionRedriven",
                {"redriveCount": info.redrive_count},
            )
        recorder.flush()
        watcher = threading.Thread(
            target=self._watch_stop,
            args=(arn, running),
            name=f"lakebox-stop-watch-{info.name}",
            daemon=True,
        )
        watcher.start()
        interpreter = Interpreter(
            definition,
            info,
            self.registry,
            self.clock,
            recorder,
            running.cancel,
            self.tokens,
            self.config,
            self.services,
        )
        last = Trace(recorder.events[-1].id)
        status, output, error, cause = "FAILED", None, None, None
        try:
            if resume is None:
                result = interpreter.run()
            else:
                result = interpreter.run(resume.start_at, resume.value, resume.variables)
            status, output = "SUCCEEDED", result
            last = Trace(recorder.events[-1].id)
            recorder.add(
                last,
                "ExecutionSucceeded",
                {"output": _dumps(result), "outputDetails": {"truncated": False}},
            )
        except StatesError as exc:
            error, cause = exc.error, exc.cause
            # AWS leaves an empty error or cause out of the event (a Fail state without them)
            failure = {k: v for k, v in (("error", error), ("cause", cause)) if v}
            recorder.add(Trace(recorder.events[-1].id), "ExecutionFailed", failure)
        except ExecutionAborted as exc:
            status, error, cause = "ABORTED", exc.error or None, exc.cause or None
            details = {k: v for k, v in (("error", exc.error), ("cause", exc.cause)) if v}
            recorder.add(Trace(recorder.events[-1].id), "ExecutionAborted", details)
        except ExecutionTimedOut:
            status, error = "TIMED_OUT", "States.Timeout"
            cause = "The execution ran longer than the state machine's TimeoutSeconds"
            recorder.add(
                Trace(recorder.events[-1].id), "ExecutionTimedOut", {"error": error, "cause": cause}
            )
        except Exception as exc:  # a bug in lakebox or a handler: fail, never lose it
            error, cause = "States.Runtime", f"{type(exc).__name__}: {exc}"
            recorder.add(
                Trace(recorder.events[-1].id), "ExecutionFailed", {"error": error, "cause": cause}
            )
        except BaseException:  # Ctrl-C in `lakebox workflow start`: record, then stop
            status, error, cause = "ABORTED", "Interrupted", "The lakebox process was interrupted"
            recorder.add(
                Trace(recorder.events[-1].id), "ExecutionAborted", {"error": error, "cause": cause}
            )
            raise
        finally:
            recorder.flush()
            self.store.finish_execution(
                arn,
                status,
                self.clock.now(),
                _dumps(output) if status == "SUCCEEDED" else None,
                error,
                cause,
            )
            with _ACTIVE_LOCK:
                _ACTIVE.pop(arn, None)
            self._running.pop(arn, None)
            running.ended.set()
            watcher.join()  # it reads the store: it must be gone before close() closes it
            running.done.set()

    def redrive_execution(
        self, arn: str, *, wait: bool = True, principal: Principal = LOCAL_ADMIN
    ) -> Execution:
        """RedriveExecution: rerun a FAILED, ABORTED or TIMED_OUT execution from the top-level
        state it stopped in, with that state's input and the variables assigned before it.
        The history goes on (``ExecutionRedriven``); ``$$.Execution.RedriveCount`` counts.
        A Parallel or Map state is rerun whole (AWS reruns only its unsuccessful children)."""
        _standard_only(arn)
        row = self.store.get_execution(arn)
        if row is None:
            raise ExecutionDoesNotExistError(f"Execution Does Not Exist: '{arn}'")
        if row.status not in ("FAILED", "ABORTED", "TIMED_OUT"):
            raise ExecutionNotRedrivableError(
                f"Execution is {row.status}: only FAILED, ABORTED or TIMED_OUT executions can "
                "be redriven"
            )
        definition = parse_definition(row.definition)
        top = definition["States"]
        events = self.store.events(arn)
        variables: dict[str, Any] = {}
        restart: tuple[str, Any] | None = None
        for event in events:
            details = event.details or {}
            name = details.get("name")
            if not isinstance(name, str) or name not in top:
                continue
            if event.type.endswith("StateEntered"):
                restart = (name, json.loads(details["input"]))
            elif event.type.endswith("StateExited"):
                for key, value in (details.get("assignedVariables") or {}).items():
                    variables[key] = json.loads(value)
        if restart is None:
            restart = (definition["StartAt"], json.loads(row.input or "{}"))
        if not self.store.restart_execution(arn, _owner()):
            raise ExecutionNotRedrivableError(f"Execution {arn} is being redriven already")
        machine = self.store.get_state_machine(row.state_machine_arn)
        info = ExecutionInfo(
            arn,
            row.name,
            row.state_machine_arn,
            row.state_machine_arn.rsplit(":", 1)[-1],
            self.clock.now(),
            json.loads(row.input or "{}"),
            machine.role_arn if machine else self.default_role_arn(),
            redrive_count=row.redrive_count + 1,
            principal=_principal_of(row.principal_arn),
        )
        resume = _Resume(restart[0], restart[1], variables, self.store.last_event_id(arn))
        running = _Running(None, Cancel())
        with _ACTIVE_LOCK:
            _ACTIVE[arn] = running
        self._running[arn] = running
        if wait:
            self._run(info, definition, running, resume)
        else:
            running.thread = threading.Thread(
                target=self._run,
                args=(info, definition, running, resume),
                name=f"lakebox-redrive-{row.name}",
                daemon=True,
            )
            running.thread.start()
        return self._describe(arn)

    def _watch_stop(self, arn: str, running: _Running) -> None:
        """Notice a StopExecution written by another process."""
        while not running.ended.wait(self.stop_poll_seconds):
            try:
                row = self.store.get_execution(arn)
            except Exception:  # a busy or failing store: the next poll tries again
                continue
            if row is not None and row.stop_request is not None:
                error, _, cause = row.stop_request.partition("\n")
                running.cancel.set(ExecutionAborted(error, cause))
                return

    def describe_execution(self, arn: str, *, principal: Principal = LOCAL_ADMIN) -> Execution:
        _standard_only(arn)
        return self._describe(arn)

    def _describe(self, arn: str) -> Execution:
        row = self.store.get_execution(arn)
        if row is None:
            raise ExecutionDoesNotExistError(f"Execution Does Not Exist: '{arn}'")
        return self._execution(row)

    @staticmethod
    def _execution(row: ExecutionRow) -> Execution:
        return Execution(
            row.arn,
            row.name,
            row.state_machine_arn,
            row.status,
            json.loads(row.input) if row.input is not None else None,
            json.loads(row.output) if row.output is not None else None,
            row.error,
            row.cause,
            row.start_date,
            row.stop_date,
            row.principal_arn,
            row.redrive_count,
        )

    def get_execution_history(
        self, arn: str, reverse_order: bool = False, *, principal: Principal = LOCAL_ADMIN
    ) -> list[dict[str, Any]]:
        """Events in GetExecutionHistory's shape (``id``, ``previousEventId``, ``type``,
        ``timestamp``, ``<type>EventDetails``)."""
        _standard_only(arn)
        self.describe_execution(arn)
        events = [e.to_dict() for e in self.store.events(arn)]
        return list(reversed(events)) if reverse_order else events

    def history_events(self, arn: str, *, principal: Principal = LOCAL_ADMIN) -> list[HistoryEvent]:
        self.describe_execution(arn)
        return self.store.events(arn)

    def list_executions(
        self,
        state_machine: str | None = None,
        status: str | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> list[Execution]:
        if status is not None and status not in (*STATUSES, "PENDING_REDRIVE"):
            # AWS's message; PENDING_REDRIVE is a valid filter that lakebox never matches
            # (a redrive starts at once)
            raise InvalidRequestError(
                f"1 validation error detected: Value '{status}' at 'statusFilter' failed to "
                "satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, "
                "TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]"
            )
        sm_arn = None
        if state_machine:
            machine = self._resolve_machine(state_machine)
            if machine.type == "EXPRESS":
                raise StateMachineTypeNotSupportedError(_TYPE_NOT_SUPPORTED)
            sm_arn = machine.arn
        return [
            self._execution(r)
            for r in self.store.list_executions(sm_arn, status)
            if not is_express_arn(r.arn)
        ]

    def stop_execution(
        self,
        arn: str,
        error: str | None = None,
        cause: str | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> Execution:
        _standard_only(arn)
        row = self.store.get_execution(arn)
        if row is None:
            raise ExecutionDoesNotExistError(f"Execution Does Not Exist: '{arn}'")
        if row.status != "RUNNING":
            return self.describe_execution(arn)
        with _ACTIVE_LOCK:
            running = _ACTIVE.get(arn)
        if running is not None:
            running.cancel.set(ExecutionAborted(error or "", cause or ""))
            running.done.wait(5)
        elif _owner_alive(row.owner):
            self.store.request_stop(arn, f"{error or ''}\n{cause or ''}")
        else:
            self._finish_orphan(row, "ABORTED", error, cause)
        return self.describe_execution(arn)

    def _finish_orphan(
        self, row: ExecutionRow, status: str, error: str | None, cause: str | None
    ) -> None:
        last = self.store.last_event_id(row.arn)
        event_type = "ExecutionAborted" if status == "ABORTED" else "ExecutionFailed"
        details = {k: v for k, v in (("error", error), ("cause", cause)) if v}
        if self.store.finish_execution(row.arn, status, self.clock.now(), None, error, cause):
            self.store.append_events(
                row.arn, [HistoryEvent(last + 1, last, self.clock.now(), event_type, details)]
            )

    def recover(self) -> list[str]:
        """Mark executions whose process died as FAILED, with the reason in the history, so
        none stays RUNNING forever. Returns their ARNs."""
        lost = []
        for row in self.store.list_executions(status="RUNNING"):
            if _owner_alive(row.owner):
                continue
            pid = row.owner.split(":")[1] if ":" in row.owner else "?"
            self._finish_orphan(
                row,
                "FAILED",
                "Lakebox.ProcessExited",
                f"The lakebox process running this execution (pid {pid}) exited before it "
                "finished; redrive it (`lakebox workflow redrive <arn>`) to go on from there",
            )
            lost.append(row.arn)
        return lost

    # ------------------------------------------------------------------ task tokens

    def send_task_success(
        self, token: str, output: Any, *, principal: Principal = LOCAL_ADMIN
    ) -> None:
        if isinstance(output, str):
            try:
                output = json.loads(output)
            except json.JSONDecodeError as exc:
                raise InvalidRequestError(f"Invalid output JSON: {exc.msg}") from exc
        if not self.tokens.success(token, output):
            raise TaskDoesNotExistError(f"Task Does Not Exist: no waiting task has token {token}")

    def send_task_failure(
        self, token: str, error: str = "", cause: str = "", *, principal: Principal = LOCAL_ADMIN
    ) -> None:
        if not self.tokens.failure(token, error, cause):
            raise TaskDoesNotExistError(f"Task Does Not Exist: no waiting task has token {token}")

    def send_task_heartbeat(self, token: str, *, principal: Principal = LOCAL_ADMIN) -> None:
        if not self.tokens.heartbeat(token, self.clock.now()):
            raise TaskDoesNotExistError(f"Task Does Not Exist: no waiting task has token {token}")

    # ------------------------------------------------------------------ authorization
    def authorize(self, principal: Principal, action: str, resource: str) -> None:
        """Raise AccessDenied unless ``principal`` may perform ``action`` on ``resource``:
        what a schedule's firing and a nested execution need, which no API door checks for
        them (they start executions on a principal's behalf, not at its request). The
        local administrator is not checked; anyone else is, with the lake's IAM, and is
        refused when this service was given none."""
        if principal.is_local_admin:
            return
        lake = self.services.get("lake")
        iam = getattr(lake, "iam", None) if lake is not None else None
        if iam is None:
            from lakebox.iam.errors import AccessDenied

            raise AccessDenied(
                f"User: {principal.arn} is not authorized to perform: {action} on resource: "
                f"{resource}: this workflow service has no identity service to ask",
                action,
                resource,
            )
        iam.authorize(principal, action, resource)

    # ------------------------------------------------------------------ schedules

    def _schedule(self, row: ScheduleRow) -> Schedule:
        return Schedule(
            row.name,
            lake_arn(self.config, "scheduler", f"schedule/default/{row.name}"),
            row.expression,
            row.timezone,
            row.target_arn,
            json.loads(row.input),
            row.state,
            row.flexible_window_minutes,
            row.start_date,
            row.end_date,
            row.creation_date,
            row.last_fired_slot,
            row.last_execution_arn,
            row.description,
            row.principal_arn,
        )

    def create_schedule(
        self,
        name: str,
        expression: str,
        target: str,
        input: Any = None,
        timezone: str = "UTC",
        *,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        flexible_window_minutes: int | None = None,
        enabled: bool = True,
        description: str = "",
        principal: Principal = LOCAL_ADMIN,
    ) -> Schedule:
        """A schedule that starts ``target`` (a state machine name or ARN) with ``input``,
        as ``principal``: each execution it starts runs with that principal's rights (in
        place of the role EventBridge Scheduler would assume)."""
        schedule_name(name)
        sched.parse_expression(expression)
        sched.zone(timezone)
        for label, value in (("start_date", start_date), ("end_date", end_date)):
            if value is not None and value.tzinfo is None:
                raise InvalidRequestError(f"{label} must be timezone-aware")
        sched.check_window(expression, start_date, end_date, self.clock.now())
        machine = self._resolve_machine(target)
        if flexible_window_minutes is not None and not 1 <= flexible_window_minutes <= 1440:
            raise InvalidRequestError("flexible_window_minutes must be between 1 and 1440")
        row = ScheduleRow(
            name,
            expression.strip(),
            timezone,
            machine.arn,
            _dumps(input if input is not None else {}),
            "ENABLED" if enabled else "DISABLED",
            flexible_window_minutes,
            start_date,
            end_date,
            self.clock.now(),
            None,
            None,
            description,
            principal.arn,
        )
        if not self.store.insert_schedule(row):
            raise AlreadyExistsError(f"Schedule {name} already exists")
        return self._schedule(row)

    def get_schedule(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> Schedule:
        row = self.store.get_schedule(name)
        if row is None:
            raise ScheduleDoesNotExistError(f"Schedule {name} does not exist")
        return self._schedule(row)

    def list_schedules(self, *, principal: Principal = LOCAL_ADMIN) -> list[Schedule]:
        return [self._schedule(r) for r in self.store.list_schedules()]

    def update_schedule(
        self,
        name: str,
        *,
        expression: str | None = None,
        input: Any = None,
        timezone: str | None = None,
        enabled: bool | None = None,
        principal: Principal = LOCAL_ADMIN,
    ) -> Schedule:
        """Change a schedule; a new expression or zone starts counting slots from now. As
        Scheduler's UpdateSchedule passes the schedule its role anew, the schedule runs as
        ``principal`` from now on."""
        row = self.store.get_schedule(name)
        if row is None:
            raise ScheduleDoesNotExistError(f"Schedule {name} does not exist")
        if expression is not None:
            sched.parse_expression(expression)
        if timezone is not None:
            sched.zone(timezone)
        reslot = expression is not None or timezone is not None
        self.store.update_schedule(
            name,
            expression=expression.strip() if expression is not None else row.expression,
            timezone=timezone or row.timezone,
            input=_dumps(input) if input is not None else row.input,
            state=row.state if enabled is None else ("ENABLED" if enabled else "DISABLED"),
            last_fired_slot=self.clock.now() if reslot else row.last_fired_slot,
            principal_arn=principal.arn,
        )
        return self.get_schedule(name)

    def delete_schedule(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> None:
        if not self.store.delete_schedule(name):
            raise ScheduleDoesNotExistError(f"Schedule {name} does not exist")

    def next_fire_times(
        self,
        name: str,
        count: int = 5,
        after: datetime | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> list[datetime]:
        s = self.get_schedule(name)
        expr = sched.parse_expression(s.expression)
        start_date, end_date = sched.window(expr, s.start_date, s.end_date)
        anchor = start_date or s.creation_date
        just_before = timedelta(microseconds=1)
        start = after or max(
            self.clock.now() - just_before, s.last_fired_slot or anchor - just_before
        )
        times = sched.fire_times(expr, start, count, sched.zone(s.timezone), anchor)
        return [t for t in times if end_date is None or t <= end_date]

    def run_due(
        self, now: datetime | None = None, *, wait: bool = True, principal: Principal = LOCAL_ADMIN
    ) -> list[Firing]:
        """Fire every schedule with a slot due at ``now``.

        Missed-slot policy: when several slots passed since the last run, only the newest
        fires, and only if it is at most ``max(15 minutes, flexible window)`` old; older
        slots are skipped (reported in ``Firing.skipped``). The slot is claimed in the store
        before the execution starts, so it never fires twice across restarts or
        concurrent schedulers. ``wait=False`` starts executions on background threads.

        The input may use EventBridge Scheduler's context attributes
        ``<aws.scheduler.scheduled-time>``, ``<aws.scheduler.schedule-arn>``,
        ``<aws.scheduler.execution-id>`` and ``<aws.scheduler.attempt-number>``.

        Each schedule's execution runs as the schedule's principal (who made or last
        changed it), which must be allowed ``states:StartExecution`` on the target; the
        caller of ``run_due`` (``principal``) only makes the clock tick."""
        now = now or self.clock.now()
        fired: list[Firing] = []
        for row in self.store.list_schedules():
            if row.state != "ENABLED":
                continue
            firing = self._run_schedule(row, now, wait)
            if firing is not None:
                fired.append(firing)
        return fired

    def _run_schedule(self, row: ScheduleRow, now: datetime, wait: bool) -> Firing | None:
        expr = sched.parse_expression(row.expression)
        tz = sched.zone(row.timezone)
        start_date, end_date = sched.window(expr, row.start_date, row.end_date)
        anchor = start_date or row.creation_date
        window = DEFAULT_MISSED_WINDOW
        if row.flexible_window_minutes:
            window = max(window, timedelta(minutes=row.flexible_window_minutes))
        floor = row.last_fired_slot or (anchor - timedelta(microseconds=1))
        if start_date is not None:
            floor = max(floor, start_date - timedelta(microseconds=1))
        due: list[datetime] = []
        cursor = floor
        while True:
            nxt = sched.next_fire(expr, cursor, tz, anchor)
            if nxt is None or nxt > now or (end_date is not None and nxt > end_date):
                break
            due.append(nxt)
            cursor = nxt
            if len(due) > 100_000:
                break
        if not due:
            return None
        slot = due[-1]
        if not self.store.claim_slot(row.name, row.last_fired_slot, slot):
            return None
        skipped = len(due) - 1
        if now - slot > window:
            return Firing(
                row.name, slot, None, skipped + 1, "missed: older than the missed-slot window"
            )
        name = f"{row.name}-{slot.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"[:80]
        try:
            text = row.input
            for attribute, value in (
                ("scheduled-time", slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
                ("schedule-arn", self._schedule(row).arn),
                ("execution-id", name),
                ("attempt-number", "1"),
            ):
                text = text.replace(f"<aws.scheduler.{attribute}>", value)
            # as the schedule's principal, who must be allowed to start the target
            runs_as = _principal_of(row.principal_arn)
            self.authorize(runs_as, "states:StartExecution", row.target_arn)
            execution = self.start_execution(
                row.target_arn, json.loads(text), name, wait=wait, principal=runs_as
            )
        except Exception as exc:  # the slot is spent either way; report why it did not run
            return Firing(row.name, slot, None, skipped, f"{type(exc).__name__}: {exc}")
        self.store.set_last_execution(row.name, execution.arn)
        return Firing(row.name, slot, execution.arn, skipped)

    def next_due(self) -> datetime | None:
        """The earliest upcoming slot of any enabled schedule."""
        upcoming = [
            t
            for s in self.list_schedules()
            if s.state == "ENABLED"
            for t in self.next_fire_times(s.name, 1)
        ]
        return min(upcoming, default=None)

    def run_scheduler(
        self,
        stop: threading.Event,
        poll_seconds: float = 30.0,
        max_rounds: int | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> list[Firing]:
        """Fire schedules until ``stop`` is set (``lakebox schedule run --loop``): sleep until
        the next slot (at most ``poll_seconds``, so new schedules are seen), fire, repeat.
        Executions run on background threads so a long one does not delay other slots."""
        fired: list[Firing] = []
        rounds = 0
        while not stop.is_set() and (max_rounds is None or rounds < max_rounds):
            rounds += 1
            fired.extend(self.run_due(wait=max_rounds is not None, principal=principal))
            nxt = self.next_due()
            delay = poll_seconds
            if nxt is not None:
                delay = min(poll_seconds, max(0.0, (nxt - self.clock.now()).total_seconds()))
            self.clock.sleep(delay, stop)
        return fired


def utc(text: str) -> datetime:
    """Parse an ISO timestamp; naive values are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
