"""Task resources backed by lakebox's own services (Athena queries, Glue crawlers and jobs,
DynamoDB / RDS exports, Firehose), called with AWS's request shapes and answering with its
response shapes and error names."""

from __future__ import annotations

import json
import sqlite3
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakebox.catalog.model import Database
from lakebox.config import LakeConfig
from lakebox.crawler.model import Crawler, Target
from lakebox.crawler.service import CrawlerService
from lakebox.ingest.streams import DeliveryStreams
from lakebox.query.service import QueryService
from lakebox.session import Lake
from lakebox.workflows.clock import ManualClock, SystemClock
from lakebox.workflows.jobs import JobRegistry, substitute
from lakebox.workflows.service import Execution, WorkflowService
from workflows.helpers import START, machine
from workflows.shapes import check_history

ATHENA = "arn:aws:states:::athena:"
ATHENA_SDK = "arn:aws:states:::aws-sdk:athena:"
GLUE = "arn:aws:states:::glue:"
GLUE_SDK = "arn:aws:states:::aws-sdk:glue:"
RESULTS = "s3://athena-results/wf/"


class PollClock(ManualClock):
    """Manual time that also yields a little real time on each sleep, so a Wait + Choice
    loop lets background work (queries, job runs, crawls) progress without waiting long."""

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        time.sleep(0.01)
        return super().sleep(seconds, cancel)


class Env:
    """A lake with its query service and a workflow service sharing them."""

    def __init__(self, config: LakeConfig, clock: Any) -> None:
        self.lake = Lake(config)
        self.queries = QueryService(self.lake)
        self.jobs = JobRegistry(self.lake, self.queries)
        self.service = WorkflowService(
            config,
            clock=clock,
            stop_poll_seconds=0.05,
            services={"lake": self.lake, "queries": self.queries, "glue_jobs": self.jobs},
        )
        self.count = 0
        #: task results checked against botocore's output shapes (see shapes.py)
        self.checked = 0

    def run(self, definition: dict[str, Any], input: Any = None, wait: bool = True) -> Execution:
        self.count += 1
        name = f"sm{self.count}"
        self.service.create_state_machine(name, definition)
        run = self.service.start_execution(name, input, wait=wait)
        if wait:
            self.checked += check_history(self.service, run.arn)
        return run

    def sql(self, text: str) -> list[tuple[Any, ...]]:
        qe, result = self.queries.run(text)
        assert qe.state == "SUCCEEDED", qe.state_change_reason
        return result.fetchall() if result is not None else []

    def close(self) -> None:
        self.service.close()
        self.jobs.close()
        self.queries.close()
        self.lake.close()


@pytest.fixture
def env(config: LakeConfig) -> Iterator[Env]:
    e = Env(config, PollClock(START))
    yield e
    e.close()


def write(lake: Lake, uri: str, text: str) -> None:
    lake.storage.write_bytes(uri, textwrap.dedent(text).lstrip().encode())


def orders_table(env: Env) -> None:
    write(
        env.lake,
        "s3://raw/orders/part-0.json",
        """
        {"id": 1, "customer": "ann", "amount": 10.5}
        {"id": 2, "customer": "bob", "amount": 4.0}
        {"id": 3, "customer": "ann", "amount": 2.5}
        """,
    )
    env.sql(
        "CREATE EXTERNAL TABLE orders (id int, customer string, amount double) "
        "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://raw/orders/'"
    )


def task(resource: str, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, "Parameters": params, **extra}


