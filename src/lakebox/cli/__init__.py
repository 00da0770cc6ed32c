"""The ``lakebox`` command: thin shells over the services of one ``Lakehouse``.

Each module holds one group of commands (``sql``: SQL, catalog, workgroups, queries;
``workflows``, ``crawler``, ``ingest``, ``admin``); ``support`` is what they share,
including the one place a command opens its lake. This module mounts them on one app.
"""

from __future__ import annotations

from lakebox.cli.admin import register as register_admin_commands
from lakebox.cli.crawler import crawler_app
from lakebox.cli.ingest import stream_app
from lakebox.cli.sql import app, init
from lakebox.cli.support import run_main
from lakebox.cli.workflows import schedule_app, workflow_app

app.add_typer(workflow_app, name="workflow")
app.add_typer(schedule_app, name="schedule")
app.add_typer(crawler_app, name="crawler")
app.add_typer(stream_app, name="stream")
register_admin_commands(app)
app.command()(init)

__all__ = ["app", "main"]


def main() -> None:
    run_main(app)
