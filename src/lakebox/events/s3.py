"""S3 bucket notification configurations and the events S3 sends for them.

A configuration is botocore's ``NotificationConfiguration`` shape. lakebox delivers
``LambdaFunctionConfigurations`` (to the lake's functions) and ``EventBridgeConfiguration``
(to the default event bus); a topic or queue target is refused, as S3 refuses a
destination it cannot validate. Records are S3's event message structure, version 2.1
(``{"Records": [...]}``, the key URL-encoded as S3 writes it: ``red flower.jpg`` is
``red+flower.jpg``); EventBridge events are S3's ``Object Created`` / ``Object Deleted``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from lakebox.errors import InvalidRequestError

#: every event type S3 accepts in a configuration (``s3:`` and the name)
EVENT_TYPES = frozenset(
    {
        "s3:TestEvent",
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectRestore:*",
        "s3:ObjectRestore:Post",
        "s3:ObjectRestore:Completed",
        "s3:ObjectRestore:Delete",
        "s3:ReducedRedundancyLostObject",
        "s3:Replication:*",
        "s3:Replication:OperationFailedReplication",
        "s3:Replication:OperationNotTracked",
        "s3:Replication:OperationMissedThreshold",
        "s3:Replication:OperationReplicatedAfterThreshold",
        "s3:LifecycleExpiration:*",
        "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
        "s3:LifecycleTransition",
        "s3:IntelligentTiering",
        "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put",
        "s3:ObjectTagging:Delete",
        "s3:ObjectAcl:Put",
    }
)

#: the configuration lists and the member naming each one's target
_LISTS = {
    "LambdaFunctionConfigurations": "LambdaFunctionArn",
    "QueueConfigurations": "QueueArn",
    "TopicConfigurations": "TopicArn",
}


class InvalidNotificationError(InvalidRequestError):
    """A configuration S3 refuses (``InvalidArgument``)."""

    code = "InvalidArgument"


@dataclass(frozen=True)
class Target:
    """One configuration entry: where events go, for which event types and keys."""

    id: str
    kind: str  # "function" (the only kind lakebox delivers to from a configuration)
    arn: str
    events: tuple[str, ...]
    prefix: str
    suffix: str

    def wants(self, name: str, key: str) -> bool:
        """Whether an ``ObjectCreated:Put`` (say) of ``key`` is for this target."""
        full = f"s3:{name}"
        family = full.rsplit(":", 1)[0] + ":*"
        return (
            (full in self.events or family in self.events)
            and key.startswith(self.prefix)
            and key.endswith(self.suffix)
        )


def check_configuration(
    configuration: Any, function_exists: Callable[[str], bool]
) -> tuple[dict[str, Any], list[Target], bool]:
    """The configuration as stored (IDs filled in as S3 does), its targets and whether
    events also go to EventBridge. Raises InvalidNotificationError with S3's message."""
    if not isinstance(configuration, dict):
        raise InvalidNotificationError("The XML you provided was not well-formed")
    known = {*_LISTS, "EventBridgeConfiguration"}
    unknown = [k for k in configuration if k not in known]
    if unknown:
        raise InvalidNotificationError(f"Unknown notification configuration member {unknown[0]}")
    stored: dict[str, Any] = {}
    targets: list[Target] = []
    unreachable: list[str] = []
    for member, arn_member in _LISTS.items():
        entries = configuration.get(member)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise InvalidNotificationError(f"{member} must be a list")
        kept = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise InvalidNotificationError(f"{member} holds an entry that is not an object")
            arn = entry.get(arn_member)
            if not isinstance(arn, str) or not arn:
                raise InvalidNotificationError(f"{arn_member} is required in {member}")
            events = entry.get("Events")
            if not isinstance(events, list) or not events:
                raise InvalidNotificationError("At least one event must be specified")
            for name in events:
                if name not in EVENT_TYPES:
                    raise InvalidNotificationError("The event is not supported for notifications")
            prefix, suffix = _filter(entry.get("Filter"))
            ident = entry.get("Id") or str(uuid.uuid4())
            if not isinstance(ident, str):
                raise InvalidNotificationError("Id must be a string")
            if member != "LambdaFunctionConfigurations" or not function_exists(arn):
                unreachable.append(arn)
            targets.append(Target(ident, "function", arn, tuple(events), prefix, suffix))
            kept.append({**entry, "Id": ident})
        stored[member] = kept
    if unreachable:
        # S3 tests every destination before it stores anything; lakebox delivers to its
        # own functions only (no SNS topic or SQS queue)
        raise InvalidNotificationError(
            "Unable to validate the following destination configurations"
            f" ({', '.join(unreachable)}: lakebox delivers bucket notifications to its "
            "functions and to EventBridge only)"
        )
    _check_overlap(targets)
    bridge = configuration.get("EventBridgeConfiguration")
    if bridge is not None:
        if not isinstance(bridge, dict) or bridge:
            raise InvalidNotificationError("EventBridgeConfiguration must be an empty object")
        stored["EventBridgeConfiguration"] = {}
    return stored, targets, bridge is not None


