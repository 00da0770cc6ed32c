"""SNS topics and Publish: subscriptions deliver through the notification sinks (a file in
the lake, a real HTTP server on loopback), failures are recorded, bad input is refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from lakebox.sns.errors import AuthorizationError, InvalidParameter, NotFound
from lakebox.sns.service import FAILURES, FILES, TopicService, check_message

A = "111111111111"
B = "222222222222"


@pytest.fixture
def sns(tmp_path: Path) -> Iterator[TopicService]:
    made = TopicService(tmp_path, region="us-east-1")
    yield made
    made.close()


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], dict[str, Any]]]
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(
            ({k.lower(): v for k, v in self.headers.items()}, json.loads(body))
        )
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_topics_are_idempotent_by_name_and_per_account(sns: TopicService) -> None:
    made = sns.create_topic(A, "orders", {"DisplayName": "Orders"})
    assert made.arn == f"arn:aws:sns:us-east-1:{A}:orders"
    assert sns.create_topic(A, "orders").arn == made.arn
    with pytest.raises(InvalidParameter, match="different attributes"):
        sns.create_topic(A, "orders", {"DisplayName": "Other"})
    assert sns.list_topics(A) == ([made.arn], None)
    assert sns.list_topics(B) == ([], None)
    with pytest.raises(AuthorizationError):
        sns.get_topic_attributes(B, made.arn)
    sns.set_topic_attribute(A, made.arn, "DisplayName", "New")
    assert sns.get_topic_attributes(A, made.arn)["DisplayName"] == "New"
    with pytest.raises(InvalidParameter, match="AttributeName"):
        sns.set_topic_attribute(A, made.arn, "Nonsense", "x")
    sns.delete_topic(A, made.arn)
    sns.delete_topic(A, made.arn)  # gone already: still fine, as SNS
    with pytest.raises(NotFound):
        sns.get_topic_attributes(A, made.arn)


def test_publish_reaches_a_file_and_an_http_subscriber(
    sns: TopicService, tmp_path: Path, receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    topic = sns.create_topic(A, "events").arn
    sns.subscribe(A, topic, "file", "events/all.jsonl")
    sns.subscribe(A, topic, "http", url)
    message = check_message(
        json.dumps({"default": "plain", "http": "for http"}),
        "Hello",
        "json",
        {"kind": {"DataType": "String", "StringValue": "order"}},
    )
    message_id = sns.publish(A, topic, message)
    sns.drain()
    lines = (tmp_path / FILES / A / "events/all.jsonl").read_text().splitlines()
    note = json.loads(lines[0])
    assert note["MessageId"] == message_id and note["Message"] == "plain"
    assert note["Subject"] == "Hello" and note["TopicArn"] == topic
    assert note["MessageAttributes"] == {"kind": {"Type": "String", "Value": "order"}}
    [(headers, body)] = handler.received
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert body["Message"] == "for http" and body["MessageId"] == message_id


def test_a_failed_delivery_is_recorded(
    sns: TopicService, tmp_path: Path, receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    handler.status = 500
    topic = sns.create_topic(A, "broken").arn
    sub = sns.subscribe(A, topic, "https" if url.startswith("https") else "http", url)
    sns.publish(A, topic, check_message("x"))
    sns.drain()
    assert len(handler.received) == 3  # tried three times
    [record] = [json.loads(x) for x in (tmp_path / FAILURES).read_text().splitlines()]
    assert record["subscription_arn"] == sub.arn and "500" in record["error"]


@pytest.mark.parametrize(
    ("protocol", "endpoint", "why"),
    [
        ("sqs", "arn:aws:sqs:us-east-1:111111111111:q", "not served"),
        ("lambda", "arn:aws:lambda:us-east-1:111111111111:function:f", "not served"),
        ("sms", "+15555550100", "not served"),
        ("http", "https://example.com/", "match the specified protocol"),
        ("email", "not-an-address", "Email"),
        ("file", "../escape.jsonl", "relative path"),
        ("file", "/etc/passwd", "relative path"),
        ("file", "a/../../b", "relative path"),
    ],
)
def test_bad_subscriptions_are_refused(
    sns: TopicService, protocol: str, endpoint: str, why: str
) -> None:
    topic = sns.create_topic(A, "t").arn
    with pytest.raises(InvalidParameter, match=why):
        sns.subscribe(A, topic, protocol, endpoint)
    assert sns.list_subscriptions(A) == ([], None)


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("",), "Empty message"),
        (("x" * 262_145,), "too long"),
        (("x", "line\nbreak"), "Subject"),
        (("{}", None, "json"), "No default entry"),
        (("not json", None, "json"), "failed to parse"),
        (("x", None, "xml"), "MessageStructure"),
        (("x", None, None, {"n": {"DataType": "Color", "StringValue": "red"}}), "type"),
        (("x", None, None, {"n": {"DataType": "Number", "StringValue": "ten"}}), "number"),
    ],
)
def test_bad_messages_are_refused(args: tuple[Any, ...], why: str) -> None:
    with pytest.raises(InvalidParameter, match=why):
        check_message(*args)


def test_publish_batch(sns: TopicService, tmp_path: Path) -> None:
    topic = sns.create_topic(A, "batch").arn
    sns.subscribe(A, topic, "file", "batch.jsonl")
    result = sns.publish_batch(
        A, topic, [{"Id": "one", "Message": "1"}, {"Id": "two", "Message": ""}]
    )
    sns.drain()
    assert [i for i, _ in result.successful] == ["one"]
    assert [(i, c) for i, c, _ in result.failed] == [("two", "InvalidParameter")]
    lines = (tmp_path / FILES / A / "batch.jsonl").read_text().splitlines()
    assert [json.loads(x)["Message"] for x in lines] == ["1"]
