"""EventBridge and Lambda over a real ``lakebox serve``, with boto3; and the flow of the
issue: a DynamoDB stream's records reach a function, which writes nested JSON to S3; the
S3 event triggers a function that flattens it into the lake; Athena answers it. The
functions are written as AWS documents them: boto3 and nothing of lakebox."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lakebox.lakehouse import Lakehouse
from server.conftest import ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")

_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
_STATES_ROLE = "arn:aws:iam::000000000000:role/served-states"


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _wait(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def role(client: ClientFactory) -> str:
    """An execution role Lambda may assume, allowed everything."""
    iam = client("iam")
    arn: str = iam.create_role(RoleName="fn-exec", AssumeRolePolicyDocument=_TRUST)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="fn-exec",
        PolicyName="all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    return arn


# -- EventBridge ------------------------------------------------------------------------------


def test_rules_and_targets_round_trip(client: ClientFactory) -> None:
    events = client("events")
    pattern = json.dumps({"source": ["my.app"], "detail": {"n": [{"numeric": [">", 1]}]}})
    arn = events.put_rule(Name="served-rule", EventPattern=pattern, Description="d")["RuleArn"]
    assert arn.endswith(":rule/served-rule")
    described = events.describe_rule(Name="served-rule")
    assert (described["EventPattern"], described["State"], described["Description"]) == (
        pattern,
        "ENABLED",
        "d",
    )
    events.disable_rule(Name="served-rule")
    assert events.describe_rule(Name="served-rule")["State"] == "DISABLED"
    events.enable_rule(Name="served-rule")
    assert [r["Name"] for r in events.list_rules(NamePrefix="served-")["Rules"]] == ["served-rule"]
    machine = "arn:aws:states:us-east-1:000000000000:stateMachine:nothing"
    answer = events.put_targets(
        Rule="served-rule",
        Targets=[
            {"Id": "sm", "Arn": machine, "InputPath": "$.detail"},
            {"Id": "queue", "Arn": "arn:aws:sqs:us-east-1:000000000000:q"},
        ],
    )
    assert answer["FailedEntryCount"] == 1
    assert answer["FailedEntries"][0]["TargetId"] == "queue"
    targets = events.list_targets_by_rule(Rule="served-rule")["Targets"]
    assert [(t["Id"], t["Arn"], t["InputPath"]) for t in targets] == [("sm", machine, "$.detail")]
    with pytest.raises(ClientError) as caught:
        events.delete_rule(Name="served-rule")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    events.remove_targets(Rule="served-rule", Ids=["sm"])
    events.delete_rule(Name="served-rule")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name="served-rule")
    with pytest.raises(events.exceptions.InvalidEventPatternException) as bad:
        events.put_rule(Name="bad", EventPattern='{"source": "not-a-list"}')
    assert "Event pattern is not valid" in bad.value.response["Error"]["Message"]


def test_put_events_starts_the_matching_rules_state_machine(client: ClientFactory) -> None:
    sfn = client("stepfunctions")
    machine = sfn.create_state_machine(
        name="served-on-event",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=_STATES_ROLE,
    )["stateMachineArn"]
    events = client("events")
    events.put_rule(
        Name="served-orders",
        EventPattern=json.dumps(
            {
                "source": ["shop"],
                "detail-type": ["Order"],
                "detail": {"total": [{"numeric": [">=", 100]}]},
            }
        ),
    )
    events.put_targets(Rule="served-orders", Targets=[{"Id": "sm", "Arn": machine}])
    sent = events.put_events(
        Entries=[
            {
                "Source": "shop",
                "DetailType": "Order",
                "Detail": json.dumps({"total": 150, "id": "big"}),
            },
            {
                "Source": "shop",
                "DetailType": "Order",
                "Detail": json.dumps({"total": 5, "id": "small"}),
            },
            {"Source": "shop", "DetailType": "Order", "Detail": "not json"},
        ]
    )
    assert sent["FailedEntryCount"] == 1
    assert sent["Entries"][2]["ErrorCode"] == "MalformedDetail"
    runs = _wait(
        lambda: sfn.list_executions(stateMachineArn=machine)["executions"], "the execution"
    )
    time.sleep(0.5)  # the second event, had it matched, would have started one by now
    runs = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert len(runs) == 1
    given = json.loads(sfn.describe_execution(executionArn=runs[0]["executionArn"])["input"])
    assert given["detail"] == {"total": 150, "id": "big"}
    assert given["source"] == "shop" and given["detail-type"] == "Order"
    assert given["id"] == sent["Entries"][0]["EventId"]


# -- Lambda -----------------------------------------------------------------------------------

_HELLO = """
import os


