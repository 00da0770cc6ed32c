"""Running the server: open the lake, bootstrap its first administrator, run uvicorn.

uvicorn handles SIGINT and SIGTERM itself: it stops accepting connections, lets requests in
flight finish, then runs the app's shut-down (background loops stopped, the requests still
on worker threads waited for, lake closed). A second Ctrl-C stops the waiting; the lake is
closed all the same.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lakebox.errors import InvalidRequestError

if TYPE_CHECKING:
    from lakebox.config import LakeConfig

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
GRACEFUL_SECONDS = 60
#: connections and requests at once; beyond it uvicorn answers 503 at once rather than
#: queueing without bound
LIMIT_CONCURRENCY = 256
#: how long an idle keep-alive connection is kept
KEEP_ALIVE_SECONDS = 5


class JsonLines(logging.Formatter):
    """uvicorn's own log records (a request HTTP cannot parse, an error before the app) as
    JSON lines like the door's, so stderr stays one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "event": f"http-{record.levelname.lower()}",
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["traceback"] = self.formatException(record.exc_info)
        return json.dumps(doc)


#: uvicorn's logging: warnings and errors as JSON lines on stderr, no access log (the door
#: logs every request itself)
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonLines}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def serve(
    config: LakeConfig,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    echo: Callable[[str], None] | None = None,
) -> None:
    """Serve the lake of ``config`` until interrupted."""
    import uvicorn

    from lakebox.lakehouse import Lakehouse
    from lakebox.server.app import build_app
    from lakebox.server.door import _log_line
    from lakebox.server.protocol import HeaderDeadlineProtocol

    say = echo or _echo
    listener = _listen(host, port)
    lake = Lakehouse.open(config, create=True)
    try:
        keys = lake.iam.bootstrap()
        if keys is not None:
            say(f"the lake had no users: made an administrator; its access keys are in {keys}")
        stopping: list[uvicorn.Server] = []
        # a second Ctrl-C (uvicorn's force_exit) stops shut-down from waiting for requests
        app = build_app(lake, forced=lambda: bool(stopping) and stopping[0].force_exit)
        lake.engine.warm()  # the first query finds the engine open
    except BaseException:
        lake.close()
        listener.close()
        raise
    bound = listener.getsockname()[1]
    lake.endpoint_url = f"http://{_local(host)}:{bound}"  # functions call the lake back here
    say(f"lakebox {config.home} serving on http://{host}:{bound} (health: /_lakebox/health)")
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            log_config=LOG_CONFIG,
            access_log=False,
            lifespan="on",
            server_header=False,
            # requests in flight get this long to finish at shut-down (a synchronous
            # execution or a long query); then their connections are closed
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            limit_concurrency=LIMIT_CONCURRENCY,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            # h11 with a deadline for each request's headers (uvicorn has no setting)
            http=HeaderDeadlineProtocol,
        )
    )
    stopping.append(server)
    try:
        with listener:
            server.run(sockets=[listener])
    finally:
        # a second Ctrl-C skips the app's shut-down: the lake is still closed
        if not app.state.lake_closed:
            lake.close()
            _log_line({"event": "stopped", "forced": True})


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the lake opens: a port in use is a plain error."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InvalidRequestError(f"cannot listen on {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise InvalidRequestError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    sock.set_inheritable(True)
    return sock


def _local(host: str) -> str:
    """The address a process on this machine reaches a server listening on ``host`` at."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _echo(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
