"""Ingestion: Firehose-style delivery streams, DynamoDB-style table exports and
RDS / Aurora-style database snapshot exports, all writing into the lake's storage and
registering what they write in its catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakebox.util import lazy_exports

if TYPE_CHECKING:
    from lakebox.ingest.exports import (
        DynamoDBSource,
        ExportDescription,
        ExportPage,
        ExportSummary,
        IncrementalExport,
        JsonLinesSource,
        TableExports,
    )
    from lakebox.ingest.snapshots import SnapshotExports, describe_export_tasks, start_export_task
    from lakebox.ingest.streams import (
        BatchResult,
        BufferStatus,
        DeliveryReport,
        DeliveryStreams,
        DeliveryTicker,
        RecordResult,
        StreamConfig,
        StreamDescription,
        StreamPage,
        parse_config,
    )
    from lakebox.ingest.transforms import FLATTEN_JSON, register_transform, unregister_transform

__all__ = [
    "FLATTEN_JSON",
    "BatchResult",
    "BufferStatus",
    "DeliveryReport",
    "DeliveryStreams",
    "DeliveryTicker",
    "DynamoDBSource",
    "ExportDescription",
    "ExportPage",
    "ExportSummary",
    "IncrementalExport",
    "JsonLinesSource",
    "RecordResult",
    "SnapshotExports",
    "StreamConfig",
    "StreamDescription",
    "StreamPage",
    "TableExports",
    "describe_export_tasks",
    "parse_config",
    "register_transform",
    "start_export_task",
    "unregister_transform",
]

# Each name is imported when first used, so a light submodule (the model, the errors) can
# be imported without the services beside it.
__getattr__ = lazy_exports(
    __name__,
    {
        "DynamoDBSource": "lakebox.ingest.exports",
        "ExportDescription": "lakebox.ingest.exports",
        "ExportPage": "lakebox.ingest.exports",
        "ExportSummary": "lakebox.ingest.exports",
        "IncrementalExport": "lakebox.ingest.exports",
        "JsonLinesSource": "lakebox.ingest.exports",
        "TableExports": "lakebox.ingest.exports",
        "SnapshotExports": "lakebox.ingest.snapshots",
        "describe_export_tasks": "lakebox.ingest.snapshots",
        "start_export_task": "lakebox.ingest.snapshots",
        "BatchResult": "lakebox.ingest.streams",
        "BufferStatus": "lakebox.ingest.streams",
        "DeliveryReport": "lakebox.ingest.streams",
        "DeliveryStreams": "lakebox.ingest.streams",
        "DeliveryTicker": "lakebox.ingest.streams",
        "RecordResult": "lakebox.ingest.streams",
        "StreamConfig": "lakebox.ingest.streams",
        "StreamDescription": "lakebox.ingest.streams",
        "StreamPage": "lakebox.ingest.streams",
        "parse_config": "lakebox.ingest.streams",
        "FLATTEN_JSON": "lakebox.ingest.transforms",
        "register_transform": "lakebox.ingest.transforms",
        "unregister_transform": "lakebox.ingest.transforms",
    },
)
