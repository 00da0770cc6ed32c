"""The ASL interpreter: runs a validated state machine definition over a JSON input.

One ``Interpreter`` runs one execution. States run in the order the definition says;
Parallel branches and Map iterations run on worker threads, each with its own event trace
and variable scope. Time only comes from the injected clock, so Wait and Retry cost
nothing in tests.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lakebox.workflows.asl import choice, intrinsics, item_reader, jsonata_mode, paths
from lakebox.workflows.clock import Clock
from lakebox.workflows.errors import StatesError
from lakebox.workflows.history import HistoryRecorder, Trace
from lakebox.workflows.tasks.registry import (
    IntegrationPattern,
    ResourceRegistry,
    TaskContext,
    lake_region,
)

if TYPE_CHECKING:
    from lakebox.config import LakeConfig
    from lakebox.principal import Principal

JSONPATH = "JSONPath"
JSONATA = "JSONata"
DEFAULT_TASK_TIMEOUT = 99999999
#: Errors no retrier or catcher can handle. States.DataLimitExceeded is terminal too when a
#: state's own output is too large (that check runs after Catch), but AWS's recorded
#: executions show a Task's oversized result caught like any other task error.
TERMINAL_ERRORS = frozenset({"States.Runtime"})
#: Errors whose cause AWS prefixes with the state they happened in (StatesError.locate).
LOCATED_ERRORS = frozenset({"States.Runtime", "States.QueryEvaluationError"})
INLINE_MAP_CONCURRENCY_CAP = 40
#: AWS's quota for a state's input, output or a task result: 256 KiB as UTF-8 JSON text.
PAYLOAD_LIMIT_BYTES = 256 * 1024
#: The longest wait AWS accepts: its delay is a signed 32-bit number of seconds (recorded
#: executions: 24855 days ahead waits, 24856 days fails with "Wait state delay is too long.").
MAX_WAIT_SECONDS = 2**31 - 1


class ExecutionAborted(Exception):
    """The execution was stopped from outside (StopExecution)."""

    def __init__(self, error: str = "", cause: str = "") -> None:
        super().__init__(cause or "aborted")
        self.error = error
        self.cause = cause


class ExecutionTimedOut(Exception):
    """The state machine's top-level TimeoutSeconds passed."""


