"""Durability of delivery streams with real processes killed by SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from lakebox.ingest import DeliveryStreams
from lakebox.ingest.wal import WriteAheadLog
from lakebox.session import Lake

PUTTER = textwrap.dedent("""
    import sys, lakebox
    from lakebox.ingest import DeliveryStreams
    streams = DeliveryStreams(lakebox.connect(sys.argv[1]).lake)
    for i in range(100000):
        streams.put_record("s", b'{"n": %d}\\n' % i)
        print(i, flush=True)
""")

FLUSHER = textwrap.dedent("""
    import sys, lakebox
    from lakebox.ingest import DeliveryStreams
    streams = DeliveryStreams(lakebox.connect(sys.argv[1]).lake)
    streams.put("s", *[b'{"n": %d, "k": "%s"}\\n' % (i, b"ab"[i % 2:i % 2 + 1])
                       for i in range(int(sys.argv[2]))])
    print("acked", flush=True)
    streams.flush("s")
    print("flushed", flush=True)
""")

DYNAMIC = {
    "BucketARN": "arn:aws:s3:::lake",
    "Prefix": "d/k=!{partitionKeyFromQuery:k}/",
    "ErrorOutputPrefix": "err/",
    "DynamicPartitioningConfiguration": {"Enabled": True},
    "ProcessingConfiguration": {
        "Enabled": True,
        "Processors": [
            {
                "Type": "MetadataExtraction",
                "Parameters": [
                    {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{k: .k}"}
                ],
            }
        ],
    },
}


def delivered(lake: Lake, prefix: str) -> list[int]:
    out = []
    for f in lake.storage.list_files(prefix):
        out.extend(json.loads(x)["n"] for x in lake.storage.read_bytes(f.uri).splitlines())
    return sorted(out)


def test_acknowledged_puts_survive_sigkill(
    streams: DeliveryStreams, lake: Lake, lake_home: Path
) -> None:
    streams.create_delivery_stream("s", {"BucketARN": "arn:aws:s3:::lake", "Prefix": "k/"})
    acked = -1
    with subprocess.Popen(
        [sys.executable, "-c", PUTTER, str(lake_home)], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            acked = int(line)
            if acked >= 40:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    report = DeliveryStreams(lake).flush("s")
    got = delivered(lake, "s3://lake/k/")
    assert got[: acked + 1] == list(range(acked + 1))  # every acknowledged record
    assert got == list(range(len(got)))  # each once, no gaps
    assert report.records == len(got)


@pytest.mark.parametrize("failpoint", ["after-first-object", "before-commit"])
def test_delivery_interrupted_by_crash_is_redone_exactly_once(
    streams: DeliveryStreams, lake: Lake, lake_home: Path, failpoint: str
) -> None:
    streams.create_delivery_stream("s", DYNAMIC)
    env = {**os.environ, "LAKEBOX_INGEST_FAILPOINT": failpoint}
    proc = subprocess.run(
        [sys.executable, "-c", FLUSHER, str(lake_home), "50"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.split() == ["acked"]
    assert lake.storage.list_files("s3://lake/d/")  # the crashed delivery left objects
    report = DeliveryStreams(lake).flush("s")
    assert report.records == 50
    assert delivered(lake, "s3://lake/d/") == list(range(50))
    assert len(lake.storage.list_files("s3://lake/d/")) == 2


def test_nothing_is_delivered_twice_after_clean_restart(
    streams: DeliveryStreams, lake: Lake
) -> None:
    streams.create_delivery_stream("s", {"BucketARN": "arn:aws:s3:::lake", "Prefix": "c/"})
    streams.put("s", b'{"n": 0}\n', b'{"n": 1}\n')
    assert streams.flush("s").records == 2
    again = DeliveryStreams(lake)
    again.put("s", b'{"n": 2}\n')
    assert again.flush("s").records == 1
    assert DeliveryStreams(lake).flush("s").records == 0
    assert delivered(lake, "s3://lake/c/") == [0, 1, 2]


def test_torn_tail_is_cut_and_sequence_continues(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path)
    state = wal.load_state()
    assert list(wal.append(1, [b"a", b"b"], state)) == [0, 1]
    [seg] = list((tmp_path / "wal").iterdir())
    with open(seg, "ab") as fh:
        fh.write(b"\x00\x00\x00")  # a frame cut short by a crash
    fresh = WriteAheadLog(tmp_path)
    assert list(fresh.append(3, [b"c"], fresh.load_state())) == [2]
    assert [r.data for r in fresh.pending(fresh.load_state())] == [b"a", b"b", b"c"]


CONCURRENT = textwrap.dedent("""
    import sys, lakebox
    from lakebox.ingest import DeliveryStreams
    streams = DeliveryStreams(lakebox.connect(sys.argv[1]).lake)
    base = int(sys.argv[2])
    for i in range(0, 200, 20):
        streams.put("s", *[b'{"n": %d}\\n' % (base + i + j) for j in range(20)])
