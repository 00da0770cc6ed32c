"""The write-ahead log of a delivery stream: a put is acknowledged only once its records
are fsync'd here, so an acknowledged record survives a crash of the process.

Segments are files ``<first-seq>.log`` of frames ``seq u64 | arrival_ms u64 | len u32 |
crc32 u32 | data``. A torn frame at the tail (a crash mid-write, never acknowledged) is
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
from typing import Any

from lakebox.metadata.files import MetadataFileError, read_metadata_json

_HEADER = struct.Struct(">QQII")


@dataclass(frozen=True)
class LogRecord:
    seq: int
    arrival_ms: int
    data: bytes


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
        #: (last segment, its size, next seq): valid while nobody else appended
        self._cached: tuple[Path | None, int, int] | None = None

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
    def _segment_files(self) -> list[Path]:
        return sorted(p for p in self.segments.glob("*.log"))

    def _scan(self, path: Path, repair: bool) -> Iterator[LogRecord]:
        with open(path, "rb") as fh:
            data = fh.read()
        pos, good = 0, 0
        while pos + _HEADER.size <= len(data):
            seq, arrival, length, crc = _HEADER.unpack_from(data, pos)
            start = pos + _HEADER.size
            body = data[start : start + length]
            if len(body) < length or zlib.crc32(body) != crc:
                break
            yield LogRecord(seq, arrival, body)
            pos = good = start + length
        if good < len(data) and repair:
            with open(path, "r+b") as fh:
                fh.truncate(good)
                os.fsync(fh.fileno())

    def _tail(self) -> tuple[Path | None, int]:
        files = self._segment_files()
        if not files:
            return None, 0
        return files[-1], files[-1].stat().st_size

    def next_seq(self, state: DeliveryState) -> int:
        tail = self._tail()
        if self._cached is not None and self._cached[:2] == tail:
            return max(self._cached[2], state.delivered)
        last = state.delivered - 1
        for path in self._segment_files():
            for rec in self._scan(path, repair=True):
                last = max(last, rec.seq)
        self._cached = (*self._tail(), last + 1)
        return last + 1

    def append(self, records: list[tuple[int, bytes]], state: DeliveryState) -> list[int]:
        """Append (arrival_ms, data) records durably; returns their sequence numbers."""
        seq = self.next_seq(state)
        files = self._segment_files()
        path = files[-1] if files else self.segments / f"{seq:020d}.log"
        frames = bytearray()
        seqs = []
        for arrival, data in records:
            frames += _HEADER.pack(seq, arrival, len(data), zlib.crc32(data))
            frames += data
            seqs.append(seq)
            seq += 1
        new = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            before = os.fstat(fd).st_size
            view = memoryview(bytes(frames))
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
        finally:
            os.close(fd)
        if new:
            fsync_dir(self.segments)
        self._cached = (path, path.stat().st_size, seq)
        return seqs

    def pending(self, state: DeliveryState) -> list[LogRecord]:
        out: list[LogRecord] = []
        for path in self._segment_files():
            out.extend(r for r in self._scan(path, repair=False) if r.seq >= state.delivered)
        return out

    def pending_bytes(self) -> int:
        return sum(p.stat().st_size for p in self._segment_files())

    def pending_data_bytes(self, state: DeliveryState) -> int:
        """The buffered records' own bytes (what SizeInMBs measures), without a scan: the
        segments' size less one frame header per undelivered record."""
        count = self.next_seq(state) - state.delivered
        return max(0, self.pending_bytes() - _HEADER.size * count)

    def oldest_arrival_ms(self, state: DeliveryState) -> int | None:
        for path in self._segment_files():
            with open(path, "rb") as fh:
                head = fh.read(_HEADER.size)
            if len(head) == _HEADER.size:
                seq, arrival, _, _ = _HEADER.unpack(head)
                if seq >= state.delivered:
                    return int(arrival)
            for rec in self._scan(path, repair=False):
                if rec.seq >= state.delivered:
                    return rec.arrival_ms
        return None

    def truncate_delivered(self, state: DeliveryState) -> None:
        """Drop segments whose records are all delivered (called after the state commit)."""
        files = self._segment_files()
        if files and state.delivered >= self.next_seq(state):
            for path in files:
                path.unlink(missing_ok=True)
            fsync_dir(self.segments)
            return
        for path in files:
            last = None
            for rec in self._scan(path, repair=False):
                last = rec.seq
            if last is None or last < state.delivered:
                path.unlink(missing_ok=True)
        if files:
            fsync_dir(self.segments)

    def reset_cache(self) -> None:
        self._cached = None
