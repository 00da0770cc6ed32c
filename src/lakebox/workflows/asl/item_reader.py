"""Map ``ItemReader``: items read from the lake's object storage (S3 URIs through the
lakebox Storage facade) instead of the state input.

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
        raise _fail(f"S3.NoSuchKey: {exc}") from exc
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
            raise _fail(f"{uri} is not JSON: {exc.msg}") from exc
        if not isinstance(value, list):
            raise _fail(f"{uri} must hold a JSON array")
        return value
    if kind == "JSONL":
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise _fail(f"{uri} has a line that is not JSON: {exc.msg}") from exc
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