def caught(resource: str, params: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    """A machine whose only Task routes the given errors to a Pass state."""
    return machine(
        {
            "Call": task(
                resource,
                params,
                Catch=[{"ErrorEquals": errors, "Next": "Handled", "ResultPath": "$.error"}],
                End=True,
            ),
            "Handled": {"Type": "Pass", "End": True},
        }
    )


def query_params(sql: str, **extra: Any) -> dict[str, Any]:
    return {
        "QueryString": sql,
        "QueryExecutionContext": {"Database": "default"},
        "WorkGroup": "primary",
        "ResultConfiguration": {"OutputLocation": RESULTS},
        **extra,
    }


# -- Athena -------------------------------------------------------------------------------------


def test_athena_sync_returns_the_finished_query_execution(env: Env) -> None:
    orders_table(env)
    sql = "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer ORDER BY 1"
    ex = env.run(
        machine({"Q": task(ATHENA + "startQueryExecution.sync", query_params(sql), End=True)})
    )
    assert ex.status == "SUCCEEDED", ex.cause
    qe = ex.output["QueryExecution"]
    assert qe["Status"]["State"] == "SUCCEEDED"
    assert qe["Query"] == sql
    assert qe["QueryExecutionContext"]["Database"] == "default"
    assert qe["ResultConfiguration"]["OutputLocation"] == f"{RESULTS}{qe['QueryExecutionId']}.csv"
    assert env.lake.storage.exists(qe["ResultConfiguration"]["OutputLocation"])
    assert qe["StatementType"] == "DML"
    assert env.checked == 1  # the result was checked against GetQueryExecution's shape


@pytest.mark.parametrize(
    "resource", [ATHENA + "startQueryExecution", ATHENA_SDK + "startQueryExecution"]
)
def test_athena_start_without_sync_returns_only_the_id(env: Env, resource: str) -> None:
    orders_table(env)
    ex = env.run(
        machine({"Q": task(resource, query_params("SELECT count(*) FROM orders"), End=True)})
    )
    assert ex.status == "SUCCEEDED", ex.cause
    assert list(ex.output) == ["QueryExecutionId"]
    qe = env.queries.wait(ex.output["QueryExecutionId"])
    assert qe.state == "SUCCEEDED"
    assert env.queries.result(qe.query_execution_id).fetchall() == [(3,)]


@pytest.mark.parametrize("prefix", [ATHENA, ATHENA_SDK])
def test_athena_get_query_results_in_athena_shape_with_paging(env: Env, prefix: str) -> None:
    orders_table(env)
    definition = machine(
        {
            "Start": task(
                ATHENA + "startQueryExecution.sync",
                query_params("SELECT id, customer FROM orders ORDER BY id"),
                ResultSelector={"id.$": "$.QueryExecution.QueryExecutionId"},
                ResultPath="$.query",
                Next="Page1",
            ),
            "Page1": task(
                prefix + "getQueryResults",
                {"QueryExecutionId.$": "$.query.id", "MaxResults": 2},
                ResultPath="$.page1",
                Next="Page2",
            ),
            "Page2": task(
                prefix + "getQueryResults",
                {"QueryExecutionId.$": "$.query.id", "NextToken.$": "$.page1.NextToken"},
                ResultPath="$.page2",
                End=True,
            ),
        }
    )
    ex = env.run(definition)
    assert ex.status == "SUCCEEDED", ex.cause

    def cells(page: dict[str, Any]) -> list[list[str]]:
        return [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]

    assert cells(ex.output["page1"]) == [["id", "customer"], ["1", "ann"]]
    assert cells(ex.output["page2"]) == [["2", "bob"], ["3", "ann"]]
    names = [c["Name"] for c in ex.output["page1"]["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
    assert names == ["id", "customer"]


def test_athena_sync_failed_query_is_task_failed_with_the_execution_as_cause(env: Env) -> None:
    definition = caught(
        ATHENA + "startQueryExecution.sync",
        query_params("SELECT * FROM no_such_table"),
        ["States.TaskFailed"],
    )
    ex = env.run(definition)
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["error"]["Error"] == "States.TaskFailed"
    cause = json.loads(ex.output["error"]["Cause"])
    assert cause["QueryExecution"]["Status"]["State"] == "FAILED"
    assert "no_such_table" in cause["QueryExecution"]["Status"]["StateChangeReason"]


@pytest.mark.parametrize("prefix", [ATHENA, ATHENA_SDK])
@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("getQueryExecution", {"QueryExecutionId": "5f9c0a3e-0000-0000-0000-000000000000"}),
        ("startQueryExecution", {"QueryString": "SELECT 1", "WorkGroup": "no-such-group"}),
        ("startQueryExecution", {"WorkGroup": "primary"}),
    ],
)
def test_athena_service_errors_are_named_like_step_functions(
    env: Env, prefix: str, action: str, params: dict[str, Any]
) -> None:
    ex = env.run(caught(prefix + action, params, ["Athena.InvalidRequestException"]))
    assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
    assert ex.output["error"]["Error"] == "Athena.InvalidRequestException"
    assert "Service: Athena" in ex.output["error"]["Cause"]


def test_athena_list_and_batch_get_query_executions(env: Env) -> None:
    first = env.queries.run("SELECT 1")[0].query_execution_id
    second = env.queries.run("SELECT 2")[0].query_execution_id
    definition = machine(
        {
            "List": task(
                ATHENA_SDK + "listQueryExecutions",
                {"WorkGroup": "primary", "MaxResults": 1},
                ResultPath="$.list",
                Next="Get",
            ),
            "Get": task(
                ATHENA_SDK + "batchGetQueryExecution",
                {"QueryExecutionIds": [first, second, "missing-id"]},
                ResultPath="$.batch",
                End=True,
            ),
        }
    )
    ex = env.run(definition)
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["list"]["QueryExecutionIds"] in ([first], [second])
    assert "NextToken" in ex.output["list"]
    got = {q["QueryExecutionId"]: q["Query"] for q in ex.output["batch"]["QueryExecutions"]}
    assert got == {first: "SELECT 1", second: "SELECT 2"}
    [missing] = ex.output["batch"]["UnprocessedQueryExecutionIds"]
    assert missing["QueryExecutionId"] == "missing-id"


SLOW_SQL = (
    "SELECT count(*) FROM UNNEST(sequence(1, 30000)) AS a(x) "
    "CROSS JOIN UNNEST(sequence(1, 30000)) AS b(y) WHERE (a.x * b.y) % 7 = 3"
)


def _running_query(env: Env) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ids, _ = env.queries.list_query_executions()
        for qid in ids:
            if env.queries.get_query_execution(qid).state == "RUNNING":
                return qid
        time.sleep(0.02)
    raise AssertionError("the query never started")


def test_stopping_the_workflow_stops_its_sync_query(env: Env) -> None:
    ex = env.run(
        machine({"Q": task(ATHENA + "startQueryExecution.sync", query_params(SLOW_SQL), End=True)}),
        wait=False,
    )
    qid = _running_query(env)
    env.service.stop_execution(ex.arn, "Ops.Stop", "stopped by the test")
    done = env.service.wait_for(ex.arn, 30)
    assert done.status == "ABORTED"
    assert env.queries.wait(qid, 30).state == "CANCELLED"


def test_sync_query_over_its_timeout_is_stopped(config: LakeConfig) -> None:
    env = Env(config, SystemClock())
    try:
        definition = caught(
            ATHENA + "startQueryExecution.sync", query_params(SLOW_SQL), ["States.Timeout"]
        )
        definition["States"]["Call"]["TimeoutSeconds"] = 1
        ex = env.run(definition)
        assert ex.output["error"]["Error"] == "States.Timeout"
        [qid] = env.queries.list_query_executions()[0]
        assert env.queries.wait(qid, 30).state == "CANCELLED"
    finally:
        env.close()


def test_sync_query_heartbeats_while_it_waits(config: LakeConfig) -> None:
    """A query running longer than HeartbeatSeconds passes: the task heartbeats meanwhile."""
    env = Env(config, SystemClock())
    try:
        sql = SLOW_SQL.replace("30000", "20000")
        state = task(ATHENA + "startQueryExecution.sync", query_params(sql), End=True)
        state["HeartbeatSeconds"] = 1
        ex = env.run(machine({"Q": state}))
        assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
        assert ex.output["QueryExecution"]["Status"]["State"] == "SUCCEEDED"
    finally:
        env.close()


def test_stop_query_execution_task(env: Env) -> None:
    qid = env.queries.start_query_execution(SLOW_SQL)
    ex = env.run(
        machine({"Stop": task(ATHENA + "stopQueryExecution", {"QueryExecutionId": qid}, End=True)})
    )
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == {}
    assert env.queries.wait(qid, 30).state == "CANCELLED"


def test_lake_and_query_service_are_made_once_per_workflow_service(config: LakeConfig) -> None:
    service = WorkflowService(config, clock=ManualClock(START))
    try:
        service.create_state_machine(
            "two",
            machine(
                {
                    "A": task(
                        ATHENA + "startQueryExecution.sync", query_params("SELECT 1"), Next="B"
                    ),
                    "B": task(
                        ATHENA + "startQueryExecution.sync", query_params("SELECT 2"), End=True
                    ),
                }
            ),
        )
        ex = service.start_execution("two")
        assert ex.status == "SUCCEEDED", ex.cause
        queries = service.services["queries"]
        assert isinstance(queries, QueryService)
        assert service.services["lake"] is queries.lake
        assert len(queries.list_query_executions()[0]) == 2
    finally:
        service.close()
        service.services["queries"].close()
        service.services["lake"].close()


# -- Glue crawlers ------------------------------------------------------------------------------


def crawler(env: Env, name: str = "orders-crawler") -> CrawlerService:
    write(env.lake, "s3://landing/orders/dt=2024-01-01/part.json", '{"id": 1, "amount": 2.5}\n')
    write(env.lake, "s3://landing/orders/dt=2024-01-02/part.json", '{"id": 2, "amount": 4.0}\n')
    env.lake.catalog.create_database(Database("landing"))
    service = CrawlerService(env.lake.config, env.lake.storage, catalog=env.lake.catalog)
    service.create_crawler(Crawler(name, "landing", [Target("s3://landing/orders/")]))
    return service


def crawl_machine(name: str) -> dict[str, Any]:
    return machine(
        {
            "Start": task(GLUE_SDK + "startCrawler", {"Name": name}, ResultPath=None, Next="Wait"),
            "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Get"},
            "Get": task(
                GLUE_SDK + "getCrawler", {"Name": name}, ResultPath="$.crawler", Next="Ready?"
            ),
            "Ready?": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.crawler.Crawler.State",
                        "StringEquals": "READY",
                        "Next": "Metrics",
                    }
                ],
                "Default": "Wait",
            },
            "Metrics": task(
                GLUE_SDK + "getCrawlerMetrics",
                {"CrawlerNameList": [name]},
                ResultPath="$.metrics",
                End=True,
            ),
        }
    )


