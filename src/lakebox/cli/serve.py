"""``lakebox serve``: the lake's AWS APIs over HTTP (``lakebox.server``), until interrupted.

Kept cheap to import: the server, Starlette and uvicorn load only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lakebox.cli.support import GuardedGroup, guard, lake_config

serve_app = typer.Typer(
    help="Serve the lake's AWS APIs (Athena, Glue, Step Functions, Firehose, IAM, STS, ...) "
    "over HTTP for boto3 and the AWS CLI.",
    cls=GuardedGroup,
    invoke_without_command=True,
    subcommand_metavar="",
)


@serve_app.callback(invoke_without_command=True)
def serve(
    home: Annotated[
        Path | None,
        typer.Option("--home", envvar="LAKEBOX_HOME", help="Lake folder (default ./.lakebox)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 4566,
) -> None:
    """Serve the lake on one HTTP port; every request must be signed with an access key of
    one of the lake's users. The first serve of a lake with no users makes an administrator
    and prints where its keys are. Stop with Ctrl-C (or SIGTERM): requests in flight finish,
    then the lake is closed."""
    from lakebox.server.runner import serve as run

    config = guard(lambda: lake_config(home, create=True))
    guard(lambda: run(config, host, port, echo=typer.echo))
