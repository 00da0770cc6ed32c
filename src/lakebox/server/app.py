"""The ASGI application of ``lakebox serve``: Starlette routes the health check and hands
every other request to the door on a worker thread. Its lifespan starts what a
long-running lake process keeps going (schedules, delivery-stream buffers) and, at
shut-down, stops them, waits for crawls and closes the lake."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lakebox.server.door import (
    MAX_BODY_BYTES,
    UNSIGNED_MAX_BODY_BYTES,
    Answer,
    Door,
    Incoming,
)
from lakebox.server.s3 import S3Door
from lakebox.server.s3 import wants as s3_wanted
from lakebox.version import __version__

if TYPE_CHECKING:
    from lakebox.ingest.streams import DeliveryTicker
    from lakebox.lakehouse import Lakehouse

#: how often the schedule loop looks for schedules made since it last looked (it sleeps
#: until the next known slot, or this long if that is sooner)
SCHEDULE_POLL_SECONDS = 5.0

_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]

#: worker threads answering requests (signature checks, catalog calls, queries)
WORKERS = 32
#: worker threads for requests that hold one for long (StartSyncExecution runs its
#: execution to the end, up to Express's 5 minutes): a separate pool, so that they cannot
#: starve every other request of workers
LONG_WORKERS = 8
#: how long a client may take to send its body
BODY_SECONDS = 30.0
#: how long shut-down waits for requests in flight (a sync execution is at most 5 minutes)
DRAIN_SECONDS = 330.0


class InFlight:
    """Requests being answered on worker threads: the lake closes only once they are done
    (uvicorn's graceful shut-down gives up on a request, not on its worker thread)."""

    def __init__(self) -> None:
        self._count = 0
        self._done = threading.Condition()

    def __enter__(self) -> None:
        with self._done:
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        with self._done:
            self._count -= 1
            self._done.notify_all()

    @property
    def count(self) -> int:
        with self._done:
            return self._count

    def drain(self, timeout: float, forced: Callable[[], bool]) -> bool:
        """Wait until none is in flight (True), or ``timeout`` passed or ``forced()``
        says to stop waiting (False)."""
        deadline = time.monotonic() + timeout
        with self._done:
            while self._count:
                left = deadline - time.monotonic()
                if left <= 0 or forced():
                    return False
                self._done.wait(min(left, 0.2))
        return True


class Background:
    """What keeps running beside the requests: the schedule loop (EventBridge Scheduler
    slots start executions) and the delivery ticker (Firehose buffering intervals)."""

    def __init__(
        self,
        lake: Lakehouse,
        log: Callable[[dict[str, Any]], None],
        poll: float = SCHEDULE_POLL_SECONDS,
    ) -> None:
        self.lake = lake
        self.log = log
        self.poll = poll
        self._stop = threading.Event()
        self._scheduler: threading.Thread | None = None
        self._ticker: DeliveryTicker | None = None

    def start(self) -> None:
        from lakebox.ingest.streams import DeliveryTicker

        def delivered(name: str, report: Any) -> None:
            self.log(
                {
                    "event": "stream-delivery",
                    "stream": name,
                    "records": report.records,
                    "delivered": report.delivered,
                    "failed": report.failed,
                }
            )

        def failed(name: str, err: Exception) -> None:
            self.log({"event": "stream-delivery-error", "stream": name, "error": str(err)})

        self._ticker = DeliveryTicker(self.lake.streams, 1.0, delivered, failed).start()
        workflows = self.lake.workflows
        self._scheduler = threading.Thread(
            target=self._schedules, args=(workflows,), name="lakebox-serve-scheduler", daemon=True
        )
        self._scheduler.start()

    def _schedules(self, workflows: Any) -> None:
        try:
            workflows.run_scheduler(self._stop, self.poll)
        except Exception as exc:  # the server keeps serving; the log says why schedules stopped
            self.log({"event": "scheduler-stopped", "error": f"{type(exc).__name__}: {exc}"})

    def stop(self) -> None:
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.join(60)
            self._scheduler = None
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None


def build_app(
    lake: Lakehouse,
    *,
    log: Callable[[dict[str, Any]], None] | None = None,
    background: bool = True,
    close_lake: bool = True,
    forced: Callable[[], bool] | None = None,
) -> Starlette:
    """The server's ASGI app for a started lake. ``background`` runs schedules and stream
    delivery in this process; ``close_lake`` closes the lake when the app shuts down, once
    the requests in flight are done (or ``forced()`` says to stop waiting: a second
    Ctrl-C). ``app.state.lake_closed`` says whether it did."""
    door = Door(lake, log)
    s3 = S3Door(door)
    ready = threading.Event()
    extra = Background(lake, door.log) if background else None
    inflight = InFlight()
    workers = anyio.CapacityLimiter(WORKERS)
    long_workers = anyio.CapacityLimiter(LONG_WORKERS)

    async def health(request: Request) -> Response:
        # says nothing of the lake (its path, its content) to whoever can reach the port
        if not ready.is_set():
            return _json(503, {"status": "starting"})
        return _json(200, {"status": "ok", "version": __version__})

    async def aws(request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
        head = Incoming(
            method=request.method,
            raw_path=raw_path.decode("utf-8", "surrogateescape")
            if isinstance(raw_path, bytes)
            else str(raw_path),
            query=request.scope.get("query_string", b"").decode("utf-8", "surrogateescape"),
            headers=tuple(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]
            ),
            body=b"",
        )
        if s3_wanted(head):  # S3 bodies are objects: its door streams them
            with inflight:
                return await s3.serve(request, head, workers)
        return _send(await _answer(head, request))

    async def _answer(head: Incoming, request: Request) -> Answer:
        # a signature that fails on its headers alone is refused before the body is read
        early = door.before_body(head)
        if early is not None:
            return early
        limit = MAX_BODY_BYTES if door.signed(head) else UNSIGNED_MAX_BODY_BYTES
        try:
            with anyio.fail_after(BODY_SECONDS):
                body = await _read_body(request, limit)
        except TimeoutError:
            return door.refuse(
                head, 408, "RequestTimeout", f"the body was not sent within {BODY_SECONDS:g} s"
            )
        if body is None:
            return door.refuse(
                head,
                413,
                "RequestEntityTooLarge",
                f"the request body is larger than {limit} bytes",
            )
        incoming = dataclasses.replace(head, body=body)
        with inflight:
            return await anyio.to_thread.run_sync(
                door.handle,
                incoming,
                limiter=long_workers if door.is_long(head) else workers,
            )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # botocore's models take about 2 s to load: in the background, while requests are
        # already answered (a request needing a model not loaded yet waits for it)
        models = threading.Thread(
            target=door.catalogue.load_all, name="lakebox-serve-models", daemon=True
        )
        models.start()
        if extra is not None:
            await run_in_threadpool(extra.start)
        ready.set()
        door.log({"event": "ready", "home": str(lake.config.home)})
        try:
            yield
        finally:
            ready.clear()
            await run_in_threadpool(models.join)
            if extra is not None:
                await run_in_threadpool(extra.stop)
            await run_in_threadpool(door.close)
            # uvicorn gives up on a request after its grace, not on the worker thread
            # answering it: the lake closes once they are done (or a second Ctrl-C)
            drained = await run_in_threadpool(
                inflight.drain, DRAIN_SECONDS, forced or (lambda: False)
            )
            if not drained:
                door.log({"event": "closing-with-requests-in-flight", "count": inflight.count})
            if close_lake:
                await run_in_threadpool(lake.close)
                app.state.lake_closed = True
            door.log({"event": "stopped"})

    app = Starlette(
        routes=[
            Route("/_lakebox/health", health, methods=["GET"]),
            Route("/{path:path}", aws, methods=_METHODS),
        ],
        lifespan=lifespan,
    )
    app.state.lake_closed = False
    return app


def _send(answer: Answer) -> Response:
    return Response(answer.body, answer.status, headers=answer.headers)


def _json(status: int, doc: dict[str, Any]) -> Response:
    return Response(json.dumps(doc), status, media_type="application/json")


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is larger than ``limit`` (stopped reading as soon
    as it is, so a huge upload is not buffered)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
