"""The ``lakebox`` command: thin shells over the services of one ``Lakehouse``.

Each module holds one group of commands (``sql``: SQL, catalog, workgroups, queries;
``workflows``, ``crawler``, ``ingest``, ``admin``); ``support`` is what they share,
including the one place a command opens its lake. This module mounts them on one app; each
command and group is built, and the workflow, schedule, crawler and stream groups are
imported, when a command line (or the help) asks for them (``support.RootGroup``).
"""

from __future__ import annotations

import gc

# no collection while the command modules load (see ``support.starting``): the collector
# is as it was once they are loaded
_collecting = gc.isenabled()
gc.disable()
try:
    from lakebox.cli.admin import register as register_admin_commands
    from lakebox.cli.sql import app, init
    from lakebox.cli.support import RootGroup, run_main
finally:
    if _collecting:
        gc.enable()

RootGroup.deferred = {
    "workflow": ("lakebox.cli.workflows", "workflow_app"),
    "schedule": ("lakebox.cli.workflows", "schedule_app"),
    "crawler": ("lakebox.cli.crawler", "crawler_app"),
    "stream": ("lakebox.cli.ingest", "stream_app"),
    "iam": ("lakebox.cli.iam", "iam_app"),
    "functions": ("lakebox.cli.functions", "functions_app"),
    "lf": ("lakebox.cli.lf", "lf_app"),
    "serve": ("lakebox.cli.serve", "serve_app"),
}
RootGroup.pretty_exceptions_short = app.pretty_exceptions_short
register_admin_commands(app)
app.command()(init)
RootGroup.take(app)

__all__ = ["app", "main"]


def main() -> None:
    run_main(app)
