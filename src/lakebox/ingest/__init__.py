"""Ingestion: Firehose-style delivery streams, DynamoDB-style table exports and
RDS / Aurora-style database snapshot exports, all writing into the lake's storage and
registering what they write in its catalog."""

from lakebox.ingest.streams import DeliveryReport, DeliveryStreams, StreamConfig, parse_config
from lakebox.ingest.transforms import FLATTEN_JSON, register_transform, unregister_transform

__all__ = [
    "FLATTEN_JSON",
    "DeliveryReport",
    "DeliveryStreams",
    "StreamConfig",
    "parse_config",
    "register_transform",
    "unregister_transform",
]
