"""The workflow / schedule Typer sub-apps, driven like a user would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import lakebox
from lakebox.cli.workflows import schedule_app, workflow_app
from lakebox.ingest import DeliveryStreams
from lakebox.session import Lake
from workflows.helpers import machine

app = typer.Typer()
app.add_typer(workflow_app, name="workflow")
app.add_typer(schedule_app, name="schedule")
cli = CliRunner()

TASKS = """
def register(service):
    service.register_function("double", lambda event: {"v": event["v"] * 2})
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            machine(
                {
                    "Double": {
                        "Type": "Task",
                        "Resource": "arn:aws:lambda:us-east-1:1:function:double",
                        "Next": "Wait",
                    },
                    "Wait": {"Type": "Wait", "Seconds": 0, "Next": "Check"},
                    "Check": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.v", "NumericGreaterThan": 10, "Next": "Big"}],
                        "Default": "Small",
                    },
                    "Big": {"Type": "Succeed"},
                    "Small": {"Type": "Fail", "Error": "TooSmall", "Cause": "v was not above 10"},
                }
            )
        )
    )
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(machine({"A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Succeed"}}))
    )
    tasks = tmp_path / "tasks.py"
    tasks.write_text(TASKS)
    return {"good": good, "bad": bad, "tasks": tasks}


def invoke(lake_home: Path, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, [*args], env={"LAKEBOX_HOME": str(lake_home), "COLUMNS": "200"})
    return result.exit_code, result.output


def test_workflow_end_to_end(lake_home: Path, files: dict[str, Path]) -> None:
    code, output = invoke(
        lake_home, "workflow", "validate", str(files["good"]), "--tasks", str(files["tasks"])
    )
    assert (code, output.strip()) == (0, "valid")
    code, output = invoke(lake_home, "workflow", "create", "doubler", str(files["good"]))
    assert code == 0
    assert "stateMachine:doubler" in output
    code, output = invoke(
        lake_home,
        "workflow",
        "start",
        "doubler",
        "--tasks",
        str(files["tasks"]),
        "--input",
        '{"v": 6}',
        "--name",
        "big",
    )
    assert code == 0, output
    assert "SUCCEEDED" in output and '"v": 12' in output
    code, output = invoke(
        lake_home,
        "workflow",
        "start",
        "doubler",
        "--tasks",
        str(files["tasks"]),
        "--input",
        '{"v": 2}',
        "--name",
        "small",
    )
    assert code == 1
    assert "TooSmall" in output and "v was not above 10" in output
    arn = "arn:aws:states:us-east-1:000000000000:execution:doubler:small"
    code, output = invoke(lake_home, "workflow", "history", arn)
    assert code == 0
    for fragment in (
        "TaskStateEntered",
        "LambdaFunctionSucceeded",
        "FailStateEntered",
        "ExecutionFailed",
        "TooSmall",
        " s",
    ):
        assert fragment in output
    code, output = invoke(lake_home, "workflow", "history", arn, "--json")
    assert json.loads(output)["events"][0]["type"] == "ExecutionStarted"
    code, output = invoke(lake_home, "workflow", "list", "doubler")
    assert "big" in output and "small" in output and "FAILED" in output
    code, output = invoke(
        lake_home, "workflow", "list", "doubler", "--status", "SUCCEEDED", "--json"
    )
    assert [e["name"] for e in json.loads(output)] == ["big"]
    code, output = invoke(lake_home, "workflow", "describe", arn, "--json")
    assert json.loads(output)["status"] == "FAILED"
    code, output = invoke(lake_home, "workflow", "list")
    assert "doubler" in output
    code, output = invoke(lake_home, "workflow", "update", "doubler", str(files["good"]))
    assert code == 0 and "revision" in output
    code, output = invoke(lake_home, "workflow", "stop", arn)
    assert "FAILED" in output  # already finished: stop changes nothing
    code, output = invoke(lake_home, "workflow", "redrive", arn)
    assert code == 1 and "TooSmall" in output  # reruns the Fail state it stopped in
    code, output = invoke(lake_home, "workflow", "history", arn, "--json")
    assert "ExecutionRedriven" in [e["type"] for e in json.loads(output)["events"]]
    code, output = invoke(lake_home, "workflow", "delete", "doubler")
    assert code == 0
    code, output = invoke(lake_home, "workflow", "describe", "doubler")
    assert code == 1 and "State Machine Does Not Exist" in output
    code, output = invoke(lake_home, "workflow", "describe", arn, "--json")
    assert json.loads(output)["status"] == "FAILED"


