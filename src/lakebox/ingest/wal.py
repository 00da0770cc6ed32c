"""The write-ahead log of a delivery stream: a put is acknowledged only once its records
are fsync'd here, so an acknowledged record survives a crash of the process.

Segments are files ``<first-seq>.log`` of frames ``seq u64 | arrival_ms u64 | len u32 |
crc32 u32 | body``. A put writes one frame for its whole batch (one write, one fsync):
the top bit of ``seq`` marks a batch frame, whose body is ``count u32 | count x length
u32 | the records' bytes``, numbered ``seq .. seq + count - 1``; without the bit the body
is one record (the frames of older lakebox versions, still read). The CRC covers the
body, so a torn frame at the tail (a crash mid-write, never acknowledged) fails it and is
cut off when the log is opened. Delivery progress lives in ``state.json``, replaced
atomically, with the intent of an in-flight delivery so a crash can be undone.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakebox.metadata.files import MetadataFileError, read_metadata_json

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

_HEADER = struct.Struct(">QQII")
_COUNT = struct.Struct(">I")
_BATCH = 1 << 63


def _lengths(count: int) -> struct.Struct:
    return struct.Struct(f">{count}I")


@dataclass(frozen=True)
class LogRecord:
    seq: int
    arrival_ms: int
    data: bytes


@dataclass(frozen=True)
class _Frame:
    """One frame: its records are numbered ``seq ..`` and share ``arrival_ms``."""

    seq: int
    arrival_ms: int
    lengths: memoryview  # big-endian u32 per record
    data: memoryview  # the records' bytes, back to back
    batch: bool
    at: int  # where ``data`` starts in the segment

    @property
    def count(self) -> int:
        return len(self.lengths) // 4

    @property
    def last(self) -> int:
        return self.seq + self.count - 1

    @property
    def overhead(self) -> int:
        """The frame's bytes that are not record data."""
        if self.batch:
            return _HEADER.size + _COUNT.size + len(self.lengths)
        return _HEADER.size


