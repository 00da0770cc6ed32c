"""The ``lakebox stream`` sub-app, driven as a user would through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

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
