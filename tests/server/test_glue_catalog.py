"""Glue's Data Catalog over a real ``lakebox serve`` with boto3: databases and tables
(updates, name filters, pages), partitions one by one and in batches, GetPartitions'
Expression and paginator, and one catalog shared with Athena both ways."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lakebox.lakehouse import Lakehouse
from server.conftest import REGION, ClientFactory, Served, aws_cli

pytestmark = pytest.mark.xdist_group("server")


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _run_query(athena: Any, sql: str, timeout: float = 60) -> dict[str, Any]:
    qid = athena.start_query_execution(QueryString=sql)["QueryExecutionId"]
    deadline = time.monotonic() + timeout
    while True:
        qe = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if qe["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
            rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
            return {"rows": [[d.get("VarCharValue") for d in r["Data"]] for r in rows[1:]]}
        assert time.monotonic() < deadline, f"{sql} did not finish: {qe['Status']}"
        time.sleep(0.05)


def _table_input(name: str, location: str, keys: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "PartitionKeys": [{"Name": k, "Type": t} for k, t in keys],
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "int"}, {"Name": "name", "Type": "string"}],
            "Location": location,
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                "Parameters": {"field.delim": ","},
            },
        },
    }


def _partition(values: list[str], location: str | None = None) -> dict[str, Any]:
    given: dict[str, Any] = {"Values": values, "Parameters": {"source": "test"}}
    if location is not None:
        given["StorageDescriptor"] = {"Location": location}
    return given


@pytest.fixture(scope="module")
def glue(client: ClientFactory) -> Any:
    made = client("glue")
    made.create_database(DatabaseInput={"Name": "gp"})
    # 30 partitions: year 2023/2024 (string), month 1..15 (int)
    made.create_table(
        DatabaseName="gp",
        TableInput=_table_input(
            "events", "s3://gp-data/events/", [("year", "string"), ("month", "int")]
        ),
    )
    for year in ("2023", "2024"):
        made.batch_create_partition(
            DatabaseName="gp",
            TableName="events",
            PartitionInputList=[_partition([year, str(m)]) for m in range(1, 16)],
        )
    return made


def _values(partitions: list[dict[str, Any]]) -> list[list[str]]:
    return [p["Values"] for p in partitions]


# -- databases and tables --------------------------------------------------------------------


def test_update_database_and_table(glue: Any) -> None:
    glue.create_database(DatabaseInput={"Name": "gp_upd", "Description": "before"})
    glue.update_database(
        Name="gp_upd",
        DatabaseInput={"Name": "gp_upd", "Description": "after", "Parameters": {"k": "v"}},
    )
    db = glue.get_database(Name="gp_upd")["Database"]
    assert (db["Description"], db["Parameters"], db["CatalogId"]) == (
        "after",
        {"k": "v"},
        "000000000000",
    )
    with pytest.raises(ClientError) as exc:
        glue.update_database(Name="gp_upd", DatabaseInput={"Name": "other"})
    assert _code(exc) == "InvalidInputException"
    with pytest.raises(ClientError) as exc:
        glue.update_database(Name="gp_nope", DatabaseInput={"Name": "gp_nope"})
    assert _code(exc) == "EntityNotFoundException"

    glue.create_table(DatabaseName="gp_upd", TableInput=_table_input("t", "s3://gp-data/t/", []))
    table_input = _table_input("t", "s3://gp-data/t2/", [])
    table_input["StorageDescriptor"]["Columns"].append({"Name": "extra", "Type": "double"})
    version = glue.get_table(DatabaseName="gp_upd", Name="t")["Table"]["VersionId"]
    glue.update_table(DatabaseName="gp_upd", TableInput=table_input, VersionId=version)
    table = glue.get_table(DatabaseName="gp_upd", Name="t")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://gp-data/t2/"
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "name", "extra"]
    assert table["VersionId"] != version
    with pytest.raises(ClientError) as exc:  # the version it was changed from is stale now
        glue.update_table(DatabaseName="gp_upd", TableInput=table_input, VersionId=version)
    assert _code(exc) == "ConcurrentModificationException"
    with pytest.raises(ClientError) as exc:
        glue.update_table(DatabaseName="gp_upd", TableInput=_table_input("nope", "s3://x/", []))
    assert _code(exc) == "EntityNotFoundException"
    with pytest.raises(ClientError) as exc:  # a location the lake may not read
        glue.update_table(
            DatabaseName="gp_upd", TableInput=_table_input("t", "s3://gp-data/../../etc/", [])
        )
    assert _code(exc) == "InvalidInputException"


def test_get_tables_expression_and_pages(glue: Any) -> None:
    glue.create_database(DatabaseInput={"Name": "gp_many"})
    for i in range(7):
        glue.create_table(
            DatabaseName="gp_many",
            TableInput=_table_input(f"sales_{i}" if i < 5 else f"other_{i}", "s3://gp-data/m/", []),
        )
    names = [
        t["Name"]
        for t in glue.get_tables(DatabaseName="gp_many", Expression="sales.*")["TableList"]
    ]
    assert names == [f"sales_{i}" for i in range(5)]
    names = [
        t["Name"] for t in glue.get_tables(DatabaseName="gp_many", Expression="sales*")["TableList"]
    ]
    assert len(names) == 5
    assert [
        t["Name"]
        for t in glue.get_tables(DatabaseName="gp_many", Expression="other_5|sales_0")["TableList"]
    ] == ["other_5", "sales_0"]
    with pytest.raises(ClientError) as exc:
        glue.get_tables(DatabaseName="gp_many", Expression="sales(")
    assert _code(exc) == "InvalidInputException"
    glue.create_table(
        DatabaseName="gp_many", TableInput=_table_input("a" * 60, "s3://gp-data/m/", [])
    )
    with pytest.raises(ClientError) as exc:  # would backtrack for ever on the long name
        glue.get_tables(DatabaseName="gp_many", Expression="(a+)+b")
    assert _code(exc) == "InvalidInputException"

    first = glue.get_tables(DatabaseName="gp_many", MaxResults=3)
    assert len(first["TableList"]) == 3 and first["NextToken"]
    pages = glue.get_paginator("get_tables").paginate(
        DatabaseName="gp_many", PaginationConfig={"PageSize": 2}
    )
    sizes, seen = [], []
    for page in pages:
        sizes.append(len(page["TableList"]))
        seen += [t["Name"] for t in page["TableList"]]
    assert sizes == [2, 2, 2, 2]
    assert seen == sorted(seen) and len(seen) == 8
    with pytest.raises(ClientError) as exc:
        glue.get_tables(DatabaseName="gp_many", NextToken="not-a-token")
    assert _code(exc) == "InvalidInputException"

    dbs = [
        d["Name"]
        for p in glue.get_paginator("get_databases").paginate(PaginationConfig={"PageSize": 1})
        for d in p["DatabaseList"]
    ]
    assert {"gp", "gp_many"} <= set(dbs) and dbs == sorted(dbs)


# -- partitions ------------------------------------------------------------------------------


def test_partition_one_by_one(glue: Any) -> None:
    glue.create_partition(
        DatabaseName="gp",
        TableName="events",
        PartitionInput=_partition(["2025", "1"], "s3://gp-data/elsewhere/2025-1/"),
    )
    got = glue.get_partition(DatabaseName="gp", TableName="events", PartitionValues=["2025", "1"])[
        "Partition"
    ]
    assert got["Values"] == ["2025", "1"]
    assert (got["DatabaseName"], got["TableName"]) == ("gp", "events")
    assert got["StorageDescriptor"]["Location"] == "s3://gp-data/elsewhere/2025-1/"
    assert got["StorageDescriptor"]["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    assert [c["Name"] for c in got["StorageDescriptor"]["Columns"]] == ["id", "name"]
    assert got["Parameters"] == {"source": "test"}
    assert got["CreationTime"].year >= 2024

    with pytest.raises(ClientError) as exc:
        glue.create_partition(
            DatabaseName="gp", TableName="events", PartitionInput=_partition(["2025", "1"])
        )
    assert _code(exc) == "AlreadyExistsException"
    with pytest.raises(ClientError) as exc:
        glue.create_partition(
            DatabaseName="gp", TableName="events", PartitionInput=_partition(["2025"])
        )
    assert _code(exc) == "InvalidInputException"
    assert "number of partition keys" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        glue.create_partition(
            DatabaseName="gp", TableName="nope", PartitionInput=_partition(["1", "2"])
        )
    assert _code(exc) == "EntityNotFoundException"

    glue.update_partition(
        DatabaseName="gp",
        TableName="events",
        PartitionValueList=["2025", "1"],
        PartitionInput=_partition(["2025", "2"], "s3://gp-data/elsewhere/2025-2/"),
    )
    with pytest.raises(ClientError) as exc:
        glue.get_partition(DatabaseName="gp", TableName="events", PartitionValues=["2025", "1"])
    assert _code(exc) == "EntityNotFoundException"
    moved = glue.get_partition(DatabaseName="gp", TableName="events", PartitionValues=["2025", "2"])
    assert moved["Partition"]["StorageDescriptor"]["Location"] == "s3://gp-data/elsewhere/2025-2/"
    with pytest.raises(ClientError) as exc:
        glue.update_partition(
            DatabaseName="gp",
            TableName="events",
            PartitionValueList=["2025", "9"],
            PartitionInput=_partition(["2025", "9"]),
        )
    assert _code(exc) == "EntityNotFoundException"

    glue.delete_partition(DatabaseName="gp", TableName="events", PartitionValues=["2025", "2"])
    with pytest.raises(ClientError) as exc:
        glue.delete_partition(DatabaseName="gp", TableName="events", PartitionValues=["2025", "2"])
    assert _code(exc) == "EntityNotFoundException"


def test_batches_report_each_entry(glue: Any) -> None:
    glue.create_table(
        DatabaseName="gp",
        TableInput=_table_input("batch", "s3://gp-data/batch/", [("day", "date")]),
    )
    answer = glue.batch_create_partition(
        DatabaseName="gp",
        TableName="batch",
        PartitionInputList=[_partition(["2024-01-01"]), _partition(["2024-01-02"])],
    )
    assert answer["Errors"] == []
    answer = glue.batch_create_partition(
        DatabaseName="gp",
        TableName="batch",
        PartitionInputList=[
            _partition(["2024-01-02"]),
            _partition(["2024-01-03"]),
            _partition(["a", "b"]),
        ],
    )
    assert [(e["PartitionValues"], e["ErrorDetail"]["ErrorCode"]) for e in answer["Errors"]] == [
        (["2024-01-02"], "AlreadyExistsException"),
        (["a", "b"], "InvalidInputException"),
    ]
    got = glue.batch_get_partition(
        DatabaseName="gp",
        TableName="batch",
        PartitionsToGet=[
            {"Values": ["2024-01-03"]},
            {"Values": ["2030-01-01"]},
            {"Values": ["2024-01-01"]},
        ],
    )
    assert _values(got["Partitions"]) == [["2024-01-03"], ["2024-01-01"]]
    assert got["UnprocessedKeys"] == []

    updated = glue.batch_update_partition(
        DatabaseName="gp",
        TableName="batch",
        Entries=[
            {
                "PartitionValueList": ["2024-01-01"],
                "PartitionInput": {"Values": ["2024-01-01"], "Parameters": {"checked": "yes"}},
            },
            {"PartitionValueList": ["2031-01-01"], "PartitionInput": {"Values": ["2031-01-01"]}},
        ],
    )
    assert [
        (e["PartitionValueList"], e["ErrorDetail"]["ErrorCode"]) for e in updated["Errors"]
    ] == [(["2031-01-01"], "EntityNotFoundException")]
    one = glue.get_partition(DatabaseName="gp", TableName="batch", PartitionValues=["2024-01-01"])
    assert one["Partition"]["Parameters"] == {"checked": "yes"}

    deleted = glue.batch_delete_partition(
        DatabaseName="gp",
        TableName="batch",
        PartitionsToDelete=[{"Values": ["2024-01-01"]}, {"Values": ["1999-01-01"]}],
    )
    assert [(e["PartitionValues"], e["ErrorDetail"]["ErrorCode"]) for e in deleted["Errors"]] == [
        (["1999-01-01"], "EntityNotFoundException")
    ]
    left = glue.get_partitions(DatabaseName="gp", TableName="batch")["Partitions"]
    assert sorted(_values(left)) == [["2024-01-02"], ["2024-01-03"]]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("year = '2024' AND month = 3", [["2024", "3"]]),
        ("year = '2024' AND month > 13", [["2024", "14"], ["2024", "15"]]),
        ("month BETWEEN 2 AND 3 AND year <> '2024'", [["2023", "2"], ["2023", "3"]]),
        ("(month = 1 OR month = 15) AND NOT year = '2023'", [["2024", "1"], ["2024", "15"]]),
        ("month IN (7, 8) AND year LIKE '%24'", [["2024", "7"], ["2024", "8"]]),
    ],
)
def test_get_partitions_expression(glue: Any, expression: str, expected: list[list[str]]) -> None:
    found = glue.get_partitions(DatabaseName="gp", TableName="events", Expression=expression)
    assert sorted(_values(found["Partitions"]), key=lambda v: (v[0], int(v[1]))) == expected


def test_a_bad_expression_is_invalid_input(glue: Any) -> None:
    for expression, names in (
        ("month = 'x'", "not a valid int value"),
        ("colour = 'red'", "'colour' at position 1 is not a partition key"),
        ("year = '2024' AND", "at position 18"),
    ):
        with pytest.raises(ClientError) as exc:
            glue.get_partitions(DatabaseName="gp", TableName="events", Expression=expression)
        assert _code(exc) == "InvalidInputException"
        assert names in exc.value.response["Error"]["Message"]


def test_get_partitions_paginator_segments_and_schema(glue: Any) -> None:
    pages = list(
        glue.get_paginator("get_partitions").paginate(
            DatabaseName="gp",
            TableName="events",
            Expression="year = '2024'",
            PaginationConfig={"PageSize": 4},
        )
    )
    assert [len(p["Partitions"]) for p in pages] == [4, 4, 4, 3]
    values = [v for p in pages for v in _values(p["Partitions"])]
    assert len(values) == 15 and len({tuple(v) for v in values}) == 15

    segments = [
        _values(
            glue.get_partitions(
                DatabaseName="gp",
                TableName="events",
                Segment={"SegmentNumber": n, "TotalSegments": 3},
            )["Partitions"]
        )
        for n in range(3)
    ]
    assert sum(len(s) for s in segments) == 30
    assert len({tuple(v) for s in segments for v in s}) == 30
    slim = glue.get_partitions(
        DatabaseName="gp", TableName="events", ExcludeColumnSchema=True, MaxResults=1
    )["Partitions"][0]
    assert "Columns" not in slim["StorageDescriptor"]


# -- one catalog with Athena ---------------------------------------------------------------


def test_partitions_made_through_glue_are_queried_through_athena(
    served: Served, client: ClientFactory, glue: Any
) -> None:
    for day in ("2024-05-01", "2024-05-02"):
        folder = served.home / "gp-data" / "visits" / f"day={day}"
        folder.mkdir(parents=True)
        (folder / "part-0.csv").write_text(f"1,{day}-a\n2,{day}-b\n")
    glue.create_table(
        DatabaseName="gp",
        TableInput=_table_input("visits", "s3://gp-data/visits/", [("day", "string")]),
    )
    athena = client("athena")
    assert _run_query(athena, "SELECT count(*) FROM gp.visits")["rows"] == [["0"]]
    glue.create_partition(
        DatabaseName="gp", TableName="visits", PartitionInput={"Values": ["2024-05-01"]}
    )
    rows = _run_query(athena, "SELECT name FROM gp.visits ORDER BY name")["rows"]
    assert rows == [["2024-05-01-a"], ["2024-05-01-b"]]
    glue.batch_create_partition(
        DatabaseName="gp",
        TableName="visits",
        PartitionInputList=[
            {
                "Values": ["2024-05-02"],
                "StorageDescriptor": {"Location": "s3://gp-data/visits/day=2024-05-02/"},
            }
        ],
    )
    rows = _run_query(athena, "SELECT day, count(*) FROM gp.visits GROUP BY day ORDER BY day")
    assert rows["rows"] == [["2024-05-01", "2"], ["2024-05-02", "2"]]
    glue.delete_partition(DatabaseName="gp", TableName="visits", PartitionValues=["2024-05-01"])
    assert _run_query(athena, "SELECT count(*) FROM gp.visits")["rows"] == [["2"]]


def test_partitions_added_by_athena_are_seen_by_glue(
    served: Served, client: ClientFactory, glue: Any
) -> None:
    for region in ("eu", "us"):
        folder = served.home / "gp-data" / "shops" / f"region={region}"
        folder.mkdir(parents=True)
        (folder / "part-0.csv").write_text("1,a\n")
    glue.create_table(
        DatabaseName="gp",
        TableInput=_table_input("shops", "s3://gp-data/shops/", [("region", "string")]),
    )
    athena = client("athena")
    _run_query(athena, "ALTER TABLE gp.shops ADD PARTITION (region = 'eu')")
    found = glue.get_partitions(DatabaseName="gp", TableName="shops")["Partitions"]
    assert _values(found) == [["eu"]]
    assert found[0]["StorageDescriptor"]["Location"].rstrip("/").endswith("shops/region=eu")
    _run_query(athena, "MSCK REPAIR TABLE gp.shops")
    found = glue.get_partitions(DatabaseName="gp", TableName="shops", Expression="region <> 'eu'")
    assert _values(found["Partitions"]) == [["us"]]


# -- who may ---------------------------------------------------------------------------------


def test_a_user_of_another_account_is_refused(
    lake: Lakehouse, client: ClientFactory, glue: Any
) -> None:
    lake.iam.create_account("111122223333", name="elsewhere")
    lake.iam.create_user("eve", account_id="111122223333", admin=True)
    made = lake.iam.create_access_key("eve", account_id="111122223333")
    eve = client("glue", made.key.access_key_id, made.secret_access_key)
    calls = [
        lambda: eve.get_partitions(DatabaseName="gp", TableName="events"),
        lambda: eve.create_partition(
            DatabaseName="gp", TableName="events", PartitionInput=_partition(["2030", "1"])
        ),
        lambda: eve.get_databases(),
        lambda: eve.get_table(DatabaseName="gp", Name="events"),
        lambda: eve.get_jobs(),
        lambda: eve.list_crawlers(),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc) == "AccessDeniedException"
        assert "000000000000" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:  # nor may the lake's admin name another catalog
        glue.get_partitions(CatalogId="111122223333", DatabaseName="gp", TableName="events")
    assert _code(exc) in ("AccessDeniedException", "EntityNotFoundException")
    assert glue.get_partitions(CatalogId="000000000000", DatabaseName="gp", TableName="events")


def test_partition_actions_are_authorized_on_the_table(
    lake: Lakehouse, client: ClientFactory, glue: Any
) -> None:
    base = f"arn:aws:glue:{REGION}:000000000000"
    iam = client("iam")
    iam.create_user(UserName="gp-reader")
    iam.put_user_policy(
        UserName="gp-reader",
        PolicyName="read",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["glue:GetPartitions", "glue:GetPartition"],
                        "Resource": [
                            f"{base}:catalog",
                            f"{base}:database/gp",
                            f"{base}:table/gp/events",
                        ],
                    }
                ],
            }
        ),
    )
    keys = iam.create_access_key(UserName="gp-reader")["AccessKey"]
    reader = client("glue", keys["AccessKeyId"], keys["SecretAccessKey"])
    assert reader.get_partitions(DatabaseName="gp", TableName="events", MaxResults=1)["Partitions"]
    with pytest.raises(ClientError) as exc:
        reader.get_partitions(DatabaseName="gp", TableName="visits")
    assert _code(exc) == "AccessDeniedException" and "table/gp/visits" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        reader.create_partition(
            DatabaseName="gp", TableName="events", PartitionInput=_partition(["2031", "1"])
        )
    assert _code(exc) == "AccessDeniedException"


# -- the AWS CLI ------------------------------------------------------------------------------


def test_aws_cli_get_partitions(served: Served, glue: Any) -> None:
    proc = aws_cli(
        served,
        "glue",
        "get-partitions",
        "--database-name",
        "gp",
        "--table-name",
        "events",
        "--expression",
        "year = '2023' AND month <= 2",
    )
    assert proc.returncode == 0, proc.stderr
    found = sorted(_values(json.loads(proc.stdout)["Partitions"]))
    assert found == [["2023", "1"], ["2023", "2"]]


# -- hostile input ----------------------------------------------------------------------------


def _post(served: Served, target: str, doc: Any) -> tuple[int, dict[str, Any]]:
    """A Glue request sent as written (boto3 would check the types first)."""
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = json.dumps(doc).encode()
    headers = {"X-Amz-Target": f"AWSGlue.{target}", "Content-Type": "application/x-amz-json-1.1"}
    request = AWSRequest(method="POST", url=served.url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(served.admin_key, served.admin_secret), "glue", REGION).add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(
        prepared.url, data=body, headers=dict(prepared.headers.items()), method="POST"
    )
    try:
        with urllib.request.urlopen(raw, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


@pytest.mark.parametrize(
    ("target", "doc", "names"),
    [
        (
            "GetPartitions",
            {"DatabaseName": "gp", "TableName": "events", "MaxResults": "ten"},
            "maxResults",
        ),
        (
            "GetPartitions",
            {"DatabaseName": "gp", "TableName": "events", "Expression": 7},
            "Expression",
        ),
        (
            "GetPartitions",
            {
                "DatabaseName": "gp",
                "TableName": "events",
                "Segment": {"SegmentNumber": 3, "TotalSegments": 2},
            },
            "Segment",
        ),
        (
            "CreatePartition",
            {"DatabaseName": "gp", "TableName": "events", "PartitionInput": {"Values": [2024, 1]}},
            "values",
        ),
        (
            "BatchGetPartition",
            {"DatabaseName": "gp", "TableName": "events", "PartitionsToGet": [{"Values": "2024"}]},
            "PartitionsToGet[0].Values",
        ),
        (
            "CreateJob",
            {
                "Name": "j",
                "Role": "r",
                "Command": {"Name": "pythonshell", "ScriptLocation": "s3://gp-data/x.py"},
                "Timeout": "soon",
            },
            "Timeout",
        ),
        ("StartJobRun", {"JobName": "j", "Timeout": "soon"}, "Timeout"),
        (
            "CreateCrawler",
            {
                "Name": "c",
                "Role": "r",
                "DatabaseName": "gp",
                "Targets": {"S3Targets": [{"Path": "s3://gp-data/", "SampleSize": "all"}]},
            },
            "SampleSize",
        ),
    ],
)
def test_malformed_members_are_invalid_input(
    served: Served, glue: Any, target: str, doc: dict[str, Any], names: str
) -> None:
    status, answer = _post(served, target, doc)
    assert status == 400, answer
    assert answer["__type"].endswith("InvalidInputException"), answer
    assert names.lower() in answer["message"].lower()
