"""Who started a workflow execution or a Glue job run is recorded (its principal's ARN),
comes back from the services, and is whom their tasks and statements run as; callers
that name no principal are the local administrator, as before principals existed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from lakebox.api import dispatch
from lakebox.api.context import ServiceContext
from lakebox.config import LakeConfig
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.workflows import store as workflow_store
from lakebox.workflows.jobs import JobRegistry
from lakebox.workflows.service import WorkflowService
from workflows.helpers import START, machine
from workflows.test_service_tasks import (
    ATHENA,
    Env,
    PollClock,
    orders_table,
    query_params,
    task,
)

ANALYST = Principal("123456789012", "arn:aws:iam::123456789012:user/analyst")
PASS = machine({"P": {"Type": "Pass", "End": True}})


@pytest.fixture
def env(config: LakeConfig) -> Iterator[Env]:
    e = Env(config, PollClock(START))
    yield e
    e.close()


def test_an_execution_records_who_started_it(service: WorkflowService) -> None:
    service.create_state_machine("m", PASS, principal=ANALYST)
    mine = service.start_execution("m", name="mine", principal=ANALYST)
    theirs = service.start_execution("m", name="theirs")
    assert mine.principal_arn == ANALYST.arn
    assert theirs.principal_arn == LOCAL_ADMIN.arn
    listed = {e.name: e.principal_arn for e in service.list_executions("m", principal=ANALYST)}
    assert listed == {"mine": ANALYST.arn, "theirs": LOCAL_ADMIN.arn}
    assert service.describe_execution(mine.arn).principal_arn == ANALYST.arn
    # DescribeExecution names no caller: the AWS shape is unchanged
    assert not [k for k in mine.to_aws() if "rincipal" in k]


def test_a_workflows_athena_task_runs_as_whoever_started_it(env: Env) -> None:
    orders_table(env)
    env.service.create_state_machine(
        "q",
        machine(
            {
                "Q": task(
                    ATHENA + "startQueryExecution.sync",
                    query_params("SELECT count(*) FROM orders"),
                    End=True,
                )
            }
        ),
    )
    for who in (ANALYST, LOCAL_ADMIN):
        ex = env.service.start_execution("q", principal=who)
        assert ex.status == "SUCCEEDED", ex.cause
        qid = ex.output["QueryExecution"]["QueryExecutionId"]
        assert env.queries.get_query_execution(qid).principal_arn == who.arn


def test_a_redriven_execution_keeps_its_principal(service: WorkflowService) -> None:
    service.create_state_machine("f", machine({"F": {"Type": "Fail", "Error": "E"}}))
    ex = service.start_execution("f", principal=ANALYST)
    assert ex.status == "FAILED"
    again = service.redrive_execution(ex.arn)
    assert again.principal_arn == ANALYST.arn


def test_step_functions_api_starts_executions_as_the_caller(config: LakeConfig) -> None:
    service = WorkflowService(config)
    try:
        context = ServiceContext(principal=ANALYST, services={"workflows": service})
        arn = dispatch(
            "stepfunctions",
            "CreateStateMachine",
            {"name": "m", "definition": json.dumps(PASS), "roleArn": service.default_role_arn()},
            context,
        )["stateMachineArn"]
        started = dispatch("stepfunctions", "StartExecution", {"stateMachineArn": arn}, context)
        execution = service.wait_for(started["executionArn"], 30)
        assert execution.principal_arn == ANALYST.arn
        described = dispatch(
            "stepfunctions", "DescribeExecution", {"executionArn": execution.arn}, context
        )
        assert not [k for k in described if "rincipal" in k]
    finally:
        service.close()


def test_an_old_store_without_the_column_reads_as_the_local_admin(
    config: LakeConfig, tmp_path: Path
) -> None:
    path = tmp_path / "workflows.sqlite"
    con = sqlite3.connect(path)
    schema = workflow_store.MIGRATIONS[0]
    assert isinstance(schema, str)
    con.executescript(schema)
    con.execute("PRAGMA user_version = 1")
    con.execute(
        "INSERT INTO executions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            "arn:aws:states:us-east-1:000000000000:execution:m:old",
            "old",
            "arn:aws:states:us-east-1:000000000000:stateMachine:m",
            json.dumps(PASS),
            "SUCCEEDED",
            "{}",
            "{}",
            None,
            None,
            START.isoformat(),
            START.isoformat(),
            "host:1",
            None,
            0,
        ),
    )
    con.commit()
    con.close()
    service = WorkflowService(config, db_path=path)
    try:
        (old,) = service.list_executions()
        assert old.principal_arn == LOCAL_ADMIN.arn
    finally:
        service.close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(workflow_store.MIGRATIONS)
    con.close()


def test_a_sql_job_run_records_and_runs_as_whoever_started_it(env: Env, tmp_path: Path) -> None:
    orders_table(env)
    script = tmp_path / "job.sql"
    script.write_text("SELECT count(*) FROM orders")
    env.jobs.register_job("count", script, "sql", principal=ANALYST)
    mine = env.jobs.wait(env.jobs.start_job_run("count", principal=ANALYST), 60)
    theirs = env.jobs.wait(env.jobs.start_job_run("count"), 60)
    assert mine.state == theirs.state == "SUCCEEDED", (mine.error_message, theirs.error_message)
    assert mine.principal_arn == ANALYST.arn
    assert theirs.principal_arn == LOCAL_ADMIN.arn
    listed = {r.id: r.principal_arn for r in env.jobs.get_job_runs("count", principal=ANALYST)}
    assert listed == {mine.id: ANALYST.arn, theirs.id: LOCAL_ADMIN.arn}
    (qid,) = mine.query_execution_ids
    assert env.queries.get_query_execution(qid).principal_arn == ANALYST.arn
    assert "principal" not in json.dumps(mine.to_api()).lower()


def test_a_job_run_kept_before_principals_reads_as_the_local_admin(
    env: Env, tmp_path: Path
) -> None:
    script = tmp_path / "job.sql"
    script.write_text("SELECT 1")
    env.jobs.register_job("one", script, "sql")
    run = env.jobs.wait(env.jobs.start_job_run("one", principal=ANALYST), 60)
    con = sqlite3.connect(env.jobs.path)
    (doc,) = con.execute("SELECT doc FROM runs WHERE id=?", (run.id,)).fetchone()
    old = json.loads(doc)
    del old["principal_arn"]
    con.execute("UPDATE runs SET doc=? WHERE id=?", (json.dumps(old), run.id))
    con.commit()
    con.close()
    reopened = JobRegistry(env.lake, env.queries)
    assert reopened.get_job_run("one", run.id).principal_arn == LOCAL_ADMIN.arn


# -- schedules run as the principal that made them --------------------------------------------


def _start_only(machine_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "states:StartExecution", "Resource": machine_arn}
            ],
        }
    )


def test_a_schedule_runs_as_its_creator_and_starts_only_what_they_may(env: Env) -> None:
    iam = env.lake.iam
    iam.create_user("sched-bob")
    bob = iam.user_principal("sched-bob")
    allowed = env.service.create_state_machine("allowed", PASS).arn
    env.service.create_state_machine("forbidden", PASS)
    iam.put_user_policy("sched-bob", "start", _start_only(allowed))
    env.service.create_schedule("ok", "rate(1 minute)", "allowed", principal=bob)
    env.service.create_schedule("sneaky", "rate(1 minute)", "forbidden", principal=bob)
    assert env.service.get_schedule("ok").principal_arn == bob.arn
    fired = {f.schedule: f for f in env.service.run_due(START + timedelta(minutes=1, seconds=1))}
    assert fired["ok"].execution_arn is not None, fired["ok"].error
    assert env.service.describe_execution(fired["ok"].execution_arn).principal_arn == bob.arn
    assert fired["sneaky"].execution_arn is None
    assert "not authorized to perform: states:StartExecution" in (fired["sneaky"].error or "")
    assert env.service.list_executions("forbidden") == []


def test_a_schedule_updated_by_another_principal_runs_as_them(env: Env) -> None:
    iam = env.lake.iam
    iam.create_user("sched-carol")
    carol = iam.user_principal("sched-carol")
    env.service.create_state_machine("m", PASS)
    env.service.create_schedule("s", "rate(1 minute)", "m")
    assert env.service.get_schedule("s").principal_arn == LOCAL_ADMIN.arn
    env.service.update_schedule("s", enabled=True, principal=carol)
    assert env.service.get_schedule("s").principal_arn == carol.arn
    (firing,) = env.service.run_due(START + timedelta(minutes=1, seconds=1))
    assert firing.execution_arn is None  # carol may start nothing
    assert "sched-carol is not authorized" in (firing.error or "")


def test_a_nested_execution_needs_start_execution_on_the_child(env: Env) -> None:
    iam = env.lake.iam
    iam.create_user("nest-dan")
    dan = iam.user_principal("nest-dan")
    child = env.service.create_state_machine("child", PASS).arn
    parent = machine(
        {
            "Run": task(
                "arn:aws:states:::states:startExecution.sync:2",
                {"StateMachineArn": child},
                End=True,
            )
        }
    )
    env.service.create_state_machine("parent", parent)
    refused = env.service.start_execution("parent", principal=dan)
    assert refused.status == "FAILED"
    assert "states:StartExecution" in (refused.cause or "")
    iam.put_user_policy("nest-dan", "start", _start_only(child))
    allowed = env.service.start_execution("parent", principal=dan)
    assert allowed.status == "SUCCEEDED", allowed.cause


def test_an_old_store_schedule_reads_as_the_local_admin(config: LakeConfig, tmp_path: Path) -> None:
    path = tmp_path / "workflows.sqlite"
    con = sqlite3.connect(path)
    schema = workflow_store.MIGRATIONS[0]
    assert isinstance(schema, str)
    con.executescript(schema)
    con.execute("ALTER TABLE executions ADD COLUMN principal TEXT")
    con.execute("PRAGMA user_version = 2")
    con.execute(
        "INSERT INTO schedules VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            "old",
            "rate(1 hour)",
            "UTC",
            "arn:aws:states:us-east-1:000000000000:stateMachine:m",
            "{}",
            "ENABLED",
            None,
            None,
            None,
            START.isoformat(),
            None,
            None,
            "",
        ),
    )
    con.commit()
    con.close()
    service = WorkflowService(config, db_path=path)
    try:
        (old,) = service.list_schedules()
        assert old.principal_arn == LOCAL_ADMIN.arn
    finally:
        service.close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(workflow_store.MIGRATIONS)
    con.close()
