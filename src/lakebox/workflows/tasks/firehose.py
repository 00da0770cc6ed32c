"""``aws-sdk:firehose:putRecord`` / ``putRecordBatch`` over lakebox's delivery streams
(``lakebox.ingest.streams``). ``Record.Data`` is the record as text (a JSON object or array
given in a definition is serialised to JSON, as the SDK integration does with a JSON blob);
the answers are Firehose's (``RecordId``, ``FailedPutCount``, ``RequestResponses``). Errors
are ``Firehose.<ErrorCode>`` (``Firehose.ResourceNotFoundException``,
``Firehose.InvalidArgumentException``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lakebox.errors import LakeboxError
from lakebox.workflows.errors import StatesError
from lakebox.workflows.tasks.athena import (
    invalid,
    lake_of,
    params_of,
    required_str,
    service_error,
    shared,
)
from lakebox.workflows.tasks.registry import DEFAULT_REGISTRY, TaskContext

if TYPE_CHECKING:
    from lakebox.ingest.streams import DeliveryStreams

SDK = "arn:aws:states:::aws-sdk:firehose:"
SERVICE = "Firehose"


def _streams(ctx: TaskContext) -> DeliveryStreams:
    def make() -> DeliveryStreams:
        from lakebox.ingest.streams import DeliveryStreams

        return DeliveryStreams(lake_of(ctx, SERVICE))

    return shared(ctx, "delivery_streams", make)


def _record(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise invalid(SERVICE, "a Record must be an object")
    data = record.get("Data")
    if data is not None and not isinstance(data, str | bytes):
        data = json.dumps(data, separators=(",", ":"))
    return {**record, "Data": data}


def put_record(params: Any, ctx: TaskContext) -> Any:
    p = params_of(params, SERVICE)
    name = required_str(p, "DeliveryStreamName", SERVICE)
    streams = _streams(ctx)
    try:
        return streams.put_record(name, _record(p.get("Record")))
    except LakeboxError as exc:
        if isinstance(exc, StatesError):
            raise
        raise service_error(SERVICE, exc) from exc


def put_record_batch(params: Any, ctx: TaskContext) -> Any:
    p = params_of(params, SERVICE)
    name = required_str(p, "DeliveryStreamName", SERVICE)
    records = p.get("Records")
    if not isinstance(records, list):
        raise invalid(SERVICE, "Records must be a list")
    streams = _streams(ctx)
    try:
        return streams.put_record_batch(name, [_record(r) for r in records])
    except LakeboxError as exc:
        if isinstance(exc, StatesError):
            raise
        raise service_error(SERVICE, exc) from exc


ACTIONS = {"putRecord": put_record, "putRecordBatch": put_record_batch}
for _action, _handler in ACTIONS.items():
    DEFAULT_REGISTRY.register(SDK + _action, _handler)
