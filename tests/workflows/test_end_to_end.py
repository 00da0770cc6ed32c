"""Workflows over lakebox's own services, end to end with real queries: polling loops with
Wait + Choice, SQL jobs chained with a Catch that notifies, and AWS's sample state machines
run as published."""

from __future__ import annotations

import json
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
from lakebox.query.service import QueryService
from lakebox.session import Lake
from lakebox.workflows.clock import ManualClock
from lakebox.workflows.jobs import JobRegistry
from lakebox.workflows.service import Execution, WorkflowService
from lakebox.workflows.tasks.notify import LogFileSink
from workflows.helpers import START

TOPIC = "arn:aws:sns:us-east-1:111122223333:lake-alerts"
#: Enough rows that a job or query runs a while, so polling loops go round.
SLOW_FILTER = (
    "(SELECT count(*) FROM UNNEST(sequence(1, 3000)) AS a(x) "
    "CROSS JOIN UNNEST(sequence(1, 3000)) AS b(y) WHERE (a.x + b.y) % 5 = 0) > 0"
)


class PollClock(ManualClock):
    """Manual time that yields a little real time per sleep, so Wait loops let background
    queries, job runs and crawls progress without waiting their full Seconds."""

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        time.sleep(0.01)
        return super().sleep(seconds, cancel)


class Env:
    def __init__(self, config: LakeConfig, tmp_path: Path) -> None:
        self.lake = Lake(config)
        self.queries = QueryService(self.lake)
        self.jobs = JobRegistry(self.lake, self.queries)
        self.service = WorkflowService(
            config,
            clock=PollClock(START),
            stop_poll_seconds=0.05,
            services={"lake": self.lake, "queries": self.queries, "glue_jobs": self.jobs},
        )
        self.notes = tmp_path / "notifications.jsonl"
        self.service.register_topic(TOPIC, LogFileSink(self.notes))
        self.tmp = tmp_path

    def run(self, name: str, definition: dict[str, Any] | str, input: Any = None) -> Execution:
        self.service.create_state_machine(name, definition)
        return self.service.start_execution(name, input)

    def sql(self, text: str) -> list[tuple[Any, ...]]:
        qe, result = self.queries.run(text)
        assert qe.state == "SUCCEEDED", qe.state_change_reason
        return result.fetchall() if result is not None else []

    def write(self, uri: str, text: str) -> None:
        self.lake.storage.write_bytes(uri, textwrap.dedent(text).lstrip().encode())

    def sql_job(self, name: str, text: str, **args: str) -> None:
        script = self.tmp / f"{name}.sql"
        script.write_text(textwrap.dedent(text))
        self.jobs.register_job(name, script, "sql", args)

    def notifications(self) -> list[dict[str, Any]]:
        if not self.notes.exists():
            return []
        return [json.loads(line) for line in self.notes.read_text().splitlines()]

    def wait_states(self, ex: Execution) -> int:
        history = self.service.get_execution_history(ex.arn)
        return sum(e["type"] == "WaitStateEntered" for e in history)

    def close(self) -> None:
        self.service.close()
        self.queries.close()
        self.lake.close()


@pytest.fixture
def env(config: LakeConfig, tmp_path: Path) -> Iterator[Env]:
    e = Env(config, tmp_path)
    yield e
    e.close()


def raw_events(env: Env) -> None:
    env.write(
        "s3://raw/events/day=1/part-0.json",
        """
        {"user": "ann", "kind": "click", "value": 3}
        {"user": "bob", "kind": "view", "value": 1}
        {"user": "ann", "kind": "click", "value": 4}
        {"user": "cy", "kind": "click", "value": 10}
        """,
    )
    env.sql(
        "CREATE EXTERNAL TABLE raw_events (user string, kind string, value int) "
        "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://raw/events/'"
    )


# -- a) polling a long-running job or query with Wait + Choice -----------------------------------


