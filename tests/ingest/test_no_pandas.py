"""A delivery stream's puts and first delivery do not import pandas: pyarrow imports it,
when it is installed, the first time it converts Python objects (``pa.scalar``,
``pa.array`` of a list, ``Array.to_numpy``), and that took 0.3-0.5 s of the first
delivery of a Firehose-style stream into Parquet (issue 14: the stream cell measured
145,000 records/s in one run and 203,000 in the next). The test environment has pandas
(PyAthena and awswrangler need it), so this can fail. A subprocess, because this test
process has imported pandas already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from lakebox.ingest.convert import binary_scalar, null_scalar

#: a Parquet stream partitioned by a jq key, with a timestamp and a list column: the
#: vectorised conversion (``convert._finish``) and the grouping by key (``_group_rows``)
SCRIPT = """
import json, sys
import pyarrow.parquet as pq
import lakebox
from lakebox.catalog.model import Column, Table
from lakebox.ingest import DeliveryStreams

lake = lakebox.connect(sys.argv[1]).lake
lake.catalog.create_table(Table(
    "default", "events",
    [Column("id", "bigint"), Column("ts", "timestamp"), Column("tags", "array<string>")],
    [Column("kind", "string")],
    location="s3://bench/events/",
    serde_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
))
streams = DeliveryStreams(lake)
streams.create_delivery_stream("s", {
    "BucketARN": "arn:aws:s3:::bench",
    "Prefix": "events/kind=!{partitionKeyFromQuery:kind}/",
    "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
    "DynamicPartitioningConfiguration": {"Enabled": True},
    "ProcessingConfiguration": {"Enabled": True, "Processors": [{
        "Type": "MetadataExtraction",
        "Parameters": [{"ParameterName": "MetadataExtractionQuery",
                        "ParameterValue": "{kind: .kind}"}],
    }]},
    "DataFormatConversionConfiguration": {
        "Enabled": True,
        "SchemaConfiguration": {"DatabaseName": "default", "TableName": "events"},
        "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}},
    },
})
records = [
    json.dumps({"id": i, "kind": ("click", "view", "buy")[i % 3],
                "ts": "2024-01-02T03:04:05" + ("Z" if i % 2 else ""), "tags": ["a"]}).encode()
    for i in range(1000)
]
for start in range(0, len(records), 500):
    assert streams.put_record_batch("s", records[start:start + 500]).failed_put_count == 0
after_puts = "pandas" in sys.modules
delivered = streams.flush("s").delivered
after_delivery = "pandas" in sys.modules
rows = {}
for path in sorted(lake.storage.local_path("s3://bench/events/").rglob("*")):
    if not path.is_file():
        continue
    table = pq.read_table(path)
    rows[path.parent.name] = [table.num_rows, str(table.schema.field("ts").type),
                              table.column("ts")[0].value]
print(json.dumps({"puts": after_puts, "delivery": after_delivery,
                  "delivered": delivered, "rows": rows}))
"""


def test_a_stream_put_and_first_delivery_do_not_import_pandas(tmp_path: Path) -> None:
    pytest.importorskip("pandas")  # the point is moot without it
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "lake")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["delivered"] == 1000
    # 2024-01-02T03:04:05 (zoned or not) in microseconds since the epoch
    assert sorted(got["rows"].items()) == [
        ("kind=buy", [333, "timestamp[us]", 1704164645000000]),
        ("kind=click", [334, "timestamp[us]", 1704164645000000]),
        ("kind=view", [333, "timestamp[us]", 1704164645000000]),
    ]
    assert (got["puts"], got["delivery"]) == (False, False)


def test_scalars_built_from_buffers_equal_converted_ones() -> None:
    big = pa.large_binary()
    for value in (b"", b"\n", b"\x00\xff|"):
        assert binary_scalar(value, big).equals(pa.scalar(value, big))
    for typ in (pa.string(), pa.large_binary(), pa.int64()):
        made = null_scalar(typ)
        assert made.equals(pa.scalar(None, typ)) and made.type == typ and not made.is_valid
