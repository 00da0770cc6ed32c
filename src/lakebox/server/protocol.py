"""uvicorn's HTTP/1.1 protocol (h11) with a deadline for a request's headers.

uvicorn bounds the idle time between two requests of a keep-alive connection
(``timeout_keep_alive``), the body is bounded by the app (``app.BODY_SECONDS``), but
nothing bounds the time a client takes to send a request's head: a connection that sends
nothing, or one header byte every few seconds (slowloris), holds its connection, and one of
``LIMIT_CONCURRENCY`` slots, forever; a few hundred such connections would shut everyone
else out. uvicorn has no setting for it, and the ASGI app sees a request only once its
headers are complete, so the bound has to live in the protocol: this subclass arms a timer
when a connection opens and when the next request's first byte arrives, and disarms it once
h11 has read the whole head. When it fires, the client gets ``408`` and the connection is
closed.

It also bounds what uvicorn does after an answer given before the body was read (a body
too large, a signature refused from the headers): uvicorn reads and discards the rest of
that body, for as long as it comes. Closing at once would often lose the answer (the
client, still sending, would get a reset instead), so the rest is discarded while it is
at most ``MAX_DISCARD_BYTES`` and arrives within ``DISCARD_SECONDS``; beyond either, the
connection is closed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: how long a client may take to send a request's line and headers (from the connection's
#: opening, or from the first byte of a later request on a keep-alive connection)
HEADER_SECONDS = 10.0
#: how much of a body answered before it was read is discarded, and for how long, before
#: the connection is closed: a client that sends its whole body before it reads the answer
#: (urllib3, so botocore) still reads a 413 for a body a few times the 6 MiB limit
MAX_DISCARD_BYTES = 32 * 1024 * 1024
DISCARD_SECONDS = 30.0


class HeaderDeadlineProtocol(H11Protocol):
    """h11's protocol, closing a connection whose request head does not arrive in time, or
    whose client goes on sending a body the answer did not wait for."""

    header_seconds = HEADER_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._discarded = 0
        self._discard_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._stop_discarding()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and self.conn.their_state is h11.IDLE:
            self._arm()  # a later request of a keep-alive connection has begun
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.SEND_BODY:
            # the rest of a body the answer did not wait for: bounded
            self._discarded += len(data)
            if self._discard_timer is None:
                self._discard_timer = self.loop.call_later(DISCARD_SECONDS, self._close)
            if self._discarded > MAX_DISCARD_BYTES:
                self._close()
                return
        super().data_received(data)
        if self.conn.their_state is not h11.SEND_BODY:
            self._stop_discarding()
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the head is read (the body has a deadline of its own)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # between requests uvicorn's keep-alive timeout applies; a pipelined request
        # already read in full leaves h11 past IDLE
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_seconds, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _stop_discarding(self) -> None:
        self._discarded = 0
        if self._discard_timer is not None:
            self._discard_timer.cancel()
            self._discard_timer = None

    def _close(self) -> None:
        self._stop_discarding()
        if not self.transport.is_closing():
            self.transport.close()

    def _expired(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.our_state is h11.IDLE:
            # no request to route yet, so no service's error shape: the JSON services'
            message = f"the request headers were not sent within {self.header_seconds:g} s"
            body = json.dumps({"__type": "RequestTimeout", "message": message}).encode()
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                b"x-amzn-errortype: RequestTimeout\r\nconnection: close\r\n"
                + f"content-length: {len(body)}\r\n\r\n".encode()
                + body
            )
        self.transport.close()
