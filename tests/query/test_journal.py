"""Write journals that are damaged (edited, cut short) never crash opening the lake."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakebox.cli import app


@pytest.mark.parametrize(
    "content",
    [
        "[1]",
        '{"kind": 5, "phase": []}',
        '{"query_id": "a", "kind": "CTAS", "target": "s3://b/x/", "staging": "s3://b/y/",'
        ' "pid": "x"}',
    ],
)
def test_damaged_write_journal_is_left_alone_and_named_by_doctor(
    lake_home: Path, content: str
) -> None:
    folder = lake_home / "_lakebox" / "writes"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "q1.json"
    path.write_text(content)
    runner = CliRunner()
    res = runner.invoke(app, ["sql", "SELECT 1", "--home", str(lake_home)])
    assert res.exit_code == 0, res.output
    doctor = runner.invoke(app, ["doctor", "--home", str(lake_home)])
    assert "write journal q1.json: cannot be read" in doctor.output
    assert path.read_text() == content
