"""DynamoDB-style table exports into the lake, in DynamoDB's export layout:

``<prefix>/AWSDynamoDB/<ExportId>/`` holding ``_started``, ``data/<name>.json.gz`` (or
``.ion.gz``), ``manifest-files.json`` (one JSON line per data file) and
``manifest-summary.json``, plus ``.checksum`` files. Manifests are written last, so a
failed export never has a manifest claiming it completed; its partial data files are
removed and its description says FAILED.

Sources: a DynamoDB table reached with boto3 (any DynamoDB-compatible endpoint) or a JSON
lines file of items (plain JSON or DynamoDB JSON). Every export keeps the scanned items
as a snapshot in the lake's metadata folder; an incremental export diffs the newest
snapshot at or before ``ExportFromTime`` against the table now, producing DynamoDB's
``Keys`` / ``NewImage`` / ``OldImage`` records.

The module-level functions take and return AWS request / response shapes
(``export_table_to_point_in_time``, ``describe_export``, ``list_exports``) so workflow
tasks can call them as ``aws-sdk:dynamodb:...``.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import secrets
import string
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lakebox.catalog.model import Column, Table
from lakebox.errors import InvalidRequestError, LakeboxError
from lakebox.ingest.dynamodb import (
    Typed,
    TypeInference,
    is_typed_item,
    item_size,
    item_to_typed,
    typed_to_ion,
    typed_to_json,
)
from lakebox.ingest.errors import ExportNotFoundError, ValidationError, constraint_error
from lakebox.ingest.wal import write_json_atomic
from lakebox.metadata.files import MetadataFileError, read_metadata_json
from lakebox.principal import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, LOCAL_ADMIN, Principal
from lakebox.storage import Storage, parse_uri
from lakebox.storage.uri import bucket_problem, key_problem

if TYPE_CHECKING:
    from lakebox.catalog.store import CatalogStore
    from lakebox.query.lake import LakeParts as Lake

ITEMS_PER_FILE = 100_000
SYMLINK_INPUT = "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
IGNORE_KEY_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
ION_SERDE = "com.amazon.ionhiveserde.IonHiveSerDe"
ION_OUTPUT = "com.amazon.ionhiveserde.formats.IonOutputFormat"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
_ALNUM = string.ascii_lowercase + string.digits
#: attribute names usable as column names (others are skipped and reported)
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# -- sources ---------------------------------------------------------------------------------


class ItemSource(Protocol):
    """Where an export reads items from: typed items, streamed."""

    def key_names(self) -> list[str]: ...

    def scan(self) -> Iterator[dict[str, Typed]]: ...


class DynamoDBSource:
    """A table behind a DynamoDB API endpoint; paginated Scan keeps memory bounded."""

    def __init__(
        self,
        table_name: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        page_size: int = 1000,
    ) -> None:
        import boto3

        self.table_name = table_name
        self.page_size = page_size
        self.client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint_url,
            region_name=region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or DEFAULT_REGION,
        )

    def key_names(self) -> list[str]:
        desc = self._call("describe_table", TableName=self.table_name)["Table"]
        schema = sorted(desc["KeySchema"], key=lambda k: k["KeyType"] != "HASH")
        return [k["AttributeName"] for k in schema]

    def scan(self) -> Iterator[dict[str, Typed]]:
        paginator = self.client.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self.table_name,
            ConsistentRead=True,
            PaginationConfig={"PageSize": self.page_size},
        )
        try:
            for page in pages:
                yield from page.get("Items", [])
        except Exception as err:
            raise _source_error(err, self.table_name) from err

    def _call(self, op: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.client, op)(**kwargs)
            return result
        except Exception as err:
            raise _source_error(err, self.table_name) from err


def _source_error(err: Exception, table: str) -> LakeboxError:
    code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
    if code == "ResourceNotFoundException":
        from lakebox.ingest.errors import ResourceNotFoundError

        return ResourceNotFoundError(f"Requested resource not found: Table: {table} not found")
    out = LakeboxError(f"reading DynamoDB table {table} failed: {err}")
    out.transient = True
    return out


class JsonLinesSource:
    """Items from a JSON lines file (a path or lake URI, optionally .gz): plain JSON objects
    (numbers kept exact) or DynamoDB JSON (``{"Item": {...}}`` or a typed item)."""

    def __init__(self, location: str, keys: list[str], storage: Storage | None = None) -> None:
        self.location = location
        self.keys = keys
        self.storage = storage

    def key_names(self) -> list[str]:
        return self.keys

    def _lines(self) -> Iterator[bytes]:
        if self.storage is not None:
            # through the storage boundary: a plain path must lie in the lake or in a
            # folder allowed by LAKEBOX_ALLOWED_PATHS
            location = self.location if "://" in self.location else str(parse_uri(self.location))
            fh = self.storage.open(location)
        else:
            fh = open(Path(self.location.removeprefix("file://")), "rb")  # noqa: SIM115
        with fh:
            if self.location.endswith(".gz"):
                with gzip.open(fh) as unzipped:
                    yield from unzipped
            else:
                yield from fh

    def scan(self) -> Iterator[dict[str, Typed]]:
        from lakebox.ingest.convert import loads

        for lineno, line in enumerate(self._lines(), 1):
            if not line.strip():
                continue
            try:
                doc = loads(line)
            except ValueError as err:
                raise InvalidRequestError(
                    f"{self.location} line {lineno} is not JSON: {err}"
                ) from err
            if not isinstance(doc, dict):
                raise InvalidRequestError(f"{self.location} line {lineno} is not an object")
            if set(doc) == {"Item"} and isinstance(doc["Item"], dict):
                doc = doc["Item"]
            if is_typed_item(doc):
                yield {k: _from_json_typed(v) for k, v in doc.items()}
            else:
                yield item_to_typed(doc)


def _from_json_typed(av: Typed) -> Typed:
    kind, value = next(iter(av.items()))
    if kind == "N":
        return {"N": str(value)}
    if kind == "NS":
        return {"NS": [str(x) for x in value]}
    if kind == "L":
        return {"L": [_from_json_typed(x) for x in value]}
    if kind == "M":
        return {"M": {k: _from_json_typed(v) for k, v in value.items()}}
    return {kind: value}


# -- the service -------------------------------------------------------------------------------


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return (
        dt.datetime.fromtimestamp(ts, dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _ts(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    raise constraint_error(value, "exportTime", "Member must be a timestamp")


def _table_name(arn: str) -> str:
    if arn.startswith("arn:") and ":table/" in arn:
        return arn.split(":table/", 1)[1].split("/")[0]
    raise constraint_error(arn, "tableArn", "Member must be a DynamoDB table ARN")


@dataclass
class _Written:
    key: str
    items: int
    md5: bytes


@dataclass(frozen=True)
class IncrementalExport:
    """What an incremental export covers: changes after ``export_from_time`` up to
    ``export_to_time`` (default: the export time), as new or new-and-old images."""

    export_from_time: float | str | dt.datetime | None
    export_to_time: float | str | dt.datetime | None = None
    view_type: str = "NEW_AND_OLD_IMAGES"


@dataclass(frozen=True)
class ExportDescription:
    """An export as it stands; times are ISO 8601 text as stored."""

    arn: str
    status: str
    table_arn: str
    table_id: str
    start_time: str
    export_time: str
    s3_bucket: str
    s3_prefix: str | None
    s3_sse_algorithm: str
    export_format: str
    export_type: str
    manifest: str | None = None
    end_time: str | None = None
    item_count: int | None = None
    billed_size_bytes: int | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    client_token: str | None = None
    s3_bucket_owner: str | None = None
    #: (from, to, view type) of an incremental export
    incremental: tuple[str, str, str] | None = None
    #: who started it (DynamoDB's ExportDescription names no caller, so neither do answers)
    principal_arn: str = LOCAL_ADMIN.arn

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ExportDescription:
        """From the description file lakebox keeps (DynamoDB's ExportDescription)."""
        inc = doc.get("IncrementalExportSpecification")
        return cls(
            arn=doc["ExportArn"],
            status=doc["ExportStatus"],
            table_arn=doc["TableArn"],
            table_id=doc["TableId"],
            start_time=doc["StartTime"],
            export_time=doc["ExportTime"],
            s3_bucket=doc["S3Bucket"],
            s3_prefix=doc.get("S3Prefix"),
            s3_sse_algorithm=doc.get("S3SseAlgorithm", "AES256"),
            export_format=doc["ExportFormat"],
            export_type=doc["ExportType"],
            manifest=doc.get("ExportManifest"),
            end_time=doc.get("EndTime"),
            item_count=doc.get("ItemCount"),
            billed_size_bytes=doc.get("BilledSizeBytes"),
            failure_code=doc.get("FailureCode"),
            failure_message=doc.get("FailureMessage"),
            client_token=doc.get("ClientToken"),
            s3_bucket_owner=doc.get("S3BucketOwner"),
            incremental=(inc["ExportFromTime"], inc["ExportToTime"], inc["ExportViewType"])
            if inc
            else None,
            principal_arn=doc.get("LakeboxPrincipalArn", LOCAL_ADMIN.arn),
        )


@dataclass(frozen=True)
class ExportSummary:
    arn: str
    status: str
    export_type: str


@dataclass(frozen=True)
class ExportPage:
    """One page of exports, oldest first; ``next_token`` continues it."""

    exports: list[ExportSummary]
    next_token: str | None = None


class TableExports:
    """Exports for one lake. Descriptions live under ``<metadata>/exports/``."""

    def __init__(
        self,
        lake: Lake | None = None,
        *,
        storage: Storage | None = None,
        catalog: CatalogStore | None = None,
        metadata_dir: Path | None = None,
        dynamodb_endpoint: str | None = None,
        region: str | None = None,
        items_per_file: int = ITEMS_PER_FILE,
        account_id: str = DEFAULT_ACCOUNT_ID,
        lake_region: str = DEFAULT_REGION,
    ) -> None:
        if lake is not None:
            storage, catalog = lake.storage, lake.catalog
            metadata_dir = lake.config.metadata_dir
            account_id, lake_region = lake.config.account_id, lake.config.region
        if storage is None or metadata_dir is None:
            raise InvalidRequestError("TableExports needs a Lake or storage and metadata_dir")
        self.storage = storage
        self.catalog = catalog
        #: the lake, told who created the tables an export makes (None without one)
        self._lake = lake
        self.root = metadata_dir / "exports"
        (self.root / "descriptions").mkdir(parents=True, exist_ok=True)
        (self.root / "snapshots").mkdir(parents=True, exist_ok=True)
        self.endpoint = (
            dynamodb_endpoint
            or os.environ.get("LAKEBOX_DYNAMODB_ENDPOINT")
            or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
        )
        #: the DynamoDB client's region (None: the AWS environment's)
        self.region = region
        #: the lake's account and region, which the export ARNs of file sources name
        self.account_id = account_id
        self.lake_region = lake_region
        self.items_per_file = items_per_file
        self._sources: dict[str, ItemSource] = {}

    def register_source(
        self, table_arn: str, source: ItemSource, *, principal: Principal = LOCAL_ADMIN
    ) -> None:
        """Serve exports of ``table_arn`` from ``source`` (e.g. a JsonLinesSource)."""
        self._sources[table_arn] = source

    def _source(self, request: dict[str, Any]) -> ItemSource:
        arn = request["TableArn"]
        if arn in self._sources:
            return self._sources[arn]
        keys = list(request.get("LakeboxKeyAttributes") or [])
        if not arn.startswith("arn:"):
            return JsonLinesSource(arn, keys or ["id"], self.storage)
        return DynamoDBSource(_table_name(arn), self.endpoint, self.region)

    # -- API ------------------------------------------------------------------------------
    def export_table_to_point_in_time(
        self,
        table_arn: str,
        s3_bucket: str,
        *,
        s3_prefix: str | None = None,
        export_time: float | str | dt.datetime | None = None,
        export_format: str = "DYNAMODB_JSON",
        export_type: str = "FULL_EXPORT",
        incremental: IncrementalExport | None = None,
        client_token: str | None = None,
        s3_sse_algorithm: str | None = None,
        s3_bucket_owner: str | None = None,
        key_attributes: Sequence[str] | None = None,
        current_manifest: bool | str = False,
        catalog_table: str | None = None,
        principal: Principal = LOCAL_ADMIN,
    ) -> ExportDescription:
        """Run an export now; answers its description as it ended (COMPLETED or FAILED).
        ``table_arn`` is a DynamoDB table ARN or a JSON-lines file (``key_attributes`` name
        its keys); ``current_manifest`` (true or a folder URI) keeps a
        SymlinkTextInputFormat manifest of the newest full export there and
        ``catalog_table`` (``db.table``) defines a table over it."""
        request: dict[str, Any] = {
            "TableArn": table_arn,
            "S3Bucket": s3_bucket,
            "S3Prefix": s3_prefix,
            "ExportTime": export_time,
            "ExportFormat": export_format,
            "ExportType": export_type,
            "ClientToken": client_token,
            "S3BucketOwner": s3_bucket_owner,
            "LakeboxKeyAttributes": list(key_attributes) if key_attributes else None,
            "LakeboxCurrentManifest": current_manifest,
            "LakeboxCatalogTable": catalog_table,
        }
        if s3_sse_algorithm is not None:
            request["S3SseAlgorithm"] = s3_sse_algorithm
        if incremental is not None:
            spec: dict[str, Any] = {"ExportViewType": incremental.view_type}
            if incremental.export_from_time is not None:
                spec["ExportFromTime"] = incremental.export_from_time
            if incremental.export_to_time is not None:
                spec["ExportToTime"] = incremental.export_to_time
            request["IncrementalExportSpecification"] = spec
        return ExportDescription.from_document(self._export(request, principal))

    def describe_export(
        self, export_arn: str, *, principal: Principal = LOCAL_ADMIN
    ) -> ExportDescription:
        if not export_arn:
            raise constraint_error(None, "exportArn", "Member must not be null")
        export_id = export_arn.rsplit("/", 1)[-1]
        path = self.root / "descriptions" / f"{export_id}.json"
        if "/" in export_id or not path.exists():
            raise ExportNotFoundError(f"Export not found: {export_arn}")
        doc = _description(path)
        if doc["ExportArn"] != export_arn:
            raise ExportNotFoundError(f"Export not found: {export_arn}")
        return ExportDescription.from_document(doc)

    def list_exports(
        self,
        table_arn: str | None = None,
        max_results: int = 25,
        next_token: str | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> ExportPage:
        limit = int(max_results)
        if not 1 <= limit <= 25:
            raise constraint_error(limit, "maxResults", "Member must have value between 1 and 25")
        descs = [d for d in self._all() if not table_arn or d["TableArn"] == table_arn]
        start = int(next_token or 0)
        page = descs[start : start + limit]
        return ExportPage(
            [ExportSummary(d["ExportArn"], d["ExportStatus"], d["ExportType"]) for d in page],
            str(start + limit) if start + limit < len(descs) else None,
        )

    def _export(self, request: dict[str, Any], principal: Principal) -> dict[str, Any]:
        """The export as its stored description document (Firehose's shape)."""
        for member in ("TableArn", "S3Bucket"):
            if not request.get(member):
                raise constraint_error(
                    None, member[0].lower() + member[1:], "Member must not be null"
                )
        problem = bucket_problem(str(request["S3Bucket"])) or key_problem(
            str(request.get("S3Prefix") or "")
        )
        if problem:
            raise ValidationError(
                f"S3Bucket {request['S3Bucket']!r} / S3Prefix {request.get('S3Prefix')!r} "
                f"is refused: {problem}"
            )
        fmt = request.get("ExportFormat", "DYNAMODB_JSON")
        if fmt not in ("DYNAMODB_JSON", "ION"):
            raise constraint_error(
                fmt, "exportFormat", "Member must satisfy enum value set: [DYNAMODB_JSON, ION]"
            )
        etype = request.get("ExportType", "FULL_EXPORT")
        if etype not in ("FULL_EXPORT", "INCREMENTAL_EXPORT"):
            raise constraint_error(
                etype,
                "exportType",
                "Member must satisfy enum value set: [FULL_EXPORT, INCREMENTAL_EXPORT]",
            )
        inc = request.get("IncrementalExportSpecification") or {}
        if etype == "INCREMENTAL_EXPORT":
            if "ExportFromTime" not in inc:
                raise ValidationError(
                    "IncrementalExportSpecification.ExportFromTime is "
                    "required for INCREMENTAL_EXPORT"
                )
            view = inc.get("ExportViewType", "NEW_AND_OLD_IMAGES")
            if view not in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
                raise constraint_error(
                    view,
                    "incrementalExportSpecification.exportViewType",
                    "Member must satisfy enum value set: [NEW_IMAGE, NEW_AND_OLD_IMAGES]",
                )
        token = request.get("ClientToken")
        if token:
            for old in self._all():
                if old.get("ClientToken") == token and old["TableArn"] == request["TableArn"]:
                    return old
        now = time.time()
        # whole milliseconds, so the ExportTime a caller reads back names the same snapshot
        export_time = (
            int((_ts(request["ExportTime"]) if request.get("ExportTime") else now) * 1000) / 1000
        )
        if export_time > now + 1:
            raise ValidationError("ExportTime cannot be in the future")
        export_id = f"{int(now * 1000):014d}-{secrets.token_hex(4)}"
        table_arn = request["TableArn"]
        arn_base = (
            table_arn
            if table_arn.startswith("arn:")
            else (
                f"arn:aws:dynamodb:{self.lake_region}:{self.account_id}:table/"
                f"{Path(table_arn).name.split('.')[0]}"
            )
        )
        prefix = (request.get("S3Prefix") or "").strip("/")
        folder = f"{prefix}/AWSDynamoDB/{export_id}" if prefix else f"AWSDynamoDB/{export_id}"
        desc: dict[str, Any] = {
            "ExportArn": f"{arn_base}/export/{export_id}",
            "ExportStatus": "IN_PROGRESS",
            "StartTime": _iso(now),
            "TableArn": table_arn,
            "TableId": str(uuid.uuid5(uuid.NAMESPACE_URL, table_arn)),
            "ExportTime": _iso(export_time),
            "S3Bucket": request["S3Bucket"],
            "S3Prefix": request.get("S3Prefix"),
            "S3SseAlgorithm": request.get("S3SseAlgorithm", "AES256"),
            "ExportFormat": fmt,
            "ExportType": etype,
            "ExportManifest": f"{folder}/manifest-summary.json",
            "LakeboxPrincipalArn": principal.arn,
        }
        if token:
            desc["ClientToken"] = token
        if request.get("S3BucketOwner"):
            desc["S3BucketOwner"] = request["S3BucketOwner"]
        if etype == "INCREMENTAL_EXPORT":
            desc["IncrementalExportSpecification"] = {
                "ExportFromTime": _iso(_ts(inc["ExportFromTime"])),
                "ExportToTime": _iso(
                    _ts(inc["ExportToTime"]) if inc.get("ExportToTime") else export_time
                ),
                "ExportViewType": inc.get("ExportViewType", "NEW_AND_OLD_IMAGES"),
            }
        self._save(export_id, desc)
        bucket = request["S3Bucket"]
        base = f"s3://{bucket}/{folder}"
        written: list[_Written] = []
        try:
            self.storage.write_bytes(f"{base}/_started", b"")
            source = self._source(request)
            keys = source.key_names()
            snapshot = self._snapshot_path(table_arn, export_time)
            if etype == "FULL_EXPORT":
                records = self._full(source, snapshot)
            else:
                base_snap = self._base_snapshot(table_arn, _ts(inc["ExportFromTime"]))
                records = self._incremental(
                    source,
                    snapshot,
                    base_snap,
                    keys,
                    inc.get("ExportViewType", "NEW_AND_OLD_IMAGES"),
                    export_time,
                )
            stats = {"items": 0, "bytes": 0}
            self._write_data(base, folder, records, fmt, stats, written)
            self._write_manifests(base, folder, written, desc, stats, now)
        except Exception as err:
            for w in written:
                self.storage.delete(f"s3://{bucket}/{w.key}")
            desc.update(
                ExportStatus="FAILED",
                EndTime=_iso(time.time()),
                FailureCode=getattr(err, "code", type(err).__name__),
                FailureMessage=str(err),
            )
            desc.pop("ExportManifest", None)
            self._save(export_id, desc)
            if not isinstance(err, LakeboxError):
                raise
            return desc
        desc.update(
            ExportStatus="COMPLETED",
            EndTime=_iso(time.time()),
            ItemCount=stats["items"],
            BilledSizeBytes=stats["bytes"],
        )
        self._save(export_id, desc)
        current = request.get("LakeboxCurrentManifest")
        if current and etype == "FULL_EXPORT":
            where = (
                current
                if isinstance(current, str)
                else (f"s3://{bucket}/{prefix + '/' if prefix else ''}AWSDynamoDB/current/")
            )
            self._write_current(where, bucket, written)
            desc_table = request.get("LakeboxCatalogTable")
            if desc_table:
                self._define_table(desc_table, where, fmt, snapshot)
        return desc

    # -- internals -------------------------------------------------------------------------
    def _save(self, export_id: str, desc: dict[str, Any]) -> None:
        write_json_atomic(self.root / "descriptions" / f"{export_id}.json", desc)

    def _all(self) -> list[dict[str, Any]]:
        return sorted(
            (_description(p) for p in (self.root / "descriptions").glob("*.json")),
            key=lambda d: d["ExportArn"].rsplit("/", 1)[-1],
        )

    def _snapshot_dir(self, table_arn: str) -> Path:
        digest = hashlib.sha256(table_arn.encode()).hexdigest()[:24]
        folder = self.root / "snapshots" / digest
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _snapshot_path(self, table_arn: str, export_time: float) -> Path:
        return self._snapshot_dir(table_arn) / f"{round(export_time * 1000):014d}.jsonl.gz"

    def _base_snapshot(self, table_arn: str, from_time: float) -> Path | None:
        cutoff = round(from_time * 1000)
        found = [
            p
            for p in sorted(self._snapshot_dir(table_arn).glob("*.jsonl.gz"))
            if int(p.name.split(".")[0]) <= cutoff
        ]
        return found[-1] if found else None

    def _full(self, source: ItemSource, snapshot: Path) -> Iterator[dict[str, Any]]:
        tmp = snapshot.with_name(f".{snapshot.name}.{uuid.uuid4().hex}")
        try:
            with gzip.open(tmp, "wt", compresslevel=1) as snap:
                for item in source.scan():
                    snap.write(json.dumps({k: typed_to_json(v) for k, v in item.items()}) + "\n")
                    yield {"Item": item}
            os.replace(tmp, snapshot)
        finally:
            tmp.unlink(missing_ok=True)

    def _incremental(
        self,
        source: ItemSource,
        snapshot: Path,
        base: Path | None,
        keys: list[str],
        view: str,
        when: float,
    ) -> Iterator[dict[str, Any]]:
        """Diff of the base snapshot and the table now. The base is held in memory keyed
        by primary key (an incremental base must be compared item by item)."""
        old: dict[str, dict[str, Typed]] = {}
        if base is not None:
            with gzip.open(base, "rt") as fh:
                for line in fh:
                    item = json.loads(line)
                    old[_key(item, keys)] = item
        micros = {"N": str(int(when * 1_000_000))}
        tmp = snapshot.with_name(f".{snapshot.name}.{uuid.uuid4().hex}")
        try:
            with gzip.open(tmp, "wt", compresslevel=1) as snap:
                for item in source.scan():
                    as_json = {k: typed_to_json(v) for k, v in item.items()}
                    snap.write(json.dumps(as_json) + "\n")
                    before = old.pop(_key(as_json, keys), None)
                    if before == as_json:
                        continue
                    rec: dict[str, Any] = {
                        "Metadata": {"WriteTimestampMicros": micros},
                        "Keys": {k: item[k] for k in keys if k in item},
                        "NewImage": item,
                    }
                    if before is not None and view == "NEW_AND_OLD_IMAGES":
                        rec["OldImage"] = _decode_json_item(before)
                    yield rec
            os.replace(tmp, snapshot)
        finally:
            tmp.unlink(missing_ok=True)
        for before in old.values():
            rec = {
                "Metadata": {"WriteTimestampMicros": micros},
                "Keys": {k: v for k, v in _decode_json_item(before).items() if k in keys},
            }
            if view == "NEW_AND_OLD_IMAGES":
                rec["OldImage"] = _decode_json_item(before)
            yield rec

    def _write_data(
        self,
        base: str,
        folder: str,
        records: Iterator[dict[str, Any]],
        fmt: str,
        stats: dict[str, int],
        written: list[_Written],
    ) -> None:
        """Data files of at most ``items_per_file`` items; ``written`` grows as they land,
        so a failure can remove them."""
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            name = "".join(secrets.choice(_ALNUM) for _ in range(26))
            ext = "json.gz" if fmt == "DYNAMODB_JSON" else "ion.gz"
            body = gzip.compress(_encode(batch, fmt), mtime=0)
            key = f"{folder}/data/{name}.{ext}"
            self.storage.write_bytes(f"{base}/data/{name}.{ext}", body)
            written.append(_Written(key, len(batch), hashlib.md5(body).digest()))
            batch.clear()

        for rec in records:
            batch.append(rec)
            stats["items"] += 1
            image = rec.get("Item") or rec.get("NewImage") or rec.get("OldImage") or {}
            stats["bytes"] += item_size(image)
            if len(batch) >= self.items_per_file:
                flush()
        if batch or not written:
            flush()

    def _write_manifests(
        self,
        base: str,
        folder: str,
        written: list[_Written],
        desc: dict[str, Any],
        stats: dict[str, int],
        start: float,
    ) -> None:
        lines = "".join(
            json.dumps(
                {
                    "itemCount": w.items,
                    "md5Checksum": base64.b64encode(w.md5).decode(),
                    "etag": w.md5.hex(),
                    "dataFileS3Key": w.key,
                }
            )
            + "\n"
            for w in written
        ).encode()
        self.storage.write_bytes(f"{base}/manifest-files.json", lines)
        self.storage.write_bytes(
            f"{base}/manifest-files.checksum", hashlib.md5(lines).hexdigest().encode()
        )
        summary: dict[str, Any] = {
            "version": "2020-06-30",
            "exportArn": desc["ExportArn"],
            "startTime": _iso(start),
            "endTime": _iso(time.time()),
            "tableArn": desc["TableArn"],
            "tableId": desc["TableId"],
            "exportTime": desc["ExportTime"],
            "s3Bucket": desc["S3Bucket"],
            "s3Prefix": desc["S3Prefix"],
            "s3SseAlgorithm": desc["S3SseAlgorithm"],
            "s3SseKmsKeyId": None,
            "manifestFilesS3Key": f"{folder}/manifest-files.json",
            "billedSizeBytes": stats["bytes"],
            "itemCount": stats["items"],
            "outputFormat": desc["ExportFormat"],
            "exportType": desc["ExportType"],
        }
        if "IncrementalExportSpecification" in desc:
            spec = desc["IncrementalExportSpecification"]
            summary.update(
                exportFromTime=spec["ExportFromTime"],
                exportToTime=spec["ExportToTime"],
                outputView=spec["ExportViewType"],
            )
        body = json.dumps(summary).encode()
        self.storage.write_bytes(
            f"{base}/manifest-summary.checksum", hashlib.md5(body).hexdigest().encode()
        )
        self.storage.write_bytes(f"{base}/manifest-summary.json", body)

    def _write_current(self, where: str, bucket: str, written: list[_Written]) -> None:
        folder = where if where.endswith("/") else where + "/"
        text = "".join(f"s3://{bucket}/{w.key}\n" for w in written)
        self.storage.write_bytes(folder + "symlink.txt", text.encode())

    def _define_table(self, name: str, location: str, fmt: str, snapshot: Path) -> None:
        """A table over the ``current`` manifest; columns inferred from the export."""
        if self.catalog is None:
            raise InvalidRequestError("LakeboxCatalogTable needs a catalog (pass the Lake)")
        inference = TypeInference(shape=fmt != "ION")
        with gzip.open(snapshot, "rt") as fh:
            for line in fh:
                inference.add({k: _decode_av(v) for k, v in json.loads(line).items()})
        db, _, tbl = name.rpartition(".")
        columns: list[Column] = []
        sources: dict[str, str] = {}
        skipped: list[str] = []
        for attr, typ in sorted(inference.final_types().items()):
            col = attr.lower()
            if not _COLUMN.match(attr) or col in sources:
                skipped.append(attr)
                continue
            sources[col] = attr
            columns.append(Column(col, typ.lower() if fmt != "ION" else typ))
        if fmt == "ION":
            table = Table(
                db or "default",
                tbl,
                columns,
                location=location,
                input_format=SYMLINK_INPUT,
                output_format=ION_OUTPUT,
                serde_library=ION_SERDE,
                serde_parameters={
                    f"ion.{c.name}.path_extractor": f"(Item {sources[c.name]})" for c in columns
                },
            )
        else:
            fields = ",".join(f"{c.name}:{c.type}" for c in columns)
            table = Table(
                db or "default",
                tbl,
                [Column("item", f"struct<{fields}>")],
                location=location,
                input_format=SYMLINK_INPUT,
                output_format=IGNORE_KEY_OUTPUT,
                serde_library=JSON_SERDE,
            )
        table.parameters["classification"] = "ion" if fmt == "ION" else "json"
        table.parameters["compressionType"] = "gzip"
        if skipped:
            table.parameters["lakebox.skipped_attributes"] = json.dumps(skipped)
        if inference.conflicts:
            table.parameters["lakebox.type_conflicts"] = json.dumps(
                {k: sorted(v) for k, v in inference.conflicts.items()}
            )
        made = not self.catalog.table_exists(table.database, table.name)
        self.catalog.create_table(table, replace=True)
        if made and self._lake is not None:
            # made as the local administrator: the lake's permissions must not take the
            # creator of an earlier table of this name for its creator
            self._lake.table_access().created(LOCAL_ADMIN, table.database, table.name)


def _key(item: dict[str, Any], keys: list[str]) -> str:
    return json.dumps([item.get(k) for k in keys], sort_keys=True)


def _decode_av(av: dict[str, Any]) -> Typed:
    kind, value = next(iter(av.items()))
    if kind == "L":
        return {"L": [_decode_av(x) for x in value]}
    if kind == "M":
        return {"M": {k: _decode_av(v) for k, v in value.items()}}
    return {kind: value}


def _decode_json_item(item: dict[str, Any]) -> dict[str, Typed]:
    return {k: _decode_av(v) for k, v in item.items()}


def _encode(records: list[dict[str, Any]], fmt: str) -> bytes:
    if fmt == "DYNAMODB_JSON":
        out = []
        for rec in records:
            doc = {
                k: (
                    {a: typed_to_json(v) for a, v in val.items()}
                    if k in ("Item", "Keys", "NewImage", "OldImage", "Metadata")
                    else val
                )
                for k, val in rec.items()
            }
            out.append(json.dumps(doc, separators=(",", ":")))
        return ("\n".join(out) + "\n").encode() if out else b""
    from amazon.ion import simpleion

    values = []
    for rec in records:
        values.append(
            {
                k: (
                    {a: typed_to_ion(v) for a, v in val.items()}
                    if k != "Metadata"
                    else {a: int(v["N"]) for a, v in val.items()}
                )
                for k, val in rec.items()
            }
        )
    if not values:
        return b""
    text: str = simpleion.dumps(values, binary=False, sequence_as_stream=True)
    return text.encode()


def _description(path: Path) -> dict[str, Any]:
    """An export description as lakebox wrote it; a damaged one names its file."""
    doc = read_metadata_json(path)
    if not isinstance(doc.get("ExportArn"), str):
        raise MetadataFileError(path, "field 'ExportArn' missing or not a string")
    return doc