def job_polling_machine(job: str) -> dict[str, Any]:
    return {
        "StartAt": "Start job",
        "States": {
            "Start job": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun",
                "Parameters": {"JobName": job},
                "ResultPath": "$.start",
                "Next": "Wait",
            },
            "Wait": {"Type": "Wait", "Seconds": 30, "Next": "Get job run"},
            "Get job run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:glue:getJobRun",
                "Parameters": {"JobName": job, "RunId.$": "$.start.JobRunId"},
                "ResultPath": "$.run",
                "Next": "Finished?",
            },
            "Finished?": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.run.JobRun.JobRunState",
                        "StringEquals": "SUCCEEDED",
                        "Next": "Done",
                    },
                    {
                        "Or": [
                            {"Variable": "$.run.JobRun.JobRunState", "StringEquals": s}
                            for s in ("FAILED", "ERROR", "TIMEOUT", "STOPPED")
                        ],
                        "Next": "Job failed",
                    },
                ],
                "Default": "Wait",
            },
            "Done": {"Type": "Succeed"},
            "Job failed": {
                "Type": "Fail",
                "Error": "JobFailed",
                "CausePath": "$.run.JobRun.ErrorMessage",
            },
        },
    }


@pytest.mark.parametrize("succeeds", [True, False], ids=["succeeding", "failing"])
def test_poll_a_sql_job_until_it_ends(env: Env, succeeds: bool) -> None:
    raw_events(env)
    column = "value" if succeeds else "no_such_column"
    env.sql_job(
        "clicks",
        f"""
        CREATE TABLE clicks WITH (format = 'PARQUET') AS
        SELECT user, ${{column}} AS value FROM raw_events
        WHERE kind = 'click' AND {SLOW_FILTER};
        """,
        column=column,
    )
    ex = env.run("poll-job", job_polling_machine("clicks"))
    assert env.wait_states(ex) >= 1
    if succeeds:
        assert ex.status == "SUCCEEDED", ex.cause
        assert sorted(env.sql("SELECT user, value FROM clicks")) == [
            ("ann", 3),
            ("ann", 4),
            ("cy", 10),
        ]
    else:
        assert ex.status == "FAILED"
        assert ex.error == "JobFailed"
        assert "no_such_column" in (ex.cause or "")
        assert "statement 1" in (ex.cause or "")


def query_polling_machine(sql: str) -> dict[str, Any]:
    return {
        "StartAt": "Start query",
        "States": {
            "Start query": {
                "Type": "Task",
                "Resource": "arn:aws:states:::athena:startQueryExecution",
                "Parameters": {
                    "QueryString": sql,
                    "QueryExecutionContext": {"Database": "default"},
                    "ResultConfiguration": {"OutputLocation": "s3://results/poll/"},
                },
                "Next": "Wait",
            },
            "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Get query"},
            "Get query": {
                "Type": "Task",
                "Resource": "arn:aws:states:::athena:getQueryExecution",
                "Parameters": {"QueryExecutionId.$": "$.QueryExecutionId"},
                "ResultSelector": {
                    "QueryExecutionId.$": "$.QueryExecution.QueryExecutionId",
                    "State.$": "$.QueryExecution.Status.State",
                    "Reason.$": "States.JsonToString($.QueryExecution.Status)",
                },
                "Next": "Finished?",
            },
            "Finished?": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.State", "StringEquals": "SUCCEEDED", "Next": "Results"},
                    {"Variable": "$.State", "StringEquals": "FAILED", "Next": "Query failed"},
                    {"Variable": "$.State", "StringEquals": "CANCELLED", "Next": "Query failed"},
                ],
                "Default": "Wait",
            },
            "Results": {
                "Type": "Task",
                "Resource": "arn:aws:states:::athena:getQueryResults",
                "Parameters": {"QueryExecutionId.$": "$.QueryExecutionId"},
                "OutputPath": "$.ResultSet.Rows",
                "End": True,
            },
            "Query failed": {"Type": "Fail", "Error": "QueryFailed", "CausePath": "$.Reason"},
        },
    }


@pytest.mark.parametrize("succeeds", [True, False], ids=["succeeding", "failing"])
def test_poll_an_athena_query_until_it_ends(env: Env, succeeds: bool) -> None:
    raw_events(env)
    table = "raw_events" if succeeds else "missing_events"
    sql = (
        f"SELECT user, sum(value) AS total FROM {table} WHERE {SLOW_FILTER} "
        "GROUP BY user ORDER BY user"
    )
    ex = env.run("poll-query", query_polling_machine(sql))
    assert env.wait_states(ex) >= 1
    if succeeds:
        assert ex.status == "SUCCEEDED", ex.cause
        rows = [[d.get("VarCharValue") for d in r["Data"]] for r in ex.output]
        assert rows == [["user", "total"], ["ann", "7"], ["bob", "1"], ["cy", "10"]]
    else:
        assert ex.status == "FAILED"
        assert ex.error == "QueryFailed"
        status = json.loads(ex.cause or "{}")
        assert status["State"] == "FAILED"
        assert "missing_events" in status["StateChangeReason"]


