"""SNS topics and subscriptions of each account, kept in ``_lakebox/sns.sqlite``, and
Publish delivering to the subscriptions through the notification sinks of
``lakebox.workflows.tasks.notify`` (the ones Step Functions' ``sns:publish`` already
uses):

============  =================================================  ==========================
protocol      endpoint                                           sink
============  =================================================  ==========================
``http``      ``http://...`` URL                                 webhook (SNS's JSON body)
``https``     ``https://...`` URL                                webhook
``email``     an e-mail address                                  SMTP (``LAKEBOX_SMTP_*``)
``file``      a relative path, e.g. ``alerts/orders.jsonl``      JSON lines appended to
              (lakebox's own protocol)                           ``_lakebox/sns/files/
                                                                 <account>/<path>``
============  =================================================  ==========================

A subscription is confirmed at once (lakebox sends no SubscriptionConfirmation). Other
protocols (sqs, lambda, sms, application, firehose) are refused with a message saying so.

Publish answers as soon as the message is queued: deliveries run on the service's own
worker threads, an HTTP one tried three times (each try given ``WEBHOOK_TIMEOUT`` seconds, no
redirect followed); a delivery that still fails is logged (logger ``lakebox.sns``) and
appended to ``_lakebox/sns/delivery-failures.jsonl``, never dropped silently. What a
hostile or careless caller can make the service hold is bounded: a topic has at most
``MAX_SUBSCRIPTIONS`` subscriptions, at most ``MAX_QUEUED`` deliveries wait or run at once
(a message past that is recorded as a failed delivery, not queued), and closing the
service waits at most ``CLOSE_SECONDS`` for them, then records what was not delivered.

This package sits above ``lakebox.workflows`` (whose sinks it uses) and below the API
layer; the workflow task reaches it through the API layer's dispatcher.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import re
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakebox import util
from lakebox.metadata.sqlite import SQLiteStore
from lakebox.sns.errors import (
    AuthorizationError,
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidParameter,
    NotFound,
    SnsError,
    SubscriptionLimitExceeded,
    TooManyEntriesInBatchRequest,
)
from lakebox.workflows.tasks.notify import (
    LogFileSink,
    Notification,
    NotificationSink,
    SmtpSink,
    WebhookSink,
)

FILE = "sns.sqlite"
FILES = "sns/files"
FAILURES = "sns/delivery-failures.jsonl"
PROTOCOLS = ("http", "https", "email", "file")
#: the attributes SetTopicAttributes (and CreateTopic) accept
TOPIC_ATTRIBUTES = (
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
)
MAX_MESSAGE_BYTES = 262_144
MAX_BATCH = 10
PAGE = 100
#: an HTTP delivery is tried this many times, waiting ``RETRY_SECONDS * attempt`` between
ATTEMPTS = 3
RETRY_SECONDS = 0.5
#: how long one try of an HTTP delivery may take (a slow endpoint holds a worker this long)
WEBHOOK_TIMEOUT = 5.0
#: subscriptions one topic may have (each is one delivery per message published)
MAX_SUBSCRIPTIONS = 1_000
#: deliveries waiting or running at once; past it a delivery is recorded as failed
MAX_QUEUED = 10_000
#: how long closing the service waits for queued deliveries
CLOSE_SECONDS = 10.0

_LOG = logging.getLogger("lakebox.sns")
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_PATH_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,255}$")

_MIGRATIONS = (
    """
    CREATE TABLE topics (
        arn TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        name TEXT NOT NULL,
        attributes TEXT NOT NULL,
        tags TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE TABLE subscriptions (
        arn TEXT PRIMARY KEY,
        topic_arn TEXT NOT NULL,
        account_id TEXT NOT NULL,
        protocol TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        attributes TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE INDEX subscriptions_topic ON subscriptions (topic_arn);
    """,
)


@dataclass(frozen=True)
class Topic:
    arn: str
    account_id: str
    name: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class Subscription:
    arn: str
    topic_arn: str
    account_id: str
    protocol: str
    endpoint: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class Message:
    """One message to publish, checked."""

    message: str
    subject: str | None = None
    structure: str | None = None
    attributes: dict[str, Any] | None = None


@dataclass(frozen=True)
class BatchResult:
    successful: list[tuple[str, str]]  # (entry id, message id)
    failed: list[tuple[str, str, str]]  # (entry id, code, message)


def _page_offset(token: Any) -> int:
    offset = util.page_offset(token)
    if offset is None:
        raise InvalidParameter(
            f"Invalid parameter: NextToken {str(token)[:64]!r} is not a token lakebox gave"
        )
    return offset


def default_policy(arn: str, account: str) -> str:
    """The access policy AWS gives a new topic (the owner may do everything)."""
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "SNS:GetTopicAttributes",
                        "SNS:SetTopicAttributes",
                        "SNS:AddPermission",
                        "SNS:RemovePermission",
                        "SNS:DeleteTopic",
                        "SNS:Subscribe",
                        "SNS:ListSubscriptionsByTopic",
                        "SNS:Publish",
                    ],
                    "Resource": arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
                }
            ],
        },
        separators=(",", ":"),
    )


def check_message(
    message: Any, subject: Any = None, structure: Any = None, attributes: Any = None
) -> Message:
    """Publish's message members as SNS checks them."""
    if not isinstance(message, str) or not message:
        raise InvalidParameter("Invalid parameter: Empty message")
    if len(message.encode("utf-8")) > MAX_MESSAGE_BYTES:
        raise InvalidParameter("Invalid parameter: Message too long")
    if subject is not None and (
        not isinstance(subject, str)
        or not 1 <= len(subject) <= 100
        or any(c in subject for c in "\r\n")
        or not subject.isprintable()
    ):
        raise InvalidParameter(
            "Invalid parameter: Subject (1 to 100 printable characters, no line breaks)"
        )
    if structure is not None:
        if structure != "json":
            raise InvalidParameter(
                f"Invalid parameter: MessageStructure {str(structure)[:32]!r} (only json is "
                "defined)"
            )
        try:
            doc = json.loads(message)
        except json.JSONDecodeError:
            raise InvalidParameter(
                "Invalid parameter: Message Structure - JSON message body failed to parse"
            ) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("default"), str):
            raise InvalidParameter(
                "Invalid parameter: Message Structure - No default entry in JSON message body"
            )
        if not all(isinstance(v, str) for v in doc.values()):
            raise InvalidParameter(
                "Invalid parameter: Message Structure - every protocol's message must be a string"
            )
    return Message(message, subject, structure, check_attributes(attributes))


def check_attributes(attributes: Any) -> dict[str, Any] | None:
    """MessageAttributes as SNS posts them to HTTP subscribers (``{"Type", "Value"}``)."""
    if attributes is None:
        return None
    if not isinstance(attributes, dict) or len(attributes) > 10:
        raise InvalidParameter("Invalid parameter: MessageAttributes (at most 10 attributes)")
    out: dict[str, Any] = {}
    for name, value in attributes.items():
        if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name) or ".." in name:
            raise InvalidParameter(f"Invalid parameter: MessageAttributes name {str(name)[:64]!r}")
        if name.lower().startswith(("aws.", "amazon.")):
            raise InvalidParameter(
                f"Invalid parameter: MessageAttributes name {name!r} uses a reserved prefix"
            )
        kind = value.get("DataType") if isinstance(value, dict) else None
        base = kind.split(".", 1)[0] if isinstance(kind, str) else None
        if base not in ("String", "Number", "Binary"):
            raise InvalidParameter(
                f"The message attribute '{name}' has an invalid message attribute type, the "
                "set of supported type prefixes is Binary, Number, and String."
            )
        assert isinstance(value, dict) and isinstance(kind, str)
        if base == "Binary":
            data = value.get("BinaryValue")
            if not isinstance(data, bytes | bytearray):
                raise InvalidParameter(
                    f"The message attribute '{name}' with type 'Binary' must use field 'Binary'."
                )
            out[name] = {"Type": kind, "Value": base64.b64encode(bytes(data)).decode("ascii")}
        else:
            text = value.get("StringValue")
            if not isinstance(text, str):
                raise InvalidParameter(
                    f"The message attribute '{name}' must contain non-empty message attribute "
                    "value for message attribute type 'String'."
                )
            if base == "Number":
                try:
                    float(text)
                except ValueError:
                    raise InvalidParameter(
                        f"The message attribute '{name}' has an invalid number value {text!r}"
                    ) from None
            out[name] = {"Type": kind, "Value": text}
    return out