def test_crawler_start_and_poll_until_ready(env: Env) -> None:
    crawler(env)
    ex = env.run(crawl_machine("orders-crawler"))
    assert ex.status == "SUCCEEDED", ex.cause
    got = ex.output["crawler"]["Crawler"]
    assert got["State"] == "READY"
    assert got["LastCrawl"]["Status"] == "SUCCEEDED"
    assert got["DatabaseName"] == "landing"
    assert got["Targets"]["S3Targets"][0]["Path"] == "s3://landing/orders/"
    [metrics] = ex.output["metrics"]["CrawlerMetricsList"]
    assert metrics["CrawlerName"] == "orders-crawler"
    assert metrics["TablesCreated"] == 1
    assert env.lake.catalog.get_table("landing", "orders").partition_keys


def test_unknown_crawler_is_entity_not_found(env: Env) -> None:
    ex = env.run(
        caught(GLUE_SDK + "startCrawler", {"Name": "nope"}, ["Glue.EntityNotFoundException"])
    )
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["error"]["Error"] == "Glue.EntityNotFoundException"


# -- Glue jobs ----------------------------------------------------------------------------------


def python_job(env: Env, tmp_path: Path, name: str, body: str, **kw: Any) -> None:
    script = tmp_path / f"{name}.py"
    script.write_text(textwrap.dedent(body))
    env.jobs.register_job(name, script, "python", **kw)