""")


def test_processes_putting_concurrently_lose_and_duplicate_nothing(
    streams: DeliveryStreams, lake: Lake, lake_home: Path
) -> None:
    streams.create_delivery_stream(
        "s",
        {
            "BucketARN": "arn:aws:s3:::lake",
            "Prefix": "m/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
        },
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT, str(lake_home), str(base)])
        for base in (0, 1000)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    DeliveryStreams(lake).flush("s")
    assert delivered(lake, "s3://lake/m/") == [*range(200), *range(1000, 1200)]


def test_a_put_is_one_frame_and_reads_back_as_columns(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path)
    state = wal.load_state()
    assert list(wal.append(10, [b"a", b"", b"ccc"], state)) == [0, 1, 2]
    assert list(wal.append(20, [b"dd"], state)) == [3]
    [seg] = list((tmp_path / "wal").iterdir())
    header, count, lengths = 24, 4, 4
    assert seg.stat().st_size == 2 * (header + count) + 4 * lengths + 6  # two frames
    state.delivered = 1  # as after a delivery of record 0
    cols = wal.pending_records(state)
    assert cols.seqs.tolist() == [1, 2, 3] and cols.arrivals.tolist() == [10, 10, 20]
    assert [cols.record(i).data for i in range(len(cols))] == [b"", b"ccc", b"dd"]
    assert [(r.seq, r.arrival_ms, r.data) for r in wal.pending(state)] == [
        (1, 10, b""),
        (2, 10, b"ccc"),
        (3, 20, b"dd"),
    ]
    assert wal.pending_data_bytes(wal.load_state()) == 6
    assert wal.oldest_arrival_ms(state) == 10
    state.delivered = 3
    assert wal.oldest_arrival_ms(state) == 20


def test_frames_of_one_record_from_older_versions_are_still_read(tmp_path: Path) -> None:
    (tmp_path / "wal").mkdir()
    seg = tmp_path / "wal" / f"{0:020d}.log"
    seg.write_bytes(
        b"".join(
            struct.pack(">QQII", seq, 5, len(data), zlib.crc32(data)) + data
            for seq, data in [(0, b"old0"), (1, b"old1")]
        )
    )
    wal = WriteAheadLog(tmp_path)
    state = wal.load_state()
    assert list(wal.append(6, [b"new"], state)) == [2]
    cols = wal.pending_records(state)
    assert [cols.record(i).data for i in range(3)] == [b"old0", b"old1", b"new"]
    assert cols.arrivals.tolist() == [5, 5, 6]
    assert wal.pending_data_bytes(state) == 11


def test_a_torn_batch_frame_is_cut_whole(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path)
    wal.append(1, [b"kept"], wal.load_state())
    [seg] = list((tmp_path / "wal").iterdir())
    size = seg.stat().st_size
    wal.append(2, [b"x" * 100, b"y" * 100], wal.load_state())
    with open(seg, "r+b") as fh:
        fh.truncate(size + 150)  # the crash came mid-write: the put was never acknowledged
    fresh = WriteAheadLog(tmp_path)
    assert list(fresh.append(3, [b"next"], fresh.load_state())) == [1]
    assert [r.data for r in fresh.pending(fresh.load_state())] == [b"kept", b"next"]


def test_a_segment_whose_records_are_all_delivered_reads_as_nothing_pending(
    tmp_path: Path,
) -> None:
    # a crash after the state commit and before truncate_delivered leaves such a segment
    wal = WriteAheadLog(tmp_path)
    state = wal.load_state()
    wal.append(1, [b"a", b"b"], state)
    state.delivered = 2
    wal.save_state(state)
    fresh = WriteAheadLog(tmp_path)
    cols = fresh.pending_records(fresh.load_state())
    assert len(cols) == 0 and cols.data == b""
    assert fresh.pending(fresh.load_state()) == []
    assert list(fresh.append(3, [b"c"], fresh.load_state())) == [2]
    cols = fresh.pending_records(fresh.load_state())
    assert cols.seqs.tolist() == [2] and cols.record(0).data == b"c"
