"""The ASGI application of ``lakebox serve``: Starlette routes the health check and hands
every other request to the door on a worker thread. Its lifespan starts what a
long-running lake process keeps going (schedules, delivery-stream buffers) and, at
shut-down, stops them, waits for crawls and closes the lake."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lakebox.server.door import MAX_BODY_BYTES, Answer, Door, Incoming
from lakebox.version import __version__

if TYPE_CHECKING:
    from lakebox.ingest.streams import DeliveryTicker
    from lakebox.lakehouse import Lakehouse

#: how often the schedule loop looks for schedules made since it last looked (it sleeps
#: until the next known slot, or this long if that is sooner)
SCHEDULE_POLL_SECONDS = 5.0

_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]


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
) -> Starlette:
    """The server's ASGI app for a started lake. ``background`` runs schedules and stream
    delivery in this process; ``close_lake`` closes the lake when the app shuts down."""
    door = Door(lake, log)
    ready = threading.Event()
    extra = Background(lake, door.log) if background else None

    async def health(request: Request) -> Response:
        if not ready.is_set():
            return _json(503, {"status": "starting"})
        return _json(200, {"status": "ok", "version": __version__, "home": str(lake.config.home)})

    async def aws(request: Request) -> Response:
        body = await _read_body(request)
        if body is None:
            answer = Answer(
                413,
                json.dumps(
                    {
                        "__type": "RequestEntityTooLarge",
                        "message": f"the request body is larger than {MAX_BODY_BYTES} bytes",
                    }
                ).encode(),
                {"content-type": "application/x-amz-json-1.1"},
            )
        else:
            raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
            incoming = Incoming(
                method=request.method,
                raw_path=raw_path.decode("utf-8", "surrogateescape")
                if isinstance(raw_path, bytes)
                else str(raw_path),
                query=request.scope.get("query_string", b"").decode("utf-8", "surrogateescape"),
                headers=tuple(
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]
                ),
                body=body,
            )
            answer = await run_in_threadpool(door.handle, incoming)
        return Response(answer.body, answer.status, headers=answer.headers)

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
            if close_lake:
                await run_in_threadpool(lake.close)
            door.log({"event": "stopped"})

    return Starlette(
        routes=[
            Route("/_lakebox/health", health, methods=["GET"]),
            Route("/{path:path}", aws, methods=_METHODS),
        ],
        lifespan=lifespan,
    )


def _json(status: int, doc: dict[str, Any]) -> Response:
    return Response(json.dumps(doc), status, media_type="application/json")


async def _read_body(request: Request) -> bytes | None:
    """The request body, or None when it is larger than the door reads (stopped reading
    as soon as it is, so a huge upload is not buffered)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