ECHO_ARGS = """
    import json, sys
    from pathlib import Path
    args = sys.argv[1:]
    opts = dict(zip(args[::2], args[1::2]))
    Path(opts["--out"]).write_text(json.dumps(opts))
"""


def test_glue_sync_python_job_gets_arguments_as_glue_passes_them(env: Env, tmp_path: Path) -> None:
    out = tmp_path / "args.json"
    python_job(
        env, tmp_path, "echo", ECHO_ARGS, default_arguments={"--region": "local", "--day": "x"}
    )
    params = {"JobName": "echo", "Arguments": {"--out": str(out), "--day": "2024-03-01"}}
    ex = env.run(machine({"Run": task(GLUE + "startJobRun.sync", params, End=True)}))
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["JobRunState"] == "SUCCEEDED"
    assert ex.output["JobName"] == "echo"
    assert ex.output["Id"].startswith("jr_")
    assert ex.output["Arguments"] == {"--out": str(out), "--day": "2024-03-01"}
    opts = json.loads(out.read_text())
    assert opts["--JOB_NAME"] == "echo"
    assert opts["--JOB_RUN_ID"] == ex.output["Id"]
    assert opts["--day"] == "2024-03-01"  # run arguments override the defaults
    assert opts["--region"] == "local"


def test_glue_sync_failed_job_is_task_failed_with_the_job_run(env: Env, tmp_path: Path) -> None:
    python_job(env, tmp_path, "boom", "raise ValueError('bad input file')\n")
    ex = env.run(caught(GLUE + "startJobRun.sync", {"JobName": "boom"}, ["States.TaskFailed"]))
    assert ex.status == "SUCCEEDED", ex.cause
    cause = json.loads(ex.output["error"]["Cause"])
    assert cause["JobRunState"] == "FAILED"
    assert cause["ErrorMessage"] == "ValueError: bad input file"


