"""The ``lakebox stream`` sub-app, driven as a user would through Typer's runner."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakebox.cli.ingest import stream_app
from lakebox.ingest import DeliveryStreams
from lakebox.session import Lake

runner = CliRunner()


def test_stream_commands_round_trip(lake: Lake, lake_home: Path) -> None:
    home = ["--home", str(lake_home)]
    res = runner.invoke(
        stream_app,
        ["create", "clicks", "--bucket", "lake", "--prefix", "c/", "--newline", "--gzip", *home],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["DeliveryStreamARN"].endswith("/clicks")
    res = runner.invoke(stream_app, ["put", "clicks", *home], input='{"a": 1}\n\n{"a": 2}\n')
    assert res.exit_code == 0, res.output
    answer = json.loads(res.stdout)
    assert (answer["RecordCount"], answer["FailedPutCount"], answer["BufferedRecords"]) == (
        2,
        0,
        2,
    )
    due = answer["DeliveryDueAt"]
    assert f"delivery due at {due[:19]}Z (IntervalInSeconds=300" in res.stderr
    assert "lakebox stream flush clicks" in res.stderr
    desc = json.loads(runner.invoke(stream_app, ["describe", "clicks", *home]).output)
    assert desc["DeliveryStreamDescription"]["LakeboxBufferedRecords"] == 2
    assert desc["DeliveryStreamDescription"]["LakeboxDeliveryDueAt"] == due
    flushed = json.loads(runner.invoke(stream_app, ["flush", "clicks", *home]).output)
    assert flushed["Delivered"] == 2 and flushed["Objects"][0].endswith(".gz")
    listed = json.loads(runner.invoke(stream_app, ["list", *home]).output)
    assert listed["DeliveryStreamNames"] == ["clicks"]
    assert runner.invoke(stream_app, ["delete", "clicks", *home]).exit_code == 0
    missing = runner.invoke(stream_app, ["describe", "clicks", *home])
    assert missing.exit_code == 1
    assert "not found" in missing.output


def test_invalid_hint_is_one_line_error(lake_home: Path) -> None:
    res = runner.invoke(
        stream_app, ["create", "s", "--bucket", "b", "--size-mb", "200", "--home", str(lake_home)]
    )
    assert res.exit_code == 1
    assert "less than or equal to 128" in res.output
    assert "Traceback" not in res.output


# -- a put that meets bad lines, resuming, progress -------------------------------------


def _lines(numbers: range) -> str:
    return "".join(f'{{"n": {i}}}\n' for i in numbers)


def _delivered(lake: Lake, prefix: str) -> list[int]:
    out: list[int] = []
    for f in lake.storage.list_files(prefix):
        out.extend(json.loads(x)["n"] for x in lake.storage.read_bytes(f.uri).splitlines())
    return sorted(out)


@pytest.fixture
def stream(lake: Lake) -> str:
    DeliveryStreams(lake).create_delivery_stream(
        "s",
        {
            "BucketARN": "arn:aws:s3:::lake",
            "Prefix": "p/",
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [{"Type": "AppendDelimiterToRecord", "Parameters": []}],
            },
        },
    )
    return "s"


def test_oversized_line_fails_alone_and_retrying_the_failed_file_duplicates_nothing(
    lake: Lake, lake_home: Path, stream: str, tmp_path: Path
) -> None:
    big = '{"n": 1200, "pad": "' + "x" * 1_100_000 + '"}\n'
    text = _lines(range(1200)) + big + _lines(range(1201, 1300))
    failed = tmp_path / "failed.jsonl"
    home = ["--home", str(lake_home)]
    res = runner.invoke(
        stream_app, ["put", stream, "--failed-records", str(failed), *home], input=text
    )
    assert res.exit_code == 3, res.output
    answer = json.loads(res.stdout)
    assert (answer["RecordCount"], answer["FailedPutCount"]) == (1300, 1)
    [bad] = answer["FailedRecords"]
    assert bad["Line"] == 1201 and bad["ErrorCode"] == "ValidationException"
    assert "1024000" in bad["ErrorMessage"]
    assert "do not put the whole input again" in res.stderr
    assert f"lakebox stream put s < {failed}" in res.stderr
    assert failed.read_text() == big
    failed.write_text('{"n": 1200}\n')  # the user fixes the line
    res = runner.invoke(stream_app, ["put", stream, *home], input=failed.read_text())
    assert res.exit_code == 0, res.output
    runner.invoke(stream_app, ["flush", stream, *home])
    assert _delivered(lake, "s3://lake/p/") == list(range(1300))


def test_failed_lines_without_a_file_are_named_with_a_command_to_extract_them(
    lake_home: Path, stream: str
) -> None:
    text = _lines(range(3)) + "y" * 1_024_001 + "\n" + _lines(range(3, 5))
    res = runner.invoke(stream_app, ["put", stream, "--home", str(lake_home)], input=text)
    assert res.exit_code == 3
    assert "input lines 4;" in res.stderr
    assert "sed -n '4p' INPUT" in res.stderr


def test_failed_records_file_is_removed_when_nothing_fails(
    lake_home: Path, stream: str, tmp_path: Path
) -> None:
    stale = tmp_path / "failed.jsonl"
    stale.write_text("from an earlier run\n")
    res = runner.invoke(
        stream_app,
        ["put", stream, "--failed-records", str(stale), "--home", str(lake_home)],
        input=_lines(range(2)),
    )
    assert res.exit_code == 0, res.output
    assert not stale.exists()


def test_skip_resumes_after_the_given_line(lake: Lake, lake_home: Path, stream: str) -> None:
    home = ["--home", str(lake_home)]
    text = _lines(range(10))
    res = runner.invoke(stream_app, ["put", stream, "--skip", "7", *home], input=text)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["RecordCount"] == 3
    runner.invoke(stream_app, ["flush", stream, *home])
    assert _delivered(lake, "s3://lake/p/") == [7, 8, 9]


def test_progress_lines_only_when_asked_off_a_terminal(lake_home: Path, stream: str) -> None:
    home = ["--home", str(lake_home)]
    text = _lines(range(25_000))
    quiet = runner.invoke(stream_app, ["put", stream, *home], input=text)
    assert "records/s" not in quiet.stderr
    loud = runner.invoke(stream_app, ["put", stream, "--progress", *home], input=text)
    progress = [x for x in loud.stderr.splitlines() if x.startswith("put ")]
    assert [x.split(" records")[0] for x in progress] == [
        "put 10,000",
        "put 20,000",
        "put 25,000",
    ]


def test_wait_returns_once_delivered_and_not_before_the_interval(
    lake: Lake, lake_home: Path
) -> None:
    DeliveryStreams(lake).create_delivery_stream(
        "w",
        {
            "BucketARN": "arn:aws:s3:::lake",
            "Prefix": "w/",
            "BufferingHints": {"IntervalInSeconds": 2},
        },
    )
    started = time.time()
    res = runner.invoke(
        stream_app, ["put", "w", "--wait", "--home", str(lake_home)], input="a\nb\n"
    )
    assert res.exit_code == 0, res.output
    answer = json.loads(res.stdout)
    assert answer["Delivered"] is True and answer["BufferedRecords"] == 0
    assert time.time() - started >= 1.9
    assert "waiting for delivery, due at" in res.stderr
    [f] = lake.storage.list_files("s3://lake/w/")
    assert lake.storage.read_bytes(f.uri) == b"ab"


def test_wait_timeout_says_the_records_are_kept(lake: Lake, lake_home: Path, stream: str) -> None:
    res = runner.invoke(
        stream_app,
        ["put", stream, "--wait", "--wait-timeout", "0.5", "--home", str(lake_home)],
        input=_lines(range(2)),
    )
    assert res.exit_code == 1
    assert json.loads(res.stdout)["Delivered"] is False
    assert "accepted and kept, do not put them again" in res.stderr
    assert DeliveryStreams(lake).buffer_status(stream).records == 2


def test_put_to_a_missing_stream_reads_nothing_and_says_so(lake_home: Path) -> None:
    res = runner.invoke(stream_app, ["put", "nope", "--home", str(lake_home)], input="a\n")
    assert res.exit_code == 1
    assert "not found" in res.stderr and "Traceback" not in res.output


# -- real processes: Ctrl-C, SIGKILL, a terminal ----------------------------------------

CLI = [sys.executable, "-m", "lakebox.cli"]


def _env(lake_home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "LAKEBOX_HOME": str(lake_home), **extra}


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    """What a child wrote to ``fd`` up to and including ``marker`` (bounded wait)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} within {timeout}s; got {seen[-500:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # a pty whose other end closed
                chunk = b""
            assert chunk, f"closed before {marker!r}; got {seen[-500:]!r}"
            seen += chunk
    return seen


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def test_interrupted_put_names_the_skip_that_resumes_without_duplicates(
    lake: Lake, lake_home: Path, stream: str
) -> None:
    proc = subprocess.Popen(
        [*CLI, "stream", "put", stream, "--progress"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(lake_home),
    )
    try:
        assert proc.stdin is not None and proc.stderr is not None
        proc.stdin.write(_lines(range(15_000)).encode())
        proc.stdin.flush()  # stdin stays open: the put is still reading when interrupted
        _read_until(proc.stderr.fileno(), b"put 10,000 records", 120)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        _stop(proc)
    assert proc.returncode == 130, err
    message = err.decode()
    assert "error: interrupted" in message and "Traceback" not in message
    skip = int(re.search(r"lakebox stream put s --skip (\d+) < INPUT", message).group(1))  # type: ignore[union-attr]
    assert 0 < skip <= 15_000
    res = runner.invoke(
        stream_app,
        ["put", stream, "--skip", str(skip), "--home", str(lake_home)],
        input=_lines(range(30_000)),
    )
    assert res.exit_code == 0, res.output
    DeliveryStreams(lake).flush(stream)
    assert _delivered(lake, "s3://lake/p/") == list(range(30_000))


def _interval_stream(lake: Lake, interval: int) -> None:
    DeliveryStreams(lake).create_delivery_stream(
        "k",
        {
            "BucketARN": "arn:aws:s3:::lake",
            "Prefix": "k/",
            "BufferingHints": {"IntervalInSeconds": interval},
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [{"Type": "AppendDelimiterToRecord", "Parameters": []}],
            },
        },
    )


def _schedule_run_until_delivered(lake: Lake, lake_home: Path, count: int) -> None:
    """`lakebox schedule run` (one round each time) until the buffer was due and went."""
    deadline = time.monotonic() + 60
    while DeliveryStreams(lake).buffer_status("k").records:
        assert time.monotonic() < deadline, "schedule run did not deliver the buffer"
        run = subprocess.run(
            [*CLI, "schedule", "run"], capture_output=True, env=_env(lake_home), timeout=120
        )
        assert run.returncode == 0, run.stderr
        time.sleep(0.2)
    assert _delivered(lake, "s3://lake/k/") == list(range(count))


def test_put_killed_while_waiting_loses_and_duplicates_nothing(lake: Lake, lake_home: Path) -> None:
    _interval_stream(lake, 3)
    proc = subprocess.Popen(
        [*CLI, "stream", "put", "k", "--wait"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(lake_home),
    )
    try:
        assert proc.stdin is not None and proc.stderr is not None
        proc.stdin.write(_lines(range(2_000)).encode())
        proc.stdin.close()
        _read_until(proc.stderr.fileno(), b"waiting for delivery", 120)
        os.kill(proc.pid, signal.SIGKILL)  # acknowledged, not yet delivered
    finally:
        _stop(proc)
    assert proc.returncode == -signal.SIGKILL
    _schedule_run_until_delivered(lake, lake_home, 2_000)


def test_put_killed_in_the_middle_of_its_delivery_is_redone_exactly_once(
    lake: Lake, lake_home: Path
) -> None:
    _interval_stream(lake, 1)
    proc = subprocess.run(
        [*CLI, "stream", "put", "k", "--wait"],
        input=_lines(range(700)).encode(),
        capture_output=True,
        env=_env(lake_home, LAKEBOX_INGEST_FAILPOINT="after-first-object"),
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert len(lake.storage.list_files("s3://lake/k/")) == 1  # the interrupted delivery's
    _schedule_run_until_delivered(lake, lake_home, 700)
    assert len(lake.storage.list_files("s3://lake/k/")) == 1


def test_progress_is_rewritten_in_place_on_a_terminal(
    lake: Lake, lake_home: Path, stream: str
) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*CLI, "stream", "put", stream],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=_env(lake_home),
    )
    os.close(follower)
    try:
        assert proc.stdin is not None
        proc.stdin.write(_lines(range(1_000)).encode())
        proc.stdin.flush()
        deadline = time.monotonic() + 120
        while not DeliveryStreams(lake).buffer_status(stream).records:  # it is reading
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1.2)  # a put that lasts more than a second shows progress
        proc.stdin.write(_lines(range(1_000, 2_000)).encode())
        proc.stdin.close()
        shown = _read_until(leader, b"buffered 2000 records", 120)
        assert proc.wait(timeout=60) == 0
    finally:
        _stop(proc)
        os.close(leader)
    assert b"\rput 2,000 records" in shown and b"records/s" in shown


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "is not JSON: Expecting value at line 1 column 1"),
        (b"[1, 2]", "must hold a JSON object, not an array"),
        (b'{"ExtendedS3DestinationConfiguration": 3}', "must be an object"),
        (b"\x00\x01\x02", "looks like a binary file"),
        (None, "does not exist"),
    ],
)
def test_bad_config_file_is_one_line_naming_it(
    lake_home: Path, tmp_path: Path, content: bytes | None, message: str
) -> None:
    config = tmp_path / "dest.json"
    if content is not None:
        config.write_bytes(content)
    res = runner.invoke(
        stream_app, ["create", "s", "--config", str(config), "--home", str(lake_home)]
    )
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"--config file {config}" in res.output and message in res.output


