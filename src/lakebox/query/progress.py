"""A live progress line for the CLI while a long statement runs (a CTAS, INSERT INTO,
UNLOAD or a big SELECT): the engine's percent for the statement it runs and the bytes
scanned so far, on standard error, only when standard error is a terminal (a pipe or a
log file gets nothing but the result)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from lakebox import util
from lakebox.principal import LOCAL_ADMIN, Principal

if TYPE_CHECKING:
    from rich.console import Console

    from lakebox.query.model import QueryExecution
    from lakebox.query.service import QueryService
    from lakebox.query.session import Result

#: how often the line is redrawn
TICK_SECONDS = 0.1


def run_with_progress(
    service: QueryService,
    query: str,
    database: str | None,
    workgroup: str,
    output_location: str | None,
    console: Console,
    principal: Principal = LOCAL_ADMIN,
) -> tuple[QueryExecution, Result | None]:
    """``service.run`` (as ``principal``) that shows how far the statement is on
    ``console`` while it runs. Ctrl-C stops the execution (StopQueryExecution) before the
    interrupt goes on."""
    if not console.is_terminal:
        return service.run(query, database, workgroup, output_location, principal=principal)
    qid = service.start_query_execution(
        query, database, workgroup, output_location, progress=True, principal=principal
    )
    started = time.monotonic()
    try:
        with console.status(status_text("QUEUED", None, 0.0), spinner="dots") as status:
            while True:
                qe = service.wait(qid, timeout=TICK_SECONDS)
                if qe.done:
                    break
                elapsed = time.monotonic() - started
                status.update(status_text(qe.state, service.progress(qid), elapsed))
    except KeyboardInterrupt:
        service.stop_query_execution(qid)
        service.wait(qid, timeout=10)
        raise
    return qe, service.result(qid)


def status_text(state: str, progress: tuple[float, int] | None, elapsed: float) -> str:
    """``running · 42% · 12.3 MB scanned · 4.1 s`` (the percent only when the engine
    knows it: it is per statement, and planning passes have their own)."""
    parts = [state.lower()]
    if progress is not None:
        percent, scanned = progress
        if percent >= 0:
            parts.append(f"{percent:.0f}%")
        parts.append(f"{human_bytes(scanned)} scanned")
    parts.append(f"{elapsed:.1f} s")
    return " · ".join(parts)


human_bytes = util.human_bytes
