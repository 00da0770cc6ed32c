"""Delivery-stream benchmark: records per second through a Firehose-style stream into
Parquet (format conversion against a catalog table), and into raw JSON for comparison.

Records are put in PutRecordBatch calls of 500 (each one fsync'd to the write-ahead log)
and delivered when the buffer fills or at the end; the time includes puts, conversion,
Parquet writing and partition registration. A fresh lake is made in a temporary folder and
removed afterwards. CI never runs this file.

    python benchmarks/stream_bench.py                 # 200,000 records
    python benchmarks/stream_bench.py --records 20000

The records and the Parquet stream are those of ``benchmarks/suite_stream.py``, which
measures the same work side by side with DuckDB and pyarrow.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

import lakebox
from benchmarks.suite_stream import BATCH, create_events_table, make_records, parquet_stream
from lakebox.ingest import DeliveryStreams


def run(streams: DeliveryStreams, name: str, records: list[bytes]) -> tuple[float, int]:
    start = time.perf_counter()
    for i in range(0, len(records), BATCH):
        streams.put_record_batch(name, records[i : i + BATCH])
    report = streams.flush(name)
    elapsed = time.perf_counter() - start
    return elapsed, report.failed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true", help="keep the lake folder")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lakebox-stream-bench-"))
    try:
        lake = lakebox.connect(home).lake
        create_events_table(lake, "bench")
        streams = DeliveryStreams(lake)
        raw = {
            "BucketARN": "arn:aws:s3:::bench",
            "Prefix": "raw/",
            "BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 900},
        }
        streams.create_delivery_stream("to-parquet", parquet_stream("bench"))
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