def test_validate_lists_every_problem(lake_home: Path, files: dict[str, Path]) -> None:
    code, output = invoke(lake_home, "workflow", "validate", str(files["bad"]))
    assert code == 1
    assert "MISSING_TRANSITION_TARGET" in output and "/States/A/Next" in output
    assert "UNREACHABLE_STATE" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["workflow", "create", "x", "missing.json"], "does not exist"),
        (["workflow", "start", "nope"], "State Machine Does Not Exist"),
        (
            ["workflow", "describe", "arn:aws:states:us-east-1:000000000000:execution:a:b"],
            "Execution Does Not Exist",
        ),
        (["workflow", "start", "nope", "--input", "{bad"], "error:"),
        (["schedule", "create", "s", "rate(1 minutes)", "x"], "singular"),
        (
            [
                "schedule",
                "create",
                "s",
                "rate(1 minute)",
                "x",
                "--start-date",
                "2099-01-02T00:00:00Z",
                "--end-date",
                "2099-01-01T00:00:00Z",
            ],
            "The StartDate you specify must come before the EndDate",
        ),
        (["schedule", "delete", "nope"], "does not exist"),
        (["workflow", "send-task-success", "no-such-token"], "Task Does Not Exist"),
        (["workflow", "send-task-failure", "no-such-token", "--error", "E"], "Task Does Not Exist"),
        (["workflow", "send-task-heartbeat", "no-such-token"], "Task Does Not Exist"),
    ],
)
def test_errors_print_without_traceback(lake_home: Path, args: list[str], message: str) -> None:
    code, output = invoke(lake_home, *args)
    assert code == 1
    assert message in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("x = 1\n", "has no register(service)"),
        ("raise RuntimeError('boom')\n", "boom"),
        ("def register(service):\n    service.nope()\n", "AttributeError"),
    ],
)
def test_broken_tasks_file(
    lake_home: Path, files: dict[str, Path], body: str, message: str
) -> None:
    files["tasks"].write_text(body)
    code, output = invoke(
        lake_home, "workflow", "validate", str(files["good"]), "--tasks", str(files["tasks"])
    )
    assert code == 1 and message in output and "Traceback" not in output


def test_schedule_commands(lake_home: Path, files: dict[str, Path]) -> None:
    invoke(lake_home, "workflow", "create", "doubler", str(files["good"]))
    code, output = invoke(
        lake_home,
        "schedule",
        "create",
        "nightly",
        "cron(0 2 * * ? *)",
        "doubler",
        "--input",
        '{"v": 50}',
        "--timezone",
        "Europe/Paris",
    )
    assert code == 0, output
    assert "schedule/default/nightly" in output and "next:" in output
    code, output = invoke(lake_home, "schedule", "list", "--json")
    [listed] = json.loads(output)
    assert (listed["Name"], listed["ScheduleExpressionTimezone"]) == ("nightly", "Europe/Paris")
    code, output = invoke(
        lake_home,
        "schedule",
        "run",
        "--tasks",
        str(files["tasks"]),
        "--now",
        "2099-01-01T01:05:00Z",
    )
    assert code == 0
    assert "nightly @ 2099-01-01T01:00:00+00:00: arn:aws:states" in output
    code, output = invoke(lake_home, "schedule", "run", "--now", "2099-01-01T01:06:00Z")
    assert output.strip() == "nothing due"
    code, output = invoke(lake_home, "workflow", "list", "doubler", "--json")
    assert [e["status"] for e in json.loads(output)] == ["SUCCEEDED"]
    code, output = invoke(lake_home, "schedule", "list")
    assert "nightly" in output
    code, output = invoke(lake_home, "schedule", "delete", "nightly")
    assert code == 0


# -- schedule run holds the streams' buffering interval ---------------------------------


@pytest.fixture
def lake(lake_home: Path) -> Iterator[Lake]:
    opened = lakebox.connect(lake_home).lake
    yield opened
    opened.close()


def _stream(lake: Lake, interval: int) -> DeliveryStreams:
    streams = DeliveryStreams(lake)
    streams.create_delivery_stream(
        "s",
        {
            "BucketARN": "arn:aws:s3:::lake",
            "Prefix": "s/",
            "BufferingHints": {"IntervalInSeconds": interval},
        },
    )
    return streams


def test_schedule_run_delivers_due_stream_buffers(lake: Lake, lake_home: Path) -> None:
    streams = _stream(lake, 1)
    streams.put("s", b"a", b"b")
    code, output = invoke(lake_home, "schedule", "run")
    assert code == 0
    assert output.strip() == "nothing due"  # the buffer is not due before its second
    time.sleep(1.1)
    code, output = invoke(lake_home, "schedule", "run")
    assert code == 0, output
    assert "stream s: delivered 2 of 2 records to 1 object(s)" in output
    [f] = lake.storage.list_files("s3://lake/s/")
    assert lake.storage.read_bytes(f.uri) == b"ab"


