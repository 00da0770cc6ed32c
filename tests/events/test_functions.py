"""Functions: made from a file, a folder or a zip; run in their own process with Lambda's
environment and context; failures answered the Lambda way; retried when asynchronous."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from lakebox.errors import AlreadyExistsError
from lakebox.events import functions as fn
from lakebox.lakehouse import Lakehouse

HANDLERS = """
import os
import time


def environment(event, context):
    return {
        "region": os.environ["AWS_REGION"],
        "name": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        "custom": os.environ.get("CUSTOM"),
        "key": os.environ.get("AWS_ACCESS_KEY_ID"),
        "token": bool(os.environ.get("AWS_SESSION_TOKEN")),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "lakebox_home": os.environ.get("LAKEBOX_HOME"),
        "profiles": os.environ.get("AWS_SHARED_CREDENTIALS_FILE"),
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "remaining": context.get_remaining_time_in_millis(),
        "event": event,
        "cwd": os.getcwd(),
    }


def fail(event, context):
    print("about to fail")
    raise KeyError("missing")


def sleep(event, context):
    time.sleep(30)


def exits(event, context):
    os._exit(3)
"""


@pytest.fixture
def handlers(tmp_path: Path) -> Path:
    path = tmp_path / "handlers.py"
    path.write_text(HANDLERS)
    return path


def test_a_handler_runs_with_lambdas_environment_and_context(
    lake: Lakehouse, handlers: Path
) -> None:
    lake.events.create_function(
        "env", "handlers.environment", code=handlers, environment={"CUSTOM": "yes"}, timeout=10
    )
    handlers.write_text("def environment(e, c):\n    return 'changed'\n")  # the lake kept a copy
    result = lake.events.invoke("env", {"a": [1, 2]})
    assert result.function_error is None, result.payload
    got = json.loads(result.payload)
    assert got["region"] == lake.config.region
    assert got["name"] == got["function_name"] == "env"
    assert got["custom"] == "yes"
    assert got["key"] is None and got["endpoint"] is None  # no role, not served
    assert got["lakebox_home"] is None  # nothing of the lake's own environment
    assert got["profiles"] == os.devnull  # nor the machine user's AWS profiles
    assert got["request_id"] == result.request_id
    assert 0 < got["remaining"] <= 10_000
    assert got["event"] == {"a": [1, 2]}
    assert got["cwd"] == str(lake.config.metadata_dir / "functions" / "env")


def test_an_unhandled_error_is_answered_the_lambda_way(lake: Lakehouse, handlers: Path) -> None:
    lake.events.create_function("fail", "handlers.fail", code=handlers)
    result = lake.events.invoke("fail", {})
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "KeyError"
    assert error["errorMessage"] == "'missing'"
    assert error["requestId"] == result.request_id
    assert any("handlers.py" in line for line in error["stackTrace"])
    assert "about to fail" in result.log
    assert "START RequestId" in result.log


def test_a_handler_is_killed_at_its_timeout(lake: Lakehouse, handlers: Path) -> None:
    lake.events.create_function("slow", "handlers.sleep", code=handlers, timeout=1)
    result = lake.events.invoke("slow", {})
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    assert result.duration_ms < 10_000


def test_a_crash_and_a_bad_handler_are_function_errors(lake: Lakehouse, handlers: Path) -> None:
    lake.events.create_function("exits", "handlers.exits", code=handlers)
    crash = json.loads(lake.events.invoke("exits", {}).payload)
    assert crash["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in crash["errorMessage"]
    lake.events.create_function("nomodule", "nothere.handler", code=handlers)
    missing = json.loads(lake.events.invoke("nomodule", {}).payload)
    assert missing["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module" in missing["errorMessage"]


def test_code_from_a_zip_and_from_a_folder(lake: Lakehouse, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("pkg/__init__.py", "")
        archive.writestr("pkg/app.py", "def handler(e, c):\n    return e['x'] * 2\n")
    made = lake.events.create_function("zipped", "pkg.app.handler", zip_bytes=buffer.getvalue())
    assert made.code_size == len(buffer.getvalue())
    assert json.loads(lake.events.invoke("zipped", {"x": 21}).payload) == 42
    folder = tmp_path / "src"
    (folder / "lib").mkdir(parents=True)
    (folder / "lib" / "__init__.py").write_text("VALUE = 7\n")
    (folder / "main.py").write_text("import lib\ndef run(e, c):\n    return lib.VALUE\n")
    lake.events.create_function("folder", "main:run", code=folder)
    assert json.loads(lake.events.invoke("folder", None).payload) == 7


def test_a_zip_entry_outside_the_package_is_refused(lake: Lakehouse) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escape.py", "x = 1\n")
    with pytest.raises(fn.FunctionError, match="outside the package"):
        lake.events.create_function("evil", "escape.x", zip_bytes=buffer.getvalue())
    assert not (lake.config.metadata_dir / "escape.py").exists()
    assert lake.events.list_functions() == []
    with pytest.raises(fn.FunctionError, match="Could not unzip"):
        lake.events.create_function("bad", "a.b", zip_bytes=b"not a zip")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "bad name"}, "functionName"),
        ({"handler": "nodot"}, "Bad handler"),
        ({"runtime": "nodejs20.x"}, "runtime parameter of nodejs20.x is not supported"),
        ({"timeout": 0}, "at 'timeout'"),
        ({"timeout": 901}, "at 'timeout'"),
        ({"environment": {"AWS_REGION": "x"}}, "reserved keys"),
        ({"role": "not-an-arn"}, "at 'role'"),
        ({"role": "arn:aws:iam::000000000000:role/none"}, "cannot be assumed by Lambda"),
    ],
)
def test_invalid_functions_are_refused(
    lake: Lakehouse, handlers: Path, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"name": "f", "handler": "handlers.fail", "code": handlers}
    args.update(kwargs)
    with pytest.raises(fn.FunctionError, match=message):
        lake.events.create_function(**args)  # type: ignore[arg-type]
    assert lake.events.list_functions() == []


def test_create_list_get_delete(lake: Lakehouse, handlers: Path) -> None:
    made = lake.events.create_function("f", "handlers.fail", code=handlers)
    with pytest.raises(AlreadyExistsError, match="Function already exist: f"):
        lake.events.create_function("f", "handlers.fail", code=handlers)
    assert [f.name for f in lake.events.list_functions()] == ["f"]
    assert lake.events.get_function(made.arn) == made
    config = made.configuration()
    assert (
        config["FunctionArn"]
        == f"arn:aws:lambda:{lake.config.region}:{lake.config.account_id}:function:f"
    )
    assert config["Runtime"] == "python3.12" and config["Timeout"] == 3
    lake.events.delete_function("f")
    assert lake.events.list_functions() == []
    assert not (lake.config.metadata_dir / "functions" / "f").exists()
    with pytest.raises(fn.FunctionNotFoundError, match="Function not found"):
        lake.events.invoke("f", {})


def test_the_execution_roles_credentials_are_the_handlers(lake: Lakehouse, handlers: Path) -> None:
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    role = lake.iam.create_role("fn-role", trust)
    lake.events.create_function("env", "handlers.environment", code=handlers, role=role.arn)
    got = json.loads(lake.events.invoke("env", {}).payload)
    assert got["key"].startswith("ASIA") and got["token"]
    # a role that trusts someone else is not Lambda's to assume
    other = lake.iam.create_role(
        "other-role", trust.replace("lambda.amazonaws.com", "glue.amazonaws.com")
    )
    with pytest.raises(fn.FunctionError, match="cannot be assumed by Lambda"):
        lake.events.create_function("other", "handlers.environment", code=handlers, role=other.arn)


def test_an_asynchronous_invocation_is_retried_twice_then_recorded(
    lake: Lakehouse, recorder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lakebox.events import service

    monkeypatch.setattr(service, "RETRY_DELAYS", (0.05, 0.05))
    out = tmp_path / "attempts.txt"
    lake.events.create_function(
        "flaky", "lambda_function.failing_handler", code=recorder, environment={"OUT": str(out)}
    )
    queued = lake.events.invoke("flaky", {"n": 1}, invocation_type="Event")
    assert queued.payload == b""
    assert lake.events.drain(60)
    assert out.read_text().count("attempt") == 3
    failure = lake.events.failures()[0]
    assert failure.target.endswith(":function:flaky")
    assert failure.attempts == 3
    assert "the handler failed" in failure.error


def test_closing_stops_a_function_still_running(lake: Lakehouse, tmp_path: Path) -> None:
    """No process or thread is left behind: a function still running when the lake closes
    (after the wait for queued deliveries) is killed."""
    import time

    started = tmp_path / "started"
    code = tmp_path / "slow.py"
    code.write_text(
        "import os, time\n"
        "def handler(event, context):\n"
        "    open(os.environ['MARK'], 'w').close()\n"
        "    time.sleep(60)\n"
    )
    lake.events.create_function(
        "slow", "slow.handler", code=code, timeout=120, environment={"MARK": str(started)}
    )
    lake.events.invoke("slow", {}, invocation_type="Event")
    deadline = time.monotonic() + 30
    while not started.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    begun = time.monotonic()
    lake.events.close(timeout=1)
    assert time.monotonic() - begun < 10
    assert not lake.events._running


def test_a_flood_of_output_and_an_unserialisable_result(lake: Lakehouse, tmp_path: Path) -> None:
    code = tmp_path / "noisy.py"
    code.write_text(
        "import sys\n"
        "def flood(event, context):\n"
        "    for _ in range(3000):\n"
        "        sys.stdout.write('x' * 1023 + '\\n')\n"
        "    print('the end')\n"
        "    return 'done'\n"
        "def unserialisable(event, context):\n"
        "    return object()\n"
    )
    lake.events.create_function("flood", "noisy.flood", code=code, timeout=30)
    result = lake.events.invoke("flood", {})
    assert json.loads(result.payload) == "done"
    assert len(result.log) < 2 * fn.MAX_LOG
    assert "bytes of output left out" in result.log and "the end" in result.log
    lake.events.create_function("odd", "noisy.unserialisable", code=code)
    odd = lake.events.invoke("odd", {})
    assert odd.function_error == "Unhandled"
    assert json.loads(odd.payload)["errorType"] == "Runtime.MarshalError"


_GATED = (
    "import os, time\n"
    "def handler(event, context):\n"
    "    open(os.environ['MARK'], 'w').close()\n"
    "    deadline = time.time() + 60\n"
    "    while not os.path.exists(os.environ['GATE']) and time.time() < deadline:\n"
    "        time.sleep(0.05)\n"
    "    return 'done'\n"
)


def _wait_for(path: Path, timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def test_synchronous_invocations_past_the_cap_are_throttled(
    lake: Lakehouse, tmp_path: Path
) -> None:
    """Each RequestResponse invocation is a process: past the cap, Invoke answers Lambda's
    TooManyRequestsException (HTTP 429) instead of starting one more."""
    import threading

    from lakebox.api import AwsError, dispatch
    from lakebox.api.context import ServiceContext
    from lakebox.events.service import EventService

    bus = EventService(
        tmp_path / "meta",
        account_id=lake.config.account_id,
        region=lake.config.region,
        iam=lambda: lake.iam,
        workflows=lambda: lake.workflows,
        streams=lambda: lake.streams,
        max_concurrency=1,
    )
    mark, gate = tmp_path / "started", tmp_path / "gate"
    code = tmp_path / "gated.py"
    code.write_text(_GATED)
    bus.create_function(
        "gated",
        "gated.handler",
        code=code,
        timeout=120,
        environment={"MARK": str(mark), "GATE": str(gate)},
    )
    ctx = ServiceContext(
        account_id=lake.config.account_id,
        region=lake.config.region,
        services={"events": bus},
    )
    answers: list[bytes] = []
    first = threading.Thread(
        target=lambda: answers.append(bus.invoke("gated", {}).payload), daemon=True
    )
    try:
        first.start()
        _wait_for(mark)
        with pytest.raises(AwsError) as caught:
            dispatch("lambda", "Invoke", {"FunctionName": "gated"}, ctx)
        assert caught.value.code == "TooManyRequestsException"
        # an asynchronous invocation is queued, not refused
        assert (
            dispatch("lambda", "Invoke", {"FunctionName": "gated", "InvocationType": "Event"}, ctx)[
                "StatusCode"
            ]
            == 202
        )
    finally:
        gate.touch()
        first.join(60)
    assert answers == [b'"done"']
    assert bus.invoke("gated", {}).payload == b'"done"'  # the slot is free again
    assert bus.drain(60)
    bus.close()


def test_a_slow_asynchronous_function_does_not_hold_up_the_bus(
    lake: Lakehouse, tmp_path: Path
) -> None:
    """Functions invoked asynchronously run off the bus's thread: while one runs (up to
    its timeout), events still reach a rule's state machine."""
    import time

    mark, gate = tmp_path / "started", tmp_path / "gate"
    code = tmp_path / "gated.py"
    code.write_text(_GATED)
    lake.events.create_function(
        "gated",
        "gated.handler",
        code=code,
        timeout=120,
        environment={"MARK": str(mark), "GATE": str(gate)},
    )
    machine = lake.workflows.create_state_machine(
        "on-event", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    lake.events.put_rule("to-machine", json.dumps({"source": ["app"]}))
    assert lake.events.put_targets("to-machine", [{"Id": "sm", "Arn": machine.arn}]) == []
    try:
        lake.events.invoke("gated", {}, invocation_type="Event")
        _wait_for(mark)
        sent = lake.events.put_events([{"Source": "app", "DetailType": "t", "Detail": "{}"}])
        assert "EventId" in sent[0]
        deadline = time.monotonic() + 20
        while not lake.workflows.list_executions(machine.arn):
            assert time.monotonic() < deadline, "the rule's execution waited for the function"
            time.sleep(0.05)
        assert not gate.exists()  # the function was still running all along
    finally:
        gate.touch()
    assert lake.events.drain(60)


def test_failed_deliveries_kept_are_bounded(
    lake: Lakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lakebox.events import service

    monkeypatch.setattr(service, "MAX_FAILURES", 5)
    for n in range(12):
        lake.events._record(service._Delivery(f"test:{n}", "arn:aws:sqs:x", {}), f"error {n}")
    kept = lake.events.failures(limit=100)
    assert [f.source for f in kept] == [f"test:{n}" for n in range(11, 6, -1)]
