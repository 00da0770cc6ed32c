"""Firehose's API over lakebox's delivery streams (``lakebox.ingest.streams``): the data
plane (PutRecord, PutRecordBatch) and the control plane (CreateDeliveryStream,
DescribeDeliveryStream, DeleteDeliveryStream, ListDeliveryStreams, UpdateDestination).

``Record.Data`` is the record as bytes (or text). Errors are
lakebox's Firehose codes (``ResourceNotFoundException``, ``InvalidArgumentException``,
``ResourceInUseException``, ``ValidationException``).
"""

from __future__ import annotations

import datetime as dt
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
from lakebox.api.base import arn as _arn
from lakebox.api.base import text as _text
from lakebox.errors import LakeboxError
from lakebox.ingest.streams import (
    DESTINATION_ID,
    BatchResult,
    StreamDescription,
    StreamPage,
)

if TYPE_CHECKING:
    from lakebox.ingest.streams import DeliveryStreams

INVALID = "InvalidArgumentException"


class FirehoseContext(ApiContext, Protocol):
    @property
    def streams(self) -> DeliveryStreams: ...


def error_code(exc: LakeboxError) -> str:
    return exc.code


def _data(record: Any) -> Any:
    """A Record's ``Data``; the stream checks it (a missing one is a ValidationException
    naming the member)."""
    if not isinstance(record, dict):
        raise AwsError(INVALID, "a Record must be an object")
    return record.get("Data")


def description_response(desc: StreamDescription) -> Response:
    """DescribeDeliveryStream's answer (lakebox adds the buffer's state as
    ``LakeboxBufferedRecords`` and ``LakeboxDeliveryDueAt``)."""
    return {
        "DeliveryStreamDescription": {
            "DeliveryStreamName": desc.name,
            "DeliveryStreamARN": desc.arn,
            "DeliveryStreamStatus": desc.status,
            "DeliveryStreamType": desc.stream_type,
            "VersionId": desc.version_id,
            "CreateTimestamp": dt.datetime.fromtimestamp(desc.created, dt.UTC).isoformat(),
            "Destinations": [
                {
                    "DestinationId": DESTINATION_ID,
                    "ExtendedS3DestinationDescription": desc.destination,
                }
            ],
            "HasMoreDestinations": False,
            "LakeboxBufferedRecords": desc.buffered_records,
            "LakeboxDeliveryDueAt": desc.delivery_due_at.isoformat()
            if desc.delivery_due_at
            else None,
        }
    }


def list_response(page: StreamPage) -> Response:
    return {"DeliveryStreamNames": page.names, "HasMoreDeliveryStreams": page.has_more}


def batch_response(result: BatchResult) -> Response:
    """PutRecordBatch's answer: ``RecordId`` or ``ErrorCode`` / ``ErrorMessage`` per record."""
    entries: list[dict[str, Any]] = []
    for r in result.records:
        if r.error_code is not None:
            entries.append({"ErrorCode": r.error_code, "ErrorMessage": r.error_message or ""})
        else:
            entries.append({"RecordId": r.record_id})
    return {
        "FailedPutCount": result.failed_put_count,
        "Encrypted": False,
        "RequestResponses": entries,
    }


def put_record(request: Request, context: FirehoseContext) -> Response:
    name = required_str(request, "DeliveryStreamName", INVALID)
    record_id = context.streams.put_record(
        name, _data(request.get("Record")), principal=context.principal
    )
    return {"RecordId": record_id, "Encrypted": False}


def put_record_batch(request: Request, context: FirehoseContext) -> Response:
    name = required_str(request, "DeliveryStreamName", INVALID)
    records = request.get("Records")
    if not isinstance(records, list):
        raise AwsError(INVALID, "Records must be a list")
    return batch_response(
        context.streams.put_record_batch(
            name, [_data(r) for r in records], principal=context.principal
        )
    )


def create_delivery_stream(request: Request, context: FirehoseContext) -> Response:
    name = required_str(request, "DeliveryStreamName", INVALID)
    destination = request.get("ExtendedS3DestinationConfiguration") or request.get(
        "S3DestinationConfiguration"
    )
    if destination is not None and not isinstance(destination, dict):
        raise AwsError(INVALID, "ExtendedS3DestinationConfiguration must be an object")
    arn = context.streams.create_delivery_stream(
        name,
        destination,
        stream_type=request.get("DeliveryStreamType") or "DirectPut",
        principal=context.principal,
    )
    return {"DeliveryStreamARN": arn}


def describe_delivery_stream(request: Request, context: FirehoseContext) -> Response:
    name = required_str(request, "DeliveryStreamName", INVALID)
    return description_response(
        context.streams.describe_delivery_stream(name, principal=context.principal)
    )


def delete_delivery_stream(request: Request, context: FirehoseContext) -> Response:
    name = required_str(request, "DeliveryStreamName", INVALID)
    context.streams.delete_delivery_stream(
        name,
        allow_force_delete=bool(request.get("AllowForceDelete", False)),
        principal=context.principal,
    )
    return {}


def list_delivery_streams(request: Request, context: FirehoseContext) -> Response:
    page = context.streams.list_delivery_streams(
        request.get("Limit", 10),
        request.get("ExclusiveStartDeliveryStreamName"),
        principal=context.principal,
    )
    return list_response(page)


def update_destination(request: Request, context: FirehoseContext) -> Response:
    name = required_str(request, "DeliveryStreamName", INVALID)
    version = required_str(request, "CurrentDeliveryStreamVersionId", INVALID)
    update = request.get("ExtendedS3DestinationUpdate")
    if update is not None and not isinstance(update, dict):
        raise AwsError(INVALID, "ExtendedS3DestinationUpdate must be an object")
    context.streams.update_destination(
        name,
        version,
        update,
        destination_id=request.get("DestinationId") or DESTINATION_ID,
        principal=context.principal,
    )
    return {}


def _on_stream(request: Request, context: Any) -> list[str]:
    name = _text(request, "DeliveryStreamName") or "*"
    return [_arn(context, "firehose", f"deliverystream/{name}")]


API = ServiceApi(
    "Firehose",
    operations(
        ("PutRecord", put_record, _on_stream),
        ("PutRecordBatch", put_record_batch, _on_stream),
        ("CreateDeliveryStream", create_delivery_stream, _on_stream),
        ("DescribeDeliveryStream", describe_delivery_stream, _on_stream),
        ("DeleteDeliveryStream", delete_delivery_stream, _on_stream),
        ("ListDeliveryStreams", list_delivery_streams),
        ("UpdateDestination", update_destination, _on_stream),
    ),
    error_code,
    INVALID,
    prefix="firehose",
)
