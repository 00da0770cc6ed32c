"""Delivery-stream benchmark: records per second through a Firehose-style stream into
Parquet (format conversion against a catalog table), and into raw JSON for comparison.

Records are put in PutRecordBatch calls of 500 (each one fsync'd to the write-ahead log)
and delivered when the buffer fills or at the end; the time includes puts, conversion,
Parquet writing and partition registration. A fresh lake is made in a temporary folder and
removed afterwards. CI never runs this file.

    python benchmarks/stream_bench.py                 # 200,000 records
    python benchmarks/stream_bench.py --records 20000
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import lakebox
from lakebox.catalog.model import Column, Table
from lakebox.ingest import DeliveryStreams

BATCH = 500


def make_records(count: int) -> list[bytes]:
    return [
        json.dumps(
            {
                "id": i,
                "user": f"user{i % 1000}",
                "amount": f"{i * 1.25:.2f}",
                "kind": ("click", "view", "buy")[i % 3],
                "ts": f"2024-01-{1 + i % 28:02d}T12:{i % 60:02d}:00Z",
                "tags": ["a", "b"],
            }
        ).encode()
        + b"\n"
        for i in range(count)
    ]


def run(streams: DeliveryStreams, name: str, records: list[bytes]) -> tuple[float, int]:
    start = time.perf_counter()
    for i in range(0, len(records), BATCH):
        streams.put_record_batch(name, records[i : i + BATCH])
    report = streams.flush(name)
    elapsed = time.perf_counter() - start
    return elapsed, report.failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true", help="keep the lake folder")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lakebox-stream-bench-"))
    try:
        lake = lakebox.connect(home).lake
        lake.catalog.create_table(
            Table(
                "default",
                "events",
                [
                    Column("id", "bigint"),
                    Column("user", "string"),
                    Column("amount", "decimal(12,2)"),
                    Column("ts", "timestamp"),
                    Column("tags", "array<string>"),
                ],
                [Column("kind", "string")],
                location="s3://bench/events/",
                serde_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            )
        )
        streams = DeliveryStreams(lake)
        parquet: dict[str, Any] = {
            "BucketARN": "arn:aws:s3:::bench",
            "Prefix": "events/kind=!{partitionKeyFromQuery:kind}/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 900},
            "DynamicPartitioningConfiguration": {"Enabled": True},
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "MetadataExtraction",
                        "Parameters": [
                            {
                                "ParameterName": "MetadataExtractionQuery",
                                "ParameterValue": "{kind: .kind}",
                            }
                        ],
                    }
                ],
            },
            "DataFormatConversionConfiguration": {
                "Enabled": True,
                "SchemaConfiguration": {"DatabaseName": "default", "TableName": "events"},
                "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}},
            },
        }
        raw = {
            "BucketARN": "arn:aws:s3:::bench",
            "Prefix": "raw/",
            "BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 900},
        }
        streams.create_delivery_stream("to-parquet", parquet)
        streams.create_delivery_stream("to-json", raw)
        records = make_records(args.records)
        for name in ("to-parquet", "to-json"):
            elapsed, failed = run(streams, name, records)
            print(
                f"{name:11s} {args.records:>9,d} records  {elapsed:7.2f} s  "
                f"{args.records / elapsed:>10,.0f} records/s  failed={failed}"
            )
        count = lakebox.connect(home).sql("SELECT count(*) FROM events").fetchall()[0][0]
        print(f"rows queryable in events: {count:,d}")
        lake.close()
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
