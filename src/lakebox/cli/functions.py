"""``lakebox functions ...``: the lake's functions, Lambda-style Python handlers that S3
bucket notifications and EventBridge rules invoke (a thin shell over ``lake.events``;
mounted by the main CLI when a command line asks for it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from lakebox.cli.support import GuardedGroup, fail, guard, lakehouse, read_text_file
from lakebox.errors import InvalidRequestError

functions_app = typer.Typer(
    help="Functions: Python handlers (Lambda-style) that bucket notifications and rules invoke.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=GuardedGroup,
)

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="LAKEBOX_HOME", help="Lake folder (default ./.lakebox)."),
]


def _environment(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidRequestError(f"--env takes NAME=VALUE, not {pair!r}")
        env[key] = value
    return env


@functions_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The function's name.")],
    code: Annotated[
        Path, typer.Option("--code", help="Its code: a .py file, a folder or a .zip archive.")
    ],
    handler: Annotated[
        str,
        typer.Option(
            "--handler",
            help="module.function, as Lambda names it (lambda_function.lambda_handler).",
        ),
    ],
    role: Annotated[
        str,
        typer.Option("--role", help="Execution role ARN (it must trust lambda.amazonaws.com)."),
    ] = "",
    runtime: Annotated[str, typer.Option("--runtime", help="python3.x")] = "python3.12",
    timeout: Annotated[int, typer.Option("--timeout", help="Seconds, 1 to 900.")] = 3,
    env: Annotated[list[str] | None, typer.Option("--env", help="NAME=VALUE (repeatable).")] = None,
    description: Annotated[str, typer.Option("--description")] = "",
    home: HomeOpt = None,
) -> None:
    """Create a function; its code is copied into the lake."""
    lake = lakehouse(home, create=True)
    made = guard(
        lambda: lake.events.create_function(
            name,
            handler,
            code=code,
            role=role,
            runtime=runtime,
            timeout=timeout,
            environment=_environment(env or []),
            description=description,
        )
    )
    typer.echo(json.dumps(made.configuration(), indent=4))


@functions_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print Lambda's JSON.")] = False,
    home: HomeOpt = None,
) -> None:
    """List the lake's functions."""
    found = guard(lambda: lakehouse(home).events.list_functions())
    if as_json:
        typer.echo(json.dumps({"Functions": [f.configuration() for f in found]}, indent=4))
        return
    for f in found:
        typer.echo(f"{f.name}\t{f.handler}\t{f.runtime}\t{f.timeout}s\t{f.role or '-'}")


@functions_app.command("delete")
def delete(name: Annotated[str, typer.Argument()], home: HomeOpt = None) -> None:
    """Delete a function (and the lake's copy of its code)."""
    guard(lambda: lakehouse(home).events.delete_function(name))
    typer.echo(f"function {name} deleted")


@functions_app.command("invoke")
def invoke(
    name: Annotated[str, typer.Argument()],
    payload: Annotated[
        str | None, typer.Option("--payload", help="The event, as JSON text.")
    ] = None,
    payload_file: Annotated[
        Path | None, typer.Option("--payload-file", help="A file holding the event as JSON.")
    ] = None,
    asynchronous: Annotated[
        bool, typer.Option("--async", help="Queue it (InvocationType Event) and return.")
    ] = False,
    log: Annotated[bool, typer.Option("--log", help="Print the invocation's log too.")] = False,
    home: HomeOpt = None,
) -> None:
    """Invoke a function and print what it returned (exit status 1 if it failed)."""
    if payload is not None and payload_file is not None:
        fail("give --payload or --payload-file, not both")
    text = payload if payload_file is None else read_text_file(payload_file, "payload file")
    try:
        event = json.loads(text) if text else {}
    except json.JSONDecodeError as err:
        fail(f"the payload is not JSON: {err.msg} at line {err.lineno} column {err.colno}")
    lake = lakehouse(home)
    kind = "Event" if asynchronous else "RequestResponse"
    result = guard(lambda: lake.events.invoke(name, event, invocation_type=kind))
    if asynchronous:
        guard(lambda: lake.events.drain(float(lake.events.get_function(name).timeout) * 3 + 30))
        typer.echo(f"function {name} invoked asynchronously (request {result.request_id})")
        return
    if log:
        typer.echo(result.log, err=True)
    typer.echo(result.payload.decode("utf-8", errors="replace"))
    if result.function_error is not None:
        error = result.error or {}
        fail(
            f"function {name} failed ({result.function_error}): "
            f"{error.get('errorType')}: {error.get('errorMessage')}"
        )
