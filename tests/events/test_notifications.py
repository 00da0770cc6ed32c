"""Bucket notification configurations, as S3 checks them, and the events the S3
operations send for them (through the API layer, as a door calls it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext
from lakebox.events import s3 as s3events
from lakebox.events.s3 import InvalidNotificationError
from lakebox.lakehouse import Lakehouse


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def _function(lake: Lakehouse, recorder: Path, out: Path, name: str = "rec") -> str:
    made = lake.events.create_function(
        name, "lambda_function.lambda_handler", code=recorder, environment={"OUT": str(out)}
    )
    return made.arn


def test_object_events_reach_the_configured_function_in_s3s_shape(
    lake: Lakehouse, ctx: ServiceContext, recorder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    arn = _function(lake, recorder, out)
    config = {
        "LambdaFunctionConfigurations": [
            {
                "Id": "json-files",
                "LambdaFunctionArn": arn,
                "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                "Filter": {
                    "Key": {
                        "FilterRules": [
                            {"Name": "prefix", "Value": "in/"},
                            {"Name": "suffix", "Value": ".json"},
                        ]
                    }
                },
            }
        ]
    }
    lake.events.put_bucket_notification_configuration("raw", config)
    assert lake.events.get_bucket_notification_configuration("raw") == config
    put = dispatch(
        "s3",
        "PutObject",
        {"Bucket": "raw", "Key": "in/year=2024/red flower.json", "Body": "{}"},
        ctx,
    )
    dispatch("s3", "PutObject", {"Bucket": "raw", "Key": "in/skip.csv", "Body": "x"}, ctx)
    dispatch("s3", "PutObject", {"Bucket": "raw", "Key": "other/a.json", "Body": "x"}, ctx)
    dispatch(
        "s3",
        "CopyObject",
        {"Bucket": "raw", "Key": "in/copy.json", "CopySource": "raw/in/skip.csv"},
        ctx,
    )
    dispatch("s3", "DeleteObject", {"Bucket": "raw", "Key": "in/copy.json"}, ctx)
    assert lake.events.drain(60)
    got = _read(out)
    assert [g["event"]["Records"][0]["eventName"] for g in got] == [
        "ObjectCreated:Put",
        "ObjectCreated:Copy",
        "ObjectRemoved:Delete",
    ]
    record = got[0]["event"]["Records"][0]
    assert set(record) == {
        "eventVersion",
        "eventSource",
        "awsRegion",
        "eventTime",
        "eventName",
        "userIdentity",
        "requestParameters",
        "responseElements",
        "s3",
    }
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == lake.config.region
    assert record["eventTime"].endswith("Z") and len(record["eventTime"]) == 24
    assert record["s3"]["s3SchemaVersion"] == "1.0"
    assert record["s3"]["configurationId"] == "json-files"
    assert record["s3"]["bucket"]["name"] == "raw"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::raw"
    # the key URL-encoded as S3 writes it (space as +, = as %3D, / kept)
    assert record["s3"]["object"]["key"] == "in/year%3D2024/red+flower.json"
    assert record["s3"]["object"]["size"] == 2
    assert record["s3"]["object"]["eTag"] == put["ETag"].strip('"')
    sequencers = [g["event"]["Records"][0]["s3"]["object"]["sequencer"] for g in got]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 3
    deleted = got[2]["event"]["Records"][0]["s3"]["object"]
    assert "size" not in deleted and "eTag" not in deleted
    assert got[0]["name"] == "rec"


def test_no_configuration_no_event_and_an_empty_one_turns_them_off(
    lake: Lakehouse, ctx: ServiceContext, recorder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    arn = _function(lake, recorder, out)
    lake.events.put_bucket_notification_configuration(
        "raw",
        {
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:Put"]}
            ]
        },
    )
    stored = lake.events.get_bucket_notification_configuration("raw")
    assert stored["LambdaFunctionConfigurations"][0]["Id"]  # S3 names an entry without an Id
    dispatch("s3", "PutObject", {"Bucket": "other", "Key": "a", "Body": "x"}, ctx)
    # Put only: a copy is not a Put
    dispatch("s3", "CopyObject", {"Bucket": "raw", "Key": "b", "CopySource": "other/a"}, ctx)
    lake.events.put_bucket_notification_configuration("raw", {})
    assert lake.events.get_bucket_notification_configuration("raw") == {}
    dispatch("s3", "PutObject", {"Bucket": "raw", "Key": "c", "Body": "x"}, ctx)
    assert lake.events.drain(30)
    assert _read(out) == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"Events": ["s3:ObjectCreated:Get"]}, "The event is not supported for notifications"),
        ({"Events": []}, "At least one event must be specified"),
        (
            {
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}},
            },
            "filter rule name must be either prefix or suffix",
        ),
        (
            {
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {
                    "Key": {
                        "FilterRules": [
                            {"Name": "prefix", "Value": "a"},
                            {"Name": "prefix", "Value": "b"},
                        ]
                    }
                },
            },
            "Cannot specify more than one prefix rule in a filter.",
        ),
    ],
)
def test_invalid_entries_are_refused_as_s3_refuses_them(
    lake: Lakehouse, recorder: Path, tmp_path: Path, entry: dict[str, Any], message: str
) -> None:
    arn = _function(lake, recorder, tmp_path / "o")
    with pytest.raises(InvalidNotificationError, match=message) as caught:
        lake.events.put_bucket_notification_configuration(
            "raw", {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, **entry}]}
        )
    assert caught.value.code == "InvalidArgument"
    assert lake.events.get_bucket_notification_configuration("raw") == {}


def test_unknown_and_unsupported_destinations_are_refused(
    lake: Lakehouse, recorder: Path, tmp_path: Path
) -> None:
    missing = "arn:aws:lambda:us-east-1:000000000000:function:nope"
    queue = "arn:aws:sqs:us-east-1:000000000000:q"
    for config in (
        {
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": missing, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
        {"QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}]},
    ):
        with pytest.raises(
            InvalidNotificationError,
            match="Unable to validate the following destination configurations",
        ):
            lake.events.put_bucket_notification_configuration("raw", config)
    with pytest.raises(InvalidNotificationError, match=r"not a valid|bucket|Bucket"):
        lake.events.put_bucket_notification_configuration("../etc", {})


def test_overlapping_configurations_are_refused(
    lake: Lakehouse, recorder: Path, tmp_path: Path
) -> None:
    arn = _function(lake, recorder, tmp_path / "o")
    entry = {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
    with pytest.raises(InvalidNotificationError, match="Configurations overlap"):
        lake.events.put_bucket_notification_configuration(
            "raw",
            {
                "LambdaFunctionConfigurations": [
                    entry,
                    {**entry, "Events": ["s3:ObjectCreated:Put"]},
                ]
            },
        )
    # disjoint prefixes do not overlap
    lake.events.put_bucket_notification_configuration(
        "raw",
        {
            "LambdaFunctionConfigurations": [
                {**entry, "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a/"}]}}},
                {**entry, "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "b/"}]}}},
            ]
        },
    )


def test_eventbridge_configuration_sends_s3s_events_to_the_default_bus(
    lake: Lakehouse, ctx: ServiceContext, recorder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    arn = _function(lake, recorder, out)
    lake.events.put_rule(
        "new-objects",
        json.dumps(
            {
                "source": ["aws.s3"],
                "detail-type": ["Object Created", "Object Deleted"],
                "detail": {"bucket": {"name": ["raw"]}, "object": {"key": [{"prefix": "in/"}]}},
            }
        ),
    )
    assert lake.events.put_targets("new-objects", [{"Id": "f", "Arn": arn}]) == []
    lake.events.put_bucket_notification_configuration("raw", {"EventBridgeConfiguration": {}})
    dispatch("s3", "PutObject", {"Bucket": "raw", "Key": "in/a b.json", "Body": "{}"}, ctx)
    dispatch("s3", "PutObject", {"Bucket": "raw", "Key": "out/x", "Body": "{}"}, ctx)
    dispatch("s3", "DeleteObject", {"Bucket": "raw", "Key": "in/a b.json"}, ctx)
    assert lake.events.drain(60)
    events = [g["event"] for g in _read(out)]
    assert [e["detail-type"] for e in events] == ["Object Created", "Object Deleted"]
    created, deleted = events
    assert created["source"] == "aws.s3"
    assert created["version"] == "0"
    assert created["resources"] == ["arn:aws:s3:::raw"]
    assert created["account"] == lake.config.account_id
    detail = created["detail"]
    assert detail["bucket"] == {"name": "raw"}
    assert detail["object"]["key"] == "in/a b.json"  # EventBridge's key is not URL-encoded
    assert detail["object"]["size"] == 2
    assert detail["reason"] == "PutObject"
    assert deleted["detail"]["reason"] == "DeleteObject"
    assert deleted["detail"]["deletion-type"] == "Permanently Deleted"


def test_records_built_from_a_change() -> None:
    import datetime as dt

    change = s3events.ObjectChange(
        "ObjectCreated:Put",
        "b",
        "ä/x y+z.txt",
        5,
        '"abc"',
        "AWS:alice",
        "123456789012",
        "eu-west-1",
        dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC),
        "REQ",
        "0A",
    )
    record = s3events.s3_record(change, "cfg")
    assert record["eventTime"] == "2024-01-02T03:04:05.678Z"
    assert record["s3"]["object"] == {
        "key": "%C3%A4/x+y%2Bz.txt",
        "size": 5,
        "eTag": "abc",
        "sequencer": "0A",
    }
    assert record["userIdentity"] == {"principalId": "AWS:alice"}


def test_the_s3_api_without_an_event_bus_still_works(lake: Lakehouse) -> None:
    bare = ServiceContext(services={"storage": lake.storage})
    dispatch("s3", "PutObject", {"Bucket": "raw", "Key": "a", "Body": "x"}, bare)
    with pytest.raises(AwsError):
        dispatch("s3", "GetObject", {"Bucket": "raw", "Key": "missing"}, bare)


def test_put_events_refuses_bad_entries_one_by_one(lake: Lakehouse) -> None:
    deep = '{"a":' * 5000 + "1" + "}" * 5000  # past the JSON reader's limit, or not
    nested = '{"a":' * 101 + "1" + "}" * 101
    answers = lake.events.put_events(
        [
            {"Source": "s", "DetailType": "t", "Detail": deep},
            {"Source": "s", "DetailType": "t", "Detail": nested},
            {"Source": "s", "DetailType": "t", "Detail": "[1]"},
            {"Source": "s", "DetailType": "t"},
            {"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": "other"},
            {"Source": "aws.s3", "DetailType": "Object Created", "Detail": "{}"},
            {"Source": "s", "DetailType": "t", "Detail": "{}"},
        ]
    )
    assert [a.get("ErrorCode") for a in answers] == ["MalformedDetail"] * 4 + [
        "ResourceNotFoundException",
        "NotAuthorizedForSourceException",
        None,
    ]
    assert "other does not exist" in answers[4]["ErrorMessage"]
    assert answers[6]["EventId"]
