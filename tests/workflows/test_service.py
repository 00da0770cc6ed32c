"""WorkflowService: state machine CRUD, persistence, stop, recovery and task tokens."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import lakebox
from lakebox.config import LakeConfig
from lakebox.errors import AlreadyExistsError, InvalidRequestError
from lakebox.workflows.clock import ManualClock, SystemClock
from lakebox.workflows.errors import (
    ExecutionDoesNotExistError,
    ExecutionNotRedrivableError,
    InvalidDefinitionError,
    StateMachineDoesNotExistError,
    TaskDoesNotExistError,
)
from lakebox.workflows.service import WorkflowService
from lakebox.workflows.tasks.registry import TaskContext
from workflows.helpers import machine

SIMPLE = machine({"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}})
TOKEN_TASK = machine(
    {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lakebox:callback.waitForTaskToken",
            "Parameters": {"token.$": "$$.Task.Token"},
            "End": True,
        }
    }
)


def test_state_machine_crud(service: WorkflowService) -> None:
    created = service.create_state_machine("orders", SIMPLE)
    assert created.arn == "arn:aws:states:us-east-1:000000000000:stateMachine:orders"
    assert service.create_state_machine("orders", SIMPLE).revision_id == created.revision_id
    with pytest.raises(AlreadyExistsError):
        service.create_state_machine("orders", machine({"Q": {"Type": "Succeed"}}))
    updated = service.update_state_machine(created.arn, machine({"Q": {"Type": "Succeed"}}))
    assert updated.revision_id != created.revision_id
    assert json.loads(service.describe_state_machine("orders").definition)["StartAt"] == "Q"
    assert [m.name for m in service.list_state_machines()] == ["orders"]
    service.delete_state_machine("orders")
    with pytest.raises(StateMachineDoesNotExistError):
        service.describe_state_machine("orders")


def test_invalid_definition_is_rejected_on_create_and_update(service: WorkflowService) -> None:
    bad = machine({"P": {"Type": "Pass", "Next": "Gone"}})
    with pytest.raises(InvalidDefinitionError) as err:
        service.create_state_machine("bad", bad)
    assert "/States/P/Next" in str(err.value)
    service.create_state_machine("good", SIMPLE)
    with pytest.raises(InvalidDefinitionError):
        service.update_state_machine("good", bad)
    assert service.validate(bad)[0].code == "MISSING_TRANSITION_TARGET"
    assert service.validate(SIMPLE) == []


@pytest.mark.parametrize("name", ["", "has space", "x" * 81, "semi;colon"])
def test_bad_names(service: WorkflowService, name: str) -> None:
    with pytest.raises(InvalidRequestError):
        service.create_state_machine(name, SIMPLE)


def test_executions_persist_across_service_instances(
    config: LakeConfig, clock: ManualClock
) -> None:
    first = WorkflowService(config, clock=clock)
    first.create_state_machine("sm", SIMPLE)
    done = first.start_execution("sm", {"in": 1}, name="one")
    first.close()
    again = WorkflowService(config, clock=clock)
    described = again.describe_execution(done.arn)
    assert (described.status, described.input, described.output) == (
        "SUCCEEDED",
        {"in": 1},
        {"ok": True},
    )
    assert [e["type"] for e in again.get_execution_history(done.arn)][-1] == "ExecutionSucceeded"
    assert [e.name for e in again.list_executions("sm")] == ["one"]
    assert (config.metadata_dir / "workflows.sqlite").exists()
    again.close()


def test_execution_names_are_unique(service: WorkflowService) -> None:
    service.create_state_machine("sm", SIMPLE)
    service.start_execution("sm", name="same")
    with pytest.raises(AlreadyExistsError):
        service.start_execution("sm", name="same")


def test_list_executions_filters_by_status(service: WorkflowService) -> None:
    service.create_state_machine("ok", SIMPLE)
    service.create_state_machine("bad", machine({"F": {"Type": "Fail", "Error": "E"}}))
    service.start_execution("ok", name="a")
    service.start_execution("bad", name="b")
    assert [e.name for e in service.list_executions(status="FAILED")] == ["b"]
    assert {e.name for e in service.list_executions()} == {"a", "b"}
    with pytest.raises(InvalidRequestError):
        service.list_executions(status="DONE")


def test_unknown_execution(service: WorkflowService) -> None:
    with pytest.raises(ExecutionDoesNotExistError):
        service.describe_execution("arn:aws:states:us-east-1:000000000000:execution:x:y")


def test_input_as_json_text(service: WorkflowService) -> None:
    service.create_state_machine("sm", machine({"P": {"Type": "Pass", "End": True}}))
    assert service.start_execution("sm", '{"a": [1]}').output == {"a": [1]}
    with pytest.raises(InvalidRequestError):
        service.start_execution("sm", "{broken")


def _token_collector(service: WorkflowService) -> tuple[list[str], threading.Event]:
    tokens: list[str] = []
    seen = threading.Event()

    def callback(params: Any, ctx: TaskContext) -> Any:
        tokens.append(params["token"])
        assert params["token"] == ctx.task_token
        seen.set()
        return {"submitted": True}

    service.register_resource("arn:aws:states:::lakebox:callback", callback)
    return tokens, seen


@pytest.mark.parametrize(
    ("send", "status", "result"),
    [
        ("success", "SUCCEEDED", {"approved": True}),
        ("failure", "FAILED", "Rejected"),
    ],
)
def test_wait_for_task_token(service: WorkflowService, send: str, status: str, result: Any) -> None:
    tokens, seen = _token_collector(service)
    service.create_state_machine("cb", TOKEN_TASK)
    started = service.start_execution("cb", {}, name="e1", wait=False)
    assert seen.wait(10)
    service.send_task_heartbeat(tokens[0])
    if send == "success":
        service.send_task_success(tokens[0], json.dumps(result))
    else:
        service.send_task_failure(tokens[0], "Rejected", "by a person")
    done = service.wait_for(started.arn, 10)
    assert done.status == status
    assert (done.output if status == "SUCCEEDED" else done.error) == result
    assert "TaskSubmitted" in [e["type"] for e in service.get_execution_history(done.arn)]
    with pytest.raises(TaskDoesNotExistError):
        service.send_task_success(tokens[0], "{}")


def test_stop_execution_in_this_process(service: WorkflowService) -> None:
    _, seen = _token_collector(service)
    service.create_state_machine("cb", TOKEN_TASK)
    started = service.start_execution("cb", name="e1", wait=False)
    assert seen.wait(10)
    stopped = service.stop_execution(started.arn, error="Manual", cause="no longer needed")
    assert (stopped.status, stopped.error, stopped.cause) == (
        "ABORTED",
        "Manual",
        "no longer needed",
    )
    history = service.get_execution_history(started.arn)
    assert [e["type"] for e in history[-2:]] == ["TaskStateAborted", "ExecutionAborted"]
    assert history[-1]["executionAbortedEventDetails"] == {
        "error": "Manual",
        "cause": "no longer needed",
    }
    assert service.stop_execution(started.arn).status == "ABORTED"


def test_parallel_branches_are_cancelled_when_stopped(config: LakeConfig) -> None:
    service = WorkflowService(config, clock=SystemClock(), stop_poll_seconds=0.05)
    _, seen = _token_collector(service)
    branches = [
        {"StartAt": f"T{i}", "States": {f"T{i}": TOKEN_TASK["States"]["T"]}} for i in range(2)
    ]
    definition = machine({"P": {"Type": "Parallel", "Branches": branches, "End": True}})
    service.create_state_machine("par", definition)
    started = service.start_execution("par", wait=False)
    assert seen.wait(10)
    assert service.stop_execution(started.arn).status == "ABORTED"
    service.close()


_CHILD = textwrap.dedent("""
    import sys, time
    from lakebox.config import LakeConfig
    from lakebox.workflows.service import WorkflowService
    svc = WorkflowService(LakeConfig.from_env(home=sys.argv[1]), stop_poll_seconds=0.05)
    svc.register_resource("arn:aws:states:::lakebox:callback",
                          lambda p, ctx: print("READY", ctx.task_token, flush=True) or {})
    svc.create_state_machine("cb", sys.argv[2])
    execution = svc.start_execution("cb", name="child")
    print("DONE", execution.status, flush=True)
