"""Execution history in the shape of Step Functions' GetExecutionHistory."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lakebox.workflows.clock import Clock


def details_key(event_type: str) -> str:
    """``TaskStateEntered`` -> ``stateEnteredEventDetails`` (AWS shares one key for all
    state kinds); ``TaskScheduled`` -> ``taskScheduledEventDetails``."""
    for suffix in ("StateEntered", "StateExited"):
        if event_type.endswith(suffix) and event_type != suffix:
            return "state" + suffix[5:] + "EventDetails"
    return event_type[0].lower() + event_type[1:] + "EventDetails"


@dataclass(frozen=True)
class HistoryEvent:
    id: int
    previous_event_id: int
    timestamp: datetime
    type: str
    details: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "timestamp": self.timestamp.isoformat(),
            "type": self.type,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        if self.details is not None:
            out[details_key(self.type)] = self.details
        return out


class Trace:
    """One thread of events (the execution, a Parallel branch, a Map iteration): each new
    event points back at the last event of its own thread."""

    __slots__ = ("last",)

    def __init__(self, last: int = 0) -> None:
        self.last = last


class HistoryRecorder:
    """Numbers events and hands them to ``sink`` in batches (the store), so a long chain of
    Pass states is not one SQLite commit per event."""

    def __init__(
        self,
        clock: Clock,
        sink: Callable[[list[HistoryEvent]], None] | None = None,
        start_id: int = 0,
        batch: int = 256,
    ) -> None:
        self.clock = clock
        self.sink = sink
        self.events: list[HistoryEvent] = []
        self._pending: list[HistoryEvent] = []
        self._next = start_id
        self._batch = batch
        self._lock = threading.Lock()

    def add(self, trace: Trace, event_type: str, details: dict[str, Any] | None = None) -> int:
        with self._lock:
            self._next += 1
            event = HistoryEvent(self._next, trace.last, self.clock.now(), event_type, details)
            trace.last = self._next
            self.events.append(event)
            self._pending.append(event)
            full = len(self._pending) >= self._batch
        if full:
            self.flush()
        return event.id

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        if pending and self.sink is not None:
            self.sink(pending)
