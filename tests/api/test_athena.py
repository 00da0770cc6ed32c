"""Athena's operation table: botocore-shaped round trips and Athena's error codes."""

from __future__ import annotations

import pytest

from api.helpers import call
from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext


def _finished(ctx: ServiceContext, query: str) -> str:
    qid: str = call(ctx, "athena", "StartQueryExecution", {"QueryString": query})[
        "QueryExecutionId"
    ]
    assert ctx.queries.wait(qid, timeout=60).done
    return qid


def test_query_round_trip_in_athena_shapes(ctx: ServiceContext) -> None:
    qid = _finished(ctx, "SELECT 1 AS one, 'a' AS letter")
    got = call(ctx, "athena", "GetQueryExecution", {"QueryExecutionId": qid})
    assert got["QueryExecution"]["QueryExecutionId"] == qid
    assert got["QueryExecution"]["Status"]["State"] == "SUCCEEDED"
    results = call(ctx, "athena", "GetQueryResults", {"QueryExecutionId": qid, "MaxResults": 10})
    rows = results["ResultSet"]["Rows"]
    assert [d["VarCharValue"] for d in rows[0]["Data"]] == ["one", "letter"]
    assert [d["VarCharValue"] for d in rows[1]["Data"]] == ["1", "a"]
    listed = call(ctx, "athena", "ListQueryExecutions", {"MaxResults": 5})
    assert qid in listed["QueryExecutionIds"]
    batch = call(
        ctx, "athena", "BatchGetQueryExecution", {"QueryExecutionIds": [qid, "missing-id"]}
    )
    assert [qe["QueryExecutionId"] for qe in batch["QueryExecutions"]] == [qid]
    assert [u["QueryExecutionId"] for u in batch["UnprocessedQueryExecutionIds"]] == ["missing-id"]
    assert call(ctx, "athena", "StopQueryExecution", {"QueryExecutionId": qid}) == {}


def test_context_and_result_configuration_reach_the_query_service(ctx: ServiceContext) -> None:
    qid = call(
        ctx,
        "athena",
        "StartQueryExecution",
        {
            "QueryString": "SELECT 2",
            "QueryExecutionContext": {"Database": "default"},
            "ResultConfiguration": {"OutputLocation": "s3://results/api/"},
            "WorkGroup": "primary",
        },
    )["QueryExecutionId"]
    qe = ctx.queries.wait(qid, timeout=60)
    assert qe.done
    got = call(ctx, "athena", "GetQueryExecution", {"QueryExecutionId": qid})["QueryExecution"]
    assert got["QueryExecutionContext"]["Database"] == "default"
    assert got["ResultConfiguration"]["OutputLocation"].startswith("s3://results/api/")


@pytest.mark.parametrize(
    ("operation", "request_", "field"),
    [
        ("StartQueryExecution", {}, "queryString"),
        ("GetQueryExecution", {"QueryExecutionId": ""}, "queryExecutionId"),
        ("GetQueryResults", {}, "queryExecutionId"),
        ("StopQueryExecution", {"QueryExecutionId": 7}, "queryExecutionId"),
    ],
)
def test_missing_members_are_invalid_requests_naming_the_member(
    ctx: ServiceContext, operation: str, request_: dict[str, object], field: str
) -> None:
    with pytest.raises(AwsError) as info:
        dispatch("athena", operation, request_, ctx)
    assert info.value.code == "InvalidRequestException"
    assert f"'{field}'" in str(info.value)


@pytest.mark.parametrize(
    ("operation", "request_", "says"),
    [
        ("GetQueryExecution", {"QueryExecutionId": "no-such-query"}, "no-such-query"),
        ("GetQueryResults", {"QueryExecutionId": "q", "MaxResults": 0}, "MaxResults"),
        ("BatchGetQueryExecution", {"QueryExecutionIds": "q"}, "QueryExecutionIds"),
        (
            "StartQueryExecution",
            {"QueryString": "SELECT 1", "ExecutionParameters": ["1"]},
            "ExecutionParameters",
        ),
        ("StartQueryExecution", {"QueryString": "SELECT 1", "WorkGroup": "nope"}, "nope"),
    ],
)
def test_caller_mistakes_are_invalid_request_exception(
    ctx: ServiceContext, operation: str, request_: dict[str, object], says: str
) -> None:
    with pytest.raises(AwsError) as info:
        dispatch("athena", operation, request_, ctx)
    assert info.value.code == "InvalidRequestException"
    assert says in str(info.value)
