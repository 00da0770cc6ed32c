from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crawler.conftest import write
from lakebox.cli.crawler import crawler_app
from lakebox.config import LakeConfig

runner = CliRunner()


def invoke(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(crawler_app, [*args, "--home", str(home)])
    return result.exit_code, result.output


def test_crawler_cli_lifecycle(config: LakeConfig) -> None:
    home = config.home
    write(home / "data" / "t" / "dt=1" / "a.json", '{"a": 1}\n')
    write(home / "data" / "t" / "dt=2" / "a.json", '{"a": 2}\n')
    write(home / "data" / "t" / "dt=2" / "b.json", '{broken\n{"a": 1}\n')
    code, text = invoke(
        home, "create", "c1", "-d", "default", "-t", "s3://data/t/", "--table-prefix", "raw_"
    )
    assert code == 0, text
    code, text = invoke(home, "start", "c1")
    assert code == 0, text
    assert "SUCCEEDED" in text and "created: raw_t" in text
    assert "skipped s3://data/t/dt=2/b.json" in text
    code, text = invoke(home, "list", "--json")
    rows = json.loads(text)
    assert rows[0]["name"] == "c1" and rows[0]["last_run"] == "SUCCEEDED"
    code, text = invoke(home, "runs", "c1", "--json")
    runs = json.loads(text)
    assert len(runs) == 1 and runs[0]["partitions_added"] == 2
    code, text = invoke(home, "update", "c1", "--exclude", "**/b.json")
    assert code == 0, text
    code, text = invoke(home, "show", "c1", "--json")
    shown = json.loads(text)
    assert shown["crawler"]["targets"][0]["exclusions"] == ["**/b.json"]
    assert shown["crawler"]["version"] == 2
    code, text = invoke(home, "start", "c1", "-q")
    assert code == 0 and "skipped 0" in text and "skipped s3://" not in text
    code, text = invoke(home, "show", "c1")
    assert "target s3://data/t/ (exclude **/b.json)" in text
    code, text = invoke(home, "delete", "c1")
    assert code == 0
    code, text = invoke(home, "show", "c1")
    assert code == 1 and "not found" in text


def test_cli_rejects_bad_definitions_without_traceback(config: LakeConfig) -> None:
    code, text = invoke(
        config.home, "create", "c", "-d", "default", "-t", "s3://x/", "--update-behavior", "merge"
    )
    assert code == 1 and "UpdateBehavior" in text and "Traceback" not in text
    code, text = invoke(
        config.home, "create", "c", "-d", "default", "-t", "s3://x/", "--classifier", "{not json"
    )
    assert code == 1 and "--classifier" in text


def test_list_on_a_missing_lake_says_how_to_make_one(tmp_path: Path) -> None:
    home = tmp_path / "nolake"
    code, text = invoke(home, "list")
    assert code == 1 and f"no lake at {home}: create one with `lakebox init" in text
    assert not home.exists()
    code, text = invoke(home, "create", "c", "-d", "default", "-t", "s3://data/t/")
    assert code == 0 and (home / "_lakebox").is_dir()


def test_bad_classifier_option_says_what_is_wrong(config: LakeConfig) -> None:
    home = config.home
    for raw, message in (
        ("[1]", "must be a JSON object"),
        ('{"name": "x"}', "missing kind (fields: name, kind,"),
        ('{"name": "x", "kind": "grok", "colour": 1}', "unknown field(s) colour"),
        ("{oops", "is not JSON"),
    ):
        code, text = invoke(home, "create", "c", "-d", "default", "--classifier", raw)
        assert code == 1 and message in text and "Traceback" not in text, text