@dataclass(frozen=True)
class PendingRecords:
    """Records as columns: record ``i`` is ``data[offsets[i]:offsets[i + 1]]``, numbered
    ``seqs[i]``, arrived at ``arrivals[i]`` (ms). Built without a Python object per record."""

    seqs: np.ndarray
    arrivals: np.ndarray
    offsets: np.ndarray
    data: bytes | bytearray

    def __len__(self) -> int:
        return len(self.seqs)

    def record(self, i: int) -> LogRecord:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        return LogRecord(int(self.seqs[i]), int(self.arrivals[i]), bytes(self.data[start:end]))

    def take(self, indices: np.ndarray) -> PendingRecords:
        """The records at ``indices`` (int64), in that order, as their own columns."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        indices = np.ascontiguousarray(indices, dtype=np.int64)
        if len(indices) == len(self) and bool((np.diff(indices) > 0).all()):
            return self  # every record, in order
        if not len(indices):
            return PendingRecords(indices, indices, np.zeros(1, dtype=np.int64), b"")
        chosen = pa.Array.from_buffers(pa.int64(), len(indices), [None, pa.py_buffer(indices)])
        taken = pc.take(self.binary(), chosen)  # (pa.array would import numpy.ma)
        buffers = taken.buffers()
        offsets = np.frombuffer(buffers[1], dtype=np.int64)[: len(indices) + 1].copy()
        data = buffers[2].to_pybytes()[: int(offsets[-1])] if buffers[2] is not None else b""
        return PendingRecords(self.seqs[indices], self.arrivals[indices], offsets, data)

    def binary(self) -> pa.LargeBinaryArray:
        """The records as an Arrow array (no copy)."""
        import pyarrow as pa

        buffers = [None, pa.py_buffer(self.offsets), pa.py_buffer(self.data)]
        return pa.Array.from_buffers(pa.large_binary(), len(self), buffers)


@dataclass
class DeliveryState:
    """``delivered``: every record with a smaller seq is delivered. ``intent`` names the
    objects of a delivery in flight (deleted on recovery, then the range is redone)."""

    delivered: int = 0
    intent: dict[str, Any] | None = None
    deliveries: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def write_json_atomic(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(json.dumps(doc, sort_keys=True).encode())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class WriteAheadLog:
    """Not thread- or process-safe by itself: the stream holds its lock around every call."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.segments = folder / "wal"
        self.state_path = folder / "state.json"
        self.segments.mkdir(parents=True, exist_ok=True)
        #: (last segment, its size, next seq, the segments' bytes that are not record
        #: data): valid while nobody else appended
        self._cached: tuple[str | None, int, int, int] | None = None

    # -- state --------------------------------------------------------------------------
    def load_state(self) -> DeliveryState:
        if not self.state_path.exists():
            return DeliveryState()
        doc = read_metadata_json(self.state_path)
        try:
            state = DeliveryState(
                int(doc.get("delivered", 0)),
                doc.get("intent"),
                int(doc.get("deliveries", 0)),
                doc.get("extra", {}),
            )
        except (TypeError, ValueError) as err:
            raise MetadataFileError(self.state_path, f"a counter is not a number: {err}") from err
        if state.intent is not None and not isinstance(state.intent, dict):
            raise MetadataFileError(self.state_path, "field 'intent' is not a JSON object")
        if not isinstance(state.extra, dict):
            raise MetadataFileError(self.state_path, "field 'extra' is not a JSON object")
        return state

    def save_state(self, state: DeliveryState) -> None:
        write_json_atomic(
            self.state_path,
            {
                "delivered": state.delivered,
                "intent": state.intent,
                "deliveries": state.deliveries,
                "extra": state.extra,
            },
        )

    # -- segments -----------------------------------------------------------------------
    def _segment_files(self) -> list[str]:
        """The segments' paths, oldest first (plain strings: this runs several times a put)."""
        folder = os.fspath(self.segments)
        return [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".log")]

    def _frames(
        self, path: str, repair: bool, content: bytes | bytearray | None = None
    ) -> Iterator[_Frame]:
        """The segment's whole frames (``content``: the file, already read)."""
        if content is None:
            with open(path, "rb") as fh:
                content = fh.read()
        data = memoryview(content)
        pos, good = 0, 0
        while pos + _HEADER.size <= len(data):
            seq, arrival, length, crc = _HEADER.unpack_from(data, pos)
            start = pos + _HEADER.size
            body = data[start : start + length]
            if len(body) < length or zlib.crc32(body) != crc:
                break
            if seq & _BATCH:
                if length < _COUNT.size:
                    break
                (count,) = _COUNT.unpack_from(body)
                table = _lengths(count)
                if _COUNT.size + table.size > length:
                    break
                lengths = body[_COUNT.size : _COUNT.size + table.size]
                records = body[_COUNT.size + table.size :]
                if sum(table.unpack(lengths)) != len(records):
                    break
                at = start + _COUNT.size + table.size
                yield _Frame(seq & ~_BATCH, arrival, lengths, records, True, at)
            else:
                yield _Frame(seq, arrival, memoryview(_COUNT.pack(length)), body, False, start)
            pos = good = start + length
        if good < len(data) and repair:
            with open(path, "r+b") as fh:
                fh.truncate(good)
                os.fsync(fh.fileno())

    def _scan(self, path: str, repair: bool) -> Iterator[LogRecord]:
        for frame in self._frames(path, repair):
            pos = 0
            for n, length in enumerate(_lengths(frame.count).unpack(frame.lengths)):
                data = bytes(frame.data[pos : pos + length])
                yield LogRecord(frame.seq + n, frame.arrival_ms, data)
                pos += length

    def _tail(self) -> tuple[str | None, int]:
        files = self._segment_files()
        if not files:
            return None, 0
        return files[-1], os.stat(files[-1]).st_size

    def _refresh(self, state: DeliveryState) -> tuple[str | None, int, int, int]:
        tail = self._tail()
        if self._cached is not None and self._cached[:2] == tail:
            return self._cached
        last, overhead = state.delivered - 1, 0
        for path in self._segment_files():
            for frame in self._frames(path, repair=True):
                last = max(last, frame.last)
                overhead += frame.overhead
        self._cached = (*self._tail(), last + 1, overhead)
        return self._cached

    def next_seq(self, state: DeliveryState) -> int:
        return max(self._refresh(state)[2], state.delivered)

    def append(self, arrival_ms: int, datas: list[bytes], state: DeliveryState) -> range:
        """Append one put's records durably as one frame (one write, one fsync); returns
        their sequence numbers."""
        seq = self.next_seq(state)
        files = self._segment_files()
        path = files[-1] if files else os.path.join(self.segments, f"{seq:020d}.log")
        body = b"".join(
            [_COUNT.pack(len(datas)), _lengths(len(datas)).pack(*map(len, datas)), *datas]
        )
        frame = _HEADER.pack(seq | _BATCH, arrival_ms, len(body), zlib.crc32(body)) + body
        new = not os.path.exists(path)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            before = os.fstat(fd).st_size
            view = memoryview(frame)
            try:
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            except OSError:
                # Not acknowledged, so not kept: a retry must not deliver these twice.
                self._cached = None
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, before)
                raise
            size = before + len(frame)
        finally:
            os.close(fd)
        if new:
            fsync_dir(self.segments)
        overhead = self._cached[3] if self._cached is not None else 0
        overhead += len(frame) - sum(map(len, datas))
        self._cached = (path, size, seq + len(datas), overhead)
        return range(seq, seq + len(datas))

    def pending(self, state: DeliveryState) -> list[LogRecord]:
        out: list[LogRecord] = []
        for path in self._segment_files():
            out.extend(r for r in self._scan(path, repair=False) if r.seq >= state.delivered)
        return out

    def pending_records(self, state: DeliveryState) -> PendingRecords:
        """The undelivered records as columns (what a delivery reads). Each segment is read
        once and its records moved together in place, so the data is never held twice."""
        import numpy as np

        firsts, counts, arrivals, tables, datas = [], [], [], [], []
        for path in self._segment_files():
            with open(path, "rb") as fh:
                content = bytearray(os.fstat(fh.fileno()).st_size)
                content[fh.readinto(content) :] = b""
            frames = [f for f in self._frames(path, False, content) if f.last >= state.delivered]
            firsts += [f.seq for f in frames]
            counts += [f.count for f in frames]
            arrivals += [f.arrival_ms for f in frames]
            tables += [bytes(f.lengths) for f in frames]
            spans = [(f.at, len(f.data)) for f in frames]
            del frames  # their views of ``content`` (it is resized below)
            raw = np.frombuffer(content, dtype=np.uint8)
            size = 0
            for at, length in spans:
                raw[size : size + length] = raw[at : at + length]  # overlaps: numpy copes
                size += length
            del raw
            del content[size:]
            datas.append(content)
        count = np.array(counts, dtype=np.int64)
        starts = np.repeat(np.array(firsts, dtype=np.int64) - np.cumsum(count) + count, count)
        seqs = starts + np.arange(int(count.sum()), dtype=np.int64)
        arrived = np.repeat(np.array(arrivals, dtype=np.int64), count)
        lengths = np.frombuffer(b"".join(tables), dtype=">u4")
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        data = datas[0] if len(datas) == 1 else bytearray(b"".join(datas))
        every = PendingRecords(seqs, arrived, offsets, data)
        keep = np.flatnonzero(seqs >= state.delivered)
        return every.take(keep)

    def pending_bytes(self) -> int:
        return sum(os.stat(p).st_size for p in self._segment_files())

    def pending_data_bytes(self, state: DeliveryState) -> int:
        """The buffered records' own bytes (what SizeInMBs measures), without a scan: the
        segments' size less their frames' headers and length tables."""
        return max(0, self.pending_bytes() - self._refresh(state)[3])

    def oldest_arrival_ms(self, state: DeliveryState) -> int | None:
        for path in self._segment_files():
            with open(path, "rb") as fh:
                head = fh.read(_HEADER.size + _COUNT.size)
            if len(head) == _HEADER.size + _COUNT.size:
                seq, arrival, _, _ = _HEADER.unpack_from(head)
                last = seq
                if seq & _BATCH:
                    last = (seq & ~_BATCH) + _COUNT.unpack_from(head, _HEADER.size)[0] - 1
                if last >= state.delivered:
                    return int(arrival)
            for frame in self._frames(path, repair=False):
                if frame.last >= state.delivered:
                    return frame.arrival_ms
        return None

    def truncate_delivered(self, state: DeliveryState) -> None:
        """Drop segments whose records are all delivered (called after the state commit)."""
        files = self._segment_files()
        if files and state.delivered >= self.next_seq(state):
            for path in files:
                _unlink(path)
            fsync_dir(self.segments)
            return
        for path in files:
            last = None
            for frame in self._frames(path, repair=False):
                last = frame.last
            if last is None or last < state.delivered:
                _unlink(path)
        if files:
            fsync_dir(self.segments)

    def reset_cache(self) -> None:
        self._cached = None