def lambda_handler(event, context):
    return {
        "hello": event.get("name"),
        "function": context.function_name,
        "region": os.environ["AWS_REGION"],
    }


def broken(event, context):
    print("going down")
    raise ValueError("broken on purpose")
"""


def test_lambda_api(client: ClientFactory, role: str) -> None:
    lam = client("lambda")
    made = lam.create_function(
        FunctionName="served-hello",
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": _zip({"lambda_function.py": _HELLO})},
        Timeout=10,
    )
    assert made["FunctionArn"].endswith(":function:served-hello")
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    answer = lam.invoke(FunctionName="served-hello", Payload=json.dumps({"name": "lake"}))
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {
        "hello": "lake",
        "function": "served-hello",
        "region": "us-east-1",
    }
    lam.create_function(
        FunctionName="served-broken",
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.broken",
        Code={"ZipFile": _zip({"lambda_function.py": _HELLO})},
    )
    failed = lam.invoke(FunctionName="served-broken", Payload=b"{}", LogType="Tail")
    assert failed["StatusCode"] == 200
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "broken on purpose")
    import base64

    assert "going down" in base64.b64decode(failed["LogResult"]).decode()
    queued = lam.invoke(FunctionName="served-hello", InvocationType="Event", Payload=b"{}")
    assert queued["StatusCode"] == 202
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert {"served-hello", "served-broken"} <= set(names)
    assert lam.get_function(FunctionName="served-hello")["Configuration"]["Handler"] == (
        "lambda_function.lambda_handler"
    )
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.create_function(
            FunctionName="served-hello",
            Runtime="python3.12",
            Role=role,
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": _zip({"lambda_function.py": _HELLO})},
        )
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_function(
            FunctionName="served-node",
            Runtime="nodejs20.x",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": _zip({"index.js": ""})},
        )
    lam.update_function_code(
        FunctionName="served-broken",
        ZipFile=_zip({"lambda_function.py": _HELLO.replace("raise ValueError", "return")}),
    )
    fixed = lam.invoke(FunctionName="served-broken", Payload=b"{}")
    assert "FunctionError" not in fixed
    lam.update_function_configuration(
        FunctionName="served-broken", Environment={"Variables": {"STAGE": "prod"}}
    )
    got = lam.get_function(FunctionName="served-broken")["Configuration"]
    assert got["Environment"] == {"Variables": {"STAGE": "prod"}}
    lam.delete_function(FunctionName="served-broken")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="served-broken", Payload=b"{}")


def test_function_code_needs_a_principal_allowed_everything(
    client: ClientFactory, role: str
) -> None:
    """A function's code runs unsandboxed as the lake's OS user, so a lambda:* grant alone
    must not let a user run code there (it could read every file of the lake)."""
    iam = client("iam")
    iam.create_user(UserName="fn-dev")
    iam.put_user_policy(
        UserName="fn-dev",
        PolicyName="lambda-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["lambda:*", "iam:PassRole"], "Resource": "*"}
                ],
            }
        ),
    )
    made = iam.create_access_key(UserName="fn-dev")["AccessKey"]
    lam = client("lambda", made["AccessKeyId"], made["SecretAccessKey"])
    code = _zip({"lambda_function.py": _HELLO})
    with pytest.raises(ClientError) as exc:
        lam.create_function(
            FunctionName="dev-hello",
            Runtime="python3.12",
            Role=role,
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": code},
        )
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "unsandboxed" in str(exc.value)
    client("lambda").create_function(
        FunctionName="admin-hello",
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": code},
    )
    for call in (
        lambda: lam.update_function_code(FunctionName="admin-hello", ZipFile=code),
        lambda: lam.update_function_configuration(
            FunctionName="admin-hello", Handler="lambda_function.broken"
        ),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    answer = lam.invoke(FunctionName="admin-hello", Payload=b'{"name": "dev"}')
    assert json.loads(answer["Payload"].read())["hello"] == "dev"


# -- the flow -------------------------------------------------------------------------

#: the documented DynamoDB Streams event (Records[].dynamodb.NewImage, eventName INSERT /
#: MODIFY), with orders for items
_STREAM_EVENT = {
    "Records": [
        {
            "eventID": "1",
            "eventVersion": "1.0",
            "dynamodb": {
                "Keys": {"OrderId": {"S": "o-1"}},
                "NewImage": {
                    "OrderId": {"S": "o-1"},
                    "Customer": {"M": {"Name": {"S": "Ada"}, "City": {"S": "London"}}},
                    "Total": {"N": "12.5"},
                },
                "StreamViewType": "NEW_AND_OLD_IMAGES",
                "SequenceNumber": "111",
                "SizeBytes": 26,
            },
            "awsRegion": "us-east-1",
            "eventName": "INSERT",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/2015-06-27T00:48:05.899",
            "eventSource": "aws:dynamodb",
        },
        {
            "eventID": "2",
            "eventVersion": "1.0",
            "dynamodb": {
                "Keys": {"OrderId": {"S": "o-2"}},
                "NewImage": {
                    "OrderId": {"S": "o-2"},
                    "Customer": {"M": {"Name": {"S": "Grace"}, "City": {"S": "New York"}}},
                    "Total": {"N": "40"},
                },
                "StreamViewType": "NEW_AND_OLD_IMAGES",
                "SequenceNumber": "222",
                "SizeBytes": 59,
            },
            "awsRegion": "us-east-1",
            "eventName": "MODIFY",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/2015-06-27T00:48:05.899",
            "eventSource": "aws:dynamodb",
        },
    ]
}

#: the stream's function, written with S3's PutObject
_TO_RAW_S3 = """
import json
import os

