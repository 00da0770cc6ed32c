"""Glue's jobs and crawlers do work as the lake itself (a pythonshell script runs as the
lake's operating-system user, a crawl writes the catalog as the lake): over a real
``lakebox serve`` with scoped users, a pythonshell job needs a principal allowed every
action (also through a Step Functions ``glue:startJobRun.sync`` task), and a crawler's
definer and starter need the catalog and S3 actions its crawl does."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from server.conftest import REGION, ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")

ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/authz-glue"
GLUE = f"arn:aws:glue:{REGION}:{ACCOUNT}"


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _user(client: ClientFactory, name: str, statements: list[dict[str, Any]]) -> tuple[str, str]:
    iam = client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="scoped",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    made = iam.create_access_key(UserName=name)["AccessKey"]
    return made["AccessKeyId"], made["SecretAccessKey"]


def _wait_execution(sfn: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return dict(described)
        assert time.monotonic() < deadline
        time.sleep(0.05)


# -- jobs -------------------------------------------------------------------------------------


def test_a_pythonshell_job_needs_a_principal_allowed_everything(
    client: ClientFactory, served: Served
) -> None:
    marker = served.home / "authz-job-marker"
    scripts = served.home / "authz-scratch"
    scripts.mkdir()
    (scripts / "x.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (scripts / "q.sql").write_text("SELECT 1\n")
    script, sql = "s3://authz-scratch/x.py", "s3://authz-scratch/q.sql"
    # every Glue, S3, Step Functions action and every role: still short of "*"
    keys = _user(
        client,
        "authz-job-bob",
        [
            {
                "Effect": "Allow",
                "Action": ["glue:*", "s3:*", "states:*", "iam:PassRole"],
                "Resource": "*",
            }
        ],
    )
    bob = client("glue", *keys)
    with pytest.raises(ClientError) as exc:
        bob.create_job(
            Name="authz-py", Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": script}
        )
    assert _code(exc) == "AccessDeniedException"
    assert "operating-system user" in str(exc.value)
    with pytest.raises(ClientError) as exc:  # a Glue ETL (PySpark) script is one too
        bob.create_job(
            Name="authz-etl", Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": script}
        )
    assert _code(exc) == "AccessDeniedException"
    assert "create glueetl jobs" in str(exc.value)

    admin = client("glue")
    admin.create_job(
        Name="authz-py", Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": script}
    )
    with pytest.raises(ClientError) as exc:
        bob.start_job_run(JobName="authz-py")
    assert _code(exc) == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:
        bob.update_job(JobName="authz-py", JobUpdate={"Role": ROLE, "Timeout": 5})
    assert _code(exc) == "AccessDeniedException"

    # SQL runs through the query service as the caller: glue:* is enough for it, but not
    # for turning it into a script
    bob.create_job(
        Name="authz-sql", Role=ROLE, Command={"Name": "lakebox-sql", "ScriptLocation": sql}
    )
    with pytest.raises(ClientError) as exc:
        bob.update_job(
            JobName="authz-sql",
            JobUpdate={"Role": ROLE, "Command": {"Name": "pythonshell", "ScriptLocation": script}},
        )
    assert _code(exc) == "AccessDeniedException"
    assert admin.get_job(JobName="authz-sql")["Job"]["Command"]["Name"] == "lakebox-sql"

    # a state machine's glue:startJobRun.sync task runs as the execution's principal
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Parameters": {"JobName": "authz-py"},
                "End": True,
            }
        },
    }
    sfn = client("stepfunctions", *keys)
    machine = sfn.create_state_machine(
        name="authz-job-runner", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=machine, input="{}")
    done = _wait_execution(sfn, started["executionArn"])
    assert done["status"] == "FAILED", done
    assert "AccessDenied" in done.get("error", "") + done.get("cause", ""), done
    time.sleep(0.5)
    assert not marker.exists()


# -- crawlers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crawl_setup(client: ClientFactory, served: Served) -> tuple[str, str]:
    glue = client("glue")
    for db in ("authz_crawl_mine", "authz_crawl_theirs"):
        glue.create_database(DatabaseInput={"Name": db})
    for bucket in ("authz-crawl-data", "authz-crawl-secret"):
        folder = served.home / bucket / "sales" / "year=2024"
        folder.mkdir(parents=True)
        (folder / "part-0.csv").write_text("id,amount\n1,10.5\n")
    mine = f"{GLUE}:database/authz_crawl_mine"
    table = f"{GLUE}:table/authz_crawl_mine/*"
    return _user(
        client,
        "authz-crawl-bob",
        [
            {"Effect": "Allow", "Action": "glue:*", "Resource": f"{GLUE}:crawler/*"},
            {
                "Effect": "Allow",
                "Action": [
                    "glue:Get*",
                    "glue:CreateTable",
                    "glue:UpdateTable",
                    "glue:BatchCreatePartition",
                ],
                "Resource": [f"{GLUE}:catalog", mine, table],
            },
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetObject"],
                "Resource": ["arn:aws:s3:::authz-crawl-data", "arn:aws:s3:::authz-crawl-data/*"],
            },
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE},
        ],
    )


def _targets(bucket: str = "authz-crawl-data") -> dict[str, Any]:
    return {"S3Targets": [{"Path": f"s3://{bucket}/sales/"}]}


def test_a_crawler_is_defined_only_over_what_its_definer_may_crawl(
    client: ClientFactory, crawl_setup: tuple[str, str]
) -> None:
    bob = client("glue", *crawl_setup)
    refused = [
        ({"DatabaseName": "authz_crawl_theirs"}, "glue:CreateTable"),
        ({"Targets": _targets("authz-crawl-secret")}, "s3:ListBucket"),
        ({"Role": f"arn:aws:iam::{ACCOUNT}:role/authz-other"}, "iam:PassRole"),
        ({"SchemaChangePolicy": {"DeleteBehavior": "DELETE_FROM_DATABASE"}}, "glue:DeleteTable"),
    ]
    for change, said in refused:
        given = {
            "Name": "authz-crawler-x",
            "Role": ROLE,
            "DatabaseName": "authz_crawl_mine",
            "Targets": _targets(),
            **change,
        }
        with pytest.raises(ClientError) as exc:
            bob.create_crawler(**given)
        assert _code(exc) == "AccessDeniedException", change
        assert said in str(exc.value), (change, str(exc.value))
    with pytest.raises(ClientError) as exc:
        client("glue").get_crawler(Name="authz-crawler-x")
    assert _code(exc) == "EntityNotFoundException"

    bob.create_crawler(
        Name="authz-crawler-mine", Role=ROLE, DatabaseName="authz_crawl_mine", Targets=_targets()
    )
    for change, said in refused:
        with pytest.raises(ClientError) as exc:
            bob.update_crawler(Name="authz-crawler-mine", **change)
        assert _code(exc) == "AccessDeniedException", change
        assert said in str(exc.value), (change, str(exc.value))
    crawler = client("glue").get_crawler(Name="authz-crawler-mine")["Crawler"]
    assert crawler["DatabaseName"] == "authz_crawl_mine"
    assert crawler["SchemaChangePolicy"]["DeleteBehavior"] != "DELETE_FROM_DATABASE"
    bob.update_crawler(Name="authz-crawler-mine", Description="mine")


def test_a_crawl_is_started_only_by_who_may_do_what_it_does(
    client: ClientFactory, crawl_setup: tuple[str, str]
) -> None:
    admin, bob = client("glue"), client("glue", *crawl_setup)
    admin.create_crawler(
        Name="authz-crawler-theirs",
        Role=ROLE,
        DatabaseName="authz_crawl_theirs",
        Targets=_targets(),
        SchemaChangePolicy={"DeleteBehavior": "DELETE_FROM_DATABASE"},
    )
    admin.create_crawler(
        Name="authz-crawler-secret",
        Role=ROLE,
        DatabaseName="authz_crawl_mine",
        Targets=_targets("authz-crawl-secret"),
    )
    for name, said in (
        ("authz-crawler-theirs", "database/authz_crawl_theirs"),
        ("authz-crawler-secret", "authz-crawl-secret"),
    ):
        with pytest.raises(ClientError) as exc:
            bob.start_crawler(Name=name)
        assert _code(exc) == "AccessDeniedException"
        assert said in str(exc.value)
        assert admin.get_crawler(Name=name)["Crawler"].get("LastCrawl") is None

    admin.create_crawler(
        Name="authz-crawler-ok", Role=ROLE, DatabaseName="authz_crawl_mine", Targets=_targets()
    )
    bob.start_crawler(Name="authz-crawler-ok")
    deadline = time.monotonic() + 120
    while (crawler := admin.get_crawler(Name="authz-crawler-ok")["Crawler"])["State"] != "READY":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler


def test_a_job_needs_pass_role_and_its_script(client: ClientFactory, served: Served) -> None:
    folder = served.home / "authz-sql-scripts"
    folder.mkdir()
    (folder / "q.sql").write_text("SELECT 1\n")
    (folder / "secret.sql").write_text("SELECT 'not yours'\n")
    keys = _user(
        client,
        "authz-job-carol",
        [
            {"Effect": "Allow", "Action": "glue:*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::authz-sql-scripts/q.sql",
            },
        ],
    )
    carol = client("glue", *keys)
    command = {"Name": "lakebox-sql", "ScriptLocation": "s3://authz-sql-scripts/q.sql"}
    with pytest.raises(ClientError) as exc:
        carol.create_job(Name="authz-carol", Role=ROLE, Command=command)
    assert _code(exc) == "AccessDeniedException"
    assert "iam:PassRole" in str(exc.value)
    client("iam").put_user_policy(
        UserName="authz-job-carol",
        PolicyName="pass",
        PolicyDocument=json.dumps(
            {"Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE}]}
        ),
    )
    carol.create_job(Name="authz-carol", Role=ROLE, Command=command)
    with pytest.raises(ClientError) as exc:
        carol.update_job(
            JobName="authz-carol",
            JobUpdate={
                "Role": ROLE,
                "Command": {
                    "Name": "lakebox-sql",
                    "ScriptLocation": "s3://authz-sql-scripts/secret.sql",
                },
            },
        )
    assert _code(exc) == "AccessDeniedException"
    assert "s3:GetObject" in str(exc.value)