# -- b) two SQL jobs in sequence, Catch -> notification -------------------------------------------


def pipeline() -> dict[str, Any]:
    notify = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Notify failure"}
    return {
        "Comment": "Curate raw events, then report on them; tell the team when a step fails.",
        "StartAt": "Curate",
        "States": {
            "Curate": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Parameters": {"JobName": "curate", "Arguments": {"--day.$": "$.day"}},
                "ResultPath": "$.curate",
                "Catch": [notify],
                "Next": "Report",
            },
            "Report": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Parameters": {"JobName": "report", "Arguments": {"--metric.$": "$.metric"}},
                "ResultPath": "$.report",
                "Catch": [notify],
                "End": True,
            },
            "Notify failure": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {
                    "TopicArn": TOPIC,
                    "Subject": "ETL pipeline failed",
                    "Message": {
                        "Execution.$": "$$.Execution.Name",
                        "Error.$": "$.error.Error",
                        "Cause.$": "$.error.Cause",
                    },
                },
                "Next": "Failed",
            },
            "Failed": {"Type": "Fail", "Error": "PipelineFailed"},
        },
    }


def pipeline_jobs(env: Env) -> None:
    raw_events(env)
    env.sql_job(
        "curate",
        """
        -- curated copy of one day's clicks
        CREATE TABLE curated_clicks WITH (format = 'PARQUET') AS
        SELECT user, value, ${day} AS day FROM raw_events WHERE kind = 'click';
        """,
    )
    env.sql_job(
        "report",
        """
        CREATE TABLE click_report WITH (format = 'PARQUET') AS
        SELECT user, sum(${metric}) AS total FROM curated_clicks GROUP BY user;
        """,
    )


def test_two_sql_jobs_in_sequence_produce_the_report(env: Env) -> None:
    pipeline_jobs(env)
    ex = env.run("etl", pipeline(), {"day": "1", "metric": "value"})
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["curate"]["JobRunState"] == "SUCCEEDED"
    assert ex.output["report"]["JobName"] == "report"
    assert sorted(env.sql("SELECT user, value, day FROM curated_clicks")) == [
        ("ann", 3, 1),
        ("ann", 4, 1),
        ("cy", 10, 1),
    ]
    assert sorted(env.sql("SELECT user, total FROM click_report")) == [("ann", 7), ("cy", 10)]
    assert env.notifications() == []


def test_failing_second_job_is_caught_and_notified(env: Env) -> None:
    pipeline_jobs(env)
    ex = env.run("etl", pipeline(), {"day": "1", "metric": "no_such_metric"})
    assert ex.status == "FAILED"
    assert ex.error == "PipelineFailed"
    [note] = env.notifications()
    assert note["TopicArn"] == TOPIC
    assert note["Subject"] == "ETL pipeline failed"
    message = json.loads(note["Message"])
    assert message["Execution"] == ex.name
    assert message["Error"] == "States.TaskFailed"
    run = json.loads(message["Cause"])
    assert run["JobName"] == "report"
    assert run["JobRunState"] == "FAILED"
    assert run["Arguments"] == {"--metric": "no_such_metric"}
    assert "no_such_metric" in run["ErrorMessage"]
    assert len(env.sql("SELECT * FROM curated_clicks")) == 3  # the first job's work stays
    assert "click_report" not in env.lake.catalog.list_tables("default")


# -- c) AWS's sample "Start an Athena query and get results" as published ------------------------