import boto3
from boto3.dynamodb.types import TypeDeserializer

s3 = boto3.client("s3")
deserializer = TypeDeserializer()


def lambda_handler(event, context):
    for record in event["Records"]:
        if record["eventName"] not in ("INSERT", "MODIFY"):
            continue
        image = {k: deserializer.deserialize(v) for k, v in record["dynamodb"]["NewImage"].items()}
        s3.put_object(
            Bucket=os.environ["RAW_BUCKET"],
            Key=f"orders/{image['OrderId']}.json",
            Body=json.dumps(image, default=str),
        )
    return {"written": len(event["Records"])}
"""

#: the S3 event's function, written with S3's GetObject and Firehose's PutRecordBatch
_FLATTEN_S3 = """
import json
import os
import urllib.parse

import boto3

s3 = boto3.client("s3")
firehose = boto3.client("firehose")


def flatten(doc, prefix=""):
    out = {}
    for key, value in doc.items():
        name = f"{prefix}{key.lower()}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "_"))
        else:
            out[name] = value
    return out


def lambda_handler(event, context):
    rows = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"], encoding="utf-8")
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        rows.append(flatten(json.loads(body)))
    firehose.put_record_batch(
        DeliveryStreamName=os.environ["STREAM"],
        Records=[{"Data": (json.dumps(row) + "\\n").encode()} for row in rows],
    )
    return {"rows": len(rows)}
"""

#: the same two functions where S3's REST API is not served: they reach S3 through Step
#: Functions' AWS SDK integrations (arn:aws:states:::aws-sdk:s3:putObject / getObject)
_TO_RAW_SFN = """
import json
import os
import time

import boto3
from boto3.dynamodb.types import TypeDeserializer

sfn = boto3.client("stepfunctions")
deserializer = TypeDeserializer()


def run(machine, payload):
    started = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))
    while True:
        done = sfn.describe_execution(executionArn=started["executionArn"])
        if done["status"] != "RUNNING":
            if done["status"] != "SUCCEEDED":
                raise RuntimeError(f"{machine} ended {done['status']}")
            return json.loads(done["output"])
        time.sleep(0.1)


def lambda_handler(event, context):
    for record in event["Records"]:
        if record["eventName"] not in ("INSERT", "MODIFY"):
            continue
        image = {k: deserializer.deserialize(v) for k, v in record["dynamodb"]["NewImage"].items()}
        run(
            os.environ["WRITER"],
            {
                "bucket": os.environ["RAW_BUCKET"],
                "key": f"orders/{image['OrderId']}.json",
                "body": json.dumps(image, default=str),
            },
        )
    return {"written": len(event["Records"])}
"""

_FLATTEN_SFN = """
import json
import os
import time
import urllib.parse

import boto3

sfn = boto3.client("stepfunctions")
firehose = boto3.client("firehose")


def run(machine, payload):
    started = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))
    while True:
        done = sfn.describe_execution(executionArn=started["executionArn"])
        if done["status"] != "RUNNING":
            if done["status"] != "SUCCEEDED":
                raise RuntimeError(f"{machine} ended {done['status']}")
            return json.loads(done["output"])
        time.sleep(0.1)