@pytest.mark.parametrize(
    ("resource", "params", "error"),
    [
        (GLUE + "startJobRun.sync", {"JobName": "nope"}, "Glue.EntityNotFoundException"),
        (GLUE_SDK + "startJobRun", {"JobName": "nope"}, "Glue.EntityNotFoundException"),
        (GLUE_SDK + "startJobRun", {"Arguments": {}}, "Glue.InvalidInputException"),
        (GLUE_SDK + "getCrawler", {"Name": "nope"}, "Glue.EntityNotFoundException"),
        (
            GLUE_SDK + "getJobRun",
            {"JobName": "nope", "RunId": "jr_x"},
            "Glue.EntityNotFoundException",
        ),
    ],
)
def test_glue_job_errors(env: Env, resource: str, params: dict[str, Any], error: str) -> None:
    ex = env.run(caught(resource, params, [error]))
    assert ex.status == "SUCCEEDED", (ex.error, ex.cause)
    assert ex.output["error"]["Error"] == error


def test_sql_job_substitutes_arguments_and_runs_each_statement(env: Env, tmp_path: Path) -> None:
    orders_table(env)
    script = tmp_path / "job.sql"
    script.write_text(
        "CREATE TABLE big_${suffix} WITH (format = 'PARQUET') AS\n"
        "  SELECT id, amount FROM orders WHERE amount > ${min};\n"
        "SELECT count(*) FROM big_${suffix} -- costs $${nothing}\n"
    )
    env.jobs.register_job("ctas", script, "sql", {"--min": "3"})
    run_id = env.jobs.start_job_run("ctas", {"--suffix": "orders"})
    run = env.jobs.wait(run_id, 60)
    assert run.state == "SUCCEEDED", run.error_message
    assert len(run.query_execution_ids) == 2
    assert sorted(env.sql("SELECT id FROM big_orders")) == [(1,), (2,)]
    last = env.queries.get_query_execution(run.query_execution_ids[-1])
    assert last.query.endswith("$" + "{nothing}")