#: The sample project's definition as the Step Functions developer guide shows it
#: (sample-athena-query), with its example account's names.
ATHENA_SAMPLE = """
{
  "Comment": "An example of using Athena to query logs, get query results and send results through notification.",
  "StartAt": "Generate example log",
  "States": {
    "Generate example log": {
      "Resource": "arn:aws:lambda:us-east-1:111122223333:function:StepFunctionsSample-Athena-LambdaForDataGeneration-AKIAIOSFODNN7EXAMPLE",
      "Type": "Task",
      "Next": "Run Glue crawler"
    },
    "Run Glue crawler": {
      "Resource": "arn:aws:lambda:us-east-1:111122223333:function:StepFunctionsSample-Athen-LambdaForInvokingCrawler-AKIAI44QH8DHBEXAMPLE",
      "Type": "Task",
      "Next": "Start an Athena query"
    },
    "Start an Athena query": {
      "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
      "Parameters": {
        "QueryString": "SELECT * FROM \\"athena-sample-project-db-wJalrXUtnFEMI\\".\\"log\\" limit 1",
        "WorkGroup": "stepfunctions-athena-sample-project-workgroup-wJalrXUtnFEMI"
      },
      "Type": "Task",
      "Next": "Get query results"
    },
    "Get query results": {
      "Resource": "arn:aws:states:::athena:getQueryResults",
      "Parameters": {
        "QueryExecutionId.$": "$.QueryExecution.QueryExecutionId"
      },
      "Type": "Task",
      "Next": "Send query results"
    },
    "Send query results": {
      "Resource": "arn:aws:states:::sns:publish",
      "Parameters": {
        "TopicArn": "arn:aws:sns:us-east-1:111122223333:StepFunctionsSample-AthenaDataQueryd1111-2222-3333-777788889999-SNSTopic-ANPAJ2UCCR6DPCEXAMPLE",
        "Message": {
          "Input.$": "$.ResultSet.Rows"
        }
      },
      "Type": "Task",
      "End": true
    }
  }
}
"""
SAMPLE_DB = "athena-sample-project-db-wJalrXUtnFEMI"
SAMPLE_TOPIC = (
    "arn:aws:sns:us-east-1:111122223333:StepFunctionsSample-AthenaDataQueryd1111-2222-3333-"
    "777788889999-SNSTopic-ANPAJ2UCCR6DPCEXAMPLE"
)


def test_aws_sample_start_an_athena_query_and_get_results(env: Env) -> None:
    crawlers = CrawlerService(env.lake.config, env.lake.storage, catalog=env.lake.catalog)
    env.lake.catalog.create_database(Database(SAMPLE_DB.lower()))
    crawlers.create_crawler(
        Crawler("sample-log-crawler", SAMPLE_DB.lower(), [Target("s3://sample-logs/log/")])
    )
    env.queries.create_work_group(
        "stepfunctions-athena-sample-project-workgroup-wJalrXUtnFEMI",
        output_location="s3://sample-results/athena/",
    )

    # The sample's two Lambda functions: write an example log, then crawl it.
    def generate_log(event: Any) -> dict[str, Any]:
        env.write("s3://sample-logs/log/2024/03/01/log.json", '{"level": "INFO", "msg": "hello"}\n')
        return {"written": 1}

    def run_crawler(event: Any) -> dict[str, Any]:
        return {"state": crawlers.start_crawler("sample-log-crawler").state}

    env.service.register_function(
        "StepFunctionsSample-Athena-LambdaForDataGeneration-AKIAIOSFODNN7EXAMPLE", generate_log
    )
    env.service.register_function(
        "StepFunctionsSample-Athen-LambdaForInvokingCrawler-AKIAI44QH8DHBEXAMPLE", run_crawler
    )
    notes = env.tmp / "sample.jsonl"
    env.service.register_topic(SAMPLE_TOPIC, LogFileSink(notes))

    ex = env.run("athena-sample", ATHENA_SAMPLE)
    assert ex.status == "SUCCEEDED", ex.cause
    [note] = [json.loads(line) for line in notes.read_text().splitlines()]
    rows = json.loads(note["Message"])["Input"]
    header = [d["VarCharValue"] for d in rows[0]["Data"]]
    assert header[:2] == ["level", "msg"]
    assert [d.get("VarCharValue") for d in rows[1]["Data"]][:2] == ["INFO", "hello"]
    assert len(rows) == 2  # header + "limit 1"
    [qid] = env.queries.list_query_executions(
        "stepfunctions-athena-sample-project-workgroup-wJalrXUtnFEMI"
    )[0]
    assert env.queries.get_query_execution(qid).output_location.startswith(
        "s3://sample-results/athena/"
    )