def _filter(spec: Any) -> tuple[str, str]:
    if spec is None:
        return "", ""
    rules = spec.get("Key", {}).get("FilterRules") if isinstance(spec, dict) else None
    if not isinstance(rules, list):
        raise InvalidNotificationError("Filter must have a Key with FilterRules")
    found: dict[str, str] = {}
    for rule in rules:
        name = rule.get("Name") if isinstance(rule, dict) else None
        value = rule.get("Value") if isinstance(rule, dict) else None
        if not isinstance(name, str) or name.lower() not in ("prefix", "suffix"):
            raise InvalidNotificationError("filter rule name must be either prefix or suffix")
        if not isinstance(value, str):
            raise InvalidNotificationError("filter rule value must be a string")
        if name.lower() in found:
            raise InvalidNotificationError(
                "Cannot specify more than one prefix rule in a filter."
                if name.lower() == "prefix"
                else "Cannot specify more than one suffix rule in a filter."
            )
        found[name.lower()] = value
    return found.get("prefix", ""), found.get("suffix", "")


def _families(events: tuple[str, ...]) -> set[str]:
    out = set()
    for name in events:
        out.add(name)
        if name.endswith(":*"):
            out.update(e for e in EVENT_TYPES if e.startswith(name[:-1]))
        else:
            out.add(name.rsplit(":", 1)[0] + ":*")
    return out


def _check_overlap(targets: list[Target]) -> None:
    """S3 refuses two configurations that could both take one event (a shared event type
    and prefixes / suffixes where one is the start / end of the other)."""
    for i, a in enumerate(targets):
        for b in targets[i + 1 :]:
            shared = _families(a.events) & {*b.events}
            if not shared:
                continue
            prefixes = a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
            suffixes = a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
            if prefixes and suffixes:
                raise InvalidNotificationError(
                    "Configurations overlap. Configurations on the same bucket cannot share "
                    "a common event type."
                )


def targets_of(stored: dict[str, Any]) -> list[Target]:
    out = []
    for entry in stored.get("LambdaFunctionConfigurations", []):
        prefix, suffix = _filter(entry.get("Filter"))
        out.append(
            Target(
                entry["Id"],
                "function",
                entry["LambdaFunctionArn"],
                tuple(entry["Events"]),
                prefix,
                suffix,
            )
        )
    return out


# -- the events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectChange:
    """One object change, as S3's events describe it."""

    name: str  # ObjectCreated:Put, ObjectRemoved:Delete, ...
    bucket: str
    key: str
    size: int | None
    etag: str | None
    principal_id: str
    account_id: str
    region: str
    time: dt.datetime
    request_id: str
    sequencer: str


def event_time(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def s3_record(change: ObjectChange, configuration_id: str) -> dict[str, Any]:
    """One record of S3's event message structure, version 2.1."""
    obj: dict[str, Any] = {"key": quote_plus(change.key, safe="/")}
    if change.size is not None:
        obj["size"] = change.size
    if change.etag is not None:
        obj["eTag"] = change.etag.strip('"')
    obj["sequencer"] = change.sequencer
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": change.region,
        "eventTime": event_time(change.time),
        "eventName": change.name,
        "userIdentity": {"principalId": change.principal_id},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": change.request_id,
            "x-amz-id-2": "lakebox",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": change.bucket,
                "ownerIdentity": {"principalId": change.account_id},
                "arn": f"arn:aws:s3:::{change.bucket}",
            },
            "object": obj,
        },
    }


_REASONS = {
    "ObjectCreated:Put": "PutObject",
    "ObjectCreated:Post": "POST Object",
    "ObjectCreated:Copy": "CopyObject",
    "ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    "ObjectRemoved:Delete": "DeleteObject",
    "ObjectRemoved:DeleteMarkerCreated": "DeleteObject",
}


def bridge_event(change: ObjectChange) -> dict[str, Any] | None:
    """The event S3 puts on the default bus for ``change`` (None for an event type S3
    does not send to EventBridge)."""
    created = change.name.startswith("ObjectCreated:")
    if not created and not change.name.startswith("ObjectRemoved:"):
        return None
    obj: dict[str, Any] = {"key": change.key}
    if created:
        obj["size"] = change.size or 0
        obj["etag"] = (change.etag or "").strip('"')
    obj["sequencer"] = change.sequencer
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": change.bucket},
        "object": obj,
        "request-id": change.request_id,
        "requester": change.account_id,
        "source-ip-address": "127.0.0.1",
        "reason": _REASONS.get(change.name, change.name),
    }
    if not created:
        detail["deletion-type"] = (
            "Delete Marker Created"
            if change.name.endswith("DeleteMarkerCreated")
            else "Permanently Deleted"
        )
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created" if created else "Object Deleted",
        "source": "aws.s3",
        "account": change.account_id,
        "time": change.time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": change.region,
        "resources": [f"arn:aws:s3:::{change.bucket}"],
        "detail": detail,
    }