def test_schedule_run_loop_delivers_another_process_put_without_flush(
    lake: Lake, lake_home: Path
) -> None:
    _stream(lake, 3)
    env = {**os.environ, "LAKEBOX_HOME": str(lake_home)}
    cli_cmd = [sys.executable, "-m", "lakebox.cli"]
    scheduler = subprocess.Popen(
        [*cli_cmd, "schedule", "run", "--loop", "--poll", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        put = subprocess.run(
            [*cli_cmd, "stream", "put", "s"],
            input="a\nb\n",
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert put.returncode == 0, put.stderr
        assert "buffered 2 records in s; delivery due at" in put.stderr
        deadline = time.monotonic() + 60
        while not lake.storage.list_files("s3://lake/s/") and time.monotonic() < deadline:
            time.sleep(0.2)
        [f] = lake.storage.list_files("s3://lake/s/")
        assert lake.storage.read_bytes(f.uri) == b"ab"
    finally:
        scheduler.send_signal(signal.SIGINT)
        try:
            out, err = scheduler.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            scheduler.kill()
            out, err = scheduler.communicate()
    assert "stream s: delivered 2 of 2 records" in out, err
    assert "Traceback" not in err


def test_definition_in_utf16_or_with_a_bom_is_accepted(
    lake_home: Path, files: dict[str, Path], tmp_path: Path
) -> None:
    text = files["good"].read_text()
    for name, data in (
        ("u16.json", text.encode("utf-16")),
        ("u16be.json", b"\xfe\xff" + text.encode("utf-16-be")),
        ("bom.json", b"\xef\xbb\xbf" + text.encode()),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        code, output = invoke(lake_home, "workflow", "validate", str(path))
        assert (code, output.strip()) == (0, "valid"), name
    code, output = invoke(lake_home, "workflow", "create", "wide", str(tmp_path / "u16.json"))
    assert code == 0 and output.strip().endswith(":stateMachine:wide")


@pytest.mark.parametrize("command", ["validate", "create"])
def test_binary_or_undecodable_definition_is_one_line(
    lake_home: Path, tmp_path: Path, command: str
) -> None:
    binary = tmp_path / "machine.bin"
    binary.write_bytes(bytes(range(256)))
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"Comment": "café"}'.encode("latin-1"))
    args = ["x"] if command == "create" else []
    for path, message in (
        (binary, "looks like a binary file"),
        (latin, "is not UTF-8 text: byte 0xe9 at offset 16"),
    ):
        code, output = invoke(lake_home, "workflow", command, *args, str(path))
        assert code == 1 and "Traceback" not in output
        assert f"definition file {path} {message}" in output


def test_input_file_is_decoded_or_named(
    lake_home: Path, files: dict[str, Path], tmp_path: Path
) -> None:
    create = ["workflow", "create", "doubler", str(files["good"])]
    assert invoke(lake_home, *create)[0] == 0
    tasks = ["--tasks", str(files["tasks"])]
    good = tmp_path / "in16.json"
    good.write_bytes(json.dumps({"v": 21}).encode("utf-16"))
    code, output = invoke(
        lake_home, "workflow", "start", "doubler", *tasks, "--input-file", str(good)
    )
    assert code == 0 and '"v": 42' in output
    bad = tmp_path / "in.bin"
    bad.write_bytes(b"\x00\xff\x00")
    code, output = invoke(
        lake_home, "workflow", "start", "doubler", *tasks, "--input-file", str(bad)
    )
    assert code == 1 and f"input file {bad} looks like a binary file" in output
    junk = tmp_path / "in.txt"
    junk.write_text("{\n  oops")
    code, output = invoke(
        lake_home, "workflow", "start", "doubler", *tasks, "--input-file", str(junk)
    )
    assert code == 1 and f"input file {junk} is not JSON:" in output and "line 2" in output


def test_validate_needs_no_lake_and_makes_none(files: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "nolake"
    code, output = invoke(missing, "workflow", "validate", str(files["good"]))
    assert (code, output.strip()) == (0, "valid")
    code, output = invoke(missing, "workflow", "list")
    assert code == 1 and f"no lake at {missing}" in output
    assert not missing.exists()


def test_deeply_nested_json_files_are_one_line_errors(lake_home: Path, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    ok = tmp_path / "ok.json"
    ok.write_text('{"StartAt": "a", "States": {"a": {"Type": "Pass", "End": true}}}')
    code, output = invoke(lake_home, "workflow", "validate", str(deep))
    assert code == 1 and "nested too deeply" in output and "internal error" not in output
    assert invoke(lake_home, "workflow", "create", "m", str(ok))[0] == 0
    code, output = invoke(lake_home, "workflow", "start", "m", "--input-file", str(deep))
    assert code == 1 and f"input file {deep} is JSON nested too deeply" in output
    from lakebox.cli import app as lakebox_app

    res = cli.invoke(lakebox_app, ["stream", "create", "s", "--config", str(deep)])
    assert res.exit_code == 1 and "nested too deeply" in res.output