def test_sql_job_with_a_missing_argument_fails(env: Env, tmp_path: Path) -> None:
    script = tmp_path / "job.sql"
    script.write_text("SELECT ${missing}")
    env.jobs.register_job("needs-arg", script, "sql")
    run = env.jobs.wait(env.jobs.start_job_run("needs-arg"), 60)
    assert run.state == "FAILED"
    assert "--missing" in (run.error_message or "")


def test_substitute_syntax() -> None:
    args = {"--day": "2024-01-01", "n": "3"}
    assert substitute("'${day}' ${n} $${day}", args) == "'2024-01-01' 3 ${day}"


WAIT_FOR_FILE = """
    import sys, time
    from pathlib import Path
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    Path(args["--started"]).touch()
    while not Path(args["--go"]).exists():
        time.sleep(0.02)
"""


def test_concurrent_runs_exceeded_then_batch_stop(env: Env, tmp_path: Path) -> None:
    started, go = tmp_path / "started", tmp_path / "go"
    python_job(
        env,
        tmp_path,
        "slow",
        WAIT_FOR_FILE,
        default_arguments={"--started": str(started), "--go": str(go)},
    )
    first = env.jobs.start_job_run("slow")
    definition = machine(
        {
            "Again": task(
                GLUE_SDK + "startJobRun",
                {"JobName": "slow"},
                Catch=[
                    {
                        "ErrorEquals": ["Glue.ConcurrentRunsExceededException"],
                        "ResultPath": "$.error",
                        "Next": "Stop",
                    }
                ],
                End=True,
            ),
            "Stop": task(
                GLUE_SDK + "batchStopJobRun",
                {"JobName": "slow", "JobRunIds": [first]},
                ResultPath="$.stop",
                Next="Get",
            ),
            "Get": task(
                GLUE_SDK + "getJobRun",
                {"JobName": "slow", "RunId": first},
                ResultPath="$.run",
                End=True,
            ),
        }
    )
    ex = env.run(definition)
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["error"]["Error"] == "Glue.ConcurrentRunsExceededException"
    assert ex.output["stop"]["SuccessfulSubmissions"] == [{"JobName": "slow", "JobRunId": first}]
    assert env.jobs.wait(first, 30).state == "STOPPED"
    runs = env.run(machine({"Runs": task(GLUE_SDK + "getJobRuns", {"JobName": "slow"}, End=True)}))
    assert [r["JobRunState"] for r in runs.output["JobRuns"]] == ["STOPPED"]


def test_stopping_the_workflow_stops_its_sync_job_run(env: Env, tmp_path: Path) -> None:
    started, go = tmp_path / "started", tmp_path / "go"
    python_job(
        env,
        tmp_path,
        "slow",
        WAIT_FOR_FILE,
        default_arguments={"--started": str(started), "--go": str(go)},
    )
    ex = env.run(
        machine({"Run": task(GLUE + "startJobRun.sync", {"JobName": "slow"}, End=True)}), wait=False
    )
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    env.service.stop_execution(ex.arn)
    assert env.service.wait_for(ex.arn, 30).status == "ABORTED"
    [run] = env.jobs.get_job_runs("slow")
    assert env.jobs.wait(run.id, 30).state == "STOPPED"


