"""Map ``ItemReader`` / ``ResultWriter``: items read from, and results written to, the lake's
object storage (S3 URIs through the lakebox Storage facade).

Supported as in Distributed Map: ``s3:listObjectsV2`` (one item per object) and
``s3:getObject`` with ``ReaderConfig.InputType`` JSON (an array), JSONL, CSV (header in the
first row or given) and MANIFEST (an S3 inventory-style CSV of bucket,key). ``MaxItems``
limits the count.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lakebox.errors import LakeboxError
from lakebox.workflows.errors import StatesError

if TYPE_CHECKING:
    from lakebox.config import LakeConfig

LIST_OBJECTS = "arn:aws:states:::s3:listObjectsV2"
GET_OBJECT = "arn:aws:states:::s3:getObject"
RESOURCES = (LIST_OBJECTS, GET_OBJECT)
INPUT_TYPES = ("JSON", "JSONL", "CSV", "MANIFEST")
_DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


def _fail(message: str) -> StatesError:
    return StatesError("States.ItemReaderFailed", message)


def read_items(
    reader: dict[str, Any], params: dict[str, Any], config: LakeConfig | None
) -> list[Any]:
    """Items for a Map state; ``params`` are the reader's Parameters already evaluated."""
    if config is None:
        raise _fail("ItemReader needs a lake: run the state machine through WorkflowService")
    from lakebox.storage import Storage

    storage = Storage(config)
    bucket = params.get("Bucket")
    if not isinstance(bucket, str) or not bucket:
        raise _fail("ItemReader Parameters need a Bucket")
    resource = reader.get("Resource")
    limit = (reader.get("ReaderConfig") or {}).get("MaxItems")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise _fail("field MaxItems must be positive")
    try:
        if resource == LIST_OBJECTS:
            items = _list_objects(storage, bucket, str(params.get("Prefix", "")))
        elif resource == GET_OBJECT:
            key = params.get("Key")
            if not isinstance(key, str):
                raise _fail("s3:getObject needs a Key")
            data = storage.read_bytes(f"s3://{bucket}/{key}")
            items = _parse(data, reader.get("ReaderConfig") or {}, f"s3://{bucket}/{key}")
        else:
            raise _fail(f"unsupported ItemReader resource {resource}")
    except LakeboxError as exc:
        if isinstance(exc, StatesError):
            raise
        raise _fail(str(exc)) from exc
    except FileNotFoundError as exc:
        raise _fail("S3.NoSuchKey: the specified key does not exist") from exc
    return items[: int(limit)] if isinstance(limit, int) and limit > 0 else items


def _list_objects(storage: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    folder = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    out = []
    for info in storage.list_files(f"s3://{bucket}/{folder}", include_hidden=True):
        key = info.uri.split("/", 3)[3] if info.uri.count("/") >= 3 else ""
        if not key.startswith(prefix):
            continue
        out.append(
            {
                "Etag": "",
                "Key": key,
                "LastModified": datetime.fromtimestamp(info.mtime, UTC).isoformat(),
                "Size": info.size,
                "StorageClass": "STANDARD",
            }
        )
    return out


def _parse(data: bytes, config: dict[str, Any], uri: str) -> list[Any]:
    kind = config.get("InputType", "JSON")
    text = data.decode("utf-8-sig")
    if kind == "JSON":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _fail(f"{uri} is not JSON (line {exc.lineno}, column {exc.colno})") from exc
        if not isinstance(value, list):
            raise _fail(f"{uri} must hold a JSON array")
        return value
    if kind == "JSONL":
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise _fail(f"{uri} has a line that is not JSON") from exc
    delimiter = _DELIMITERS.get(config.get("CSVDelimiter", "COMMA"), ",")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if kind == "MANIFEST":
        return [{"Bucket": r[0], "Key": r[1]} for r in rows if len(r) >= 2]
    if config.get("CSVHeaderLocation", "FIRST_ROW") == "GIVEN":
        header = list(config.get("CSVHeaders") or [])
    else:
        header, rows = (rows[0], rows[1:]) if rows else ([], [])
    if not header:
        raise _fail(f"{uri}: CSV needs a header (first row or CSVHeaders)")
    return [dict(zip(header, row + [""] * (len(header) - len(row)), strict=False)) for row in rows]


def write_results(
    params: dict[str, Any],
    config: LakeConfig | None,
    map_run_arn: str,
    state_machine_arn: str,
    inputs: list[Any],
    outputs: list[Any],
    failed: set[int],
    started: datetime,
    stopped: datetime,
) -> dict[str, Any]:
    """Write child results like a Distributed Map's ResultWriter: ``SUCCEEDED_0.json`` /
    ``FAILED_0.json`` and ``manifest.json`` under ``<Prefix>/<map run id>/``; the state's
    result becomes the MapRunArn and where the manifest is."""
    if config is None:
        raise StatesError("States.ResultWriterFailed", "ResultWriter needs a lake")
    from lakebox.storage import Storage

    bucket, prefix = params.get("Bucket"), str(params.get("Prefix", "")).strip("/")
    if not isinstance(bucket, str) or not bucket:
        raise StatesError("States.ResultWriterFailed", "ResultWriter Parameters need a Bucket")
    run_id = map_run_arn.rsplit(":", 1)[-1]
    base = f"{prefix}/{run_id}" if prefix else run_id
    groups: dict[str, list[dict[str, Any]]] = {"SUCCEEDED": [], "FAILED": []}
    for index, (value, output) in enumerate(zip(inputs, outputs, strict=True)):
        status = "FAILED" if index in failed else "SUCCEEDED"
        entry: dict[str, Any] = {
            "ExecutionArn": f"{map_run_arn}:{index}",
            "Input": json.dumps(value),
            "InputDetails": {"Included": True},
            "Name": str(index),
            "StartDate": started.isoformat(),
            "StateMachineArn": state_machine_arn,
            "Status": status,
            "StopDate": stopped.isoformat(),
        }
        if status == "FAILED":
            entry.update(output)
        else:
            entry.update({"Output": json.dumps(output), "OutputDetails": {"Included": True}})
        groups[status].append(entry)
    storage = Storage(config)
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    try:
        for status, entries in groups.items():
            if entries:
                key = f"{base}/{status}_0.json"
                data = json.dumps(entries).encode()
                storage.write_bytes(f"s3://{bucket}/{key}", data)
                files[status].append({"Key": key, "Size": len(data)})
        manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
        storage.write_bytes(f"s3://{bucket}/{base}/manifest.json", json.dumps(manifest).encode())
    except (LakeboxError, OSError) as exc:
        raise StatesError("States.ResultWriterFailed", str(exc)) from exc
    return {
        "MapRunArn": map_run_arn,
        "ResultWriterDetails": {"Bucket": bucket, "Key": f"{base}/manifest.json"},
    }