def flatten(doc, prefix=""):
    out = {}
    for key, value in doc.items():
        name = f"{prefix}{key.lower()}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "_"))
        else:
            out[name] = value
    return out


def lambda_handler(event, context):
    rows = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"], encoding="utf-8")
        body = run(os.environ["READER"], {"bucket": bucket, "key": key})["Body"]
        rows.append(flatten(json.loads(body)))
    firehose.put_record_batch(
        DeliveryStreamName=os.environ["STREAM"],
        Records=[{"Data": (json.dumps(row) + "\\n").encode()} for row in rows],
    )
    return {"rows": len(rows)}
"""


def _machine(sfn: Any, name: str, resource: str, parameters: dict[str, str]) -> str:
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
        },
    }
    arn: str = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=_STATES_ROLE
    )["stateMachineArn"]
    return arn


def _flow(
    client: ClientFactory,
    lake: Lakehouse,
    served: Served,
    role: str,
    tag: str,
    to_raw: str,
    flatten: str,
    env: dict[str, str],
) -> None:
    raw, landing, stream, table = f"raw-{tag}", f"lake-{tag}", f"orders-{tag}", f"orders_{tag}"
    lam = client("lambda")
    firehose = client("firehose")
    firehose.create_delivery_stream(
        DeliveryStreamName=stream,
        ExtendedS3DestinationConfiguration={
            "RoleARN": _STATES_ROLE,
            "BucketARN": f"arn:aws:s3:::{landing}",
            "Prefix": "flat/",
            "BufferingHints": {"IntervalInSeconds": 1, "SizeInMBs": 1},
        },
    )
    common = {"Runtime": "python3.12", "Role": role, "Timeout": 60}
    lam.create_function(
        FunctionName=f"stream-to-raw-{tag}",
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": _zip({"lambda_function.py": to_raw})},
        Environment={"Variables": {"RAW_BUCKET": raw, **env}},
        **common,
    )
    flattener = lam.create_function(
        FunctionName=f"flatten-{tag}",
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": _zip({"lambda_function.py": flatten})},
        Environment={"Variables": {"STREAM": stream, **env}},
        **common,
    )["FunctionArn"]
    config = {
        "LambdaFunctionConfigurations": [
            {
                "Id": "flatten-new-orders",
                "LambdaFunctionArn": flattener,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".json"}]}},
            }
        ]
    }
    if tag == "s3":
        # as a user would: the bucket and its notification configuration through S3's API
        s3 = client("s3")
        s3.create_bucket(Bucket=raw)
        s3.put_bucket_notification_configuration(Bucket=raw, NotificationConfiguration=config)
        stored = s3.get_bucket_notification_configuration(Bucket=raw)
        assert stored["LambdaFunctionConfigurations"][0]["Id"] == "flatten-new-orders"
    else:
        # the method S3's PutBucketNotificationConfiguration calls
        lake.events.put_bucket_notification_configuration(raw, config)
    answer = lam.invoke(FunctionName=f"stream-to-raw-{tag}", Payload=json.dumps(_STREAM_EVENT))
    assert "FunctionError" not in answer, answer["Payload"].read()
    assert json.loads(answer["Payload"].read()) == {"written": 2}
    athena = client("athena")

    def query(sql: str) -> dict[str, Any]:
        qid = athena.start_query_execution(QueryString=sql)["QueryExecutionId"]
        return _wait(
            lambda: (
                qe
                if (qe := athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"])[
                    "Status"
                ]["State"]
                in ("SUCCEEDED", "FAILED", "CANCELLED")
                else None
            ),
            sql,
        )

    made = query(
        f"CREATE EXTERNAL TABLE {table} (orderid string, customer_name string, "
        "customer_city string, total double) "
        "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
        f"LOCATION 's3://{landing}/flat/'"
    )
    assert made["Status"]["State"] == "SUCCEEDED", made["Status"]

    def answered() -> list[list[str | None]] | None:
        failed = [f for f in lake.events.failures() if tag in f.target]
        assert not failed, failed
        qe = query(
            f"SELECT orderid, customer_name, customer_city, total FROM {table} ORDER BY orderid"
        )
        assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
        result = athena.get_query_results(QueryExecutionId=qe["QueryExecutionId"])
        rows = [[d.get("VarCharValue") for d in r["Data"]] for r in result["ResultSet"]["Rows"]][1:]
        return rows if len(rows) == 2 else None

    try:
        rows = _wait(answered, "the flattened rows in the lake", timeout=90)
    except AssertionError:
        raise AssertionError(
            f"failed deliveries: {lake.events.failures()}; "
            f"server log: {served.stderr.read_text()[-3000:]}"
        ) from None
    assert rows == [["o-1", "Ada", "London", "12.5"], ["o-2", "Grace", "New York", "40.0"]]
    assert not [f for f in lake.events.failures() if tag in f.target]


@pytest.mark.slow
def test_stream_to_s3_to_flattened_lake_table_through_step_functions(
    client: ClientFactory, lake: Lakehouse, role: str, served: Served
) -> None:
    """The issue's flow with S3 reached through Step Functions' SDK integrations (the S3
    REST API is not served by this build): the object written by a task sends S3's event
    as PutObject does."""
    sfn = client("stepfunctions")
    writer = _machine(
        sfn,
        "raw-writer",
        "arn:aws:states:::aws-sdk:s3:putObject",
        {"Bucket.$": "$.bucket", "Key.$": "$.key", "Body.$": "$.body"},
    )
    reader = _machine(
        sfn,
        "raw-reader",
        "arn:aws:states:::aws-sdk:s3:getObject",
        {"Bucket.$": "$.bucket", "Key.$": "$.key"},
    )
    _flow(
        client,
        lake,
        served,
        role,
        "sfn",
        _TO_RAW_SFN,
        _FLATTEN_SFN,
        {"WRITER": writer, "READER": reader},
    )


@pytest.mark.slow
def test_stream_to_s3_to_flattened_lake_table_with_s3_put_object(
    client: ClientFactory, lake: Lakehouse, role: str, served: Served
) -> None:
    """The issue's flow with the functions calling S3's PutObject and GetObject."""
    _flow(client, lake, served, role, "s3", _TO_RAW_S3, _FLATTEN_S3, {})


def test_another_accounts_user_reaches_no_function_or_rule(
    lake: Lakehouse, client: ClientFactory, role: str
) -> None:
    """Functions and rules are the lake account's: a user of another account, allowed
    everything in its own, is refused every one of them over HTTP (IAM's cross-account
    rule), and nothing changes."""
    client("lambda").create_function(
        FunctionName="lake-only",
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": _zip({"lambda_function.py": _HELLO})},
    )
    pattern = json.dumps({"source": ["my.app"]})
    client("events").put_rule(Name="lake-only-rule", EventPattern=pattern)
    lake.iam.create_account("222222222222", name="elsewhere")
    lake.iam.create_user("eve-fn", account_id="222222222222", admin=True)
    made = lake.iam.create_access_key("eve-fn", account_id="222222222222")
    keys = (made.key.access_key_id, made.secret_access_key)
    lam, events = client("lambda", *keys), client("events", *keys)
    function_arn = "arn:aws:lambda:us-east-1:000000000000:function:lake-only"
    entry = {"Source": "my.app", "DetailType": "x", "Detail": "{}"}
    calls = [
        lambda: lam.get_function(FunctionName="lake-only"),
        lambda: lam.get_function(FunctionName=function_arn),
        lambda: lam.update_function_code(
            FunctionName="lake-only", ZipFile=_zip({"lambda_function.py": ""})
        ),
        lambda: lam.invoke(FunctionName=function_arn, Payload=b"{}"),
        lambda: lam.list_functions(),
        lambda: lam.delete_function(FunctionName="lake-only"),
        lambda: events.put_rule(Name="lake-only-rule", EventPattern='{"source": ["x"]}'),
        lambda: events.describe_rule(Name="lake-only-rule"),
        lambda: events.list_rules(),
        lambda: events.disable_rule(Name="lake-only-rule"),
        lambda: events.put_events(Entries=[entry]),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "000000000000" in exc.value.response["Error"]["Message"]
    described = client("events").describe_rule(Name="lake-only-rule")
    assert (described["State"], described["CreatedBy"]) == ("ENABLED", "000000000000")
    assert client("lambda").get_function(FunctionName="lake-only")["Configuration"]
    # aws.* sources are AWS services' own: nobody may send one with PutEvents
    sent = client("events").put_events(Entries=[{**entry, "Source": "aws.s3"}])
    assert sent["Entries"][0]["ErrorCode"] == "NotAuthorizedForSourceException"
