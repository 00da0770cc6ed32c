"""Firehose's API over lakebox's delivery streams (``lakebox.ingest.streams``): the data
plane (PutRecord, PutRecordBatch) and the control plane (CreateDeliveryStream,
DescribeDeliveryStream, DeleteDeliveryStream, ListDeliveryStreams, UpdateDestination).

``Record.Data`` is the record as text or bytes; a JSON object or array (as a state machine
gives it) is serialised to JSON, as the SDK integration does with a JSON blob. Errors are
lakebox's Firehose codes (``ResourceNotFoundException``, ``InvalidArgumentException``,
``ResourceInUseException``, ``ValidationException``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from lakebox.api.base import (
    ApiContext,
    AwsError,
    Request,
    Response,
    ServiceApi,
    operations,
    required_str,
)
from lakebox.errors import LakeboxError

if TYPE_CHECKING:
    from lakebox.ingest.streams import DeliveryStreams

INVALID = "InvalidArgumentException"


class FirehoseContext(ApiContext, Protocol):
    @property
    def streams(self) -> DeliveryStreams: ...


def error_code(exc: LakeboxError) -> str:
    return exc.code


def _record(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise AwsError(INVALID, "a Record must be an object")
    data = record.get("Data")
    if data is not None and not isinstance(data, str | bytes):
        data = json.dumps(data, separators=(",", ":"))
    return {**record, "Data": data}


def put_record(request: Request, context: FirehoseContext) -> Response:
    name = required_str(request, "DeliveryStreamName", INVALID)
    return context.streams.put_record(name, _record(request.get("Record")))


def put_record_batch(request: Request, context: FirehoseContext) -> Response:
    name = required_str(request, "DeliveryStreamName", INVALID)
    records = request.get("Records")
    if not isinstance(records, list):
        raise AwsError(INVALID, "Records must be a list")
    return context.streams.put_record_batch(name, [_record(r) for r in records])


def create_delivery_stream(request: Request, context: FirehoseContext) -> Response:
    required_str(request, "DeliveryStreamName", INVALID)
    return context.streams.create_delivery_stream(**request)


def describe_delivery_stream(request: Request, context: FirehoseContext) -> Response:
    required_str(request, "DeliveryStreamName", INVALID)
    return context.streams.describe_delivery_stream(**request)


def delete_delivery_stream(request: Request, context: FirehoseContext) -> Response:
    required_str(request, "DeliveryStreamName", INVALID)
    return context.streams.delete_delivery_stream(**request)


def list_delivery_streams(request: Request, context: FirehoseContext) -> Response:
    return context.streams.list_delivery_streams(**request)


def update_destination(request: Request, context: FirehoseContext) -> Response:
    required_str(request, "DeliveryStreamName", INVALID)
    return context.streams.update_destination(**request)


API = ServiceApi(
    "Firehose",
    operations(
        ("PutRecord", put_record),
        ("PutRecordBatch", put_record_batch),
        ("CreateDeliveryStream", create_delivery_stream),
        ("DescribeDeliveryStream", describe_delivery_stream),
        ("DeleteDeliveryStream", delete_delivery_stream),
        ("ListDeliveryStreams", list_delivery_streams),
        ("UpdateDestination", update_destination),
    ),
    error_code,
    INVALID,
)
