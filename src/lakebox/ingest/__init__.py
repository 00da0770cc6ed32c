"""Ingestion: Firehose-style delivery streams, DynamoDB-style table exports and
RDS / Aurora-style database snapshot exports, all writing into the lake's storage and
registering what they write in its catalog."""

from lakebox.ingest.exports import (
    DynamoDBSource,
    JsonLinesSource,
    TableExports,
    describe_export,
    export_table_to_point_in_time,
    list_exports,
)
from lakebox.ingest.snapshots import SnapshotExports, describe_export_tasks, start_export_task
from lakebox.ingest.streams import (
    BufferStatus,
    DeliveryReport,
    DeliveryStreams,
    DeliveryTicker,
    StreamConfig,
    parse_config,
)
from lakebox.ingest.transforms import FLATTEN_JSON, register_transform, unregister_transform

__all__ = [
    "FLATTEN_JSON",
    "BufferStatus",
    "DeliveryReport",
    "DeliveryStreams",
    "DeliveryTicker",
    "DynamoDBSource",
    "JsonLinesSource",
    "SnapshotExports",
    "StreamConfig",
    "TableExports",
    "describe_export",
    "describe_export_tasks",
    "export_table_to_point_in_time",
    "list_exports",
    "parse_config",
    "register_transform",
    "start_export_task",
    "unregister_transform",
]
