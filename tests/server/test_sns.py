"""SNS over a real ``lakebox serve`` with boto3 and the AWS CLI: topics, subscriptions, and
Publish reaching a ``file`` subscriber in the lake and an HTTP subscriber (a real HTTP
server on loopback, in this process); other accounts and bad input refused as SNS does."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lakebox.lakehouse import Lakehouse
from server.conftest import REGION, ClientFactory, Served, aws_cli

pytestmark = pytest.mark.xdist_group("server")

ACCOUNT = "000000000000"
OTHER = "210987654321"


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = exc.value.response
    return (
        str(response["Error"]["Code"]),
        int(response["ResponseMetadata"]["HTTPStatusCode"]),
        str(response["Error"]["Message"]),
    )


def _wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail("the delivery did not arrive in time")
        time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server on loopback collecting what SNS posts to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                {
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": json.loads(body),
                }
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sns", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _file(served: Served, endpoint: str, account: str = ACCOUNT) -> Path:
    return served.home / "_lakebox" / "sns" / "files" / account / endpoint


def test_topic_lifecycle(client: ClientFactory) -> None:
    sns = client("sns")
    arn = sns.create_topic(Name="lifecycle", Attributes={"DisplayName": "Life"})["TopicArn"]
    assert arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:lifecycle"
    assert sns.create_topic(Name="lifecycle")["TopicArn"] == arn  # idempotent by name
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "Life" and attrs["Owner"] == ACCOUNT
    assert json.loads(attrs["Policy"])["Statement"][0]["Resource"] == arn
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="New")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "New"
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    sub = sns.subscribe(TopicArn=arn, Protocol="file", Endpoint="life.jsonl")
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [(s["SubscriptionArn"], s["Protocol"], s["Endpoint"]) for s in listed] == [
        (sub["SubscriptionArn"], "file", "life.jsonl")
    ]
    assert sub["SubscriptionArn"] in [
        s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]
    ]
    sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    sns.delete_topic(TopicArn=arn)
    with pytest.raises(ClientError) as exc:
        sns.get_topic_attributes(TopicArn=arn)
    assert _error(exc)[:2] == ("NotFound", 404)


def test_publish_reaches_a_file_and_an_http_subscriber(
    client: ClientFactory, served: Served, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = receiver
    sns = client("sns")
    arn = sns.create_topic(Name="deliveries")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="file", Endpoint="alerts/all.jsonl")
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=url)
    started = time.monotonic()
    message_id = sns.publish(
        TopicArn=arn,
        Subject="Order shipped",
        Message=json.dumps({"default": "shipped", "http": '{"order": 7}'}),
        MessageStructure="json",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}},
    )["MessageId"]
    assert time.monotonic() - started < 5
    [posted] = _wait_for(lambda: received)
    assert posted["headers"]["x-amz-sns-message-type"] == "Notification"
    body = posted["body"]
    assert (body["MessageId"], body["TopicArn"], body["Message"]) == (
        message_id,
        arn,
        '{"order": 7}',
    )
    assert body["Subject"] == "Order shipped"
    assert body["MessageAttributes"] == {"kind": {"Type": "String", "Value": "order"}}
    path = _file(served, "alerts/all.jsonl")
    line = _wait_for(lambda: path.exists() and path.read_text().strip())
    note = json.loads(line.splitlines()[0])
    assert (note["MessageId"], note["Message"]) == (message_id, "shipped")

    batch = sns.publish_batch(
        TopicArn=arn,
        PublishBatchRequestEntries=[
            {"Id": "a", "Message": "first"},
            {"Id": "b", "Message": "second", "Subject": "bad\nsubject"},
        ],
    )
    assert [e["Id"] for e in batch["Successful"]] == ["a"]
    assert [(e["Id"], e["Code"]) for e in batch["Failed"]] == [("b", "InvalidParameter")]
    _wait_for(lambda: len(received) == 2)
    assert received[1]["body"]["Message"] == "first"


@pytest.mark.parametrize(
    ("call", "kwargs", "code", "status", "text"),
    [
        ("create_topic", {"Name": "bad name"}, "InvalidParameter", 400, "Topic Name"),
        (
            "subscribe",
            {"Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:000000000000:q"},
            "InvalidParameter",
            400,
            "not served",
        ),
        (
            "subscribe",
            {"Protocol": "lambda", "Endpoint": "arn:aws:lambda:us-east-1:0:function:f"},
            "InvalidParameter",
            400,
            "lambda",
        ),
        (
            "subscribe",
            {"Protocol": "file", "Endpoint": "../../../escape"},
            "InvalidParameter",
            400,
            "relative path",
        ),
        ("publish", {"Message": ""}, "InvalidParameter", 400, "Empty message"),
        (
            "publish",
            {"Message": "{}", "MessageStructure": "json"},
            "InvalidParameter",
            400,
            "No default entry",
        ),
        (
            "publish",
            {"Message": "x", "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic"},
            "NotFound",
            404,
            "Topic does not exist",
        ),
        (
            "publish",
            {"Message": "x", "TopicArn": "not-an-arn"},
            "InvalidParameter",
            400,
            "TopicArn",
        ),
        ("list_topics", {"NextToken": "forged"}, "InvalidParameter", 400, "NextToken"),
    ],
)
def test_bad_input_is_aws_shaped(
    client: ClientFactory,
    call: str,
    kwargs: dict[str, Any],
    code: str,
    status: int,
    text: str,
) -> None:
    sns = client("sns")
    arn = sns.create_topic(Name="bad-input")["TopicArn"]
    if call in ("subscribe", "publish"):
        kwargs = {"TopicArn": arn, **kwargs}
    with pytest.raises(ClientError) as exc:
        getattr(sns, call)(**kwargs)
    got_code, got_status, message = _error(exc)
    assert (got_code, got_status) == (code, status)
    assert text in message
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []


def test_other_accounts_and_unauthorized_users_are_refused(
    client: ClientFactory, lake: Lakehouse
) -> None:
    arn = client("sns").create_topic(Name="owned")["TopicArn"]
    lake.iam.create_account(OTHER)
    lake.iam.create_user("sns-other", account_id=OTHER, admin=True)
    key = lake.iam.create_access_key("sns-other", account_id=OTHER)
    theirs = client("sns", key.key.access_key_id, key.secret_access_key)
    with pytest.raises(ClientError) as exc:
        theirs.publish(TopicArn=arn, Message="x")
    assert _error(exc)[:2] == ("AuthorizationError", 403)
    assert theirs.list_topics()["Topics"] == []
    assert f":{OTHER}:owned" in theirs.create_topic(Name="owned")["TopicArn"]

    lake.iam.create_user("sns-nobody", account_id=ACCOUNT)
    key = lake.iam.create_access_key("sns-nobody", account_id=ACCOUNT)
    nobody = client("sns", key.key.access_key_id, key.secret_access_key)
    with pytest.raises(ClientError) as exc:
        nobody.publish(TopicArn=arn, Message="x")
    code, status, message = _error(exc)
    assert (code, status) == ("AuthorizationError", 403) and "sns:Publish" in message


def test_aws_cli_publish(client: ClientFactory, served: Served) -> None:
    sns = client("sns")
    arn = sns.create_topic(Name="cli-topic")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="file", Endpoint="cli.jsonl")
    proc = aws_cli(served, "sns", "publish", "--topic-arn", arn, "--message", "from the CLI")
    assert proc.returncode == 0, proc.stderr
    message_id = json.loads(proc.stdout)["MessageId"]
    path = _file(served, "cli.jsonl")
    line = _wait_for(lambda: path.exists() and path.read_text().strip())
    note = json.loads(line)
    assert (note["MessageId"], note["Message"]) == (message_id, "from the CLI")


def test_publish_batch_is_authorized_as_publish(client: ClientFactory) -> None:
    """PublishBatch has no IAM action of its own: AWS checks sns:Publish, so a Deny of
    sns:Publish stops it and an Allow of sns:Publish alone lets it through."""
    arn = client("sns").create_topic(Name="batch-authz")["TopicArn"]
    iam = client("iam")
    entries = [{"Id": "one", "Message": "1"}]
    for name, statements in (
        (
            "sns-batch-denied",
            [
                {"Effect": "Allow", "Action": "sns:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "sns:Publish", "Resource": arn},
            ],
        ),
        ("sns-batch-allowed", [{"Effect": "Allow", "Action": "sns:Publish", "Resource": arn}]),
    ):
        iam.create_user(UserName=name)
        iam.put_user_policy(
            UserName=name,
            PolicyName="p",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
        key = iam.create_access_key(UserName=name)["AccessKey"]
        sns = client("sns", key["AccessKeyId"], key["SecretAccessKey"])
        if name == "sns-batch-denied":
            with pytest.raises(ClientError) as exc:
                sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries)
            code, status, message = _error(exc)
            assert (code, status) == ("AuthorizationError", 403) and "sns:Publish" in message
        else:
            answer = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries)
            assert [s["Id"] for s in answer["Successful"]] == ["one"]
