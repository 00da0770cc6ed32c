"""Ingestion: Firehose-style delivery streams, DynamoDB-style table exports and
RDS / Aurora-style database snapshot exports, all writing into the lake's storage and
registering what they write in its catalog."""

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