class _BranchCancelled(Exception):
    """A sibling branch or iteration failed; this one stops quietly."""


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _raw(value: Any) -> str:
    """A value as AWS quotes it in a cause: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else _dump(value)


def _too_large(text: str) -> bool:
    # a UTF-8 character is at most 4 bytes: skip encoding the common small payloads
    return len(text) * 4 > PAYLOAD_LIMIT_BYTES and len(text.encode()) > PAYLOAD_LIMIT_BYTES


def _data_limit(who: str) -> StatesError:
    return StatesError(
        "States.DataLimitExceeded",
        f"The state/task '{who}' returned a result with a size exceeding the maximum number "
        "of bytes service limit.",
    )


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _integer_value(value: Any) -> int | None:
    """An integer read through a ``*Path`` field: a JSON integer or a string of digits."""
    if _is_integer(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Cancel:
    """A cancellation flag that also cancels every child made from it."""

    def __init__(self, parent: Cancel | None = None) -> None:
        self.event = threading.Event()
        self.reason: BaseException | None = None
        self._children: list[Cancel] = []
        self._lock = threading.Lock()
        if parent is not None:
            with parent._lock:
                parent._children.append(self)
            if parent.event.is_set():
                self.set(parent.reason)

    def set(self, reason: BaseException | None = None) -> None:
        with self._lock:
            if not self.event.is_set():
                self.reason = reason
                self.event.set()
            children = list(self._children)
        for child in children:
            child.set(reason)

    def is_set(self) -> bool:
        return self.event.is_set()

    def raise_if_set(self) -> None:
        """Raise why this was cancelled: the execution's abort / timeout, or a sibling's
        failure."""
        if self.event.is_set():
            if isinstance(self.reason, ExecutionAborted | ExecutionTimedOut):
                raise self.reason
            raise _BranchCancelled()


class Scope:
    """Workflow variables. Branches and iterations read outer variables and write their own."""

    def __init__(self, parent: Scope | None = None) -> None:
        self.parent = parent
        self.values: dict[str, Any] = {}
        #: What the current state assigned (history's ``assignedVariables``, redrive replay).
        self.recent: dict[str, Any] = {}

    def flat(self) -> dict[str, Any]:
        if self.parent is None:
            return self.values
        return {**self.parent.flat(), **self.values}

    def assign(self, values: dict[str, Any]) -> None:
        self.values.update(values)
        self.recent.update(values)


@dataclass
class ExecutionInfo:
    arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    start_time: datetime
    input: Any
    role_arn: str = "arn:aws:iam::000000000000:role/lakebox"
    redrive_count: int = 0
    #: who started the execution: its tasks call services as this principal
    principal: Principal | None = None


@dataclass
class _Frame:
    """Where a sequence of states runs: its event thread, variables and cancellation."""

    trace: Trace
    scope: Scope
    cancel: Cancel
    recorder: HistoryRecorder
    language: str
    map_item: dict[str, Any] | None = None
    #: the state running in this frame and the id of its StateEntered event
    state: tuple[str, int] = ("", 0)


@dataclass
class _TokenWait:
    done: threading.Event = field(default_factory=threading.Event)
    output: Any = None
    error: StatesError | None = None
    heartbeat: datetime | None = None


class TokenBroker:
    """Task tokens of ``.waitForTaskToken`` tasks waiting for SendTaskSuccess / Failure."""

    def __init__(self) -> None:
        self._waits: dict[str, _TokenWait] = {}
        self._lock = threading.Lock()

    def open(self, token: str) -> None:
        with self._lock:
            self._waits[token] = _TokenWait()

    def close(self, token: str) -> None:
        with self._lock:
            self._waits.pop(token, None)

    def _get(self, token: str) -> _TokenWait | None:
        with self._lock:
            return self._waits.get(token)

    def success(self, token: str, output: Any) -> bool:
        w = self._get(token)
        if w is None or w.done.is_set():
            return False
        w.output = output
        w.done.set()
        return True

    def failure(self, token: str, error: str, cause: str) -> bool:
        w = self._get(token)
        if w is None or w.done.is_set():
            return False
        w.error = StatesError(error or "", cause or "")
        w.done.set()
        return True

    def heartbeat(self, token: str, when: datetime) -> bool:
        w = self._get(token)
        if w is None:
            return False
        w.heartbeat = when
        return True

    def poll(self, token: str, waiting: _TokenWait) -> None:
        """Look for an answer that arrived some other way (another process); no-op here."""

    def wait(
        self,
        token: str,
        clock: Clock,
        cancel: Cancel,
        timeout: float | None,
        heartbeat: float | None,
    ) -> Any:
        w = self._get(token)
        assert w is not None
        start = clock.now()
        rounds = 0
        while not w.done.wait(0.02):
            cancel.raise_if_set()
            rounds += 1
            if rounds % 10 == 0:
                self.poll(token, w)
                if w.done.is_set():
                    break
            now = clock.now()
            if timeout is not None and (now - start).total_seconds() > timeout:
                raise StatesError("States.Timeout")  # AWS gives a timeout no cause
            last = w.heartbeat or start
            if heartbeat is not None and (now - last).total_seconds() > heartbeat:
                raise StatesError("States.HeartbeatTimeout")
        if w.error is not None:
            raise w.error
        return w.output


def error_matches(names: list[str], error: str) -> bool:
    """Whether a retrier's / catcher's ErrorEquals covers ``error``."""
    if error in TERMINAL_ERRORS:
        return False
    timeout = error in ("States.Timeout", "States.HeartbeatTimeout")
    for name in names:
        if name == error or name == "States.ALL":
            return True
        if name == "States.Timeout" and timeout:
            return True  # AWS: States.Timeout covers a missed heartbeat too
        if name == "States.TaskFailed" and not timeout:
            return True
    return False


def _resource_parts(resource: str) -> tuple[str, str]:
    """History's resourceType / resource: ``arn:aws:states:::ecs:runTask.sync`` -> (ecs,
    runTask.sync); a Lambda function ARN -> (lambda, function name)."""
    if resource.startswith("arn:aws:states:::"):
        rest = resource[len("arn:aws:states:::") :]
        if rest.startswith("aws-sdk:"):
            service, _, action = rest[len("aws-sdk:") :].partition(":")
            return f"aws-sdk:{service}", action
        kind, _, action = rest.partition(":")
        return kind, action
    parts = resource.split(":")
    return (parts[2] if len(parts) > 2 else "unknown"), parts[-1]


class Interpreter:
    """Runs one execution of ``definition``."""

    def __init__(
        self,
        definition: dict[str, Any],
        info: ExecutionInfo,
        registry: ResourceRegistry,
        clock: Clock,
        recorder: HistoryRecorder,
        cancel: Cancel | None = None,
        tokens: TokenBroker | None = None,
        config: LakeConfig | None = None,
        services: Mapping[str, Any] | None = None,
        map_pool_cap: int = INLINE_MAP_CONCURRENCY_CAP,
    ) -> None:
        self.definition = definition
        self.info = info
        self.registry = registry
        self.clock = clock
        self.recorder = recorder
        self.cancel = cancel or Cancel()
        self.tokens = tokens or TokenBroker()
        self.config = config
        self.services: Mapping[str, Any] = services or {}
        self.map_pool_cap = map_pool_cap
        self.deadline: datetime | None = None
        timeout = definition.get("TimeoutSeconds")
        if isinstance(timeout, int | float) and not isinstance(timeout, bool):
            self.deadline = info.start_time + timedelta(seconds=timeout)
        self._context_base: dict[str, Any] = {
            "Execution": {
                "Id": info.arn,
                "Input": info.input,
                "StartTime": _iso(info.start_time),
                "Name": info.name,
                "RoleArn": info.role_arn,
                "RedriveCount": info.redrive_count,
            },
            "StateMachine": {"Id": info.state_machine_arn, "Name": info.state_machine_name},
        }

    # ------------------------------------------------------------------ entry point

    def run(
        self,
        start_at: str | None = None,
        value: Any = None,
        variables: dict[str, Any] | None = None,
        last_event_id: int | None = None,
    ) -> Any:
        """Output of the execution; raises StatesError, ExecutionAborted or
        ExecutionTimedOut. History events for the outcome are the caller's to write.
        ``start_at`` / ``value`` / ``variables`` resume a run at a top-level state (redrive)."""
        language = self.definition.get("QueryLanguage", JSONPATH)
        if last_event_id is None:
            last_event_id = self.recorder.events[-1].id if self.recorder.events else 0
        scope = Scope()
        scope.values.update(variables or {})
        frame = _Frame(Trace(last_event_id), scope, self.cancel, self.recorder, language)
        try:
            return self._run_states(
                self.definition, self.info.input if start_at is None else value, frame, start_at
            )
        finally:
            self.recorder.flush()

    # ------------------------------------------------------------------ helpers

    def _check(self, frame: _Frame) -> None:
        frame.cancel.raise_if_set()
        if self.deadline is not None and self.clock.now() >= self.deadline:
            timed_out = ExecutionTimedOut()
            self.cancel.set(timed_out)
            raise timed_out

    def _sleep(self, seconds: float, frame: _Frame) -> None:
        if self.deadline is not None:
            left = (self.deadline - self.clock.now()).total_seconds()
            if seconds > left:
                self.clock.sleep(max(left, 0), frame.cancel.event)
                self._check(frame)
        if seconds > 0 and not self.clock.sleep(seconds, frame.cancel.event):
            self._check(frame)
        self._check(frame)

    def _context(
        self,
        name: str,
        entered: datetime,
        frame: _Frame,
        retry: int | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """The context object (``$$``). ``State.RetryCount`` exists only in the states that
        can retry (Task, Parallel, Map), as AWS shows it."""
        ctx = dict(self._context_base)
        state: dict[str, Any] = {"Name": name, "EnteredTime": _iso(entered)}
        if retry is not None:
            state["RetryCount"] = retry
        ctx["State"] = state
        if token is not None:
            ctx["Task"] = {"Token": token}
        if frame.map_item is not None:
            ctx["Map"] = {"Item": frame.map_item}
        return ctx

    @staticmethod
    def _language(state: dict[str, Any], frame: _Frame) -> str:
        return str(state.get("QueryLanguage", frame.language))

    # JSONPath processing --------------------------------------------------------

    def _path(self, path: Any, data: Any, ctx: Any, frame: _Frame) -> Any:
        if path is None:
            return {}
        variables = frame.scope.flat()
        try:
            return paths.evaluate(path, data, ctx, variables)
        except paths.PathNotFound as exc:
            reason = paths.not_found_reason(path, data, ctx, variables)
            raise StatesError("States.Runtime", f"Invalid path '{path}' : {reason}") from exc

    def payload(
        self, template: Any, data: Any, ctx: Any, variables: dict[str, Any], field_name: str
    ) -> Any:
        """Parameters / ResultSelector / ItemSelector / Assign: ``"key.$"`` values are paths or
        intrinsic functions; everything else is copied."""
        if isinstance(template, dict):
            out: dict[str, Any] = {}
            for key, value in template.items():
                if key.endswith(".$") and isinstance(value, str):
                    out[key[:-2]] = self._dynamic(value, data, ctx, variables, key, field_name)
                else:
                    out[key] = self.payload(value, data, ctx, variables, field_name)
            return out
        if isinstance(template, list):
            return [self.payload(v, data, ctx, variables, field_name) for v in template]
        return template

    @staticmethod
    def _dynamic(
        value: str, data: Any, ctx: Any, variables: dict[str, Any], key: str, field_name: str
    ) -> Any:
        if intrinsics.is_intrinsic(value):
            return intrinsics.evaluate(value, data, ctx, variables)
        try:
            return paths.evaluate(value, data, ctx, variables)
        except paths.PathNotFound as exc:
            raise StatesError(
                "States.Runtime",
                f"The JSONPath '{value}' specified for the field '{key}' could not be found in "
                f"the input '{_dump(data)}'",
            ) from exc

    def _assign_jsonpath(
        self, state: dict[str, Any], result: Any, ctx: Any, frame: _Frame
    ) -> dict[str, Any]:
        """A JSONPath state's Assign values. The caller applies them after ResultPath and
        OutputPath, which still see the variables from before the state (AWS's order)."""
        if "Assign" not in state:
            return {}
        values: dict[str, Any] = self.payload(
            state["Assign"], result, ctx, frame.scope.flat(), "Assign"
        )
        return values

    def _locate(self, exc: StatesError, frame: _Frame) -> None:
        if exc.error in LOCATED_ERRORS:
            exc.locate(*frame.state)

    @staticmethod
    def _states_var(state_input: Any, ctx: Any, **extra: Any) -> dict[str, Any]:
        return {"input": state_input, "context": ctx, **extra}

    def _ata(self, value: Any, states: dict[str, Any], frame: _Frame, field_name: str) -> Any:
        return jsonata_mode.evaluate_template(value, states, frame.scope.flat(), field_name)

    # ------------------------------------------------------------------ state loop

    def _run_states(
        self, machine: dict[str, Any], value: Any, frame: _Frame, start: str | None = None
    ) -> Any:
        states: dict[str, Any] = machine["States"]
        name: str = start or machine["StartAt"]
        while True:
            self._check(frame)
            state = states[name]
            kind = state["Type"]
            entered = self.clock.now()
            entered_id = frame.recorder.add(
                frame.trace,
                f"{kind}StateEntered",
                {"name": name, "input": _dump(value), "inputDetails": {"truncated": False}},
            )
            frame.state = (name, entered_id)
            handler = _HANDLERS[kind]
            frame.scope.recent = {}
            try:
                output, nxt = handler(self, name, state, value, entered, frame)
            except (ExecutionAborted, ExecutionTimedOut):
                if kind in ("Task", "Wait", "Parallel", "Map"):
                    frame.recorder.add(frame.trace, f"{kind}StateAborted")
                raise
            except StatesError as exc:
                self._locate(exc, frame)
                raise
            if kind == "Fail":
                raise AssertionError("Fail states always raise")
            text = _dump(output)
            if _too_large(text):
                too_large = _data_limit(name)
                too_large.terminal = True  # checked after Catch: nothing in this run handles it
                raise too_large
            exited: dict[str, Any] = {
                "name": name,
                "output": text,
                "outputDetails": {"truncated": False},
            }
            if frame.scope.recent:
                exited["assignedVariables"] = {k: _dump(v) for k, v in frame.scope.recent.items()}
                exited["assignedVariablesDetails"] = {"truncated": False}
            frame.recorder.add(frame.trace, f"{kind}StateExited", exited)
            if nxt is None:
                return output
            name, value = nxt, output

    @staticmethod
    def _next(state: dict[str, Any]) -> str | None:
        return None if state.get("End") else state.get("Next")

    # ------------------------------------------------------------------ simple states

    def _pass(
        self, name: str, state: dict[str, Any], raw: Any, entered: datetime, frame: _Frame
    ) -> tuple[Any, str | None]:
        ctx = self._context(name, entered, frame)
        if self._language(state, frame) == JSONATA:
            sv = self._states_var(raw, ctx)
            output = self._ata(state["Output"], sv, frame, "Output") if "Output" in state else raw
            if "Assign" in state:
                frame.scope.assign(self._ata(state["Assign"], sv, frame, "Assign"))
            return output, self._next(state)
        effective = self._path(state.get("InputPath", "$"), raw, ctx, frame)
        if "Parameters" in state:
            effective = self.payload(
                state["Parameters"], effective, ctx, frame.scope.flat(), "Parameters"
            )
        result = state.get("Result", effective)
        assigned = self._assign_jsonpath(state, result, ctx, frame)
        output = self._result_and_output(state, raw, result, ctx, frame)
        frame.scope.assign(assigned)
        return output, self._next(state)

    def _result_and_output(
        self, state: dict[str, Any], raw: Any, result: Any, ctx: Any, frame: _Frame
    ) -> Any:
        result_path = state.get("ResultPath", "$")
        combined = raw if result_path is None else paths.set_path(raw, result_path, result)
        return self._path(state.get("OutputPath", "$"), combined, ctx, frame)

    def _succeed(
        self, name: str, state: dict[str, Any], raw: Any, entered: datetime, frame: _Frame
    ) -> tuple[Any, str | None]:
        ctx = self._context(name, entered, frame)
        if self._language(state, frame) == JSONATA:
            sv = self._states_var(raw, ctx)
            return (
                self._ata(state["Output"], sv, frame, "Output") if "Output" in state else raw
            ), None
        effective = self._path(state.get("InputPath", "$"), raw, ctx, frame)
        return self._path(state.get("OutputPath", "$"), effective, ctx, frame), None

    def _fail(
        self, name: str, state: dict[str, Any], raw: Any, entered: datetime, frame: _Frame
    ) -> tuple[Any, str | None]:
        ctx = self._context(name, entered, frame)
        if self._language(state, frame) == JSONATA:
            sv = self._states_var(raw, ctx)
            error = self._ata(state.get("Error", ""), sv, frame, "Error")
            cause = self._ata(state.get("Cause", ""), sv, frame, "Cause")
        else:
            error = self._fail_field(state, "Error", raw, ctx, frame)
            cause = self._fail_field(state, "Cause", raw, ctx, frame)
        raise StatesError(
            str(error) if error is not None else "", str(cause) if cause is not None else ""
        )

    def _fail_field(
        self, state: dict[str, Any], key: str, raw: Any, ctx: Any, frame: _Frame
    ) -> Any:
        if key in state:
            return state[key]
        path = state.get(key + "Path")
        if path is None:
            return ""
        value = self._dynamic(path, raw, ctx, frame.scope.flat(), key + "Path", "Fail state")
        if not isinstance(value, str):
            raise StatesError(
                "States.Runtime", f"{key}Path must resolve to a string, got {_dump(value)}"
            )
        return value

    def _choice(
        self, name: str, state: dict[str, Any], raw: Any, entered: datetime, frame: _Frame
    ) -> tuple[Any, str | None]:
        ctx = self._context(name, entered, frame)
        if self._language(state, frame) == JSONATA:
            sv = self._states_var(raw, ctx)
            for rule in state.get("Choices", []):
                if self._condition(rule["Condition"], sv, frame):
                    return self._choice_exit(state, rule, raw, sv, frame), rule["Next"]
            if "Default" in state:
                return self._choice_exit(state, None, raw, sv, frame), state["Default"]
            raise StatesError("States.NoChoiceMatched", f"No Matches! for input {_dump(raw)}")
        effective = self._path(state.get("InputPath", "$"), raw, ctx, frame)
        variables = frame.scope.flat()
        target: str | None = None
        chosen: dict[str, Any] | None = None
        for rule in state.get("Choices", []):
            if choice.evaluate_rule(rule, effective, ctx, variables):
                target, chosen = rule["Next"], rule
                break
        if target is None:
            if "Default" not in state:
                raise StatesError(
                    "States.NoChoiceMatched", f"No Matches! for input {_dump(effective)}"
                )
            target = state["Default"]
        assigned: dict[str, Any] = {}
        for source in (state, chosen or {}):
            if "Assign" in source:
                assigned.update(self.payload(source["Assign"], effective, ctx, variables, "Assign"))
        output = self._path(state.get("OutputPath", "$"), effective, ctx, frame)
        frame.scope.assign(assigned)
        return output, target

    def _condition(self, condition: Any, sv: dict[str, Any], frame: _Frame) -> bool:
        value = self._ata(condition, sv, frame, "Condition")
        if not isinstance(value, bool):
            raise StatesError(
                "States.QueryEvaluationError",
                f"Condition {condition!r} must evaluate to a boolean, got {_dump(value)}",
            )
        return value

    def _choice_exit(
        self,
        state: dict[str, Any],
        rule: dict[str, Any] | None,
        raw: Any,
        sv: dict[str, Any],
        frame: _Frame,
    ) -> Any:
        """A matched rule's Output wins over the state's; both Assign blocks apply."""
        output = raw
        if rule is not None and "Output" in rule:
            output = self._ata(rule["Output"], sv, frame, "Output")
        elif "Output" in state:
            output = self._ata(state["Output"], sv, frame, "Output")
        assigned: dict[str, Any] = {}
        if "Assign" in state:
            assigned.update(self._ata(state["Assign"], sv, frame, "Assign"))
        if rule is not None and "Assign" in rule:
            assigned.update(self._ata(rule["Assign"], sv, frame, "Assign"))
        frame.scope.assign(assigned)
        return output

    def _wait(
        self, name: str, state: dict[str, Any], raw: Any, entered: datetime, frame: _Frame
    ) -> tuple[Any, str | None]:
        ctx = self._context(name, entered, frame)
        if self._language(state, frame) == JSONATA:
            sv = self._states_var(raw, ctx)
            effective = raw
            if "Seconds" in state:
                seconds = self._ata(state["Seconds"], sv, frame, "Seconds")
                if not _is_integer(seconds) or seconds < 0:
                    raise StatesError(
                        "States.QueryEvaluationError",
                        f"The Seconds field must be a non-negative integer, got {_dump(seconds)}",
                    )
                delay = float(seconds)
            else:
                timestamp = self._ata(state.get("Timestamp"), sv, frame, "Timestamp")
                when = choice.parse_timestamp(timestamp)
                if when is None:
                    raise StatesError(
                        "States.QueryEvaluationError",
                        "The Timestamp field cannot be parsed as an ISO-8601 extended offset "
                        f"date-time format string: {_raw(timestamp)}",
                    )
                delay = max(0.0, (when - self.clock.now()).total_seconds())
        else:
            effective = self._path(state.get("InputPath", "$"), raw, ctx, frame)
            delay = self._wait_delay(state, effective, ctx, frame)
        if delay > MAX_WAIT_SECONDS:
            raise StatesError("States.Runtime", "Wait state delay is too long.")
        self.recorder.flush()
        self._sleep(delay, frame)
        if self._language(state, frame) == JSONATA:
            sv = self._states_var(raw, ctx)
            output = self._ata(state["Output"], sv, frame, "Output") if "Output" in state else raw
            if "Assign" in state:
                frame.scope.assign(self._ata(state["Assign"], sv, frame, "Assign"))
            return output, self._next(state)
        assigned = self._assign_jsonpath(state, effective, ctx, frame)
        output = self._path(state.get("OutputPath", "$"), effective, ctx, frame)
        frame.scope.assign(assigned)
        return output, self._next(state)

    def _wait_delay(self, state: dict[str, Any], effective: Any, ctx: Any, frame: _Frame) -> float:
        """Seconds a JSONPath Wait state waits; a bad value behind SecondsPath or
        TimestampPath fails with States.Runtime, worded as AWS words it."""
        if "Seconds" in state:
            return float(state["Seconds"])
        if "Timestamp" in state:
            when = choice.parse_timestamp(state["Timestamp"])
            assert when is not None  # validated
            return max(0.0, (when - self.clock.now()).total_seconds())
        variables = frame.scope.flat()

        def value(field: str) -> tuple[str, Any]:
            path = state[field]
            try:
                return path, paths.evaluate(path, effective, ctx, variables)
            except paths.PathNotFound as exc:
                raise StatesError(
                    "States.Runtime",
                    f"The {field} parameter does not reference an input value: {path}",
                ) from exc

        if "SecondsPath" in state:
            path, seconds = value("SecondsPath")
            if not _is_integer(seconds):
                raise StatesError(
                    "States.Runtime",
                    "The SecondsPath parameter cannot be parsed as a long value: "
                    f"{path} == {_raw(seconds)}",
                )
            if seconds < 0:
                raise StatesError(
                    "States.Runtime",
                    f"The SecondsPath parameter references a negative value: {path} == {seconds}",
                )
            return float(seconds)
        path, timestamp = value("TimestampPath")
        when = choice.parse_timestamp(timestamp)
        if when is None:
            raise StatesError(
                "States.Runtime",
                "The TimestampPath parameter does not reference a valid ISO-8601 extended "
                f"offset date-time format string: {path} == {_raw(timestamp)}",
            )
        return max(0.0, (when - self.clock.now()).total_seconds())

    # ------------------------------------------------------------------ retry / catch

    def _with_retry(
        self,
        name: str,
        state: dict[str, Any],
        raw: Any,
        entered: datetime,
        frame: _Frame,
        body: Callable[[int], tuple[Any, str | None]],
    ) -> tuple[Any, str | None]:
        """Run ``body(retry_count)`` under the state's Retry and Catch rules."""
        retriers: list[dict[str, Any]] = state.get("Retry", [])
        attempts = [0] * len(retriers)
        retry_count = 0
        while True:
            try:
                return body(retry_count)
            except StatesError as exc:
                self._locate(exc, frame)
                self._check(frame)
                if exc.terminal:
                    raise
                index = next(
                    (
                        i
                        for i, r in enumerate(retriers)
                        if error_matches(r.get("ErrorEquals", []), exc.error)
                    ),
                    None,
                )
                if index is not None:
                    retrier = retriers[index]
                    if attempts[index] < int(retrier.get("MaxAttempts", 3)):
                        delay = self._retry_delay(retrier, attempts[index])
                        attempts[index] += 1
                        retry_count += 1
                        self.recorder.flush()
                        self._sleep(delay, frame)
                        continue
                return self._catch(name, state, raw, entered, frame, exc)

    @staticmethod
    def _retry_delay(retrier: dict[str, Any], attempt: int) -> float:
        interval = float(retrier.get("IntervalSeconds", 1))
        rate = float(retrier.get("BackoffRate", 2.0))
        delay = interval * rate**attempt
        if "MaxDelaySeconds" in retrier:
            delay = min(delay, float(retrier["MaxDelaySeconds"]))
        if retrier.get("JitterStrategy", "NONE") == "FULL":
            delay = random.uniform(0, delay)
        return delay

    def _catch(
        self,
        name: str,
        state: dict[str, Any],
        raw: Any,
        entered: datetime,
        frame: _Frame,
        exc: StatesError,
    ) -> tuple[Any, str | None]:
        for catcher in state.get("Catch", []):
            if not error_matches(catcher.get("ErrorEquals", []), exc.error):
                continue
            error_output = {"Error": exc.error, "Cause": exc.cause}
            ctx = self._context(name, entered, frame)
            if self._language(state, frame) == JSONATA:
                sv = self._states_var(raw, ctx, errorOutput=error_output)
                output = (
                    self._ata(catcher["Output"], sv, frame, "Output")
                    if "Output" in catcher
                    else error_output
                )
                if "Assign" in catcher:
                    frame.scope.assign(self._ata(catcher["Assign"], sv, frame, "Assign"))
                return output, catcher["Next"]
            if "Assign" in catcher:
                frame.scope.assign(
                    self.payload(catcher["Assign"], error_output, ctx, frame.scope.flat(), "Assign")
                )
            result_path = catcher.get("ResultPath", "$")
            output = raw if result_path is None else paths.set_path(raw, result_path, error_output)
            return output, catcher["Next"]
        raise exc

    # ------------------------------------------------------------------ Task

    def _task(
        self, name: str, state: dict[str, Any], raw: Any, entered: datetime, frame: _Frame
    ) -> tuple[Any, str | None]:
        def attempt(retry_count: int) -> tuple[Any, str | None]:
            return self._task_attempt(name, state, raw, entered, frame, retry_count)

        return self._with_retry(name, state, raw, entered, frame, attempt)

    def _task_attempt(
        self,
        name: str,
        state: dict[str, Any],
        raw: Any,
        entered: datetime,
        frame: _Frame,
        retry_count: int,
    ) -> tuple[Any, str | None]:
        resource: str = state["Resource"]
        jsonata = self._language(state, frame) == JSONATA
        found = self.registry.find(resource)
        if found is None:
            raise StatesError("States.Runtime", f"No handler is registered for {resource}")
        entry, pattern = found
        token = str(uuid.uuid4()) if pattern is IntegrationPattern.WAIT_FOR_TASK_TOKEN else None
        ctx = self._context(name, entered, frame, retry_count, token)
        if jsonata:
            sv = self._states_var(raw, ctx)
            params = (
                self._ata(state["Arguments"], sv, frame, "Arguments")
                if "Arguments" in state
                else raw
            )
            timeout = self._ata(state.get("TimeoutSeconds"), sv, frame, "TimeoutSeconds")
            heartbeat = self._ata(state.get("HeartbeatSeconds"), sv, frame, "HeartbeatSeconds")
        else:
            effective = self._path(state.get("InputPath", "$"), raw, ctx, frame)
            params = (
                self.payload(state["Parameters"], effective, ctx, frame.scope.flat(), "Parameters")
                if "Parameters" in state
                else effective
            )
            timeout = state.get("TimeoutSeconds")
            heartbeat = state.get("HeartbeatSeconds")
            if "TimeoutSecondsPath" in state:
                timeout = self._positive_path(state, "TimeoutSecondsPath", effective, ctx, frame)
            if "HeartbeatSecondsPath" in state:
                heartbeat = self._positive_path(
                    state, "HeartbeatSecondsPath", effective, ctx, frame
                )
        for label, limit in (("TimeoutSeconds", timeout), ("HeartbeatSeconds", heartbeat)):
            if limit is not None and (not _is_integer(limit) or limit <= 0):
                raise StatesError(
                    "States.QueryEvaluationError" if jsonata else "States.Runtime",
                    f"The {label} field must be a positive integer, got {_dump(limit)}",
                )
        result = self._invoke(
            name,
            resource,
            entry.handler,
            pattern,
            params,
            token,
            frame,
            timeout if timeout is not None else DEFAULT_TASK_TIMEOUT,
            heartbeat,
        )
        if jsonata:
            sv = self._states_var(raw, ctx, result=result)
            output = (
                self._ata(state["Output"], sv, frame, "Output") if "Output" in state else result
            )
            if "Assign" in state:
                frame.scope.assign(self._ata(state["Assign"], sv, frame, "Assign"))
            return output, self._next(state)
        if "ResultSelector" in state:
            result = self.payload(
                state["ResultSelector"], result, ctx, frame.scope.flat(), "ResultSelector"
            )
        assigned = self._assign_jsonpath(state, result, ctx, frame)
        output = self._result_and_output(state, raw, result, ctx, frame)
        frame.scope.assign(assigned)
        return output, self._next(state)

    def _positive_path(
        self, state: dict[str, Any], key: str, effective: Any, ctx: Any, frame: _Frame
    ) -> int:
        """TimeoutSecondsPath / HeartbeatSecondsPath: the value must be a positive integer."""
        path = state[key]
        found = self._path(path, effective, ctx, frame)
        value = _integer_value(found)
        if value is None or value <= 0:
            raise StatesError(
                "States.Runtime",
                f'The {key} field refers to value "{_raw(found)}" which is not a valid positive '
                f"integer: {path}",
            )
        return value

    def _invoke(
        self,
        name: str,
        resource: str,
        handler: Callable[[Any, TaskContext], Any],
        pattern: IntegrationPattern,
        params: Any,
        token: str | None,
        frame: _Frame,
        timeout: float,
        heartbeat: float | None,
    ) -> Any:
        legacy_lambda = resource.startswith("arn:aws:lambda:")
        rtype, rname = _resource_parts(resource)
        rec, trace = frame.recorder, frame.trace
        base = {"resourceType": rtype, "resource": rname}
        if legacy_lambda:
            rec.add(
                trace,
                "LambdaFunctionScheduled",
                {"resource": resource, "input": _dump(params), "timeoutInSeconds": timeout},
            )
            rec.add(trace, "LambdaFunctionStarted")
        else:
            scheduled = {
                **base,
                "region": lake_region(self.config),
                "parameters": _dump(params),
                "timeoutInSeconds": timeout,
            }
            if heartbeat is not None:
                scheduled["heartbeatInSeconds"] = heartbeat
            rec.add(trace, "TaskScheduled", scheduled)
            rec.add(trace, "TaskStarted", base)
        rec.flush()
        task_cancel = Cancel(frame.cancel)
        tctx = TaskContext(
            resource=resource,
            pattern=pattern,
            state_name=name,
            execution_arn=self.info.arn,
            clock=self.clock,
            registry=self.registry,
            config=self.config,
            services=self.services,
            principal=self.info.principal,
            role_arn=self.info.role_arn,
            task_token=token,
            timeout_seconds=timeout,
            cancel=task_cancel.event,
        )
        try:
            if token is not None:
                self.tokens.open(token)
            result = self._call_limited(
                handler, copy.deepcopy(params), tctx, task_cancel, timeout, heartbeat
            )
            if token is not None:
                rec.add(trace, "TaskSubmitted", {**base, "output": _dump(result)})
                rec.flush()
                result = self.tokens.wait(token, self.clock, task_cancel, timeout, heartbeat)
            elif pattern is IntegrationPattern.RUN_JOB:
                rec.add(trace, "TaskSubmitted", {**base, "output": _dump(result)})
        except StatesError as exc:
            timed_out = exc.error in ("States.Timeout", "States.HeartbeatTimeout")
            # AWS leaves an empty error or cause out of the event
            failure = {k: v for k, v in (("error", exc.error), ("cause", exc.cause)) if v}
            if legacy_lambda:
                rec.add(
                    trace,
                    "LambdaFunctionTimedOut" if timed_out else "LambdaFunctionFailed",
                    failure,
                )
            else:
                rec.add(trace, "TaskTimedOut" if timed_out else "TaskFailed", {**base, **failure})
            raise
        finally:
            if token is not None:
                self.tokens.close(token)
        text = _dump(result)
        if _too_large(text):
            # AWS names the Lambda function ARN, or the integration's service ("lambda")
            too_large = _data_limit(resource if legacy_lambda else rtype)
            failed = {"error": too_large.error, "cause": too_large.cause}
            if legacy_lambda:
                rec.add(trace, "LambdaFunctionFailed", failed)
            else:
                rec.add(trace, "TaskFailed", {**base, **failed})
            raise too_large
        if legacy_lambda:
            rec.add(trace, "LambdaFunctionSucceeded", {"output": text})
        else:
            rec.add(
                trace,
                "TaskSucceeded",
                {**base, "output": text, "outputDetails": {"truncated": False}},
            )
        return result

    def _call_limited(
        self,
        handler: Callable[[Any, TaskContext], Any],
        params: Any,
        tctx: TaskContext,
        task_cancel: Cancel,
        timeout: float,
        heartbeat: float | None,
    ) -> Any:
        """Call the handler, enforcing TimeoutSeconds / HeartbeatSeconds. With a real clock
        the handler runs on a worker thread so a late one can be abandoned; with a manual
        clock it runs inline and its clock use is checked afterwards."""
        start = self.clock.now()

        def call() -> Any:
            try:
                return handler(params, tctx)
            except StatesError:
                raise
            except (_BranchCancelled, ExecutionAborted, ExecutionTimedOut):
                raise
            except Exception as exc:
                raise StatesError(
                    type(exc).__name__, str(exc) or traceback.format_exception_only(exc)[-1].strip()
                ) from exc

        if not getattr(self.clock, "real_time", False) or (
            timeout >= DEFAULT_TASK_TIMEOUT and heartbeat is None
        ):
            result = call()
            self._check_limits(start, tctx, timeout, heartbeat, finished=True)
            return result
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lakebox-task")
        future: Future[Any] = pool.submit(call)
        try:
            while True:
                try:
                    return future.result(timeout=0.05)
                except TimeoutError:
                    task_cancel.raise_if_set()
                    try:
                        self._check_limits(start, tctx, timeout, heartbeat, finished=False)
                    except StatesError:
                        task_cancel.set()
                        raise
        finally:
            pool.shutdown(wait=False)

    def _check_limits(
        self,
        start: datetime,
        tctx: TaskContext,
        timeout: float,
        heartbeat: float | None,
        finished: bool,
    ) -> None:
        now = self.clock.now()
        if (now - start).total_seconds() > timeout:
            raise StatesError("States.Timeout")  # AWS gives a timeout no cause
        if heartbeat is not None:
            beats = [start, *tctx._heartbeats, now]
            gaps = itertools.pairwise(beats) if finished else [(beats[-2], now)]
            for a, b in gaps:
                if (b - a).total_seconds() > heartbeat:
                    raise StatesError("States.HeartbeatTimeout")

    # ------------------------------------------------------------------ Parallel

    def _parallel(
        self, name: str, state: dict[str, Any], raw: Any, entered: datetime, frame: _Frame
    ) -> tuple[Any, str | None]:
        def attempt(retry_count: int) -> tuple[Any, str | None]:
            ctx = self._context(name, entered, frame, retry_count)
            jsonata = self._language(state, frame) == JSONATA
            if jsonata:
                sv = self._states_var(raw, ctx)
                effective = (
                    self._ata(state["Arguments"], sv, frame, "Arguments")
                    if "Arguments" in state
                    else raw
                )
            else:
                effective = self._path(state.get("InputPath", "$"), raw, ctx, frame)
                if "Parameters" in state:
                    effective = self.payload(
                        state["Parameters"], effective, ctx, frame.scope.flat(), "Parameters"
                    )
            frame.recorder.add(frame.trace, "ParallelStateStarted")
            branches = state["Branches"]
            try:
                results = self._run_many(
                    [(b, effective, None) for b in branches],
                    frame,
                    name,
                    len(branches),
                    None,
                    self._language(state, frame),
                )
            except StatesError as exc:
                frame.recorder.add(
                    frame.trace, "ParallelStateFailed", {"error": exc.error, "cause": exc.cause}
                )
                raise
            frame.recorder.add(frame.trace, "ParallelStateSucceeded")
            return self._finish_composite(state, raw, results, ctx, frame)

        return self._with_retry(name, state, raw, entered, frame, attempt)

    def _finish_composite(
        self, state: dict[str, Any], raw: Any, results: Any, ctx: Any, frame: _Frame
    ) -> tuple[Any, str | None]:
        if self._language(state, frame) == JSONATA:
            sv = self._states_var(raw, ctx, result=results)
            output = (
                self._ata(state["Output"], sv, frame, "Output") if "Output" in state else results
            )
            if "Assign" in state:
                frame.scope.assign(self._ata(state["Assign"], sv, frame, "Assign"))
            return output, self._next(state)
        if "ResultSelector" in state:
            results = self.payload(
                state["ResultSelector"], results, ctx, frame.scope.flat(), "ResultSelector"
            )
        assigned = self._assign_jsonpath(state, results, ctx, frame)
        output = self._result_and_output(state, raw, results, ctx, frame)
        frame.scope.assign(assigned)
        return output, self._next(state)

    def _run_many(
        self,
        jobs: list[tuple[dict[str, Any], Any, dict[str, Any] | None]],
        frame: _Frame,
        state_name: str,
        concurrency: int,
        tolerance: tuple[float | None, float | None] | None,
        language: str,
        iteration_events: bool = False,
        recorder: HistoryRecorder | None = None,
        failed: set[int] | None = None,
    ) -> list[Any]:
        """Run sub-machines (branches or iterations) and collect their outputs in order.
        The first failure cancels the rest, unless a Map tolerates failures."""
        group = Cancel(frame.cancel)
        results: list[Any] = [None] * len(jobs)
        failures: list[StatesError] = []
        lock = threading.Lock()
        traces = [Trace(frame.trace.last) for _ in jobs]

        def run_one(index: int) -> None:
            machine, value, item = jobs[index]
            sub = _Frame(
                traces[index],
                Scope(frame.scope),
                group,
                recorder or frame.recorder,
                machine.get("QueryLanguage", language),
                item,
            )
            if iteration_events:
                sub.recorder.add(
                    sub.trace, "MapIterationStarted", {"name": state_name, "index": index}
                )
            try:
                results[index] = self._run_states(machine, value, sub)
            except StatesError as exc:
                if iteration_events:
                    sub.recorder.add(
                        sub.trace, "MapIterationFailed", {"name": state_name, "index": index}
                    )
                with lock:
                    failures.append(exc)
                    fatal = tolerance is None or self._beyond_tolerance(
                        tolerance, len(failures), len(jobs)
                    )
                if fatal:
                    group.set(None)
                    raise
                results[index] = {"Error": exc.error, "Cause": exc.cause}
                if failed is not None:
                    failed.add(index)
                return
            except _BranchCancelled:
                if iteration_events:
                    sub.recorder.add(
                        sub.trace, "MapIterationAborted", {"name": state_name, "index": index}
                    )
                raise
            if iteration_events:
                sub.recorder.add(
                    sub.trace, "MapIterationSucceeded", {"name": state_name, "index": index}
                )

        workers = max(1, min(concurrency or len(jobs), self.map_pool_cap, len(jobs)))
        if not any(_may_block(machine) for machine in {id(j[0]): j[0] for j in jobs}.values()):
            workers = 1  # pure data states gain nothing from threads, only GIL contention
        if workers == 1:
            for i in range(len(jobs)):
                try:
                    run_one(i)
                except StatesError:
                    break
        else:
            with ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="lakebox-branch"
            ) as pool:
                futures = [pool.submit(run_one, i) for i in range(len(jobs))]
                wait(futures, return_when=FIRST_EXCEPTION)
                if group.is_set():
                    for f in futures:
                        f.cancel()
                for f in futures:
                    error = None if f.cancelled() else f.exception()
                    if error is not None and not isinstance(
                        error, StatesError | _BranchCancelled | ExecutionAborted | ExecutionTimedOut
                    ):
                        raise error
        if recorder is None:
            frame.trace.last = max([frame.trace.last, *(t.last for t in traces)])
        self._check(frame)
        if failures and (
            tolerance is None or self._beyond_tolerance(tolerance, len(failures), len(jobs))
        ):
            if tolerance is not None and any(t is not None for t in tolerance):
                raise StatesError(
                    "States.ExceedToleratedFailureThreshold",
                    "The specified tolerated failure threshold was exceeded",
                )
            raise failures[0]
        return results

    @staticmethod
    def _beyond_tolerance(
        tolerance: tuple[float | None, float | None], failed: int, total: int
    ) -> bool:
        count, percent = tolerance
        if count is None and percent is None:
            return failed > 0
        if count is not None and failed > count:
            return True
        return percent is not None and total > 0 and failed * 100.0 / total > percent

    # ------------------------------------------------------------------ Map

    def _map(
        self, name: str, state: dict[str, Any], raw: Any, entered: datetime, frame: _Frame
    ) -> tuple[Any, str | None]:
        def attempt(retry_count: int) -> tuple[Any, str | None]:
            return self._map_attempt(name, state, raw, entered, frame, retry_count)

        return self._with_retry(name, state, raw, entered, frame, attempt)

    def _map_attempt(
        self,
        name: str,
        state: dict[str, Any],
        raw: Any,
        entered: datetime,
        frame: _Frame,
        retry_count: int,
    ) -> tuple[Any, str | None]:
        ctx = self._context(name, entered, frame, retry_count)
        language = self._language(state, frame)
        jsonata = language == JSONATA
        processor = state.get("ItemProcessor") or state.get("Iterator")
        assert processor is not None
        distributed = processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
        sv = self._states_var(raw, ctx)
        if jsonata:
            items = self._jsonata_items(state, raw, sv, frame)
            effective = raw
        else:
            effective = self._path(state.get("InputPath", "$"), raw, ctx, frame)
            items = self._path(state.get("ItemsPath", "$"), effective, ctx, frame)
        if "ItemReader" in state:
            reader = state["ItemReader"]
            template = reader.get("Arguments" if jsonata else "Parameters", {})
            params = (
                self._ata(template, sv, frame, "ItemReader")
                if jsonata
                else self.payload(template, effective, ctx, frame.scope.flat(), "ItemReader")
            )
            config = reader.get("ReaderConfig") or {}
            if "MaxItemsPath" in config:
                limit = self._count_path(config, "MaxItemsPath", effective, ctx, frame)
                reader = {**reader, "ReaderConfig": {**config, "MaxItems": limit}}
            elif jsonata and jsonata_mode.is_expression(config.get("MaxItems")):
                limit = self._ata(config["MaxItems"], sv, frame, "ItemReader/ReaderConfig/MaxItems")
                reader = {**reader, "ReaderConfig": {**config, "MaxItems": limit}}
            items = item_reader.read_items(reader, params, self.config)
        keys: list[str] | None = None
        if isinstance(items, dict):
            # An object runs one iteration per key-value pair, the pair as the input.
            keys = list(items)
            items = [{k: v} for k, v in items.items()]
        if not isinstance(items, list):
            raise StatesError(
                "States.Runtime",
                f'Reference path "{state.get("ItemsPath", "$")}" must point to array.',
            )
        items = self._batch(state, items, effective, ctx, frame)
        selector = state.get("ItemSelector", state.get("Parameters"))
        jobs: list[tuple[dict[str, Any], Any, dict[str, Any] | None]] = []
        for index, item in enumerate(items):
            map_item: dict[str, Any] = {"Index": index, "Value": item}
            if keys is not None and "ItemBatcher" not in state:
                map_item = {"Index": index, "Key": keys[index], "Value": item[keys[index]]}
            if selector is not None:
                item_ctx = dict(ctx, Map={"Item": map_item})
                if jsonata:
                    value = self._ata(
                        selector, self._states_var(raw, item_ctx), frame, "ItemSelector"
                    )
                else:
                    value = self.payload(
                        selector, effective, item_ctx, frame.scope.flat(), "ItemSelector"
                    )
            else:
                value = item
            jobs.append((processor, value, map_item))
        concurrency = state.get("MaxConcurrency", 0)
        if jsonata and jsonata_mode.is_expression(concurrency):
            concurrency = self._ata(concurrency, sv, frame, "MaxConcurrency")
            if not _is_integer(concurrency) or concurrency < 0:
                raise StatesError(
                    "States.QueryEvaluationError",
                    f"The MaxConcurrency field must be a non-negative integer, got "
                    f"{_dump(concurrency)}",
                )
        if "MaxConcurrencyPath" in state:
            concurrency = self._count_path(state, "MaxConcurrencyPath", effective, ctx, frame)
            if concurrency < 0:
                raise StatesError("States.Runtime", "MaxConcurrency cannot be negative.")
        tolerance = self._tolerance(state, effective, ctx, frame, sv)
        failed: set[int] = set()
        rec = frame.recorder
        map_run_arn = ""
        if distributed:
            map_run_arn = (
                f"{self.info.arn.replace(':execution:', ':mapRun:')}/{name}:{uuid.uuid4().hex[:8]}"
            )
            rec.add(frame.trace, "MapRunStarted", {"mapRunArn": map_run_arn})
        else:
            rec.add(frame.trace, "MapStateStarted", {"length": len(jobs)})
        try:
            results = self._run_many(
                jobs,
                frame,
                name,
                int(concurrency or 0),
                tolerance,
                language,
                iteration_events=not distributed,
                recorder=HistoryRecorder(self.clock) if distributed else None,
                failed=failed,
            )
        except StatesError as exc:
            if distributed:
                rec.add(frame.trace, "MapRunFailed", {"error": exc.error, "cause": exc.cause})
            else:
                rec.add(frame.trace, "MapStateFailed")
            raise
        rec.add(frame.trace, "MapRunSucceeded" if distributed else "MapStateSucceeded")
        if "ResultWriter" in state:
            writer = state["ResultWriter"]
            template = writer.get("Arguments" if jsonata else "Parameters", {})
            params = (
                self._ata(template, sv, frame, "ResultWriter")
                if jsonata
                else self.payload(template, effective, ctx, frame.scope.flat(), "ResultWriter")
            )
            map_run_arn = map_run_arn or (
                f"{self.info.arn.replace(':execution:', ':mapRun:')}/{name}:{uuid.uuid4().hex[:8]}"
            )
            written = item_reader.write_results(
                params,
                self.config,
                map_run_arn,
                self.info.state_machine_arn,
                [job[1] for job in jobs],
                results,
                failed,
                entered,
                self.clock.now(),
            )
            return self._finish_composite(state, raw, written, ctx, frame)
        return self._finish_composite(state, raw, results, ctx, frame)

    def _jsonata_items(
        self, state: dict[str, Any], raw: Any, sv: dict[str, Any], frame: _Frame
    ) -> Any:
        """A JSONata Map's items: ``Items``, or the state input; either must be an array."""
        if "Items" not in state:
            if not isinstance(raw, list):
                raise StatesError(
                    "States.QueryEvaluationError",
                    f"Map state input must be an array but was: {_dump(raw)}",
                )
            return raw
        spec = state["Items"]
        items = self._ata(spec, sv, frame, "Items")
        if not isinstance(items, list):
            kind = {dict: "object", str: "string", bool: "boolean", type(None): "null"}.get(
                type(items), "number"
            )
            expr = (
                jsonata_mode.expression_text(spec)
                if jsonata_mode.is_expression(spec)
                else _dump(spec)
            )
            raise StatesError(
                "States.QueryEvaluationError",
                f"The JSONata expression '{expr}' specified for the field 'Items' returned an "
                f"unexpected result type. Expected 'array', but was '{kind}' for value: "
                f"{_dump(items)}",
            )
        return items

    def _count_path(
        self, state: dict[str, Any], key: str, effective: Any, ctx: Any, frame: _Frame
    ) -> int:
        """An integer behind a ``*Path`` field of a Map state (MaxConcurrencyPath,
        ToleratedFailureCountPath, MaxItemsPerBatchPath)."""
        path = state[key]
        found = self._path(path, effective, ctx, frame)
        value = _integer_value(found)
        if value is None:
            raise StatesError(
                "States.Runtime",
                f'The {key} field refers to value "{_raw(found)}" which is not a valid integer: '
                f"{path}",
            )
        return value

    def _batch(
        self, state: dict[str, Any], items: list[Any], effective: Any, ctx: Any, frame: _Frame
    ) -> list[Any]:
        batcher = state.get("ItemBatcher")
        if not batcher:
            return items
        jsonata = self._language(state, frame) == JSONATA
        sv = self._states_var(effective, ctx)
        size = batcher.get("MaxItemsPerBatch")
        if "MaxItemsPerBatchPath" in batcher:
            size = self._count_path(batcher, "MaxItemsPerBatchPath", effective, ctx, frame)
            if size <= 0:
                raise StatesError("States.Runtime", "MaxItemsPerBatch must be positive.")
        if jsonata and jsonata_mode.is_expression(size):
            size = self._ata(size, sv, frame, "ItemBatcher/MaxItemsPerBatch")
        if not _is_integer(size or 0) or (size or 0) < 0:
            raise StatesError(
                "States.QueryEvaluationError",
                f"The MaxItemsPerBatch field must be a positive integer, got {_dump(size)}",
            )
        size = int(size or len(items) or 1)
        batch_input = batcher.get("BatchInput")
        if batch_input is not None:
            batch_input = (
                self._ata(batch_input, sv, frame, "ItemBatcher/BatchInput")
                if jsonata
                else self.payload(batch_input, effective, ctx, frame.scope.flat(), "BatchInput")
            )
        out = []
        for i in range(0, len(items), size):
            batch: dict[str, Any] = {"Items": items[i : i + size]}
            if batch_input is not None:
                batch["BatchInput"] = batch_input
            out.append(batch)
        return out

    def _tolerance(
        self, state: dict[str, Any], effective: Any, ctx: Any, frame: _Frame, sv: dict[str, Any]
    ) -> tuple[float | None, float | None] | None:
        count = state.get("ToleratedFailureCount")
        percent = state.get("ToleratedFailurePercentage")
        error = "States.Runtime"
        if "ToleratedFailureCountPath" in state:
            count = self._count_path(state, "ToleratedFailureCountPath", effective, ctx, frame)
        if "ToleratedFailurePercentagePath" in state:
            key = "ToleratedFailurePercentagePath"
            found = self._path(state[key], effective, ctx, frame)
            percent = _integer_value(found) if isinstance(found, str) else found
            if not isinstance(percent, int | float) or isinstance(percent, bool):
                raise StatesError(
                    "States.Runtime",
                    f'The {key} field refers to value "{_raw(found)}" which is not a valid '
                    f"float: {state[key]}",
                )
        if jsonata_mode.is_expression(count):
            count = self._ata(count, sv, frame, "ToleratedFailureCount")
            error = "States.QueryEvaluationError"
        if jsonata_mode.is_expression(percent):
            percent = self._ata(percent, sv, frame, "ToleratedFailurePercentage")
            error = "States.QueryEvaluationError"
        if count is not None and (not _is_integer(count) or count < 0):
            raise StatesError(error, "ToleratedFailureCount cannot be negative.")
        if percent is not None and (
            not isinstance(percent, int | float)
            or isinstance(percent, bool)
            or not 0 <= percent <= 100
        ):
            raise StatesError(error, "ToleratedFailurePercentage must be between 0 and 100.")
        if count is None and percent is None:
            return None
        return (
            float(count) if count is not None else None,
            float(percent) if percent is not None else None,
        )


def _may_block(machine: dict[str, Any]) -> bool:
    """Whether a sub-machine can wait on anything (a task, a timer, nested branches)."""
    return any(
        state.get("Type") in ("Task", "Wait", "Parallel", "Map")
        for state in machine.get("States", {}).values()
    )


_Handler = Callable[
    [Interpreter, str, dict[str, Any], Any, datetime, _Frame], tuple[Any, str | None]
]
_HANDLERS: dict[str, _Handler] = {
    "Pass": Interpreter._pass,
    "Task": Interpreter._task,
    "Choice": Interpreter._choice,
    "Wait": Interpreter._wait,
    "Succeed": Interpreter._succeed,
    "Fail": Interpreter._fail,
    "Parallel": Interpreter._parallel,
    "Map": Interpreter._map,
}
