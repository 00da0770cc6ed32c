"""Athena's workgroup engine versions through ``lakebox serve`` and boto3: CreateWorkGroup
with ``EngineVersion.SelectedEngineVersion = "PySpark engine version 3"`` makes a
workgroup whose StartQueryExecution SQL runs on lakebox's Spark engine (Spark in local
mode inside the server), while ``primary`` answers the same query on DuckDB in the same
lake and process; GetWorkGroup, ListWorkGroups and GetQueryExecution report the engine
versions as Athena does; an unknown version is Athena's InvalidRequestException."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from server.conftest import REGION, Served, aws_cli, serving

pytestmark = pytest.mark.xdist_group("server")

PYSPARK = "PySpark engine version 3"
ATHENA_SQL = "Athena engine version 3"
BUCKET = "engines"
QUERY = "SELECT item, sum(amount) AS total FROM orders GROUP BY item ORDER BY item"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server whose Spark engine (started by the first Spark query) runs on one core."""
    env = {"LAKEBOX_SPARK_MASTER": "local[1]", "SPARK_LOCAL_IP": "127.0.0.1"}
    with serving(tmp_path_factory.mktemp("serve-engines"), env=env) as (server, _):
        yield server


@pytest.fixture(scope="module")
def athena(served: Served) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "athena",
        endpoint_url=served.url,
        region_name=REGION,
        aws_access_key_id=served.admin_key,
        aws_secret_access_key=served.admin_secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def _run(athena: Any, sql: str, workgroup: str = "primary") -> tuple[dict[str, Any], list[Any]]:
    qid = athena.start_query_execution(
        QueryString=sql,
        WorkGroup=workgroup,
        ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/results/"},
    )["QueryExecutionId"]
    deadline = time.monotonic() + 300  # the first Spark query starts a JVM
    while True:
        qe = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if qe["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        assert time.monotonic() < deadline, qe
        time.sleep(0.1)
    assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    return qe, [[d.get("VarCharValue") for d in r["Data"]] for r in rows]


def test_a_spark_workgroup_answers_as_primary_on_duckdb(served: Served, athena: Any) -> None:
    folder = Path(served.home) / BUCKET / "orders"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("apple,2.5\npear,1.25\napple,1.0\n")
    _run(
        athena,
        "CREATE EXTERNAL TABLE orders (item string, amount double) "
        f"ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://{BUCKET}/orders/'",
    )
    athena.create_work_group(
        Name="spark-wg",
        Description="notebook users",
        Configuration={"EngineVersion": {"SelectedEngineVersion": PYSPARK}},
    )
    got = athena.get_work_group(WorkGroup="spark-wg")["WorkGroup"]
    assert got["Configuration"]["EngineVersion"] == {
        "SelectedEngineVersion": PYSPARK,
        "EffectiveEngineVersion": PYSPARK,
    }
    primary = athena.get_work_group(WorkGroup="primary")["WorkGroup"]
    assert primary["Configuration"]["EngineVersion"] == {
        "SelectedEngineVersion": "AUTO",
        "EffectiveEngineVersion": ATHENA_SQL,
    }
    listed = {w["Name"]: w["EngineVersion"] for w in athena.list_work_groups()["WorkGroups"]}
    assert listed["spark-wg"]["SelectedEngineVersion"] == PYSPARK

    on_duck, duck_rows = _run(athena, QUERY)
    on_spark, spark_rows = _run(athena, QUERY, "spark-wg")
    assert duck_rows == spark_rows == [["item", "total"], ["apple", "3.5"], ["pear", "1.25"]]
    assert on_spark["WorkGroup"] == "spark-wg"
    assert on_spark["EngineVersion"] == {
        "SelectedEngineVersion": PYSPARK,
        "EffectiveEngineVersion": PYSPARK,
    }
    assert on_duck["EngineVersion"]["EffectiveEngineVersion"] == ATHENA_SQL

    # switched back to Athena's SQL engine: the next query runs on DuckDB
    athena.update_work_group(
        WorkGroup="spark-wg",
        ConfigurationUpdates={"EngineVersion": {"SelectedEngineVersion": ATHENA_SQL}},
    )
    back, rows = _run(athena, QUERY, "spark-wg")
    assert rows == duck_rows
    assert back["EngineVersion"] == {
        "SelectedEngineVersion": ATHENA_SQL,
        "EffectiveEngineVersion": ATHENA_SQL,
    }
    # the earlier execution still says where it ran
    earlier = athena.get_query_execution(QueryExecutionId=on_spark["QueryExecutionId"])
    assert earlier["QueryExecution"]["EngineVersion"]["EffectiveEngineVersion"] == PYSPARK


def test_an_unknown_engine_version_is_an_invalid_request(athena: Any) -> None:
    with pytest.raises(ClientError) as caught:
        athena.create_work_group(
            Name="bad-engine",
            Configuration={"EngineVersion": {"SelectedEngineVersion": "Athena engine version 9"}},
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidRequestException"
    assert "Invalid engine version: 'Athena engine version 9'" in error["Message"]
    names = [w["Name"] for w in athena.list_work_groups()["WorkGroups"]]
    assert "bad-engine" not in names
    with pytest.raises(ClientError) as caught:
        athena.update_work_group(
            WorkGroup="primary",
            ConfigurationUpdates={"EngineVersion": {"SelectedEngineVersion": "Spark"}},
        )
    assert caught.value.response["Error"]["Code"] == "InvalidRequestException"
    athena.create_work_group(Name="short-lived")
    athena.delete_work_group(WorkGroup="short-lived")
    assert "short-lived" not in [w["Name"] for w in athena.list_work_groups()["WorkGroups"]]


def test_the_aws_cli_creates_a_spark_workgroup(served: Served) -> None:
    made = aws_cli(
        served,
        "athena",
        "create-work-group",
        "--name",
        "cli-spark",
        "--configuration",
        json.dumps({"EngineVersion": {"SelectedEngineVersion": PYSPARK}}),
    )
    assert made.returncode == 0, made.stderr
    shown = aws_cli(served, "athena", "get-work-group", "--work-group", "cli-spark")
    assert shown.returncode == 0, shown.stderr
    config = json.loads(shown.stdout)["WorkGroup"]["Configuration"]
    assert config["EngineVersion"] == {
        "SelectedEngineVersion": PYSPARK,
        "EffectiveEngineVersion": PYSPARK,
    }
    versions = aws_cli(served, "athena", "list-engine-versions")
    assert versions.returncode == 0, versions.stderr
    selectable = [v["SelectedEngineVersion"] for v in json.loads(versions.stdout)["EngineVersions"]]
    assert ATHENA_SQL in selectable and PYSPARK in selectable


@pytest.mark.parametrize(
    ("name", "output"),
    [
        ("bad name!", None),  # Athena's name rules: letters, digits, '.', '_', '-'
        ("ok-name", "s3://results/../../etc/"),  # a location climbing out of its bucket
        ("ok-name", "/etc/"),  # not an s3:// location
    ],
)
def test_create_work_group_refuses_bad_names_and_locations(
    athena: Any, name: str, output: str | None
) -> None:
    """The new door checks what comes in: Athena's name rules and the storage boundary
    for the output location, each an InvalidRequestException; nothing is created."""
    config = {"ResultConfiguration": {"OutputLocation": output}} if output else {}
    with pytest.raises(ClientError) as caught:
        athena.create_work_group(Name=name, Configuration=config)
    assert caught.value.response["Error"]["Code"] == "InvalidRequestException"
    assert caught.value.response["Error"]["Message"]
    assert name not in [w["Name"] for w in athena.list_work_groups()["WorkGroups"]]