def test_closing_the_workflow_service_stops_the_job_runs_it_started(
    config: LakeConfig, tmp_path: Path
) -> None:
    # no services handed in: the service opens the lake, query service and job registry
    # itself, and must stop the job run (and its script's process) before closing them
    started, go = tmp_path / "started", tmp_path / "go"
    script = tmp_path / "slow.py"
    script.write_text(textwrap.dedent(WAIT_FOR_FILE))
    lake = Lake(config)
    opts = {"--started": str(started), "--go": str(go)}
    JobRegistry(lake).register_job("slow", script, "python", default_arguments=opts)
    lake.close()
    service = WorkflowService(config, clock=SystemClock())
    definition = machine({"Run": task(GLUE_SDK + "startJobRun", {"JobName": "slow"}, End=True)})
    service.create_state_machine("m", definition)
    ex = service.start_execution("m")
    assert ex.status == "SUCCEEDED", ex.cause
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert started.exists()
    service.close()
    lake = Lake(config)
    try:
        run = JobRegistry(lake).get_job_run("slow", ex.output["JobRunId"])
        assert run.state == "STOPPED"
    finally:
        lake.close()


def test_python_job_script_in_the_lake(env: Env, tmp_path: Path) -> None:
    out = tmp_path / "args.json"
    write(env.lake, "s3://scripts/jobs/echo.py", ECHO_ARGS)
    env.jobs.register_job("echo-s3", "s3://scripts/jobs/echo.py", "python", {"--out": str(out)})
    params = {"JobName": "echo-s3", "Arguments": {"--mode": "full"}}
    ex = env.run(machine({"Run": task(GLUE + "startJobRun.sync", params, End=True)}))
    assert ex.status == "SUCCEEDED", ex.cause
    assert json.loads(out.read_text())["--mode"] == "full"


def test_sync_job_run_over_its_timeout_is_stopped(config: LakeConfig, tmp_path: Path) -> None:
    env = Env(config, SystemClock())
    try:
        started, go = tmp_path / "started", tmp_path / "go"
        python_job(
            env,
            tmp_path,
            "slow",
            WAIT_FOR_FILE,
            default_arguments={"--started": str(started), "--go": str(go)},
        )
        definition = caught(GLUE + "startJobRun.sync", {"JobName": "slow"}, ["States.Timeout"])
        definition["States"]["Call"]["TimeoutSeconds"] = 1
        ex = env.run(definition)
        assert ex.output["error"]["Error"] == "States.Timeout"
        [run] = env.jobs.get_job_runs("slow")
        assert env.jobs.wait(run.id, 30).state == "STOPPED"
    finally:
        env.close()


def test_job_registry_persists_jobs_and_runs(env: Env, tmp_path: Path) -> None:
    python_job(env, tmp_path, "ok", "print('hello')\n")
    run_id = env.jobs.start_job_run("ok")
    assert env.jobs.wait(run_id, 60).state == "SUCCEEDED"
    again = JobRegistry(env.lake, env.queries)
    assert [j.name for j in again.list_jobs()] == ["ok"]
    run = again.get_job_run("ok", run_id)
    assert run.state == "SUCCEEDED"
    assert "hello" in Path(run.log_path or "").read_text()


# -- DynamoDB and RDS exports, Firehose ---------------------------------------------------------


def test_dynamodb_export_describe_and_list(env: Env) -> None:
    write(env.lake, "s3://src/items.json", '{"id": 1, "name": "a"}\n{"id": 2, "name": "b"}\n')
    definition = machine(
        {
            "Export": task(
                "arn:aws:states:::aws-sdk:dynamodb:exportTableToPointInTime",
                {"TableArn": "s3://src/items.json", "S3Bucket": "exports", "S3Prefix": "ddb"},
                ResultPath="$.export",
                Next="Describe",
            ),
            "Describe": task(
                "arn:aws:states:::aws-sdk:dynamodb:describeExport",
                {"ExportArn.$": "$.export.ExportDescription.ExportArn"},
                ResultPath="$.describe",
                Next="List",
            ),
            "List": task(
                "arn:aws:states:::aws-sdk:dynamodb:listExports", {}, ResultPath="$.list", End=True
            ),
        }
    )
    ex = env.run(definition)
    assert ex.status == "SUCCEEDED", ex.cause
    desc = ex.output["describe"]["ExportDescription"]
    assert desc["ExportStatus"] == "COMPLETED"
    assert desc["ItemCount"] == 2
    assert [s["ExportArn"] for s in ex.output["list"]["ExportSummaries"]] == [desc["ExportArn"]]


