"""The ``lakebox stream`` sub-app, driven as a user would through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakebox.ingest.cli import stream_app
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
    assert json.loads(res.output) == {"RecordCount": 2, "FailedPutCount": 0}
    desc = json.loads(runner.invoke(stream_app, ["describe", "clicks", *home]).output)
    assert desc["DeliveryStreamDescription"]["LakeboxBufferedRecords"] == 2
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
