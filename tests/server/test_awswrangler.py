"""awswrangler (AWS SDK for pandas) against a real ``lakebox serve``, configured the way its
documentation says to reach another endpoint (``wr.config.*_endpoint_url``) with a boto3
session holding keys the lake made: Athena reads without and with the CTAS approach (a
temporary Parquet table read through S3 by its data manifest, then dropped), and a
partitioned Parquet dataset written through S3 and registered in the Glue catalog, then
queried."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import awswrangler as wr
import boto3
import pandas as pd
import pytest

from server.conftest import REGION, ClientFactory, Served

pytestmark = [
    pytest.mark.xdist_group("server"),
    # awswrangler 3.17 still passes pandas' deprecated copy= keyword (pandas 3)
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]

RESULTS = "s3://wr-results/athena/"


@pytest.fixture(scope="module")
def session(served: Served) -> Iterator[boto3.Session]:
    """awswrangler pointed at the served lake, and the boto3 session it signs with."""
    endpoints = ("athena", "s3", "glue", "sts")
    saved = {name: getattr(wr.config, f"{name}_endpoint_url") for name in endpoints}
    for name in endpoints:
        setattr(wr.config, f"{name}_endpoint_url", served.url)
    made = boto3.Session(
        aws_access_key_id=served.admin_key,
        aws_secret_access_key=served.admin_secret,
        region_name=REGION,
    )
    made.client("s3", endpoint_url=served.url).create_bucket(Bucket="wr-results")
    made.client("s3", endpoint_url=served.url).create_bucket(Bucket="wr-lake")
    try:
        yield made
    finally:
        for name, value in saved.items():
            setattr(wr.config, f"{name}_endpoint_url", value)


def _read(session: boto3.Session, sql: str, ctas: bool, **kwargs: Any) -> pd.DataFrame:
    frame: pd.DataFrame = wr.athena.read_sql_query(
        sql,
        database="default",
        ctas_approach=ctas,
        s3_output=RESULTS,
        boto3_session=session,
        **kwargs,
    )
    return frame


@pytest.mark.parametrize("ctas", [False, True])
def test_read_sql_query_types_and_values(session: boto3.Session, ctas: bool) -> None:
    df = _read(
        session,
        "SELECT * FROM (VALUES (1, CAST(10 AS bigint), 'a', 1.5e0, true, DATE '2024-01-02'), "
        "(2, CAST(20 AS bigint), NULL, 2.5e0, false, DATE '2024-01-03')) "
        "AS t(i, bi, s, d, b, dt) ORDER BY i",
        ctas,
    )
    assert list(df.columns) == ["i", "bi", "s", "d", "b", "dt"]
    assert df["i"].tolist() == [1, 2]
    assert df["bi"].tolist() == [10, 20]
    assert df["s"].iloc[0] == "a" and pd.isna(df["s"].iloc[1])
    assert df["d"].tolist() == [1.5, 2.5]
    assert df["b"].tolist() == [True, False]
    assert [str(v)[:10] for v in df["dt"]] == ["2024-01-02", "2024-01-03"]
    assert str(df["i"].dtype) == "Int32" and str(df["bi"].dtype) == "Int64"


def test_ctas_approach_cleans_up_its_temporary_table_and_files(
    session: boto3.Session, client: ClientFactory
) -> None:
    s3 = client("s3")

    def keys() -> set[str]:
        listed = s3.list_objects_v2(Bucket="wr-results", Prefix="athena/")
        return {o["Key"] for o in listed.get("Contents", [])}

    tables_before = set(wr.catalog.tables(database="default", boto3_session=session)["Table"])
    keys_before = keys()
    df = _read(session, "SELECT x FROM UNNEST(sequence(1, 5000)) AS t(x)", True, keep_files=False)
    assert sorted(df["x"].tolist()) == list(range(1, 5001))
    tables_after = set(wr.catalog.tables(database="default", boto3_session=session)["Table"])
    assert tables_after == tables_before  # the temporary table is dropped
    # its Parquet files and manifest are deleted; the CTAS statement's own result stays
    added = keys() - keys_before
    assert added and all(k.endswith((".csv", ".csv.metadata")) for k in added), added
    assert not [k for k in added if k.endswith("-manifest.csv")], added


def test_ctas_reports_its_data_manifest(
    client: ClientFactory, served: Served, session: boto3.Session
) -> None:
    """Athena's GetQueryExecution names a write's data manifest, which lists its files."""
    athena, s3 = client("athena"), client("s3")
    qid = athena.start_query_execution(
        QueryString="CREATE TABLE wr_manifest_t WITH (format = 'PARQUET', "
        "external_location = 's3://wr-results/manifest-t/') AS SELECT 1 AS a",
        ResultConfiguration={"OutputLocation": RESULTS},
    )["QueryExecutionId"]
    # the session fixture points awswrangler at the server (wr.config.*_endpoint_url)
    qe = wr.athena.wait_query(qid, boto3_session=session)
    assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
    manifest = qe["Statistics"]["DataManifestLocation"]
    assert manifest == f"{RESULTS}{qid}-manifest.csv"
    body = s3.get_object(Bucket="wr-results", Key=f"athena/{qid}-manifest.csv")["Body"].read()
    files = body.decode().split()
    assert len(files) == 1 and files[0].startswith("s3://wr-results/manifest-t/")
    bucket, _, key = files[0].removeprefix("s3://").partition("/")
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    # a SELECT writes no manifest
    plain = athena.start_query_execution(QueryString="SELECT 1")["QueryExecutionId"]
    done = wr.athena.wait_query(
        plain,
        boto3_session=boto3.Session(
            aws_access_key_id=served.admin_key,
            aws_secret_access_key=served.admin_secret,
            region_name=REGION,
        ),
    )
    assert "DataManifestLocation" not in done["Statistics"]


def test_to_parquet_dataset_registered_in_glue_then_queried(session: boto3.Session) -> None:
    df = pd.DataFrame(
        {
            "id": pd.array([1, 2, 3], dtype="Int64"),
            "name": ["ann", "bob", "cid"],
            "score": [1.5, 2.0, 3.25],
        }
    )
    written = wr.s3.to_parquet(
        df,
        "s3://wr-lake/scores/",
        dataset=True,
        database="default",
        table="wr_scores",
        boto3_session=session,
    )
    assert len(written["paths"]) == 1
    table = wr.catalog.table(database="default", table="wr_scores", boto3_session=session)
    assert table.set_index("Column Name")["Type"].to_dict() == {
        "id": "bigint",
        "name": "string",
        "score": "double",
    }
    for ctas in (False, True):
        got = _read(session, "SELECT id, name, score FROM wr_scores ORDER BY id", ctas)
        assert got["id"].tolist() == [1, 2, 3]
        assert got["name"].tolist() == ["ann", "bob", "cid"]
        assert got["score"].tolist() == [1.5, 2.0, 3.25]


def test_partitioned_dataset_registered_in_glue_then_queried(session: boto3.Session) -> None:
    df = pd.DataFrame(
        {
            "id": pd.array([1, 2, 3, 4], dtype="Int64"),
            "name": ["ann", "bob", "cid", "dee"],
            "score": [1.5, 2.0, 3.25, 4.0],
            "country": ["no", "no", "se", "dk"],
        }
    )
    written = wr.s3.to_parquet(
        df,
        "s3://wr-lake/people/",
        dataset=True,
        database="default",
        table="wr_people",
        partition_cols=["country"],
        boto3_session=session,
    )
    assert len(written["paths"]) == 3
    assert sorted(written["partitions_values"]) == [
        "s3://wr-lake/people/country=dk/",
        "s3://wr-lake/people/country=no/",
        "s3://wr-lake/people/country=se/",
    ]
    table = wr.catalog.table(database="default", table="wr_people", boto3_session=session)
    assert table.set_index("Column Name")["Type"].to_dict() == {
        "id": "bigint",
        "name": "string",
        "score": "double",
        "country": "string",
    }
    for ctas in (False, True):
        got = _read(session, "SELECT id, name, score, country FROM wr_people ORDER BY id", ctas)
        assert got["id"].tolist() == [1, 2, 3, 4]
        assert got["name"].tolist() == ["ann", "bob", "cid", "dee"]
        assert got["score"].tolist() == [1.5, 2.0, 3.25, 4.0]
        assert got["country"].tolist() == ["no", "no", "se", "dk"]
    only = _read(session, "SELECT name FROM wr_people WHERE country = 'no' ORDER BY id", False)
    assert only["name"].tolist() == ["ann", "bob"]

    # appending adds files and a partition; the next query sees them
    wr.s3.to_parquet(
        pd.DataFrame(
            {"id": pd.array([5], dtype="Int64"), "name": ["eve"], "score": [5.0], "country": ["fi"]}
        ),
        "s3://wr-lake/people/",
        dataset=True,
        mode="append",
        database="default",
        table="wr_people",
        partition_cols=["country"],
        boto3_session=session,
    )
    counted = _read(
        session, "SELECT country, count(*) AS n FROM wr_people GROUP BY 1 ORDER BY 1", False
    )
    assert counted.values.tolist() == [["dk", 1], ["fi", 1], ["no", 2], ["se", 1]]


def test_without_s3_output_the_accounts_default_results_bucket_is_used(
    session: boto3.Session, client: ClientFactory
) -> None:
    """No s3_output: awswrangler reads the workgroup's ResultConfiguration (none), asks STS
    for the account and makes Athena's default results bucket through S3."""
    with pytest.warns(UserWarning, match="No `s3_output`"):
        df = wr.athena.read_sql_query(
            "SELECT 7 AS seven", database="default", ctas_approach=False, boto3_session=session
        )
    assert df["seven"].tolist() == [7]
    account = client("sts").get_caller_identity()["Account"]
    buckets = [b["Name"] for b in client("s3").list_buckets()["Buckets"]]
    assert f"aws-athena-query-results-{account}-{REGION}" in buckets