def test_dynamodb_unknown_export_is_export_not_found(env: Env) -> None:
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t/export/01234567890123-abcdef12"
    ex = env.run(
        caught(
            "arn:aws:states:::aws-sdk:dynamodb:describeExport",
            {"ExportArn": arn},
            ["DynamoDb.ExportNotFoundException"],
        )
    )
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["error"]["Error"] == "DynamoDb.ExportNotFoundException"


def test_rds_export_task_and_duplicate(env: Env, tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        con.executemany("INSERT INTO customers VALUES (?, ?)", [(1, "ann"), (2, "bob")])
    params = {
        "ExportTaskIdentifier": "nightly-1",
        "SourceArn": f"sqlite:///{db}",
        "S3BucketName": "snap",
    }
    definition = machine(
        {
            "Export": task(
                "arn:aws:states:::aws-sdk:rds:startExportTask",
                params,
                ResultPath="$.task",
                Next="Describe",
            ),
            "Describe": task(
                "arn:aws:states:::aws-sdk:rds:describeExportTasks",
                {"ExportTaskIdentifier": "nightly-1"},
                ResultPath="$.described",
                Next="Again",
            ),
            "Again": task(
                "arn:aws:states:::aws-sdk:rds:startExportTask",
                params,
                Catch=[
                    {
                        "ErrorEquals": ["Rds.ExportTaskAlreadyExistsFaultException"],
                        "ResultPath": "$.error",
                        "Next": "Done",
                    }
                ],
                End=True,
            ),
            "Done": {"Type": "Succeed"},
        }
    )
    ex = env.run(definition)
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["task"]["Status"] == "COMPLETE"
    [described] = ex.output["described"]["ExportTasks"]
    assert described["ExportTaskIdentifier"] == "nightly-1"
    assert ex.output["error"]["Error"] == "Rds.ExportTaskAlreadyExistsFaultException"


def test_firehose_put_record_and_batch(env: Env) -> None:
    streams = DeliveryStreams(env.lake)
    streams.create_delivery_stream("clicks", {"BucketARN": "arn:aws:s3:::clicks"})
    definition = machine(
        {
            "One": task(
                "arn:aws:states:::aws-sdk:firehose:putRecord",
                {"DeliveryStreamName": "clicks", "Record": {"Data": '{"a":1}\n'}},
                ResultPath="$.one",
                Next="Batch",
            ),
            "Batch": task(
                "arn:aws:states:::aws-sdk:firehose:putRecordBatch",
                {"DeliveryStreamName": "clicks", "Records": [{"Data": {"a": 2}}, {"Data": "x"}]},
                ResultPath="$.batch",
                Next="Missing",
            ),
            "Missing": task(
                "arn:aws:states:::aws-sdk:firehose:putRecord",
                {"DeliveryStreamName": "nope", "Record": {"Data": "x"}},
                Catch=[
                    {
                        "ErrorEquals": ["Firehose.ResourceNotFoundException"],
                        "ResultPath": "$.error",
                        "Next": "Done",
                    }
                ],
                End=True,
            ),
            "Done": {"Type": "Succeed"},
        }
    )
    ex = env.run(definition)
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["one"]["RecordId"]
    assert ex.output["batch"]["FailedPutCount"] == 0
    assert len(ex.output["batch"]["RequestResponses"]) == 2
    assert ex.output["error"]["Error"] == "Firehose.ResourceNotFoundException"
    [uri] = streams.flush("clicks").objects
    assert env.lake.storage.read_bytes(uri) == b'{"a":1}\n{"a":2}x'