class TopicService:
    """SNS's topics and subscriptions for one lake, and the workers that deliver."""

    def __init__(
        self,
        metadata_dir: Path,
        *,
        region: str,
        workers: int = 4,
        max_subscriptions: int = MAX_SUBSCRIPTIONS,
        max_queued: int = MAX_QUEUED,
        close_seconds: float = CLOSE_SECONDS,
    ) -> None:
        self.metadata_dir = metadata_dir
        self.region = region
        self.max_subscriptions = max_subscriptions
        self.max_queued = max_queued
        self.close_seconds = close_seconds
        self._db = SQLiteStore(metadata_dir / FILE, _MIGRATIONS)
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._failures_lock = threading.Lock()
        #: deliveries submitted and not finished, with what they deliver
        self._pending: dict[Future[None], tuple[Subscription, Notification]] = {}
        self._pending_lock = threading.Lock()
        self._closed = False

    # -- topics -------------------------------------------------------------------------------
    def topic_arn(self, account: str, name: str) -> str:
        return f"arn:aws:sns:{self.region}:{account}:{name}"

    def _topic_row(self, account: str, arn: Any, member: str = "TopicArn") -> Any:
        if not isinstance(arn, str) or not arn:
            raise InvalidParameter(f"Invalid parameter: {member}")
        parts = arn.split(":")
        if len(parts) != 6 or parts[:3] != ["arn", "aws", "sns"]:
            raise InvalidParameter(f"Invalid parameter: {member} {arn[:200]!r} is not a topic ARN")
        if parts[4] != account:
            raise AuthorizationError(
                f"the topic {arn[:200]} belongs to account {parts[4]}, not to the caller's "
                f"account {account} (lakebox has no topic policies to share it)"
            )
        row = (
            self._db.connection()
            .execute("SELECT arn, account_id, name, attributes FROM topics WHERE arn = ?", (arn,))
            .fetchone()
        )
        if row is None:
            raise NotFound("Topic does not exist")
        return row

    def create_topic(
        self, account: str, name: Any, attributes: Any = None, tags: Any = None
    ) -> Topic:
        """A new topic, or the one of that name already made with the same attributes."""
        if not isinstance(name, str) or not _TOPIC_NAME.match(name):
            raise InvalidParameter(
                "Invalid parameter: Topic Name (1 to 256 letters, digits, - and _)"
            )
        attrs = self._check_attributes(attributes or {}, creating=True)
        if tags is not None and not isinstance(tags, list):
            raise InvalidParameter("Invalid parameter: Tags")
        arn = self.topic_arn(account, name)
        with self._db.transaction() as con:
            row = con.execute("SELECT attributes FROM topics WHERE arn = ?", (arn,)).fetchone()
            if row is not None:
                known = json.loads(row[0])
                if any(known.get(k) != v for k, v in attrs.items()):
                    raise InvalidParameter(
                        "Invalid parameter: Attributes Reason: Topic already exists with "
                        "different attributes"
                    )
                return Topic(arn, account, name, known)
            con.execute(
                "INSERT INTO topics VALUES (?, ?, ?, ?, ?, ?)",
                (arn, account, name, json.dumps(attrs), json.dumps(tags or []), time.time()),
            )
        return Topic(arn, account, name, attrs)

    @staticmethod
    def _check_attributes(attributes: Any, *, creating: bool) -> dict[str, str]:
        if not isinstance(attributes, dict):
            raise InvalidParameter("Invalid parameter: Attributes")
        out = {}
        for key, value in attributes.items():
            if key in ("FifoTopic", "ContentBasedDeduplication") and creating:
                if str(value).lower() == "true":
                    raise InvalidParameter(
                        f"Invalid parameter: Attributes Reason: lakebox does not serve FIFO "
                        f"topics yet ({key})"
                    )
                continue
            if key not in TOPIC_ATTRIBUTES:
                raise InvalidParameter(
                    f"Invalid parameter: AttributeName {str(key)[:64]!r} (lakebox accepts "
                    f"{', '.join(TOPIC_ATTRIBUTES)})"
                )
            if not isinstance(value, str):
                raise InvalidParameter(f"Invalid parameter: {key} must be a string")
            if key == "DisplayName" and len(value) > 100:
                raise InvalidParameter("Invalid parameter: DisplayName (at most 100 characters)")
            if key in ("Policy", "DeliveryPolicy"):
                try:
                    doc = json.loads(value)
                except json.JSONDecodeError:
                    raise InvalidParameter(f"Invalid parameter: {key} is not JSON") from None
                if not isinstance(doc, dict):
                    raise InvalidParameter(f"Invalid parameter: {key} must be a JSON object")
            out[key] = value
        return out

    def list_topics(self, account: str, next_token: Any = None) -> tuple[list[str], str | None]:
        offset = _page_offset(next_token)
        rows = (
            self._db.connection()
            .execute(
                "SELECT arn FROM topics WHERE account_id = ? ORDER BY arn LIMIT ? OFFSET ?",
                (account, PAGE + 1, offset),
            )
            .fetchall()
        )
        more = len(rows) > PAGE
        return [r[0] for r in rows[:PAGE]], util.page_token(offset + PAGE) if more else None

    def delete_topic(self, account: str, arn: Any) -> None:
        """Delete a topic and its subscriptions (deleting one that is gone succeeds, as
        SNS's does)."""
        try:
            self._topic_row(account, arn)
        except NotFound:
            return
        with self._db.transaction() as con:
            con.execute("DELETE FROM subscriptions WHERE topic_arn = ?", (arn,))
            con.execute("DELETE FROM topics WHERE arn = ?", (arn,))

    def get_topic_attributes(self, account: str, arn: Any) -> dict[str, str]:
        row = self._topic_row(account, arn)
        count = (
            self._db.connection()
            .execute("SELECT COUNT(*) FROM subscriptions WHERE topic_arn = ?", (row[0],))
            .fetchone()[0]
        )
        attrs = {
            "TopicArn": row[0],
            "Owner": row[1],
            "Policy": default_policy(row[0], row[1]),
            "DisplayName": "",
            "SubscriptionsConfirmed": str(count),
            "SubscriptionsPending": "0",
            "SubscriptionsDeleted": "0",
            "EffectiveDeliveryPolicy": json.dumps(
                {"http": {"defaultHealthyRetryPolicy": {"numRetries": ATTEMPTS - 1}}},
                separators=(",", ":"),
            ),
        }
        attrs.update(json.loads(row[3]))
        return attrs

    def set_topic_attribute(self, account: str, arn: Any, name: Any, value: Any) -> None:
        if not isinstance(name, str):
            raise InvalidParameter("Invalid parameter: AttributeName")
        attrs = self._check_attributes({name: "" if value is None else value}, creating=False)
        with self._db.transaction() as con:
            row = self._topic_row(account, arn)
            current = json.loads(row[3])
            current.update(attrs)
            con.execute(
                "UPDATE topics SET attributes = ? WHERE arn = ?", (json.dumps(current), row[0])
            )

    # -- subscriptions -------------------------------------------------------------------------
    def _check_endpoint(self, protocol: Any, endpoint: Any) -> tuple[str, str]:
        if not isinstance(protocol, str) or not protocol:
            raise InvalidParameter("Invalid parameter: Protocol")
        protocol = protocol.lower()
        if protocol not in PROTOCOLS:
            raise InvalidParameter(
                f"Invalid parameter: Protocol {protocol[:32]!r}: lakebox delivers to "
                f"{', '.join(PROTOCOLS)} (file: JSON lines under the lake's _lakebox/sns/files); "
                "sqs, lambda, sms, application and firehose subscriptions are not served yet"
            )
        if not isinstance(endpoint, str) or not endpoint:
            raise InvalidParameter(f"Invalid parameter: Endpoint (a {protocol} endpoint)")
        if protocol in ("http", "https"):
            if not endpoint.lower().startswith(f"{protocol}://") or len(endpoint) > 2048:
                raise InvalidParameter(
                    f"Invalid parameter: Endpoint must match the specified protocol "
                    f"({protocol}://...)"
                )
        elif protocol == "email":
            if not _EMAIL.match(endpoint) or len(endpoint) > 320:
                raise InvalidParameter("Invalid parameter: Email address")
        else:
            parts = endpoint.split("/")
            if len(endpoint) > 512 or not all(
                _PATH_PART.match(p) and p not in (".", "..") for p in parts
            ):
                raise InvalidParameter(
                    "Invalid parameter: Endpoint: a file endpoint is a relative path of "
                    "names of letters, digits, . _ and - (no '..', no leading '/'), under "
                    "the lake's _lakebox/sns/files/<account>/"
                )
        return protocol, endpoint

    def subscribe(
        self, account: str, topic_arn: Any, protocol: Any, endpoint: Any, attributes: Any = None
    ) -> Subscription:
        """A confirmed subscription (the same one again for the same protocol and
        endpoint, as SNS answers a repeated Subscribe)."""
        protocol, endpoint = self._check_endpoint(protocol, endpoint)
        if attributes is not None and not isinstance(attributes, dict):
            raise InvalidParameter("Invalid parameter: Attributes")
        attrs = {str(k): str(v) for k, v in (attributes or {}).items()}
        if attrs:
            raise InvalidParameter(
                f"Invalid parameter: Attributes Reason: lakebox does not support subscription "
                f"attributes yet ({', '.join(sorted(attrs))[:200]})"
            )
        with self._db.transaction() as con:
            row = self._topic_row(account, topic_arn)
            found = con.execute(
                "SELECT arn, attributes FROM subscriptions WHERE topic_arn = ? AND protocol = ? "
                "AND endpoint = ?",
                (row[0], protocol, endpoint),
            ).fetchone()
            if found is not None:
                return Subscription(
                    found[0], row[0], account, protocol, endpoint, json.loads(found[1])
                )
            count = con.execute(
                "SELECT COUNT(*) FROM subscriptions WHERE topic_arn = ?", (row[0],)
            ).fetchone()[0]
            if count >= self.max_subscriptions:
                raise SubscriptionLimitExceeded(
                    f"Invalid parameter: TopicArn Reason: the topic has {count} "
                    f"subscriptions, the most lakebox keeps for one topic"
                )
            arn = f"{row[0]}:{uuid.uuid4()}"
            con.execute(
                "INSERT INTO subscriptions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (arn, row[0], account, protocol, endpoint, json.dumps(attrs), time.time()),
            )
        return Subscription(arn, row[0], account, protocol, endpoint, attrs)

    def unsubscribe(self, account: str, arn: Any) -> None:
        if not isinstance(arn, str) or arn.count(":") != 6:
            raise InvalidParameter("Invalid parameter: SubscriptionArn")
        topic = arn.rsplit(":", 1)[0]
        if topic.split(":")[4] != account:
            raise AuthorizationError(
                f"the subscription {arn[:200]} belongs to another account than {account}"
            )
        with self._db.transaction() as con:
            gone = con.execute("DELETE FROM subscriptions WHERE arn = ?", (arn,)).rowcount
        if not gone:
            raise NotFound("Subscription does not exist")

    def list_subscriptions(
        self, account: str, topic_arn: Any = None, next_token: Any = None
    ) -> tuple[list[Subscription], str | None]:
        offset = _page_offset(next_token)
        if topic_arn is not None:
            self._topic_row(account, topic_arn)
            where, args = "topic_arn = ?", (topic_arn,)
        else:
            where, args = "account_id = ?", (account,)
        rows = (
            self._db.connection()
            .execute(
                "SELECT arn, topic_arn, account_id, protocol, endpoint, attributes FROM "
                f"subscriptions WHERE {where} ORDER BY created, arn LIMIT ? OFFSET ?",
                (*args, PAGE + 1, offset),
            )
            .fetchall()
        )
        subs = [Subscription(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]
        more = len(subs) > PAGE
        return subs[:PAGE], util.page_token(offset + PAGE) if more else None

    # -- publishing ----------------------------------------------------------------------------
    def publish(self, account: str, topic_arn: Any, message: Message) -> str:
        """Queue ``message`` for every subscription of the topic; its message id."""
        row = self._topic_row(account, topic_arn)
        return self._publish(row[0], message)

    def publish_batch(self, account: str, topic_arn: Any, entries: Any) -> BatchResult:
        row = self._topic_row(account, topic_arn)
        if not isinstance(entries, list) or not entries:
            raise EmptyBatchRequest("The batch request doesn't contain any entries.")
        if len(entries) > MAX_BATCH:
            raise TooManyEntriesInBatchRequest(
                f"The batch request contains more entries than permissible ({MAX_BATCH})."
            )
        ids = [e.get("Id") if isinstance(e, dict) else None for e in entries]
        for entry_id in ids:
            if not isinstance(entry_id, str) or not _BATCH_ID.match(entry_id):
                raise InvalidBatchEntryId(
                    "A batch entry id can only contain alphanumeric characters, hyphens and "
                    "underscores. It can be at most 80 letters long."
                )
        if len(set(ids)) != len(ids):
            raise BatchEntryIdsNotDistinct(
                "Two or more batch entries in the request have the same Id."
            )
        ok: list[tuple[str, str]] = []
        failed: list[tuple[str, str, str]] = []
        for entry, entry_id in zip(entries, ids, strict=True):
            try:
                message = check_message(
                    entry.get("Message"),
                    entry.get("Subject"),
                    entry.get("MessageStructure"),
                    entry.get("MessageAttributes"),
                )
            except SnsError as exc:
                failed.append((str(entry_id), exc.code, str(exc)))
                continue
            ok.append((str(entry_id), self._publish(row[0], message)))
        return BatchResult(ok, failed)

    def _publish(self, topic_arn: str, message: Message) -> str:
        message_id = str(uuid.uuid4())
        subs = self._all_subscriptions(topic_arn)
        now = dt.datetime.now(dt.UTC)
        for sub in subs:
            text = message.message
            if message.structure == "json":
                doc = json.loads(message.message)
                text = doc.get(sub.protocol, doc["default"])
            note = Notification(
                message_id=message_id,
                topic_arn=topic_arn,
                subject=message.subject,
                message=text,
                attributes=dict(message.attributes or {}),
                timestamp=now,
            )
            self._enqueue(sub, note)
        return message_id

    def _enqueue(self, sub: Subscription, note: Notification) -> None:
        """Queue one delivery; when ``max_queued`` are already waiting or running, record it
        as failed instead (memory stays bounded whatever is published)."""
        with self._lock:
            if self._closed:
                raise SnsError("the SNS service of this lake is closed")
            with self._pending_lock:
                full = len(self._pending) >= self.max_queued
            if not full:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="lakebox-sns")
                future = self._pool.submit(self._deliver, sub, note)
                with self._pending_lock:
                    self._pending[future] = (sub, note)
        if full:
            self._record_failure(
                sub,
                note,
                0,
                f"not delivered: {self.max_queued} deliveries were already waiting",
            )
            return
        future.add_done_callback(self._finished)

    def _finished(self, future: Future[None]) -> None:
        with self._pending_lock:
            self._pending.pop(future, None)

    def _all_subscriptions(self, topic_arn: str) -> list[Subscription]:
        rows = (
            self._db.connection()
            .execute(
                "SELECT arn, topic_arn, account_id, protocol, endpoint, attributes FROM "
                "subscriptions WHERE topic_arn = ? ORDER BY created",
                (topic_arn,),
            )
            .fetchall()
        )
        return [Subscription(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def sink(self, sub: Subscription) -> NotificationSink:
        """The notification sink a subscription delivers through."""
        if sub.protocol in ("http", "https"):
            return WebhookSink(sub.endpoint, timeout=WEBHOOK_TIMEOUT)
        if sub.protocol == "email":
            env = os.environ
            host = env.get("LAKEBOX_SMTP_HOST")
            if not host:
                raise SnsError(
                    f"cannot e-mail {sub.endpoint}: set LAKEBOX_SMTP_HOST (and LAKEBOX_SMTP_PORT, "
                    "LAKEBOX_SMTP_FROM, LAKEBOX_SMTP_STARTTLS, LAKEBOX_SMTP_USER, "
                    "LAKEBOX_SMTP_PASSWORD) where lakebox runs"
                )
            return SmtpSink(
                host=host,
                port=int(env.get("LAKEBOX_SMTP_PORT", "25")),
                sender=env.get("LAKEBOX_SMTP_FROM", "lakebox@localhost"),
                recipients=[sub.endpoint],
                starttls=env.get("LAKEBOX_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
                username=env.get("LAKEBOX_SMTP_USER") or None,
                password=env.get("LAKEBOX_SMTP_PASSWORD") or None,
            )
        return LogFileSink(self.file_path(sub.account_id, sub.endpoint))

    def file_path(self, account: str, endpoint: str) -> Path:
        """Where a ``file`` subscription's lines go (the endpoint was checked: no part
        climbs out of the account's folder)."""
        base = (self.metadata_dir / FILES / account).resolve()
        path = (base / endpoint).resolve()
        if not path.is_relative_to(base):
            raise InvalidParameter(f"Invalid parameter: Endpoint {endpoint!r}")
        return path

    def _deliver(self, sub: Subscription, note: Notification) -> None:
        attempts = ATTEMPTS if sub.protocol in ("http", "https") else 1
        error = ""
        for attempt in range(1, attempts + 1):
            try:
                self.sink(sub).deliver(note)
                return
            except Exception as exc:  # a sink's failure of any kind is logged, not lost
                error = f"{type(exc).__name__}: {exc}"
            if attempt < attempts:
                time.sleep(RETRY_SECONDS * attempt)
        self._record_failure(sub, note, attempts, error)

    def _record_failure(
        self, sub: Subscription, note: Notification, attempts: int, error: str
    ) -> None:
        record = {
            "time": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
            "message_id": note.message_id,
            "topic_arn": note.topic_arn,
            "subscription_arn": sub.arn,
            "protocol": sub.protocol,
            "endpoint": sub.endpoint,
            "attempts": attempts,
            "error": error,
        }
        _LOG.warning("SNS delivery failed: %s", json.dumps(record))
        path = self.metadata_dir / FAILURES
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._failures_lock, path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
        except OSError as exc:
            _LOG.error("cannot record the failed SNS delivery in %s: %s", path, exc)

    def drain(self, timeout: float | None = None) -> None:
        """Wait until every delivery queued so far has been tried, or ``timeout`` seconds;
        a delivery not started by then is not made, and recorded as failed."""
        with self._lock:
            pool = self._pool
            self._pool = None
        if pool is None:
            return
        with self._pending_lock:
            pending = dict(self._pending)
        _, late = wait_futures(list(pending), timeout=timeout)
        pool.shutdown(wait=timeout is None, cancel_futures=True)
        for future in late:
            if future.cancelled():
                sub, note = pending[future]
                self._record_failure(
                    sub, note, 0, "not delivered: the SNS service closed before its turn"
                )

    def close(self) -> None:
        """Deliver what was queued, waiting at most ``close_seconds`` (what was not started
        by then is recorded as not delivered; a delivery under way ends within its webhook
        timeout), then close the store."""
        with self._lock:
            self._closed = True
        self.drain(self.close_seconds)
        self._db.close()


__all__ = [
    "FAILURES",
    "FILES",
    "PROTOCOLS",
    "BatchResult",
    "Message",
    "Subscription",
    "Topic",
    "TopicService",
    "check_message",
]
