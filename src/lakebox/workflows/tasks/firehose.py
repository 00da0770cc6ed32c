"""``aws-sdk:firehose:putRecord`` / ``putRecordBatch``, dispatched through the Firehose
operation table of the API layer (``lakebox.api.firehose``) to lakebox's delivery streams.
``Record.Data`` given in a definition as a JSON object or array is serialised to JSON first,
as the SDK integration does with a JSON blob. Errors are ``Firehose.<ErrorCode>``
(``Firehose.ResourceNotFoundException``, ``Firehose.InvalidArgumentException``)."""

from __future__ import annotations

import json
from typing import Any

from lakebox.workflows.tasks.aws import call_api, lake_of
from lakebox.workflows.tasks.registry import DEFAULT_REGISTRY, TaskContext

SDK = "arn:aws:states:::aws-sdk:firehose:"
PREFIX = "Firehose"


def _json_data(record: Any) -> Any:
    if not isinstance(record, dict):
        return record
    data = record.get("Data")
    if data is not None and not isinstance(data, str | bytes):
        return {**record, "Data": json.dumps(data, separators=(",", ":"))}
    return record


def put_record(params: Any, ctx: TaskContext) -> Any:
    lake_of(ctx, PREFIX)
    if isinstance(params, dict) and "Record" in params:
        params = {**params, "Record": _json_data(params["Record"])}
    return call_api(ctx, "firehose", "PutRecord", params, prefix=PREFIX)


def put_record_batch(params: Any, ctx: TaskContext) -> Any:
    lake_of(ctx, PREFIX)
    if isinstance(params, dict) and isinstance(params.get("Records"), list):
        params = {**params, "Records": [_json_data(r) for r in params["Records"]]}
    return call_api(ctx, "firehose", "PutRecordBatch", params, prefix=PREFIX)


DEFAULT_REGISTRY.register(SDK + "putRecord", put_record)
DEFAULT_REGISTRY.register(SDK + "putRecordBatch", put_record_batch)