def test_bad_config_creates_no_lake(tmp_path: Path) -> None:
    config = tmp_path / "dest.json"
    config.write_text("[]")
    home = tmp_path / "nolake"
    res = runner.invoke(stream_app, ["create", "s", "--config", str(config), "--home", str(home)])
    assert res.exit_code == 1 and not home.exists()
    res = runner.invoke(stream_app, ["list", "--home", str(home)])
    assert res.exit_code == 1 and f"no lake at {home}" in res.output


# -- damaged metadata files --------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"", "not JSON"),
        (b"[1, 2]", "holds an array"),
        (b'{"VersionId": 1}', "ExtendedS3DestinationConfiguration"),
        (b"\xff\xfe\x00a", "byte 0xff at offset 0 is not UTF-8"),
    ],
)
def test_damaged_stream_definition_is_one_line_naming_the_file(
    lake_home: Path, content: bytes, detail: str
) -> None:
    from lakebox.cli import app

    home = ["--home", str(lake_home)]
    assert runner.invoke(app, ["stream", "create", "s1", "--bucket", "b", *home]).exit_code == 0
    path = lake_home / "_lakebox" / "streams" / "s1" / "stream.json"
    path.write_bytes(content)
    for args in (["describe", "s1"], ["flush", "s1"], ["delete", "s1"]):
        res = runner.invoke(app, ["stream", *args, *home])
        assert res.exit_code == 1, (args, res.output)
        assert f"metadata file {path} is damaged" in res.output
        assert detail in res.output
        assert "internal error" not in res.output and "Traceback" not in res.output
    assert path.read_bytes() == content


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"garbage{", "not JSON"),
        (b"[1]", "holds an array"),
        (b'{"delivered": "x"}', "not a number"),
        (b'{"intent": 5}', "'intent' is not a JSON object"),
    ],
)
def test_damaged_delivery_state_is_one_line_naming_the_file(
    lake_home: Path, content: bytes, detail: str
) -> None:
    from lakebox.cli import app

    home = ["--home", str(lake_home)]
    assert runner.invoke(app, ["stream", "create", "s1", "--bucket", "b", *home]).exit_code == 0
    path = lake_home / "_lakebox" / "streams" / "s1" / "state.json"
    path.write_bytes(content)
    for args in (["describe", "s1"], ["flush", "s1"]):
        res = runner.invoke(app, ["stream", *args, *home])
        assert res.exit_code == 1, (args, res.output)
        assert f"metadata file {path} is damaged" in res.output and detail in res.output
    doctor = runner.invoke(app, ["doctor", *home])
    assert "internal error" not in doctor.output and "Traceback" not in doctor.output