# -- d) crawler workflow: startCrawler + getCrawler polling, then a query --------------------------

#: AWS's "Query large datasets" sample (Glue crawler, Athena, SNS) as published, with its
#: placeholders to fill in.
CRAWLER_SAMPLE = """
{
    "Comment": "An example demonstrates how to ingest a large data set in Amazon S3 and partition it through aws Glue Crawlers, then execute Amazon Athena queries against that partition.",
    "StartAt": "Start Crawler",
    "States": {
      "Start Crawler": {
        "Type": "Task",
        "Next": "Get Crawler status",
        "Parameters": {
          "Name": "<GLUE_CRAWLER_NAME>"
        },
        "Resource": "arn:aws:states:::aws-sdk:glue:startCrawler"
      },
      "Get Crawler status": {
        "Type": "Task",
        "Parameters": {
          "Name": "<GLUE_CRAWLER_NAME>"
        },
        "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
        "Next": "Check Crawler status"
      },
      "Check Crawler status": {
        "Type": "Choice",
        "Choices": [
          {
            "Variable": "$.Crawler.State",
            "StringEquals": "RUNNING",
            "Next": "Wait"
          }
        ],
        "Default": "Start an Athena query"
      },
      "Wait": {
        "Type": "Wait",
        "Seconds": 30,
        "Next": "Get Crawler status"
      },
      "Start an Athena query": {
        "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
        "Parameters": {
            "QueryString": "<ATHENA_QUERYSTRING>",
            "WorkGroup": "<ATHENA_WORKGROUP>"
        },
        "Type": "Task",
        "Next": "Get query results"
      },
      "Get query results": {
        "Resource": "arn:aws:states:::athena:getQueryResults",
        "Parameters": {
          "QueryExecutionId.$": "$.QueryExecution.QueryExecutionId"
        },
        "Type": "Task",
        "Next": "Send query results"
      },
      "Send query results": {
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {
          "TopicArn": "<SNS_TOPIC_ARN>",
          "Message": {
            "Input.$": "$.ResultSet.Rows"
          }
        },
        "Type": "Task",
        "End": true
      }
    }
  }
"""


def test_crawl_then_query_the_crawled_table(env: Env) -> None:
    for day, rows in (("2024-03-01", [("ann", 3), ("bob", 4)]), ("2024-03-02", [("cy", 5)])):
        env.write(
            f"s3://fleet/trips/dt={day}/trips.json",
            "".join(json.dumps({"driver": d, "km": km}) + "\n" for d, km in rows),
        )
    env.lake.catalog.create_database(Database("fleet"))
    crawlers = CrawlerService(env.lake.config, env.lake.storage, catalog=env.lake.catalog)
    crawlers.create_crawler(Crawler("fleet-crawler", "fleet", [Target("s3://fleet/trips/")]))
    definition = (
        CRAWLER_SAMPLE.replace("<GLUE_CRAWLER_NAME>", "fleet-crawler")
        .replace(
            "<ATHENA_QUERYSTRING>",
            "SELECT dt, count(*) AS trips, sum(km) AS km FROM fleet.trips GROUP BY dt ORDER BY dt",
        )
        .replace("<ATHENA_WORKGROUP>", "primary")
        .replace("<SNS_TOPIC_ARN>", TOPIC)
    )
    ex = env.run("crawl-and-query", definition)
    assert ex.status == "SUCCEEDED", ex.cause
    history = env.service.get_execution_history(ex.arn)
    crawler_states = [
        json.loads(e["stateExitedEventDetails"]["output"])["Crawler"]["State"]
        for e in history
        if e["type"] == "TaskStateExited"
        and e["stateExitedEventDetails"]["name"] == "Get Crawler status"
    ]
    assert crawler_states[-1] == "READY"
    assert set(crawler_states[:-1]) <= {"RUNNING"}
    [note] = env.notifications()
    cells = [
        [d.get("VarCharValue") for d in r["Data"]] for r in json.loads(note["Message"])["Input"]
    ]
    assert cells == [["dt", "trips", "km"], ["2024-03-01", "2", "7"], ["2024-03-02", "1", "5"]]
