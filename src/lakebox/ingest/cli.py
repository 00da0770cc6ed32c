"""``lakebox stream ...``: a thin Typer shell over ``DeliveryStreams``. Answers are the AWS
response shapes as JSON on stdout; errors are one line on stderr with exit status 1."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from lakebox.cli_support import GuardedGroup, fail, guard, lake_config, read_json_object
from lakebox.ingest.streams import MAX_BATCH_RECORDS, DeliveryStreams

stream_app = typer.Typer(
    help="Firehose-style delivery streams into the lake.", no_args_is_help=True, cls=GuardedGroup
)

T = TypeVar("T")
HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="LAKEBOX_HOME", help="Lake folder (default ./.lakebox)."),
]
NameArg = Annotated[str, typer.Argument(help="Delivery stream name.")]


def _guard(func: Callable[[], T]) -> T:
    return guard(func)


def _streams(home: Path | None, create: bool = False) -> DeliveryStreams:
    from lakebox.session import Lake

    return _guard(lambda: DeliveryStreams(Lake(lake_config(home, create=create))))


def _print(doc: Any) -> None:
    typer.echo(json.dumps(doc, indent=2, default=str))


@stream_app.command("create")
def create(
    name: NameArg,
    bucket: Annotated[str | None, typer.Option(help="Destination bucket (or BucketARN).")] = None,
    prefix: Annotated[str, typer.Option(help="Prefix, may use !{...} expressions.")] = "",
    error_prefix: Annotated[
        str | None, typer.Option("--error-prefix", help="ErrorOutputPrefix.")
    ] = None,
    size_mb: Annotated[int | None, typer.Option("--size-mb", help="SizeInMBs (1-128).")] = None,
    interval: Annotated[int | None, typer.Option(help="IntervalInSeconds (0-900).")] = None,
    gzip: Annotated[bool, typer.Option("--gzip", help="GZIP-compress objects.")] = False,
    newline: Annotated[
        bool, typer.Option("--newline", help="Append a newline to each record.")
    ] = False,
    table: Annotated[str | None, typer.Option(help="db.table to register partitions in.")] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="JSON file with an ExtendedS3DestinationConfiguration "
            "(overrides the options above).",
        ),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Create a delivery stream."""
    if config is not None:
        dest: dict[str, Any] = _guard(lambda: read_json_object(config, "--config file"))
        dest = dest.get("ExtendedS3DestinationConfiguration", dest)
        if not isinstance(dest, dict):
            fail(f"--config file {config}: ExtendedS3DestinationConfiguration must be an object")
    else:
        if not bucket:
            typer.echo("error: give --bucket or --config", err=True)
            raise typer.Exit(2)
        arn = bucket if bucket.startswith("arn:") else f"arn:aws:s3:::{bucket}"
        dest = {
            "BucketARN": arn,
            "Prefix": prefix,
            "CompressionFormat": "GZIP" if gzip else "UNCOMPRESSED",
        }
        if error_prefix:
            dest["ErrorOutputPrefix"] = error_prefix
        hints: dict[str, int] = {}
        if size_mb is not None:
            hints["SizeInMBs"] = size_mb
        if interval is not None:
            hints["IntervalInSeconds"] = interval
        if hints:
            dest["BufferingHints"] = hints
        if newline:
            dest["ProcessingConfiguration"] = {
                "Enabled": True,
                "Processors": [{"Type": "AppendDelimiterToRecord", "Parameters": []}],
            }
        if table:
            db, _, tbl = table.rpartition(".")
            dest["CatalogTable"] = {"DatabaseName": db or "default", "TableName": tbl}
    streams = _streams(home, create=True)
    _print(
        _guard(
            lambda: streams.create_delivery_stream(
                DeliveryStreamName=name, ExtendedS3DestinationConfiguration=dest
            )
        )
    )


@stream_app.command("describe")
def describe(name: NameArg, home: HomeOpt = None) -> None:
    """Describe a delivery stream (DescribeDeliveryStream's answer)."""
    streams = _streams(home)
    _print(_guard(lambda: streams.describe_delivery_stream(DeliveryStreamName=name)))


@stream_app.command("delete")
def delete(
    name: NameArg,
    force: Annotated[
        bool, typer.Option("--force", help="Do not deliver buffered records first.")
    ] = False,
    home: HomeOpt = None,
) -> None:
    """Delete a delivery stream (buffered records are delivered first)."""
    streams = _streams(home)
    _print(
        _guard(
            lambda: streams.delete_delivery_stream(DeliveryStreamName=name, AllowForceDelete=force)
        )
    )


@stream_app.command("list")
def list_streams(home: HomeOpt = None) -> None:
    """List delivery streams."""
    streams = _streams(home)
    _print(_guard(lambda: streams.list_delivery_streams(Limit=10000)))


@stream_app.command("put")
def put(name: NameArg, home: HomeOpt = None) -> None:
    """Put JSON lines from stdin, one record per non-empty line, in PutRecordBatch calls."""
    streams = _streams(home)
    failed = 0
    ids: list[str] = []
    batch: list[dict[str, Any]] = []

    def send() -> None:
        nonlocal failed
        resp = _guard(lambda: streams.put_record_batch(DeliveryStreamName=name, Records=batch))
        failed += resp["FailedPutCount"]
        ids.extend(r.get("RecordId") for r in resp["RequestResponses"])
        batch.clear()

    size = 0
    for line in sys.stdin.buffer:
        data = line.rstrip(b"\r\n")
        if not data.strip():
            continue
        if len(batch) >= MAX_BATCH_RECORDS or size + len(data) > 3 * 1024 * 1024:
            send()
            size = 0
        batch.append({"Data": data})
        size += len(data)
    if batch:
        send()
    _print({"RecordCount": len(ids), "FailedPutCount": failed})


@stream_app.command("flush")
def flush(name: NameArg, home: HomeOpt = None) -> None:
    """Deliver buffered records now."""
    streams = _streams(home)
    _print(_guard(lambda: streams.flush(name)).to_dict())