""")


def _start_child(home: Path) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(home), json.dumps(TOKEN_TASK)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(lakebox.__file__).parents[1])},
    )
    assert child.stdout is not None
    ready, token = child.stdout.readline().split()
    assert ready == "READY"
    return child, token


def test_task_token_answered_from_another_process(config: LakeConfig) -> None:
    child, token = _start_child(config.home)
    service = WorkflowService(config)
    service.send_task_heartbeat(token)
    service.send_task_success(token, {"approved": "yes"})
    assert child.stdout is not None
    try:
        assert child.stdout.readline().split() == ["DONE", "SUCCEEDED"]
    finally:
        child.stdout.close()
        child.wait(10)
    arn = "arn:aws:states:us-east-1:000000000000:execution:cb:child"
    assert service.describe_execution(arn).output == {"approved": "yes"}
    with pytest.raises(TaskDoesNotExistError):
        service.send_task_success(token, {})
    service.close()


def test_running_execution_of_a_dead_process_is_marked_failed(config: LakeConfig) -> None:
    child, _ = _start_child(config.home)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert child.stdout is not None
    child.stdout.close()
    service = WorkflowService(config)
    arn = "arn:aws:states:us-east-1:000000000000:execution:cb:child"
    assert service.recovered == [arn]
    lost = service.describe_execution(arn)
    assert (lost.status, lost.error) == ("FAILED", "Lakebox.ProcessExited")
    assert f"pid {child.pid}" in (lost.cause or "")
    assert service.get_execution_history(arn)[-1]["type"] == "ExecutionFailed"
    service.close()


def test_stop_from_another_process(config: LakeConfig) -> None:
    child, _ = _start_child(config.home)
    service = WorkflowService(config)
    arn = "arn:aws:states:us-east-1:000000000000:execution:cb:child"
    service.stop_execution(arn, cause="stopped from outside")
    assert child.stdout is not None
    try:
        assert child.stdout.readline().split() == ["DONE", "ABORTED"]
    finally:
        child.stdout.close()
        child.wait(10)
    stopped = service.describe_execution(arn)
    assert (stopped.status, stopped.cause) == ("ABORTED", "stopped from outside")
    service.close()


def test_real_clock_task_timeout_abandons_a_slow_handler(config: LakeConfig) -> None:
    service = WorkflowService(config, clock=SystemClock())
    release = threading.Event()
    service.register_resource(
        "arn:aws:states:::lakebox:slow", lambda p, ctx: release.wait(5) and "late"
    )
    service.create_state_machine(
        "slow",
        machine(
            {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lakebox:slow",
                    "TimeoutSeconds": 1,
                    "End": True,
                }
            }
        ),
    )
    started = time.monotonic()
    out = service.start_execution("slow")
    release.set()
    assert (out.status, out.error) == ("FAILED", "States.Timeout")
    assert time.monotonic() - started < 5
    service.close()


def test_a_finished_execution_leaves_no_stop_watcher_behind(service: WorkflowService) -> None:
    # the watcher polls the store for StopExecution; one still running after the execution
    # returned would read a store that close() may already have closed
    service.create_state_machine("quick", machine({"P": {"Type": "Pass", "End": True}}))
    assert service.start_execution("quick", name="quick-1").status == "SUCCEEDED"
    watchers = [t for t in threading.enumerate() if t.name == "lakebox-stop-watch-quick-1"]
    assert watchers == []


def test_close_aborts_running_executions_before_closing_the_store(config: LakeConfig) -> None:
    service = WorkflowService(config, clock=SystemClock(), stop_poll_seconds=0.05)
    service.create_state_machine(
        "long", machine({"W": {"Type": "Wait", "Seconds": 3600, "End": True}})
    )
    started = service.start_execution("long", name="long-1", wait=False)
    assert started.status == "RUNNING"
    t0 = time.monotonic()
    service.close()
    assert time.monotonic() - t0 < 5
    assert [t for t in threading.enumerate() if t.name == "lakebox-exec-long-1"] == []
    reopened = WorkflowService(config)
    try:
        ended = reopened.describe_execution(started.arn)
        assert (ended.status, ended.cause) == ("ABORTED", "The workflow service was closed")
        assert "ExecutionAborted" in [e["type"] for e in reopened.get_execution_history(ended.arn)]
    finally:
        reopened.close()


def test_stop_through_another_service_instance(config: LakeConfig, clock: ManualClock) -> None:
    first = WorkflowService(config, clock=clock)
    _, seen = _token_collector(first)
    first.create_state_machine("cb", TOKEN_TASK)
    started = first.start_execution("cb", wait=False)
    assert seen.wait(10)
    second = WorkflowService(config, clock=clock)
    assert second.recovered == []  # running in this process: not lost
    assert second.stop_execution(started.arn).status == "ABORTED"
    first.close()
    second.close()


def test_redrive_resumes_at_the_failed_state(service: WorkflowService) -> None:
    calls = {"prepare": 0, "load": 0}
    broken = {"value": True}

    def prepare(event: Any) -> Any:
        calls["prepare"] += 1
        return {"rows": 3}

    def load(event: Any) -> Any:
        calls["load"] += 1
        if broken["value"]:
            raise ConnectionError("warehouse is down")
        return {"loaded": event["rows"], "redrives": event["redrives"]}

    service.register_function("prepare", prepare)
    service.register_function("load", load)
    fn = "arn:aws:lambda:us-east-1:1:function:"
    service.create_state_machine(
        "etl",
        machine(
            {
                "Prepare": {
                    "Type": "Task",
                    "Resource": fn + "prepare",
                    "Assign": {"rows.$": "$.rows"},
                    "Next": "Load",
                },
                "Load": {
                    "Type": "Task",
                    "Resource": fn + "load",
                    "Parameters": {"rows.$": "$rows", "redrives.$": "$$.Execution.RedriveCount"},
                    "End": True,
                },
            }
        ),
    )
    failed = service.start_execution("etl", {}, name="run")
    assert (failed.status, failed.error) == ("FAILED", "ConnectionError")
    broken["value"] = False
    redriven = service.redrive_execution(failed.arn)
    assert (redriven.status, redriven.output) == ("SUCCEEDED", {"loaded": 3, "redrives": 1})
    assert calls == {"prepare": 1, "load": 2}
    types = [e["type"] for e in service.get_execution_history(failed.arn)]
    assert types.count("ExecutionStarted") == 1
    assert types[types.index("ExecutionFailed") + 1 : types.index("ExecutionFailed") + 3] == [
        "ExecutionRedriven",
        "TaskStateEntered",
    ]
    ids = [e["id"] for e in service.get_execution_history(failed.arn)]
    assert ids == list(range(1, len(ids) + 1))
    with pytest.raises(ExecutionNotRedrivableError):
        service.redrive_execution(failed.arn)


def test_redrive_after_the_process_died(config: LakeConfig) -> None:
    child, _ = _start_child(config.home)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert child.stdout is not None
    child.stdout.close()
    service = WorkflowService(config)
    service.register_resource("arn:aws:states:::lakebox:callback", lambda p, ctx: {})
    arn = "arn:aws:states:us-east-1:000000000000:execution:cb:child"
    assert "redrive" in (service.describe_execution(arn).cause or "")
    service.register_resource(
        "arn:aws:states:::lakebox:callback",
        lambda p, ctx: threading.Thread(
            target=service.send_task_success, args=(ctx.task_token, {"late": True})
        ).start(),
    )
    done = service.redrive_execution(arn)
    assert (done.status, done.output) == ("SUCCEEDED", {"late": True})
    service.close()


def test_the_store_is_readable_by_the_lakes_user_only(tmp_path: Path) -> None:
    """Execution histories hold task results in clear (a secret a getSecretValue task read,
    too): the store is mode 0600, also one made before with a wider mode."""
    import stat

    from lakebox.workflows.store import WorkflowStore

    old = tmp_path / "old.sqlite"
    old.touch(mode=0o644)
    old.chmod(0o644)
    for path in (tmp_path / "new.sqlite", old):
        store = WorkflowStore(path)
        try:
            store._exec("SELECT 1")
        finally:
            store.close()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
