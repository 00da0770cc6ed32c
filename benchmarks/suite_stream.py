"""Issue 14's stream cells: records per second into Parquet through a Firehose-style
delivery stream, against the same JSON records written to Parquet by bare DuckDB and by
bare pyarrow.

lakebox: ``put_record_batch`` calls of 500 records read from the file as they are sent
(each call fsync'd to the write-ahead log before it returns) into a stream that converts to Parquet against a catalog table and
partitions by a jq-extracted key (``kind``), then the final ``flush`` (delivery,
conversion, Parquet writing, partition registration). Baselines: the same records as one
newline-delimited JSON file, (a) DuckDB ``COPY (SELECT * FROM read_json(...)) TO ...
(FORMAT parquet)``, (b) ``pyarrow.json.read_json`` + ``pyarrow.parquet.write_table``.
Every side runs in a fresh process (``ratios.child``); the answer compared is the number
of rows written. The timed part of the lakebox side includes its first-use costs (the
imports of pyarrow.json, .compute and .parquet on the first delivery), as a producer's
first minute has them. Until issue 14 one of them was pyarrow importing pandas (~0.2 s
of CPU, more when its files are not in the page cache: likely why the first of the two
lakebox runs measured 145,000 records/s and the second 203,000) on the first delivery's
first conversion of Python objects; no put or delivery imports pandas now
(tests/ingest/test_no_pandas.py). The rest of the lakebox side is mostly one fsync per
put (durability: a put is on disk before it returns), which a busy disk makes slow.

The cells are throughputs (``unit="records/s"``: ``lakebox_s`` / ``baseline_s`` hold
records/s) and the issue's goal is absolute, at least 150,000 records/s: each cell's
``goal`` is the baseline's records/s over 150,000, so the cell is met exactly when lakebox
reaches 150,000 records/s in that run.

    python -m benchmarks.suite_stream            # 200,000 records
    python -m benchmarks.suite_stream --quick    # 20,000
    python -m benchmarks.suite_stream --lake-dir /dev/shm   # without the disk's fsyncs
    python -m benchmarks.suite_stream --breakdown           # fsyncs, CPU of puts, delivery
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.ratios import Measurement, Ratio, child

GOAL_RECORDS_PER_S = 150_000
BATCH = 500

#: the catalog table the stream converts to (its data columns and partition key)
COLUMNS = [
    ("id", "bigint"),
    ("user", "string"),
    ("amount", "decimal(12,2)"),
    ("ts", "timestamp"),
    ("tags", "array<string>"),
]
PARTITION = ("kind", "string")


def make_records(count: int) -> list[bytes]:
    """``count`` newline-terminated JSON records: numbers, a decimal as text, an ISO
    timestamp with a zone, an array, and the partition key ``kind``."""
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


def parquet_stream(bucket: str) -> dict[str, Any]:
    """The benchmark stream: Parquet conversion against ``default.events``, dynamically
    partitioned by ``kind`` (jq metadata extraction)."""
    return {
        "BucketARN": f"arn:aws:s3:::{bucket}",
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


def create_events_table(lake: Any, bucket: str) -> None:
    from lakebox.catalog.model import Column, Table

    lake.catalog.create_table(
        Table(
            "default",
            "events",
            [Column(n, t) for n, t in COLUMNS],
            [Column(*PARTITION)],
            location=f"s3://{bucket}/events/",
            serde_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        )
    )


LAKEBOX = """
import itertools, lakebox
from benchmarks.suite_stream import BATCH, create_events_table, parquet_stream
from lakebox.ingest import DeliveryStreams
lake = lakebox.connect({home!r}).lake
create_events_table(lake, "bench")
streams = DeliveryStreams(lake)
streams.create_delivery_stream("to-parquet", parquet_stream("bench"))
# --- timed
# a producer reads its records as it sends them, as the baselines read the file
with open({records!r}, "rb") as source:
    while batch := list(itertools.islice(source, BATCH)):
        result = streams.put_record_batch("to-parquet", batch)
        assert result.failed_put_count == 0
report = streams.flush("to-parquet")
answer = report.delivered
"""

#: the lakebox side again, telling where its seconds go (diagnosis, not a cell)
BREAKDOWN = """
import itertools, os, time, lakebox
from benchmarks.suite_stream import BATCH, create_events_table, parquet_stream
from lakebox.ingest import DeliveryStreams
lake = lakebox.connect({home!r}).lake
create_events_table(lake, "bench")
streams = DeliveryStreams(lake)
streams.create_delivery_stream("to-parquet", parquet_stream("bench"))
fsyncs = [0, 0.0]
real_fsync = os.fsync
def timed_fsync(fd):
    start = time.perf_counter()
    real_fsync(fd)
    fsyncs[0] += 1
    fsyncs[1] += time.perf_counter() - start
