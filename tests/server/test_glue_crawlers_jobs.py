"""Glue's crawlers and jobs over a real ``lakebox serve`` with boto3: definitions made,
listed (with paginators), changed and deleted; a crawl run, refused changes while it runs,
stopped; a job defined over the API and run."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from server.conftest import ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")

ROLE = "arn:aws:iam::000000000000:role/glue-crawler"


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _wait_ready(glue: Any, name: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        crawler = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] == "READY":
            return crawler
        assert time.monotonic() < deadline, crawler
        time.sleep(0.05)


@pytest.fixture(scope="module")
def glue(client: ClientFactory, served: Served) -> Any:
    made = client("glue")
    made.create_database(DatabaseInput={"Name": "gc"})
    sales = served.home / "gc-data" / "sales"
    for year in ("2023", "2024"):
        folder = sales / f"year={year}"
        folder.mkdir(parents=True)
        (folder / "part-0.csv").write_text("id,amount\n1,10.5\n2,20.25\n")
    (sales / "_tmp").mkdir()
    (sales / "_tmp" / "junk.csv").write_text("x\n1\n")
    return made


def _create(glue: Any, name: str, **extra: Any) -> None:
    glue.create_crawler(
        Name=name,
        Role=ROLE,
        DatabaseName="gc",
        Targets={"S3Targets": [{"Path": "s3://gc-data/sales/", "Exclusions": ["_tmp/**"]}]},
        **extra,
    )


# -- crawlers ---------------------------------------------------------------------------------


def test_create_get_update_delete_a_crawler(glue: Any) -> None:
    _create(
        glue,
        "gc-one",
        Description="sales files",
        TablePrefix="raw_",
        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
        Configuration=json.dumps(
            {"Version": 1.0, "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"}}
        ),
    )
    crawler = glue.get_crawler(Name="gc-one")["Crawler"]
    assert crawler["Role"] == ROLE
    assert crawler["DatabaseName"] == "gc" and crawler["TablePrefix"] == "raw_"
    assert crawler["Targets"]["S3Targets"] == [
        {"Path": "s3://gc-data/sales/", "Exclusions": ["_tmp/**"]}
    ]
    assert crawler["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}
    assert json.loads(crawler["Configuration"])["Grouping"] == {
        "TableGroupingPolicy": "CombineCompatibleSchemas"
    }
    assert crawler["State"] == "READY" and crawler["Version"] == 1

    with pytest.raises(ClientError) as exc:
        _create(glue, "gc-one")
    assert _code(exc) == "AlreadyExistsException"

    glue.update_crawler(
        Name="gc-one",
        TablePrefix="new_",
        Targets={"S3Targets": [{"Path": "s3://gc-data/sales/year=2024/"}]},
    )
    crawler = glue.get_crawler(Name="gc-one")["Crawler"]
    assert crawler["TablePrefix"] == "new_" and crawler["Version"] == 2
    assert crawler["Targets"]["S3Targets"][0]["Path"] == "s3://gc-data/sales/year=2024/"
    assert crawler["Description"] == "sales files"  # what the update left out is kept

    glue.delete_crawler(Name="gc-one")
    for call in (glue.get_crawler, glue.delete_crawler, glue.stop_crawler):
        with pytest.raises(ClientError) as exc:
            call(Name="gc-one")
        assert _code(exc) == "EntityNotFoundException"
    with pytest.raises(ClientError) as exc:
        glue.update_crawler(Name="gc-one", TablePrefix="x")
    assert _code(exc) == "EntityNotFoundException"


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        ({"Schedule": "cron(15 12 * * ? *)"}, "Schedule"),
        ({"Classifiers": ["mine"]}, "Classifiers"),
        ({"SchemaChangePolicy": {"UpdateBehavior": "SOMETIMES"}}, "UpdateBehavior"),
        ({"Configuration": "{not json"}, "not valid JSON"),
        ({"Configuration": json.dumps({"CrawlerOutput": {}})}, "CrawlerOutput"),
    ],
)
def test_what_a_crawler_cannot_be_is_invalid_input(
    glue: Any, extra: dict[str, Any], names: str
) -> None:
    with pytest.raises(ClientError) as exc:
        _create(glue, "gc-bad", **extra)
    assert _code(exc) == "InvalidInputException"
    assert names in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        glue.get_crawler(Name="gc-bad")


def test_other_targets_and_a_missing_database(glue: Any) -> None:
    with pytest.raises(ClientError) as exc:
        glue.create_crawler(
            Name="gc-jdbc",
            Role=ROLE,
            DatabaseName="gc",
            Targets={"JdbcTargets": [{"ConnectionName": "pg", "Path": "db/%"}]},
        )
    assert _code(exc) == "InvalidInputException" and "JdbcTargets" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        glue.create_crawler(
            Name="gc-nodb",
            Role=ROLE,
            DatabaseName="gc_missing",
            Targets={"S3Targets": [{"Path": "s3://gc-data/sales/"}]},
        )
    assert _code(exc) == "EntityNotFoundException"


def test_list_and_get_crawlers_with_paginators(glue: Any) -> None:
    for i in range(3):
        _create(glue, f"gc-list-{i}")
    names: list[str] = []
    token: dict[str, str] = {}
    while True:  # boto3 has no paginator for ListCrawlers: its NextToken by hand
        page = glue.list_crawlers(MaxResults=2, **token)
        assert len(page["CrawlerNames"]) <= 2
        names += page["CrawlerNames"]
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    assert [n for n in names if n.startswith("gc-list-")] == ["gc-list-0", "gc-list-1", "gc-list-2"]
    pages = list(glue.get_paginator("get_crawlers").paginate(PaginationConfig={"PageSize": 1}))
    assert all(len(p["Crawlers"]) == 1 for p in pages)
    found = [c for p in pages for c in p["Crawlers"] if c["Name"].startswith("gc-list-")]
    assert [c["State"] for c in found] == ["READY"] * 3
    assert glue.list_crawlers(MaxResults=1)["NextToken"]


def test_a_crawl_runs_and_is_listed(glue: Any) -> None:
    _create(glue, "gc-run", TablePrefix="run_")
    glue.start_crawler(Name="gc-run")
    crawler = _wait_ready(glue, "gc-run")
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler
    table = glue.get_table(DatabaseName="gc", Name="run_sales")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["year"]
    parts = glue.get_partitions(DatabaseName="gc", TableName="run_sales")["Partitions"]
    assert sorted(p["Values"] for p in parts) == [["2023"], ["2024"]]  # _tmp excluded
    crawls = glue.list_crawls(CrawlerName="gc-run")["Crawls"]
    assert len(crawls) == 1 and crawls[0]["State"] == "COMPLETED"
    summary = json.loads(crawls[0]["Summary"])
    assert summary["TABLE"]["ADD"]["Count"] == 1 and summary["PARTITION"]["ADD"]["Count"] == 2
    assert crawls[0]["EndTime"] >= crawls[0]["StartTime"]
    with pytest.raises(ClientError) as exc:
        glue.stop_crawler(Name="gc-run")
    assert _code(exc) == "CrawlerNotRunningException"


def test_a_running_crawl_refuses_changes_and_stops(glue: Any, served: Served) -> None:
    many = served.home / "gc-data" / "many"
    many.mkdir(parents=True)
    for i in range(3000):
        (many / f"f{i:05d}.csv").write_text("a,b\n1,2\n")
    glue.create_crawler(
        Name="gc-slow",
        Role=ROLE,
        DatabaseName="gc",
        Targets={"S3Targets": [{"Path": "s3://gc-data/many/"}]},
    )
    glue.start_crawler(Name="gc-slow")
    assert glue.get_crawler(Name="gc-slow")["Crawler"]["State"] == "RUNNING"
    with pytest.raises(ClientError) as exc:
        glue.start_crawler(Name="gc-slow")
    assert _code(exc) == "CrawlerRunningException"
    with pytest.raises(ClientError) as exc:
        glue.delete_crawler(Name="gc-slow")
    assert _code(exc) == "CrawlerRunningException"
    with pytest.raises(ClientError) as exc:
        glue.update_crawler(Name="gc-slow", TablePrefix="x_")
    assert _code(exc) == "CrawlerRunningException"
    glue.stop_crawler(Name="gc-slow")
    state = glue.get_crawler(Name="gc-slow")["Crawler"]["State"]
    assert state in ("STOPPING", "READY")
    if state == "STOPPING":
        with pytest.raises(ClientError) as exc:
            glue.stop_crawler(Name="gc-slow")
        assert _code(exc) in ("CrawlerStoppingException", "CrawlerNotRunningException")
    crawler = _wait_ready(glue, "gc-slow")
    assert crawler["LastCrawl"]["Status"] == "CANCELLED", crawler
    assert glue.list_crawls(CrawlerName="gc-slow")["Crawls"][0]["State"] == "STOPPED"
    glue.delete_crawler(Name="gc-slow")


# -- jobs -------------------------------------------------------------------------------------


def _script(served: Served, name: str, text: str) -> str:
    folder = served.home / "gc-data" / "scripts"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return f"s3://gc-data/scripts/{name}"


def test_jobs_are_defined_listed_run_and_deleted(glue: Any, served: Served) -> None:
    script = _script(served, "hello.py", "import sys\nprint('hello', sys.argv[1:])\n")
    answer = glue.create_job(
        Name="gc-job",
        Role=ROLE,
        Command={"Name": "pythonshell", "ScriptLocation": script, "PythonVersion": "3.9"},
        DefaultArguments={"--day": "2024-01-01"},
        MaxCapacity=0.0625,
        Timeout=5,
    )
    assert answer == {"Name": "gc-job", "ResponseMetadata": answer["ResponseMetadata"]}
    job = glue.get_job(JobName="gc-job")["Job"]
    assert job["Command"]["Name"] == "pythonshell"
    assert job["Command"]["ScriptLocation"] == script
    assert job["DefaultArguments"] == {"--day": "2024-01-01"}
    assert job["Role"] == ROLE and job["Timeout"] == 5
    assert job["CreatedOn"].year >= 2024

    with pytest.raises(ClientError) as exc:
        glue.create_job(
            Name="gc-job", Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": script}
        )
    assert _code(exc) == "AlreadyExistsException"

    run_id = glue.start_job_run(JobName="gc-job")["JobRunId"]
    deadline = time.monotonic() + 60
    while True:
        run = glue.get_job_run(JobName="gc-job", RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert run["JobRunState"] == "SUCCEEDED", run

    glue.update_job(
        JobName="gc-job",
        JobUpdate={"Role": ROLE, "Description": "changed", "Timeout": 7},
    )
    job = glue.get_job(JobName="gc-job")["Job"]
    assert (job["Description"], job["Timeout"]) == ("changed", 7)
    assert job["DefaultArguments"] == {}  # UpdateJob overwrites the definition, as in Glue
    assert job["Command"]["ScriptLocation"] == script  # but a job keeps its script

    for i in range(3):
        glue.create_job(
            Name=f"gc-jobs-{i}",
            Role=ROLE,
            Command={"Name": "lakebox-sql", "ScriptLocation": script},
        )
    names = [
        n
        for page in glue.get_paginator("list_jobs").paginate(PaginationConfig={"PageSize": 2})
        for n in page["JobNames"]
    ]
    assert {"gc-job", "gc-jobs-0", "gc-jobs-1", "gc-jobs-2"} <= set(names)
    jobs = [
        j["Name"]
        for page in glue.get_paginator("get_jobs").paginate(PaginationConfig={"PageSize": 1})
        for j in page["Jobs"]
    ]
    assert jobs == sorted(jobs) and set(names) == set(jobs)

    assert glue.delete_job(JobName="gc-jobs-0")["JobName"] == "gc-jobs-0"
    assert glue.delete_job(JobName="gc-jobs-0")["JobName"] == "gc-jobs-0"  # idempotent
    with pytest.raises(ClientError) as exc:
        glue.get_job(JobName="gc-jobs-0")
    assert _code(exc) == "EntityNotFoundException"
    with pytest.raises(ClientError) as exc:
        glue.update_job(JobName="gc-jobs-0", JobUpdate={"Role": ROLE})
    assert _code(exc) == "EntityNotFoundException"


@pytest.mark.parametrize(
    ("command", "names"),
    [
        (
            {"Name": "gluestreaming", "ScriptLocation": "s3://gc-data/scripts/x.py"},
            "'gluestreaming'",
        ),
        ({"Name": "pythonshell", "ScriptLocation": "/etc/passwd"}, "must be an s3:// URI"),
        ({"Name": "pythonshell", "ScriptLocation": "s3://gc-data/../../x.py"}, ""),
    ],
)
def test_jobs_that_cannot_run_are_invalid_input(
    glue: Any, command: dict[str, str], names: str
) -> None:
    with pytest.raises(ClientError) as exc:
        glue.create_job(Name="gc-bad-job", Role=ROLE, Command=command)
    assert _code(exc) == "InvalidInputException"
    assert names in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        glue.get_job(JobName="gc-bad-job")
    assert _code(exc) == "EntityNotFoundException"
