"""Notification sinks behind ``sns:publish``: a JSON-lines log file, a webhook (HTTP POST
through urllib) and e-mail (smtplib). Standard-library clients keep the default install
free of extra dependencies."""

from __future__ import annotations

import json
import smtplib
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from lakebox.workflows.errors import StatesError


@dataclass(frozen=True)
class Notification:
    message_id: str
    topic_arn: str
    subject: str | None
    message: str
    attributes: dict[str, Any]
    timestamp: datetime

    def to_sns_json(self) -> dict[str, Any]:
        """The body SNS posts to HTTP subscribers."""
        body: dict[str, Any] = {
            "Type": "Notification",
            "MessageId": self.message_id,
            "TopicArn": self.topic_arn,
            "Message": self.message,
            "Timestamp": self.timestamp.isoformat().replace("+00:00", "Z"),
        }
        if self.subject is not None:
            body["Subject"] = self.subject
        if self.attributes:
            body["MessageAttributes"] = self.attributes
        return body


class NotificationSink(Protocol):
    def deliver(self, note: Notification) -> None: ...


class LogFileSink:
    """Appends one JSON object per notification to ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def deliver(self, note: Notification) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(note.to_sns_json(), ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed: the 3xx answer is the delivery's answer (a failure).
    Following it would let an endpoint send the POST anywhere, to another host or scheme,
    from inside the machine lakebox runs on; SNS does not follow redirects either."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


#: urllib's opener for webhooks: http and https only (no file:, ftp:, data:), no redirects
_WEBHOOK_OPENER = urllib.request.OpenerDirector()
for _handler in (
    urllib.request.ProxyHandler(),
    urllib.request.HTTPHandler(),
    urllib.request.HTTPSHandler(),
    urllib.request.HTTPDefaultErrorHandler(),
    urllib.request.HTTPErrorProcessor(),
    _NoRedirect(),
):
    _WEBHOOK_OPENER.add_handler(_handler)


@dataclass
class WebhookSink:
    """POSTs the SNS notification JSON to ``url`` (an http or https URL; a redirect is not
    followed); a non-2xx answer fails the task."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0

    def deliver(self, note: Notification) -> None:
        data = json.dumps(note.to_sns_json()).encode()
        headers = {
            "Content-Type": "application/json",
            "x-amz-sns-message-type": "Notification",
            **self.headers,
        }
        if not self.url.lower().startswith(("http://", "https://")):
            raise StatesError(
                "SNS.DeliveryFailed", f"webhook {self.url[:200]}: only http and https URLs"
            )
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with _WEBHOOK_OPENER.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            raise StatesError("SNS.DeliveryFailed", f"webhook {self.url}: {exc}") from exc
        if not 200 <= status < 300:
            raise StatesError("SNS.DeliveryFailed", f"webhook {self.url} answered {status}")


@dataclass
class SmtpSink:
    """Sends each notification as an e-mail; Subject defaults like SNS's."""

    host: str
    port: int
    sender: str
    recipients: list[str]
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    def deliver(self, note: Notification) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Subject"] = note.subject or "AWS Notification Message"
        msg["Message-ID"] = f"<{note.message_id}@lakebox>"
        msg.set_content(note.message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise StatesError("SNS.DeliveryFailed", f"SMTP {self.host}:{self.port}: {exc}") from exc
