"""``lakebox stream ...``: a thin Typer shell over ``DeliveryStreams``. Answers are the AWS
response shapes as JSON on stdout; errors are one line on stderr with exit status 1."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, NoReturn, TypeVar

import typer

from lakebox.cli.support import GuardedGroup, fail, guard, lakehouse, read_json_object
from lakebox.errors import LakeboxError
from lakebox.ingest.errors import InvalidArgumentError

if TYPE_CHECKING:
    from lakebox.ingest.streams import BufferStatus, DeliveryStreams

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
    return _guard(lambda: lakehouse(home, create=create).streams)


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
    _print(_guard(lambda: {"DeliveryStreamARN": streams.create_delivery_stream(name, dest)}))


@stream_app.command("describe")
def describe(name: NameArg, home: HomeOpt = None) -> None:
    """Describe a delivery stream (DescribeDeliveryStream's answer)."""
    from lakebox.api import firehose as firehose_api

    streams = _streams(home)
    _print(
        _guard(lambda: firehose_api.description_response(streams.describe_delivery_stream(name)))
    )


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

    def delete_it() -> dict[str, Any]:
        streams.delete_delivery_stream(name, allow_force_delete=force)
        return {}

    _print(_guard(delete_it))


@stream_app.command("list")
def list_streams(home: HomeOpt = None) -> None:
    """List delivery streams."""
    from lakebox.api import firehose as firehose_api

    streams = _streams(home)
    _print(_guard(lambda: firehose_api.list_response(streams.list_delivery_streams(10000))))


#: input lines between progress lines when stderr is not a terminal (``--progress``)
PROGRESS_EVERY = 10_000
#: exit status when some records failed and every other record was accepted
EXIT_SOME_FAILED = 3


class _Progress:
    """Records put so far on stderr: a line rewritten in place on a terminal (after the
    first second, so short puts stay quiet), one line per ``PROGRESS_EVERY`` otherwise."""

    def __init__(self, enabled: bool, tty: bool) -> None:
        self.enabled, self.tty = enabled, tty
        self.start = self.last = time.monotonic()
        self.shown = False
        self.next_line = PROGRESS_EVERY

    def update(self, records: int, nbytes: int, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if not final and (now - self.start < 1.0 or now - self.last < 0.25):
                return
            if final and not self.shown:
                return
        elif not final and records < self.next_line:
            return
        self.last = now
        rate = records / max(now - self.start, 1e-6)
        text = f"put {records:,} records, {nbytes / 1e6:,.1f} MB, {rate:,.0f} records/s"
        if self.tty:
            sys.stderr.write(f"\r{text}\x1b[K" + ("\n" if final else ""))
        else:
            sys.stderr.write(text + "\n")
            self.next_line = (records // PROGRESS_EVERY + 1) * PROGRESS_EVERY
        sys.stderr.flush()
        self.shown = True


def _when(status: BufferStatus) -> str:
    due = status.due_at
    return due.strftime("%Y-%m-%dT%H:%M:%SZ") if due else "now"


@stream_app.command("put")
def put(
    name: NameArg,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Stay until every record put is delivered; the buffering hints are "
            "honoured (bounded by --wait-timeout).",
        ),
    ] = False,
    wait_timeout: Annotated[
        float, typer.Option("--wait-timeout", help="Seconds --wait waits at most.")
    ] = 960.0,
    failed_records: Annotated[
        Path | None,
        typer.Option(
            "--failed-records",
            help="Write the input lines that failed to FILE, as they were, to fix and put "
            "again (FILE is replaced; removed when nothing failed).",
        ),
    ] = None,
    skip: Annotated[
        int,
        typer.Option("--skip", min=0, help="Skip the first N input lines (resume a put)."),
    ] = 0,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress",
            help="Progress on stderr (default: on when stderr is a terminal).",
        ),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Put JSON lines from stdin, one record per non-empty line, in PutRecordBatch calls.

    A line that fails (larger than 1,000 KiB) is reported with its line number and
    skipped; the others are accepted, the exit status is 3 and --failed-records FILE holds
    the failed lines to put again. After an error or Ctrl-C the message gives the
    --skip N that resumes without duplicates."""
    from lakebox.ingest.streams import MAX_BATCH_RECORDS, MAX_RECORD_BYTES, record_too_large

    streams = _streams(home)
    _guard(lambda: streams.config(name))
    tty = sys.stderr.isatty()
    meter = _Progress(tty if progress is None else progress, tty)
    failures: list[dict[str, Any]] = []
    ids: list[str] = []
    batch: list[tuple[int, bytes]] = []
    done_line = skip  # every input line up to here is accepted or reported failed
    failed_out = None
    if failed_records is not None:
        failed_out = _guard(lambda: _open_failed(failed_records))

    def fail(line_no: int, raw: bytes, code: str, message: str) -> None:
        failures.append({"Line": line_no, "ErrorCode": code, "ErrorMessage": message})
        if failed_out is not None:
            failed_out.write(raw if raw.endswith(b"\n") else raw + b"\n")

    def send() -> None:
        nonlocal done_line
        with _interrupt_after():  # Ctrl-C only once the answer is booked
            result = streams.put_record_batch(name, [d for _, d in batch])
            for (line_no, data), entry in zip(batch, result.records, strict=True):
                if entry.error_code is not None:
                    fail(line_no, data, entry.error_code, entry.error_message or "")
                elif entry.record_id is not None:
                    ids.append(entry.record_id)
            done_line = batch[-1][0]
            batch.clear()

    size = nbytes = 0
    line_no = 0
    try:
        for line_no, line in enumerate(sys.stdin.buffer, 1):
            if line_no <= skip:
                continue
            data = line.rstrip(b"\r\n")
            if not data.strip():
                if not batch:
                    done_line = line_no
                continue
            if len(data) > MAX_RECORD_BYTES:
                err = record_too_large(len(data), "records.member.data")
                fail(line_no, line, err.code, str(err))
                if not batch:
                    done_line = line_no
                continue
            if len(batch) >= MAX_BATCH_RECORDS or size + len(data) > 3 * 1024 * 1024:
                send()
                size = 0
            batch.append((line_no, data))
            size += len(data)
            nbytes += len(data)
            meter.update(len(ids) + len(batch) + len(failures), nbytes)
        if batch:
            send()
        done_line = max(done_line, line_no)
    except (LakeboxError, KeyboardInterrupt) as err:
        meter.update(len(ids), nbytes, final=True)
        _stopped(name, err, len(ids), skip, done_line, failures, failed_records)
    finally:
        if failed_out is not None:
            failed_out.close()
    meter.update(len(ids), nbytes, final=True)
    if failed_records is not None and not failures:
        failed_records.unlink(missing_ok=True)
    status = _guard(lambda: streams.buffer_status(name))
    doc: dict[str, Any] = {
        "RecordCount": len(ids) + len(failures),
        "FailedPutCount": len(failures),
        "BufferedRecords": status.records,
        "DeliveryDueAt": status.due_at.isoformat() if status.due_at else None,
    }
    if failures:
        doc["FailedRecords"] = failures
    if streams.last_delivery_error is not None:
        typer.echo(
            f"warning: delivery failed: {streams.last_delivery_error}; the records stay "
            "buffered and the next delivery retries them",
            err=True,
        )
    if wait:
        if status.records:
            typer.echo(
                f"waiting for delivery, due at {_when(status)} "
                f"(IntervalInSeconds={status.interval_s})",
                err=True,
            )
        streams.last_delivery_error = None
        try:
            delivered = _guard(lambda: streams.wait_delivered(name, ids, wait_timeout))
        except KeyboardInterrupt:
            typer.echo(
                f"interrupted: the {len(ids)} records are accepted and kept, do not put them "
                f"again; they are delivered at {_when(status)} by `lakebox schedule run "
                f"--loop`, or now by `lakebox stream flush {name}`",
                err=True,
            )
            raise typer.Exit(130) from None
        doc["Delivered"] = delivered
        if delivered and ids:
            typer.echo(f"delivered: all {len(ids)} records put are in the lake", err=True)
        status = _guard(lambda: streams.buffer_status(name))
        doc["BufferedRecords"] = status.records
        doc["DeliveryDueAt"] = status.due_at.isoformat() if status.due_at else None
    _print(doc)
    if wait and not doc["Delivered"]:
        why = f" (last error: {streams.last_delivery_error})" if streams.last_delivery_error else ""
        typer.echo(
            f"error: not delivered within --wait-timeout {wait_timeout:g}s{why}; the "
            f"{len(ids)} records are accepted and kept, do not put them again: run "
            f"`lakebox stream flush {name}` or keep `lakebox schedule run --loop` running",
            err=True,
        )
        raise typer.Exit(1)
    if not wait:
        if status.records:
            typer.echo(
                f"buffered {status.records} records in {name}; delivery due at "
                f"{_when(status)} (IntervalInSeconds={status.interval_s}, or sooner at "
                f"SizeInMBs={status.size_mb}) — run `lakebox stream flush {name}` or keep "
                "`lakebox schedule run --loop` running",
                err=True,
            )
        elif ids:
            typer.echo(f"delivered: nothing is left buffered in {name}", err=True)
    if failures:
        _report_failures(name, len(ids), failures, failed_records)
        raise typer.Exit(EXIT_SOME_FAILED)


@contextmanager
def _interrupt_after() -> Iterator[None]:
    """Hold Ctrl-C until the block ends: a batch stored but not yet booked as done would
    be put again by the resume the message suggests."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _open_failed(path: Path) -> BinaryIO:
    try:
        return open(path, "wb")
    except OSError as err:
        raise InvalidArgumentError(
            f"--failed-records {path}: cannot write it ({err.strerror})"
        ) from err


def _report_failures(
    name: str, accepted: int, failures: list[dict[str, Any]], path: Path | None
) -> None:
    lines = [f["Line"] for f in failures]
    shown = ", ".join(str(n) for n in lines[:10]) + (", ..." if len(lines) > 10 else "")
    first = failures[0]
    typer.echo(
        f"error: {len(failures)} records failed (input lines {shown}; first: "
        f"{first['ErrorCode']}: {first['ErrorMessage']}). The other {accepted} records "
        "were accepted: do not put the whole input again.",
        err=True,
    )
    if path is not None:
        typer.echo(
            f"The failed lines are in {path}: fix them, then `lakebox stream put {name} < {path}`.",
            err=True,
        )
    else:
        picks = ";".join(f"{n}p" for n in lines[:20])
        hint = (
            f"sed -n '{picks}' INPUT > failed.jsonl"
            if len(lines) <= 20
            else "the FailedRecords line numbers on stdout"
        )
        typer.echo(
            f"To put only those lines again, take them with {hint} (or use "
            "--failed-records FILE), fix them and put that file.",
            err=True,
        )


def _stopped(
    name: str,
    err: BaseException,
    accepted: int,
    skip: int,
    done_line: int,
    failures: list[dict[str, Any]],
    path: Path | None,
) -> NoReturn:
    """A put stopped part-way: say what was kept and how to resume without duplicates."""
    why = "interrupted" if isinstance(err, KeyboardInterrupt) else f"{err}"
    typer.echo(f"error: {why}", err=True)
    if accepted or failures or skip:
        failed = (
            f"; {len(failures)} failed lines are listed"
            + (f" in {path}" if path is not None else "")
            if failures
            else ""
        )
        typer.echo(
            f"Input lines 1-{done_line} are done ({accepted} records accepted{failed}). "
            f"Resume without duplicates: lakebox stream put {name} --skip {done_line} < INPUT",
            err=True,
        )
    raise typer.Exit(130 if isinstance(err, KeyboardInterrupt) else 1)


@stream_app.command("flush")
def flush(name: NameArg, home: HomeOpt = None) -> None:
    """Deliver buffered records now."""
    streams = _streams(home)
    _print(_guard(lambda: streams.flush(name)).to_dict())
