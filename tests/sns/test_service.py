"""SNS topics and Publish: subscriptions deliver through the notification sinks (a file in
the lake, a real HTTP server on loopback), failures are recorded, bad input is refused."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lakebox.sns.errors import (
    AuthorizationError,
    InvalidParameter,
    NotFound,
    SubscriptionLimitExceeded,
)
from lakebox.sns.service import FAILURES, FILES, TopicService, check_message
from lakebox.workflows.tasks.notify import Notification

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


# -- what a caller can make the service hold is bounded ----------------------------------------


class _Slow(BaseHTTPRequestHandler):
    """Answers each POST after ``delay`` seconds."""

    delay = 0.6
    count = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).count += 1
        time.sleep(type(self).delay)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def slow() -> Iterator[tuple[str, type[_Slow]]]:
    handler = type("Slow", (_Slow,), {"count": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slow", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _failures(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / FAILURES
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_a_topic_has_a_bounded_number_of_subscriptions(tmp_path: Path) -> None:
    sns = TopicService(tmp_path, region="us-east-1", max_subscriptions=3)
    try:
        topic = sns.create_topic(A, "crowded").arn
        for i in range(3):
            sns.subscribe(A, topic, "file", f"s{i}.jsonl")
        sns.subscribe(A, topic, "file", "s0.jsonl")  # the same one again: not a new one
        with pytest.raises(SubscriptionLimitExceeded):
            sns.subscribe(A, topic, "file", "s3.jsonl")
        assert len(sns.list_subscriptions(A, topic)[0]) == 3
    finally:
        sns.close()


def test_deliveries_past_the_queue_bound_are_recorded_not_queued(
    tmp_path: Path, slow: tuple[str, type[_Slow]]
) -> None:
    url, handler = slow
    sns = TopicService(tmp_path, region="us-east-1", workers=1, max_queued=2)
    try:
        topic = sns.create_topic(A, "busy").arn
        sns.subscribe(A, topic, "http", url)
        for i in range(5):
            sns.publish(A, topic, check_message(f"m{i}"))
        full = [f for f in _failures(tmp_path) if "already waiting" in f["error"]]
        assert len(full) == 3 and all(f["attempts"] == 0 for f in full)
        sns.drain()
        assert handler.count == 2
    finally:
        sns.close()


def test_close_waits_a_bounded_time_and_records_what_was_not_delivered(
    tmp_path: Path, slow: tuple[str, type[_Slow]]
) -> None:
    url, handler = slow
    sns = TopicService(tmp_path, region="us-east-1", workers=1, close_seconds=0.2)
    topic = sns.create_topic(A, "closing").arn
    sub = sns.subscribe(A, topic, "http", url)
    for i in range(6):
        sns.publish(A, topic, check_message(f"m{i}"))
    started = time.monotonic()
    sns.close()
    assert time.monotonic() - started < 2
    undelivered = [f for f in _failures(tmp_path) if "closed" in f["error"]]
    assert len(undelivered) >= 4
    assert {f["subscription_arn"] for f in undelivered} == {sub.arn}
    time.sleep(handler.delay + 0.3)  # the delivery under way ends on its own
    assert handler.count <= 2


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[HTTPServer, threading.Thread]:
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def test_a_webhook_redirect_is_not_followed(sns: TopicService, tmp_path: Path) -> None:
    hits: list[str] = []

    class _Target(BaseHTTPRequestHandler):
        def _hit(self) -> None:
            hits.append(self.command)
            self.send_response(200)
            self.end_headers()

        do_GET = do_POST = _hit

        def log_message(self, format: str, *args: Any) -> None:
            pass

    target, target_thread = _serve(_Target)

    class _Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{target.server_address[1]}/x")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server, thread = _serve(_Redirect)
    try:
        topic = sns.create_topic(A, "redirected").arn
        url = f"http://127.0.0.1:{server.server_address[1]}/moved"
        sns.subscribe(A, topic, "http", url)
        sns.publish(A, topic, check_message("x"))
        sns.drain()
    finally:
        for s, t in ((server, thread), (target, target_thread)):
            s.shutdown()
            s.server_close()
            t.join()
    assert hits == []
    [record] = _failures(tmp_path)
    assert "302" in record["error"]


def test_a_webhook_is_http_or_https_only() -> None:
    from lakebox.workflows.errors import StatesError
    from lakebox.workflows.tasks.notify import WebhookSink

    note = Notification("m", "arn:aws:sns:us-east-1:1:t", None, "x", {}, dt.datetime.now(dt.UTC))
    with pytest.raises(StatesError, match="only http and https"):
        WebhookSink("file:///etc/passwd").deliver(note)
