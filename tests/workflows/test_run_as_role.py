"""Athena and Glue tasks of a state machine act as the state machine's role (a session of
it, as Step Functions assumes it), so IAM and Lake Formation apply to the role's queries
and catalog calls, not to whoever started the execution."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.lf_toy import ToyPermissions
from lakebox.config import LakeConfig
from lakebox.principal import Principal
from lakebox.workflows.service import WorkflowService
from workflows.helpers import START, machine
from workflows.test_service_tasks import (
    ATHENA,
    GLUE_SDK,
    Env,
    PollClock,
    orders_table,
    query_params,
    task,
)

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "states.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture
def env(config: LakeConfig) -> Iterator[Env]:
    e = Env(config, PollClock(START))
    yield e
    e.close()


def _role(env: Env, name: str) -> str:
    account = env.lake.config.account_id
    env.lake.iam.create_role(name, TRUST, account_id=account)
    return f"arn:aws:iam::{account}:role/{name}"


def _analyst(env: Env) -> Principal:
    account = env.lake.config.account_id
    return Principal(account, f"arn:aws:iam::{account}:user/analyst", "user")


def test_an_athena_task_runs_its_query_as_the_state_machines_role(env: Env) -> None:
    orders_table(env)
    role = _role(env, "etl-role")
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
        role_arn=role,
    )
    ex = env.service.start_execution("q", name="nightly", principal=_analyst(env))
    assert ex.status == "SUCCEEDED", ex.cause
    qid = ex.output["QueryExecution"]["QueryExecutionId"]
    account = env.lake.config.account_id
    assert (
        env.queries.get_query_execution(qid).principal_arn
        == f"arn:aws:sts::{account}:assumed-role/etl-role/nightly"
    )


def test_a_glue_catalog_task_is_checked_by_lake_formation_as_the_role(
    env: Env, config: LakeConfig
) -> None:
    orders_table(env)
    role = _role(env, "etl-role")
    lf = ToyPermissions()
    analyst = _analyst(env)
    lf.grant(analyst.arn, "default.orders", "ALL")  # the starter's grants are not the role's
    service = WorkflowService(
        config,
        clock=PollClock(START),
        services={
            "lake": env.lake,
            "queries": env.queries,
            "glue_jobs": env.jobs,
            "lakeformation": lf,
        },
    )
    try:
        service.create_state_machine(
            "g",
            machine(
                {
                    "T": task(
                        GLUE_SDK + "getTable",
                        {"DatabaseName": "default", "Name": "orders"},
                        End=True,
                    )
                }
            ),
            role_arn=role,
        )
        ex = service.start_execution("g", name="first", principal=analyst)
        assert ex.status == "FAILED"
        assert ex.error == "Glue.AccessDeniedException"
        assert "Insufficient Lake Formation permission(s) on default" in (ex.cause or "")
        assert all("assumed-role/etl-role/first" in d.principal for d in lf.decisions)
        lf.grant(role, "default.orders", "SELECT", columns={"id", "amount"})
        ex = service.start_execution("g", name="second", principal=analyst)
        assert ex.status == "SUCCEEDED", ex.cause
        columns = ex.output["Table"]["StorageDescriptor"]["Columns"]
        assert [c["Name"] for c in columns] == ["id", "amount"]
    finally:
        service.close()


TRUST_GLUE = TRUST.replace("states.amazonaws.com", "glue.amazonaws.com")


def test_a_sql_job_runs_its_statements_as_a_session_of_its_role(env: Env, tmp_path: Path) -> None:
    orders_table(env)
    account = env.lake.config.account_id
    env.lake.iam.create_role("sql-job", TRUST_GLUE, account_id=account)
    role = f"arn:aws:iam::{account}:role/sql-job"
    script = tmp_path / "job.sql"
    script.write_text("SELECT count(*) FROM orders")
    analyst = _analyst(env)
    env.jobs.register_job("count", script, "sql", role=role, principal=analyst)
    run = env.jobs.wait(env.jobs.start_job_run("count", principal=analyst), 60)
    assert run.state == "SUCCEEDED", run.error_message
    assert run.principal_arn == analyst.arn  # who started it is still recorded
    (qid,) = run.query_execution_ids
    session = f"glue-{run.id}"[:64]
    acting = env.queries.get_query_execution(qid).principal_arn
    assert acting == f"arn:aws:sts::{account}:assumed-role/sql-job/{session}"
    # a role that does not trust Glue is not assumed: the run acts as its starter
    env.lake.iam.create_role("not-glue", TRUST, account_id=account)
    env.jobs.register_job(
        "count2", script, "sql", role=f"arn:aws:iam::{account}:role/not-glue", principal=analyst
    )
    run = env.jobs.wait(env.jobs.start_job_run("count2", principal=analyst), 60)
    (qid,) = run.query_execution_ids
    assert env.queries.get_query_execution(qid).principal_arn == analyst.arn