os.fsync = timed_fsync
# --- timed
wall, cpu = time.perf_counter(), time.process_time()
with open({records!r}, "rb") as source:
    while batch := list(itertools.islice(source, BATCH)):
        streams.put_record_batch("to-parquet", batch)
puts_wall, puts_cpu = time.perf_counter() - wall, time.process_time() - cpu
wall, cpu = time.perf_counter(), time.process_time()
streams.flush("to-parquet")
answer = dict(
    puts_s=round(puts_wall, 3), puts_cpu_s=round(puts_cpu, 3),
    delivery_s=round(time.perf_counter() - wall, 3),
    delivery_cpu_s=round(time.process_time() - cpu, 3),
    fsyncs=fsyncs[0], fsync_s=round(fsyncs[1], 3),
)
"""

DUCKDB = """
import duckdb
con = duckdb.connect()
# --- timed
con.execute(
    "COPY (SELECT * FROM read_json({records!r}, format='newline_delimited')) "
    "TO {out!r} (FORMAT parquet)"
)
answer = con.execute("SELECT count(*) FROM read_parquet({out!r})").fetchone()[0]
"""

PYARROW = """
import pyarrow.json as pj, pyarrow.parquet as pq
# --- timed
table = pj.read_json({records!r})
pq.write_table(table, {out!r})
answer = pq.read_metadata({out!r}).num_rows
"""


def _cell(name: str, baseline: str, count: int, lake: Measurement, base: Measurement) -> Ratio:
    if lake.answer != base.answer:
        raise RuntimeError(f"stream/{name}: lakebox wrote {lake.answer}, {baseline} {base.answer}")
    lake_rps, base_rps = count / lake.seconds, count / base.seconds
    return Ratio(
        "stream",
        name,
        lake_rps,
        base_rps,
        baseline=baseline,
        lakebox_rss_mb=lake.rss_mb,
        baseline_rss_mb=base.rss_mb,
        goal=base_rps / GOAL_RECORDS_PER_S,
        unit="records/s",
        note=(
            f"lakebox {lake_rps:,.0f} records/s ({lake.seconds:.2f} s), {baseline} "
            f"{base_rps:,.0f} records/s ({base.seconds:.2f} s); goal >= "
            f"{GOAL_RECORDS_PER_S:,} records/s"
        ),
    )


def _lakebox(folder: Path, records: Path, code: str = LAKEBOX) -> Measurement:
    home = Path(tempfile.mkdtemp(prefix="stream-lake-", dir=folder))
    # the child imports this module, wherever the suite is run from
    paths = [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]
    try:
        return child(
            code.format(home=str(home), records=str(records)),
            env={"PYTHONPATH": os.pathsep.join(p for p in paths if p)},
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _records(work: Path, count: int) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    records = work / f"stream-records-{count}.ndjson"
    if not records.exists():
        records.write_bytes(b"".join(make_records(count)))
    return records


def breakdown(work: Path, quick: bool, lake_dir: Path | None = None) -> dict[str, Any]:
    """Where the lakebox side's seconds go: puts and delivery, wall and CPU, and the
    fsyncs (count, seconds)."""
    count = 20_000 if quick else 200_000
    found = _lakebox(lake_dir or work, _records(work, count), BREAKDOWN)
    return {"records": count, **ast.literal_eval(found.answer)}


def cells(work: Path, quick: bool, lake_dir: Path | None = None) -> list[Ratio]:
    """The two cells; ``lake_dir``: where lakebox's lake lives (default ``work``; a tmpfs
    such as /dev/shm shows the cost without the disk's fsync latency, for diagnosis)."""
    count = 20_000 if quick else 200_000
    records = _records(work, count)
    out = work / "stream-baseline.parquet"
    name = f"put_record_batch {count:,} records -> Parquet"
    results = []
    for baseline, code in (("DuckDB", DUCKDB), ("pyarrow", PYARROW)):
        base = child(code.format(records=str(records), out=str(out)))
        out.unlink(missing_ok=True)
        lake = _lakebox(lake_dir or work, records)
        results.append(_cell(name, baseline, count, lake, base))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 records")
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / "data" / "stream")
    parser.add_argument(
        "--lake-dir", type=Path, default=None, help="where lakebox's lake lives (diagnosis)"
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="where lakebox's seconds go, not the cells"
    )
    args = parser.parse_args()
    if args.breakdown:
        print(json.dumps(breakdown(args.work, args.quick, args.lake_dir)))
        return
    for cell in cells(args.work, args.quick, args.lake_dir):
        print(json.dumps(cell.to_json()))


if __name__ == "__main__":
    main()
